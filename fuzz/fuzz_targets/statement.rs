//! Fuzz target `statement`: see `statement_harness.rs` for what it checks.
#![no_main]

#[path = "statement_harness.rs"]
mod statement_harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| statement_harness::statement(data));
