//! Signed notes: known answers from the specs and Go, every error, bit flips, round trips.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use tlog::cosignature::Cosigner;
use tlog::note::{
    self, ErrorClass, KeyId, KeyName, KeyProblem, KeyType, LineProblem, MAX_NOTE_SIZE,
    MAX_SIGNATURE_LINE_LEN, MAX_SIGNATURES, NameProblem, Note, NoteError, SignatureLine, Signer,
    Verifier, VerifierSet,
};

// C2SP signed-note (C2SP/C2SP signed-note.md, "Verifier keys" example; the note and its
// signature as the spec's example shows them).
const SPEC_VKEY: &str = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
const SPEC_TEXT: &str = "This is an example message.\n";
const SPEC_SIG: &str = "— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";

// golang.org/x/mod sumdb/note/note_test.go (TestNewVerifier, TestNewSigner, TestSign, TestOpen).
const PETER_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const PETER_SKEY: &str =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const ENOCH_VKEY: &str = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
const GO_TEXT: &str = "If you think cryptography is the answer to your problem,\n\
                       then you don't know what your problem is.\n";
const PETER_SIG: &str = "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
const ENOCH_SIG: &str = "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

fn set(vkeys: &[&str]) -> VerifierSet {
    VerifierSet::from_verifiers(vkeys.iter().map(|k| Verifier::from_vkey(k).unwrap())).unwrap()
}

fn name(s: &str) -> KeyName {
    KeyName::new(s).unwrap()
}

fn go_note(sigs: &[&str]) -> Vec<u8> {
    format!("{GO_TEXT}\n{}", sigs.concat()).into_bytes()
}

fn sig_line_error(note: &[u8]) -> LineProblem {
    match Note::parse(note) {
        Err(NoteError::SignatureLine { problem, .. }) => problem,
        other => panic!("expected a signature line error, got {other:?}"),
    }
}

#[test]
fn spec_example_verifies() {
    let v = Verifier::from_vkey(SPEC_VKEY).unwrap();
    assert_eq!(v.name().as_str(), "example.com/foo");
    assert_eq!(v.key_id(), KeyId([0x53, 0x0d, 0x90, 0x3a]));
    assert_eq!(v.key_id().to_u32(), 0x530d_903a);
    assert_eq!(v.key_type(), KeyType::Ed25519);
    assert_eq!(v.to_vkey(), SPEC_VKEY);

    let bytes = format!("{SPEC_TEXT}\n{SPEC_SIG}");
    let opened = note::open(bytes.as_bytes(), &set(&[SPEC_VKEY])).unwrap();
    assert_eq!(opened.text(), SPEC_TEXT);
    assert_eq!(opened.verified().len(), 1);
    assert_eq!(opened.verified()[0].timestamp, None);
    assert_eq!(opened.note().to_bytes(), bytes.as_bytes());
}

#[test]
fn go_signer_reproduces_the_published_signature() {
    let signer = Signer::from_skey(PETER_SKEY).unwrap();
    assert_eq!(signer.to_skey(), PETER_SKEY);
    assert_eq!(signer.verifier().to_vkey(), PETER_VKEY);
    assert_eq!(signer.key_id().to_hex(), "c74f20a3");
    // Ed25519 is deterministic: signing the text again gives the published note exactly.
    let note = Note::sign(GO_TEXT, &[&signer]).unwrap();
    assert_eq!(note.to_bytes(), go_note(&[PETER_SIG]));
    assert!(format!("{signer:?}").contains("PeterNeumann"));
    assert!(
        !format!("{signer:?}").contains("AYEKFALV"),
        "Debug must not show the seed"
    );
}

