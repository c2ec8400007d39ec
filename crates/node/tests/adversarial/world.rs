//! A founded group with its real host, nodes behind misbehaving proxies, what a malicious
//! host needs to forge a log (its own signing key), and the checks every scenario makes.

use std::collections::HashMap;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use host::{Host, HostConfig};
use node::replica::Verified;
use node::{Misbehaviour, Node, NodeError, Report, Synced};
use serde_json::Value;
use statement::build::{Author, Draft, genesis};
use statement::kind::{GenesisDocument, Rules, WitnessPolicy};
use statement::{Group, MemberId, Signed};
use tempfile::TempDir;
use tlog::checkpoint::{Checkpoint, Origin};
use tlog::note::Signer;
use tlog::tile::{EntryBundle, TileEdge, encode_bundle};

use crate::proxy::Proxy;

/// The log's origin.
pub const ORIGIN: &str = "adversarial.example/detente/wg";

/// The founders; `alice` envelopes the genesis (so her first message has seq 2).
const FOUNDERS: [&str; 3] = ["alice", "bob", "carol"];

pub fn id(s: &str) -> MemberId {
    MemberId::new(s).unwrap()
}

/// A message draft.
pub fn msg(text: &str) -> Draft {
    Draft::message(text)
}

/// Founds a group whose genesis names `log_key`, from founders with fresh keys.
pub fn found(founders: &[&str], log_key: &Signer) -> (Signed, Vec<node::MemberKeys>) {
    found_with(founders, log_key, WitnessPolicy::default())
}

