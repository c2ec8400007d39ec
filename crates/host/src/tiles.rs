//! Reading the host's own tiles for proofs: recently written tiles from memory, the rest
//! from the tile store.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use store::{StoreError, TileStore};
use tlog::Hash;
use tlog::merkle::NodeId;
use tlog::proof::{HashReader, ProofError, inclusion_plan, prove_consistency, prove_inclusion};
use tlog::tile::{Tile, TileHashReader, TileReadError, TileReader};

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

/// Proves the inclusion of many leaves in one tree (a batch's receipts): every node hash
/// is read from the tiles, or computed from the tile below, once for all of them. Without
/// it each proof recomputes the same interior nodes (up to 255 hashes per tile level),
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
        let mut ids: Vec<NodeId> = indexes
            .filter_map(|i| inclusion_plan(i, size).ok())
            .flat_map(|plan| plan.ids().to_vec())
            .collect();
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

impl HashReader for BatchProver<'_> {
    type Error = TileReadError<OwnTileError>;

    fn read_hashes(&self, ids: &[NodeId]) -> Result<Vec<Hash>, Self::Error> {
        let mut seen = self.seen.borrow_mut();
        let mut missing: Vec<NodeId> = ids
            .iter()
            .filter(|id| !seen.contains_key(id))
            .copied()
            .collect();
        missing.sort_unstable();
        missing.dedup();
        if !missing.is_empty() {
            let hashes = self.reader.read_hashes(&missing)?;
            seen.extend(missing.into_iter().zip(hashes));
        }
        // A node the reader did not return is left out; the prover reports the short count.
        Ok(ids.iter().filter_map(|id| seen.get(id).copied()).collect())
    }
}

/// The consistency proof from `old` to `new`, from the host's tiles.
pub fn consistency(tiles: OwnTiles<'_>, old: u64, new: u64) -> Result<Vec<Hash>, ReadError> {
    prove_consistency(&TileHashReader::new(new, tiles), old, new)
}
