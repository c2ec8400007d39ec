//! Start-up recovery (issues 4 and 9): the host compares the committed head (state store)
//! with the published checkpoint and the stored entries. It repairs the one known crash
//! window — a head committed but its checkpoint not yet published — and refuses to start,
//! saying exactly why, on anything else: a published checkpoint the state does not know,
//! a state that lost the log, a missing or altered entry bundle.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};

use common::{Client, Group, config, found, message, start};
use host::{Host, HostError};
use reqwest::StatusCode;

/// A log founded in a temporary directory, with `messages` statements posted after the
/// genesis; the host is stopped. Returns the directory guard, the host's data path and
/// the group (whose authors know where their chains are).
async fn log_with(messages: usize) -> (tempfile::TempDir, PathBuf, Group) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("host");
    let mut g = found(&data, &["cert-a", "cert-b"]);
    let host = start(&data).await;
    let client = Client::new(&host);
    for i in 0..messages {
        let (status, body) = client.post(&message(&mut g, i % 2, &format!("m{i}"))).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    host.stop().await;
    (dir, data, g)
}

/// The published checkpoint.
fn checkpoint(data: &Path) -> Vec<u8> {
    std::fs::read(data.join("tiles/checkpoint")).unwrap()
}

/// Copies the SQLite state (database, WAL and shared memory) from `data` to `to`.
fn copy_state(data: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for f in ["state.sqlite", "state.sqlite-wal", "state.sqlite-shm"] {
        if data.join(f).exists() {
            std::fs::copy(data.join(f), to.join(f)).unwrap();
        }
    }
}

/// Restores what `copy_state` saved (removing WAL files it did not have).
fn restore_state(from: &Path, data: &Path) {
    for f in ["state.sqlite", "state.sqlite-wal", "state.sqlite-shm"] {
        let _ = std::fs::remove_file(data.join(f));
        if from.join(f).exists() {
            std::fs::copy(from.join(f), data.join(f)).unwrap();
        }
    }
}

/// The host refuses to start with a `Corrupt` error whose message contains `expected`.
async fn refuses(data: &Path, expected: &str) {
    match Host::start(config(data)).await {
        Err(HostError::Corrupt(m)) => assert!(m.contains(expected), "{m}"),
        Err(e) => panic!("expected a refusal naming {expected:?}, got {e}"),
        Ok(h) => {
            h.stop().await;
            panic!("the host started; it should have refused ({expected})")
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn committed_but_unpublished_checkpoint_is_republished() {
    let (_dir, data, mut g) = log_with(0).await;
    let old = checkpoint(&data);
    let host = start(&data).await;
    let (status, _) = Client::new(&host).post(&message(&mut g, 1, "later")).await;
    assert_eq!(status, StatusCode::OK);
    host.stop().await;
    let committed = checkpoint(&data);
    assert_ne!(old, committed);
    // The crash window: the state committed the new head, the old checkpoint is still out.
    std::fs::write(data.join("tiles/checkpoint"), &old).unwrap();
    let host = start(&data).await;
    assert_eq!(
        checkpoint(&data),
        committed,
        "the committed checkpoint is re-published"
    );
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkpoint_emptied_or_torn_by_a_power_loss_is_republished() {
    // The directory store replaces the checkpoint without an fsync (its durable copy is
    // the committed head), so a power loss can leave the renamed file empty or cut short.
    let (_dir, data, _) = log_with(1).await;
    let committed = checkpoint(&data);
    for torn in [Vec::new(), committed[..committed.len() / 2].to_vec()] {
        std::fs::write(data.join("tiles/checkpoint"), &torn).unwrap();
        let host = start(&data).await;
        assert_eq!(checkpoint(&data), committed);
        host.stop().await;
    }
    // A signed note of another log is not torn: that is refused, as before.
    let other = tlog::note::Signer::from_seed(
        tlog::note::KeyName::new("other.example/log").unwrap(),
        &[7; 32],
    );
    let foreign = tlog::note::Note::sign(
        "other.example/log\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
        &[&other],
    )
    .unwrap()
    .to_bytes();
    std::fs::write(data.join("tiles/checkpoint"), &foreign).unwrap();
    refuses(&data, "the published checkpoint is not this log's").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn published_checkpoint_beyond_the_state_is_refused() {
    let (dir, data, mut g) = log_with(2).await;
    let saved = dir.path().join("saved");
    copy_state(&data, &saved);
    let host = start(&data).await;
    let (status, _) = Client::new(&host).post(&message(&mut g, 1, "later")).await;
    assert_eq!(status, StatusCode::OK);
    host.stop().await;
    // The state goes back in time (a restored backup); the tiles do not.
    restore_state(&saved, &data);
    refuses(&data, "beyond the committed").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_state_is_refused() {
    let (_dir, data, _) = log_with(2).await;
    restore_state(Path::new("/nonexistent"), &data);
    refuses(&data, "belong to different logs").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_bundle_is_refused() {
    let (_dir, data, _) = log_with(2).await;
    std::fs::remove_file(data.join("tiles/tile/entries/000.p/3")).unwrap();
    refuses(&data, "tile/entries/000.p/3 is missing from the tile store").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn altered_entry_is_refused() {
    let (_dir, data, _) = log_with(2).await;
    let path = data.join("tiles/tile/entries/000.p/3");
    let mut bundle = std::fs::read(&path).unwrap();
    // A byte inside the last entry's text (not its length prefix).
    let at = bundle.len() - 10;
    bundle[at] ^= 0x01;
    std::fs::write(&path, bundle).unwrap();
    match Host::start(config(&data)).await {
        Err(HostError::Corrupt(m)) => {
            assert!(m.contains("entry 2") || m.contains("hash to"), "{m}")
        }
        Err(e) => panic!("expected a refusal, got {e}"),
        Ok(h) => {
            h.stop().await;
            panic!("the host started on an altered entry")
        }
    }
}
