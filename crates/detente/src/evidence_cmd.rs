//! `detente verify-evidence FILE`: check, offline, evidence that the host or a member
//! equivocated.
//!
//! Accepts the evidence files a node writes under `evidence/` when a sync fails, and
//! `evidence` statements. Self-evident, and so checked here: two checkpoints signed with
//! the log's key for one tree size with different roots (a fork, a split view), and two
//! statements signed by one member with the same `seq` and different contents. Other
//! reports (a rollback, a failed proof) record what the host showed one node; they are
//! printed but are not proof on their own. Also accepts the console's agreement evidence
//! bundles (`node::console::bundle`): proof that an agreement's text was signed, with
//! every statement's inclusion proof against a checkpoint the log and witnesses signed.

use anyhow::{Context as _, bail};
use serde_json::Value;
use statement::kind::Body;
use statement::{Group, Signed};
use tlog::checkpoint::{Checkpoint, Origin};
use tlog::note::{Ed25519Verifier, VerifierSet};

use crate::cli::VerifyEvidenceArgs;

pub fn run(a: VerifyEvidenceArgs) -> anyhow::Result<()> {
    let bytes =
        std::fs::read(&a.file).with_context(|| format!("cannot read {}", a.file.display()))?;
    let group = match (&a.genesis, &a.data) {
        (Some(path), _) => {
            let genesis =
                std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
            let genesis =
                Signed::from_json(&genesis).context("--genesis is not a genesis statement")?;
            let mut group = Group::new();
            group.apply(&genesis).context("--genesis does not hold")?;
            group
        }
        (None, Some(dir)) => node::Node::open_for_views(dir)?.group()?.clone(),
        (None, None) => bail!("give the group's keys: --genesis FILE, or --data NODE_DIR"),
    };
    let json: Value = serde_json::from_slice(&bytes).context("the evidence is not JSON")?;
    if json.get("statement").is_some() {
        return statement_evidence(&bytes, &group);
    }
    if json["format"].as_str() == Some(node::console::bundle::FORMAT) {
        return agreement_evidence(&json, &group);
    }
    let kind = json["misbehaviour"]["kind"].as_str().unwrap_or("unknown");
    let a_note = json["verified_checkpoint"].as_str();
    let b_note = json["shown_checkpoint"].as_str();
    println!(
        "Evidence of {kind}: {}",
        json["message"].as_str().unwrap_or("")
    );
    let witness_note = json["detail"]["witness_checkpoint"].as_str();
    match (kind, a_note, b_note) {
        ("fork", Some(x), Some(y)) => fork(&group, x, y),
        ("split_view", _, Some(y)) => fork(
            &group,
            witness_note.context("no witness checkpoint in the evidence")?,
            y,
        ),
        _ => {
            bail!("this report records what the host showed one node; it is not self-evident proof")
        }
    }
}

fn fork(group: &Group, x: &str, y: &str) -> anyhow::Result<()> {
    let g = group.genesis().context("no genesis")?;
    let origin = Origin::new(g.origin.clone())?;
    let known = VerifierSet::from_verifiers([Ed25519Verifier::from_vkey(&g.log_key)?.into()])?;
    let open =
        |n: &str| Checkpoint::open(n.as_bytes(), &origin, &known).map(|o| o.checkpoint().clone());
    let (a, b) = (
        open(x).context("first checkpoint")?,
        open(y).context("second checkpoint")?,
    );
    if a.size() != b.size() || a.root() == b.root() {
        bail!("NOT PROVEN: the two checkpoints are not two trees of one size");
    }
    println!(
        "PROVEN: the log key of {} signed two different trees of size {}:\n  {}\n  {}",
        g.origin,
        a.size(),
        a.root(),
        b.root()
    );
    Ok(())
}

fn statement_evidence(bytes: &[u8], group: &Group) -> anyhow::Result<()> {
    let s = Signed::from_json(bytes).context("not a signed statement")?;
    let Body::Evidence(b) = Body::parse(s.statement())? else {
        bail!(
            "the statement is a {}, not evidence",
            s.statement().kind.as_str()
        );
    };
    let accused = group
        .verify_evidence(&b)
        .map_err(|e| anyhow::anyhow!("NOT PROVEN: {e}"))?;
    println!("{accused:?}");
    println!(
        "PROVEN: the evidence statement {} holds against the genesis keys",
        s.id()
    );
    Ok(())
}

fn agreement_evidence(json: &Value, group: &Group) -> anyhow::Result<()> {
    let p = node::console::bundle::verify(json, group)
        .map_err(|e| anyhow::anyhow!("NOT PROVEN: {e}"))?;
    let signed: Vec<String> = p.signed.iter().map(ToString::to_string).collect();
    let all: Vec<String> = p.signatories.iter().map(ToString::to_string).collect();
    println!(
        "PROVEN: agreement {} \"{}\" (text SHA-256 {}) is in the log under a checkpoint of size {} signed by its log key and the witnesses it requires; signed by {} of {} signatories ({}){}",
        p.agreement,
        p.title,
        p.text_sha256,
        p.size,
        signed.len(),
        all.len(),
        signed.join(", "),
        if p.adopted {
            ": ADOPTED"
        } else {
            ": not adopted yet"
        }
    );
    Ok(())
}
