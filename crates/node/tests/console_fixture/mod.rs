//! A working group for the console's tests: a real host on 127.0.0.1, alice, bob and
//! carol, bob and carol posting through their own nodes (a dialogue, a hostile thread, a
//! STIX report, a request and a communication check to alice, a proposal in two versions
//! with a position, an adopted agreement), and alice's node serving the console with a
//! user who may post and one who may only read.
//!
//! Shared by `crates/node/tests/console_http.rs` and the browser test in
//! `crates/detente/tests/console_browser.rs` (included there by path).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::time::Duration;

use host::{Host, HostConfig};
use node::Node;
use node::serve::{ServeConfig, Server, Users};
use serde_json::json;
use statement::build::{Author, Draft, genesis};
use statement::kind::{GenesisDocument, Rules, WitnessPolicy};
use statement::{MemberId, Signed, Stance, StatementId, Timestamp, Tlp};
use tempfile::TempDir;

/// The log's origin.
pub const ORIGIN: &str = "console.example/detente/wg";

/// Text of the hostile message (script tags, a javascript: link, an image with a handler).
pub const HOSTILE: &str = "<script>window.__pwned=1</script> [click me](javascript:window.__pwned=2) <img src=x onerror=\"window.__pwned=3\"> <a href=\"javascript:window.__pwned=4\">raw link</a>";
/// Subject of the hostile thread.
pub const HOSTILE_SUBJECT: &str = "<script>window.__pwned=5</script>Urgent";

pub fn id(s: &str) -> MemberId {
    MemberId::new(s).unwrap()
}

/// Ids of what the fixture posted.
#[derive(Debug, Clone)]
pub struct Posted {
    pub thread: StatementId,
    pub hostile: StatementId,
    pub report: StatementId,
    pub request: StatementId,
    pub check: StatementId,
    pub proposal_v1: StatementId,
    pub proposal_v2: StatementId,
    pub agreement: StatementId,
    /// An agreement alice must still sign.
    pub to_sign: StatementId,
}

pub struct Fixture {
    pub dir: TempDir,
    /// The host (`None` once a test stopped it to see the console report the outage).
    pub host: Option<Host>,
    pub server: Server,
    /// The console's base URL (no trailing slash).
    pub url: String,
    /// `name:token` of a user who may post.
    pub writer: String,
    /// `name:token` of a read-only user.
    pub reader: String,
    pub genesis_path: PathBuf,
    pub posted: Posted,
    /// The two witnesses; the group requires both cosignatures.
    pub witnesses: Vec<witness::Running>,
}

/// Starts two witnesses of the log on 127.0.0.1 and the policy requiring both.
async fn witnesses(dir: &std::path::Path, vkey: &str) -> (Vec<witness::Running>, WitnessPolicy) {
    let log = [(ORIGIN.to_owned(), vkey.to_owned())];
    let mut running = Vec::new();
    for i in 0..2 {
        let name = format!("w{i}.console.example/witness");
        let w = witness::start(
            &dir.join(format!("witness-{i}")),
            Some(&name),
            &log,
            "127.0.0.1:0".parse().unwrap(),
        )
        .await
        .unwrap();
        running.push(w);
    }
    let policy = WitnessPolicy {
        k: 2,
        witnesses: running
            .iter()
            .map(|w| statement::kind::WitnessEntry {
                name: w.name.clone(),
                url: format!("http://{}", w.addr),
                key: w.vkey.clone(),
            })
            .collect(),
    };
    (running, policy)
}

fn found(log_vkey: String, witnesses: WitnessPolicy) -> (Signed, Vec<node::MemberKeys>) {
    let keys: Vec<node::MemberKeys> = ["alice", "bob", "carol"]
        .iter()
        .map(|m| node::MemberKeys::generate(id(m)).unwrap())
        .collect();
    let document = GenesisDocument {
        name: "Console test working group".into(),
        origin: ORIGIN.into(),
        log_key: log_vkey,
        founders: keys
            .iter()
            .map(|k| {
                k.entry(
                    &format!("CERT {}", k.member),
                    Some(&format!("duty@{}.example", k.member)),
                )
            })
            .collect(),
        rules: Rules {
            member_quorum: 1,
            witnesses,
        },
    };
    let sigs = keys
        .iter()
        .map(|k| document.sign(k.member.clone(), &k.signing).unwrap())
        .collect();
    let mut first = Author::new(ORIGIN, keys[0].member.clone(), keys[0].signing.clone());
    let g = genesis(document, sigs, &mut first, &node::now()).unwrap();
    (g, keys)
}

