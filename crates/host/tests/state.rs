//! Where the sequencer's state lives (`HostConfig::state`): the host fails closed rather
//! than start a log afresh in another backend.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{config, found, start};
use host::{Host, HostError};

/// A log whose state is in `state.sqlite` refuses `--state postgres://…`: an empty
/// PostgreSQL state would found the log a second time. Refused before connecting, so no
/// server is needed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_log_refuses_a_postgres_state() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("host");
    found(&data, &["cert-a"]);
    start(&data).await.stop().await;
    assert!(data.join("state.sqlite").exists());

    let mut c = config(&data);
    c.state = Some("postgres://nobody@127.0.0.1:1/none".parse().unwrap());
    match Host::start(c).await {
        Err(HostError::Config(m)) => assert!(m.contains("state.sqlite"), "{m}"),
        Err(e) => panic!("expected a configuration error, got {e}"),
        Ok(_) => panic!("the host started on an empty PostgreSQL state"),
    }
}
