//! A fresh prefix per test in the bucket named by `DETENTE_TEST_S3` (with the `AWS_*`
//! variables that `object_store` reads: endpoint, region, credentials).
//!
//! Without that variable the object store tests fail and say how to start a server,
//! unless `DETENTE_SKIP_S3=1` says explicitly to skip them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use std::sync::atomic::{AtomicU32, Ordering};

/// The variable naming the test bucket (`s3://BUCKET[/PREFIX]`).
pub const URL_VAR: &str = "DETENTE_TEST_S3";
/// The variable that skips the object store tests explicitly.
pub const SKIP_VAR: &str = "DETENTE_SKIP_S3";

/// The test bucket's URL, or `None` when the tests are skipped explicitly; panics with
/// instructions otherwise.
pub fn bucket_url() -> Option<String> {
    if let Ok(url) = std::env::var(URL_VAR) {
        return Some(url.trim_end_matches('/').to_owned());
    }
    if std::env::var(SKIP_VAR).as_deref() == Ok("1") {
        eprintln!("{SKIP_VAR}=1: skipping an object store test");
        return None;
    }
    panic!(
        "{URL_VAR} is not set, so the object store tests cannot run. `source .ci/deps` \
         installs and starts a single-node Garage on 127.0.0.1:3900 and exports {URL_VAR}=s3://\
         detente-test with AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID, \
         AWS_SECRET_ACCESS_KEY and AWS_ALLOW_HTTP=true (any S3-compatible bucket works the \
         same way). Or set {SKIP_VAR}=1 to skip these tests on purpose."
    )
}

/// A URL under a prefix no other test (in this run or another) uses; `None` when the
/// object store tests are skipped. Objects are left behind: the prefix is unique, and the
/// test bucket is scratch space.
pub fn fresh_url(tag: &str) -> Option<String> {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let base = bucket_url()?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    Some(format!(
        "{base}/t-{tag}-{}-{}-{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ))
}
