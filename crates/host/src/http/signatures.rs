//! Signature checks for small requests, gathered across requests into batches.
//!
//! A request of one statement has one signature: checked alone it costs a full
//! double-base scalar multiplication, while the statements' rule checks 64 together for
//! about a third of that each ([`statement::signature::verify_each`]). So small requests
//! hand their statements to one thread, which takes whatever has queued, waits at most
//! [`GATHER`] for more (up to [`statement::signature::CHUNK`]), checks them together and
//! answers each. The verdicts are exactly those of checking each alone: a chunk that
//! fails is checked one by one.
//!
//! Waiting costs a lone statement at most [`GATHER`], a small part of the time the
//! sequencer then takes to make it durable (an fsync or more).

use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::time::{Duration, Instant};

use ed25519_dalek::VerifyingKey;
use statement::Signed;
use statement::signature::{CHUNK, keep_verified};
use tokio::sync::oneshot;

/// How long the thread waits for more statements after the first of a batch.
pub(crate) const GATHER: Duration = Duration::from_micros(500);

/// A statement and its author's current key, and where its verdict goes: the key again
/// if the signature verifies under it, `None` if not.
type Check = (
    Signed,
    VerifyingKey,
    oneshot::Sender<(Signed, Option<VerifyingKey>)>,
);

/// The queue to the signature thread; the thread stops when the queue is dropped.
pub(crate) struct SignatureQueue {
    tx: Sender<Check>,
}

impl SignatureQueue {
    /// Starts the thread, named `signatures`.
    pub(crate) fn start() -> std::io::Result<SignatureQueue> {
        let (tx, rx) = channel();
        std::thread::Builder::new()
            .name("signatures".into())
            .spawn(move || run(&rx))?;
        Ok(SignatureQueue { tx })
    }

    /// Checks `signed`'s signature under `key`; gives back the statement with `Some(key)`
    /// if it verifies and with `None` if it does not. `None` for the whole answer only if
    /// the thread is gone (it panicked).
    pub(crate) async fn check(
        &self,
        signed: Signed,
        key: VerifyingKey,
    ) -> Option<(Signed, Option<VerifyingKey>)> {
        let (reply, verdict) = oneshot::channel();
        self.tx.send((signed, key, reply)).ok()?;
        verdict.await.ok()
    }
}

/// Takes batches off the queue until every sender is gone.
fn run(rx: &Receiver<Check>) {
    while let Ok(first) = rx.recv() {
        let deadline = Instant::now() + GATHER;
        let mut batch = vec![first];
        while batch.len() < CHUNK {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(check) => batch.push(check),
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => break,
            }
        }
        answer(batch);
    }
}

/// Checks a batch together and sends each statement back with its verdict.
fn answer(batch: Vec<Check>) {
    let (mut items, replies): (Vec<Result<_, ()>>, Vec<_>) = batch
        .into_iter()
        .map(|(signed, key, reply)| (Ok((signed, Some(key))), reply))
        .unzip();
    keep_verified(&mut items);
    for (item, reply) in items.into_iter().zip(replies) {
        if let Ok(verdict) = item {
            let _ = reply.send(verdict);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use ed25519_dalek::SigningKey;
    use statement::build::{Author, Draft};
    use statement::{MemberId, Timestamp};

    /// Many statements checked at once, some with a key that did not sign them: each gets
    /// its own verdict, whatever batch it fell into.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_statement_gets_its_own_verdict() {
        let queue = std::sync::Arc::new(SignatureQueue::start().unwrap());
        let key = SigningKey::from_bytes(&[7; 32]);
        let mut author = Author::new("g", MemberId::new("a.example").unwrap(), key.clone());
        let other = SigningKey::from_bytes(&[8; 32]).verifying_key();
        let time = Timestamp::from_unix_saturating(1_800_000_000);
        let mut tasks = Vec::new();
        for seq in 1..=300u64 {
            let queue = queue.clone();
            let s = author.sign(Draft::message("hello"), &time).unwrap();
            assert_eq!(s.statement().seq, seq);
            let key = if seq % 7 == 3 {
                other
            } else {
                key.verifying_key()
            };
            tasks.push(tokio::spawn(async move {
                let (back, verdict) = queue.check(s, key).await.unwrap();
                (seq, back.statement().seq, verdict.is_some())
            }));
        }
        for task in tasks {
            let (seq, back, verified) = task.await.unwrap();
            assert_eq!(back, seq, "a verdict came back with another statement");
            assert_eq!(verified, seq % 7 != 3, "statement {seq}");
        }
    }
}
