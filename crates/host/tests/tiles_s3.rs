//! The host spread over the services issue 9 names: its state in PostgreSQL
//! (`DETENTE_TEST_POSTGRES`, a schema of its own) and its read path in an S3-compatible
//! bucket (`DETENTE_TEST_S3`, a prefix of its own), driven over HTTP and restarted.
//! Without those variables the test fails saying how to start the servers, unless
//! `DETENTE_SKIP_POSTGRES=1` / `DETENTE_SKIP_S3=1` skip it on purpose (`.ci/deps` starts
//! both).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
#[path = "../../store/tests/common/postgres.rs"]
mod pg;
#[path = "../../store/tests/common/s3.rs"]
mod s3;

use common::{Client, Member, config, found, message, open_checkpoint};
use host::Host;
use reqwest::StatusCode;
use store::{ObjectTiles, TileStore};

async fn read(c: &Client, who: &Member, path: &str) -> Vec<u8> {
    let r = c.get(who, path).await;
    assert_eq!(r.status(), StatusCode::OK, "{path}");
    r.bytes().await.unwrap().to_vec()
}

/// Every tile and the entry bundle the tree of `leaves` needs, over HTTP, byte-identical
/// to what the tlog crate computes, and the checkpoint signed over their root.
async fn check_read_path(c: &Client, who: &Member, vkey: &str, leaves: &[Vec<u8>]) -> String {
    let note = String::from_utf8(read(c, who, "/checkpoint").await).unwrap();
    let cp = open_checkpoint(&note, vkey);
    let hashes: Vec<tlog::Hash> = leaves.iter().map(|l| tlog::leaf_hash(l)).collect();
    assert_eq!(cp.size(), leaves.len() as u64);
    assert_eq!(cp.root(), tlog::merkle::root_of(&hashes));
    let update = tlog::tile::TileEdge::new().append(&hashes).unwrap();
    for (tile, data) in &update.tiles {
        assert_eq!(&read(c, who, &format!("/{}", tile.path())).await, data);
    }
    let bundle = read(c, who, &format!("/tile/entries/000.p/{}", leaves.len())).await;
    assert_eq!(bundle, tlog::tile::encode_bundle(leaves).unwrap());
    note
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_on_postgres_and_object_storage_survives_a_restart() {
    let Some(schema) = pg::PgSchema::fresh("tiles_s3") else {
        return;
    };
    let Some(url) = s3::fresh_url("host") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("host");
    std::fs::create_dir_all(&data).unwrap();
    let mut g = found(&data, &["cert-a", "cert-b"]);
    let mut cfg = config(&data);
    cfg.state = Some(schema.url.parse().unwrap());
    cfg.tiles = Some(url.parse().unwrap());

    let host = Host::start(cfg.clone()).await.unwrap();
    let c = Client::new(&host);
    let mut leaves = vec![g.genesis.leaf().to_vec()];
    for i in 0..30 {
        let s = message(&mut g, i % 2, &format!("message {i}"));
        let (status, r) = c.post(&s).await;
        assert_eq!(status, StatusCode::OK, "{r}");
        assert_eq!(r["index"].as_u64(), Some(leaves.len() as u64));
        leaves.push(s.leaf().to_vec());
    }
    let batch: Vec<_> = (0..20)
        .map(|i| message(&mut g, 0, &format!("batch {i}")))
        .collect();
    let (status, _) = c.post_batch(&batch).await;
    assert_eq!(status, StatusCode::OK);
    leaves.extend(batch.iter().map(|s| s.leaf().to_vec()));
    let before = check_read_path(&c, &g.members[0], &g.vkey, &leaves).await;

    // The bucket holds the read path, and nothing went to the local directory.
    let bucket = tokio::task::spawn_blocking({
        let url = url.clone();
        move || ObjectTiles::open(&url).unwrap().read("checkpoint").unwrap()
    })
    .await
    .unwrap();
    assert_eq!(bucket.as_deref(), Some(before.as_bytes()));
    assert!(!data.join("tiles").exists());
    assert!(!data.join("state.sqlite").exists());
    host.stop().await;

    // Restarted on the same state and bucket: the same log, and it grows from there.
    let host = Host::start(cfg).await.unwrap();
    let c = Client::new(&host);
    assert_eq!(
        String::from_utf8(read(&c, &g.members[1], "/checkpoint").await).unwrap(),
        before
    );
    let s = message(&mut g, 1, "after the restart");
    let (status, r) = c.post(&s).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(r["index"].as_u64(), Some(leaves.len() as u64));
    // A retry is recognised from PostgreSQL's dedup index.
    let (_, again) = c.post(&batch[3]).await;
    assert_eq!(again["duplicate"], true);
    leaves.push(s.leaf().to_vec());
    check_read_path(&c, &g.members[1], &g.vkey, &leaves).await;
    host.stop().await;
}
