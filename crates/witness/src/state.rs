//! The witness's durable state: per log, the latest checkpoint it cosigned.
//!
//! **Group commit.** Every fsync costs the witness more than the signatures it checks and
//! makes, so concurrent requests (for different logs, or racing for one) share one SQLite
//! transaction:
//!
//! 1. A request is checked against the latest checkpoint *accepted* for its log — durable
//!    or waiting to be — and, if it passes, cosigned; both outside the mutex, so that the
//!    signature, the costliest step, runs on every core at once. Under the mutex it becomes
//!    the log's latest and joins the queue with the state it was decided against, provided
//!    that state is still the latest; if another request moved the log meanwhile, it is
//!    checked again, under the mutex, against the new latest (its signature, which does not
//!    depend on the state, is kept; one that is refused is dropped, never returned).
//! 2. The request then waits until a flush covers it. If no flush is running, it leads one:
//!    it drains the whole queue into one `BEGIN IMMEDIATE` transaction, in which each new
//!    checkpoint is written by one compare-and-swap statement that changes the log's row
//!    only if it is still the one the request was decided against (another process sharing
//!    the file may have moved it), then commits (WAL, `synchronous = FULL`: durable). The
//!    requests that queued while it committed wait on a condition variable, not on the
//!    connection's lock, so that the next flush takes them all at once: handing that lock
//!    from waiter to waiter let a fresh request commit alone in between, one fsync each.
//! 3. Only a request whose write committed is answered with its cosignature.
//!
//! So the witness never cosigns two checkpoints that are not consistent with each other
//! (each is decided against the one before it, in one order, and re-checked against the
//! file in the transaction), and after a crash it never moves backwards: nothing is
//! answered before it is durable. A write that fails rolls the in-memory view back to the
//! file.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, params};
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

/// A decided checkpoint waiting to be made durable.
struct Write {
    ticket: u64,
    origin: String,
    /// What the log's row must still hold (size, root) for the write to apply.
    expected: Option<(u64, tlog::Hash)>,
    new: Arc<Cosigned>,
}

/// The in-memory side: the latest accepted checkpoint per log, the queue, and the
/// outcome of flushed tickets not yet collected by their requests.
#[derive(Default)]
struct Pending {
    /// Shared with the queue, so that accepting a checkpoint does not copy its note.
    latest: HashMap<String, Arc<Cosigned>>,
    queue: Vec<Write>,
    next_ticket: u64,
    outcomes: HashMap<u64, bool>,
    /// A request is committing a batch drained from the queue. While this is false, a
    /// ticket without an outcome is still in the queue.
    flushing: bool,
}

/// The witness's state in SQLite.
pub struct WitnessState {
    /// The connection; only the flush leader and the first read of a log take it.
    conn: Mutex<Connection>,
    pending: Mutex<Pending>,
    /// Signalled (with `pending`) whenever a flush ends.
    flushed: Condvar,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn read(conn: &Connection, origin: &str) -> rusqlite::Result<Option<Cosigned>> {
    conn.prepare_cached("SELECT size, root, note FROM logs WHERE origin = ?1")?
        .query_row([origin], |r| {
            let size: i64 = r.get(0)?;
            let root: Vec<u8> = r.get(1)?;
            Ok((size, root, r.get::<_, Vec<u8>>(2)?))
        })
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
            pending: Mutex::new(Pending::default()),
            flushed: Condvar::new(),
        })
    }

    /// The latest durably cosigned checkpoint of `origin`.
    pub fn get(&self, origin: &str) -> rusqlite::Result<Option<Cosigned>> {
        read(&lock(&self.conn), origin)
    }

    /// Runs `check` on the latest accepted checkpoint of `origin` and, if it passes, runs
    /// `cosign` and stores `checkpoint` with the note it returns, durably (see the module
    /// docs), and returns the response body it gave. `check` may run twice (outside the
    /// mutex, then under it if the log moved meanwhile); `cosign` runs once, its result is
    /// returned only once the note is stored. `Err` if the state could not be read or
    /// written; then nothing was cosigned.
    pub fn advance(
        &self,
        origin: &Origin,
        checkpoint: &Checkpoint,
        check: impl Fn(Option<&Cosigned>) -> Result<(), Answer>,
        cosign: impl FnOnce() -> Result<(Vec<u8>, Vec<u8>), Answer>,
    ) -> rusqlite::Result<Result<Vec<u8>, Answer>> {
        let key = origin.as_str();
        let cached = lock(&self.pending).latest.get(key).cloned();
        let seen = match cached {
            Some(c) => Some(c),
            None => self.load(key)?,
        };
        if let Err(answer) = check(seen.as_deref()) {
            return Ok(Err(answer));
        }
        let (body, note) = match cosign() {
            Ok(x) => x,
            Err(answer) => return Ok(Err(answer)),
        };
        let new = Arc::new(Cosigned {
            size: checkpoint.size(),
            root: checkpoint.root(),
            note,
        });
        let ticket = {
            let mut p = lock(&self.pending);
            let prev = p.latest.get(key);
            let unchanged = match (prev, &seen) {
                (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                (None, None) => true,
                // Forgotten since: a write failed or another process moved the row. Only
                // the file knows the latest now; the client sends again.
                (None, Some(_)) => return Ok(Err(changed())),
                (Some(_), None) => false,
            };
            if !unchanged && let Err(answer) = check(prev.map(Arc::as_ref)) {
                return Ok(Err(answer));
            }
            let expected = prev.map(|c| (c.size, c.root));
            let ticket = p.next_ticket;
            p.next_ticket += 1;
            p.latest.insert(key.to_owned(), Arc::clone(&new));
            p.queue.push(Write {
                ticket,
                origin: key.to_owned(),
                expected,
                new,
            });
            ticket
        };
        let committed = self.flush_until(ticket)?;
        Ok(if committed { Ok(body) } else { Err(changed()) })
    }

    /// Caches the durable row of `origin` (unless a request cached a newer one meanwhile)
    /// and returns the latest accepted checkpoint.
    fn load(&self, origin: &str) -> rusqlite::Result<Option<Arc<Cosigned>>> {
        let row = read(&lock(&self.conn), origin)?;
        let mut p = lock(&self.pending);
        Ok(match row {
            Some(row) => Some(Arc::clone(
                p.latest.entry(origin.to_owned()).or_insert(Arc::new(row)),
            )),
            None => p.latest.get(origin).cloned(),
        })
    }

    /// Waits until `ticket` is flushed, leading a flush of the whole queue when none is
    /// running; returns whether its write committed.
    fn flush_until(&self, ticket: u64) -> rusqlite::Result<bool> {
        let mut p = lock(&self.pending);
        loop {
            if let Some(ok) = p.outcomes.remove(&ticket) {
                return Ok(ok);
            }
            if !p.flushing {
                break;
            }
            p = self.flushed.wait(p).unwrap_or_else(PoisonError::into_inner);
        }
        // No flush is running and `ticket` has no outcome: it is in the queue. Lead.
        p.flushing = true;
        let writes = std::mem::take(&mut p.queue);
        drop(p);
        // Whatever happens below, even a panic, the batch gets outcomes and the waiters
        // are woken: a waiter must never be left waiting for a flush that ended.
        let mut flush = Flush {
            state: self,
            writes: &writes,
            applied: None,
        };
        let result = commit(&mut lock(&self.conn), &writes).map(|applied| {
            let own = writes
                .iter()
                .zip(&applied)
                .any(|(w, ok)| w.ticket == ticket && *ok);
            flush.applied = Some(applied);
            own
        });
        drop(flush);
        lock(&self.pending).outcomes.remove(&ticket);
        result
    }
}

