//! A scripted working group: three founders, a dialogue, a report, a request answered late
//! and one never answered, a communication check, a proposal in two versions with
//! positions, an agreement signed by all, a member added by quorum, a key rotated and one
//! equivocation — with the resulting state and standing asserted field by field.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Wg, bundle, id, signing_key, t};
use statement::build::{Author, Draft};
use statement::group::{Accused, ChangeOutcome, Effect, Standing};
use statement::kind::MemberEntry;
use statement::{Digest, Group, MemberKey, Rejection, SealKey, Stance, Tlp};

#[test]
fn a_working_group_from_founding_to_equivocation() {
    let mut wg = Wg::founded(&["cert-a", "cert-b", "cert-c"], 2);
    assert_eq!(wg.group.members().len(), 3);

    // Dialogue: a thread of three messages.
    let msg1 = wg
        .post(
            "cert-a",
            Draft::thread("Ransomware campaign", "We see **LockBit** affiliates."),
            10,
        )
        .id;
    let msg2 = wg
        .post(
            "cert-b",
            Draft::message("Same here since Monday.").refs(&[msg1]),
            20,
        )
        .id;
    let msg3 = wg
        .post("cert-c", Draft::message("Not seen yet.").refs(&[msg2]), 25)
        .id;

    // A report and a position on it.
    let report = wg
        .post(
            "cert-b",
            Draft::report(Tlp::Green, "C2 address", bundle()),
            30,
        )
        .id;
    wg.post(
        "cert-c",
        Draft::position(report, Stance::Agree, Some("seen it too")),
        35,
    );

    // A request answered late, one never answered, and a communication check.
    let req1 = wg
        .post(
            "cert-a",
            Draft::request("Logs", "Please share logs", &t(100)).to(&[id("cert-b")]),
            40,
        )
        .id;
    let _req2 = wg
        .post(
            "cert-a",
            Draft::request("Sighting", "Do you see this?", &t(60)).to(&[id("cert-c")]),
            45,
        )
        .id;
    let check = wg
        .post("cert-b", Draft::check("Communication check", &t(80)), 50)
        .id;
    wg.post("cert-a", Draft::receipt(&[check]), 55);
    wg.post("cert-c", Draft::receipt(&[check]), 90);
    let answer = wg.post(
        "cert-b",
        Draft::message("Logs attached.").refs(&[req1]),
        120,
    );

    // A proposal in two versions with positions, then an agreement signed by all.
    let p1 = wg
        .post(
            "cert-a",
            Draft::proposal("Notification norm", "Notify within 72 hours."),
            130,
        )
        .id;
    let p2_text = "Notify within 24 hours.";
    let p2 = wg
        .post(
            "cert-b",
            Draft::amendment("Notification norm", p2_text, 2, p1),
            140,
        )
        .id;
    wg.post("cert-c", Draft::position(p1, Stance::Support, None), 145);
    wg.post("cert-c", Draft::position(p2, Stance::Support, None), 150);
    wg.post("cert-b", Draft::position(p2, Stance::Support, None), 150);
    wg.post(
        "cert-a",
        Draft::position(p1, Stance::Oppose, Some("too slow")),
        150,
    );
    let hash = Digest::of(p2_text.as_bytes());
    let all = [id("cert-a"), id("cert-b"), id("cert-c")];
    let agreement = wg
        .post(
            "cert-a",
            Draft::agreement("Notification norm", p2, hash, &all),
            160,
        )
        .id;
    wg.post("cert-a", Draft::sign(agreement, hash), 161);
    wg.post("cert-b", Draft::sign(agreement, hash), 162);
    let last_sign = wg.post("cert-c", Draft::sign(agreement, hash), 163);
    assert_eq!(last_sign.effects, vec![Effect::AgreementAdopted(agreement)]);

    // A member added by quorum (2 of the founders).
    let d_key = signing_key("cert-d", 0);
    let d_identity = age::x25519::Identity::generate();
    let d_entry = MemberEntry {
        id: id("cert-d"),
        name: "CERT D".into(),
        key: MemberKey::new(id("cert-d"), d_key.verifying_key()),
        seal: SealKey::from(d_identity.to_public()),
        contact: None,
    };
    let change = wg.post("cert-a", Draft::add_member(&d_entry), 170).id;
    assert!(
        wg.post(
            "cert-b",
            Draft::position(change, Stance::Approve, None),
            171
        )
        .effects
        .is_empty()
    );
    let admitted = wg.post(
        "cert-c",
        Draft::position(change, Stance::Approve, None),
        172,
    );
    assert_eq!(admitted.effects, vec![Effect::MemberAdded(id("cert-d"))]);
    let mut d = Author::new(common::ORIGIN, id("cert-d"), d_key);
    let d1 = d
        .sign(Draft::thread("Hello", "Glad to join."), &t(175))
        .unwrap();
    wg.group.apply(&d1).unwrap();

    // A key rotated: cert-c's new key signs from then on; the old one is refused.
    let c_new = signing_key("cert-c", 1);
    let c_new_key = MemberKey::new(id("cert-c"), c_new.verifying_key());
    let rotation = wg
        .post(
            "cert-c",
            Draft::rotate_keys(&id("cert-c"), Some(&c_new_key), None),
            180,
        )
        .id;
    wg.post(
        "cert-a",
        Draft::position(rotation, Stance::Approve, None),
        181,
    );
    let rotated = wg.post(
        "cert-b",
        Draft::position(rotation, Stance::Approve, None),
        182,
    );
    assert_eq!(rotated.effects, vec![Effect::KeysRotated(id("cert-c"))]);
    let old_key_statement = wg
        .party("cert-c")
        .author
        .sign(Draft::message("old key"), &t(184))
        .unwrap();
    assert_eq!(
        wg.group.apply(&old_key_statement),
        Err(Rejection::BadSignature {
            author: id("cert-c")
        })
    );
    wg.party("cert-c").author = Author::resume(&wg.group, id("cert-c"), c_new);
    wg.post(
        "cert-c",
        Draft::message("Signed with my new key.").refs(&[msg3]),
        185,
    );

    // An equivocation: cert-d signs two statements with seq 2; one is logged, the other
    // reaches cert-a out of band, and cert-a posts the evidence.
    let logged = d
        .sign_at(Draft::message("version one"), &t(190), 2, Some(d1.id()))
        .unwrap();
    let shown = d
        .sign_at(Draft::message("version two"), &t(190), 2, Some(d1.id()))
        .unwrap();
    wg.group.apply(&logged).unwrap();
    assert!(matches!(
        wg.group.apply(&shown),
        Err(Rejection::SeqRepeat {
            expected: 3,
            got: 2,
            ..
        })
    ));
    let evidence = wg.post("cert-a", Draft::equivocation(&logged, &shown), 195);
    assert_eq!(
        evidence.effects,
        vec![Effect::Equivocation(Accused::Member(id("cert-d")))]
    );

    assert_state(
        &wg.group,
        [msg1, msg2, msg3],
        (p1, p2),
        agreement,
        last_sign.index,
        change,
        admitted.index,
    );
    assert_standing(&wg.group, answer.index);
}

