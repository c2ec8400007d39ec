//! Replays the seed corpora of the `statement` and `signature` fuzz targets
//! (`fuzz/corpus/<target>/`) through the very code the targets run, so `cargo test`
//! exercises them without libFuzzer. (`fuzz_corpus_jcs.rs` does the same for `jcs`, and
//! also counts what the parser accepts.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../../../fuzz/fuzz_targets/signature_harness.rs"]
mod signature_harness;
#[path = "../../../fuzz/fuzz_targets/statement_harness.rs"]
mod statement_harness;

/// Runs every file of `fuzz/corpus/<target>/` through `run`; the corpus must hold at least
/// `min` inputs.
fn replay(target: &str, run: fn(&[u8]), min: usize) {
    let dir = format!("{}/../../fuzz/corpus/{target}", env!("CARGO_MANIFEST_DIR"));
    let mut count = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        run(&std::fs::read(&path).unwrap());
        count += 1;
    }
    assert!(count >= min, "the {target} seed corpus has {count} inputs");
}

#[test]
fn statement_corpus() {
    replay("statement", statement_harness::statement, 10);
}

#[test]
fn signature_corpus() {
    replay("signature", signature_harness::signature, 10);
}
