//! The storage conformance suite: every contract written in the `TileStore` and
//! `StateStore` doc comments, run against each backend. A new backend adds one `#[test]`
//! per suite below that opens it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Barrier};

use statement::Digest;
use store::{FsTiles, Head, SqliteState, StateStore, StoreError, TileStore};

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

/// Every `StateStore` contract; `reopen` opens the same store again (another handle, as
/// another process would).
pub fn state_store_suite(store: &dyn StateStore, reopen: &dyn Fn() -> Box<dyn StateStore>) {
    let head = |size: u64| Head {
        size,
        root: tlog::Hash([size as u8; 32]),
        checkpoint: format!("cp {size}\n").into_bytes(),
    };
    let id = |i: u64| Digest::of(&i.to_be_bytes());
    assert_eq!(store.head().unwrap(), None);
    assert_eq!(store.index_of(&id(0)).unwrap(), None);

    store
        .commit(0, &head(2), &[(id(0), 0), (id(1), 1)])
        .unwrap();
    assert_eq!(store.head().unwrap(), Some(head(2)));
    assert_eq!(store.index_of(&id(1)).unwrap(), Some(1));

    // A stale expected size is a conflict and changes nothing.
    match store.commit(0, &head(3), &[(id(2), 2)]) {
        Err(StoreError::Conflict {
            expected: 0,
            found: 2,
        }) => {}
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(store.index_of(&id(2)).unwrap(), None);
    // The head never moves backwards or stays.
    assert!(matches!(
        store.commit(2, &head(2), &[]),
        Err(StoreError::Conflict { .. })
    ));
    assert!(matches!(
        store.commit(2, &head(1), &[]),
        Err(StoreError::Conflict { .. })
    ));

    // Amending the head's checkpoint (adding cosignatures) is a compare-and-swap on size.
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
    assert_eq!(store.head().unwrap(), Some(amended));

    // Durable: another handle sees it.
    let other = reopen();
    assert_eq!(
        other.head().unwrap().map(|h| (h.size, h.root)),
        Some((2, head(2).root))
    );
    assert_eq!(other.index_of(&id(0)).unwrap(), Some(0));

    // Of concurrent commits from the same size, exactly one wins.
    let handles: Vec<Arc<dyn StateStore>> = (0..4).map(|_| Arc::from(reopen())).collect();
    let barrier = Arc::new(Barrier::new(handles.len()));
    let threads: Vec<_> = handles
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                let mut h = head(3);
                h.checkpoint = format!("winner {i}\n").into_bytes();
                s.commit(2, &h, &[(Digest::of(&[i as u8; 7]), 2)]).is_ok()
            })
        })
        .collect();
    let wins = threads
        .into_iter()
        .map(|t| t.join().unwrap())
        .filter(|w| *w)
        .count();
    assert_eq!(wins, 1);
    assert_eq!(store.head().unwrap().unwrap().size, 3);
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
fn sqlite_state_conforms() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.sqlite");
    let store = SqliteState::open(&path).unwrap();
    state_store_suite(&store, &|| Box::new(SqliteState::open(&path).unwrap()));
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