#[allow(clippy::too_many_arguments)]
fn assert_state(
    g: &Group,
    msgs: [Digest; 3],
    (p1, p2): (Digest, Digest),
    agreement: Digest,
    adopted_at: u64,
    change: Digest,
    admitted_at: u64,
) {
    assert_eq!(g.size(), 32);
    assert_eq!(g.members().len(), 4);
    let c = g.member(&id("cert-c")).unwrap();
    assert_eq!(c.past_keys.len(), 1);
    assert_eq!(
        c.key.verifying_key(),
        &signing_key("cert-c", 1).verifying_key()
    );
    assert_eq!(g.member(&id("cert-d")).unwrap().joined_at, admitted_at);
    assert_eq!(g.member(&id("cert-a")).unwrap().last_seq, 12);

    let thread = &g.threads()[&msgs[0]];
    assert_eq!(
        thread.messages.len(),
        4,
        "three messages and cert-c's reply with its new key"
    );
    assert_eq!(&thread.messages[..3], &msgs);
    assert_eq!(g.message(&msgs[2]).unwrap().parent, Some(msgs[1]));
    assert_eq!(
        g.threads().len(),
        4,
        "the main thread, the answer to req1, cert-d's two"
    );

    let proposal = &g.proposals()[&p1];
    assert_eq!(
        proposal
            .versions
            .iter()
            .map(|v| v.version)
            .collect::<Vec<_>>(),
        [1, 2]
    );
    assert_eq!(proposal.versions[1].said.id, p2);
    let on_p1 = g.positions_on(&p1).unwrap();
    assert_eq!(on_p1[&id("cert-a")][0].stance, Stance::Oppose);
    assert_eq!(on_p1[&id("cert-c")][0].stance, Stance::Support);
    assert_eq!(g.positions_on(&p2).unwrap().len(), 2);

    let a = &g.agreements()[&agreement];
    assert_eq!(a.signed.len(), 3);
    assert_eq!(a.adopted_at, Some(adopted_at));
    assert_eq!(a.version, p2);

    assert_eq!(
        g.changes()[&change].outcome,
        ChangeOutcome::Effective(admitted_at)
    );
    assert_eq!(g.changes()[&change].approvals.len(), 2);
    assert_eq!(g.evidence().len(), 1);
    assert_eq!(g.reports().len(), 1);
    assert_eq!(g.reports()[0].tlp, Tlp::Green);
}

fn assert_standing(g: &Group, answer_index: u64) {
    let rows = g.standing(&t(200), &|_| None);
    let zero = |m: &str| Standing {
        member: id(m),
        requests_received: 0,
        answered: 0,
        answered_on_time: 0,
        overdue: 0,
        open: 0,
        median_answer_seconds: None,
        checks_received: 0,
        receipts_given: 0,
        receipts_on_time: 0,
        agreements_signed: 0,
        evidence_against: 0,
    };
    let a = Standing {
        checks_received: 1,
        receipts_given: 1,
        receipts_on_time: 1,
        agreements_signed: 1,
        ..zero("cert-a")
    };
    let b = Standing {
        requests_received: 1,
        answered: 1,
        median_answer_seconds: Some(80 * 60),
        agreements_signed: 1,
        ..zero("cert-b")
    };
    let c = Standing {
        requests_received: 1,
        overdue: 1,
        checks_received: 1,
        receipts_given: 1,
        agreements_signed: 1,
        ..zero("cert-c")
    };
    let d = Standing {
        evidence_against: 1,
        ..zero("cert-d")
    };
    assert_eq!(rows, vec![a, b.clone(), c, d]);

    // With a witnessed time for cert-b's answer before the due time, it counts as on time:
    // standing trusts witnesses, not the author's clock.
    let witnessed = move |i: u64| (i == answer_index).then(|| t(95));
    let rows = g.standing(&t(200), &witnessed);
    let b_row = rows.iter().find(|r| r.member == id("cert-b")).unwrap();
    assert_eq!(b_row.answered_on_time, 1);
    assert_eq!(b_row.median_answer_seconds, Some(55 * 60));
    // Before req2 is due, it is open rather than overdue.
    let early = g.standing(&t(50), &|_| None);
    assert_eq!(
        early
            .iter()
            .find(|r| r.member == id("cert-c"))
            .unwrap()
            .open,
        1
    );
}
