//! [`Retrying`]: the tile store every host writes through, which rides out short outages
//! of its backend (an object store answering 503, a dropped connection, a PUT that timed
//! out) instead of failing the batch at the first error.
//!
//! Why retrying is safe: writing a tile, bundle or checkpoint is idempotent (a later PUT of
//! the same path replaces it whole), and the sequencer still calls `publish_checkpoint`
//! only after `write_files` for everything the checkpoint covers returned `Ok`, so a retry
//! never publishes a checkpoint ahead of its tiles. Why it is bounded: a sequencer stuck
//! forever on a dead store answers nobody; after [`BUDGET`] the error goes to the
//! sequencer, which fails the batch (its submitters get an error, never a false receipt)
//! and rebuilds from the stores. The budget is also cut to half the sequencer's lease
//! ([`Retrying::within_lease`]): past that the sequencer may no longer commit what it is
//! writing, and a write retried later only widens the window in which a stale leader's
//! PUT could land over a tile the next leader wrote.

use std::sync::Arc;
use std::time::{Duration, Instant};

use statement::Digest;
use store::{StoreError, TileStore};

use crate::Shared;

/// The first wait after a failed attempt; each later wait doubles, up to [`MAX_BACKOFF`].
pub const FIRST_BACKOFF: Duration = Duration::from_millis(50);
/// The longest wait between two attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(2);
/// No attempt starts later than this after the first one.
pub const BUDGET: Duration = Duration::from_secs(30);

/// A [`TileStore`] that retries `write_files` and `publish_checkpoint` with exponential
/// backoff, counting every failed attempt in the host's metrics
/// (`detente_faults_total{kind="tile_write"}` and `{kind="checkpoint_publish"}`) and
/// logging it. Reads are not retried: a failed read is answered at once (a 5xx to a
/// client, which retries on its own).
pub struct Retrying {
    inner: Arc<dyn TileStore>,
    shared: Arc<Shared>,
    budget: Duration,
}

impl Retrying {
    /// Wraps `inner`, counting failures in `shared.metrics`.
    pub fn new(inner: Arc<dyn TileStore>, shared: Arc<Shared>) -> Retrying {
        Retrying {
            inner,
            shared,
            budget: BUDGET,
        }
    }

    /// Caps the retry budget at half of `lease`, the time a leader may go without renewing
    /// its lease before it stops sequencing (see `lease.rs`); never above [`BUDGET`].
    pub fn within_lease(mut self, lease: Duration) -> Retrying {
        self.budget = self.budget.min(lease / 2);
        self
    }

    /// Runs `attempt` until it succeeds, or until the budget is spent (then its last
    /// error). A bad path is the caller's mistake, never retried.
    fn retry(
        &self,
        kind: &'static str,
        mut attempt: impl FnMut() -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let started = Instant::now();
        let mut wait = FIRST_BACKOFF;
        let mut n = 0u32;
        loop {
            n = n.saturating_add(1);
            let error = match attempt() {
                Ok(()) => return Ok(()),
                Err(e @ StoreError::BadPath(_)) => return Err(e),
                Err(e) => e,
            };
            self.shared.metrics.fault(kind);
            let elapsed = started.elapsed();
            if elapsed + wait > self.budget {
                tracing::error!(error = %error, attempts = n, ?elapsed, kind, "tile store write failed; giving up");
                return Err(error);
            }
            tracing::warn!(error = %error, attempt = n, retry_in = ?wait, kind, "tile store write failed; retrying");
            std::thread::sleep(wait);
            wait = (wait * 2).min(MAX_BACKOFF);
        }
    }
}

impl TileStore for Retrying {
    fn write_files(&self, files: &[(String, Vec<u8>)]) -> Result<(), StoreError> {
        self.retry("tile_write", || self.inner.write_files(files))
    }

    fn publish_checkpoint(&self, note: &[u8]) -> Result<(), StoreError> {
        self.retry("checkpoint_publish", || self.inner.publish_checkpoint(note))
    }

    fn read(&self, path: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.read(path)
    }

    fn write_blob(&self, sha256: &Digest, bytes: &[u8]) -> Result<(), StoreError> {
        self.retry("tile_write", || self.inner.write_blob(sha256, bytes))
    }

    fn read_blob(&self, sha256: &Digest) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.read_blob(sha256)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    /// Fails the first `failures` writes, then writes nothing and succeeds.
    struct Flaky {
        failures: u32,
        calls: AtomicU32,
    }

    impl TileStore for Flaky {
        fn write_files(&self, _: &[(String, Vec<u8>)]) -> Result<(), StoreError> {
            if self.calls.fetch_add(1, Ordering::SeqCst) < self.failures {
                return Err(StoreError::ObjectTimeout { seconds: 1 });
            }
            Ok(())
        }
        fn publish_checkpoint(&self, note: &[u8]) -> Result<(), StoreError> {
            self.write_files(&[("checkpoint".into(), note.to_vec())])
        }
        fn read(&self, _: &str) -> Result<Option<Vec<u8>>, StoreError> {
            Ok(None)
        }
    }

    fn wrap(failures: u32, budget: Duration) -> (Retrying, Arc<Flaky>, Arc<Shared>) {
        let inner = Arc::new(Flaky {
            failures,
            calls: AtomicU32::new(0),
        });
        let shared = Arc::new(Shared::default());
        let mut r = Retrying::new(inner.clone(), shared.clone());
        r.budget = budget;
        (r, inner, shared)
    }

    #[test]
    fn retries_until_it_works_and_counts_each_failure() {
        let (r, inner, shared) = wrap(3, BUDGET);
        r.write_files(&[]).unwrap();
        assert_eq!(inner.calls.load(Ordering::SeqCst), 4);
        let metrics = shared.metrics.render();
        assert!(
            metrics.contains("detente_faults_total{kind=\"tile_write\"} 3"),
            "{metrics}"
        );
    }

    #[test]
    fn gives_up_after_its_budget() {
        let (r, inner, shared) = wrap(u32::MAX, Duration::from_millis(300));
        let started = Instant::now();
        assert!(matches!(
            r.publish_checkpoint(b"x"),
            Err(StoreError::ObjectTimeout { .. })
        ));
        assert!(started.elapsed() < Duration::from_secs(1));
        // 50 + 100 ms of waits fit in 300 ms; the next 200 ms would not.
        assert_eq!(inner.calls.load(Ordering::SeqCst), 3);
        let metrics = shared.metrics.render();
        assert!(
            metrics.contains("detente_faults_total{kind=\"checkpoint_publish\"} 3"),
            "{metrics}"
        );
    }
}
