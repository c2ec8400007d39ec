//! Storage of a Détente log, behind two traits whose doc comments are their contracts.
//!
//! - [`TileStore`]: the read path, laid out exactly as C2SP tlog-tiles (`checkpoint`,
//!   `tile/<L>/<N>[.p/<W>]`, `tile/entries/<N>[.p/<W>]`) plus `blob/<sha256>`, so that it
//!   can be served as it is by any static web server, object store or CDN.
//! - [`StateStore`]: the sequencer's small, strongly consistent state: the head (tree size,
//!   root, signed checkpoint) and the dedup index (statement id → log index).
//!
//! The embedded backend is [`FsTiles`] (a local directory) and [`SqliteState`] (one SQLite
//! file); [`PostgresState`] keeps the sequencer's state in PostgreSQL instead, and
//! [`ObjectTiles`] the read path in an S3-compatible bucket. Every
//! backend passes the same conformance suite (`tests/conformance.rs`).
//!
//! Trust: neither store is trusted for integrity. Nodes verify every byte they read
//! against signed checkpoints; the stores are trusted only to keep what they acknowledged.

mod fs;
mod lease;
mod object;
mod postgres;
mod sqlite;
mod sqlite_ids;

use statement::Digest;

pub use fs::FsTiles;
pub use lease::Lease;
pub use object::{ObjectTiles, S3Settings};
pub use postgres::PostgresState;
pub use sqlite::SqliteState;

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A compare-and-swap lost: the state was not at the size the caller expected.
    #[error("conflict: expected the log at size {expected}, it is at {found}")]
    Conflict {
        /// The size the caller expected.
        expected: u64,
        /// The size found.
        found: u64,
    },
    /// Stored data is inconsistent with itself (never caused by the caller's input).
    #[error("stored state is corrupt: {0}")]
    Corrupt(String),
    /// A path outside the tlog-tiles layout.
    #[error("not a path of this store: {0:?}")]
    BadPath(String),
    /// The filesystem failed.
    #[error("I/O error on {path}: {source}")]
    Io {
        /// The file or directory.
        path: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// SQLite failed.
    #[error("SQLite error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL failed: the URL is invalid, the server cannot be reached or refused, or
    /// a statement failed. After an error from `commit` the caller re-reads the head: the
    /// connection may have dropped after the server committed.
    #[error("PostgreSQL error: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    /// PostgreSQL did not answer in time; the connection was dropped and the next request
    /// opens a new one.
    #[error("PostgreSQL did not answer within {seconds} s")]
    PostgresTimeout {
        /// The time allowed for one request, in seconds.
        seconds: u64,
    },
    /// The PostgreSQL store's worker thread has stopped (it panicked); open the store
    /// again.
    #[error("the PostgreSQL store's worker thread stopped")]
    PostgresStopped,
    /// The object store failed: it cannot be reached, refused the credentials, or answered
    /// with an error (after `object_store`'s own retries). A failed PUT may or may not have
    /// stored the object; writing it again is safe.
    #[error("object store error: {0}")]
    Object(#[from] object_store::Error),
    /// The object store did not answer within the time allowed for one request.
    #[error("the object store did not answer within {seconds} s")]
    ObjectTimeout {
        /// The time allowed, in seconds.
        seconds: u64,
    },
    /// An object store URL that is not `s3://BUCKET/PREFIX`; the message says what is
    /// wrong with it.
    #[error("not an object store URL: {0}")]
    ObjectUrl(String),
    /// The object store's worker thread has stopped (a request panicked); open the store
    /// again.
    #[error("the object store's worker thread stopped")]
    ObjectStopped,
}

/// The read path: tiles, entry bundles, blobs and the checkpoint.
///
/// Contract, for every implementation:
/// - **Durability**: when [`TileStore::write_files`] or [`TileStore::write_blob`] returns
///   `Ok`, what it wrote survives a crash or power loss, and is visible to every later
///   read, from any process. A checkpoint published is visible to every later read, but
///   may be lost or emptied by a power loss (see [`TileStore::publish_checkpoint`]).
/// - **Atomicity**: a reader sees a file either entirely or not at all, never partly
///   written; in particular [`TileStore::publish_checkpoint`] replaces the checkpoint
///   atomically.
/// - **Ordering is the caller's**: the store does not know which tiles a checkpoint
///   covers; the sequencer calls `publish_checkpoint` only after `write_files` for
///   everything it covers returned `Ok`.
/// - **Overwrites**: writing an existing path replaces it. The sequencer rewrites a path
///   only in the crash window where tiles were written but no checkpoint covering them was
///   ever published; published full tiles are never rewritten.
/// - **Not found** is `Ok(None)`, never an error.
/// - **Concurrency**: all methods may be called from several threads at once.
pub trait TileStore: Send + Sync {
    /// Writes every `(path, bytes)` durably (paths relative to the store's root, in the
    /// tlog-tiles layout).
    fn write_files(&self, files: &[(String, Vec<u8>)]) -> Result<(), StoreError>;

    /// Atomically replaces `checkpoint` with `note`: a reader sees the old note or the new
    /// one, never a mix. It need not be durable on return: the note's durable copy is the
    /// head committed to the [`StateStore`] before, and the host re-publishes that at
    /// start when the published one is missing, older, or not a note at all (a power loss
    /// can leave a replaced file empty).
    fn publish_checkpoint(&self, note: &[u8]) -> Result<(), StoreError>;

    /// Reads a file by its path (`checkpoint`, `tile/...`, `blob/...`).
    fn read(&self, path: &str) -> Result<Option<Vec<u8>>, StoreError>;

    /// Stores a blob under `blob/<hex sha256>`; the caller has checked the hash.
    fn write_blob(&self, sha256: &Digest, bytes: &[u8]) -> Result<(), StoreError> {
        self.write_files(&[(blob_path(sha256), bytes.to_vec())])
    }

    /// Reads a blob.
    fn read_blob(&self, sha256: &Digest) -> Result<Option<Vec<u8>>, StoreError> {
        self.read(&blob_path(sha256))
    }
}

/// Where a blob lives in the tile store.
pub fn blob_path(sha256: &Digest) -> String {
    format!("blob/{}", sha256.to_hex())
}

/// The sequencer's head: the latest tree it committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// Tree size.
    pub size: u64,
    /// Root hash at that size.
    pub root: tlog::Hash,
    /// The signed checkpoint note for (size, root), as published.
    pub checkpoint: Vec<u8>,
}

