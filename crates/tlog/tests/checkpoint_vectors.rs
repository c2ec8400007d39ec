//! Checkpoints, cosignatures and witness bodies: known answers from the C2SP specs, every
//! error, bit flips, round trips.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use tlog::Hash;
use tlog::checkpoint::{Checkpoint, CheckpointError, DecimalProblem, MAX_ORIGIN_LEN, Origin};
use tlog::cosignature::{
    self, AddCheckpointRequest, COSIGNATURE_SIZE, Cosignature, CosignatureError,
    CosignatureVerifier, Cosigner, MAX_ADD_CHECKPOINT_REQUEST_SIZE, MAX_PROOF_LINES, MAX_TIMESTAMP,
};
use tlog::note::{
    ErrorClass, KeyId, KeyName, KeyProblem, KeyType, LineProblem, MAX_NOTE_SIZE, NameProblem, Note,
    NoteError, SignatureLine, Signer, Verifier, VerifierSet,
};

// C2SP tlog-checkpoint.md (also the opening example of tlog-cosignature.md and the
// add-checkpoint example of tlog-witness.md).
const CHECKPOINT_TEXT: &str = "example.com/behind-the-sofa\n\
                               20852163\n\
                               CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
const LOG_SIG_1: &str = "— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n";
// C2SP tlog-witness.md, add-checkpoint example request (a second log key).
const LOG_SIG_2: &str = "— example.com/behind-the-sofa opLqBQsREYCgu6xQkYQwJr9fo45a62DN9EdmHXnZdXNqlcVGlCum2Wks+49/V6267UEjw6QUXTS5Rovnzv++qbSzm9Q=\n";
// C2SP tlog-cosignature.md, example cosignature (the witness key is not published, so it
// can be decoded but not verified).
const COSIG: &str = "— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n";
// C2SP tlog-cosignature.md, §Ed25519 signed message example.
const COSIG_MESSAGE: &str = "cosignature/v1\n\
                             time 1679315147\n\
                             example.com/behind-the-sofa\n\
                             20852163\n\
                             CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
// C2SP tlog-witness.md, add-checkpoint example request body.
const WITNESS_PROOF: [&str; 4] = [
    "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=",
    "jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=",
    "5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=",
    "/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=",
];
// C2SP tlog-witness.md, add-checkpoint example response body (illustrative values).
const WITNESS_RESPONSE: &str = "— witness.example/w1 CMp+6LWBU0anHGH5aNDTJkH/gj79sG+T6+iP2ThYN5krrDJbR1HDnucjL39QsZTSvVjyQLrdk3DXDqI5G2HgLatVs0pWh6Up69HVOw==\n\
                                — witness.example/w1 I7rEps0pvK2UqkS2gSpVUDhrhVtQV9lgF6pRrWAvjJHjyWpW7VcE3SiOlVlbQNt64vWhO+DlkL0+UfzuOBMh9ChdMkP1vi/lCAsmlw==\n\
                                — witness.example/w2 AWui8Sk55XjYLOijihBjhqEH6nS1ndDymE0a+6idX7pLcnoB+dhnz0854aLZgrrKbYKA7nC3HNJhm/kWl7oJlqU3rXXvpysAdyP3wQ==\n";

fn witness_request_body() -> String {
    format!(
        "old 20852014\n{}\n\n{CHECKPOINT_TEXT}\n{LOG_SIG_1}{LOG_SIG_2}",
        WITNESS_PROOF.join("\n")
    )
}

fn name(s: &str) -> KeyName {
    KeyName::new(s).unwrap()
}

fn origin() -> Origin {
    Origin::new("example.com/behind-the-sofa").unwrap()
}

/// A log and three witnesses with fixed keys.
struct Fixture {
    log: Signer,
    witnesses: Vec<Cosigner>,
    known: VerifierSet,
}