/// [`found`], with a witness policy.
pub fn found_with(
    founders: &[&str],
    log_key: &Signer,
    witnesses: WitnessPolicy,
) -> (Signed, Vec<node::MemberKeys>) {
    let keys: Vec<node::MemberKeys> = founders
        .iter()
        .map(|m| node::MemberKeys::generate(id(m)).unwrap())
        .collect();
    let document = GenesisDocument {
        name: "adversarial test group".into(),
        origin: ORIGIN.into(),
        log_key: log_key.verifier().to_vkey(),
        founders: keys
            .iter()
            .map(|k| k.entry(k.member.as_str(), None))
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

/// The real host of a founded group, and everything the tests need around it.
pub struct World {
    pub dir: TempDir,
    pub host: Host,
    /// The real host's base URL.
    pub url: String,
    /// The log's signing key, read from the host's own key file: what a malicious host
    /// signs its forgeries with.
    pub log_key: Signer,
    pub genesis: Signed,
    /// The founders' key files.
    keys: HashMap<String, String>,
}

impl World {
    /// Founds alice, bob and carol's group and starts its host on 127.0.0.1.
    pub async fn start() -> World {
        let dir = tempfile::tempdir().unwrap();
        let log_key = World::log_key(dir.path());
        World::launch(dir, log_key, WitnessPolicy::default()).await
    }

    /// [`World::start`] with `n` witnesses on 127.0.0.1 of which nodes require `k`.
    pub async fn start_witnessed(n: usize, k: u32) -> (World, Vec<witness::Running>) {
        let dir = tempfile::tempdir().unwrap();
        let log_key = World::log_key(dir.path());
        let log = [(ORIGIN.to_owned(), log_key.verifier().to_vkey())];
        let mut running = Vec::new();
        for i in 0..n {
            let name = format!("w{i}.example/witness");
            let wdir = dir.path().join(format!("witness-{i}"));
            running.push(
                witness::start(&wdir, Some(&name), &log, "127.0.0.1:0".parse().unwrap())
                    .await
                    .unwrap(),
            );
        }
        let policy = WitnessPolicy {
            k,
            witnesses: running
                .iter()
                .map(|w| statement::kind::WitnessEntry {
                    name: w.name.clone(),
                    url: format!("http://{}", w.addr),
                    key: w.vkey.clone(),
                })
                .collect(),
        };
        (World::launch(dir, log_key, policy).await, running)
    }

    /// Creates the log key in `dir/host` and reads it back, as a malicious host would.
    fn log_key(dir: &Path) -> Signer {
        let data = dir.join("host");
        host::keys::load_or_create(&data, ORIGIN).unwrap();
        let skey = std::fs::read_to_string(data.join(host::keys::KEY_FILE)).unwrap();
        Signer::from_skey(skey.trim()).unwrap()
    }

    async fn launch(dir: TempDir, log_key: Signer, witnesses: WitnessPolicy) -> World {
        let data = dir.path().join("host");
        let (genesis, keys) = found_with(&FOUNDERS, &log_key, witnesses);
        std::fs::write(data.join("genesis.json"), genesis.leaf()).unwrap();
        let mut config = HostConfig::new(&data);
        config.listen = "127.0.0.1:0".parse().unwrap();
        config.genesis = Some(data.join("genesis.json"));
        config.batch.interval_ms = 5;
        let host = Host::start(config).await.unwrap();
        let keys = keys
            .iter()
            .map(|k| (k.member.to_string(), k.to_file_text().unwrap()))
            .collect();
        World {
            url: format!("http://{}", host.addr),
            dir,
            host,
            log_key,
            genesis,
            keys,
        }
    }

    /// Stops the host before its directory goes.
    pub async fn stop(self) {
        let World { dir, host, .. } = self;
        host.stop().await;
        drop(dir);
    }

    /// A copy of `who`'s keys.
    pub fn keys(&self, who: &str) -> node::MemberKeys {
        node::MemberKeys::from_file_text(&self.keys[who]).unwrap()
    }

    /// A node of `who` talking to the real host directly, synced: how the tests post
    /// honest statements and read the honest log.
    pub async fn writer(&self, who: &str) -> Node {
        let data = self.dir.path().join(format!("{who}-writer"));
        let mut n = Node::init(&data, &self.url, self.genesis.leaf(), self.keys(who)).unwrap();
        n.sync().await.unwrap();
        n
    }

    /// A node of `who` in `dir/name` behind its own proxy, not synced yet.
    pub async fn node(&self, who: &str, name: &str) -> (Node, Proxy) {
        let proxy = Proxy::start(&self.url).await;
        let data = self.dir.path().join(name);
        let n = Node::init(&data, &proxy.url, self.genesis.leaf(), self.keys(who)).unwrap();
        (n, proxy)
    }

    /// A log of `leaves` signed with the log's own key.
    pub fn forge(&self, leaves: &[Vec<u8>]) -> Forged {
        forge(leaves, &self.log_key)
    }
}

/// A whole log as tlog-tiles serves it: the signed checkpoint, and every hash tile and
/// entry bundle of its size by path (no leading `/`).
pub struct Forged {
    pub note: Vec<u8>,
    pub files: HashMap<String, Vec<u8>>,
}

/// Builds the log of `leaves` the way the host does (RFC 9162 hashing, C2SP tlog-tiles
/// tiles and bundles) and signs its checkpoint with `key`.
pub fn forge(leaves: &[Vec<u8>], key: &Signer) -> Forged {
    let hashes: Vec<tlog::Hash> = leaves.iter().map(|l| tlog::leaf_hash(l)).collect();
    let mut edge = TileEdge::new();
    let update = edge.append(&hashes).unwrap();
    let mut files: HashMap<String, Vec<u8>> = update
        .tiles
        .into_iter()
        .map(|(tile, data)| (tile.path(), data))
        .collect();
    for (n, chunk) in (0u64..).zip(leaves.chunks(256)) {
        let bundle = EntryBundle::new(n, chunk.len() as u16).unwrap();
        files.insert(bundle.path(), encode_bundle(chunk).unwrap());
    }
    let origin = Origin::new(ORIGIN).unwrap();
    let checkpoint = Checkpoint::new(origin, update.size, update.root);
    let note = checkpoint.sign(&[key]).unwrap().to_bytes();
    Forged { note, files }
}

/// The first `size` entries of `node`'s replica.
pub fn leaves(node: &Node, size: u64) -> Vec<Vec<u8>> {
    (0..size)
        .map(|i| {
            STANDARD
                .decode(node.leaf_base64(i).unwrap().unwrap())
                .unwrap()
        })
        .collect()
}

/// The checkpoint `node` verified last.
pub fn note(node: &Node) -> Vec<u8> {
    node.verified().unwrap().unwrap().note
}

/// The verified size of `node` (0 if none).
pub fn size(node: &Node) -> u64 {
    node.verified().unwrap().map_or(0, |v| v.size)
}

/// What a failed sync must leave exactly as it was.
pub struct Before {
    verified: Option<Verified>,
    group: Group,
    rules: statement::group::Rules,
    first_missing: Option<String>,
}

impl Before {
    /// The checkpoint the node had verified.
    pub fn note(&self) -> Vec<u8> {
        self.verified.as_ref().unwrap().note.clone()
    }
}

pub fn before(node: &Node) -> Before {
    let verified = node.verified().unwrap();
    let next = verified.as_ref().map_or(0, |v| v.size);
    Before {
        first_missing: node.leaf_base64(next).unwrap(),
        verified,
        group: node.group().unwrap().clone(),
        rules: node.rules().clone(),
    }
}

/// The replica and the group are as they were, and (if anything was verified) the whole
/// replica still audits against its checkpoint.
pub fn assert_unchanged(node: &Node, b: &Before) {
    assert_eq!(
        node.verified().unwrap(),
        b.verified,
        "the verified checkpoint moved"
    );
    assert!(*node.rules() == b.rules, "the rules' state changed");
    assert!(*node.group().unwrap() == b.group, "the group changed");
    let next = b.verified.as_ref().map_or(0, |v| v.size);
    assert_eq!(
        node.leaf_base64(next).unwrap(),
        b.first_missing,
        "an entry was added"
    );
    if let Some(v) = &b.verified {
        let audit = node.audit(|_, _| {}).unwrap();
        assert_eq!((audit.statements, audit.size), (v.size, v.size));
    }
}

/// The report of a sync that must have caught the host.
pub fn caught(result: Result<Synced, NodeError>) -> Report {
    match result {
        Err(NodeError::HostMisbehaved(report)) => *report,
        other => panic!("expected HostMisbehaved, got {other:?}"),
    }
}

/// The evidence file of `report`, after checking that it names the same misbehaviour.
pub fn evidence(report: &Report) -> Value {
    let bytes = std::fs::read(&report.evidence).unwrap();
    let ev: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(
        ev["misbehaviour"],
        serde_json::to_value(&report.misbehaviour).unwrap()
    );
    assert_eq!(ev["message"], report.message.as_str());
    ev
}

/// Checks that the evidence holds the checkpoint the node had verified and the one the
/// host showed, byte for byte.
pub fn assert_checkpoints(ev: &Value, verified: &[u8], shown: &[u8]) {
    assert_eq!(
        ev["verified_checkpoint"],
        String::from_utf8_lossy(verified).as_ref()
    );
    assert_eq!(
        ev["shown_checkpoint"],
        String::from_utf8_lossy(shown).as_ref()
    );
}

/// The rule violation's index and code.
pub fn rule_violation(m: &Misbehaviour) -> (u64, &str) {
    match m {
        Misbehaviour::RuleViolation { index, code, .. } => (*index, code.as_str()),
        other => panic!("expected a rule violation, got {other:?}"),
    }
}

/// Whether `node` has written any evidence at all.
pub fn has_evidence(data: &Path) -> bool {
    std::fs::read_dir(data.join("evidence")).is_ok_and(|mut d| d.next().is_some())
}