#[test]
fn go_open_cases() {
    let both = go_note(&[PETER_SIG, ENOCH_SIG]);

    // One known key, one unknown: the unknown one is listed and ignored.
    let note = Note::parse(&both).unwrap();
    let report = note.verify(&set(&[PETER_VKEY]));
    assert_eq!(report.verified.len(), 1);
    assert_eq!(report.verified[0].name.as_str(), "PeterNeumann");
    assert_eq!(report.verified[0].index, 0);
    assert_eq!(report.unknown, vec![1]);
    assert!(report.invalid.is_empty());
    let opened = note::open(&both, &set(&[PETER_VKEY])).unwrap();
    assert_eq!(opened.text(), GO_TEXT);

    // Both known.
    let opened = note::open(&both, &set(&[PETER_VKEY, ENOCH_VKEY])).unwrap();
    assert_eq!(opened.verified().len(), 2);
    assert_eq!(opened.verified()[1].key_id.to_hex(), "af0cfe78");

    // None known.
    assert_eq!(
        note::open(&both, &VerifierSet::new()),
        Err(NoteError::NoVerifiedSignature { unknown: 2 })
    );

    // Too many signatures (Go refuses 101 too).
    let many = go_note(&[PETER_SIG].repeat(MAX_SIGNATURES + 1));
    assert_eq!(
        note::open(&many, &set(&[PETER_VKEY])),
        Err(NoteError::TooManySignatures {
            max: MAX_SIGNATURES
        })
    );
    let enough = go_note(&[PETER_SIG].repeat(MAX_SIGNATURES));
    let opened = note::open(&enough, &set(&[PETER_VKEY])).unwrap();
    assert_eq!(opened.verified().len(), 1, "a key counts once");

    // A known key's bad signature rejects the whole note, even next to a good one.
    let bad = format!("{}ABCD{}", &PETER_SIG[..60], &PETER_SIG[60..]);
    let expected = Err(NoteError::BadSignature {
        name: name("PeterNeumann"),
        key_id: KeyId([0xc7, 0x4f, 0x20, 0xa3]),
    });
    assert_eq!(note::open(&go_note(&[&bad]), &set(&[PETER_VKEY])), expected);
    assert_eq!(
        note::open(&go_note(&[PETER_SIG, &bad]), &set(&[PETER_VKEY])),
        expected
    );
    // ... but the same bad line from an unknown key is ignored.
    let bad_enoch = format!("{}ABCD{}", &ENOCH_SIG[..60], &ENOCH_SIG[60..]);
    let opened = note::open(
        &go_note(&[PETER_SIG, PETER_SIG, ENOCH_SIG, ENOCH_SIG, &bad_enoch]),
        &set(&[PETER_VKEY]),
    )
    .unwrap();
    assert_eq!(opened.verified().len(), 1);
}

#[test]
fn go_malformed_notes() {
    let known = set(&[PETER_VKEY]);
    let cases: Vec<(Vec<u8>, NoteError)> = vec![
        (GO_TEXT.into(), NoteError::NoSignatureBlock),
        (format!("{GO_TEXT}\n").into(), NoteError::NoSignatureBlock),
        (
            format!("{GO_TEXT}\n{}", &PETER_SIG[..PETER_SIG.len() - 1]).into(),
            NoteError::MissingFinalNewline,
        ),
        (
            [b"\x01", go_note(&[PETER_SIG]).as_slice()].concat(),
            NoteError::ControlCharacter { offset: 0, byte: 1 },
        ),
        (
            [b"\xff", go_note(&[PETER_SIG]).as_slice()].concat(),
            NoteError::InvalidUtf8 { offset: 0 },
        ),
        (
            format!("{GO_TEXT}\n{PETER_SIG}Unexpected line.\n").into(),
            NoteError::SignatureLine {
                index: 1,
                problem: LineProblem::MissingPrefix,
            },
        ),
    ];
    for (bytes, error) in cases {
        assert_eq!(note::open(&bytes, &known), Err(error.clone()));
        assert_eq!(error.class(), ErrorClass::Malformed);
    }
    // Go's "Bad Name" case: the name ends at the first space, so the rest is not base64.
    let bad_name = format!(
        "{GO_TEXT}\n— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
    );
    assert_eq!(sig_line_error(bad_name.as_bytes()), LineProblem::Base64);
}