fn fixture() -> Fixture {
    let log = Signer::from_seed(origin().key_name(), &[7; 32]);
    let witnesses: Vec<Cosigner> = (1..=3u8)
        .map(|i| Cosigner::from_seed(name(&format!("witness.example/w{i}")), &[i; 32]))
        .collect();
    let mut known = VerifierSet::new();
    known.insert(log.verifier()).unwrap();
    for w in &witnesses {
        known.insert(w.verifier()).unwrap();
    }
    Fixture {
        log,
        witnesses,
        known,
    }
}

fn spec_checkpoint() -> Checkpoint {
    Checkpoint::parse(CHECKPOINT_TEXT).unwrap()
}

/// The spec checkpoint signed by the fixture's log and cosigned by its three witnesses at
/// times 1000, 1001, 1002.
fn cosigned(f: &Fixture) -> Note {
    let checkpoint = spec_checkpoint();
    let mut note = checkpoint.sign(&[&f.log]).unwrap();
    for (i, w) in f.witnesses.iter().enumerate() {
        note.add_signature(w.cosign(&checkpoint, 1000 + i as u64).unwrap())
            .unwrap();
    }
    note
}

#[test]
fn spec_checkpoint_parses_and_formats_byte_for_byte() {
    let checkpoint = spec_checkpoint();
    assert_eq!(checkpoint.origin().as_str(), "example.com/behind-the-sofa");
    assert_eq!(checkpoint.size(), 20852163);
    assert_eq!(
        checkpoint.root().to_base64(),
        "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="
    );
    assert!(checkpoint.extensions().is_empty());
    assert_eq!(checkpoint.to_text(), CHECKPOINT_TEXT);
    assert_eq!(checkpoint.to_string(), CHECKPOINT_TEXT);

    // The signed example: one log signature, key ID 033de0ae, 64 signature bytes.
    let bytes = format!("{CHECKPOINT_TEXT}\n{LOG_SIG_1}");
    let note = Note::parse(bytes.as_bytes()).unwrap();
    assert_eq!(note.to_bytes(), bytes.as_bytes());
    let line = &note.signatures()[0];
    assert_eq!(line.key_id().to_hex(), "033de0ae");
    assert_eq!(line.signature().len(), 64);
    // The log key is not published: with our keys its signature is simply unknown.
    assert_eq!(
        Checkpoint::open(bytes.as_bytes(), &origin(), &fixture().known),
        Err(CheckpointError::NoLogSignature)
    );
}

#[test]
fn spec_cosignature_decodes() {
    let bytes = format!("{CHECKPOINT_TEXT}\n{LOG_SIG_1}{COSIG}");
    let note = Note::parse(bytes.as_bytes()).unwrap();
    let line = &note.signatures()[1];
    assert_eq!(line.name().as_str(), "witness.example.com/w1");
    let cosignature = Cosignature::from_line(line).unwrap();
    assert_eq!(cosignature.key_id(), KeyId([0x8d, 0x66, 0xcf, 0x3f]));
    assert_eq!(cosignature.timestamp(), 1679315147);
    assert_eq!(cosignature.to_bytes().len(), COSIGNATURE_SIZE);
    // The message that signature covers, as the spec spells it out.
    let message = cosignature::signed_message(&spec_checkpoint(), 1679315147).unwrap();
    assert_eq!(message, COSIG_MESSAGE.as_bytes());
}