fn in_secs(s: i64) -> Timestamp {
    Timestamp::from_unix_saturating(node::now().unix() + s)
}

fn stix_bundle() -> serde_json::Value {
    let t = "2026-11-01T10:00:00.000Z";
    json!({"type": "bundle", "id": "bundle--6f0a3c52-1a83-4c2b-9a6e-3b8f1d2e4c10", "objects": [
        {"type": "indicator", "spec_version": "2.1", "id": "indicator--0b1f7e0a-5d53-4b8e-9a54-2f4a1b3c5d6e", "created": t, "modified": t,
         "name": "VPN brute-force source", "pattern": "[ipv4-addr:value = '198.51.100.7']", "pattern_type": "stix", "valid_from": t},
        {"type": "malware", "spec_version": "2.1", "id": "malware--1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f", "created": t, "modified": t, "name": "LockBit loader", "is_family": true},
        {"type": "attack-pattern", "spec_version": "2.1", "id": "attack-pattern--2d3e4f5a-6b7c-4d8e-9f0a-1b2c3d4e5f6a", "created": t, "modified": t, "name": "Brute Force",
         "external_references": [{"source_name": "mitre-attack", "external_id": "T1110"}]},
        {"type": "relationship", "spec_version": "2.1", "id": "relationship--3e4f5a6b-7c8d-4e9f-8a1b-2c3d4e5f6a7b", "created": t, "modified": t,
         "relationship_type": "indicates", "source_ref": "indicator--0b1f7e0a-5d53-4b8e-9a54-2f4a1b3c5d6e", "target_ref": "malware--1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f"}
    ]})
}

async fn post(n: &mut Node, d: Draft) -> StatementId {
    n.post(d).await.unwrap().id
}

async fn seed(bob: &mut Node, carol: &mut Node) -> Posted {
    let alice = id("alice");
    let thread = post(
        bob,
        Draft::thread(
            "Ransomware campaign",
            "We see a wave of **VPN** intrusions.\n\n- one\n- two",
        ),
    )
    .await;
    carol.sync().await.unwrap();
    post(
        carol,
        Draft::message("Same here, since Monday.").refs(&[thread]),
    )
    .await;
    let big = "A".repeat(50_000);
    let hostile = post(
        carol,
        Draft::thread(HOSTILE_SUBJECT, &format!("{HOSTILE}\n\n{big}")),
    )
    .await;
    bob.sync().await.unwrap();
    let report = post(
        bob,
        Draft::report(Tlp::Green, "VPN brute force <b>wave</b>", stix_bundle()),
    )
    .await;
    let request = post(
        bob,
        Draft::request(
            "Loader sample",
            "Please share the loader sample.",
            &in_secs(2 * 3600),
        )
        .to(std::slice::from_ref(&alice)),
    )
    .await;
    // carol answers bob in time; bob answers carol late (so standing has every outcome).
    carol.sync().await.unwrap();
    let asked = post(
        bob,
        Draft::request("Logs", "Your VPN logs, please.", &in_secs(3600)).to(&[id("carol")]),
    )
    .await;
    carol.sync().await.unwrap();
    post(carol, Draft::message("Here they are.").refs(&[asked])).await;
    let urgent = post(
        carol,
        Draft::request("Now", "Answer within two seconds.", &in_secs(2)).to(&[id("bob")]),
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(3200)).await;
    bob.sync().await.unwrap();
    post(bob, Draft::message("Sorry, late.").refs(&[urgent])).await;
    let check = post(
        carol,
        Draft::check("Communication check: please confirm.", &in_secs(3600)),
    )
    .await;
    let proposal_v1 = post(
        carol,
        Draft::proposal(
            "Notification norm",
            "Members notify each other within 24 hours.\nReports use TLP.",
        ),
    )
    .await;
    bob.sync().await.unwrap();
    let v2_text = "Members notify each other within 12 hours.\nReports use TLP.\nChecks are answered within 1 hour.";
    let proposal_v2 = post(
        bob,
        Draft::amendment("Notification norm", v2_text, 2, proposal_v1),
    )
    .await;
    post(
        bob,
        Draft::position(proposal_v2, Stance::Support, Some("Good.")),
    )
    .await;
    carol.sync().await.unwrap();
    let hash = statement::Digest::of(v2_text.as_bytes());
    let agreement = post(
        carol,
        Draft::agreement(
            "Notification norm",
            proposal_v2,
            hash,
            &[id("bob"), id("carol")],
        ),
    )
    .await;
    post(carol, Draft::sign(agreement, hash)).await;
    bob.sync().await.unwrap();
    post(bob, Draft::sign(agreement, hash)).await;
    carol.sync().await.unwrap();
    let to_sign = post(
        carol,
        Draft::agreement(
            "Notification norm, with alice",
            proposal_v2,
            hash,
            &[id("alice"), id("carol")],
        ),
    )
    .await;
    Posted {
        thread,
        hostile,
        report,
        request,
        check,
        proposal_v1,
        proposal_v2,
        agreement,
        to_sign,
    }
}