/// golang.org/x/mod TestNewVerifier / TestNewSigner: every proper substring and every
/// single-byte increment of a key string is refused.
#[test]
fn go_key_manglings_are_refused() {
    for key in [PETER_VKEY, PETER_SKEY] {
        let parses = |s: &[u8]| -> bool {
            let Ok(s) = std::str::from_utf8(s) else {
                return false;
            };
            Verifier::from_vkey(s).is_ok() || Signer::from_skey(s).is_ok()
        };
        assert!(parses(key.as_bytes()));
        let b = key.as_bytes();
        for i in 0..=b.len() {
            for j in i + 1..=b.len() {
                if i != 0 || j != b.len() {
                    assert!(!parses(&b[i..j]), "{:?}", std::str::from_utf8(&b[i..j]));
                }
            }
        }
        let mut b = b.to_vec();
        for i in 0..b.len() {
            b[i] = b[i].wrapping_add(1);
            assert!(!parses(&b), "{:?}", String::from_utf8_lossy(&b));
            b[i] = b[i].wrapping_sub(1);
        }
    }
    // Go's two extra cases: a wrong-length key and an unknown algorithm, each with the key
    // ID recomputed so that only the stated problem remains. Go's lenient base64 ignores
    // the non-zero trailing bits of the first; our canonical decoding refuses it earlier.
    assert_eq!(
        Verifier::from_vkey(
            "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY=="
        ),
        Err(NoteError::MalformedKey(KeyProblem::Base64))
    );
    assert_eq!(
        Verifier::from_vkey("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"),
        Err(NoteError::MalformedKey(KeyProblem::UnexpectedType {
            found: 0x65
        }))
    );
}

#[test]
fn key_names() {
    assert_eq!(
        KeyName::new("example.com/abc123").unwrap().as_str(),
        "example.com/abc123"
    );
    assert_eq!(
        KeyName::new(""),
        Err(NoteError::InvalidKeyName(NameProblem::Empty))
    );
    for (bad, ch) in [
        ("a b", ' '),
        ("a+b", '+'),
        ("a\tb", '\t'),
        ("a\u{a0}b", '\u{a0}'),
        ("a\u{2003}b", '\u{2003}'),
        ("a\u{1}b", '\u{1}'),
    ] {
        assert_eq!(
            KeyName::new(bad),
            Err(NoteError::InvalidKeyName(NameProblem::ForbiddenCharacter {
                ch
            }))
        );
    }
    assert!(KeyName::new("x".repeat(255)).is_ok());
    assert_eq!(
        KeyName::new("x".repeat(256)),
        Err(NoteError::InvalidKeyName(NameProblem::TooLong {
            len: 256,
            max: 255
        }))
    );
}

