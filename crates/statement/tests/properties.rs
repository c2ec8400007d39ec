//! Properties of the fold over generated logs: determinism, tamper evidence, sealing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashMap;

use common::{Wg, bundle, id, t};
use proptest::prelude::*;
use statement::build::Draft;
use statement::group::{Logged, Refused, Rules, SignatureCheck};
use statement::kind::MessageContent;
use statement::seal::unseal;
use statement::{Group, Signed, Stance, StatementId, Tlp};

const NAMES: [&str; 3] = ["cert-a", "cert-b", "cert-c"];

/// Plays `ops` (party, action) on a fresh group; refused statements are simply dropped.
fn play(ops: &[(usize, u8)]) -> Wg {
    let mut wg = Wg::founded(&NAMES, 2);
    for (i, (who, what)) in ops.iter().enumerate() {
        let name = NAMES[*who];
        let last = wg.log.last().unwrap().id();
        let at = 10 + i as i64;
        let draft = match what % 8 {
            0 => Draft::message(&format!("message {i}")),
            1 => Draft::message(&format!("reply {i}")).refs(&[last]),
            2 => Draft::report(Tlp::Green, "ioc", bundle()),
            3 => Draft::request("help", "please", &t(at + 30)).to(&[id(NAMES[(who + 1) % 3])]),
            4 => Draft::receipt(&[last]),
            5 => Draft::proposal("norm", &format!("text {i}")),
            6 => Draft::position(last, Stance::Support, None),
            _ => Draft::check("check", &t(at + 5)),
        };
        let _ = wg.try_post(name, draft, at);
    }
    wg
}

fn replay(log: &[Signed]) -> Group {
    let mut g = Group::new();
    for s in log {
        g.apply(s).unwrap();
    }
    g
}

/// The whole log by id, as a store the lean fold looks statements up in.
fn stored(log: &[Signed]) -> HashMap<StatementId, Logged> {
    (0u64..)
        .zip(log)
        .map(|(index, s)| {
            let kind = s.statement().kind;
            (s.id(), Logged { index, kind })
        })
        .collect()
}

/// The lean fold over the first `n` statements of `log`, looking up in the whole log.
fn replay_rules(log: &[Signed], n: usize) -> Rules {
    let store = stored(log);
    let mut rules = Rules::new();
    for s in &log[..n] {
        rules.apply(s, SignatureCheck::Verify, &store).unwrap();
    }
    rules
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn the_same_log_gives_the_same_state(ops in prop::collection::vec((0usize..3, 0u8..8), 0..40)) {
        let wg = play(&ops);
        let once = replay(&wg.log);
        prop_assert!(once == wg.group);
        let rules = replay_rules(&wg.log, wg.log.len());
        prop_assert!(rules == Rules::of(&once), "the lean fold differs from the group's rules");
        let leaves: Vec<Signed> = wg.log.iter().map(|s| Signed::from_leaf(s.leaf()).unwrap()).collect();
        prop_assert!(replay(&leaves) == once);
        // What a host reads from a submitted body (parsed once, then canonicalised) is the
        // same statement, byte for byte, as the leaf read back from the log.
        for s in &wg.log {
            let pretty = serde_json::to_vec_pretty(&statement::jcs::parse(s.leaf(), 1 << 20).unwrap()).unwrap();
            let v = Signed::from_value(statement::jcs::parse(&pretty, 1 << 20).unwrap()).unwrap();
            prop_assert!(v.leaf() == s.leaf() && v.id() == s.id());
        }
    }

    #[test]
    fn any_flipped_bit_is_refused(
        ops in prop::collection::vec((0usize..3, 0u8..8), 1..12),
        pick in any::<prop::sample::Index>(),
        byte in any::<prop::sample::Index>(),
        bit in 0u8..8,
    ) {
        let wg = play(&ops);
        let n = pick.index(wg.log.len());
        let prefix = replay(&wg.log[..n]);
        let mut leaf = wg.log[n].leaf().to_vec();
        let at = byte.index(leaf.len());
        leaf[at] ^= 1 << bit;
        if let Ok(tampered) = Signed::from_leaf(&leaf) {
            let mut g = prefix.clone();
            let refused = g.apply(&tampered);
            prop_assert!(refused.is_err(), "a flipped bit at {} of statement {} was accepted", at, n);
            // The lean fold, looking up in the whole (untampered) log, refuses it alike.
            let mut rules = replay_rules(&wg.log, n);
            let lean = rules.apply(&tampered, SignatureCheck::Verify, &stored(&wg.log));
            prop_assert_eq!(lean.map(|_| ()), refused.map(|_| ()).map_err(Refused::Rule));
        }
    }

    #[test]
    fn sealed_content_opens_only_for_addressees(mask in 1u8..8) {
        let mut wg = Wg::founded(&["cert-a", "cert-b", "cert-c", "cert-d"], 2);
        let to: Vec<&str> = ["cert-b", "cert-c", "cert-d"].into_iter().enumerate()
            .filter(|(i, _)| mask & (1 << i) != 0).map(|(_, n)| n).collect();
        let mut with_author = to.clone();
        with_author.push("cert-a");
        let keys = wg.seal_keys(&with_author);
        let content = MessageContent { subject: Some("private".into()), text: "only for you".into() };
        let to_ids: Vec<_> = to.iter().map(|n| id(n)).collect();
        let draft = Draft::sealed_message(&content, &to_ids, &keys.iter().collect::<Vec<_>>()).unwrap();
        wg.post("cert-a", draft, 5);
        let sealed = wg.log.last().unwrap().statement().sealed.clone().unwrap();
        for p in &wg.parties {
            let opened = unseal::<MessageContent>(&sealed, &p.identity);
            let addressed = with_author.contains(&p.entry.id.as_str());
            prop_assert_eq!(opened.is_ok(), addressed, "{}", p.entry.id);
            if let Ok(c) = opened {
                prop_assert_eq!(&c, &content);
            }
        }
    }
}
