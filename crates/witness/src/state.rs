//! The witness's durable state: per log, the latest checkpoint it cosigned.
//!
//! Check and update run in one `BEGIN IMMEDIATE` transaction, which holds SQLite's write
//! lock from the read to the commit: two concurrent requests (threads or processes) are
//! serialised, so the witness can never cosign two checkpoints that are not consistent
//! with each other. The transaction commits (WAL, `synchronous = FULL`: durable) before the
//! cosignature leaves the witness, so after a crash it never moves backwards.

use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use tlog::checkpoint::{Checkpoint, Origin};

use crate::Answer;

/// The latest checkpoint cosigned for a log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cosigned {
    /// Its tree size.
    pub size: u64,
    /// Its root.
    pub root: tlog::Hash,
    /// The checkpoint note with the log's signature and this witness's cosignature.
    pub note: Vec<u8>,
}

/// The witness's state in SQLite.
pub struct WitnessState {
    conn: Mutex<Connection>,
}

fn read(conn: &Connection, origin: &str) -> rusqlite::Result<Option<Cosigned>> {
    conn.query_row(
        "SELECT size, root, note FROM logs WHERE origin = ?1",
        [origin],
        |r| {
            let size: i64 = r.get(0)?;
            let root: Vec<u8> = r.get(1)?;
            Ok((size, root, r.get::<_, Vec<u8>>(2)?))
        },
    )
    .optional()
    .map(|row| {
        row.and_then(|(size, root, note)| {
            Some(Cosigned {
                size: u64::try_from(size).ok()?,
                root: tlog::Hash::from_slice(&root)?,
                note,
            })
        })
    })
}

impl WitnessState {
    /// Opens (creating if needed) the state at `path`.
    pub fn open(path: &Path) -> rusqlite::Result<WitnessState> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS logs (origin TEXT PRIMARY KEY, size INTEGER NOT NULL, root BLOB NOT NULL, note BLOB NOT NULL)",
        )?;
        Ok(WitnessState {
            conn: Mutex::new(conn),
        })
    }

    /// The latest cosigned checkpoint of `origin`.
    pub fn get(&self, origin: &str) -> rusqlite::Result<Option<Cosigned>> {
        read(
            &self
                .conn
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
            origin,
        )
    }

    /// Runs `decide` on the stored checkpoint of `origin` and, if it accepts, stores
    /// `checkpoint` with the note it returns — atomically and durably — and returns the
    /// response body it gave.
    pub fn advance(
        &self,
        origin: &Origin,
        _old: u64,
        checkpoint: &Checkpoint,
        decide: impl FnOnce(Option<&Cosigned>) -> Result<(Vec<u8>, Vec<u8>), Answer>,
    ) -> rusqlite::Result<Result<Vec<u8>, Answer>> {
        let mut conn = self
            .conn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let prev = read(&tx, origin.as_str())?;
        let (body, note) = match decide(prev.as_ref()) {
            Ok(x) => x,
            Err(answer) => return Ok(Err(answer)),
        };
        let size = i64::try_from(checkpoint.size()).unwrap_or(i64::MAX);
        tx.execute(
            "INSERT INTO logs (origin, size, root, note) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (origin) DO UPDATE SET size = ?2, root = ?3, note = ?4",
            params![
                origin.as_str(),
                size,
                checkpoint.root().as_bytes().as_slice(),
                note
            ],
        )?;
        tx.commit()?;
        Ok(Ok(body))
    }
}
