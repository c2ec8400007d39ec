//! Fuzzes proof verification and planning with arbitrary sizes, roots and proofs, and
//! real proofs with fuzz-chosen corruptions. The body is in `proof_harness.rs`.
#![no_main]

#[path = "proof_harness.rs"]
mod proof_harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| proof_harness::run(data));
