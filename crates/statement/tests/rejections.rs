//! Every `Rejection` variant, each produced by a statement that deserves it, and the group
//! left unchanged by every refusal.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::{BTreeSet, HashMap};

use common::{Wg, bundle, id, log_signer, signing_key, t};
use serde_json::json;
use statement::build::{Author, Draft};
use statement::envelope::FormatError;
use statement::group::{Logged, Refused, Rules, SignatureCheck};
use statement::kind::Kind;
use statement::{Digest, Group, Rejection, Signed, Stance, StatementId, Tlp};

const ALL_CODES: [&str; 22] = [
    "malformed",
    "not_founded",
    "already_founded",
    "wrong_group",
    "unknown_author",
    "removed_member",
    "bad_signature",
    "duplicate",
    "seq_gap",
    "seq_repeat",
    "prev_mismatch",
    "unknown_ref",
    "not_a_member",
    "member_exists",
    "wrong_ref_kind",
    "proposal_version",
    "stance_not_allowed",
    "unknown_text_hash",
    "sign_hash_mismatch",
    "not_a_signatory",
    "invalid_evidence",
    "duplicate_evidence",
];

fn wg() -> Wg {
    Wg::founded(&["cert-a", "cert-b", "cert-c"], 2)
}

/// Applies a statement that must be refused, checks the group did not change, and returns
/// the rejection.
fn refuse(g: &mut Group, s: &Signed) -> Rejection {
    let before = g.clone();
    let r = g.apply(s).expect_err("statement should be refused");
    assert!(before == *g, "a refused statement changed the group");
    r
}

/// [`refuse`] on the working group's state, and the same refusal, with the same rejection
/// and no change, from the lean fold ([`Rules`]) over the same log kept elsewhere. That
/// store holds the refused statement too, past the fold's size, where it must not be seen.
fn refuse_in(wg: &Wg, s: &Signed) -> Rejection {
    let r = refuse(&mut wg.group.clone(), s);
    let mut stored: HashMap<StatementId, Logged> = HashMap::new();
    for (i, x) in wg.log.iter().chain([s]).enumerate() {
        let kind = x.statement().kind;
        stored.entry(x.id()).or_insert(Logged {
            index: i as u64,
            kind,
        });
    }
    let mut rules = Rules::new();
    for x in &wg.log {
        rules.apply(x, SignatureCheck::Verify, &stored).unwrap();
    }
    let before = rules.clone();
    let lean = rules.apply(s, SignatureCheck::Verify, &stored);
    assert_eq!(
        lean,
        Err(Refused::Rule(r.clone())),
        "the lean fold decided otherwise"
    );
    assert!(before == rules, "a refused statement changed the lean fold");
    r
}

/// Signs `draft` as `name` at the next place in its chain without advancing it.
fn next(wg: &Wg, name: &str, draft: Draft) -> Signed {
    let author = &wg
        .parties
        .iter()
        .find(|p| p.entry.id.as_str() == name)
        .unwrap()
        .author;
    let m = wg.group.member(&id(name)).unwrap();
    author
        .sign_at(draft, &t(500), m.last_seq + 1, m.last_id)
        .unwrap()
}

