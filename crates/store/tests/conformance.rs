//! The storage conformance suite: every contract written in the `TileStore` and
//! `StateStore` doc comments, run against each backend: one `#[test]` per contract and
//! backend. A new state backend adds a fixture under `backends` and one
//! `state_store_suite!` line.
//!
//! The PostgreSQL tests need a server: set `DETENTE_TEST_POSTGRES` to its URL (each test
//! gets a schema of its own, so they run in parallel). Without it they fail and say how to
//! start one, unless `DETENTE_SKIP_POSTGRES=1` skips them explicitly. Likewise the object
//! store tests need a bucket: `DETENTE_TEST_S3` (each test writes under a prefix of its
//! own), or `DETENTE_SKIP_S3=1`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Barrier};
use std::time::Duration;

use statement::Digest;
use store::{
    FsTiles, Head, Lease, ObjectTiles, PostgresState, SqliteState, StateStore, StoreError,
    TileStore,
};

mod common {
    pub mod postgres;
    pub mod s3;
}

/// Every `TileStore` contract.
pub fn tile_store_suite(store: &dyn TileStore) {
    // Not found is Ok(None).
    assert_eq!(store.read("checkpoint").unwrap(), None);
    assert_eq!(store.read("tile/0/000").unwrap(), None);

    // Written files read back whole, in nested tlog-tiles paths.
    let files = vec![
        ("tile/0/000".to_owned(), vec![1u8; 8192]),
        ("tile/0/x001/x234/067.p/5".to_owned(), vec![2u8; 160]),
        (
            "tile/entries/000.p/3".to_owned(),
            b"\x00\x01a\x00\x01b\x00\x01c".to_vec(),
        ),
    ];
    store.write_files(&files).unwrap();
    for (path, bytes) in &files {
        assert_eq!(store.read(path).unwrap().as_ref(), Some(bytes), "{path}");
    }

    // Overwrites replace.
    store
        .write_files(&[("tile/0/000".to_owned(), vec![3u8; 8192])])
        .unwrap();
    assert_eq!(store.read("tile/0/000").unwrap(), Some(vec![3u8; 8192]));

    // The checkpoint is replaced atomically.
    store.publish_checkpoint(b"one\n").unwrap();
    store.publish_checkpoint(b"two\n").unwrap();
    assert_eq!(store.read("checkpoint").unwrap(), Some(b"two\n".to_vec()));

    // Blobs by hash.
    let blob = b"a large STIX bundle".to_vec();
    let sha = Digest::of(&blob);
    assert_eq!(store.read_blob(&sha).unwrap(), None);
    store.write_blob(&sha, &blob).unwrap();
    assert_eq!(store.read_blob(&sha).unwrap(), Some(blob));

    // Nothing outside the layout, in either direction.
    for bad in [
        "../etc/passwd",
        "/etc/passwd",
        "tile/0/1",
        "tile/00/000",
        "blob/XYZ",
        "checkpoint/x",
        "",
    ] {
        assert!(
            matches!(store.read(bad), Err(StoreError::BadPath(_))),
            "{bad}"
        );
        assert!(
            matches!(
                store.write_files(&[(bad.to_owned(), vec![])]),
                Err(StoreError::BadPath(_))
            ),
            "{bad}"
        );
    }
}

fn head(size: u64) -> Head {
    Head {
        size,
        root: tlog::Hash([size as u8; 32]),
        checkpoint: format!("cp {size}\n").into_bytes(),
    }
}

fn id(i: u64) -> Digest {
    Digest::of(&i.to_be_bytes())
}

/// Opens another handle on the same store, as another process would.
type Open<'a> = &'a dyn Fn() -> Box<dyn StateStore>;

/// Not found is `Ok(None)`; a commit reads back, ids and head together.
fn not_found_then_commit(open: Open) {
    let store = open();
    assert_eq!(store.head().unwrap(), None);
    assert_eq!(store.index_of(&id(0)).unwrap(), None);
    store
        .commit(0, &head(2), &[(id(0), 0), (id(1), 1)])
        .unwrap();
    assert_eq!(store.head().unwrap(), Some(head(2)));
    assert_eq!(store.index_of(&id(1)).unwrap(), Some(1));
    assert_eq!(store.index_of(&id(2)).unwrap(), None);
}

