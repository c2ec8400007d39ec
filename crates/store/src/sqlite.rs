//! [`SqliteState`]: the sequencer's state in one SQLite file.
//!
//! WAL journal with `synchronous = FULL`, so a committed transaction is on disk when
//! `COMMIT` returns. The compare-and-swap runs inside one `BEGIN IMMEDIATE` transaction,
//! which takes SQLite's write lock first: two processes committing from the same size are
//! serialised and the second sees the first's head.

use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use statement::Digest;

use crate::lease::{self, LeaseRow};
use crate::{Head, Lease, StateStore, StoreError};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS head (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    size INTEGER NOT NULL,
    root BLOB NOT NULL,
    checkpoint BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS statements (
    id BLOB PRIMARY KEY,
    idx INTEGER NOT NULL UNIQUE
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS lease (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    holder TEXT NOT NULL,
    address TEXT NOT NULL,
    epoch INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL
);
INSERT INTO lease (one, holder, address, epoch, expires_ms) VALUES (1, '', '', 0, 0)
    ON CONFLICT (one) DO NOTHING;
";

/// The store's clock in milliseconds since the Unix epoch.
const NOW_MS: &str = "CAST(unixepoch('subsec') * 1000 AS INTEGER)";

/// Sequencer state in SQLite.
#[derive(Debug)]
pub struct SqliteState {
    conn: Mutex<Connection>,
}

impl SqliteState {
    /// Opens (creating if needed) the database at `path`.
    pub fn open(path: &Path) -> Result<SqliteState, StoreError> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(10))?;
        // Small pages for a new database (an existing one keeps its own): a batch's ids
        // land on random pages of the dedup index, and each page it touches is written
        // whole to the WAL at commit, so 1 KiB pages write about a third of what 4 KiB
        // ones do for the same inserts. Must come before WAL mode and the first table.
        conn.pragma_update(None, "page_size", 1024)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        // The dedup index is keyed by statement ids, which are hashes: every insert lands
        // on a random page. With SQLite's default 2 MiB cache a log past ~10^5 statements
        // re-reads index pages from the OS on nearly every insert; 64 MiB keeps about
        // 10^6 statements' index in memory (the cache fills only as the log grows).
        conn.pragma_update(None, "cache_size", -65536)?;
        // Copy the WAL back into the database every 65,536 pages (64 MiB at 1 KiB) rather
        // than every 1,000: the same index pages are rewritten batch after batch, and a
        // checkpoint writes each page once however often it changed since the last one.
        conn.pragma_update(None, "wal_autocheckpoint", 65536)?;
        conn.execute_batch(SCHEMA)?;
        Ok(SqliteState {
            conn: Mutex::new(conn),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A poisoned lock only means another thread panicked mid-call; SQLite's own
        // transaction rolled back, so the connection is still consistent.
        self.conn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn read_head(conn: &Connection) -> Result<Option<Head>, StoreError> {
    let row = conn
        .query_row(
            "SELECT size, root, checkpoint FROM head WHERE one = 1",
            [],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, Vec<u8>>(1)?,
                    r.get::<_, Vec<u8>>(2)?,
                ))
            },
        )
        .optional()?;
    let Some((size, root, checkpoint)) = row else {
        return Ok(None);
    };
    let size =
        u64::try_from(size).map_err(|_| StoreError::Corrupt(format!("negative size {size}")))?;
    let root = tlog::Hash::from_slice(&root)
        .ok_or_else(|| StoreError::Corrupt("root is not 32 bytes".into()))?;
    Ok(Some(Head {
        size,
        root,
        checkpoint,
    }))
}

fn sql_index(n: u64) -> Result<i64, StoreError> {
    i64::try_from(n)
        .map_err(|_| StoreError::Corrupt(format!("index {n} exceeds SQLite's integers")))
}

impl StateStore for SqliteState {
    fn head(&self) -> Result<Option<Head>, StoreError> {
        read_head(&self.lock())
    }

    fn commit(
        &self,
        expected_size: u64,
        head: &Head,
        ids: &[(Digest, u64)],
    ) -> Result<(), StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let found = read_head(&tx)?.map_or(0, |h| h.size);
        if found != expected_size || head.size <= expected_size {
            return Err(StoreError::Conflict {
                expected: expected_size,
                found,
            });
        }
        {
            let mut insert =
                tx.prepare_cached("INSERT INTO statements (id, idx) VALUES (?1, ?2)")?;
            for (id, index) in ids {
                insert.execute(params![id.0.as_bytes().as_slice(), sql_index(*index)?])?;
            }
        }
        tx.execute(
            "INSERT INTO head (one, size, root, checkpoint) VALUES (1, ?1, ?2, ?3)
             ON CONFLICT (one) DO UPDATE SET size = ?1, root = ?2, checkpoint = ?3",
            params![
                sql_index(head.size)?,
                head.root.as_bytes().as_slice(),
                head.checkpoint
            ],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn amend_checkpoint(&self, size: u64, checkpoint: &[u8]) -> Result<(), StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let found = read_head(&tx)?.map_or(0, |h| h.size);
        if found != size || size == 0 {
            return Err(StoreError::Conflict {
                expected: size,
                found,
            });
        }
        tx.execute(
            "UPDATE head SET checkpoint = ?1 WHERE one = 1",
            params![checkpoint],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn index_of(&self, id: &Digest) -> Result<Option<u64>, StoreError> {
        let conn = self.lock();
        let idx: Option<i64> = conn
            .prepare_cached("SELECT idx FROM statements WHERE id = ?1")?
            .query_row([id.0.as_bytes().as_slice()], |r| r.get(0))
            .optional()?;
        idx.map(|i| {
            u64::try_from(i).map_err(|_| StoreError::Corrupt(format!("negative index {i}")))
        })
        .transpose()
    }

    fn acquire_lease(
        &self,
        holder: &str,
        address: &str,
        ttl: Duration,
    ) -> Result<Lease, StoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let row = tx.query_row(
            &format!(
                "SELECT holder, address, epoch, expires_ms - {NOW_MS} FROM lease WHERE one = 1"
            ),
            [],
            |r| {
                Ok(LeaseRow {
                    holder: r.get(0)?,
                    address: r.get(1)?,
                    epoch: r.get(2)?,
                    remaining_ms: r.get(3)?,
                })
            },
        )?;
        let epoch = match row.take(holder) {
            Ok(epoch) => epoch,
            Err(held) => return Ok(held),
        };
        tx.execute(
            &format!(
                "UPDATE lease SET holder = ?1, address = ?2, epoch = ?3, expires_ms = {NOW_MS} + ?4 WHERE one = 1"
            ),
            params![holder, address, epoch, lease::ttl_millis(ttl)],
        )?;
        tx.commit()?;
        Ok(lease::granted(epoch))
    }

    fn release_lease(&self, holder: &str) -> Result<(), StoreError> {
        self.lock().execute(
            "UPDATE lease SET holder = '', address = '' WHERE one = 1 AND holder = ?1",
            [holder],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn page_size(path: &Path) -> i64 {
        let conn = Connection::open(path).unwrap();
        conn.query_row("PRAGMA page_size", [], |r| r.get(0))
            .unwrap()
    }

    /// A new state database gets small pages; one made with other pages (by an earlier
    /// version) opens as it is and keeps them.
    #[test]
    fn new_databases_get_small_pages_and_old_ones_keep_theirs() {
        let dir = tempfile::tempdir().unwrap();
        let new = dir.path().join("new.sqlite");
        drop(SqliteState::open(&new).unwrap());
        assert_eq!(page_size(&new), 1024);

        let old = dir.path().join("old.sqlite");
        let conn = Connection::open(&old).unwrap();
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
        conn.execute_batch(SCHEMA).unwrap();
        drop(conn);
        assert_eq!(page_size(&old), 4096);
        let state = SqliteState::open(&old).unwrap();
        assert_eq!(state.head().unwrap(), None);
        drop(state);
        assert_eq!(page_size(&old), 4096);
    }
}
