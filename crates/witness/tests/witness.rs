//! The witness against the C2SP tlog-witness rules: every status code, cosignatures that
//! verify with the tlog crate, compare-and-swap under concurrency, no step back after a
//! restart, and the HTTP API as a client sees it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use tlog::checkpoint::{Checkpoint, Origin};
use tlog::cosignature::{AddCheckpointRequest, Cosigner, parse_add_checkpoint_response};
use tlog::note::{KeyName, Note, Signer};
use tlog::proof::{MemoryTree, prove_consistency};
use witness::{Answer, Witness, WitnessState};

const ORIGIN: &str = "example.org/detente/wg-1";

struct Log {
    signer: Signer,
    tree: MemoryTree,
}

impl Log {
    fn new(seed: u8) -> Log {
        Log {
            signer: Signer::from_seed(KeyName::new(ORIGIN).unwrap(), &[seed; 32]),
            tree: MemoryTree::new(),
        }
    }

    fn grow(&mut self, n: usize) {
        for _ in 0..n {
            let i = self.tree.size();
            self.tree.push(tlog::leaf_hash(&i.to_be_bytes())).unwrap();
        }
    }

    fn checkpoint(&self) -> Checkpoint {
        Checkpoint::new(
            Origin::new(ORIGIN).unwrap(),
            self.tree.size(),
            self.tree.root(),
        )
    }

    fn note(&self) -> Note {
        self.checkpoint().sign(&[&self.signer]).unwrap()
    }

    fn request(&self, old: u64) -> Vec<u8> {
        let proof = if old == 0 || old == self.tree.size() {
            vec![]
        } else {
            prove_consistency(&self.tree, old, self.tree.size()).unwrap()
        };
        AddCheckpointRequest::new(old, proof, self.note())
            .unwrap()
            .to_bytes()
    }
}

fn cosigner() -> Cosigner {
    Cosigner::from_seed(KeyName::new("witness.example/w1").unwrap(), &[42; 32])
}

fn witness(dir: &std::path::Path, log: &Log, now: u64) -> Witness {
    let state = WitnessState::open(&dir.join("witness.sqlite")).unwrap();
    let logs = [(ORIGIN.to_owned(), log.signer.verifier().to_vkey())];
    Witness::new(cosigner(), &logs, state, Box::new(move || now)).unwrap()
}

fn status(a: &Answer) -> u16 {
    match a {
        Answer::Cosigned(_) => 200,
        Answer::Conflict(_) => 409,
        Answer::Refused(s, _) => *s,
    }
}