/// A stale expected size is a conflict naming the size found, and changes nothing.
fn stale_commit_conflicts(open: Open) {
    let store = open();
    store
        .commit(0, &head(2), &[(id(0), 0), (id(1), 1)])
        .unwrap();
    match store.commit(0, &head(3), &[(id(2), 2)]) {
        Err(StoreError::Conflict {
            expected: 0,
            found: 2,
        }) => {}
        other => panic!("expected a conflict, got {other:?}"),
    }
    match store.commit(5, &head(6), &[(id(5), 5)]) {
        Err(StoreError::Conflict {
            expected: 5,
            found: 2,
        }) => {}
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(store.index_of(&id(2)).unwrap(), None);
    assert_eq!(store.index_of(&id(5)).unwrap(), None);
    assert_eq!(store.head().unwrap(), Some(head(2)));
}

/// The head never moves backwards or stays where it is.
fn head_is_monotonic(open: Open) {
    let store = open();
    assert!(matches!(
        store.commit(0, &head(0), &[]),
        Err(StoreError::Conflict { .. })
    ));
    store
        .commit(0, &head(2), &[(id(0), 0), (id(1), 1)])
        .unwrap();
    for size in [2, 1] {
        assert!(matches!(
            store.commit(2, &head(size), &[]),
            Err(StoreError::Conflict {
                expected: 2,
                found: 2
            })
        ));
    }
    assert_eq!(store.head().unwrap(), Some(head(2)));
}

/// Amending the head's checkpoint (adding cosignatures) is a compare-and-swap on size.
fn amend_is_compare_and_swap(open: Open) {
    let store = open();
    assert!(matches!(
        store.amend_checkpoint(0, b"x"),
        Err(StoreError::Conflict { .. })
    ));
    assert!(matches!(
        store.amend_checkpoint(2, b"x"),
        Err(StoreError::Conflict {
            expected: 2,
            found: 0
        })
    ));
    store
        .commit(0, &head(2), &[(id(0), 0), (id(1), 1)])
        .unwrap();
    let mut amended = head(2);
    amended.checkpoint = b"cp 2 with cosignatures\n".to_vec();
    store.amend_checkpoint(2, &amended.checkpoint).unwrap();
    assert_eq!(store.head().unwrap(), Some(amended.clone()));
    assert!(matches!(
        store.amend_checkpoint(1, b"x"),
        Err(StoreError::Conflict {
            expected: 1,
            found: 2
        })
    ));
    assert_eq!(store.head().unwrap(), Some(amended.clone()));
    // Durable: another handle sees the amended note.
    assert_eq!(open().head().unwrap(), Some(amended));
}

/// Durable: after the handle that committed is gone, a new one sees everything.
fn durable_across_handles(open: Open) {
    {
        let store = open();
        store
            .commit(0, &head(2), &[(id(0), 0), (id(1), 1)])
            .unwrap();
        store.commit(2, &head(3), &[(id(2), 2)]).unwrap();
    }
    let other = open();
    assert_eq!(other.head().unwrap(), Some(head(3)));
    for i in 0..3 {
        assert_eq!(other.index_of(&id(i)).unwrap(), Some(i));
    }
}

/// Runs `call(i, handle)` for every handle at once (one thread each, released together)
/// and returns the results in order.
fn race<T: Send + 'static>(
    handles: Vec<Arc<dyn StateStore>>,
    call: impl Fn(usize, &dyn StateStore) -> T + Send + Sync + 'static,
) -> Vec<T> {
    let barrier = Arc::new(Barrier::new(handles.len()));
    let call = Arc::new(call);
    let threads: Vec<_> = handles
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            let (barrier, call) = (barrier.clone(), call.clone());
            std::thread::spawn(move || {
                barrier.wait();
                call(i, s.as_ref())
            })
        })
        .collect();
    threads.into_iter().map(|t| t.join().unwrap()).collect()
}

