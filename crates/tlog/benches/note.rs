//! Cost of opening checkpoints, against raw Ed25519 verification of a message of the same
//! size (the floor: one signature check is the unavoidable part).
//!
//! Run: `cargo bench -p tlog --bench note -- --warm-up-time 1 --measurement-time 3`.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ed25519_dalek::{Signature, Signer as _, SigningKey};
use tlog::Hash;
use tlog::checkpoint::{Checkpoint, Origin};
use tlog::cosignature::Cosigner;
use tlog::note::{KeyName, Note, Signer, VerifierSet};

fn bench(c: &mut Criterion) {
    let origin = Origin::new("example.org/detente/wg-1").unwrap();
    let checkpoint = Checkpoint::new(origin.clone(), 20_852_163, Hash([0x5a; 32]));
    let log = Signer::from_seed(origin.key_name(), &[1; 32]);
    let witnesses: Vec<Cosigner> = (0..3u8)
        .map(|i| {
            Cosigner::from_seed(
                KeyName::new(format!("witness.example/w{i}")).unwrap(),
                &[10 + i; 32],
            )
        })
        .collect();

    // Baseline: one strict Ed25519 verification of the checkpoint text, as a log signature
    // check does, without any parsing.
    let text = checkpoint.to_text();
    let key = SigningKey::from_bytes(&[1; 32]);
    let signature: Signature = key.sign(text.as_bytes());
    let verifying = key.verifying_key();

    let signed = checkpoint.sign(&[&log]).unwrap().to_bytes();
    let mut cosigned: Note = checkpoint.sign(&[&log]).unwrap();
    for (i, w) in witnesses.iter().enumerate() {
        cosigned
            .add_signature(w.cosign(&checkpoint, 1_700_000_000 + i as u64).unwrap())
            .unwrap();
    }
    let cosigned = cosigned.to_bytes();

    let mut log_only = VerifierSet::new();
    log_only.insert(log.verifier()).unwrap();
    let mut everyone = log_only.clone();
    for w in &witnesses {
        everyone.insert(w.verifier()).unwrap();
    }
    assert_eq!(
        Checkpoint::open(&cosigned, &origin, &everyone)
            .unwrap()
            .cosignatures()
            .len(),
        3
    );

    let mut group = c.benchmark_group("checkpoint");
    group.throughput(Throughput::Elements(1));
    group.bench_function("ed25519_verify_strict_baseline", |b| {
        b.iter(|| {
            verifying
                .verify_strict(black_box(text.as_bytes()), black_box(&signature))
                .unwrap()
        })
    });
    group.bench_function("parse_only", |b| {
        b.iter(|| {
            let note = Note::parse(black_box(&cosigned)).unwrap();
            Checkpoint::parse(note.text()).unwrap()
        })
    });
    group.bench_function("open_log_signature", |b| {
        b.iter(|| Checkpoint::open(black_box(&signed), &origin, &log_only).unwrap())
    });
    group.bench_function("open_log_signature_and_3_cosignatures", |b| {
        b.iter(|| Checkpoint::open(black_box(&cosigned), &origin, &everyone).unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