#[test]
fn spec_witness_request_and_response() {
    let body = witness_request_body();
    let request = AddCheckpointRequest::parse(body.as_bytes()).unwrap();
    assert_eq!(request.old_size(), 20852014);
    let proof: Vec<String> = request.proof().iter().map(Hash::to_base64).collect();
    assert_eq!(proof, WITNESS_PROOF);
    assert_eq!(request.checkpoint(), &spec_checkpoint());
    let ids: Vec<String> = request
        .note()
        .signatures()
        .iter()
        .map(|l| l.key_id().to_hex())
        .collect();
    assert_eq!(ids, ["033de0ae", "a292ea05"]);
    assert_eq!(request.to_bytes(), body.as_bytes());
    let rebuilt = AddCheckpointRequest::new(
        request.old_size(),
        request.proof().to_vec(),
        request.note().clone(),
    )
    .unwrap();
    assert_eq!(rebuilt, request);

    let lines = cosignature::parse_add_checkpoint_response(WITNESS_RESPONSE.as_bytes()).unwrap();
    assert_eq!(lines.len(), 3);
    // Each line is cosignature-sized (76 bytes with the key ID), but the spec's values are
    // random bytes: two of the "timestamps" exceed 2^63 - 1 and do not decode.
    let ids: Vec<String> = lines.iter().map(|l| l.key_id().to_hex()).collect();
    assert_eq!(ids, ["08ca7ee8", "23bac4a6", "016ba2f1"]);
    for line in &lines {
        assert_eq!(4 + line.signature().len(), COSIGNATURE_SIZE);
    }
    assert_eq!(
        Cosignature::from_line(&lines[0]),
        Err(CosignatureError::TimestampTooLarge {
            timestamp: 13078826355777102329
        })
    );
    assert_eq!(
        Cosignature::from_line(&lines[2]).unwrap().timestamp(),
        2970657736413210787
    );
    assert_eq!(lines[2].name().as_str(), "witness.example/w2");
    assert_eq!(
        cosignature::format_add_checkpoint_response(&lines).unwrap(),
        WITNESS_RESPONSE.as_bytes()
    );
    // The spec's suggestion: append the response to the checkpoint and open it as a note.
    let appended = format!("{CHECKPOINT_TEXT}\n{LOG_SIG_1}{WITNESS_RESPONSE}");
    assert_eq!(
        Note::parse(appended.as_bytes()).unwrap().signatures().len(),
        4
    );

    assert_eq!(cosignature::format_conflict_body(20852014), "20852014\n");
    assert_eq!(
        cosignature::parse_conflict_body(b"20852014\n"),
        Ok(20852014)
    );
}

#[test]
fn log_signature_and_cosignatures_verify_in_one_call() {
    let f = fixture();
    let note = cosigned(&f);
    let opened = Checkpoint::open(&note.to_bytes(), &origin(), &f.known).unwrap();
    assert_eq!(opened.checkpoint(), &spec_checkpoint());
    assert_eq!(opened.log_signatures().len(), 1);
    assert_eq!(opened.log_signatures()[0].key_type, KeyType::Ed25519);
    let times: Vec<_> = opened.cosignatures().iter().map(|v| v.timestamp).collect();
    assert_eq!(times, [Some(1000), Some(1001), Some(1002)]);
    assert!(
        opened
            .cosignatures()
            .iter()
            .all(|v| v.key_type == KeyType::CosignatureV1)
    );
    // Each cosignature also verifies on its own.
    for (i, w) in f.witnesses.iter().enumerate() {
        let line = &note.signatures()[i + 1];
        assert_eq!(
            w.verifier().verify(&spec_checkpoint(), line),
            Ok(1000 + i as u64)
        );
    }
    // Unknown signatures (the spec's own) next to ours are ignored.
    let mut with_unknown = note.clone();
    with_unknown
        .add_signature(SignatureLine::parse(LOG_SIG_2.trim_end()).unwrap())
        .unwrap();
    let opened = Checkpoint::open(&with_unknown.to_bytes(), &origin(), &f.known).unwrap();
    assert_eq!(opened.cosignatures().len(), 3);
    // A witness cosigning again replaces its line.
    let mut again = note.clone();
    again
        .add_signature(f.witnesses[0].cosign(&spec_checkpoint(), 5000).unwrap())
        .unwrap();
    assert_eq!(again.signatures().len(), 4);
    let opened = Checkpoint::open(&again.to_bytes(), &origin(), &f.known).unwrap();
    assert_eq!(opened.cosignatures()[0].timestamp, Some(5000));
}

