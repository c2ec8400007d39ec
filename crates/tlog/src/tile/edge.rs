//! Building tiles as the tree grows: the host's side of tlog-tiles.

use super::{
    MAX_TILE_LEVEL, TILE_HEIGHT, TILE_WIDTH, Tile, TileError, encode_tile_data, level_hashes,
    parse_tile_data,
};
use crate::hash::Hash;
use crate::merkle::{Frontier, root_of};

/// Number of tile levels a tree of `u64` size can have.
const LEVELS: usize = MAX_TILE_LEVEL as usize + 1;

/// The right edge of a tiled tree: its partial tiles and its frontier. All a host needs
/// to append leaves and write the resulting tiles, without reading any full tile.
///
/// Invariant: `partial[L]` holds the `(size >> 8·L) mod 256` hashes of the partial tile
/// at level `L` (empty if there is none), and `frontier` is the frontier of `size`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TileEdge {
    frontier: Frontier,
    partial: [Vec<Hash>; LEVELS],
}

/// What one [`TileEdge::append`] produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TileUpdate {
    /// The tree size after the append.
    pub size: u64,
    /// The root of the tree after the append.
    pub root: Hash,
    /// The tiles to write, with their data, sorted by level then index: exactly
    /// [`super::new_tiles`]`(old size, size)`.
    pub tiles: Vec<(Tile, Vec<u8>)>,
}

/// The partial tile at `level` of the tree of `size` leaves, if any.
fn edge_tile(level: u8, size: u64) -> Option<Tile> {
    let hashes = level_hashes(level, size);
    let width = (hashes % u64::from(TILE_WIDTH)) as u16;
    (width > 0).then(|| Tile::new_unchecked(level, hashes / u64::from(TILE_WIDTH), width))
}

impl TileEdge {
    /// The edge of the empty tree.
    pub fn new() -> TileEdge {
        TileEdge::default()
    }

    /// Rebuilds the edge of the tree of `size` leaves from its partial tiles (one per
    /// tile level `L` where `(size >> 8·L) mod 256 > 0`, in any order), as stored by an
    /// earlier append. Costs fewer than 256 hashes per level.
    ///
    /// The tiles are not authenticated: compare [`TileEdge::root`] with the last signed
    /// checkpoint before appending.
    pub fn from_partial_tiles(size: u64, tiles: &[(Tile, &[u8])]) -> Result<TileEdge, TileError> {
        let mut partial: [Option<Vec<Hash>>; LEVELS] = Default::default();
        for &(tile, data) in tiles {
            let slot = partial.get_mut(usize::from(tile.level()));
            match slot {
                Some(slot @ None) if edge_tile(tile.level(), size) == Some(tile) => {
                    *slot = Some(parse_tile_data(tile, data)?);
                }
                _ => return Err(TileError::EdgeTileUnexpected { tile }),
            }
        }
        let mut edge = TileEdge::new();
        for (level, (given, slot)) in (0u8..).zip(partial.into_iter().zip(&mut edge.partial)) {
            match (given, edge_tile(level, size)) {
                (Some(hashes), _) => *slot = hashes,
                (None, Some(tile)) => return Err(TileError::EdgeTileMissing { tile }),
                (None, None) => {}
            }
        }
        edge.frontier = Frontier::from_parts(size, edge.frontier_hashes(size))
            .map_err(|_| TileError::TreeFull)?;
        Ok(edge)
    }

    /// The frontier hashes of `size` computed from the partial tiles, largest first: the
    /// frontier node at tree level `8·L + r` is the subtree over `2^r` hashes of the
    /// partial tile at level `L`.
    fn frontier_hashes(&self, size: u64) -> Vec<Hash> {
        let mut out = Vec::with_capacity(size.count_ones() as usize);
        for bit in (0..64u32).rev().filter(|b| size >> b & 1 == 1) {
            let (level, r) = (bit / 8, bit % 8);
            let width = (size >> (level * 8)) & 0xff;
            let start = ((width >> (r + 1)) << (r + 1)) as usize;
            let hashes = self
                .partial
                .get(level as usize)
                .and_then(|p| p.get(start..start + (1 << r)));
            // Always present: the partial tile has `width` hashes and start + 2^r <= width.
            // If it were not, the hash count would be short and from_parts would refuse.
            if let Some(hashes) = hashes {
                out.push(root_of(hashes));
            }
        }
        out
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.frontier.size()
    }

    /// The root of the tree, O(log size).
    pub fn root(&self) -> Hash {
        self.frontier.root()
    }

    /// The frontier of the tree.
    pub fn frontier(&self) -> &Frontier {
        &self.frontier
    }

    /// The partial tiles of the right edge with their data: what
    /// [`TileEdge::from_partial_tiles`] takes back.
    pub fn partial_tiles(&self) -> Vec<(Tile, Vec<u8>)> {
        (0u8..)
            .zip(&self.partial)
            .filter_map(|(level, hashes)| {
                let tile = edge_tile(level, self.size())?;
                Some((tile, encode_tile_data(hashes).ok()?))
            })
            .collect()
    }

    /// Appends leaf hashes and returns the tiles that changed (new full tiles and the new
    /// partial tiles) and the new root. Costs about one hash per leaf plus O(log size)
    /// for the root; tile level `L + 1` takes the roots of the full tiles of level `L` as
    /// they complete.
    pub fn append(&mut self, leaves: &[Hash]) -> Result<TileUpdate, TileError> {
        let old = self.size();
        let count = u64::try_from(leaves.len()).map_err(|_| TileError::TreeFull)?;
        if old.checked_add(count).is_none() {
            return Err(TileError::TreeFull);
        }
        let mut tiles = Vec::new();
        let partial = &mut self.partial;
        for leaf in leaves {
            self.frontier
                .append(*leaf, |id, hash| {
                    if id.level() % TILE_HEIGHT != 0 {
                        return;
                    }
                    let level = id.level() / TILE_HEIGHT;
                    let Some(row) = partial.get_mut(usize::from(level)) else {
                        return;
                    };
                    row.push(*hash);
                    if row.len() == usize::from(TILE_WIDTH) {
                        let tile = Tile::new_unchecked(level, id.index() >> 8, TILE_WIDTH);
                        if let Ok(data) = encode_tile_data(row) {
                            tiles.push((tile, data));
                        }
                        row.clear();
                    }
                })
                .map_err(|_| TileError::TreeFull)?;
        }
        let new = self.size();
        for (level, hashes) in (0u8..).zip(&self.partial) {
            if level_hashes(level, old) == level_hashes(level, new) {
                continue;
            }
            if let (Some(tile), Ok(data)) = (edge_tile(level, new), encode_tile_data(hashes)) {
                tiles.push((tile, data));
            }
        }
        tiles.sort_unstable_by_key(|(tile, _)| *tile);
        Ok(TileUpdate {
            size: new,
            root: self.root(),
            tiles,
        })
    }
}
