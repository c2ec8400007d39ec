//! Fuzz target `cosignature`: see `note_harness.rs` for what it checks.
#![no_main]

#[path = "note_harness.rs"]
mod note_harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| note_harness::cosignature(data));