#[test]
fn vkeys_of_both_kinds() {
    let f = fixture();
    let w = &f.witnesses[0];
    let vkey = w.verifier().to_vkey();
    assert!(vkey.starts_with(&format!("witness.example/w1+{}+B", w.key_id())));
    let parsed = Verifier::from_vkey(&vkey).unwrap();
    assert_eq!(parsed.key_type(), KeyType::CosignatureV1);
    assert_eq!(parsed, Verifier::Cosignature(w.verifier()));
    assert_eq!(CosignatureVerifier::from_vkey(&vkey).unwrap(), w.verifier());
    assert_eq!(
        Cosigner::from_skey(&w.to_skey()).unwrap().key_id(),
        w.key_id()
    );
    assert!(w.to_skey().starts_with("PRIVATE+KEY+witness.example/w1+"));
    assert!(!format!("{w:?}").contains(&w.to_skey()[40..]));
    // A cosigner vkey is not a log vkey.
    assert_eq!(
        tlog::note::Ed25519Verifier::from_vkey(&vkey),
        Err(NoteError::MalformedKey(KeyProblem::UnexpectedType {
            found: 4
        }))
    );
    assert_eq!(
        CosignatureVerifier::from_vkey(&f.log.verifier().to_vkey()),
        Err(NoteError::MalformedKey(KeyProblem::UnexpectedType {
            found: 1
        }))
    );
    // transparency-dev/formats note/note_cosigv1_test.go (TestCoSigV1NewVerifier): a
    // published type-0x04 verifier key.
    let remora = "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2";
    let v = CosignatureVerifier::from_vkey(remora).unwrap();
    assert_eq!(v.key_id().to_hex(), "da77ade7");
    assert_eq!(v.to_vkey(), remora);
}

#[test]
fn checkpoint_parse_errors() {
    let parse = |t: &str| Checkpoint::parse(t);
    let root = "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=";
    assert_eq!(
        parse("a\n1\n"),
        Err(CheckpointError::TooFewLines { found: 2 })
    );
    assert_eq!(parse("\n"), Err(CheckpointError::TooFewLines { found: 1 }));
    assert_eq!(
        parse(&format!("a\n1\n{root}")),
        Err(CheckpointError::MissingFinalNewline)
    );
    assert_eq!(
        parse(&format!("a\n1\n{root}\n\n")),
        Err(CheckpointError::EmptyExtensionLine { index: 0 })
    );
    assert_eq!(
        parse(&format!("a\n1\n{root}\next\n\n")),
        Err(CheckpointError::EmptyExtensionLine { index: 1 })
    );
    assert_eq!(
        parse(&format!("a\r\n1\n{root}\n")),
        Err(CheckpointError::ControlCharacter { offset: 1 })
    );
    assert_eq!(
        parse(&format!("\n1\n{root}\n")),
        Err(CheckpointError::InvalidOrigin(NameProblem::Empty))
    );
    assert_eq!(
        parse(&format!("go.sum database tree\n1\n{root}\n")),
        Err(CheckpointError::InvalidOrigin(
            NameProblem::ForbiddenCharacter { ch: ' ' }
        ))
    );
    let long = "o".repeat(MAX_ORIGIN_LEN + 1);
    assert_eq!(
        parse(&format!("{long}\n1\n{root}\n")),
        Err(CheckpointError::InvalidOrigin(NameProblem::TooLong {
            len: MAX_ORIGIN_LEN + 1,
            max: MAX_ORIGIN_LEN
        }))
    );
    for (size, problem) in [
        ("", DecimalProblem::Empty),
        ("01", DecimalProblem::LeadingZero),
        ("+1", DecimalProblem::NotDigits),
        ("-0", DecimalProblem::NotDigits),
        ("1 ", DecimalProblem::NotDigits),
        ("18446744073709551616", DecimalProblem::Overflow),
    ] {
        assert_eq!(
            parse(&format!("a\n{size}\n{root}\n")),
            Err(CheckpointError::InvalidSize(problem))
        );
    }
    assert_eq!(
        parse(&format!("a\n18446744073709551615\n{root}\n"))
            .unwrap()
            .size(),
        u64::MAX
    );
    assert_eq!(parse(&format!("a\n0\n{root}\n")).unwrap().size(), 0);
    for bad_root in [
        "",
        "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I",
        "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2J=",
        "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I==",
        "AAAA",
    ] {
        assert_eq!(
            parse(&format!("a\n1\n{bad_root}\n")),
            Err(CheckpointError::InvalidRootHash),
            "{bad_root:?}"
        );
    }
    let huge = "a".repeat(MAX_NOTE_SIZE + 1);
    assert_eq!(
        parse(&huge),
        Err(CheckpointError::TooLarge {
            size: MAX_NOTE_SIZE + 1,
            max: MAX_NOTE_SIZE
        })
    );
    // Extensions round-trip.
    let with_ext = format!("a\n1\n{root}\nx y z\n+1\n");
    let checkpoint = parse(&with_ext).unwrap();
    assert_eq!(checkpoint.extensions(), ["x y z", "+1"]);
    assert_eq!(checkpoint.to_text(), with_ext);
}