#[test]
fn every_rejection_variant_is_produced() {
    let mut seen = BTreeSet::new();
    let mut record = |r: Rejection| {
        seen.insert(r.code());
        r
    };
    let mut wg = wg();

    // Founding.
    let mut empty = Group::new();
    let early = wg.parties[0]
        .author
        .sign_at(Draft::message("hi"), &t(1), 1, None)
        .unwrap();
    assert_eq!(record(refuse(&mut empty, &early)), Rejection::NotFounded);
    let genesis_again = wg.log[0].clone();
    assert!(matches!(
        record(refuse_in(&wg, &genesis_again)),
        Rejection::AlreadyFounded
    ));

    // Envelope against the group.
    let stranger = Author::new("other.example/log", id("cert-a"), signing_key("cert-a", 0))
        .sign_at(Draft::message("hi"), &t(1), 2, Some(wg.log[0].id()))
        .unwrap();
    assert!(matches!(
        record(refuse_in(&wg, &stranger)),
        Rejection::WrongGroup { .. }
    ));
    let nobody = Author::new(common::ORIGIN, id("cert-z"), signing_key("cert-z", 0))
        .sign_at(Draft::message("hi"), &t(1), 1, None)
        .unwrap();
    assert!(matches!(
        record(refuse_in(&wg, &nobody)),
        Rejection::UnknownAuthor { .. }
    ));
    let forged = Author::new(common::ORIGIN, id("cert-b"), signing_key("mallory", 0))
        .sign_at(Draft::message("I resign"), &t(1), 1, None)
        .unwrap();
    assert_eq!(
        record(refuse_in(&wg, &forged)),
        Rejection::BadSignature {
            author: id("cert-b")
        }
    );

    // Chains.
    let first = wg.post("cert-b", Draft::message("first"), 5);
    let dup = wg.log.last().unwrap().clone();
    assert_eq!(
        record(refuse_in(&wg, &dup)),
        Rejection::Duplicate {
            id: first.id,
            index: first.index
        }
    );
    let b = wg.party("cert-b").author.key().clone();
    let b_author = Author::new(common::ORIGIN, id("cert-b"), b);
    let gap = b_author
        .sign_at(Draft::message("skip"), &t(6), 3, Some(first.id))
        .unwrap();
    assert!(matches!(
        record(refuse_in(&wg, &gap)),
        Rejection::SeqGap {
            expected: 2,
            got: 3,
            ..
        }
    ));
    let repeat = b_author
        .sign_at(Draft::message("again"), &t(6), 1, None)
        .unwrap();
    assert!(matches!(
        record(refuse_in(&wg, &repeat)),
        Rejection::SeqRepeat {
            expected: 2,
            got: 1,
            ..
        }
    ));
    let wrong_prev = b_author
        .sign_at(Draft::message("x"), &t(6), 2, Some(wg.log[0].id()))
        .unwrap();
    assert!(matches!(
        record(refuse_in(&wg, &wrong_prev)),
        Rejection::PrevMismatch { .. }
    ));

    // References and addressees.
    let unknown = Digest::of(b"not in the log");
    let s = next(&wg, "cert-b", Draft::message("re").refs(&[unknown]));
    assert_eq!(
        record(refuse_in(&wg, &s)),
        Rejection::UnknownRef { id: unknown }
    );
    let s = next(&wg, "cert-b", Draft::message("psst").to(&[id("cert-z")]));
    assert_eq!(
        record(refuse_in(&wg, &s)),
        Rejection::NotAMember {
            member: id("cert-z")
        }
    );
    let s = next(
        &wg,
        "cert-b",
        Draft::new(Kind::Message, json!({ "text": "x", "colour": "red" })),
    );
    assert!(matches!(
        record(refuse_in(&wg, &s)),
        Rejection::Malformed(FormatError::Field { .. })
    ));

    // Membership.
    let c_entry = wg.party("cert-c").entry.clone();
    let s = next(&wg, "cert-b", Draft::add_member(&c_entry));
    assert_eq!(
        record(refuse_in(&wg, &s)),
        Rejection::MemberExists {
            member: id("cert-c")
        }
    );

    // Proposals, positions, agreements.
    let msg = wg.post("cert-a", Draft::message("context"), 10).id;
    let p1 = wg
        .post("cert-a", Draft::proposal("Norm", "Text one."), 11)
        .id;
    let s = next(&wg, "cert-b", Draft::amendment("Norm", "Text two.", 2, msg));
    assert!(matches!(
        record(refuse_in(&wg, &s)),
        Rejection::WrongRefKind {
            expected: Kind::Proposal,
            ..
        }
    ));
    let s = next(&wg, "cert-b", Draft::amendment("Norm", "Text two.", 3, p1));
    assert!(matches!(
        record(refuse_in(&wg, &s)),
        Rejection::ProposalVersion {
            expected: 2,
            got: 3,
            ..
        }
    ));
    let s = next(&wg, "cert-b", Draft::position(p1, Stance::Approve, None));
    assert!(matches!(
        record(refuse_in(&wg, &s)),
        Rejection::StanceNotAllowed {
            stance: Stance::Approve,
            ..
        }
    ));
    let h1 = Digest::of(b"Text one.");
    let s = next(
        &wg,
        "cert-a",
        Draft::agreement("Norm", p1, Digest::of(b"other"), &[id("cert-a")]),
    );
    assert!(matches!(
        record(refuse_in(&wg, &s)),
        Rejection::UnknownTextHash { .. }
    ));
    let agreement = wg
        .post(
            "cert-a",
            Draft::agreement("Norm", p1, h1, &[id("cert-a"), id("cert-b")]),
            12,
        )
        .id;
    let s = next(&wg, "cert-a", Draft::sign(agreement, Digest::of(b"other")));
    assert!(matches!(
        record(refuse_in(&wg, &s)),
        Rejection::SignHashMismatch { .. }
    ));
    let s = next(&wg, "cert-c", Draft::sign(agreement, h1));
    assert_eq!(
        record(refuse_in(&wg, &s)),
        Rejection::NotASignatory {
            member: id("cert-c")
        }
    );

    // Evidence.
    let s = next(
        &wg,
        "cert-a",
        Draft::equivocation(&wg.log[1].clone(), &wg.log[1].clone()),
    );
    assert!(matches!(
        record(refuse_in(&wg, &s)),
        Rejection::InvalidEvidence { .. }
    ));
    let a1 = b_author.sign_at(Draft::message("one"), &t(20), 9, None);
    assert!(
        a1.is_err(),
        "seq 9 without prev is malformed at signing time"
    );
    let x = b_author
        .sign_at(Draft::message("one"), &t(20), 9, Some(first.id))
        .unwrap();
    let y = b_author
        .sign_at(Draft::message("two"), &t(20), 9, Some(first.id))
        .unwrap();
    wg.post("cert-a", Draft::equivocation(&x, &y), 21);
    let s = next(&wg, "cert-c", Draft::equivocation(&y, &x));
    assert_eq!(record(refuse_in(&wg, &s)), Rejection::DuplicateEvidence);

    // Removal: once removed, a member can no longer speak.
    let removal = wg
        .post("cert-a", Draft::remove_member(&id("cert-c")), 30)
        .id;
    wg.post(
        "cert-a",
        Draft::position(removal, Stance::Approve, None),
        31,
    );
    wg.post(
        "cert-b",
        Draft::position(removal, Stance::Approve, None),
        32,
    );
    let s = next(&wg, "cert-c", Draft::message("still here?"));
    assert_eq!(
        record(refuse_in(&wg, &s)),
        Rejection::RemovedMember {
            author: id("cert-c")
        }
    );

    let all: BTreeSet<&str> = ALL_CODES.into_iter().collect();
    assert_eq!(
        seen,
        all,
        "missing: {:?}",
        all.difference(&seen).collect::<Vec<_>>()
    );
}