/// The sequencer's state: its head and the dedup index.
///
/// Contract, for every implementation:
/// - **Durability**: when [`StateStore::commit`] returns `Ok`, the new head and every id
///   it indexed survive a crash; a later [`StateStore::head`] from any process returns it.
/// - **Compare-and-swap**: `commit(expected_size, ...)` succeeds only if the stored head is
///   at `expected_size` (0 when there is none), and then moves it atomically, ids and head
///   together. Otherwise it changes nothing and returns [`StoreError::Conflict`] with the
///   size found. Of two concurrent commits from the same size, exactly one wins.
/// - **Monotonic**: a commit's new size is greater than `expected_size`; the head never
///   moves backwards.
/// - **Lease**: [`StateStore::acquire_lease`] is a compare-and-swap on the lease row:
///   it grants the lease to `holder` only if nobody holds it, `holder` already does, or
///   the holder's time ran out by the store's clock; of two concurrent takers exactly one
///   is granted. The grant is durable on return.
/// - **Not found** is `Ok(None)`.
/// - **Concurrency**: all methods may be called from several threads at once, and by
///   several processes sharing the store.
pub trait StateStore: Send + Sync {
    /// The current head, if the log has one.
    fn head(&self) -> Result<Option<Head>, StoreError>;

    /// Moves the head from `expected_size` to `head`, indexing `ids` (statement id and its
    /// log index, each index in `expected_size..head.size`).
    fn commit(
        &self,
        expected_size: u64,
        head: &Head,
        ids: &[(Digest, u64)],
    ) -> Result<(), StoreError>;

    /// Replaces the checkpoint note of the head, which must be at `size` (compare-and-swap:
    /// otherwise [`StoreError::Conflict`] and nothing changes). For adding witnesses'
    /// cosignatures to a checkpoint already committed; size and root never change here.
    /// Durable on return.
    fn amend_checkpoint(&self, size: u64, checkpoint: &[u8]) -> Result<(), StoreError>;

    /// The log index of a statement, if the committed log has it.
    fn index_of(&self, id: &Digest) -> Result<Option<u64>, StoreError>;

    /// Takes or renews the sequencer lease for `holder` (a name unique to one running
    /// host), advertising `address` to the others, for `ttl` from now by the store's
    /// clock. Returns [`Lease::HeldBy`] when another holder has it (nothing changes).
    fn acquire_lease(
        &self,
        holder: &str,
        address: &str,
        ttl: std::time::Duration,
    ) -> Result<Lease, StoreError>;

    /// Gives the lease up at once if `holder` has it (on a graceful stop), so that another
    /// host can take it without waiting for it to expire. Does nothing otherwise.
    fn release_lease(&self, holder: &str) -> Result<(), StoreError>;
}
