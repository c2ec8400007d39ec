//! The body of the `jcs` fuzz target (RFC 8785 canonicalization, `statement::jcs`).
//!
//! Included with `#[path]` both by the fuzz target and by
//! `crates/statement/tests/fuzz_corpus_jcs.rs`, which replays the seed corpus under
//! `fuzz/corpus/jcs/` through exactly this code on every `cargo test`.
//!
//! Parsing arbitrary bytes must never panic. When it succeeds, the canonical form must
//! parse back to the same value, canonicalizing it again must give the same bytes, and
//! `canonicalize` must agree with `parse` then `canonical`.
#![allow(dead_code, clippy::expect_used)]

use statement::jcs;

/// Large enough for any statement; longer inputs exercise the size check.
pub const LIMIT: usize = 1 << 20;

/// Runs the checks on `data`; returns whether it was accepted.
pub fn jcs(data: &[u8]) -> bool {
    let Ok(value) = jcs::parse(data, LIMIT) else {
        return false;
    };
    let once = jcs::canonical(&value);
    let reparsed = jcs::parse(&once, LIMIT).expect("canonical output is I-JSON");
    assert_eq!(reparsed, value, "canonical output parses to another value");
    let twice = jcs::canonical(&reparsed);
    assert_eq!(once, twice, "canonicalization is not idempotent");
    assert_eq!(
        jcs::canonicalize(data, LIMIT).expect("accepted once"),
        once,
        "canonicalize disagrees with parse + canonical"
    );
    true
}
