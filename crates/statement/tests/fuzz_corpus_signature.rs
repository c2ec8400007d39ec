//! Replays the seed corpus of the `signature` fuzz target (`fuzz/corpus/signature/`)
//! through the very code the target runs, so `cargo test` exercises it without libFuzzer.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../../../fuzz/fuzz_targets/signature_harness.rs"]
mod signature_harness;

#[test]
fn signature_corpus() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz/corpus/signature");
    let mut count = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        signature_harness::signature(&std::fs::read(&path).unwrap());
        count += 1;
    }
    assert!(count >= 10, "the seed corpus has {count} inputs");
}
