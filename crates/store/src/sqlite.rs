//! [`SqliteState`]: the sequencer's state in one SQLite file.
//!
//! WAL journal with `synchronous = FULL`, so a committed transaction is on disk when
//! `COMMIT` returns. The compare-and-swap runs inside one `BEGIN IMMEDIATE` transaction,
//! which takes SQLite's write lock first: two processes committing from the same size are
//! serialised and the second sees the first's head. The dedup index is kept as
//! [`crate::sqlite_ids`] describes.

use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use statement::Digest;

use crate::lease::{self, LeaseRow};
use crate::sqlite_ids::{self, IdIndex};
use crate::{Head, Lease, StateStore, StoreError};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS head (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    size INTEGER NOT NULL,
    root BLOB NOT NULL,
    checkpoint BLOB NOT NULL
);
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
    /// Locked after `conn`, never before.
    ids: Mutex<IdIndex>,
}

impl SqliteState {
    /// Opens (creating if needed) the database at `path`.
    pub fn open(path: &Path) -> Result<SqliteState, StoreError> {
        let mut conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.execute_batch(SCHEMA)?;
        conn.execute_batch(sqlite_ids::SCHEMA)?;
        let ids = IdIndex::open(&mut conn)?;
        Ok(SqliteState {
            conn: Mutex::new(conn),
            ids: Mutex::new(ids),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A poisoned lock only means another thread panicked mid-call; SQLite's own
        // transaction rolled back, so the connection is still consistent.
        self.conn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The id map (with the connection locked first). A thread that panicked holding it
    /// may have read part of a row: `next` still names that row, so the next read of it
    /// inserts the same entries again.
    fn lock_ids(&self) -> std::sync::MutexGuard<'_, IdIndex> {
        self.ids
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
        let first = sql_index(expected_size)?;
        let mut index = self.lock_ids();
        // The write lock is held: no other process can add a row before this one commits.
        index.catch_up(&tx)?;
        sqlite_ids::append(&tx, first, ids)?;
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
        index.committed(first, ids);
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
        self.lock_ids().get(&conn, id)
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

    fn head(size: u64) -> Head {
        Head {
            size,
            root: tlog::Hash([size as u8; 32]),
            checkpoint: format!("cp {size}\n").into_bytes(),
        }
    }

    /// A database written by an earlier version, whose dedup index was a table keyed by
    /// id, opens with every id still found, takes new commits, and the old table is gone.
    #[test]
    fn an_earlier_versions_index_is_moved_over() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.sqlite");
        let old_ids: Vec<Digest> = (0..300u32).map(|i| Digest::of(&i.to_be_bytes())).collect();
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(SCHEMA).unwrap();
            conn.execute_batch(
                "CREATE TABLE statements (id BLOB PRIMARY KEY, idx INTEGER NOT NULL UNIQUE) \
                 WITHOUT ROWID",
            )
            .unwrap();
            for (i, id) in old_ids.iter().enumerate() {
                conn.execute(
                    "INSERT INTO statements (id, idx) VALUES (?1, ?2)",
                    params![id.0.as_bytes().as_slice(), i as i64],
                )
                .unwrap();
            }
            let h = head(300);
            conn.execute(
                "INSERT INTO head (one, size, root, checkpoint) VALUES (1, ?1, ?2, ?3)",
                params![300, h.root.as_bytes().as_slice(), h.checkpoint],
            )
            .unwrap();
        }
        let state = SqliteState::open(&path).unwrap();
        assert_eq!(state.head().unwrap(), Some(head(300)));
        for (i, id) in old_ids.iter().enumerate() {
            assert_eq!(state.index_of(id).unwrap(), Some(i as u64));
        }
        let new = Digest::of(b"new");
        state.commit(300, &head(301), &[(new, 300)]).unwrap();
        drop(state);

        let again = SqliteState::open(&path).unwrap();
        assert_eq!(again.index_of(&new).unwrap(), Some(300));
        assert_eq!(again.index_of(&old_ids[299]).unwrap(), Some(299));
        assert_eq!(again.index_of(&Digest::of(b"never")).unwrap(), None);
        let conn = Connection::open(&path).unwrap();
        let tables: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name = 'statements'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(tables, 0);
    }

    /// A row whose length is not a whole number of records is reported, not misread.
    #[test]
    fn a_torn_row_is_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.sqlite");
        drop(SqliteState::open(&path).unwrap());
        let conn = Connection::open(&path).unwrap();
        conn.execute(
            "INSERT INTO id_batches (first, ids) VALUES (0, ?1)",
            [vec![0u8; 41]],
        )
        .unwrap();
        drop(conn);
        assert!(matches!(
            SqliteState::open(&path),
            Err(StoreError::Corrupt(m)) if m.contains("41 bytes")
        ));
    }
}
