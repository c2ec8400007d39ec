//! `detente witness` killed with SIGKILL during add-checkpoint, again and again: after every
//! restart it still knows the latest size it cosigned (it never moves backwards), and it
//! never cosigns a checkpoint inconsistent with one it returned — a fork of the same size
//! is refused every time.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tlog::checkpoint::{Checkpoint, Origin};
use tlog::cosignature::{AddCheckpointRequest, parse_add_checkpoint_response, parse_conflict_body};
use tlog::note::{KeyName, Signer};
use tlog::proof::{MemoryTree, prove_consistency};

const ORIGIN: &str = "crash.example/log";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start(dir: &std::path::Path, port: u16, vkey: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_detente"))
        .args(["witness", "--data"])
        .arg(dir)
        .args([
            "--name",
            "crash.example/witness",
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .args(["--log", &format!("{ORIGIN}={vkey}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

async fn wait_up(http: &reqwest::Client, url: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if http.post(url).body("x").send().await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the witness did not come up");
}

fn request(tree: &MemoryTree, signer: &Signer, old: u64, size: u64) -> Vec<u8> {
    let root = tlog::proof::root_at(tree, size).unwrap();
    let proof = if old == 0 || old == size {
        vec![]
    } else {
        prove_consistency(tree, old, size).unwrap()
    };
    let note = Checkpoint::new(Origin::new(ORIGIN).unwrap(), size, root)
        .sign(&[signer])
        .unwrap();
    AddCheckpointRequest::new(old, proof, note)
        .unwrap()
        .to_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_witness_never_steps_back_nor_cosigns_a_fork() {
    let dir = tempfile::tempdir().unwrap();
    let signer = Signer::from_seed(KeyName::new(ORIGIN).unwrap(), &[5; 32]);
    let vkey = signer.verifier().to_vkey();
    let mut honest = MemoryTree::new();
    for i in 0..400u64 {
        honest.push(tlog::leaf_hash(&i.to_be_bytes())).unwrap();
    }
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/add-checkpoint");
    let mut cosigned = 0u64; // the largest size the witness returned a cosignature for
    let mut known = 0u64; // the size the client believes the witness holds
    for round in 0..4u64 {
        let mut child = start(dir.path(), port, &vkey);
        wait_up(&http, &url).await;
        // After a restart the witness remembers at least what it returned.
        let r = http
            .post(&url)
            .body(request(&honest, &signer, 0, 1))
            .send()
            .await
            .unwrap();
        if cosigned > 0 {
            assert_eq!(r.status(), 409);
            let size = parse_conflict_body(&r.bytes().await.unwrap()).unwrap();
            assert!(
                size >= cosigned,
                "round {round}: the witness went back from {cosigned} to {size}"
            );
            known = size;
        } else if r.status() == 200 {
            cosigned = 1;
            known = 1;
        }
        // A fork of the witness's current size is refused.
        if known > 1 {
            let mut fork = MemoryTree::new();
            for i in 0..known - 1 {
                fork.push(tlog::leaf_hash(&i.to_be_bytes())).unwrap();
            }
            fork.push(tlog::leaf_hash(b"forked")).unwrap();
            let r = http
                .post(&url)
                .body(request(&fork, &signer, known, known))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 422, "round {round}: a fork of size {known}");
        }
        // Advance while a killer strikes at a random moment.
        let kill_after = Duration::from_millis(30 + (round * 37) % 120);
        let started = Instant::now();
        while started.elapsed() < kill_after && known < 399 {
            let next = known + 1 + (known % 3);
            let next = next.min(400);
            let body = request(&honest, &signer, known, next);
            let Ok(r) = http.post(&url).body(body).send().await else {
                break;
            };
            match r.status().as_u16() {
                200 => {
                    let lines = parse_add_checkpoint_response(&r.bytes().await.unwrap()).unwrap();
                    assert_eq!(lines.len(), 1);
                    cosigned = cosigned.max(next);
                    known = next;
                }
                409 => known = parse_conflict_body(&r.bytes().await.unwrap()).unwrap(),
                s => panic!("round {round}: unexpected {s}"),
            }
        }
        child.kill().unwrap();
        child.wait().unwrap();
    }
    assert!(
        cosigned > 10,
        "the test made too little progress to mean anything ({cosigned})"
    );
}
