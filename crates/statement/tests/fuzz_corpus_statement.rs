//! Replays the seed corpus of the `statement` fuzz target (`fuzz/corpus/statement/`)
//! through the very code the target runs, so `cargo test` exercises it without libFuzzer.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../../../fuzz/fuzz_targets/statement_harness.rs"]
mod statement_harness;

#[test]
fn statement_corpus() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz/corpus/statement");
    let mut count = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        statement_harness::statement(&std::fs::read(&path).unwrap());
        count += 1;
    }
    assert!(count >= 10, "the seed corpus has {count} inputs");
}
