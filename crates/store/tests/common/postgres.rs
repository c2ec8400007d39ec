//! A fresh PostgreSQL schema per test, on the server named by `DETENTE_TEST_POSTGRES`.
//!
//! Without that variable the PostgreSQL tests fail and say how to start a server, unless
//! `DETENTE_SKIP_POSTGRES=1` says explicitly to skip them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use std::sync::atomic::{AtomicU32, Ordering};

/// The variable naming the test server.
pub const URL_VAR: &str = "DETENTE_TEST_POSTGRES";
/// The variable that skips the PostgreSQL tests explicitly.
pub const SKIP_VAR: &str = "DETENTE_SKIP_POSTGRES";

/// A schema of its own on the test server, dropped when this goes out of scope.
pub struct PgSchema {
    admin_url: String,
    name: String,
    /// The URL to hand to `PostgresState::connect`: the server's, with `search_path` set to
    /// this schema.
    pub url: String,
}

/// The test server's URL, or `None` when the tests are skipped explicitly; panics with
/// instructions otherwise.
pub fn server_url() -> Option<String> {
    if let Ok(url) = std::env::var(URL_VAR) {
        return Some(url);
    }
    if std::env::var(SKIP_VAR).as_deref() == Ok("1") {
        eprintln!("{SKIP_VAR}=1: skipping a PostgreSQL test");
        return None;
    }
    panic!(
        "{URL_VAR} is not set, so the PostgreSQL tests cannot run. Start a server and name it, \
         for example (Debian, as root):\n  pg_ctlcluster 15 main start\n  su postgres -c \
         \"psql -c \\\"CREATE ROLE detente LOGIN PASSWORD 'detente'\\\"\"\n  su postgres -c \
         'createdb -O detente detente_test'\n  export \
         {URL_VAR}=postgres://detente:detente@127.0.0.1:5432/detente_test\n(.ci/run does \
         this.) Or set {SKIP_VAR}=1 to skip these tests on purpose."
    )
}

impl PgSchema {
    /// Creates a new, empty schema; `None` when the PostgreSQL tests are skipped.
    pub fn fresh(tag: &str) -> Option<PgSchema> {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let admin_url = server_url()?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let name = format!(
            "t_{tag}_{}_{}_{nanos}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        run(&admin_url, &format!("CREATE SCHEMA {name}"));
        let sep = if admin_url.contains('?') { '&' } else { '?' };
        let url = format!("{admin_url}{sep}options=-csearch_path%3D{name}");
        Some(PgSchema {
            admin_url,
            name,
            url,
        })
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        run(
            &self.admin_url,
            &format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name),
        );
    }
}

/// Runs one statement on the server (test set-up only), on a thread of its own so that it
/// works from async tests too (a runtime cannot be started inside another).
fn run(url: &str, sql: &str) {
    std::thread::scope(|s| s.spawn(|| run_here(url, sql)).join().unwrap());
}

fn run_here(url: &str, sql: &str) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to {URL_VAR}={url}: {e}"));
        tokio::spawn(connection);
        client
            .batch_execute(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    });
}
