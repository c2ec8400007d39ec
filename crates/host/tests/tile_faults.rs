//! The host over a tile store that fails: a wrapper around [`FsTiles`] that makes some
//! writes fail outright, some fail after writing part of the batch (as a batch of PUTs
//! does when one of them fails), and some fail only after hanging (as a PUT that times
//! out does), and that fails some checkpoint publications. The host retries them
//! (`host::retry`); the test checks what must hold whatever the store does:
//!
//! - every statement the host answered with an index is in the log at that index;
//! - a checkpoint is never published while a tile or entry bundle its tree needs is
//!   missing (checked by the wrapper at every `publish_checkpoint`, with the tlog crate's
//!   tile paths);
//! - `/metrics` counts every failed attempt.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Client, config, found, message};
use host::Host;
use reqwest::StatusCode;
use store::{FsTiles, StoreError, TileStore};

/// How long a "hung" write blocks before it fails, as a timed-out PUT would.
const HANG: Duration = Duration::from_millis(400);

/// A tile store that fails every third `write_files` call and every fourth
/// `publish_checkpoint` call, and checks every checkpoint it is asked to publish.
struct Faulty {
    inner: FsTiles,
    writes: AtomicU64,
    publishes: AtomicU64,
    failed_writes: AtomicU64,
    failed_publishes: AtomicU64,
    /// What was wrong at each publication, if anything.
    violations: Mutex<Vec<String>>,
}

impl Faulty {
    fn new(inner: FsTiles) -> Faulty {
        Faulty {
            inner,
            writes: AtomicU64::new(0),
            publishes: AtomicU64::new(0),
            failed_writes: AtomicU64::new(0),
            failed_publishes: AtomicU64::new(0),
            violations: Mutex::default(),
        }
    }

    fn injected(&self, kind: &str) -> StoreError {
        StoreError::Corrupt(format!("injected {kind} failure"))
    }

    /// The paths of every tile and entry bundle the tree of `size` needs that the inner
    /// store does not hold.
    fn missing_for(&self, size: u64) -> Vec<String> {
        let tiles = tlog::tile::tiles_for_size(size).map(|t| t.path());
        let bundles = tlog::tile::bundles_for_size(size).map(|b| b.path());
        tiles
            .chain(bundles)
            .filter(|p| self.inner.read(p).unwrap().is_none())
            .collect()
    }
}

/// The tree size a checkpoint note states (its second line, C2SP tlog-checkpoint).
fn checkpoint_size(note: &[u8]) -> u64 {
    let text = std::str::from_utf8(note).unwrap();
    text.lines().nth(1).unwrap().parse().unwrap()
}

impl TileStore for Faulty {
    fn write_files(&self, files: &[(String, Vec<u8>)]) -> Result<(), StoreError> {
        let n = self.writes.fetch_add(1, Ordering::SeqCst);
        if n % 3 != 1 {
            return self.inner.write_files(files);
        }
        self.failed_writes.fetch_add(1, Ordering::SeqCst);
        match (n / 3) % 3 {
            // Fails before writing anything.
            0 => {}
            // Writes the first half of the batch, then fails.
            1 => self.inner.write_files(&files[..files.len() / 2])?,
            // Hangs, then fails (a timeout).
            _ => std::thread::sleep(HANG),
        }
        Err(self.injected("write"))
    }

    fn publish_checkpoint(&self, note: &[u8]) -> Result<(), StoreError> {
        let missing = self.missing_for(checkpoint_size(note));
        if !missing.is_empty() {
            self.violations.lock().unwrap().push(format!(
                "checkpoint of size {} published while {missing:?} are missing",
                checkpoint_size(note)
            ));
        }
        if self.publishes.fetch_add(1, Ordering::SeqCst) % 4 == 3 {
            self.failed_publishes.fetch_add(1, Ordering::SeqCst);
            return Err(self.injected("publish"));
        }
        self.inner.publish_checkpoint(note)
    }

    fn read(&self, path: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.read(path)
    }
}

/// The value of one labelled counter in a Prometheus text exposition.
fn counter(metrics: &str, series: &str) -> u64 {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_writes_lose_nothing_and_never_publish_ahead_of_the_tiles() {
    let dir = tempfile::tempdir().unwrap();
    let mut g = found(dir.path(), &["cert-a", "cert-b"]);
    let faulty = Arc::new(Faulty::new(
        FsTiles::open(dir.path().join("tiles")).unwrap(),
    ));
    let host = Host::start_with_tiles(config(dir.path()), Some(faulty.clone()))
        .await
        .unwrap();
    let c = Arc::new(Client::new(&host));

    // Two members post concurrently (each in its own order, as seq requires), so that
    // batches hold one statement or several.
    let mut tasks = Vec::new();
    for member in 0..2 {
        let statements: Vec<_> = (0..25)
            .map(|i| message(&mut g, member, &format!("{member}: {i}")))
            .collect();
        let c = c.clone();
        tasks.push(tokio::spawn(async move {
            let mut answered = Vec::new();
            for s in statements {
                let (status, r) = c.post(&s).await;
                assert_eq!(status, StatusCode::OK, "{r}");
                answered.push((r["index"].as_u64().unwrap(), s.leaf().to_vec()));
            }
            answered
        }));
    }
    let mut answered = Vec::new();
    for t in tasks {
        answered.extend(t.await.unwrap());
    }

    // Faults were injected, on both paths.
    let failed_writes = faulty.failed_writes.load(Ordering::SeqCst);
    let failed_publishes = faulty.failed_publishes.load(Ordering::SeqCst);
    assert!(failed_writes >= 3, "{failed_writes}");
    assert!(failed_publishes >= 3, "{failed_publishes}");

    // Every answered statement is in the published log at its index.
    let note = c
        .get(&g.members[0], "/checkpoint")
        .await
        .text()
        .await
        .unwrap();
    let size = checkpoint_size(note.as_bytes());
    assert_eq!(size, 51);
    let mut entries = Vec::new();
    for bundle in tlog::tile::bundles_for_size(size) {
        let data = faulty.inner.read(&bundle.path()).unwrap().unwrap();
        let parsed = tlog::tile::parse_bundle(bundle, &data).unwrap();
        entries.extend(parsed.into_iter().map(<[u8]>::to_vec));
    }
    for (index, leaf) in &answered {
        assert_eq!(entries.get(*index as usize), Some(leaf), "entry {index}");
    }

    // No checkpoint ever went out ahead of its tiles.
    assert_eq!(*faulty.violations.lock().unwrap(), Vec::<String>::new());

    // Every failed attempt is counted.
    let metrics = c.get(&g.members[0], "/metrics").await.text().await.unwrap();
    assert_eq!(
        counter(&metrics, "detente_faults_total{kind=\"tile_write\"}"),
        failed_writes,
        "{metrics}"
    );
    assert_eq!(
        counter(
            &metrics,
            "detente_faults_total{kind=\"checkpoint_publish\"}"
        ),
        failed_publishes,
        "{metrics}"
    );
    host.stop().await;
}
