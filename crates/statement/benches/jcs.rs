//! Canonicalization (RFC 8785, `statement::jcs`) of a typical 1 KiB statement, against
//! `serde_json` doing the nearest non-canonical job on the same value in the same run.
//!
//! Run with `cargo bench -p statement --bench jcs`.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde_json::{Value, json};
use statement::jcs;

const LIMIT: usize = 1 << 20;

/// A `message` statement as DESIGN.md describes it, about 1 KiB in canonical form: short
/// ASCII names, hex ids, a time, a text with escapes and a few non-ASCII characters, and
/// a base64 sealed part.
fn statement() -> Value {
    json!({
        "v": 1,
        "group": "example.org/detente/wg-1",
        "author": "cert.example-fr",
        "seq": 1842,
        "prev": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "time": "2026-03-01T12:34:56Z",
        "kind": "message",
        "refs": [
            "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
            "fcde2b2edba56bf408601fb721fe9b5c338d10ee429ea04fae5511b68fbf8fb9"
        ],
        "to": ["bsi.de", "ncsc.nl", "cert.example-fr"],
        "body": {
            "subject": "Re: coordinated disclosure window for the VPN appliance issue",
            "text": "Thanks \u{2014} we agree with the 90-day window.\nOur analysts \
                     confirmed the exploitation path on two appliances (firmware 7.2 and 7.4); \
                     indicators are in the attached report. We propose a joint advisory on \
                     the 14th, TLP:AMBER until then.\n\n\u{2013} \u{e9}quipe r\u{e9}ponse",
            "tlp": "AMBER",
            "due": "2026-03-14T09:00:00Z",
            "priority": 2,
            "score": 7.5
        },
        "sealed": "YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOSBhYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0NTY3ODkKc2VjcmV0IGtleSBzdGFuemEgYm9keSBwYWRkaW5nIHBhZGRpbmcgcGFkZGluZyBwYWRkaW5nCi0tLSBhYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ego="
    })
}

fn bench(c: &mut Criterion) {
    let value = statement();
    let text = serde_json::to_vec(&value).unwrap_or_default();
    let canonical = jcs::canonical(&value);

    let mut group = c.benchmark_group("jcs");
    group.throughput(Throughput::Bytes(canonical.len() as u64));
    group.bench_function("canonical (Value to bytes)", |b| {
        b.iter(|| jcs::canonical(black_box(&value)));
    });
    group.bench_function("serde_json::to_vec (Value to bytes)", |b| {
        b.iter(|| serde_json::to_vec(black_box(&value)));
    });
    let mut buffer = Vec::with_capacity(2 * canonical.len());
    group.bench_function("write_canonical into a reused buffer", |b| {
        b.iter(|| {
            buffer.clear();
            jcs::write_canonical(black_box(&value), &mut buffer);
        });
    });
    group.bench_function("parse (bytes to Value)", |b| {
        b.iter(|| jcs::parse(black_box(&text), LIMIT));
    });
    group.bench_function("serde_json::from_slice (bytes to Value)", |b| {
        b.iter(|| serde_json::from_slice::<Value>(black_box(&text)));
    });
    group.bench_function("canonicalize (bytes to bytes)", |b| {
        b.iter(|| jcs::canonicalize(black_box(&text), LIMIT));
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
