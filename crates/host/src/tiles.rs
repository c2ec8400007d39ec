//! Reading the host's own tiles for proofs: recently written tiles from memory, the rest
//! from the tile store.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use store::{StoreError, TileStore};
use tlog::merkle::NodeId;
use tlog::proof::{HashReader, ProofError, inclusion_plan, prove_consistency, prove_inclusion};
use tlog::tile::{TILE_HEIGHT, Tile, TileHashReader, TileReadError, TileReader};
use tlog::{Hash, node_hash};

/// Most tiles kept in memory (8 KiB each at most: 32 MiB).
const CACHE_TILES: usize = 4096;

/// A bounded cache of tiles by path, first in first out. Full tiles never change, and a
/// partial tile's path names its width, so a cached tile is never stale.
#[derive(Debug, Default)]
pub struct TileCache {
    inner: Mutex<CacheInner>,
}

/// The cached tiles and their insertion order.
#[derive(Debug, Default)]
struct CacheInner {
    tiles: HashMap<String, Arc<Vec<u8>>>,
    order: VecDeque<String>,
}

impl TileCache {
    /// Remembers a tile just written.
    pub fn insert(&self, path: String, data: Arc<Vec<u8>>) {
        let mut g = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if g.tiles.insert(path.clone(), data).is_none() {
            g.order.push_back(path);
        }
        while g.order.len() > CACHE_TILES {
            if let Some(old) = g.order.pop_front() {
                g.tiles.remove(&old);
            }
        }
    }

    /// Forgets every tile (when the sequencer rebuilds: a batch that failed may have left
    /// tiles here that the log never committed, and another host may write those paths).
    pub fn clear(&self) {
        let mut g = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        g.tiles.clear();
        g.order.clear();
    }

    fn get(&self, path: &str) -> Option<Arc<Vec<u8>>> {
        let g = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        g.tiles.get(path).cloned()
    }
}

/// Why the host could not read one of its own tiles.
#[derive(Debug, thiserror::Error)]
pub enum OwnTileError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A tile the published tree implies is missing.
    #[error("tile {0} is missing")]
    Missing(String),
}

/// A [`TileReader`] over the cache and the store. A partial tile that is gone (replaced by
/// its full tile) is read from the full tile's first hashes.
pub struct OwnTiles<'a> {
    /// The store.
    pub store: &'a dyn TileStore,
    /// The cache.
    pub cache: &'a TileCache,
}

impl OwnTiles<'_> {
    fn read_one(&self, tile: Tile) -> Result<Vec<u8>, OwnTileError> {
        let path = tile.path();
        if let Some(data) = self
            .cache
            .get(&path)
            .or_else(|| self.store.read(&path).ok().flatten().map(Arc::new))
        {
            return Ok(data.as_ref().clone());
        }
        if !tile.is_full() {
            let full = Tile::at_size(tile.level(), tile.index(), u64::MAX).map(|t| t.path());
            if let Some(data) = full.and_then(|p| {
                self.cache
                    .get(&p)
                    .or_else(|| self.store.read(&p).ok().flatten().map(Arc::new))
            }) {
                return Ok(data
                    .get(..usize::from(tile.width()) * 32)
                    .unwrap_or_default()
                    .to_vec());
            }
        }
        Err(OwnTileError::Missing(path))
    }
}

impl TileReader for OwnTiles<'_> {
    type Error = OwnTileError;

    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, OwnTileError> {
        tiles.iter().map(|t| self.read_one(*t)).collect()
    }
}

type ReadError = ProofError<TileReadError<OwnTileError>>;

/// The inclusion proof of `index` in the tree of `size`, from the host's tiles.
pub fn inclusion(tiles: OwnTiles<'_>, index: u64, size: u64) -> Result<Vec<Hash>, ReadError> {
    prove_inclusion(&TileHashReader::new(size, tiles), index, size)
}

/// Proves the inclusion of many leaves in one tree (a batch's receipts). Every node is
/// read from the tiles or hashed from its two children once for all of them: a node
/// between tile levels is the root of up to 128 hashes of the tile below, and proving each
/// leaf by itself recomputed the same interior nodes (up to 255 hashes per tile level),
/// which made proving a 4096-entry batch cost millions of SHA-256 calls.
pub struct BatchProver<'a> {
    reader: TileHashReader<OwnTiles<'a>>,
    seen: RefCell<HashMap<NodeId, Hash>>,
}