#[test]
fn malformed_bodies_name_their_field() {
    let mut wg = wg();
    let cases: Vec<(Draft, &str)> = vec![
        (Draft::new(Kind::Message, json!({})), "statement.body"),
        (
            Draft::new(
                Kind::Proposal,
                json!({ "title": "T", "text": "x", "version": 0 }),
            ),
            "statement.body.version",
        ),
        (
            Draft::new(
                Kind::Request,
                json!({ "text": "x", "due": "2026-11-01T00:00:00Z" }),
            ),
            "statement.body.due",
        ),
        (
            Draft::new(Kind::Request, json!({ "text": "x", "due": "tomorrow" })),
            "statement.body",
        ),
        (
            Draft::report(Tlp::Amber, "secret", bundle()),
            "statement.sealed",
        ),
        (
            Draft::report(Tlp::Clear, "over-marked", bundle()),
            "statement.body.bundle.objects[0].object_marking_refs",
        ),
        (
            Draft::new(
                Kind::Report,
                json!({ "tlp": "GREEN", "bundle": { "type": "bundle", "id": "bundle--x", "objects": [] } }),
            ),
            "statement.body.bundle.id",
        ),
        (
            Draft::new(Kind::Position, json!({ "stance": "sign" })).refs(&[wg.log[0].id()]),
            "statement.body.text_sha256",
        ),
        (Draft::new(Kind::Receipt, json!({})), "statement.refs"),
        (
            Draft::new(Kind::Member, json!({ "action": "add", "member": "cert-x" })),
            "statement.body",
        ),
    ];
    for (draft, field) in cases {
        let s = next(&wg, "cert-a", draft);
        match wg.group.apply(&s) {
            Err(Rejection::Malformed(FormatError::Field { field: f, reason })) => {
                assert_eq!(f, field, "reason: {reason}")
            }
            other => panic!("expected a malformed {field}, got {other:?}"),
        }
    }
    // A governance kind is never sealed, even if the author tries.
    let keys = wg.seal_keys(&["cert-a", "cert-b"]);
    let mut d = Draft::proposal("T", "x");
    d.sealed = Draft::message("x")
        .seal(&[id("cert-b")], &keys.iter().collect::<Vec<_>>())
        .unwrap()
        .sealed;
    d.to = Some(vec![id("cert-b")]);
    let s = next(&wg, "cert-a", d);
    assert!(
        matches!(wg.group.apply(&s), Err(Rejection::Malformed(FormatError::Field { field, .. })) if field == "statement.sealed")
    );
}

