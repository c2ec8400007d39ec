//! C2SP `tlog-tiles`: the static read path of the log.
//!
//! What it does:
//! - names hash tiles ([`Tile`]) and entry bundles ([`EntryBundle`]) and writes and
//!   strictly parses their paths (`tile/<L>/<N>[.p/<W>]`, `tile/entries/<N>[.p/<W>]`;
//!   tlog-tiles "Merkle Tree" and "Log entries"), see [`parse_path`];
//! - says where a subtree hash lives ([`tile_for_node`]), which tiles a tree of a given
//!   size has and which change when it grows ([`tiles_for_size`], [`new_tiles`],
//!   [`bundles_for_size`], [`new_bundles`]), and which tiles a set of nodes (a
//!   [`crate::proof::ProofPlan`]) needs ([`tiles_for_nodes`]);
//! - encodes and strictly parses tile data (concatenated hashes) and entry bundles
//!   (big-endian `u16` length-prefixed entries), see [`parse_tile_data`] and
//!   [`parse_bundle`];
//! - reads subtree hashes out of tiles ([`TileHashReader`], a [`crate::proof::HashReader`])
//!   and builds the tiles a batch of new leaves produces ([`TileEdge`]).
//!
//! What it does not do: fetch or store anything (a [`TileReader`] does), serve the
//! checkpoint, or prune. **Hashes read from tiles are not authenticated here**: a tile
//! can hold anything. Whoever uses a root or proof computed from tiles verifies it
//! against a signed checkpoint ([`crate::proof::verify_inclusion`],
//! [`crate::proof::verify_consistency`], or comparing the root).
//!
//! Tiles have height 8 ([`TILE_HEIGHT`]): a tile at level `L` holds up to 256 hashes of
//! subtrees at tree level `8·L`. Hashes at the levels in between are recomputed from the
//! tile below. In a tree of at most `u64::MAX` leaves only tile levels 0 to 7 exist; the
//! spec's path syntax allows levels up to 63, which parse to
//! [`PathError::BeyondTreeLimit`].

mod data;
mod edge;
mod path;
mod reader;

use thiserror::Error;

use crate::merkle::NodeId;

pub use data::{BundleError, encode_bundle, encode_tile_data, parse_bundle, parse_tile_data};
pub use edge::{TileEdge, TileUpdate};
pub use path::{PathError, TilePath, parse_path};
pub use reader::{TileHashReader, TileReadError, TileReader, read_tile};

/// Tree levels per tile (tlog-tiles: tiles are subtrees of height 8).
pub const TILE_HEIGHT: u8 = 8;
/// Hashes in a full tile, and entries in a full bundle.
pub const TILE_WIDTH: u16 = 256;
/// The largest entry an entry bundle can hold: its length prefix is a `u16`.
pub const MAX_ENTRY_SIZE: usize = 65535;
/// The highest tile level in a tree of at most `u64::MAX` leaves.
pub const MAX_TILE_LEVEL: u8 = 7;

/// A hash tile: hashes `index·256 .. index·256 + width` of tree level `8·level`.
///
/// Built only through [`Tile::new`] (or parsing), so every hash it names is a valid
/// [`NodeId`]. Orders by level, then index, then width.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tile {
    level: u8,
    index: u64,
    width: u16,
}

/// Why a tile, or a tile computation, is invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum TileError {
    /// A tile holds 1 to 256 hashes.
    #[error("tile width {width} is not in 1..=256")]
    InvalidWidth {
        /// The width given.
        width: u16,
    },
    /// No tree of at most `u64::MAX` leaves has this tile.
    #[error("no tree of u64 size has tile level {level} index {index}")]
    BeyondTreeLimit {
        /// The tile level.
        level: u8,
        /// The tile index.
        index: u64,
    },
    /// The node is not a complete subtree of the tree of that size.
    #[error("node {id:?} is not in the tree of size {size}")]
    NodeNotInTree {
        /// The node.
        id: NodeId,
        /// The tree size.
        size: u64,
    },
    /// A tree does not shrink.
    #[error("old size {old} is larger than new size {new}")]
    SizesOutOfOrder {
        /// The old tree size.
        old: u64,
        /// The new tree size.
        new: u64,
    },
    /// Tile data must be exactly 32 bytes per hash of the tile.
    #[error("tile {tile} has {got} bytes, expected {expected}")]
    DataLength {
        /// The tile.
        tile: Tile,
        /// `32 × width`.
        expected: usize,
        /// The length given.
        got: usize,
    },
    /// Tile data is made of 1 to 256 hashes.
    #[error("a tile holds 1 to 256 hashes, got {count}")]
    HashCount {
        /// The number of hashes given.
        count: usize,
    },
    /// A partial tile of the tree's right edge was not given.
    #[error("right-edge tile {tile} is missing")]
    EdgeTileMissing {
        /// The partial tile the tree size requires.
        tile: Tile,
    },
    /// A tile was given that is not a partial tile of the tree's right edge (or was given
    /// twice).
    #[error("tile {tile} is not a right-edge tile of the tree")]
    EdgeTileUnexpected {
        /// The tile given.
        tile: Tile,
    },
    /// Appending would take the tree past `u64::MAX` leaves.
    #[error("the tree cannot grow past u64::MAX leaves")]
    TreeFull,
}