impl<'a> BatchProver<'a> {
    /// Proves leaves of the tree of `size` from `tiles`.
    pub fn new(tiles: OwnTiles<'a>, size: u64) -> BatchProver<'a> {
        BatchProver {
            reader: TileHashReader::new(size, tiles),
            seen: RefCell::default(),
        }
    }

    /// Reads every node the inclusion proofs of `indexes` need, in one batch of tile
    /// reads: each tile is then read and parsed once for the whole batch, not once for
    /// each leaf whose proof first needs one of its nodes. A failure is left for
    /// [`BatchProver::inclusion`] to report, leaf by leaf.
    pub fn prefetch(&self, indexes: impl Iterator<Item = u64>) {
        let size = self.reader.size();
        let mut ids: Vec<NodeId> = Vec::new();
        for plan in indexes.filter_map(|i| inclusion_plan(i, size).ok()) {
            ids.extend_from_slice(plan.ids());
        }
        ids.sort_unstable();
        ids.dedup();
        if let Err(e) = self.read_hashes(&ids) {
            tracing::warn!(error = %e, "cannot read a batch's proof nodes at once");
        }
    }

    /// The inclusion proof of `index`.
    pub fn inclusion(&self, index: u64) -> Result<Vec<Hash>, ReadError> {
        prove_inclusion(self, index, self.reader.size())
    }
}

/// The nodes stored in tiles (at levels that are multiples of the tile height) that `id`
/// is the root of: itself if it is one, else a run of up to 128 at the tile level below.
fn stored_under(id: NodeId) -> impl Iterator<Item = NodeId> {
    let above = id.level() % TILE_HEIGHT;
    let level = id.level() - above;
    let first = id.index() << above;
    (first..first + (1u64 << above)).filter_map(move |i| NodeId::new(level, i))
}

/// The hash of `id`, from `seen` or from its children's, each computed once and kept.
/// `None` if a stored node under it is not in `seen`.
fn hash_of(id: NodeId, seen: &mut HashMap<NodeId, Hash>) -> Option<Hash> {
    if let Some(h) = seen.get(&id) {
        return Some(*h);
    }
    if id.level().is_multiple_of(TILE_HEIGHT) {
        return None;
    }
    let (left, right) = id.children()?;
    let h = node_hash(&hash_of(left, seen)?, &hash_of(right, seen)?);
    seen.insert(id, h);
    Some(h)
}

impl HashReader for BatchProver<'_> {
    type Error = TileReadError<OwnTileError>;

    fn read_hashes(&self, ids: &[NodeId]) -> Result<Vec<Hash>, Self::Error> {
        let mut seen = self.seen.borrow_mut();
        let missing: Vec<NodeId> = ids
            .iter()
            .filter(|id| !seen.contains_key(id))
            .copied()
            .collect();
        if !missing.is_empty() {
            let mut stored: Vec<NodeId> = missing.iter().flat_map(|&id| stored_under(id)).collect();
            stored.sort_unstable();
            stored.dedup();
            let hashes = self.reader.read_hashes(&stored)?;
            seen.extend(stored.into_iter().zip(hashes));
            for id in missing {
                hash_of(id, &mut seen);
            }
        }
        // A node the reader did not return is left out; the prover reports the short count.
        Ok(ids.iter().filter_map(|id| seen.get(id).copied()).collect())
    }
}

/// The consistency proof from `old` to `new`, from the host's tiles.
pub fn consistency(tiles: OwnTiles<'_>, old: u64, new: u64) -> Result<Vec<Hash>, ReadError> {
    prove_consistency(&TileHashReader::new(new, tiles), old, new)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use tlog::proof::MemoryTree;
    use tlog::tile::TileEdge;

    /// Receipts' proofs made for a whole batch at once (prefetched, each node hashed once)
    /// and leaf by leaf are those of an in-memory tree, across tile boundaries and levels,
    /// for batches of 1 to 4096 entries up to a tree of three tile levels.
    #[test]
    fn batch_proofs_are_the_trees_proofs() {
        let dir = tempfile::tempdir().unwrap();
        let store = store::FsTiles::open(dir.path()).unwrap();
        let cache = TileCache::default();
        let (mut edge, mut tree) = (TileEdge::new(), MemoryTree::new());
        let mut n = 0u64;
        for batch in [1u64, 7, 300, 4096, 255, 1, 2, 1000]
            .iter()
            .cycle()
            .take(100)
        {
            let leaves: Vec<Hash> = (n..n + batch)
                .map(|i| tlog::leaf_hash(&i.to_be_bytes()))
                .collect();
            for leaf in &leaves {
                tree.push(*leaf).unwrap();
            }
            for (tile, data) in edge.append(&leaves).unwrap().tiles {
                cache.insert(tile.path(), Arc::new(data));
            }
            let (old, size) = (n, n + batch);
            n = size;
            let tiles = || OwnTiles {
                store: &store,
                cache: &cache,
            };
            let prefetched = BatchProver::new(tiles(), size);
            prefetched.prefetch(old..size);
            let alone = BatchProver::new(tiles(), size);
            for index in (old..size).chain([0, old / 2]) {
                let expected = prove_inclusion(&tree, index, size).unwrap();
                assert_eq!(
                    prefetched.inclusion(index).unwrap(),
                    expected,
                    "{index} in {size}"
                );
                assert_eq!(
                    alone.inclusion(index).unwrap(),
                    expected,
                    "{index} in {size}"
                );
            }
        }
        assert!(n > 1 << 16, "the tree reaches the third tile level");
    }
}