#[test]
fn checkpoint_open_errors() {
    let f = fixture();
    let note = cosigned(&f);
    let bytes = note.to_bytes();

    let other = Origin::new("example.com/other").unwrap();
    assert_eq!(
        Checkpoint::open(&bytes, &other, &f.known),
        Err(CheckpointError::OriginMismatch {
            expected: other.clone(),
            found: origin(),
        })
    );
    // Cosignatures alone do not make a checkpoint.
    let witnesses_only =
        VerifierSet::from_verifiers(f.witnesses.iter().map(|w| w.verifier().into())).unwrap();
    let error = Checkpoint::open(&bytes, &origin(), &witnesses_only).unwrap_err();
    assert_eq!(error, CheckpointError::NoLogSignature);
    assert_eq!(error.class(), ErrorClass::Invalid);
    // A bad cosignature from a known witness rejects the whole checkpoint.
    let mut tampered = note.clone();
    let bad = SignatureLine::new(
        f.witnesses[1].name().clone(),
        f.witnesses[1].key_id(),
        vec![0; 72],
    )
    .unwrap();
    tampered.add_signature(bad).unwrap();
    assert_eq!(
        Checkpoint::open(&tampered.to_bytes(), &origin(), &f.known),
        Err(CheckpointError::Note(NoteError::BadSignature {
            name: f.witnesses[1].name().clone(),
            key_id: f.witnesses[1].key_id(),
        }))
    );
    // Malformed notes and texts.
    let error = Checkpoint::open(b"garbage", &origin(), &f.known).unwrap_err();
    assert_eq!(error, CheckpointError::Note(NoteError::MissingFinalNewline));
    assert_eq!(error.class(), ErrorClass::Malformed);
    let signer = Signer::from_seed(name("x"), &[1; 32]);
    let not_a_checkpoint = Note::sign("hello\n", &[&signer]).unwrap();
    assert_eq!(
        Checkpoint::open(&not_a_checkpoint.to_bytes(), &origin(), &f.known),
        Err(CheckpointError::TooFewLines { found: 1 })
    );
    // Misuse.
    let error = spec_checkpoint()
        .with_extensions(vec!["ok".into(), "bad\nline".into()])
        .unwrap_err();
    assert_eq!(error, CheckpointError::InvalidExtension { index: 1 });
    assert_eq!(error.class(), ErrorClass::Misuse);
    assert_eq!(
        spec_checkpoint().with_extensions(vec![String::new()]),
        Err(CheckpointError::InvalidExtension { index: 0 })
    );
    assert_eq!(
        spec_checkpoint().sign(&[]),
        Err(CheckpointError::Note(NoteError::NoSigners))
    );
    assert_eq!(
        Origin::new("a+b"),
        Err(CheckpointError::InvalidOrigin(
            NameProblem::ForbiddenCharacter { ch: '+' }
        ))
    );
}