impl Tile {
    /// The tile at `level`, `index` with `width` hashes. Errors if the width is not in
    /// `1..=256` or if no tree of at most `u64::MAX` leaves has that tile.
    pub fn new(level: u8, index: u64, width: u16) -> Result<Tile, TileError> {
        if width == 0 || width > TILE_WIDTH {
            return Err(TileError::InvalidWidth { width });
        }
        let beyond = TileError::BeyondTreeLimit { level, index };
        if level > MAX_TILE_LEVEL {
            return Err(beyond);
        }
        let last = index
            .checked_mul(u64::from(TILE_WIDTH))
            .and_then(|first| first.checked_add(u64::from(width) - 1))
            .ok_or(beyond)?;
        NodeId::new(level * TILE_HEIGHT, last).ok_or(beyond)?;
        Ok(Tile {
            level,
            index,
            width,
        })
    }

    /// For callers that derived the tile from a tree size, which makes it valid.
    pub(crate) const fn new_unchecked(level: u8, index: u64, width: u16) -> Tile {
        Tile {
            level,
            index,
            width,
        }
    }

    /// The tile level `L`: its hashes are at tree level `8·L`.
    pub fn level(self) -> u8 {
        self.level
    }

    /// The tile index `N` within its level.
    pub fn index(self) -> u64 {
        self.index
    }

    /// Number of hashes, 1 to 256.
    pub fn width(self) -> u16 {
        self.width
    }

    /// Whether the tile holds all 256 hashes.
    pub fn is_full(self) -> bool {
        self.width == TILE_WIDTH
    }

    /// The node whose hash is at `position` in the tile; `None` past the width.
    pub fn node(self, position: u16) -> Option<NodeId> {
        if position >= self.width {
            return None;
        }
        // Tile::new checked that the last position is a valid node.
        let index = self.index * u64::from(TILE_WIDTH) + u64::from(position);
        Some(NodeId::new_unchecked(self.level * TILE_HEIGHT, index))
    }

    /// The tile at `level`, `index` as it is in the tree of `size` leaves: full, partial,
    /// or `None` if that tree has no such tile.
    pub fn at_size(level: u8, index: u64, size: u64) -> Option<Tile> {
        let hashes = level_hashes(level, size);
        let first = index.checked_mul(u64::from(TILE_WIDTH))?;
        let width = hashes.checked_sub(first)?.min(u64::from(TILE_WIDTH));
        // 1..=256 and inside the tree: valid.
        (width > 0).then(|| Tile::new_unchecked(level, index, width as u16))
    }
}

/// An entry bundle: entries `index·256 .. index·256 + width` of the log, the entries of
/// the level-0 tile with the same index and width.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EntryBundle(Tile);

impl EntryBundle {
    /// The bundle at `index` with `width` entries (1 to 256).
    pub fn new(index: u64, width: u16) -> Result<EntryBundle, TileError> {
        Tile::new(0, index, width).map(EntryBundle)
    }

    /// The bundle whose entries hash to the leaves of a level-0 tile; `None` for other
    /// levels.
    pub fn for_tile(tile: Tile) -> Option<EntryBundle> {
        (tile.level == 0).then_some(EntryBundle(tile))
    }

    /// The level-0 tile holding the leaf hashes of these entries.
    pub fn tile(self) -> Tile {
        self.0
    }

    /// The bundle index `N`.
    pub fn index(self) -> u64 {
        self.0.index
    }

    /// Number of entries, 1 to 256.
    pub fn width(self) -> u16 {
        self.0.width
    }