#[test]
fn key_string_errors() {
    let malformed = |p| Err(NoteError::MalformedKey(p));
    let long = format!("a+00000000+{}", "A".repeat(600));
    assert_eq!(
        Verifier::from_vkey(&long).map(|_| ()),
        malformed(KeyProblem::TooLong {
            len: long.len(),
            max: note::MAX_VERIFIER_KEY_LEN
        })
    );
    assert_eq!(
        Verifier::from_vkey("PeterNeumann").map(|_| ()),
        malformed(KeyProblem::Format)
    );
    assert_eq!(
        Signer::from_skey(PETER_VKEY).map(|_| ()),
        malformed(KeyProblem::Format)
    );
    assert_eq!(
        Verifier::from_vkey("PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")
            .map(|_| ()),
        malformed(KeyProblem::KeyIdHex)
    );
    assert_eq!(
        Verifier::from_vkey("a+00000000+AB==").map(|_| ()),
        malformed(KeyProblem::Base64),
        "non-zero trailing bits are not canonical base64"
    );
    assert_eq!(
        Verifier::from_vkey("a+00000000+").map(|_| ()),
        malformed(KeyProblem::Length {
            expected: 33,
            found: 0
        })
    );
    // A log key string is not a cosigner key string, and the other way round.
    assert_eq!(
        Cosigner::from_skey(PETER_SKEY).map(|_| ()),
        malformed(KeyProblem::UnexpectedType { found: 1 })
    );
    assert_eq!(
        Verifier::from_vkey("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")
            .map(|_| ()),
        Err(NoteError::KeyIdMismatch {
            declared: KeyId([0xc7, 0x4f, 0x20, 0xa4]),
            computed: KeyId([0xc7, 0x4f, 0x20, 0xa3]),
        })
    );
    assert_eq!(
        Signer::from_skey(
            "PRIVATE+KEY+PeterNeumann+c74f20a4+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
        )
        .map(|_| ()),
        Err(NoteError::KeyIdMismatch {
            declared: KeyId([0xc7, 0x4f, 0x20, 0xa4]),
            computed: KeyId([0xc7, 0x4f, 0x20, 0xa3]),
        })
    );
    // The identity point (y = 1) is a valid encoding of a small-order point.
    let mut identity = [0u8; 32];
    identity[0] = 1;
    assert_eq!(
        note::Ed25519Verifier::new(name("a"), &identity).map(|_| ()),
        malformed(KeyProblem::WeakPublicKey)
    );
    // Some y has no x on the curve: find one.
    let invalid = (2u8..=255)
        .map(|y| {
            let mut k = [0u8; 32];
            k[0] = y;
            k
        })
        .find(|k| {
            matches!(
                note::Ed25519Verifier::new(name("a"), k),
                Err(NoteError::MalformedKey(KeyProblem::InvalidPublicKey))
            )
        });
    assert!(invalid.is_some(), "some small y is not on the curve");
}

#[test]
fn signature_line_errors() {
    let line = |l: &str| sig_line_error(format!("{GO_TEXT}\n{l}\n").as_bytes());
    assert_eq!(line("x"), LineProblem::MissingPrefix);
    assert_eq!(line("- PeterNeumann AAAAAAA="), LineProblem::MissingPrefix);
    assert_eq!(line("— PeterNeumann"), LineProblem::MissingSpace);
    assert_eq!(
        line("— a+b AAAAAAA="),
        LineProblem::KeyName(NameProblem::ForbiddenCharacter { ch: '+' })
    );
    assert_eq!(
        line("—  AAAAAAA="),
        LineProblem::KeyName(NameProblem::Empty)
    );
    assert_eq!(line("— a AAAAAAA"), LineProblem::Base64);
    assert_eq!(line("— a AAAAAAB="), LineProblem::Base64, "trailing bits");
    assert_eq!(line("— a AAAAAA=="), LineProblem::TooShort { len: 4 });
    assert_eq!(line("— a "), LineProblem::TooShort { len: 0 });
    let long = format!("— a {}", "A".repeat(MAX_SIGNATURE_LINE_LEN));
    assert_eq!(
        line(&long),
        LineProblem::TooLong {
            len: long.len(),
            max: MAX_SIGNATURE_LINE_LEN
        }
    );
    // The second line's index is reported.
    assert_eq!(
        Note::parse(format!("{GO_TEXT}\n{PETER_SIG}x\n").as_bytes()),
        Err(NoteError::SignatureLine {
            index: 1,
            problem: LineProblem::MissingPrefix
        })
    );
}

#[test]
fn size_limits() {
    let huge = vec![b'a'; MAX_NOTE_SIZE + 1];
    assert_eq!(
        Note::parse(&huge),
        Err(NoteError::TooLarge {
            size: MAX_NOTE_SIZE + 1,
            max: MAX_NOTE_SIZE
        })
    );
    let signer = Signer::from_skey(PETER_SKEY).unwrap();
    // A text of exactly the limit is a valid text, but its note no longer fits.
    let mut text = "a".repeat(MAX_NOTE_SIZE - 1);
    text.push('\n');
    assert!(matches!(
        Note::sign(text, &[&signer]),
        Err(NoteError::TooLarge { .. })
    ));
    let mut text = "a".repeat(MAX_NOTE_SIZE);
    text.push('\n');
    assert!(matches!(
        Note::sign(text, &[&signer]),
        Err(NoteError::TooLarge { .. })
    ));
    // The largest note that fits parses.
    let sig_len = format!("\n{PETER_SIG}").len();
    let mut text = "a".repeat(MAX_NOTE_SIZE - sig_len - 1);
    text.push('\n');
    let note = Note::sign(text, &[&signer]).unwrap();
    assert_eq!(note.encoded_len(), MAX_NOTE_SIZE);
    assert_eq!(Note::parse(&note.to_bytes()).unwrap(), note);
}