#[test]
fn cosignature_errors() {
    let f = fixture();
    let w = &f.witnesses[0];
    let checkpoint = spec_checkpoint();

    // Timestamps: 2^63 - 1 is the largest allowed.
    let line = w.cosign(&checkpoint, MAX_TIMESTAMP).unwrap();
    assert_eq!(w.verifier().verify(&checkpoint, &line), Ok(MAX_TIMESTAMP));
    let error = w.cosign(&checkpoint, MAX_TIMESTAMP + 1).unwrap_err();
    assert_eq!(
        error,
        CosignatureError::InvalidTimestamp {
            timestamp: MAX_TIMESTAMP + 1
        }
    );
    assert_eq!(error.class(), ErrorClass::Misuse);
    let mut too_late = [0u8; COSIGNATURE_SIZE];
    too_late[4] = 0x80;
    assert_eq!(
        Cosignature::decode(&too_late),
        Err(CosignatureError::TimestampTooLarge { timestamp: 1 << 63 })
    );
    // The same out-of-range time inside a note is a bad signature from a known key.
    let mut sig = vec![0x80];
    sig.extend_from_slice(&[0; 71]);
    let mut note = checkpoint.sign(&[&f.log]).unwrap();
    note.add_signature(SignatureLine::new(w.name().clone(), w.key_id(), sig).unwrap())
        .unwrap();
    assert!(matches!(
        Checkpoint::open(&note.to_bytes(), &origin(), &f.known),
        Err(CheckpointError::Note(NoteError::BadSignature { .. }))
    ));

    assert_eq!(
        Cosignature::decode(&[0; 68]),
        Err(CosignatureError::WrongLength { found: 68 })
    );
    // A log signature line is not a cosignature.
    let log_note = checkpoint.sign(&[&f.log]).unwrap();
    let log_line = &log_note.signatures()[0];
    assert_eq!(
        Cosignature::from_line(log_line),
        Err(CosignatureError::WrongLength { found: 68 })
    );
    // Verifying another cosigner's line is a caller error.
    let other = f.witnesses[1].cosign(&checkpoint, 1).unwrap();
    let error = w.verifier().verify(&checkpoint, &other).unwrap_err();
    assert!(matches!(error, CosignatureError::KeyMismatch { .. }));
    assert_eq!(error.class(), ErrorClass::Misuse);
    // A cosignature over another checkpoint, or at another time, does not verify.
    let line = w.cosign(&checkpoint, 42).unwrap();
    let next = Checkpoint::new(origin(), checkpoint.size() + 1, checkpoint.root());
    let error = w.verifier().verify(&next, &line).unwrap_err();
    assert_eq!(
        error,
        CosignatureError::BadSignature {
            name: w.name().clone(),
            key_id: w.key_id()
        }
    );
    assert_eq!(error.class(), ErrorClass::Invalid);
    let mut raw = line.signature().to_vec();
    raw[7] ^= 1;
    let moved = SignatureLine::new(w.name().clone(), w.key_id(), raw).unwrap();
    assert!(matches!(
        w.verifier().verify(&checkpoint, &moved),
        Err(CosignatureError::BadSignature { .. })
    ));
    // Extension lines are covered.
    let extended = checkpoint
        .clone()
        .with_extensions(vec!["x".into()])
        .unwrap();
    assert!(w.verifier().verify(&extended, &line).is_err());
}