#[test]
fn leaves_must_be_canonical_and_small() {
    let wg = wg();
    let leaf = wg.log[0].leaf().to_vec();
    assert_eq!(Signed::from_leaf(&leaf).unwrap(), wg.log[0]);
    let mut spaced = b"{ ".to_vec();
    spaced.extend_from_slice(&leaf[1..]);
    assert_eq!(Signed::from_leaf(&spaced), Err(FormatError::NotCanonical));
    assert!(
        Signed::from_json(&spaced).is_ok(),
        "the same statement pasted with spaces is readable"
    );
    let big = "x".repeat(70_000);
    let err = wg.parties[1]
        .author
        .sign_at(Draft::message(&big), &t(1), 1, None)
        .unwrap_err();
    assert!(matches!(err, FormatError::TooLarge { max: 65_535, .. }));
    assert!(matches!(
        Signed::from_leaf(b"{\"sig\":1"),
        Err(FormatError::Json(_))
    ));
}

#[test]
fn split_view_evidence_needs_two_log_signed_checkpoints_of_one_size() {
    let mut wg = wg();
    let signer = log_signer();
    let cp = |root: u8| {
        let origin = tlog::checkpoint::Origin::new(common::ORIGIN).unwrap();
        let c = tlog::checkpoint::Checkpoint::new(origin, 10, tlog::Hash([root; 32]));
        String::from_utf8(c.sign(&[&signer]).unwrap().to_bytes()).unwrap()
    };
    let applied = wg.post("cert-b", Draft::split_view(&cp(1), &cp(2)), 40);
    assert_eq!(applied.effects.len(), 1);
    assert_eq!(
        wg.group.evidence()[0].accused,
        statement::group::Accused::Host
    );
    let s = next(&wg, "cert-c", Draft::split_view(&cp(1), &cp(1)));
    assert!(matches!(
        wg.group.apply(&s),
        Err(Rejection::InvalidEvidence { .. })
    ));
    let mallory =
        tlog::note::Signer::from_seed(tlog::note::KeyName::new(common::ORIGIN).unwrap(), &[9; 32]);
    let origin = tlog::checkpoint::Origin::new(common::ORIGIN).unwrap();
    let fake = tlog::checkpoint::Checkpoint::new(origin, 10, tlog::Hash([3; 32]));
    let fake = String::from_utf8(fake.sign(&[&mallory]).unwrap().to_bytes()).unwrap();
    let s = next(&wg, "cert-c", Draft::split_view(&cp(1), &fake));
    assert!(matches!(
        wg.group.apply(&s),
        Err(Rejection::InvalidEvidence { .. })
    ));
}
