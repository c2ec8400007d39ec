//! Real TAXII clients (issue 7): the OASIS `taxii2-client` and `stix2` Python packages run
//! `taxii_clients.py` against two members' nodes on 127.0.0.1.
//!
//! The interpreter is `DETENTE_PYTHON`, by default `<repo>/.venv/bin/python`. Without it,
//! or without the packages, the test fails and says how to create the venv: it never
//! passes without having run the clients.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

#[path = "taxii/harness.rs"]
#[allow(dead_code)]
mod harness;
#[path = "adversarial/proxy.rs"]
#[allow(dead_code)]
mod proxy;
#[path = "adversarial/world.rs"]
#[allow(dead_code)]
mod world;

use std::path::PathBuf;
use std::process::Command;

const HOW: &str = "create it from the repository root with: \
python3 -m venv .venv && .venv/bin/pip install taxii2-client==2.3.0 stix2==3.0.2 \
(or point DETENTE_PYTHON at an interpreter that has them)";

fn python() -> PathBuf {
    match std::env::var_os("DETENTE_PYTHON") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn taxii2_client_and_stix2_share_through_two_nodes() {
    let py = python();
    let check = Command::new(&py)
        .args(["-c", "import taxii2client.v21, stix2"])
        .output();
    match check {
        Err(e) => panic!(
            "cannot run the Python interpreter {}: {e}; {HOW}",
            py.display()
        ),
        Ok(o) if !o.status.success() => panic!(
            "{} lacks taxii2-client or stix2 ({}); {HOW}",
            py.display(),
            String::from_utf8_lossy(&o.stderr).trim()
        ),
        Ok(_) => {}
    }
    let (w, _witnesses) = harness::world().await;
    let alice = harness::serve(&w, "alice", None).await;
    let bob = harness::serve(&w, "bob", None).await;
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/taxii_clients.py");
    let mut cmd = Command::new(&py);
    cmd.arg(&script)
        .env("ALICE_URL", format!("{}/taxii2/", alice.base))
        .env("BOB_URL", format!("{}/taxii2/", bob.base))
        .env("ALICE_CRED", &alice.writer)
        .env("BOB_CRED", &bob.reader);
    // The servers run on this runtime: wait for the script off its workers.
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .unwrap()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "taxii_clients.py failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("ok: 9 objects"), "{stdout}");
}
