//! Replays the seed corpus of the `jcs` fuzz target (`fuzz/corpus/jcs/`) through the very
//! code the target runs, so `cargo test` exercises it without libFuzzer. Inputs that made
//! the fuzzer fail are added to that corpus.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../../../fuzz/fuzz_targets/jcs_harness.rs"]
mod jcs_harness;

#[test]
fn jcs_corpus() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz/corpus/jcs");
    let (mut count, mut accepted) = (0, 0);
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if !path.is_file() {
            continue;
        }
        let data = std::fs::read(&path).unwrap();
        let ok = std::panic::catch_unwind(|| jcs_harness::jcs(&data))
            .unwrap_or_else(|_| panic!("{} fails the jcs fuzz checks", path.display()));
        count += 1;
        accepted += usize::from(ok);
    }
    // The seeds hold accepted and refused inputs alike; all of one kind means the path or
    // the parser is broken.
    assert!(count >= 20, "the seed corpus has {count} inputs");
    assert!(
        accepted >= 10 && accepted < count,
        "{accepted} of {count} seed inputs accepted"
    );
}
