//! The node's replica: every verified entry and checkpoint, in one SQLite file.
//!
//! Written only by a sync that verified everything it adds, in one transaction, so the
//! replica is always a verified prefix of the log: entries `0..size`, the checkpoint that
//! covers them, and the tree's right frontier (to extend the tree without rehashing).
//!
//! A sync stages what it fetches in a separate table (so that a long log need not fit in
//! memory); staged rows are not part of the replica and are cleared at the start of every
//! sync. Checking them, it appends each checked chunk to `entries` inside one open
//! transaction ([`Replica::begin_checked`]), where the fold can look earlier statements
//! up, and commits that transaction only once all of it verified, with the checkpoint
//! ([`Replica::commit_checked`]); anything else rolls it back.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};
use statement::group::Logged;
use statement::{Digest, Signed};
use tlog::Hash;
use tlog::merkle::Frontier;

use crate::NodeError;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS entries (
    idx INTEGER PRIMARY KEY,
    id BLOB NOT NULL UNIQUE,
    leaf BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS staged (
    idx INTEGER PRIMARY KEY,
    id BLOB,
    leaf BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS checkpoints (
    size INTEGER PRIMARY KEY,
    note BLOB NOT NULL,
    verified_at INTEGER NOT NULL
);
";

/// SQLite page cache of a replica's connection, in KiB.
const REPLICA_CACHE_KIB: i64 = 64 * 1024;

/// The latest checkpoint this node verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// Tree size.
    pub size: u64,
    /// Root.
    pub root: Hash,
    /// The signed note.
    pub note: Vec<u8>,
}

/// The replica.
pub struct Replica {
    // A mutex only so a node can be shared between tasks (`Connection` is not `Sync`);
    // a node has one user at a time.
    conn: std::sync::Mutex<Connection>,
}

fn corrupt(what: &str) -> NodeError {
    NodeError::Replica(format!("the replica is corrupt: {what}"))
}

fn sql(n: u64) -> Result<i64, NodeError> {
    i64::try_from(n).map_err(|_| corrupt("index beyond SQLite integers"))
}

impl Replica {
    /// Opens (creating if needed) the replica at `path`.
    pub fn open(path: &Path) -> Result<Replica, NodeError> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        // A sync inserts into the statement-id index at random places; a page cache of a
        // fixed 64 MiB (SQLite's default is 2 MiB) keeps most of that index in memory
        // without spilling pages to the WAL over and over. Memory stays bounded.
        conn.pragma_update(None, "cache_size", -REPLICA_CACHE_KIB)?;
        conn.execute_batch(SCHEMA)?;
        Ok(Replica {
            conn: std::sync::Mutex::new(conn),
        })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding it cannot leave SQLite half-written (transactions roll back).
        self.conn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A metadata value.
    pub fn meta(&self, key: &str) -> Result<Option<Vec<u8>>, NodeError> {
        Ok(self
            .conn()
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    }

    /// A metadata value as text.
    pub fn meta_text(&self, key: &str) -> Result<Option<String>, NodeError> {
        self.meta(key)?
            .map(|v| String::from_utf8(v).map_err(|_| corrupt(key)))
            .transpose()
    }

    /// Sets a metadata value.
    pub fn set_meta(&self, key: &str, value: &[u8]) -> Result<(), NodeError> {
        self.conn().execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
            params![key, value],
        )?;
        Ok(())
    }

    /// The latest verified checkpoint, if any.
    pub fn verified(&self) -> Result<Option<Verified>, NodeError> {
        let (Some(note), Some(size), Some(root)) = (
            self.meta("checkpoint")?,
            self.meta("size")?,
            self.meta("root")?,
        ) else {
            return Ok(None);
        };
        let size = u64::from_be_bytes(size.try_into().map_err(|_| corrupt("size"))?);
        let root = Hash::from_slice(&root).ok_or_else(|| corrupt("root"))?;
        Ok(Some(Verified { size, root, note }))
    }

    /// The frontier of the verified tree.
    pub fn frontier(&self) -> Result<Frontier, NodeError> {
        let Some(v) = self.verified()? else {
            return Ok(Frontier::new());
        };
        let bytes = self.meta("frontier")?.unwrap_or_default();
        let hashes = bytes
            .chunks(32)
            .map(|c| Hash::from_slice(c).ok_or_else(|| corrupt("frontier")))
            .collect::<Result<Vec<_>, _>>()?;
        Frontier::from_parts(v.size, hashes).map_err(|e| corrupt(&e.to_string()))
    }

    /// Number of entries stored.
    pub fn len(&self) -> Result<u64, NodeError> {
        let n: i64 = self
            .conn()
            .query_row("SELECT COUNT(*) FROM entries", [], |r| r.get(0))?;
        u64::try_from(n).map_err(|_| corrupt("count"))
    }

    /// Whether the replica holds no entry.
    pub fn is_empty(&self) -> Result<bool, NodeError> {
        Ok(self.len()? == 0)
    }

    /// The leaf at `index`.
    pub fn leaf(&self, index: u64) -> Result<Option<Vec<u8>>, NodeError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT leaf FROM entries WHERE idx = ?1",
                [sql(index)?],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// The index of a statement.
    pub fn index_of(&self, id: &Digest) -> Result<Option<u64>, NodeError> {
        let i: Option<i64> = self
            .conn()
            .query_row(
                "SELECT idx FROM entries WHERE id = ?1",
                [id.0.as_bytes().as_slice()],
                |r| r.get(0),
            )
            .optional()?;
        i.map(|i| u64::try_from(i).map_err(|_| corrupt("index")))
            .transpose()
    }

    /// Where the statement `id` is among the entries (including those a sync appended in
    /// its open transaction): its index and kind. The kind is read from the leaf, so this
    /// is for the fold's occasional lookups (duplicates, `refs`), not for scanning.
    pub fn find(&self, id: &Digest) -> Result<Option<Logged>, NodeError> {
        let found = self
            .conn()
            .prepare_cached("SELECT idx, leaf FROM entries WHERE id = ?1")?
            .query_row([id.0.as_bytes().as_slice()], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?))
            })
            .optional()?;
        let Some((index, leaf)) = found else {
            return Ok(None);
        };
        let index = u64::try_from(index).map_err(|_| corrupt("index"))?;
        let kind = Signed::from_leaf(&leaf)
            .map_err(|e| corrupt(&format!("entry {index}: {e}")))?
            .statement()
            .kind;
        Ok(Some(Logged { index, kind }))
    }

    /// Calls `f` with every entry in log order.
    pub fn for_each_leaf(
        &self,
        mut f: impl FnMut(u64, &[u8]) -> Result<(), NodeError>,
    ) -> Result<(), NodeError> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT idx, leaf FROM entries ORDER BY idx")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let i: i64 = row.get(0)?;
            let leaf: Vec<u8> = row.get(1)?;
            f(u64::try_from(i).map_err(|_| corrupt("index"))?, &leaf)?;
        }
        Ok(())
    }

    /// When each stored checkpoint was verified (unix seconds), by size.
    pub fn checkpoint_times(&self) -> Result<Vec<(u64, i64)>, NodeError> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT size, verified_at FROM checkpoints ORDER BY size")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))?;
        rows.map(|r| {
            let (s, t) = r?;
            Ok((u64::try_from(s).map_err(|_| corrupt("size"))?, t))
        })
        .collect()
    }

    /// Every verified checkpoint note (as first verified), by increasing size.
    pub fn checkpoint_notes(&self) -> Result<Vec<(u64, Vec<u8>)>, NodeError> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT size, note FROM checkpoints ORDER BY size")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?)))?;
        rows.map(|r| {
            let (s, n) = r?;
            Ok((u64::try_from(s).map_err(|_| corrupt("size"))?, n))
        })
        .collect()
    }

    /// Forgets whatever an earlier sync staged, and rolls back a sync's transaction that
    /// was left open.
    pub fn clear_staged(&self) -> Result<(), NodeError> {
        self.rollback_checked()?;
        self.conn().execute("DELETE FROM staged", [])?;
        Ok(())
    }

    /// Stages `leaves` at indexes `start..`, not yet verified (see the module docs).
    pub fn stage(&self, start: u64, leaves: &[Vec<u8>]) -> Result<(), NodeError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        {
            let mut insert = tx.prepare_cached("INSERT INTO staged (idx, leaf) VALUES (?1, ?2)")?;
            for (i, leaf) in (start..).zip(leaves) {
                insert.execute(params![sql(i)?, leaf])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Up to `limit` staged leaves from index `from` on, in order.
    pub fn staged(&self, from: u64, limit: usize) -> Result<Vec<Vec<u8>>, NodeError> {
        self.rows("staged", from, limit)
    }

    /// Up to `limit` entries from index `from` on, in order.
    pub fn leaves(&self, from: u64, limit: usize) -> Result<Vec<Vec<u8>>, NodeError> {
        self.rows("entries", from, limit)
    }

    fn rows(&self, table: &str, from: u64, limit: usize) -> Result<Vec<Vec<u8>>, NodeError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT leaf FROM {table} WHERE idx >= ?1 ORDER BY idx LIMIT ?2"
        ))?;
        let rows = stmt.query_map(params![sql(from)?, limit as i64], |r| r.get(0))?;
        rows.map(|r| r.map_err(NodeError::from)).collect()
    }

    /// Opens the transaction a sync appends its checked entries in; nothing in it is part
    /// of the replica until [`Replica::commit_checked`]. [`Replica::rollback_checked`] (or
    /// the next [`Replica::clear_staged`]) abandons it.
    pub fn begin_checked(&self) -> Result<(), NodeError> {
        self.conn().execute_batch("BEGIN IMMEDIATE")?;
        Ok(())
    }

    /// Appends checked entries `start..` with their statement ids, inside the sync's
    /// transaction.
    pub fn append_checked(
        &self,
        start: u64,
        leaves: &[Vec<u8>],
        ids: &[Digest],
    ) -> Result<(), NodeError> {
        let conn = self.conn();
        if conn.is_autocommit() {
            return Err(NodeError::Replica(
                "checked entries appended outside a sync's transaction".into(),
            ));
        }
        let mut insert =
            conn.prepare_cached("INSERT INTO entries (idx, id, leaf) VALUES (?1, ?2, ?3)")?;
        for ((i, leaf), id) in (start..).zip(leaves).zip(ids) {
            insert.execute(params![sql(i)?, id.0.as_bytes().as_slice(), leaf])?;
        }
        Ok(())
    }

    /// Abandons the sync's transaction: the replica is as it was before it.
    pub fn rollback_checked(&self) -> Result<(), NodeError> {
        let conn = self.conn();
        if !conn.is_autocommit() {
            conn.execute_batch("ROLLBACK")?;
        }
        Ok(())
    }

    /// Commits the sync's transaction with the verified checkpoint and frontier, once the
    /// entries in it are exactly the checkpoint's tree; clears the staged rows.
    pub fn commit_checked(
        &mut self,
        checkpoint: &Verified,
        frontier: &Frontier,
        now: i64,
    ) -> Result<(), NodeError> {
        let conn = self.conn();
        if conn.is_autocommit() {
            return Err(NodeError::Replica("no sync transaction to commit".into()));
        }
        let count: i64 = conn.query_row("SELECT COUNT(*) FROM entries", [], |r| r.get(0))?;
        if count != sql(checkpoint.size)? {
            return Err(NodeError::Replica(format!(
                "the replica would hold {count} entries under a checkpoint of size {}",
                checkpoint.size
            )));
        }
        conn.execute("DELETE FROM staged", [])?;
        set_verified(&conn, checkpoint, frontier, now)?;
        conn.execute_batch("COMMIT")?;
        Ok(())
    }
}

/// Moves the verified checkpoint and frontier, inside the caller's transaction.
fn set_verified(
    tx: &Connection,
    checkpoint: &Verified,
    frontier: &Frontier,
    now: i64,
) -> Result<(), NodeError> {
    let hashes: Vec<u8> = frontier.hashes().iter().flat_map(|h| h.0).collect();
    let set = "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)";
    tx.execute(set, params!["checkpoint", checkpoint.note])?;
    tx.execute(
        set,
        params!["size", checkpoint.size.to_be_bytes().as_slice()],
    )?;
    tx.execute(set, params!["root", checkpoint.root.as_bytes().as_slice()])?;
    tx.execute(set, params!["frontier", hashes])?;
    tx.execute(
        "INSERT OR IGNORE INTO checkpoints (size, note, verified_at) VALUES (?1, ?2, ?3)",
        params![sql(checkpoint.size)?, checkpoint.note, now],
    )?;
    Ok(())
}