/// A flush in progress: when dropped, it records the batch's outcomes (all failed unless
/// `applied` says which committed), ends the flush and wakes the waiters.
struct Flush<'a> {
    state: &'a WitnessState,
    writes: &'a [Write],
    applied: Option<Vec<bool>>,
}

impl Drop for Flush<'_> {
    fn drop(&mut self) {
        let mut p = lock(&self.state.pending);
        match &self.applied {
            Some(applied) => {
                for (w, ok) in self.writes.iter().zip(applied) {
                    if !ok {
                        // Another process moved the row: the file is the truth again.
                        p.latest.remove(&w.origin);
                    }
                    p.outcomes.insert(w.ticket, *ok);
                }
            }
            None => {
                // Nothing was written: forget every decision of this batch.
                p.latest.clear();
                for w in self.writes {
                    p.outcomes.insert(w.ticket, false);
                }
            }
        }
        p.flushing = false;
        drop(p);
        self.state.flushed.notify_all();
    }
}

/// The answer to a request that was decided but could not be recorded.
fn changed() -> Answer {
    Answer::Refused(
        503,
        "the witness could not record this checkpoint (its state changed meanwhile or a write failed); send it again".into(),
    )
}

/// Writes every decided checkpoint whose row is still as expected, in one durable
/// transaction; returns which were written.
///
/// `BEGIN IMMEDIATE` takes the write lock before anything is compared, so no other process
/// can move a row between the comparison and the write. The statements, `BEGIN` and
/// `COMMIT` included, are prepared once and cached: parsing them again on every commit
/// showed in profiles.
fn commit(conn: &mut Connection, writes: &[Write]) -> rusqlite::Result<Vec<bool>> {
    conn.prepare_cached("BEGIN IMMEDIATE")?.execute([])?;
    let result = apply(conn, writes).and_then(|applied| {
        conn.prepare_cached("COMMIT")?.execute([])?;
        Ok(applied)
    });
    if result.is_err() && !conn.is_autocommit() {
        // Nothing of this transaction is kept; the caller reports the first error.
        let _ = conn.execute_batch("ROLLBACK");
    }
    result
}

/// Inside the transaction: each write is one compare-and-swap statement, which changes
/// the row only if it still holds what the write was decided against (no row at all for
/// a log's first checkpoint).
fn apply(conn: &Connection, writes: &[Write]) -> rusqlite::Result<Vec<bool>> {
    let mut applied = Vec::with_capacity(writes.len());
    for w in writes {
        let size = stored_size(w.new.size);
        let root = w.new.root.as_bytes().as_slice();
        let changed = match &w.expected {
            None => conn
                .prepare_cached(
                    "INSERT INTO logs (origin, size, root, note) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (origin) DO NOTHING",
                )?
                .execute(params![w.origin, size, root, w.new.note])?,
            Some((old_size, old_root)) => conn
                .prepare_cached(
                    "UPDATE logs SET size = ?2, root = ?3, note = ?4
                     WHERE origin = ?1 AND size = ?5 AND root = ?6",
                )?
                .execute(params![
                    w.origin,
                    size,
                    root,
                    w.new.note,
                    stored_size(*old_size),
                    old_root.as_bytes().as_slice()
                ])?,
        };
        applied.push(changed == 1);
    }
    Ok(applied)
}

/// A tree size as the `size` column holds it (SQLite integers are signed; sizes above
/// 2^63 − 1 cannot occur in practice and are clamped the same way on every write).
fn stored_size(size: u64) -> i64 {
    i64::try_from(size).unwrap_or(i64::MAX)
}