#[test]
fn misuse_errors() {
    assert_eq!(Note::sign(GO_TEXT, &[]), Err(NoteError::NoSigners));
    assert_eq!(NoteError::NoSigners.class(), ErrorClass::Misuse);
    let signer = Signer::from_skey(PETER_SKEY).unwrap();
    assert_eq!(
        Note::sign("no newline", &[&signer]),
        Err(NoteError::MissingFinalNewline)
    );
    assert_eq!(
        Note::sign("a\rb\n", &[&signer]),
        Err(NoteError::ControlCharacter {
            offset: 1,
            byte: b'\r'
        })
    );
    let mut known = set(&[PETER_VKEY]);
    assert_eq!(
        known.insert(Verifier::from_vkey(PETER_VKEY).unwrap()),
        Err(NoteError::DuplicateVerifier {
            name: name("PeterNeumann"),
            key_id: KeyId([0xc7, 0x4f, 0x20, 0xa3]),
        })
    );
    assert_eq!(known.len(), 1);
    assert_eq!(
        SignatureLine::new(name("a"), KeyId([0; 4]), vec![]),
        Err(NoteError::InvalidSignatureSize { len: 0 })
    );
    assert_eq!(
        SignatureLine::new(name("a"), KeyId([0; 4]), vec![0; MAX_SIGNATURE_LINE_LEN]),
        Err(NoteError::InvalidSignatureSize {
            len: MAX_SIGNATURE_LINE_LEN
        })
    );
    assert_eq!(Note::new(GO_TEXT, vec![]), Err(NoteError::NoSignatureBlock));
}

#[test]
fn multiple_signers_and_mixed_verifiers() {
    let a = Signer::from_seed(name("a.example/log"), &[1; 32]);
    let b = Signer::from_seed(name("b.example/log"), &[2; 32]);
    let note = Note::sign("hello\n", &[&a, &b]).unwrap();
    assert_eq!(note.signatures().len(), 2);
    let known = VerifierSet::from_verifiers([a.verifier().into(), b.verifier().into()]).unwrap();
    assert_eq!(note.clone().open(&known).unwrap().verified().len(), 2);
    // Same name, different key: an unknown key, ignored (spec: name and ID together
    // identify a key).
    let a2 = Signer::from_seed(name("a.example/log"), &[3; 32]);
    let only_a2 = VerifierSet::from_verifiers([a2.verifier().into()]).unwrap();
    assert_eq!(
        note.clone().open(&only_a2),
        Err(NoteError::NoVerifiedSignature { unknown: 2 })
    );
    // A cosigner key with the log key's name and seed has another ID (type 0x04), so it
    // cannot verify a log signature.
    let co = Cosigner::from_seed(name("a.example/log"), &[1; 32]);
    assert_ne!(co.key_id(), a.key_id());
    let known = VerifierSet::from_verifiers([co.verifier().into()]).unwrap();
    assert!(note.open(&known).is_err());
}

/// A note with every signature from a known key.
fn signed_note(text: &str, seeds: &[u8]) -> (Vec<u8>, VerifierSet) {
    let signers: Vec<Signer> = seeds
        .iter()
        .map(|&s| Signer::from_seed(name(&format!("k{s}.example/log")), &[s; 32]))
        .collect();
    let refs: Vec<&Signer> = signers.iter().collect();
    let note = Note::sign(text, &refs).unwrap();
    let known = VerifierSet::from_verifiers(signers.iter().map(|s| s.verifier().into())).unwrap();
    (note.to_bytes(), known)
}

