//! Replays the seed corpora of the `note`, `checkpoint` and `cosignature` fuzz targets
//! (`fuzz/corpus/<target>/`) through the very code those targets run, so that `cargo test`
//! exercises them without libFuzzer.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../../../fuzz/fuzz_targets/note_harness.rs"]
mod note_harness;

fn replay(target: &str, run: fn(&[u8])) {
    let dir = format!("{}/../../fuzz/corpus/{target}", env!("CARGO_MANIFEST_DIR"));
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{dir}: {e}")) {
        let path = entry.unwrap().path();
        if path.is_file() {
            let data = std::fs::read(&path).unwrap();
            run(&data);
            count += 1;
        }
    }
    assert!(count > 0, "no seed inputs in {dir}");
}

#[test]
fn note_corpus() {
    replay("note", note_harness::note);
}

#[test]
fn checkpoint_corpus() {
    replay("checkpoint", note_harness::checkpoint);
}

#[test]
fn cosignature_corpus() {
    replay("cosignature", note_harness::cosignature);
}