    /// Whether the bundle holds all 256 entries.
    pub fn is_full(self) -> bool {
        self.0.is_full()
    }

    /// Index in the log of the bundle's first entry.
    pub fn first_entry(self) -> u64 {
        // Valid tile: the last entry index fits, so the first does.
        self.0.index * u64::from(TILE_WIDTH)
    }
}

/// Number of complete subtrees at tree level `8·level` in a tree of `size` leaves.
fn level_hashes(level: u8, size: u64) -> u64 {
    size.checked_shr(u32::from(level) * u32::from(TILE_HEIGHT))
        .unwrap_or(0)
}

/// Where a subtree hash is read from: `count` consecutive hashes of `tile` starting at
/// `start`. One hash (`count == 1`) for nodes at levels that are multiples of 8; otherwise
/// the node is the subtree over those `count` hashes (a power of two up to 128).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TileSlot {
    /// The tile, with the width it has in the tree size asked about.
    pub tile: Tile,
    /// Position of the first hash, `0..256`.
    pub start: u16,
    /// Number of hashes the node spans in the tile.
    pub count: u16,
}

/// The tile that holds (or, between tile levels, is the base of) `id` in the tree of
/// `size` leaves, with the width that tile has at that size (tlog-tiles "Merkle Tree").
pub fn tile_for_node(id: NodeId, size: u64) -> Result<TileSlot, TileError> {
    if !id.is_complete_in(size) {
        return Err(TileError::NodeNotInTree { id, size });
    }
    let level = id.level() / TILE_HEIGHT;
    let rest = id.level() % TILE_HEIGHT;
    // First hash at tree level 8·level under the node: (first << 8·level) == id.start().
    let first = id.index() << rest;
    let index = first / u64::from(TILE_WIDTH);
    let start = (first % u64::from(TILE_WIDTH)) as u16;
    // The node is complete, so the tile has at least `start + count` hashes at `size`.
    let tile = Tile::at_size(level, index, size).ok_or(TileError::NodeNotInTree { id, size })?;
    Ok(TileSlot {
        tile,
        start,
        count: 1 << rest,
    })
}

/// The distinct tiles (sorted) that hold the given nodes in the tree of `size` leaves:
/// what a client fetches to compute a proof from [`crate::proof::ProofPlan::ids`].
pub fn tiles_for_nodes(ids: &[NodeId], size: u64) -> Result<Vec<Tile>, TileError> {
    let mut tiles = ids
        .iter()
        .map(|&id| tile_for_node(id, size).map(|slot| slot.tile))
        .collect::<Result<Vec<_>, _>>()?;
    tiles.sort_unstable();
    tiles.dedup();
    Ok(tiles)
}

/// Every tile of the tree of `size` leaves, full and partial, level by level (tlog-tiles
/// "Merkle Tree", "Partial Tiles"). Lazy: a large tree has many tiles.
pub fn tiles_for_size(size: u64) -> TileIter {
    TileIter::new(0, size)
}

/// The tiles a host writes when the tree grows from `old` to `new` leaves: every tile
/// whose contents differ between the two sizes (new full tiles, and the new partial tile
/// of each level whose hash count changed).
pub fn new_tiles(old: u64, new: u64) -> Result<TileIter, TileError> {
    if old > new {
        return Err(TileError::SizesOutOfOrder { old, new });
    }
    Ok(TileIter::new(old, new))
}

/// Every entry bundle of the tree of `size` leaves (tlog-tiles "Log entries").
pub fn bundles_for_size(size: u64) -> impl Iterator<Item = EntryBundle> {
    tiles_for_size(size)
        .take_while(|t| t.level == 0)
        .map(EntryBundle)
}

/// The entry bundles a host writes when the tree grows from `old` to `new` leaves.
pub fn new_bundles(old: u64, new: u64) -> Result<impl Iterator<Item = EntryBundle>, TileError> {
    Ok(new_tiles(old, new)?
        .take_while(|t| t.level == 0)
        .map(EntryBundle))
}

/// Iterator over the tiles that change between two tree sizes; see [`new_tiles`].
#[derive(Clone, Debug)]
pub struct TileIter {
    old: u64,
    new: u64,
    /// Tile level being listed; past [`MAX_TILE_LEVEL`] when done.
    level: u8,
    /// Next full tile index at this level, and one past the last.
    next: u64,
    full_end: u64,
    /// The partial tile at this level, listed after the full ones.
    partial: Option<Tile>,
}