#[test]
fn witness_body_errors() {
    let body = witness_request_body();
    let parse = |b: &str| AddCheckpointRequest::parse(b.as_bytes());
    let note_part = format!("{CHECKPOINT_TEXT}\n{LOG_SIG_1}");
    assert_eq!(parse(""), Err(CosignatureError::InvalidOldLine));
    assert_eq!(
        parse(&format!("new 1\n\n{note_part}")),
        Err(CosignatureError::InvalidOldLine)
    );
    assert_eq!(
        parse(&format!("old  1\n\n{note_part}")),
        Err(CosignatureError::InvalidOldSize(DecimalProblem::NotDigits))
    );
    assert_eq!(
        parse(&format!("old 01\n\n{note_part}")),
        Err(CosignatureError::InvalidOldSize(
            DecimalProblem::LeadingZero
        ))
    );
    assert_eq!(parse("old 0\n"), Err(CosignatureError::MissingBlankLine));
    assert_eq!(
        parse(&format!("old 5\n{}\n", WITNESS_PROOF[0])),
        Err(CosignatureError::MissingBlankLine)
    );
    assert_eq!(
        parse(&format!("old 5\n{}\nAAAA\n\n{note_part}", WITNESS_PROOF[0])),
        Err(CosignatureError::InvalidProofLine { index: 1 })
    );
    let proof_line = format!("{}\n", WITNESS_PROOF[0]);
    let max = format!("old 5\n{}\n{note_part}", proof_line.repeat(MAX_PROOF_LINES));
    assert_eq!(parse(&max).unwrap().proof().len(), MAX_PROOF_LINES);
    let over = format!(
        "old 5\n{}\n{note_part}",
        proof_line.repeat(MAX_PROOF_LINES + 1)
    );
    assert_eq!(
        parse(&over),
        Err(CosignatureError::TooManyProofLines {
            max: MAX_PROOF_LINES
        })
    );
    assert_eq!(
        parse(&format!("old 5\n\n{CHECKPOINT_TEXT}")),
        Err(CosignatureError::Note(NoteError::NoSignatureBlock))
    );
    let signer = Signer::from_seed(name("x"), &[1; 32]);
    let hello = Note::sign("hello\n", &[&signer]).unwrap().to_string();
    assert_eq!(
        parse(&format!("old 5\n\n{hello}")),
        Err(CosignatureError::Checkpoint(CheckpointError::TooFewLines {
            found: 1
        }))
    );
    let huge = vec![b'a'; MAX_ADD_CHECKPOINT_REQUEST_SIZE + 1];
    assert_eq!(
        AddCheckpointRequest::parse(&huge),
        Err(CosignatureError::RequestTooLarge {
            size: huge.len(),
            max: MAX_ADD_CHECKPOINT_REQUEST_SIZE
        })
    );
    // Every truncation of the example fails, except the one that drops the whole last
    // signature line (a request with one log signature is still a request).
    let one_signature = body.len() - LOG_SIG_2.len();
    for cut in 0..body.len() {
        if body.is_char_boundary(cut) {
            assert_eq!(
                parse(&body[..cut]).is_ok(),
                cut == one_signature,
                "cut at {cut}"
            );
        }
    }
    let request = parse(&body).unwrap();
    assert_eq!(
        AddCheckpointRequest::new(0, vec![Hash::default(); 64], request.note().clone()),
        Err(CosignatureError::TooManyProofLines {
            max: MAX_PROOF_LINES
        })
    );

    // Responses.
    assert_eq!(
        cosignature::parse_add_checkpoint_response(b""),
        Err(CosignatureError::EmptyResponse)
    );
    assert_eq!(
        cosignature::format_add_checkpoint_response(&[]),
        Err(CosignatureError::EmptyResponse)
    );
    assert_eq!(
        cosignature::parse_add_checkpoint_response(&WITNESS_RESPONSE.as_bytes()[..50]),
        Err(CosignatureError::Note(NoteError::MissingFinalNewline))
    );
    assert_eq!(
        cosignature::parse_add_checkpoint_response(b"\n"),
        Err(CosignatureError::Note(NoteError::SignatureLine {
            index: 0,
            problem: LineProblem::MissingPrefix
        }))
    );
    assert!(matches!(
        cosignature::parse_add_checkpoint_response(b"\xff\n"),
        Err(CosignatureError::Note(NoteError::InvalidUtf8 { offset: 0 }))
    ));
    assert_eq!(
        cosignature::parse_conflict_body(b"12"),
        Err(CosignatureError::Note(NoteError::MissingFinalNewline))
    );
    assert_eq!(
        cosignature::parse_conflict_body(b"012\n"),
        Err(CosignatureError::InvalidOldSize(
            DecimalProblem::LeadingZero
        ))
    );
}

