//! Adversarial scenarios for `detente sync` (issue 5): a host that lies, and a node that
//! must catch it, name what it did, keep its replica as it was and write the evidence.
//!
//! Each test founds a group (alice, bob, carol) on a real in-process host and puts a
//! misbehaving proxy ([`proxy`]) in front of it for each node under test. Honest
//! statements go to the real host through "writer" nodes that talk to it directly. Then
//! the proxy starts lying — an old checkpoint, a forked, shortened, reordered or forged
//! tree re-signed with the log's own key (read from the host's key file, as a malicious
//! host would), an altered bundle or tile, a 404 — and the node under test syncs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

#[path = "adversarial/proxy.rs"]
mod proxy;
#[path = "adversarial/world.rs"]
#[allow(dead_code)] // start_witnessed serves the split-view test.
mod world;

use axum::http::StatusCode;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::SigningKey;
use node::{Misbehaviour, Node, NodeError, Synced};
use statement::Group;
use statement::build::Author;
use tlog::note::{KeyName, Signer};
use tlog::tile::encode_bundle;

use proxy::Answer;
use world::{
    ORIGIN, World, assert_checkpoints, assert_unchanged, before, caught, evidence, forge, found,
    has_evidence, id, leaves, msg, note, rule_violation, size,
};

/// The usual start: alice posts one message (log size 2) and `carol`'s node, behind its
/// proxy, syncs to it.
async fn carol_at_two(w: &World) -> (Node, Node, proxy::Proxy) {
    let mut alice = w.writer("alice").await;
    alice.post(msg("a1")).await.unwrap();
    let (mut carol, proxy) = w.node("carol", "carol").await;
    assert_eq!(carol.sync().await.unwrap(), Synced { from: 0, to: 2 });
    (alice, carol, proxy)
}

/// 1. The host rolls the log back: it serves the log as it was at size 2 — a checkpoint
///    it really signed then, with that tree's tiles and bundles — to a node that has
///    verified size 4.
#[tokio::test]
async fn rollback_to_an_older_signed_log() {
    let w = World::start().await;
    let (mut alice, mut carol, proxy) = carol_at_two(&w).await;
    let old = note(&alice);
    let mut then = w.forge(&leaves(&alice, 2));
    then.note = old.clone();
    alice.post_all(vec![msg("a2"), msg("a3")]).await.unwrap();
    assert_eq!(carol.sync().await.unwrap().to, 4);
    let b = before(&carol);

    proxy.serve(&then);
    let r = caught(carol.sync().await);
    assert_eq!(
        r.misbehaviour,
        Misbehaviour::Rollback {
            verified: 4,
            shown: 2
        }
    );
    assert_checkpoints(&evidence(&r), &note(&alice), &old);
    assert_unchanged(&carol, &b);

    proxy.honest();
    assert_eq!(carol.sync().await.unwrap(), Synced { from: 4, to: 4 });
    w.stop().await;
}