#[test]
fn every_status_code_of_the_spec() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = Log::new(1);
    log.grow(10);
    let w = witness(dir.path(), &log, 1_700_000_000);

    // First contact: old 0, no proof. The cosignature verifies with the tlog crate.
    let Answer::Cosigned(body) = w.add_checkpoint(&log.request(0)) else {
        panic!("expected 200")
    };
    let lines = parse_add_checkpoint_response(&body).unwrap();
    assert_eq!(
        cosigner()
            .verifier()
            .verify(&log.checkpoint(), &lines[0])
            .unwrap(),
        1_700_000_000
    );

    // 409 with the witness's size when the client's old size is stale.
    log.grow(5);
    assert_eq!(w.add_checkpoint(&log.request(0)), Answer::Conflict(10));
    // 200 with a proof from 10.
    assert_eq!(status(&w.add_checkpoint(&log.request(10))), 200);
    // The same checkpoint again is cosigned again.
    assert_eq!(status(&w.add_checkpoint(&log.request(15))), 200);

    // 400: malformed, and old beyond the checkpoint.
    assert_eq!(status(&w.add_checkpoint(b"old x\n\n")), 400);
    let mut body = log.request(15);
    body.splice(0..6, b"old 99".iter().copied());
    assert_eq!(status(&w.add_checkpoint(&body)), 400);

    // 404: a log the witness does not know.
    let mut other = Log::new(1);
    other.signer = Signer::from_seed(KeyName::new("other.example/log").unwrap(), &[1; 32]);
    other.grow(3);
    let stranger = Checkpoint::new(
        Origin::new("other.example/log").unwrap(),
        3,
        other.tree.root(),
    );
    let note = stranger.sign(&[&other.signer]).unwrap();
    assert_eq!(
        status(
            &w.add_checkpoint(
                &AddCheckpointRequest::new(0, vec![], note)
                    .unwrap()
                    .to_bytes()
            )
        ),
        404
    );

    // 403: signed by another key under the log's name.
    let mut forger = Log::new(9);
    forger.grow(16);
    assert_eq!(status(&w.add_checkpoint(&forger.request(15))), 403);

    // 422: a tree that rewrote an early entry, with a proof that is valid for that tree
    // but not from the witness's root; and an honest extension with a corrupted proof.
    let mut fork = Log::new(1);
    fork.grow(3);
    fork.tree.push(tlog::leaf_hash(b"rewritten")).unwrap();
    fork.grow(12);
    assert_eq!(status(&w.add_checkpoint(&fork.request(15))), 422);
    let mut honest = Log::new(1);
    honest.grow(17);
    let mut proof = prove_consistency(&honest.tree, 15, 17).unwrap();
    proof[0].0[0] ^= 1;
    let bad = AddCheckpointRequest::new(15, proof, honest.note())
        .unwrap()
        .to_bytes();
    assert_eq!(status(&w.add_checkpoint(&bad)), 422);
    let mut same_size = Log::new(1);
    same_size.grow(14);
    same_size.tree.push(tlog::leaf_hash(b"other")).unwrap();
    match w.add_checkpoint(&same_size.request(15)) {
        Answer::Refused(422, body) => assert!(body.contains(&log.checkpoint().to_text()), "{body}"),
        other => panic!("expected a 422 conflict, got {other:?}"),
    }
    // Old 0 with a proof, against an empty witness: 422.
    let dir2 = tempfile::tempdir().unwrap();
    let w2 = witness(dir2.path(), &log, 1);
    let with_proof = AddCheckpointRequest::new(0, vec![tlog::Hash([0; 32])], log.note())
        .unwrap()
        .to_bytes();
    assert_eq!(status(&w2.add_checkpoint(&with_proof)), 422);
    // Size 0 must carry the empty root.
    let zero = Checkpoint::new(Origin::new(ORIGIN).unwrap(), 0, tlog::Hash([1; 32]));
    let zero = AddCheckpointRequest::new(0, vec![], zero.sign(&[&log.signer]).unwrap())
        .unwrap()
        .to_bytes();
    assert_eq!(status(&w2.add_checkpoint(&zero)), 422);
}

#[test]
fn concurrent_requests_never_make_it_cosign_a_fork_and_it_never_steps_back() {
    let dir = tempfile::tempdir().unwrap();
    let mut base = Log::new(1);
    base.grow(8);
    let w = Arc::new(witness(dir.path(), &base, 5));
    assert_eq!(status(&w.add_checkpoint(&base.request(0))), 200);
    // Many forks of the same base, all sent at once with a valid proof from 8.
    let forks: Vec<Vec<u8>> = (0..8u8)
        .map(|i| {
            let mut f = Log::new(1);
            f.grow(8);
            f.tree.push(tlog::leaf_hash(&[i])).unwrap();
            f.request(8)
        })
        .collect();
    let threads: Vec<_> = forks
        .into_iter()
        .map(|r| {
            let w = w.clone();
            std::thread::spawn(move || status(&w.add_checkpoint(&r)))
        })
        .collect();
    let statuses: Vec<u16> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 409),
        "{statuses:?}"
    );
    drop(w);
    // After a restart it remembers size 9 and refuses to go back to 8.
    let w = witness(dir.path(), &base, 6);
    assert_eq!(w.add_checkpoint(&base.request(8)), Answer::Conflict(9));
    assert_eq!(w.add_checkpoint(&base.request(0)), Answer::Conflict(9));
}

/// Two witnesses sharing one state file (two processes in production) race forks of one
/// log from many threads: each decides against its own view, but the commit re-checks the
/// file, so exactly one fork is ever cosigned, and the log moves on from it.
#[test]
fn two_witnesses_on_one_file_never_cosign_a_fork() {
    let dir = tempfile::tempdir().unwrap();
    let mut base = Log::new(1);
    base.grow(8);
    let a = Arc::new(witness(dir.path(), &base, 5));
    let b = Arc::new(witness(dir.path(), &base, 5));
    assert_eq!(status(&a.add_checkpoint(&base.request(0))), 200);
    let forks: Vec<Log> = (0..16u8)
        .map(|i| {
            let mut f = Log::new(1);
            f.grow(8);
            f.tree.push(tlog::leaf_hash(&[i])).unwrap();
            f
        })
        .collect();
    let threads: Vec<_> = forks
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let w = if i % 2 == 0 { a.clone() } else { b.clone() };
            let r = f.request(8);
            std::thread::spawn(move || (i, w.add_checkpoint(&r)))
        })
        .collect();
    let answers: Vec<(usize, Answer)> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let won: Vec<usize> = answers
        .iter()
        .filter(|(_, a)| status(a) == 200)
        .map(|(i, _)| *i)
        .collect();
    assert_eq!(won.len(), 1, "{answers:?}");
    assert!(
        answers
            .iter()
            .all(|(_, a)| matches!(status(a), 200 | 409 | 503)),
        "{answers:?}"
    );
    // Whatever either witness believed, the file holds the winner, and both go on from it.
    let mut winner = Log::new(1);
    winner.grow(8);
    winner.tree.push(tlog::leaf_hash(&[won[0] as u8])).unwrap();
    winner.grow(3);
    let fresh = witness(dir.path(), &base, 6);
    assert_eq!(status(&fresh.add_checkpoint(&winner.request(9))), 200);
}

