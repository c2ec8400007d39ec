//! `detente host --config FILE` with its bucket's endpoint, region and credentials in the
//! file's `[s3]` table and none in the environment (issue 9): the host starts and founds
//! its log in the bucket; with a wrong secret in the table it refuses to start and says
//! the object store refused it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
#[path = "../../store/tests/common/s3.rs"]
mod s3;

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{BIN, found, free_port};
use store::{ObjectTiles, TileStore};

const AWS_VARS: [&str; 6] = [
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT",
    "AWS_REGION",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_ALLOW_HTTP",
];

/// The `[s3]` table with the test server's settings, `secret` as the secret key.
fn s3_table(secret: &str) -> String {
    let var = |name: &str| std::env::var(name).unwrap();
    format!(
        "[s3]\nendpoint = \"{}\"\nregion = \"{}\"\naccess_key_id = \"{}\"\n\
         secret_access_key = \"{secret}\"\nallow_http = true\n",
        var("AWS_ENDPOINT_URL"),
        var("AWS_REGION"),
        var("AWS_ACCESS_KEY_ID"),
    )
}

/// `detente host --config FILE` with no `AWS_*` variable in its environment.
fn spawn(config: &Path, logs: &Path) -> Child {
    let mut cmd = Command::new(BIN);
    cmd.arg("host").arg("--config").arg(config);
    for v in AWS_VARS {
        cmd.env_remove(v);
    }
    cmd.env("DETENTE_LOG", "info")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(logs.join("host.out")).unwrap())
        .stderr(std::fs::File::create(logs.join("host.err")).unwrap())
        .spawn()
        .unwrap()
}

fn write_config(dir: &Path, data: &Path, addr: SocketAddr, url: &str, secret: &str) -> String {
    let path = dir.join("host.toml");
    let text = format!(
        "data = \"{}\"\ngenesis = \"{}\"\nlisten = \"{addr}\"\ntiles = \"{url}\"\n{}",
        data.display(),
        data.with_extension("genesis.json").display(),
        s3_table(secret)
    );
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn s3_settings_come_from_the_config_file() {
    let Some(url) = s3::fresh_url("config") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("host");
    found(&data, 2);
    let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();

    // A wrong secret: the host stops at start and names the object store.
    let config = write_config(dir.path(), &data, addr, &url, "not-the-secret");
    let mut child = spawn(Path::new(&config), dir.path());
    let status = wait_exit(&mut child, Duration::from_secs(60));
    let err = std::fs::read_to_string(dir.path().join("host.err")).unwrap();
    assert!(!status.success(), "started with a wrong secret: {err}");
    assert!(err.contains("object store"), "{err}");

    // The right one: the host founds the log in the bucket.
    let secret = std::env::var("AWS_SECRET_ACCESS_KEY").unwrap();
    let config = write_config(dir.path(), &data, addr, &url, &secret);
    let mut child = spawn(Path::new(&config), dir.path());
    let deadline = Instant::now() + Duration::from_secs(60);
    let bucket = ObjectTiles::open(&url).unwrap();
    let checkpoint = loop {
        if let Some(cp) = bucket.read("checkpoint").unwrap() {
            break cp;
        }
        let out = std::fs::read_to_string(dir.path().join("host.err")).unwrap();
        assert!(child.try_wait().unwrap().is_none(), "host exited: {out}");
        assert!(
            Instant::now() < deadline,
            "no checkpoint in the bucket: {out}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    child.kill().unwrap();
    child.wait().unwrap();
    let note = String::from_utf8(checkpoint).unwrap();
    assert!(note.starts_with(common::ORIGIN), "{note}");
    assert!(note.contains("\n1\n"), "the genesis is entry 0: {note}");
}

fn wait_exit(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("the host neither started nor exited within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
