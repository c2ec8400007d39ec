//! Fuzz target `signature`: see `signature_harness.rs` for what it checks.
#![no_main]

#[path = "signature_harness.rs"]
mod signature_harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| signature_harness::signature(data));
