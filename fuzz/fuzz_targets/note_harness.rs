//! The bodies of the `note`, `checkpoint` and `cosignature` fuzz targets.
//!
//! Included with `#[path]` both by the fuzz targets and by
//! `crates/tlog/tests/fuzz_corpus_note.rs`, which replays the seed corpora under
//! `fuzz/corpus/{note,checkpoint,cosignature}/` through exactly this code on every
//! `cargo test`, without libFuzzer.
//!
//! Each function must never panic on any input except through one of its own assertions,
//! which state properties that hold for every input: whatever parses formats back to the
//! same bytes, and whatever we sign opens.
#![allow(dead_code)]

use std::sync::OnceLock;

use tlog::Hash;
use tlog::checkpoint::{Checkpoint, Origin};
use tlog::cosignature::{
    AddCheckpointRequest, Cosignature, CosignatureError, Cosigner, MAX_TIMESTAMP,
    format_add_checkpoint_response, format_conflict_body, parse_add_checkpoint_response,
    parse_conflict_body,
};
use tlog::note::{KeyName, KeyType, Note, SignatureLine, Signer, Verifier, VerifierSet};

struct Keys {
    log: Signer,
    cosigner: Cosigner,
    known: VerifierSet,
    origin: Origin,
    checkpoint: Checkpoint,
}

/// Fixed keys (from constant seeds: fuzzing must be deterministic).
fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let origin = Origin::new("fuzz.example/log").expect("valid origin");
        let log = Signer::from_seed(origin.key_name(), &[0x11; 32]);
        let cosigner = Cosigner::from_seed(
            KeyName::new("fuzz.example/witness").expect("valid name"),
            &[0x22; 32],
        );
        let known = VerifierSet::from_verifiers([
            Verifier::from(log.verifier()),
            Verifier::from(cosigner.verifier()),
        ])
        .expect("distinct keys");
        let checkpoint = Checkpoint::new(origin.clone(), 7, Hash([0x33; 32]));
        Keys {
            log,
            cosigner,
            known,
            origin,
            checkpoint,
        }
    })
}

/// Signed notes, signature lines and key strings.
pub fn note(data: &[u8]) {
    let k = keys();
    if let Ok(note) = Note::parse(data) {
        assert_eq!(
            note.to_bytes(),
            data,
            "a parsed note formats back to its bytes"
        );
        assert_eq!(note.encoded_len(), data.len());
        let report = note.verify(&k.known);
        let lines = note.signatures().len();
        for v in &report.verified {
            assert!(v.index < lines);
            assert!(!report.unknown.contains(&v.index) && !report.invalid.contains(&v.index));
        }
        assert!(report.unknown.iter().all(|i| !report.invalid.contains(i)));
        let accepted = report.invalid.is_empty() && !report.verified.is_empty();
        assert_eq!(note.clone().open(&k.known).is_ok(), accepted);
        // Re-signing the parsed text with a known key always opens (unless the bigger note
        // no longer fits the size limit).
        if let Ok(signed) = Note::sign(note.text(), &[&k.log]) {
            let opened = signed.open(&k.known).expect("our own signature opens");
            assert_eq!(opened.text(), note.text());
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(v) = Verifier::from_vkey(text) {
            assert_eq!(v.to_vkey(), text, "a parsed vkey formats back");
        }
        if let Ok(s) = Signer::from_skey(text) {
            assert_eq!(s.to_skey(), text, "a parsed skey formats back");
        }
        if let Ok(c) = Cosigner::from_skey(text) {
            assert_eq!(c.to_skey(), text, "a parsed cosigner skey formats back");
        }
        if let Ok(line) = SignatureLine::parse(text) {
            assert_eq!(
                line.to_string(),
                text,
                "a parsed signature line formats back"
            );
        }
    }
}

/// Checkpoint texts and signed checkpoint notes.
pub fn checkpoint(data: &[u8]) {
    let k = keys();
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(checkpoint) = Checkpoint::parse(text)
    {
        assert_eq!(
            checkpoint.to_text(),
            text,
            "a parsed checkpoint formats back"
        );
        // Sign with the log key (named after our origin, used for any origin here) and
        // cosign: the note opens for its origin with one log signature and one cosignature.
        let log = Signer::from_seed(checkpoint.origin().key_name(), &[0x44; 32]);
        let mut known = VerifierSet::new();
        known.insert(log.verifier()).expect("empty set");
        known.insert(k.cosigner.verifier()).expect("distinct keys");
        if let Ok(mut note) = checkpoint.sign(&[&log]) {
            let timestamp = checkpoint.size() & MAX_TIMESTAMP;
            let line = k
                .cosigner
                .cosign(&checkpoint, timestamp)
                .expect("timestamp in range");
            if note.add_signature(line).is_ok() {
                let opened = Checkpoint::open(&note.to_bytes(), checkpoint.origin(), &known)
                    .expect("our own checkpoint opens");
                assert_eq!(opened.checkpoint(), &checkpoint);
                assert_eq!(opened.log_signatures().len(), 1);
                assert_eq!(opened.cosignatures().len(), 1);
                assert_eq!(opened.cosignatures()[0].timestamp, Some(timestamp));
            }
        }
    }
    if let Ok(opened) = Checkpoint::open(data, &k.origin, &k.known) {
        assert_eq!(opened.checkpoint().origin(), &k.origin);
        assert!(
            opened
                .log_signatures()
                .iter()
                .all(|v| v.key_type == KeyType::Ed25519 && v.name == *k.log.name())
        );
        assert_eq!(opened.note().to_bytes(), data);
    }
}

/// Cosignatures and the tlog-witness `add-checkpoint` bodies.
pub fn cosignature(data: &[u8]) {
    let k = keys();
    if let Ok(request) = AddCheckpointRequest::parse(data) {
        assert_eq!(request.to_bytes(), data, "a parsed request formats back");
        assert!(request.proof().len() <= 63);
    }
    if let Ok(lines) = parse_add_checkpoint_response(data) {
        let formatted = format_add_checkpoint_response(&lines).expect("non-empty");
        assert_eq!(formatted, data, "a parsed response formats back");
    }
    if let Ok(size) = parse_conflict_body(data) {
        assert_eq!(format_conflict_body(size).as_bytes(), data);
    }
    if let Ok(c) = Cosignature::decode(data) {
        assert_eq!(c.to_bytes().as_slice(), data);
    }
    if let Some(time) = data.first_chunk::<8>() {
        let timestamp = u64::from_be_bytes(*time);
        match k.cosigner.cosign(&k.checkpoint, timestamp) {
            Ok(line) => {
                assert!(timestamp <= MAX_TIMESTAMP);
                let verified = k.cosigner.verifier().verify(&k.checkpoint, &line);
                assert_eq!(verified, Ok(timestamp));
                let decoded = Cosignature::from_line(&line).expect("our own cosignature");
                assert_eq!(decoded.timestamp(), timestamp);
                assert_eq!(decoded.key_id(), k.cosigner.key_id());
            }
            Err(e) => {
                assert!(timestamp > MAX_TIMESTAMP);
                assert_eq!(e, CosignatureError::InvalidTimestamp { timestamp });
            }
        }
    }
}
