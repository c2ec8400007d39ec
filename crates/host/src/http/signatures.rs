//! Parsing and signature checks of submitted statements, on a few long-lived threads that
//! gather requests into batches.
//!
//! A request of one statement has one signature: checked alone it costs a full
//! double-base scalar multiplication, while the statements' rule checks 64 together for
//! about a third of that each ([`statement::signature::verify_each`]). So requests go to
//! these threads, one per core, which take whatever has queued, wait at most [`GATHER`]
//! for more (up to [`CHUNK`] statements), check them together and answer each request.
//! The verdicts are exactly those of checking each alone: a chunk that fails is checked
//! one by one.
//!
//! Why not the runtime's blocking pool: a batch check allocates about 200 KB of lookup
//! tables, and spread over the pool's many short-lived threads that memory was returned
//! to the system and faulted in again (zeroed by the kernel) batch after batch, about a
//! tenth of all CPU in the batched benchmark. A few long-lived threads keep reusing it.
//! Requests of more than [`CHUNK`] statements still go to the blocking pool (see
//! `submit::prepare`), so that one member's large request, whose bad signatures may
//! have to be checked one by one, never holds these threads for longer than one batch.
//!
//! Waiting costs a lone statement at most [`GATHER`], a small part of the time the
//! sequencer then takes to make it durable (an fsync or more).

use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde_json::Value;
use statement::signature::{CHUNK, keep_verified};
use tokio::sync::oneshot;

use super::submit::Prepared;

/// How long a thread waits for more statements after the first request of a batch.
const GATHER: Duration = Duration::from_micros(500);

/// Parses one request's statements, each with its author's current key if any.
pub(crate) type Parse = dyn Fn(Vec<Value>) -> Vec<Prepared> + Send + Sync;

/// One request's statements and where their verdicts go.
type Job = (Vec<Value>, oneshot::Sender<Vec<Prepared>>);

/// The queue to the threads; they stop when it is dropped.
pub(crate) struct SignatureQueue {
    tx: Sender<Job>,
}

impl SignatureQueue {
    /// Starts `threads` threads named `signatures`, parsing with `parse`.
    pub(crate) fn start(threads: usize, parse: Arc<Parse>) -> std::io::Result<SignatureQueue> {
        let (tx, rx) = channel();
        let rx = Arc::new(Mutex::new(rx));
        for _ in 0..threads.max(1) {
            let (rx, parse) = (rx.clone(), parse.clone());
            std::thread::Builder::new()
                .name("signatures".into())
                .spawn(move || run(&rx, parse.as_ref()))?;
        }
        Ok(SignatureQueue { tx })
    }

    /// Parses `items` and checks each signature under its author's current key: the key
    /// is kept with a statement that verifies and dropped (`None`) from one that does
    /// not. `None` for the whole answer only if the threads are gone (they panicked).
    pub(crate) async fn check(&self, items: Vec<Value>) -> Option<Vec<Prepared>> {
        let (reply, verdicts) = oneshot::channel();
        self.tx.send((items, reply)).ok()?;
        verdicts.await.ok()
    }
}

/// Takes batches off the queue until every sender is gone.
fn run(rx: &Mutex<Receiver<Job>>, parse: &Parse) {
    while let Some(jobs) = gather(rx) {
        answer(jobs, parse);
    }
}

/// The next requests to check together: the first to arrive, then whatever follows
/// within [`GATHER`] until they hold [`CHUNK`] statements. `None` once the queue is gone.
fn gather(rx: &Mutex<Receiver<Job>>) -> Option<Vec<Job>> {
    // A thread that panicked holding the lock left the receiver as it was.
    let rx = rx.lock().unwrap_or_else(PoisonError::into_inner);
    let first = rx.recv().ok()?;
    let deadline = Instant::now() + GATHER;
    let mut statements = first.0.len();
    let mut jobs = vec![first];
    while statements < CHUNK {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(job) => {
                statements += job.0.len();
                jobs.push(job);
            }
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => break,
        }
    }
    Some(jobs)
}

/// Parses and checks the requests' statements together, and answers each request.
fn answer(jobs: Vec<Job>, parse: &Parse) {
    let mut lengths = Vec::with_capacity(jobs.len());
    let mut replies = Vec::with_capacity(jobs.len());
    let mut all = Vec::new();
    for (items, reply) in jobs {
        let parsed = parse(items);
        lengths.push(parsed.len());
        replies.push(reply);
        all.extend(parsed);
    }
    keep_verified(&mut all);
    let mut all = all.into_iter();
    for (n, reply) in lengths.into_iter().zip(replies) {
        let _ = reply.send(all.by_ref().take(n).collect());
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::http::ApiError;
    use ed25519_dalek::SigningKey;
    use statement::build::{Author, Draft};
    use statement::{MemberId, Signed, Timestamp};

    /// Requests of one to five statements checked at once, some statements signed with a
    /// key that is not the one the parser hands out: each request gets its own statements
    /// back in order, each with its own verdict, whatever batch it fell into.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_statement_gets_its_own_verdict() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let impostor = SigningKey::from_bytes(&[8; 32]);
        let current = key.verifying_key();
        let parse: Arc<Parse> = Arc::new(move |items: Vec<Value>| {
            items
                .into_iter()
                .map(|v| {
                    Signed::from_value(v)
                        .map(|s| (s, Some(current)))
                        .map_err(|e| ApiError::BadRequest(e.to_string()))
                })
                .collect()
        });
        let queue = Arc::new(SignatureQueue::start(2, parse).unwrap());
        let member = MemberId::new("a.example").unwrap();
        let mut author = Author::new("g", member.clone(), key);
        let mut forger = Author::new("g", member, impostor);
        let time = Timestamp::from_unix_saturating(1_800_000_000);
        let mut tasks = Vec::new();
        for request in 0..120u64 {
            let mut items = Vec::new();
            let mut expected = Vec::new();
            for i in 0..(request % 5 + 1) {
                let forged = (request + i) % 7 == 3;
                let signer = if forged { &mut forger } else { &mut author };
                let s = signer.sign(Draft::message("hello"), &time).unwrap();
                expected.push((s.id(), !forged));
                items.push(s.to_value());
            }
            let queue = queue.clone();
            tasks.push(tokio::spawn(async move {
                (expected, queue.check(items).await.unwrap())
            }));
        }
        for task in tasks {
            let (expected, got) = task.await.unwrap();
            let got: Vec<_> = got
                .into_iter()
                .map(|p| {
                    let (s, key) = p.unwrap();
                    (s.id(), key.is_some())
                })
                .collect();
            assert_eq!(got, expected);
        }
    }
}
