//! Fuzz target `jcs`: see `jcs_harness.rs` for what it checks.
#![no_main]

#[path = "jcs_harness.rs"]
mod jcs_harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    jcs_harness::jcs(data);
});