/// Of concurrent commits from the same size, exactly one wins and the others get a
/// conflict naming the winner's size; run on `handles` (one shared or several separate).
fn one_of_concurrent_commits_wins(handles: Vec<Arc<dyn StateStore>>, check: &dyn StateStore) {
    let results = race(handles, |i, s| {
        let mut h = head(3);
        h.checkpoint = format!("winner {i}\n").into_bytes();
        s.commit(2, &h, &[(Digest::of(&[i as u8; 7]), 2)])
    });
    let wins = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(wins, 1, "{results:?}");
    for r in results.iter().filter(|r| r.is_err()) {
        assert!(
            matches!(
                r,
                Err(StoreError::Conflict {
                    expected: 2,
                    found: 3
                })
            ),
            "{r:?}"
        );
    }
    let winner = check.head().unwrap().unwrap();
    assert_eq!(winner.size, 3);
    let i = results.iter().position(|r| r.is_ok()).unwrap();
    assert_eq!(winner.checkpoint, format!("winner {i}\n").into_bytes());
    // Only the winner's id was indexed.
    for j in 0..results.len() {
        let indexed = check.index_of(&Digest::of(&[j as u8; 7])).unwrap();
        assert_eq!(indexed, (j == i).then_some(2));
    }
}

/// Several threads sharing one handle.
fn concurrent_commits_one_handle(open: Open) {
    let store: Arc<dyn StateStore> = Arc::from(open());
    store
        .commit(0, &head(2), &[(id(0), 0), (id(1), 1)])
        .unwrap();
    let handles = (0..8).map(|_| store.clone()).collect();
    one_of_concurrent_commits_wins(handles, &*store);
}

/// Several handles (as several processes would have), one thread each.
fn concurrent_commits_separate_handles(open: Open) {
    let store = open();
    store
        .commit(0, &head(2), &[(id(0), 0), (id(1), 1)])
        .unwrap();
    let handles = (0..4).map(|_| Arc::from(open())).collect();
    one_of_concurrent_commits_wins(handles, &*store);
}

/// The lease goes to one holder at a time; renewing keeps the epoch; releasing hands it on
/// at once with the next epoch.
fn lease_is_exclusive(open: Open) {
    let (a, b) = (open(), open());
    let ttl = Duration::from_secs(30);
    assert_eq!(
        a.acquire_lease("a", "http://a", ttl).unwrap(),
        Lease::Granted { epoch: 1 }
    );
    match b.acquire_lease("b", "http://b", ttl).unwrap() {
        Lease::HeldBy {
            holder,
            address,
            remaining,
        } => {
            assert_eq!((holder.as_str(), address.as_str()), ("a", "http://a"));
            assert!(
                remaining <= ttl && remaining > Duration::from_secs(20),
                "{remaining:?}"
            );
        }
        other => panic!("b must not get a held lease: {other:?}"),
    }
    assert_eq!(
        a.acquire_lease("a", "http://a", ttl).unwrap(),
        Lease::Granted { epoch: 1 }
    );
    b.release_lease("b").unwrap(); // not b's: nothing happens
    assert!(matches!(
        b.acquire_lease("b", "http://b", ttl).unwrap(),
        Lease::HeldBy { .. }
    ));
    a.release_lease("a").unwrap();
    assert_eq!(
        b.acquire_lease("b", "http://b", ttl).unwrap(),
        Lease::Granted { epoch: 2 }
    );
    assert!(matches!(
        a.acquire_lease("a", "http://a", ttl).unwrap(),
        Lease::HeldBy { .. }
    ));
}

/// A lease not renewed in time can be taken by another holder, and then not renewed by
/// the old one.
fn lease_expires(open: Open) {
    let (a, b) = (open(), open());
    let short = Duration::from_millis(300);
    assert_eq!(
        a.acquire_lease("a", "http://a", short).unwrap(),
        Lease::Granted { epoch: 1 }
    );
    std::thread::sleep(Duration::from_millis(600));
    let long = Duration::from_secs(30);
    assert_eq!(
        b.acquire_lease("b", "http://b", long).unwrap(),
        Lease::Granted { epoch: 2 }
    );
    assert!(
        matches!(a.acquire_lease("a", "http://a", long).unwrap(), Lease::HeldBy { holder, .. } if holder == "b")
    );
}

