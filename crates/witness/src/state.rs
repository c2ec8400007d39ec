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
//!    requests that queued meanwhile sleep (each parked on its own `Slot`) until the
//!    leader wakes each of its batch with the outcome, and the first of the next batch to
//!    lead it: every request wakes once. (Waiting on the connection's lock instead let a
//!    fresh request commit alone between two waiters, one fsync each; one condition
//!    variable for all woke every waiter at every flush, half of them for nothing.)
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
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
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

/// Where a queued request sleeps and learns what became of its write.
struct Slot {
    /// The request's thread, woken by whoever changes `state`.
    thread: std::thread::Thread,
    /// [`WAITING`], [`LEAD`], [`COMMITTED`] or [`FAILED`].
    state: AtomicU8,
}

/// The write is queued; a flush will take it.
const WAITING: u8 = 0;
/// The request is to lead the next flush.
const LEAD: u8 = 1;
/// The write committed.
const COMMITTED: u8 = 2;
/// The write was not made: the row had moved, or the transaction failed.
const FAILED: u8 = 3;

impl Slot {
    fn set(&self, state: u8) {
        self.state.store(state, Ordering::Release);
        self.thread.unpark();
    }
}

/// A decided checkpoint waiting to be made durable.
struct Write {
    slot: Arc<Slot>,
    origin: String,
    /// What the log's row must still hold (size, root) for the write to apply.
    expected: Option<(u64, tlog::Hash)>,
    new: Arc<Cosigned>,
}

/// The in-memory side: the latest accepted checkpoint per log and the queue.
#[derive(Default)]
struct Pending {
    /// Shared with the queue, so that accepting a checkpoint does not copy its note.
    latest: HashMap<String, Arc<Cosigned>>,
    queue: Vec<Write>,
    /// A request leads a flush, or has been told to ([`LEAD`]). While this is true, the
    /// leader (the current one, or the one it names when it is done) takes every write
    /// in the queue; while it is false, the queue is empty.
    flushing: bool,
}

/// The witness's state in SQLite.
pub struct WitnessState {
    /// The connection; only the flush leader and the first read of a log take it.
    conn: Mutex<Connection>,
    pending: Mutex<Pending>,
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
        let slot = Arc::new(Slot {
            thread: std::thread::current(),
            state: AtomicU8::new(WAITING),
        });
        {
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
            p.latest.insert(key.to_owned(), Arc::clone(&new));
            p.queue.push(Write {
                slot: Arc::clone(&slot),
                origin: key.to_owned(),
                expected,
                new,
            });
            if !p.flushing {
                p.flushing = true;
                slot.state.store(LEAD, Ordering::Relaxed);
            }
        }
        let committed = self.wait(&slot)?;
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

    /// Sleeps until the write of `slot` is flushed, leading a flush when told to; returns
    /// whether the write committed.
    fn wait(&self, slot: &Slot) -> rusqlite::Result<bool> {
        loop {
            match slot.state.load(Ordering::Acquire) {
                WAITING => std::thread::park(),
                LEAD => {
                    // Reset first: the flush below sets this slot's outcome.
                    slot.state.store(WAITING, Ordering::Relaxed);
                    self.flush()?;
                }
                state => return Ok(state == COMMITTED),
            }
        }
    }

    /// Commits every queued write in one transaction (see the module docs). `Err` if the
    /// transaction failed; then every write of the batch is told it failed.
    fn flush(&self) -> rusqlite::Result<()> {
        let writes = std::mem::take(&mut lock(&self.pending).queue);
        // Whatever happens below, even a panic, the batch gets outcomes and the next
        // leader is named: no request may be left asleep.
        let mut flush = Flush {
            state: self,
            writes: &writes,
            applied: None,
        };
        let result = commit(&mut lock(&self.conn), &writes);
        result.map(|applied| flush.applied = Some(applied))
    }
}

/// A flush in progress: when dropped, it forgets what the file refused, names the next
/// leader if requests queued meanwhile, and wakes each request of the batch with its
/// outcome (all failed unless `applied` says which committed).
struct Flush<'a> {
    state: &'a WitnessState,
    writes: &'a [Write],
    applied: Option<Vec<bool>>,
}

impl Drop for Flush<'_> {
    fn drop(&mut self) {
        let next = {
            let mut p = lock(&self.state.pending);
            match &self.applied {
                Some(applied) => {
                    for (w, ok) in self.writes.iter().zip(applied) {
                        if !ok {
                            // Another process moved the row: the file is the truth again.
                            p.latest.remove(&w.origin);
                        }
                    }
                }
                // Nothing was written: forget every decision of this batch.
                None => p.latest.clear(),
            }
            let next = p.queue.first().map(|w| Arc::clone(&w.slot));
            p.flushing = next.is_some();
            next
        };
        if let Some(next) = next {
            next.set(LEAD);
        }
        for (i, w) in self.writes.iter().enumerate() {
            let ok = self
                .applied
                .as_ref()
                .and_then(|a| a.get(i).copied())
                .unwrap_or(false);
            w.slot.set(if ok { COMMITTED } else { FAILED });
        }
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
