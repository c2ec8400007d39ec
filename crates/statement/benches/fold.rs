//! Statements verified and applied per second over a mixed log of 100,000 statements,
//! against raw Ed25519 verification of the same messages in the same run.
//!
//! Report the ratio `fold / raw`: JCS, parsing and the rules should cost little next to the
//! signature check (issue target: at least 0.7).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ed25519_dalek::SigningKey;
use serde_json::json;
use statement::build::{Author, Draft, genesis};
use statement::kind::{GenesisDocument, MemberEntry, Rules, WitnessPolicy};
use statement::{Group, MemberId, MemberKey, SealKey, Signed, Stance, Timestamp, Tlp, signature};

const ORIGIN: &str = "bench.example/detente";
const MEMBERS: usize = 8;
const LOG: usize = 100_000;

fn t(i: usize) -> Timestamp {
    Timestamp::from_unix(1_793_577_600 + i as i64).unwrap()
}

fn bundle(i: usize) -> serde_json::Value {
    json!({"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", "objects": [{
        "type": "indicator", "spec_version": "2.1", "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "created": "2026-11-01T10:00:00.000Z", "modified": "2026-11-01T10:00:00.000Z",
        "pattern": format!("[ipv4-addr:value = '10.0.{}.{}']", i / 256 % 256, i % 256),
        "pattern_type": "stix", "valid_from": "2026-11-01T10:00:00Z"}]})
}

/// Genesis plus a mixed log: messages and replies, reports, requests, receipts, proposals
/// and positions, round-robin over the members.
fn make_log() -> Vec<Signed> {
    let keys: Vec<SigningKey> = (0..MEMBERS)
        .map(|i| SigningKey::from_bytes(&[i as u8 + 1; 32]))
        .collect();
    let ids: Vec<MemberId> = (0..MEMBERS)
        .map(|i| MemberId::new(&format!("cert-{i}")).unwrap())
        .collect();
    let seal = SealKey::from(age::x25519::Identity::generate().to_public());
    let founders = (0..MEMBERS)
        .map(|i| MemberEntry {
            id: ids[i].clone(),
            name: format!("CERT {i}"),
            key: MemberKey::new(ids[i].clone(), keys[i].verifying_key()),
            seal: seal.clone(),
            contact: None,
        })
        .collect();
    let log_key =
        tlog::note::Signer::from_seed(tlog::note::KeyName::new(ORIGIN).unwrap(), &[9; 32]);
    let document = GenesisDocument {
        name: "bench".into(),
        origin: ORIGIN.into(),
        log_key: log_key.verifier().to_vkey(),
        founders,
        rules: Rules {
            member_quorum: 2,
            witnesses: WitnessPolicy::default(),
        },
    };
    let sigs = (0..MEMBERS)
        .map(|i| document.sign(ids[i].clone(), &keys[i]).unwrap())
        .collect();
    let mut authors: Vec<Author> = (0..MEMBERS)
        .map(|i| Author::new(ORIGIN, ids[i].clone(), keys[i].clone()))
        .collect();
    let mut log = vec![genesis(document, sigs, &mut authors[0], &t(0)).unwrap()];
    let mut proposal = None;
    while log.len() < LOG {
        let i = log.len();
        let last = log[i - 1].id();
        let draft = match i % 10 {
            0..=3 => Draft::message(&format!("Message {i} about the incident, with some words."))
                .refs(&[last]),
            4 => Draft::report(Tlp::Green, "indicator", bundle(i)),
            5 => Draft::request("help", "Do you see this address?", &t(i + 3600))
                .to(&[ids[(i + 1) % MEMBERS].clone()]),
            6 => Draft::receipt(&[last]),
            7 => Draft::proposal("norm", &format!("Text of norm {i}.")),
            8 => Draft::position(proposal.unwrap_or(last), Stance::Support, None),
            _ => Draft::message("plain"),
        };
        let s = authors[i % MEMBERS].sign(draft, &t(i)).unwrap();
        if i % 10 == 7 {
            proposal = Some(s.id());
        }
        log.push(s);
    }
    log
}

fn bench(c: &mut Criterion) {
    let log = make_log();
    let leaves: Vec<Vec<u8>> = log.iter().map(|s| s.leaf().to_vec()).collect();
    let mut reference = Group::new();
    for s in &log {
        reference.apply(s).unwrap();
    }
    let keys: Vec<_> = log
        .iter()
        .map(|s| {
            *reference
                .member(&s.statement().author)
                .unwrap()
                .key
                .verifying_key()
        })
        .collect();
    let mut group = c.benchmark_group("fold");
    group
        .sample_size(10)
        .throughput(Throughput::Elements(log.len() as u64));
    group.bench_function("raw_ed25519_verify_strict", |b| {
        b.iter(|| {
            for (s, k) in log.iter().zip(&keys) {
                assert!(k.verify_strict(s.signed_message(), s.signature()).is_ok());
            }
        })
    });
    group.bench_function("rule_verify_one_by_one", |b| {
        b.iter(|| {
            for (s, k) in log.iter().zip(&keys) {
                assert!(signature::verify(k, s.signed_message(), s.signature()));
            }
        })
    });
    // Batches of 64 in log order (8 authors round-robin), as a node's sync checks them.
    let claims: Vec<signature::Claim<'_>> =
        log.iter().zip(&keys).map(|(s, key)| s.claim(key)).collect();
    group.bench_function("rule_verify_batches_of_64", |b| {
        b.iter(|| assert!(claims.chunks(64).all(signature::verify_batch)))
    });
    // Batches of 64 by one author each, as a member's batched request is.
    let mut by_author = claims.clone();
    by_author.sort_by_key(|c| *c.key.as_bytes());
    // The same by one author in chunks of 32 to 256: what the size of the host's chunks
    // (`signature::CHUNK`) trades.
    for n in [32, 64, 128, 256] {
        group.bench_function(format!("rule_verify_batches_of_{n}_one_author"), |b| {
            b.iter(|| assert!(by_author.chunks(n).all(signature::verify_batch)))
        });
    }
    group.bench_function("parse_verify_apply", |b| {
        b.iter(|| {
            let mut g = Group::new();
            for leaf in &leaves {
                g.apply(&Signed::from_leaf(leaf).unwrap()).unwrap();
            }
            g.size()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