/// 2. The host forks the log: two checkpoints of size 4, both signed with the log key,
///    with the last two entries (alice's a2 and bob's b1, independent authors) in
///    opposite orders. Each tree on its own is a valid log, so a node shown only one of
///    them accepts it: a fork is only visible by comparing, which is what witnesses and
///    gossip are for. What the test pins down is that a node that has verified one tree
///    and is then shown the other never accepts it:
///    - at the same size it reports `Fork` (two signed roots for one size, both notes in
///      the evidence: a proof anyone can check), whichever side it was on;
///    - when the other side has grown to size 5, it reports `Inconsistent`: the
///      consistency proof it computes from that side's tiles does not lead from its root
///      to the new one. (`RootMismatch` or `HistoryChanged` cannot happen here: both come
///      after a verified consistency proof, and none exists from a root to a tree that
///      does not extend it, whatever tiles the host serves.)
#[tokio::test]
async fn fork_shown_to_two_nodes() {
    let w = World::start().await;
    let mut alice = w.writer("alice").await;
    let mut bob = w.writer("bob").await;
    alice.post(msg("a1")).await.unwrap();
    let (mut a, pa) = w.node("bob", "bob").await;
    let (mut b, pb) = w.node("carol", "carol").await;
    assert_eq!(a.sync().await.unwrap().to, 2);
    assert_eq!(b.sync().await.unwrap().to, 2);
    alice.post(msg("a2")).await.unwrap();
    bob.post(msg("b1")).await.unwrap();
    alice.sync().await.unwrap();
    let honest = leaves(&alice, 4);
    let honest_note = note(&alice);
    let mut swapped = honest.clone();
    swapped.swap(2, 3);
    let forked = w.forge(&swapped);
    assert_ne!(forked.note, honest_note);

    // Carol's node (B) is shown the forked tree and, alone, cannot tell; bob's (A) gets
    // the honest one.
    pb.serve(&forked);
    assert_eq!(b.sync().await.unwrap(), Synced { from: 2, to: 4 });
    assert_eq!(a.sync().await.unwrap(), Synced { from: 2, to: 4 });
    assert_eq!(note(&b), forked.note);
    assert_eq!(note(&a), honest_note);

    // Each is then shown the other's checkpoint of the same size.
    pb.honest();
    let before_b = before(&b);
    let r = caught(b.sync().await);
    assert_eq!(r.misbehaviour, Misbehaviour::Fork { size: 4 });
    assert_checkpoints(&evidence(&r), &forked.note, &honest_note);
    assert_unchanged(&b, &before_b);

    pa.serve(&forked);
    let before_a = before(&a);
    let r = caught(a.sync().await);
    assert_eq!(r.misbehaviour, Misbehaviour::Fork { size: 4 });
    assert_checkpoints(&evidence(&r), &honest_note, &forked.note);
    assert_unchanged(&a, &before_a);

    // Both histories grow by alice's a3; each node is shown the other side at size 5.
    alice.post(msg("a3")).await.unwrap();
    let a3 = leaves(&alice, 5).pop().unwrap();
    swapped.push(a3);
    let forked5 = w.forge(&swapped);
    pa.honest();
    pa.serve(&forked5);
    let r = caught(a.sync().await);
    assert!(
        matches!(
            r.misbehaviour,
            Misbehaviour::Inconsistent { old: 4, new: 5, .. }
        ),
        "{:?}",
        r.misbehaviour
    );
    assert_checkpoints(&evidence(&r), &honest_note, &forked5.note);
    assert_unchanged(&a, &before_a);

    let r = caught(b.sync().await);
    assert!(
        matches!(
            r.misbehaviour,
            Misbehaviour::Inconsistent { old: 4, new: 5, .. }
        ),
        "{:?}",
        r.misbehaviour
    );
    assert_checkpoints(&evidence(&r), &forked.note, &note(&alice));
    assert_unchanged(&b, &before_b);

    // A node that was shown the truth all along carries on once the host does.
    pa.honest();
    assert_eq!(a.sync().await.unwrap(), Synced { from: 4, to: 5 });
    a.audit(|_, _| {}).unwrap();
    w.stop().await;
}

/// 3. The host drops alice's a2 from the middle of her a2, a3, a4 and serves a
///    recomputed tree, re-signed, with matching tiles and bundles: the tree is consistent
///    with what the node had, but alice's chain has a gap where a2 was.
#[tokio::test]
async fn dropped_statement_is_a_seq_gap() {
    let w = World::start().await;
    let (mut alice, mut carol, proxy) = carol_at_two(&w).await;
    alice
        .post_all(vec![msg("a2"), msg("a3"), msg("a4")])
        .await
        .unwrap();
    let mut shown = leaves(&alice, 5);
    shown.remove(2);
    let dropped = w.forge(&shown);
    let b = before(&carol);

    proxy.serve(&dropped);
    let r = caught(carol.sync().await);
    assert_eq!(rule_violation(&r.misbehaviour), (2, "seq_gap"));
    let ev = evidence(&r);
    assert_checkpoints(&ev, &b.note(), &dropped.note);
    assert_eq!(ev["detail"]["index"], 2);
    assert_eq!(ev["detail"]["entry"], STANDARD.encode(&shown[2]));
    assert_unchanged(&carol, &b);
    w.stop().await;
}

