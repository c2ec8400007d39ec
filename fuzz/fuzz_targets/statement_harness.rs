//! The body of the `statement` fuzz target.
//!
//! Included with `#[path]` both by the fuzz target and by
//! `crates/statement/tests/fuzz_corpus.rs`, which replays the seed corpus under
//! `fuzz/corpus/statement/` through exactly this code on every `cargo test`.
//!
//! Two paths per input: the bytes as a log leaf (parse, then apply to a founded group),
//! and — so that the fuzzer reaches the kinds' rules past the signature check — the bytes
//! as a JSON body of a kind picked by the first byte, signed by a founder and applied.
//! Whatever happens, nothing panics and a refusal leaves the group unchanged.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::OnceLock;

use ed25519_dalek::SigningKey;
use statement::build::{Author, Draft, genesis};
use statement::kind::{GenesisDocument, Kind, MemberEntry, Rules, WitnessPolicy};
use statement::{Group, MemberId, MemberKey, SealKey, Signed, Timestamp};

const ORIGIN: &str = "fuzz.example/detente";
const KINDS: [Kind; 10] = [
    Kind::Genesis,
    Kind::Member,
    Kind::Message,
    Kind::Report,
    Kind::Request,
    Kind::Receipt,
    Kind::Proposal,
    Kind::Position,
    Kind::Agreement,
    Kind::Evidence,
];

struct Fixture {
    group: Group,
    key: SigningKey,
    last: Signed,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let key = SigningKey::from_bytes(&[1; 32]);
        let a = MemberId::new("cert-a").unwrap();
        let seal = SealKey::from(age::x25519::Identity::generate().to_public());
        let entry = MemberEntry {
            id: a.clone(),
            name: "CERT A".into(),
            key: MemberKey::new(a.clone(), key.verifying_key()),
            seal,
            contact: None,
        };
        let log_key =
            tlog::note::Signer::from_seed(tlog::note::KeyName::new(ORIGIN).unwrap(), &[2; 32]);
        let document = GenesisDocument {
            name: "fuzz".into(),
            origin: ORIGIN.into(),
            log_key: log_key.verifier().to_vkey(),
            founders: vec![entry],
            rules: Rules {
                member_quorum: 1,
                witnesses: WitnessPolicy::default(),
            },
        };
        let sigs = vec![document.sign(a.clone(), &key).unwrap()];
        let mut author = Author::new(ORIGIN, a, key.clone());
        let time = Timestamp::from_unix(1_800_000_000).unwrap();
        let g = genesis(document, sigs, &mut author, &time).unwrap();
        let mut group = Group::new();
        group.apply(&g).unwrap();
        Fixture {
            group,
            key,
            last: g,
        }
    })
}

fn apply_unchanged_on_error(s: &Signed) {
    let f = fixture();
    let mut g = f.group.clone();
    if g.apply(s).is_err() {
        assert!(g == f.group, "a refused statement changed the group");
    }
}

/// Runs one fuzz input.
pub fn statement(data: &[u8]) {
    if let Ok(s) = Signed::from_leaf(data) {
        assert_eq!(s.leaf(), data, "a parsed leaf is its own canonical form");
        apply_unchanged_on_error(&s);
    }
    let Some((first, rest)) = data.split_first() else {
        return;
    };
    let Ok(body) = serde_json::from_slice::<serde_json::Value>(rest) else {
        return;
    };
    let f = fixture();
    let mut draft = Draft::new(KINDS[usize::from(*first) % KINDS.len()], body);
    if first & 0x80 != 0 {
        draft.refs = vec![f.last.id()];
    }
    let author = Author::resume(&f.group, MemberId::new("cert-a").unwrap(), f.key.clone());
    let time = Timestamp::from_unix(1_800_000_100).unwrap();
    if let Ok(s) = author.sign_at(draft, &time, 2, Some(f.last.id())) {
        let reparsed = Signed::from_leaf(s.leaf()).unwrap();
        assert_eq!(reparsed, s, "a signed statement parses back to itself");
        apply_unchanged_on_error(&s);
    }
}