/// Of concurrent takers of a free lease, from separate handles, exactly one is granted.
fn one_of_concurrent_lease_takers_wins(open: Open) {
    let handles: Vec<Arc<dyn StateStore>> = (0..6).map(|_| Arc::from(open())).collect();
    let results: Vec<Lease> = race(handles, |i, s| {
        s.acquire_lease(&format!("h{i}"), "http://x", Duration::from_secs(30))
            .unwrap()
    });
    let granted = results
        .iter()
        .filter(|l| matches!(l, Lease::Granted { .. }))
        .count();
    assert_eq!(granted, 1, "{results:?}");
}

/// One `#[test]` per `StateStore` contract, for a backend whose `fresh()` gives a new
/// empty store (or `None` when skipped explicitly) and whose `open` opens it again.
macro_rules! state_store_suite {
    ($backend:ident) => {
        mod $backend {
            use super::*;
            state_store_suite!(@tests $backend: not_found_then_commit, stale_commit_conflicts,
                head_is_monotonic, amend_is_compare_and_swap, durable_across_handles,
                concurrent_commits_one_handle, concurrent_commits_separate_handles,
                lease_is_exclusive, lease_expires, one_of_concurrent_lease_takers_wins);
        }
    };
    (@tests $backend:ident: $($contract:ident),*) => {
        $(
            #[test]
            fn $contract() {
                if let Some(fixture) = backends::$backend::fresh(stringify!($contract)) {
                    super::$contract(&|| fixture.open());
                }
            }
        )*
    };
}

mod backends {
    use super::*;

    pub mod sqlite {
        use super::*;

        pub struct Fixture(tempfile::TempDir);

        pub fn fresh(_tag: &str) -> Option<Fixture> {
            Some(Fixture(tempfile::tempdir().unwrap()))
        }

        impl Fixture {
            pub fn open(&self) -> Box<dyn StateStore> {
                Box::new(SqliteState::open(&self.0.path().join("state.sqlite")).unwrap())
            }
        }
    }

    pub mod postgres {
        use super::*;
        use crate::common::postgres::PgSchema;

        pub struct Fixture(PgSchema);

        pub fn fresh(tag: &str) -> Option<Fixture> {
            PgSchema::fresh(&tag.replace(|c: char| !c.is_ascii_alphanumeric(), "")).map(Fixture)
        }

        impl Fixture {
            pub fn open(&self) -> Box<dyn StateStore> {
                Box::new(PostgresState::connect(&self.0.url).unwrap())
            }
        }
    }
}

state_store_suite!(sqlite);
state_store_suite!(postgres);

/// A PostgreSQL URL that cannot be reached is a typed error, not a panic or a hang.
#[test]
fn postgres_unreachable_is_an_error() {
    // Port 1 on loopback: nothing listens there.
    match PostgresState::connect("postgres://nobody@127.0.0.1:1/none?connect_timeout=2") {
        Err(StoreError::Postgres(_)) => {}
        other => panic!("expected a PostgreSQL error, got {other:?}"),
    }
    assert!(matches!(
        PostgresState::connect("not a url"),
        Err(StoreError::Postgres(_))
    ));
}

#[test]
fn fs_tiles_conforms() {
    let dir = tempfile::tempdir().unwrap();
    tile_store_suite(&FsTiles::open(dir.path().join("log")).unwrap());
    // No temporary files are left behind.
    let leftovers = walk(dir.path())
        .into_iter()
        .filter(|p| p.contains(".tmp-"))
        .count();
    assert_eq!(leftovers, 0);
}

#[test]
fn object_tiles_conform() {
    let Some(url) = common::s3::fresh_url("conform") else {
        return;
    };
    tile_store_suite(&ObjectTiles::open(&url).unwrap());
    // Another handle (as another process would have) sees everything.
    let other = ObjectTiles::open(&url).unwrap();
    assert_eq!(other.read("checkpoint").unwrap(), Some(b"two\n".to_vec()));
}