impl TileIter {
    fn new(old: u64, new: u64) -> TileIter {
        let mut iter = TileIter {
            old,
            new,
            level: 0,
            next: 0,
            full_end: 0,
            partial: None,
        };
        iter.enter_level();
        iter
    }

    /// Moves to the first level at or above `self.level` whose tiles changed.
    fn enter_level(&mut self) {
        while self.level <= MAX_TILE_LEVEL {
            let new_hashes = level_hashes(self.level, self.new);
            let old_hashes = level_hashes(self.level, self.old);
            if new_hashes == 0 {
                break;
            }
            if new_hashes != old_hashes {
                let w = u64::from(TILE_WIDTH);
                self.next = old_hashes / w;
                self.full_end = new_hashes / w;
                let width = (new_hashes % w) as u16;
                self.partial =
                    (width > 0).then(|| Tile::new_unchecked(self.level, self.full_end, width));
                return;
            }
            self.level += 1;
        }
        self.level = MAX_TILE_LEVEL + 1;
    }
}

impl Iterator for TileIter {
    type Item = Tile;

    fn next(&mut self) -> Option<Tile> {
        while self.level <= MAX_TILE_LEVEL {
            if self.next < self.full_end {
                let tile = Tile::new_unchecked(self.level, self.next, TILE_WIDTH);
                self.next += 1;
                return Some(tile);
            }
            if let Some(tile) = self.partial.take() {
                return Some(tile);
            }
            self.level += 1;
            self.enter_level();
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tile_bounds() {
        assert!(Tile::new(0, 0, 0).is_err());
        assert!(Tile::new(0, 0, 257).is_err());
        assert!(Tile::new(8, 0, 1).is_err());
        assert!(Tile::new(7, 0, 255).is_ok());
        assert!(Tile::new(7, 0, 256).is_err());
        assert!(Tile::new(0, u64::MAX / 256, 255).is_ok());
        assert!(Tile::new(0, u64::MAX / 256, 256).is_err());
        assert!(Tile::new(0, u64::MAX, 1).is_err());
    }

    #[test]
    fn tiles_of_size_70000_match_the_spec_example() {
        // tlog-tiles "Partial Tiles": 273 full level 0 tiles, a partial one of width 112,
        // one full level 1 tile, a partial one of width 17, a partial level 2 tile of 1.
        let tiles: Vec<Tile> = tiles_for_size(70_000).collect();
        assert_eq!(tiles.len(), 273 + 1 + 1 + 1 + 1);
        assert_eq!(tiles[273], Tile::new(0, 273, 112).unwrap());
        assert_eq!(tiles[274], Tile::new(1, 0, 256).unwrap());
        assert_eq!(tiles[275], Tile::new(1, 1, 17).unwrap());
        assert_eq!(tiles[276], Tile::new(2, 0, 1).unwrap());
        // "a tree of size 256 will be represented by a full level 0 tile and a partial
        // level 1 tile of width 1".
        let tiles: Vec<Tile> = tiles_for_size(256).collect();
        assert_eq!(
            tiles,
            [Tile::new(0, 0, 256).unwrap(), Tile::new(1, 0, 1).unwrap()]
        );
        let top: Vec<Tile> = new_tiles(u64::MAX - 1, u64::MAX).unwrap().collect();
        assert_eq!(top.len(), 1);
        assert_eq!(top[0], Tile::new(0, (1 << 56) - 1, 255).unwrap());
        assert_eq!(Tile::at_size(7, 0, u64::MAX), Tile::new(7, 0, 255).ok());
        assert_eq!(Tile::at_size(7, 1, u64::MAX), None);
    }

    #[test]
    fn node_slots() {
        let size = 70_000;
        let leaf = tile_for_node(NodeId::leaf(69_999).unwrap(), size).unwrap();
        assert_eq!(leaf.tile, Tile::new(0, 273, 112).unwrap());
        assert_eq!((leaf.start, leaf.count), (111, 1));
        let mid = tile_for_node(NodeId::new(3, 10).unwrap(), size).unwrap();
        assert_eq!(mid.tile, Tile::new(0, 0, 256).unwrap());
        assert_eq!((mid.start, mid.count), (80, 8));
        let high = tile_for_node(NodeId::new(16, 0).unwrap(), size).unwrap();
        assert_eq!(high.tile, Tile::new(2, 0, 1).unwrap());
        assert!(tile_for_node(NodeId::new(4, 4375).unwrap(), size).is_err());
    }
}