/// Flips every bit of a cosigned checkpoint note: the result never opens with all of its
/// signatures (a flip in a name or key ID only turns that line into an unknown key's,
/// which is ignored), and a flipped note that opens carries the same checkpoint.
#[test]
fn no_bit_flip_of_a_cosigned_checkpoint_opens() {
    let f = fixture();
    let bytes = cosigned(&f).to_bytes();
    let mut flipped = bytes.clone();
    let mut opened_with_fewer = 0;
    for i in 0..bytes.len() * 8 {
        flipped[i / 8] ^= 1 << (i % 8);
        if let Ok(opened) = Checkpoint::open(&flipped, &origin(), &f.known) {
            assert!(
                opened.cosignatures().len() < 3,
                "bit {i} flipped still opens with every cosignature"
            );
            assert_eq!(opened.checkpoint(), &spec_checkpoint());
            opened_with_fewer += 1;
        }
        flipped[i / 8] ^= 1 << (i % 8);
    }
    assert!(
        opened_with_fewer > 0,
        "name flips of a cosigner are ignored"
    );
}

fn checkpoint_strategy() -> impl Strategy<Value = Checkpoint> {
    (
        "[a-z0-9.]{1,20}(/[a-zA-Z0-9_-]{1,10}){0,2}",
        any::<u64>(),
        any::<[u8; 32]>(),
        proptest::collection::vec("[ -~é]{1,30}", 0..3),
    )
        .prop_map(|(o, size, root, ext)| {
            Checkpoint::new(Origin::new(o).unwrap(), size, Hash(root))
                .with_extensions(ext)
                .unwrap()
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn checkpoint_format_parse_round_trip(checkpoint in checkpoint_strategy()) {
        let text = checkpoint.to_text();
        let parsed = Checkpoint::parse(&text).unwrap();
        prop_assert_eq!(&parsed, &checkpoint);
        prop_assert_eq!(parsed.to_text(), text);
    }

    #[test]
    fn witness_request_round_trip(
        checkpoint in checkpoint_strategy(),
        old in any::<u64>(),
        proof in proptest::collection::vec(any::<[u8; 32]>(), 0..=MAX_PROOF_LINES),
    ) {
        let signer = Signer::from_seed(checkpoint.origin().key_name(), &[9; 32]);
        let note = checkpoint.sign(&[&signer]).unwrap();
        let request =
            AddCheckpointRequest::new(old, proof.into_iter().map(Hash).collect(), note).unwrap();
        let bytes = request.to_bytes();
        let parsed = AddCheckpointRequest::parse(&bytes).unwrap();
        prop_assert_eq!(&parsed, &request);
        prop_assert_eq!(parsed.to_bytes(), bytes);
    }

    #[test]
    fn checkpoint_garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let f = fixture();
        let _ = Checkpoint::open(&bytes, &origin(), &f.known);
        let _ = AddCheckpointRequest::parse(&bytes);
        let _ = cosignature::parse_add_checkpoint_response(&bytes);
        if let Ok(s) = std::str::from_utf8(&bytes) {
            let _ = Checkpoint::parse(s);
        }
    }
}

proptest! {
    // A random bit of a random cosigned checkpoint;
    // `no_bit_flip_of_a_cosigned_checkpoint_opens` flips every bit of a fixed one.
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn a_bit_flip_of_a_cosigned_checkpoint_never_opens_with_every_signature(
        size in any::<u64>(),
        root in any::<[u8; 32]>(),
        time in 0..=MAX_TIMESTAMP,
        bit in any::<proptest::sample::Index>(),
    ) {
        let f = fixture();
        let checkpoint = Checkpoint::new(origin(), size, Hash(root));
        let mut note = checkpoint.sign(&[&f.log]).unwrap();
        note.add_signature(f.witnesses[0].cosign(&checkpoint, time).unwrap()).unwrap();
        let mut bytes = note.to_bytes();
        let opened = Checkpoint::open(&bytes, &origin(), &f.known).unwrap();
        prop_assert_eq!(opened.cosignatures()[0].timestamp, Some(time));
        let i = bit.index(bytes.len() * 8);
        bytes[i / 8] ^= 1 << (i % 8);
        if let Ok(opened) = Checkpoint::open(&bytes, &origin(), &f.known) {
            // Only the cosignature can be turned into an unknown key's line.
            prop_assert!(opened.cosignatures().is_empty(), "bit {}", i);
            prop_assert_eq!(opened.checkpoint(), &checkpoint);
        }
    }
}