/// 4. The host reorders two of alice's statements across an entry-bundle boundary
///    (entries 255 and 256 of a 260-entry log, so the forged view spans two bundles, a
///    full tile and two partial ones): the first one out of place skips a seq.
#[tokio::test]
async fn reordered_statements_across_bundles() {
    let w = World::start().await;
    let (mut alice, mut carol, proxy) = carol_at_two(&w).await;
    let drafts = (3..=260).map(|i| msg(&format!("a{i}"))).collect();
    alice.post_all(drafts).await.unwrap();
    assert_eq!(size(&alice), 260);
    let mut shown = leaves(&alice, 260);
    shown.swap(255, 256);
    let reordered = w.forge(&shown);
    assert!(reordered.files.contains_key("tile/entries/001.p/4"));
    let b = before(&carol);

    proxy.serve(&reordered);
    let r = caught(carol.sync().await);
    assert_eq!(rule_violation(&r.misbehaviour), (255, "seq_gap"));
    assert_checkpoints(&evidence(&r), &b.note(), &reordered.note);
    assert_unchanged(&carol, &b);

    proxy.honest();
    assert_eq!(carol.sync().await.unwrap(), Synced { from: 2, to: 260 });
    carol.audit(|_, _| {}).unwrap();
    w.stop().await;
}

/// 5. The host alters a bundle under an honest checkpoint. A letter changed inside a
///    message leaves a well-formed statement whose signature fails, but the node hashes
///    the entries against the signed root before it reads them, so it reports what
///    happened — the entries are not the ones the checkpoint commits to — rather than a
///    rule violation the host never signed for. A bundle cut short does not parse.
#[tokio::test]
async fn altered_bundle() {
    let w = World::start().await;
    let (mut alice, mut carol, proxy) = carol_at_two(&w).await;
    alice
        .post_all(vec![msg("second"), msg("third")])
        .await
        .unwrap();
    let honest = leaves(&alice, 4);
    let bundle = encode_bundle(&honest).unwrap();
    let at = bundle.windows(5).position(|x| x == b"third").unwrap();
    let mut flipped = bundle.clone();
    flipped[at] = b'T';
    let b = before(&carol);

    proxy.set("/tile/entries/000.p/4", Answer::Body(flipped));
    let r = caught(carol.sync().await);
    assert_eq!(r.misbehaviour, Misbehaviour::RootMismatch { size: 4 });
    let ev = evidence(&r);
    assert_checkpoints(&ev, &b.note(), &note(&alice));
    assert!(ev["detail"]["computed_root"].is_string());
    assert_unchanged(&carol, &b);

    // An entry the node already had (alice's a1, index 1), altered in the partial
    // bundle the node fetches again for the new entries after it.
    let mut rewritten = bundle.clone();
    let at = rewritten.windows(4).position(|x| x == b"\"a1\"").unwrap();
    rewritten[at + 2] = b'9';
    proxy.set("/tile/entries/000.p/4", Answer::Body(rewritten));
    let r = caught(carol.sync().await);
    assert_eq!(r.misbehaviour, Misbehaviour::HistoryChanged { index: 1 });
    assert_eq!(evidence(&r)["detail"]["index"], 1);
    assert_unchanged(&carol, &b);

    let cut = bundle[..bundle.len() - 1].to_vec();
    proxy.set("/tile/entries/000.p/4", Answer::Body(cut));
    let r = caught(carol.sync().await);
    match &r.misbehaviour {
        Misbehaviour::BadEntry { error, .. } => {
            assert!(error.starts_with("tile/entries/000.p/4: "), "{error}")
        }
        other => panic!("expected BadEntry, got {other:?}"),
    }
    assert_unchanged(&carol, &b);

    proxy.honest();
    assert_eq!(carol.sync().await.unwrap(), Synced { from: 2, to: 4 });
    w.stop().await;
}

/// 6. The host serves a level-0 tile whose last hash is wrong, with the checkpoint and
///    the entries honest: the consistency proof the node computes from the tiles fails.
#[tokio::test]
async fn tile_that_does_not_match() {
    let w = World::start().await;
    let (mut alice, mut carol, proxy) = carol_at_two(&w).await;
    alice.post_all(vec![msg("a2"), msg("a3")]).await.unwrap();
    let honest = w.forge(&leaves(&alice, 4));
    let mut tile = honest.files["tile/0/000.p/4"].clone();
    tile[3 * 32] ^= 1;
    let b = before(&carol);

    proxy.set("/tile/0/000.p/4", Answer::Body(tile));
    let r = caught(carol.sync().await);
    assert!(
        matches!(
            r.misbehaviour,
            Misbehaviour::Inconsistent { old: 2, new: 4, .. }
        ),
        "{:?}",
        r.misbehaviour
    );
    let ev = evidence(&r);
    assert_checkpoints(&ev, &b.note(), &note(&alice));
    assert_eq!(
        ev["detail"]["consistency_proof"].as_array().unwrap().len(),
        1
    );
    assert_unchanged(&carol, &b);
    w.stop().await;
}