/// Flips each bit of `bytes` in turn: the result must never open with as many verified
/// signatures as the original. A flip inside a line's name or key ID turns it into an
/// unknown key's line, which is ignored, so with several signers a flip may still open,
/// but only with that signer missing.
fn assert_no_bit_flip_opens(bytes: &[u8], known: &VerifierSet) {
    let original = note::open(bytes, known).unwrap();
    let mut flipped = bytes.to_vec();
    for i in 0..bytes.len() * 8 {
        flipped[i / 8] ^= 1 << (i % 8);
        if let Ok(opened) = note::open(&flipped, known) {
            assert!(
                opened.verified().len() < original.verified().len(),
                "bit {i} flipped still opens with every signer"
            );
            assert_eq!(opened.text(), original.text());
        }
        flipped[i / 8] ^= 1 << (i % 8);
    }
}

#[test]
fn no_bit_flip_of_known_vectors_opens() {
    assert_no_bit_flip_opens(
        format!("{SPEC_TEXT}\n{SPEC_SIG}").as_bytes(),
        &set(&[SPEC_VKEY]),
    );
    assert_no_bit_flip_opens(
        &go_note(&[PETER_SIG, ENOCH_SIG]),
        &set(&[PETER_VKEY, ENOCH_VKEY]),
    );
}

fn text_strategy() -> impl Strategy<Value = String> {
    // Lines of printable text (including non-ASCII), blank lines allowed, final newline.
    proptest::collection::vec("[a-zA-Z0-9 .,+/=é—\u{1F600}]{0,20}", 1..5)
        .prop_map(|lines| lines.iter().map(|l| format!("{l}\n")).collect())
}

fn line_strategy() -> impl Strategy<Value = SignatureLine> {
    (
        "[a-zA-Z0-9./:é-]{1,30}",
        any::<[u8; 4]>(),
        proptest::collection::vec(any::<u8>(), 1..120),
    )
        .prop_map(|(n, id, sig)| SignatureLine::new(name(&n), KeyId(id), sig).unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn note_format_parse_round_trip(
        text in text_strategy(),
        lines in proptest::collection::vec(line_strategy(), 1..8),
    ) {
        let note = Note::new(text, lines).unwrap();
        let bytes = note.to_bytes();
        prop_assert_eq!(bytes.len(), note.encoded_len());
        let parsed = Note::parse(&bytes).unwrap();
        prop_assert_eq!(&parsed, &note);
        prop_assert_eq!(parsed.to_bytes(), bytes);
    }

    #[test]
    fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let known = set(&[PETER_VKEY]);
        let _ = note::open(&bytes, &known);
        if let Ok(s) = std::str::from_utf8(&bytes) {
            let _ = Verifier::from_vkey(s);
            let _ = Signer::from_skey(s);
        }
    }

    #[test]
    fn truncations_never_open(cut in 0usize..200) {
        let bytes = go_note(&[PETER_SIG]);
        let cut = cut.min(bytes.len() - 1);
        prop_assert!(note::open(&bytes[..cut], &set(&[PETER_VKEY])).is_err());
    }
}

proptest! {
    // A random bit of a random note; `no_bit_flip_of_known_vectors_opens` flips every bit of
    // the known vectors.
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn a_bit_flip_of_a_signed_note_never_opens_with_every_signature(
        text in "[a-z \n]{0,24}\n",
        seeds in proptest::sample::subsequence(vec![1u8, 2, 3], 1..=2),
        bit in any::<proptest::sample::Index>(),
    ) {
        let (mut bytes, known) = signed_note(&text, &seeds);
        let i = bit.index(bytes.len() * 8);
        bytes[i / 8] ^= 1 << (i % 8);
        if let Ok(opened) = note::open(&bytes, &known) {
            // A flip in one signer's name or key ID makes its line an unknown key's.
            prop_assert!(opened.verified().len() < seeds.len(), "bit {}", i);
            prop_assert_eq!(opened.text(), text.as_str());
        }
    }
}
