//! The dedup index of [`crate::SqliteState`]: statement ids in log order, one row per
//! commit, and a map in memory for lookups.
//!
//! Ids are hashes, so in a B-tree keyed by id every insert lands on a random page, and the
//! WAL writes each page a commit touches whole: a batch of n statements wrote about n
//! pages. That was the largest part of making a batch durable (measured on the 2-core
//! machine: about 4 of 10 ms for 130 statements, 22 of 43 ms for 1,000). Here a commit
//! appends one row (`first`, then 40 bytes per statement: the id and its log index, big
//! endian), which lands on the last pages of the table. Lookups go to a map built from
//! the rows at open and brought up to date from the rows past the last one read, since
//! another process sharing the file may have committed since: inside each commit's
//! transaction before its own row is added, and whenever a lookup misses.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, params};
use statement::Digest;

use crate::StoreError;

/// The table: one row per commit, keyed by the log index the commit started at.
pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS id_batches (
    first INTEGER PRIMARY KEY,
    ids BLOB NOT NULL
);";

/// Bytes per indexed statement in a row: its id, then its log index (big endian).
const RECORD: usize = 40;

/// The ids read so far, and the `first` of the next row to read.
#[derive(Debug, Default)]
pub(crate) struct IdIndex {
    map: HashMap<Digest, u64>,
    next: i64,
}

impl IdIndex {
    /// Moves an index kept by an earlier version (one row per statement in a B-tree keyed
    /// by id) into this layout, then reads every row.
    pub(crate) fn open(conn: &mut Connection) -> Result<IdIndex, StoreError> {
        migrate(conn)?;
        let mut index = IdIndex::default();
        index.catch_up(conn)?;
        Ok(index)
    }

    /// The log index of `id`, reading the rows committed since the last read if it is not
    /// known yet.
    pub(crate) fn get(
        &mut self,
        conn: &Connection,
        id: &Digest,
    ) -> Result<Option<u64>, StoreError> {
        if let Some(&index) = self.map.get(id) {
            return Ok(Some(index));
        }
        self.catch_up(conn)?;
        Ok(self.map.get(id).copied())
    }

    /// Adds the ids of the row this handle just committed at `first`, read up to it by
    /// [`IdIndex::catch_up`] inside the same write transaction, so no row lies between.
    pub(crate) fn committed(&mut self, first: i64, ids: &[(Digest, u64)]) {
        if ids.is_empty() {
            return;
        }
        self.map.extend(ids.iter().copied());
        self.next = first.saturating_add(1);
    }

    /// Reads the rows past the last one read.
    pub(crate) fn catch_up(&mut self, conn: &Connection) -> Result<(), StoreError> {
        let mut select = conn
            .prepare_cached("SELECT first, ids FROM id_batches WHERE first >= ?1 ORDER BY first")?;
        let mut rows = select.query([self.next])?;
        while let Some(row) = rows.next()? {
            let first: i64 = row.get(0)?;
            let ids = row.get_ref(1)?.as_blob().map_err(|_| {
                StoreError::Corrupt(format!("id_batches row {first} is not a blob"))
            })?;
            for (id, index) in decode(ids)? {
                self.map.insert(id, index);
            }
            self.next = first.saturating_add(1);
        }
        Ok(())
    }
}

/// Appends the row for a commit from `first` (inside the caller's transaction).
pub(crate) fn append(
    conn: &Connection,
    first: i64,
    ids: &[(Digest, u64)],
) -> Result<(), StoreError> {
    if ids.is_empty() {
        return Ok(());
    }
    let mut blob = Vec::with_capacity(ids.len() * RECORD);
    for (id, index) in ids {
        blob.extend_from_slice(id.0.as_bytes());
        blob.extend_from_slice(&index.to_be_bytes());
    }
    conn.prepare_cached("INSERT INTO id_batches (first, ids) VALUES (?1, ?2)")?
        .execute(params![first, blob])?;
    Ok(())
}

/// The (id, index) records of a row.
fn decode(blob: &[u8]) -> Result<impl Iterator<Item = (Digest, u64)> + '_, StoreError> {
    if !blob.len().is_multiple_of(RECORD) {
        return Err(StoreError::Corrupt(format!(
            "an id_batches row of {} bytes, not a multiple of {RECORD}",
            blob.len()
        )));
    }
    Ok(blob.chunks_exact(RECORD).map(|record| {
        let (id, index) = record.split_at(32);
        let mut be = [0u8; 8];
        be.copy_from_slice(index);
        let mut hash = [0u8; 32];
        hash.copy_from_slice(id);
        (Digest(tlog::Hash(hash)), u64::from_be_bytes(be))
    }))
}

/// Moves the rows of an earlier version's `statements` table into one `id_batches` row
/// (at `first` 0, below every later commit) and drops it, in one transaction.
fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let old: Option<String> = tx
        .query_row(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'statements'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    if old.is_none() {
        return Ok(());
    }
    let ids = {
        let mut select = tx.prepare("SELECT id, idx FROM statements ORDER BY idx")?;
        let rows = select.query_map([], |r| Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, i64>(1)?)))?;
        let mut ids = Vec::new();
        for row in rows {
            let (id, idx) = row?;
            let id = tlog::Hash::from_slice(&id)
                .ok_or_else(|| StoreError::Corrupt("a statement id is not 32 bytes".into()))?;
            let idx = u64::try_from(idx)
                .map_err(|_| StoreError::Corrupt(format!("negative index {idx}")))?;
            ids.push((Digest(id), idx));
        }
        ids
    };
    append(&tx, 0, &ids)?;
    tx.execute_batch("DROP TABLE statements")?;
    tx.commit()?;
    Ok(())
}