/// 7. The host replays an old checkpoint — the first one it published, of the genesis
///    alone — to a node that verified size 3 and was restarted since: the verified
///    checkpoint is on disk, so the replay is still a rollback.
#[tokio::test]
async fn replayed_checkpoint_after_restart() {
    let w = World::start().await;
    let mut alice = w.writer("alice").await;
    let first = note(&alice);
    assert_eq!(size(&alice), 1);
    alice.post_all(vec![msg("a1"), msg("a2")]).await.unwrap();
    let (mut carol, proxy) = w.node("carol", "carol").await;
    assert_eq!(carol.sync().await.unwrap().to, 3);
    let data = carol.data().to_path_buf();
    drop(carol);
    let mut carol = Node::open(&data).unwrap();
    let b = before(&carol);

    proxy.set("/checkpoint", Answer::Body(first.clone()));
    let r = caught(carol.sync().await);
    assert_eq!(
        r.misbehaviour,
        Misbehaviour::Rollback {
            verified: 3,
            shown: 1
        }
    );
    assert_checkpoints(&evidence(&r), &note(&alice), &first);
    assert_unchanged(&carol, &b);
    w.stop().await;
}

/// 8. The host forges a statement under alice's name — the right group, seq and prev,
///    signed with a key that is not hers — appends it, recomputes the tree and re-signs.
#[tokio::test]
async fn forged_statement_is_a_bad_signature() {
    let w = World::start().await;
    let (alice, mut carol, proxy) = carol_at_two(&w).await;
    let mut impostor = Author::resume(
        alice.group().unwrap(),
        id("alice"),
        SigningKey::from_bytes(&[7; 32]),
    );
    let forged_statement = impostor.sign(msg("we withdraw"), &node::now()).unwrap();
    let mut shown = leaves(&alice, 2);
    shown.push(forged_statement.leaf().to_vec());
    let forged = w.forge(&shown);
    let b = before(&carol);

    proxy.serve(&forged);
    let r = caught(carol.sync().await);
    assert_eq!(rule_violation(&r.misbehaviour), (2, "bad_signature"));
    let ev = evidence(&r);
    assert_checkpoints(&ev, &b.note(), &forged.note);
    assert_eq!(
        ev["detail"]["entry"],
        STANDARD.encode(forged_statement.leaf())
    );
    assert_unchanged(&carol, &b);
    w.stop().await;
}

/// 8b. The same forgery at the end of a long stretch of new entries, which the node checks
///     in parallel chunks: the bad signature is still pinned to its index, and the chunk's
///     honest statements before it are not kept either.
#[tokio::test]
async fn forged_statement_among_many_is_a_bad_signature() {
    let w = World::start().await;
    let (mut alice, mut carol, proxy) = carol_at_two(&w).await;
    let many: Vec<_> = (0..150).map(|i| msg(&format!("note {i}"))).collect();
    alice.post_all(many).await.unwrap();
    let mut impostor = Author::resume(
        alice.group().unwrap(),
        id("alice"),
        SigningKey::from_bytes(&[7; 32]),
    );
    let forged_statement = impostor.sign(msg("we withdraw"), &node::now()).unwrap();
    let mut shown = leaves(&alice, 152);
    shown.push(forged_statement.leaf().to_vec());
    let forged = w.forge(&shown);
    let b = before(&carol);

    proxy.serve(&forged);
    let r = caught(carol.sync().await);
    assert_eq!(rule_violation(&r.misbehaviour), (152, "bad_signature"));
    assert_unchanged(&carol, &b);
    proxy.honest();
    assert_eq!(carol.sync().await.unwrap(), Synced { from: 2, to: 152 });
    carol.audit(|_, _| {}).unwrap();
    w.stop().await;
}