/// bob signs a second statement in the place of his thread's first message (a test-only
/// equivocation, never submitted), and carol posts the two as evidence.
async fn equivocate(
    carol: &mut Node,
    bob: &Node,
    bob_key: &ed25519_dalek::SigningKey,
    thread: StatementId,
) {
    let (_, first) = bob.statement(&thread).unwrap().unwrap();
    let st = first.statement();
    let author = Author::new(ORIGIN, id("bob"), bob_key.clone());
    let other = author
        .sign_at(
            Draft::message("A different history"),
            &st.time,
            st.seq,
            st.prev,
        )
        .unwrap();
    carol.sync().await.unwrap();
    post(carol, Draft::equivocation(&first, &other)).await;
}

impl Fixture {
    pub async fn start() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("host");
        host::keys::load_or_create(&data, ORIGIN).unwrap();
        let vkey = std::fs::read_to_string(data.join("log.vkey"))
            .unwrap()
            .trim()
            .to_owned();
        let (witnesses, policy) = witnesses(dir.path(), &vkey).await;
        let (genesis, keys) = found(vkey, policy);
        let genesis_path = dir.path().join("genesis.json");
        std::fs::write(&genesis_path, genesis.leaf()).unwrap();
        let mut config = HostConfig::new(&data);
        config.listen = "127.0.0.1:0".parse().unwrap();
        config.genesis = Some(genesis_path.clone());
        config.batch.interval_ms = 5;
        let host = Host::start(config).await.unwrap();
        let host_url = format!("http://{}", host.addr);
        let node = |who: usize| {
            let data = dir.path().join(keys[who].member.as_str());
            let text = keys[who].to_file_text().unwrap();
            Node::init(
                &data,
                &host_url,
                genesis.leaf(),
                node::MemberKeys::from_file_text(&text).unwrap(),
            )
            .unwrap()
        };
        let (mut alice, mut bob, mut carol) = (node(0), node(1), node(2));
        bob.sync().await.unwrap();
        carol.sync().await.unwrap();
        let posted = seed(&mut bob, &mut carol).await;
        equivocate(&mut carol, &bob, &keys[1].signing, posted.thread).await;
        alice.sync().await.unwrap();
        let mut users = Users::default();
        let writer = users.add("analyst", true).unwrap();
        let reader = users.add("observer", false).unwrap();
        users.save(alice.data()).unwrap();
        let server = Server::start(
            alice,
            ServeConfig {
                listen: "127.0.0.1:0".parse().unwrap(),
                sync_every: Duration::from_secs(1),
            },
        )
        .await
        .unwrap();
        Fixture {
            url: format!("http://{}", server.addr()),
            dir,
            host: Some(host),
            server,
            writer,
            reader,
            genesis_path,
            posted,
            witnesses,
        }
    }

    pub async fn stop(self) {
        let Fixture {
            dir,
            host,
            server,
            witnesses,
            ..
        } = self;
        server.stop().await;
        if let Some(host) = host {
            host.stop().await;
        }
        for w in witnesses {
            w.stop().await;
        }
        drop(dir);
    }
}