/// Settings (as from a configuration file) win over the `AWS_*` environment: a wrong
/// secret or endpoint given there fails at open even though the environment is right, and
/// the right ones given there work.
#[test]
fn object_tiles_settings_override_the_environment() {
    use store::S3Settings;

    let Some(url) = common::s3::fresh_url("settings") else {
        return;
    };
    let from_env = |name: &str| std::env::var(name).ok();
    let right = S3Settings {
        endpoint: from_env("AWS_ENDPOINT_URL"),
        region: from_env("AWS_REGION"),
        access_key_id: from_env("AWS_ACCESS_KEY_ID"),
        secret_access_key: from_env("AWS_SECRET_ACCESS_KEY"),
        allow_http: Some(true),
    };
    let wrong_secret = S3Settings {
        secret_access_key: Some("not-the-secret".into()),
        ..right.clone()
    };
    let err = ObjectTiles::open_with(&url, &wrong_secret).unwrap_err();
    assert!(matches!(err, store::StoreError::Object(_)), "{err}");
    assert!(!format!("{wrong_secret:?}").contains("not-the-secret"));
    let wrong_endpoint = S3Settings {
        endpoint: Some("http://127.0.0.1:9".into()),
        ..right.clone()
    };
    assert!(ObjectTiles::open_with(&url, &wrong_endpoint).is_err());
    let store = ObjectTiles::open_with(&url, &right).unwrap();
    store.publish_checkpoint(b"cp\n").unwrap();
    assert_eq!(
        ObjectTiles::open(&url).unwrap().read("checkpoint").unwrap(),
        Some(b"cp\n".to_vec())
    );
}

/// More files than PUTs in flight, from several threads at once: all land, none mixed up.
#[test]
fn object_tiles_concurrent_writes() {
    let Some(url) = common::s3::fresh_url("concurrent") else {
        return;
    };
    let store = Arc::new(ObjectTiles::open(&url).unwrap());
    let threads: Vec<_> = (0..3u8)
        .map(|t| {
            let store = store.clone();
            std::thread::spawn(move || {
                let files: Vec<_> = (0..40u32)
                    .map(|i| {
                        let path = match t {
                            0 => format!("tile/1/{i:03}"),
                            _ => format!("tile/1/x{t:03}/{i:03}"),
                        };
                        (path, vec![t; 32])
                    })
                    .collect();
                store.write_files(&files).unwrap();
                files
            })
        })
        .collect();
    for t in threads {
        for (path, bytes) in t.join().unwrap() {
            assert_eq!(store.read(&path).unwrap(), Some(bytes), "{path}");
        }
    }
}

/// Objects that never change may be cached for a year; the checkpoint and partial tiles
/// must be revalidated (checked with a plain S3 client, as a CDN would see them).
#[test]
fn object_tiles_cache_headers() {
    use object_store::{Attribute, ObjectStoreExt as _};

    let Some(url) = common::s3::fresh_url("headers") else {
        return;
    };
    let store = ObjectTiles::open(&url).unwrap();
    let blob = b"blob".to_vec();
    store
        .write_files(&[
            ("tile/0/000".to_owned(), vec![1; 8192]),
            ("tile/0/001.p/3".to_owned(), vec![2; 96]),
        ])
        .unwrap();
    store.write_blob(&Digest::of(&blob), &blob).unwrap();
    store.publish_checkpoint(b"cp\n").unwrap();

    let rest = url.strip_prefix("s3://").unwrap();
    let (bucket, prefix) = rest.split_once('/').unwrap();
    let s3 = object_store::aws::AmazonS3Builder::from_env()
        .with_bucket_name(bucket)
        .build()
        .unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let cache_control = |path: String| {
        let key = object_store::path::Path::from(format!("{prefix}/{path}"));
        let got = runtime.block_on(s3.get(&key)).unwrap();
        got.attributes
            .get(&Attribute::CacheControl)
            .map(|v| v.to_string())
    };
    let immutable = Some("public, max-age=31536000, immutable".to_owned());
    let revalidate = Some("no-cache".to_owned());
    assert_eq!(cache_control("tile/0/000".into()), immutable);
    assert_eq!(
        cache_control(store::blob_path(&Digest::of(&blob))),
        immutable
    );
    assert_eq!(cache_control("tile/0/001.p/3".into()), revalidate);
    assert_eq!(cache_control("checkpoint".into()), revalidate);
}

fn walk(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p.display().to_string());
        }
    }
    out
}