/// Many logs at once share fsyncs (group commit), and every cosignature answered is durable.
#[test]
fn many_logs_at_once_are_all_durable() {
    let dir = tempfile::tempdir().unwrap();
    let logs: Vec<(String, Signer)> = (0..12u8)
        .map(|i| {
            let origin = format!("example.org/detente/wg-{i}");
            let signer = Signer::from_seed(KeyName::new(origin.clone()).unwrap(), &[i + 1; 32]);
            (origin, signer)
        })
        .collect();
    let open = || {
        let state = WitnessState::open(&dir.path().join("witness.sqlite")).unwrap();
        let known: Vec<(String, String)> = logs
            .iter()
            .map(|(o, s)| (o.clone(), s.verifier().to_vkey()))
            .collect();
        Arc::new(Witness::new(cosigner(), &known, state, Box::new(|| 7)).unwrap())
    };
    let w = open();
    let threads: Vec<_> = logs
        .iter()
        .map(|(origin, signer)| {
            let (w, origin, signer) = (w.clone(), origin.clone(), signer.clone());
            std::thread::spawn(move || {
                let mut tree = MemoryTree::new();
                let mut old = 0;
                for round in 0..10u64 {
                    for j in 0..5u64 {
                        tree.push(tlog::leaf_hash(&(round * 5 + j).to_be_bytes()))
                            .unwrap();
                    }
                    let cp = Checkpoint::new(
                        Origin::new(origin.clone()).unwrap(),
                        tree.size(),
                        tree.root(),
                    );
                    let proof = if old == 0 {
                        vec![]
                    } else {
                        prove_consistency(&tree, old, tree.size()).unwrap()
                    };
                    let r = AddCheckpointRequest::new(old, proof, cp.sign(&[&signer]).unwrap())
                        .unwrap();
                    assert_eq!(status(&w.add_checkpoint(&r.to_bytes())), 200);
                    old = tree.size();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    drop(w);
    let w = open();
    for (origin, _) in &logs {
        let hash = tlog::sha256(origin.as_bytes()).to_hex();
        let latest = String::from_utf8(w.latest(&hash).unwrap()).unwrap();
        assert!(latest.starts_with(&format!("{origin}\n50\n")), "{latest}");
    }
    let state = WitnessState::open(&dir.path().join("witness.sqlite")).unwrap();
    for (origin, _) in &logs {
        assert_eq!(state.get(origin).unwrap().unwrap().size, 50);
    }
}

#[tokio::test]
async fn the_http_api_speaks_the_spec() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = Log::new(1);
    log.grow(3);
    let w = Arc::new(witness(dir.path(), &log, 77));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(axum::serve(listener, witness::http::router(w)).into_future());
    let http = reqwest::Client::new();
    let post = |body: Vec<u8>| {
        http.post(format!("http://{addr}/add-checkpoint"))
            .body(body)
            .send()
    };
    let r = post(log.request(0)).await.unwrap();
    assert_eq!(r.status(), 200);
    let lines = parse_add_checkpoint_response(&r.bytes().await.unwrap()).unwrap();
    assert_eq!(lines.len(), 1);
    let r = post(log.request(0)).await.unwrap();
    assert_eq!(r.status(), 409);
    assert_eq!(r.headers()["content-type"], "text/x.tlog.size");
    assert_eq!(r.text().await.unwrap(), "3\n");
    let r = post(b"garbage".to_vec()).await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(!r.text().await.unwrap().is_empty());
    let r = post(vec![b'a'; 2 << 20]).await.unwrap();
    assert_eq!(r.status(), 413);
    let hash = tlog::sha256(ORIGIN.as_bytes()).to_hex();
    let latest = http
        .get(format!("http://{addr}/{hash}/checkpoint"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(latest.starts_with(&log.checkpoint().to_text()));
    assert!(latest.contains("witness.example/w1"));
}
