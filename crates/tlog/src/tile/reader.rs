//! Reading subtree hashes out of tiles, and tiles out of stored hashes.

use thiserror::Error;

use super::{Tile, TileError, TileSlot, parse_tile_data, tile_for_node};
use crate::hash::Hash;
use crate::merkle::{NodeId, root_of};
use crate::proof::HashReader;

/// Reads tiles' bytes from wherever they are kept (a directory, object storage, HTTP).
///
/// Contract: `read_tiles(tiles)` returns one byte string per tile, in the order asked,
/// or an error; each is the tile's data for exactly the width asked (a reader that falls
/// back to a full tile when a partial one is gone returns only its first `width` hashes).
/// The bytes are not authenticated by the reader nor by [`TileHashReader`].
pub trait TileReader {
    /// Why a read failed (not found, I/O, ...).
    type Error: std::error::Error + 'static;

    /// Returns the data of `tiles`, in order.
    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, Self::Error>;
}

impl<T: TileReader + ?Sized> TileReader for &T {
    type Error = T::Error;

    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, Self::Error> {
        (**self).read_tiles(tiles)
    }
}

/// Why [`TileHashReader`] could not produce a hash.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum TileReadError<E> {
    /// A node asked for is not a complete subtree of the tree (caller misuse).
    #[error("node {id:?} is not in the tree of size {size}")]
    NodeNotInTree {
        /// The node.
        id: NodeId,
        /// The tree size of the reader.
        size: u64,
    },
    /// The tile reader failed.
    #[error("reading tiles failed")]
    Reader(#[source] E),
    /// The tile reader returned the wrong number of tiles (broke its contract).
    #[error("tile reader returned {got} tiles for {expected}")]
    TileCount {
        /// The number of tiles asked for.
        expected: usize,
        /// The number returned.
        got: usize,
    },
    /// A tile's data is not 32 bytes per hash of its width.
    #[error("malformed tile data")]
    TileData(#[source] TileError),
}

/// A [`HashReader`] over the tiles of the tree of a given size, read through a
/// [`TileReader`] (as Go's `golang.org/x/mod/sumdb/tlog.TileHashReader`, without its
/// authentication).
///
/// Each batch of node hashes becomes one batch of tile reads: every tile is read once,
/// with the width it has at the tree size. Nodes at levels between tile levels are
/// computed from the tile below (up to 127 hashes each).
///
/// **Not authenticated**: the hashes are whatever the tiles hold. Verify what you compute
/// with them (a root, a proof) against a signed checkpoint of the same size.
#[derive(Clone, Debug)]
pub struct TileHashReader<R> {
    size: u64,
    reader: R,
}

impl<R: TileReader> TileHashReader<R> {
    /// Reads the tree of `size` leaves through `reader`.
    pub fn new(size: u64, reader: R) -> TileHashReader<R> {
        TileHashReader { size, reader }
    }

    /// The tree size the reader serves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The tile reader.
    pub fn inner(&self) -> &R {
        &self.reader
    }
}

impl<R: TileReader> HashReader for TileHashReader<R> {
    type Error = TileReadError<R::Error>;

    fn read_hashes(&self, ids: &[NodeId]) -> Result<Vec<Hash>, Self::Error> {
        let slots = ids
            .iter()
            .map(|&id| {
                tile_for_node(id, self.size).map_err(|_| TileReadError::NodeNotInTree {
                    id,
                    size: self.size,
                })
            })
            .collect::<Result<Vec<TileSlot>, _>>()?;
        let mut tiles: Vec<Tile> = slots.iter().map(|s| s.tile).collect();
        tiles.sort_unstable();
        tiles.dedup();
        let data = self
            .reader
            .read_tiles(&tiles)
            .map_err(TileReadError::Reader)?;
        if data.len() != tiles.len() {
            return Err(TileReadError::TileCount {
                expected: tiles.len(),
                got: data.len(),
            });
        }
        let parsed = tiles
            .iter()
            .zip(&data)
            .map(|(&tile, bytes)| parse_tile_data(tile, bytes))
            .collect::<Result<Vec<_>, _>>()
            .map_err(TileReadError::TileData)?;
        slots
            .iter()
            .zip(ids)
            .map(|(slot, &id)| {
                // Every slot's tile is in `tiles`, and the tile's data has `width >=
                // start + count` hashes (parsed above); fail rather than panic regardless.
                let hashes = tiles
                    .binary_search(&slot.tile)
                    .ok()
                    .and_then(|i| parsed.get(i))
                    .and_then(|h| {
                        h.get(usize::from(slot.start)..usize::from(slot.start + slot.count))
                    })
                    .ok_or(TileReadError::NodeNotInTree {
                        id,
                        size: self.size,
                    })?;
                // `count` is a power of two, so MTH over the run is the perfect subtree.
                Ok(root_of(hashes))
            })
            .collect()
    }
}

/// The data of `tile` built from stored subtree hashes: for hosts that keep hashes rather
/// than tiles (tlog-tiles "Merkle Tree": hashes of level `8·L`, positions
/// `256·N .. 256·N + W`).
pub fn read_tile<R: HashReader>(reader: &R, tile: Tile) -> Result<Vec<u8>, R::Error> {
    let ids: Vec<NodeId> = (0..tile.width()).filter_map(|p| tile.node(p)).collect();
    let hashes = reader.read_hashes(&ids)?;
    Ok(hashes.iter().flat_map(|h| h.0).collect())
}