/// A checkpoint of this origin signed with a key that is not the log's (same key name,
/// other key): no log signature verifies.
#[tokio::test]
async fn checkpoint_signed_by_another_key() {
    let w = World::start().await;
    let (mut alice, mut carol, proxy) = carol_at_two(&w).await;
    alice.post(msg("a2")).await.unwrap();
    let other = Signer::from_seed(KeyName::new(ORIGIN).unwrap(), &[9; 32]);
    let forged = forge(&leaves(&alice, 3), &other);
    let b = before(&carol);

    proxy.serve(&forged);
    let r = caught(carol.sync().await);
    assert!(
        matches!(r.misbehaviour, Misbehaviour::BadCheckpoint { .. }),
        "{:?}",
        r.misbehaviour
    );
    assert_checkpoints(&evidence(&r), &b.note(), &forged.note);
    assert_unchanged(&carol, &b);

    // The honest checkpoint with its log signature altered is refused too.
    let mut altered = note(&alice);
    let at = altered.len() - 10;
    altered[at] = if altered[at] == b'A' { b'B' } else { b'A' };
    proxy.set("/checkpoint", Answer::Body(altered.clone()));
    let r = caught(carol.sync().await);
    assert!(
        matches!(r.misbehaviour, Misbehaviour::BadCheckpoint { .. }),
        "{:?}",
        r.misbehaviour
    );
    assert_checkpoints(&evidence(&r), &b.note(), &altered);
    assert_unchanged(&carol, &b);
    w.stop().await;
}

/// The host answers 404 for data its checkpoint implies: the bundle of the new entries,
/// or a tile the consistency proof needs. A 503 is an outage, not a misbehaviour: the
/// sync stops with a network error and writes no evidence.
#[tokio::test]
async fn missing_bundle_or_tile() {
    let w = World::start().await;
    let (mut alice, mut carol, proxy) = carol_at_two(&w).await;
    alice.post_all(vec![msg("a2"), msg("a3")]).await.unwrap();
    let b = before(&carol);

    proxy.set(
        "/tile/entries/000.p/4",
        Answer::Status(StatusCode::SERVICE_UNAVAILABLE),
    );
    match carol.sync().await {
        Err(NodeError::Network(_)) => {}
        other => panic!("expected a network error, got {other:?}"),
    }
    assert!(!has_evidence(carol.data()));
    assert_unchanged(&carol, &b);

    proxy.set(
        "/tile/entries/000.p/4",
        Answer::Status(StatusCode::NOT_FOUND),
    );
    let r = caught(carol.sync().await);
    let path = "tile/entries/000.p/4".to_owned();
    assert_eq!(r.misbehaviour, Misbehaviour::Missing { path });
    assert_checkpoints(&evidence(&r), &b.note(), &note(&alice));
    assert_unchanged(&carol, &b);

    proxy.honest();
    proxy.set("/tile/0/000.p/4", Answer::Status(StatusCode::NOT_FOUND));
    let r = caught(carol.sync().await);
    let path = "tile/0/000.p/4".to_owned();
    assert_eq!(r.misbehaviour, Misbehaviour::Missing { path });
    assert_unchanged(&carol, &b);
    w.stop().await;
}

/// A fresh node is shown another group under the same origin and log key: a genesis
/// founded by members the host made up. The fold alone would accept it (every founder
/// did sign it); the node refuses because entry 0 is not the genesis it was set up with.
#[tokio::test]
async fn another_genesis_to_a_fresh_node() {
    let w = World::start().await;
    let (fake, _) = found(&["mallory"], &w.log_key);
    let other_group = w.forge(&[fake.leaf().to_vec()]);
    let (mut carol, proxy) = w.node("carol", "carol").await;
    let b = before(&carol);

    proxy.serve(&other_group);
    let r = caught(carol.sync().await);
    assert_eq!(r.misbehaviour, Misbehaviour::HistoryChanged { index: 0 });
    let ev = evidence(&r);
    assert!(ev["verified_checkpoint"].is_null());
    assert_eq!(
        ev["shown_checkpoint"],
        String::from_utf8_lossy(&other_group.note).as_ref()
    );
    assert_eq!(
        ev["detail"]["pinned_genesis"],
        STANDARD.encode(w.genesis.leaf())
    );
    assert_unchanged(&carol, &b);
    assert!(*carol.group().unwrap() == Group::new());
    assert!(*carol.rules() == statement::group::Rules::new());

    proxy.honest();
    assert_eq!(carol.sync().await.unwrap(), Synced { from: 0, to: 1 });
    carol.audit(|_, _| {}).unwrap();
    w.stop().await;
}
