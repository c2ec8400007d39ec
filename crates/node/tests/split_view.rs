//! A split view against witnesses (issue 6): the host forks its log and shows one node the
//! honest tree and another a forked tree of the same size, signed with the log's own key.
//! With three honest witnesses of which nodes require two, no node accepts the fork: the
//! witnesses cosigned only the honest tree, so the forked checkpoint carries no
//! cosignatures, and the node shown it asks the witnesses what they cosigned and writes
//! the two log-signed checkpoints of one size as evidence anyone can check offline.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "adversarial/proxy.rs"]
#[allow(dead_code)]
mod proxy;
#[path = "adversarial/world.rs"]
#[allow(dead_code)]
mod world;

use node::{Misbehaviour, NodeError};
use tlog::checkpoint::{Checkpoint, Origin};
use tlog::note::{Ed25519Verifier, VerifierSet};
use world::{World, assert_unchanged, before, caught, evidence, leaves, msg, size};

fn open(note: &str, log_vkey: &str) -> Checkpoint {
    let known = VerifierSet::from_verifiers([Ed25519Verifier::from_vkey(log_vkey).unwrap().into()])
        .unwrap();
    Checkpoint::open(
        note.as_bytes(),
        &Origin::new(world::ORIGIN).unwrap(),
        &known,
    )
    .unwrap()
    .checkpoint()
    .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_node_accepts_a_fork_that_the_witnesses_did_not_cosign() {
    let (w, witnesses) = World::start_witnessed(3, 2).await;
    let mut alice = w.writer("alice").await;
    let mut bob = w.writer("bob").await;
    alice.post(msg("a2")).await.unwrap();
    bob.post(msg("b1")).await.unwrap();
    alice.post(msg("a3")).await.unwrap();
    alice.sync().await.unwrap();
    assert_eq!(size(&alice), 4);

    // The honest checkpoint carries the cosignatures of all three witnesses.
    let honest_note = String::from_utf8(alice.verified().unwrap().unwrap().note).unwrap();
    for i in 0..3 {
        assert!(
            honest_note.contains(&format!("w{i}.example/witness")),
            "{honest_note}"
        );
    }

    // The fork: the same statements with a2 and b1 swapped (both orders obey the rules),
    // signed with the log's own key. No witness will cosign it.
    let mut swapped = leaves(&alice, 4);
    swapped.swap(1, 2);
    let fork = w.forge(&swapped);
    let (mut carol, carol_proxy) = w.node("carol", "carol-forked").await;
    carol_proxy.serve(&fork);
    let b = before(&carol);
    let report = caught(carol.sync().await);
    let Misbehaviour::SplitView { size: 4, witness } = &report.misbehaviour else {
        panic!("expected a split view, got {:?}", report.misbehaviour)
    };
    assert!(witness.ends_with(".example/witness"));
    assert_unchanged(&carol, &b);

    // The evidence holds two checkpoints of size 4, both signed by the log, with different
    // roots: offline proof of the split view.
    let ev = evidence(&report);
    let log_vkey = w.log_key.verifier().to_vkey();
    let shown = open(ev["shown_checkpoint"].as_str().unwrap(), &log_vkey);
    let held = open(
        ev["detail"]["witness_checkpoint"].as_str().unwrap(),
        &log_vkey,
    );
    assert_eq!((shown.size(), held.size()), (4, 4));
    assert_ne!(shown.root(), held.root());

    // Shown the honest log, the same node accepts it.
    carol_proxy.honest();
    carol.sync().await.unwrap();
    assert_eq!(size(&carol), 4);

    // With one witness down the host still gathers two cosignatures, and nodes accept.
    let mut witnesses = witnesses.into_iter();
    witnesses.next().unwrap().stop().await;
    alice.post(msg("a4")).await.unwrap();
    bob.sync().await.unwrap();
    assert_eq!(size(&bob), 5);

    // A checkpoint with too few cosignatures (here: none, as a host without its witnesses
    // would publish) is not accepted, and is not evidence of anything by itself.
    let honest_leaves = leaves(&alice, 5);
    let mut extended = honest_leaves.clone();
    extended.truncate(5);
    let bare = w.forge(&extended);
    let (mut dave, dave_proxy) = w.node("bob", "bob-bare").await;
    dave_proxy.serve(&bare);
    match dave.sync().await {
        Err(NodeError::Unwitnessed {
            size: 5,
            got: 0,
            required: 2,
        }) => {}
        other => panic!("expected an unwitnessed checkpoint, got {other:?}"),
    }
    assert_eq!(size(&dave), 0);
    for rest in witnesses {
        rest.stop().await;
    }
    w.stop().await;
}
