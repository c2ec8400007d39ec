//! Offline-verifiable evidence that an agreement was made: the agreement, the proposal
//! version whose text it adopts and every signature, each with its inclusion proof
//! against one checkpoint signed by the log and cosigned by the witnesses.
//!
//! Format (`detente-agreement-evidence/v1`, JSON):
//!
//! ```text
//! { "format": "detente-agreement-evidence/v1", "origin": "<log origin>",
//!   "agreement": "<statement id>", "checkpoint": "<C2SP signed note, with cosignatures>",
//!   "statements": [ { "index": n, "leaf": "<base64 log leaf>", "inclusion_proof": ["<base64 hash>", …] }, … ] }
//! ```
//!
//! [`verify`] needs only the group's keys (from its genesis, or a node's replica): it
//! checks the checkpoint's log signature and the witness policy (C2SP tlog-checkpoint,
//! tlog-cosignature), each leaf's RFC 9162 §2.1.3.2 inclusion proof, each statement's
//! signature by its author, and that the signatures name the agreement's exact text hash.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Serialize;
use serde_json::{Value, json};
use statement::kind::{AgreementBody, Body};
use statement::{Group, MemberId, Signed, Stance, StatementId};
use tlog::checkpoint::{Checkpoint, Origin};
use tlog::note::{Ed25519Verifier, VerifierSet};
use tlog::proof::{prove_inclusion, verify_inclusion};

use super::view::verified_tree;
use crate::witnessing::Policy;
use crate::{Node, NodeError};

/// The `format` value of an agreement evidence bundle.
pub const FORMAT: &str = "detente-agreement-evidence/v1";

/// Why a bundle does not prove an agreement.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BundleError {
    /// It is not a bundle of this format (malformed input).
    #[error("not an agreement evidence bundle: {0}")]
    Malformed(String),
    /// The checkpoint is not signed by the group's log key, or names another log.
    #[error("the checkpoint does not verify: {0}")]
    Checkpoint(String),
    /// The checkpoint lacks the witness cosignatures the group requires.
    #[error(
        "the checkpoint carries {got} of the {required} witness cosignatures the group requires"
    )]
    Unwitnessed {
        /// Valid policy cosignatures.
        got: usize,
        /// Required.
        required: usize,
    },
    /// A statement's inclusion proof does not lead to the checkpoint's root.
    #[error("statement at index {index} is not proven to be in the log: {reason}")]
    Inclusion {
        /// Its claimed index.
        index: u64,
        /// Why.
        reason: String,
    },
    /// A statement is not signed by its author's key (or the author is unknown to the
    /// keys given).
    #[error("statement at index {index} is not validly signed by {author}")]
    Signature {
        /// Its index.
        index: u64,
        /// Its claimed author.
        author: String,
    },
    /// The statements do not make the agreement (missing, mismatched text hash, …).
    #[error("{0}")]
    Inconsistent(String),
}

/// What a bundle proves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Proven {
    /// The agreement's id.
    pub agreement: StatementId,
    /// Its title.
    pub title: String,
    /// SHA-256 of the agreed text.
    pub text_sha256: String,
    /// Who must sign.
    pub signatories: Vec<MemberId>,
    /// Who signed, proven.
    pub signed: Vec<MemberId>,
    /// Whether every signatory signed.
    pub adopted: bool,
    /// Size of the checkpoint the proofs are against.
    pub size: u64,
}

/// Builds the bundle for `agreement` from the node's verified replica.
pub fn make(node: &Node, agreement: &StatementId) -> Result<Option<Value>, NodeError> {
    let g = node.group()?;
    let Some(a) = g.agreements().get(agreement) else {
        return Ok(None);
    };
    let mut ids = vec![a.said.id, a.version];
    ids.extend(a.signed.values().map(|s| s.id));
    let (v, tree) = verified_tree(node)?;
    let mut statements = Vec::new();
    for id in ids {
        let index = g
            .logged(&id)
            .ok_or_else(|| NodeError::Replica(format!("{id} is not in the log")))?
            .index;
        let proof = prove_inclusion(&tree, index, v.size)
            .map_err(|e| NodeError::Replica(format!("inclusion proof: {e}")))?;
        statements.push(json!({
            "index": index,
            "leaf": node.leaf_base64(index)?,
            "inclusion_proof": proof.iter().map(tlog::Hash::to_base64).collect::<Vec<_>>(),
        }));
    }
    Ok(Some(json!({
        "format": FORMAT,
        "origin": g.origin(),
        "agreement": agreement,
        "checkpoint": String::from_utf8_lossy(&v.note),
        "statements": statements,
    })))
}

fn malformed(what: &str) -> BundleError {
    BundleError::Malformed(what.to_owned())
}

/// Opens the checkpoint with the group's log key and applies its witness policy.
fn open_checkpoint(group: &Group, note: &str) -> Result<Checkpoint, BundleError> {
    let g = group
        .genesis()
        .ok_or_else(|| BundleError::Checkpoint("no genesis given".into()))?;
    let bad = |e: &dyn std::fmt::Display| BundleError::Checkpoint(e.to_string());
    let origin = Origin::new(g.origin.clone()).map_err(|e| bad(&e))?;
    let log_key = Ed25519Verifier::from_vkey(&g.log_key).map_err(|e| bad(&e))?;
    let policy = Policy::from_genesis(&g.rules.witnesses).map_err(|e| bad(&e))?;
    let known =
        VerifierSet::from_verifiers(std::iter::once(log_key.into()).chain(policy.verifiers()))
            .map_err(|e| bad(&e))?;
    let opened = Checkpoint::open(note.as_bytes(), &origin, &known).map_err(|e| bad(&e))?;
    policy
        .check(&opened)
        .map_err(|(got, required)| BundleError::Unwitnessed { got, required })?;
    Ok(opened.checkpoint().clone())
}

/// One statement of the bundle, proven to be in the checkpoint's tree and signed by its
/// author.
fn proven_statement(
    group: &Group,
    cp: &Checkpoint,
    e: &Value,
) -> Result<(u64, Signed), BundleError> {
    let index = e["index"]
        .as_u64()
        .ok_or_else(|| malformed("a statement has no index"))?;
    let leaf = e["leaf"]
        .as_str()
        .and_then(|l| STANDARD.decode(l).ok())
        .ok_or_else(|| malformed("a statement's leaf is not base64"))?;
    let proof = e["inclusion_proof"]
        .as_array()
        .ok_or_else(|| malformed("a statement has no inclusion proof"))?
        .iter()
        .map(|h| h.as_str().and_then(tlog::Hash::from_base64))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| malformed("an inclusion proof hash is not base64"))?;
    verify_inclusion(
        &tlog::leaf_hash(&leaf),
        index,
        cp.size(),
        &proof,
        &cp.root(),
    )
    .map_err(|err| BundleError::Inclusion {
        index,
        reason: err.to_string(),
    })?;
    let s = Signed::from_leaf(&leaf).map_err(|err| BundleError::Malformed(err.to_string()))?;
    let st = s.statement();
    let author_ok = group.member(&st.author).is_some_and(|m| {
        std::iter::once(&m.key)
            .chain(&m.past_keys)
            .any(|k| s.verify(k.verifying_key()))
    });
    if !author_ok || Some(st.group.as_str()) != group.origin() {
        return Err(BundleError::Signature {
            index,
            author: st.author.to_string(),
        });
    }
    Ok((index, s))
}

/// Verifies a bundle against the group's keys.
pub fn verify(bundle: &Value, group: &Group) -> Result<Proven, BundleError> {
    if bundle["format"].as_str() != Some(FORMAT) {
        return Err(malformed("unknown format"));
    }
    let cp = open_checkpoint(
        group,
        bundle["checkpoint"]
            .as_str()
            .ok_or_else(|| malformed("no checkpoint"))?,
    )?;
    let entries = bundle["statements"]
        .as_array()
        .ok_or_else(|| malformed("no statements"))?;
    let statements = entries
        .iter()
        .map(|e| proven_statement(group, &cp, e))
        .collect::<Result<Vec<_>, _>>()?;
    let agreement_id = bundle["agreement"]
        .as_str()
        .and_then(|a| statement::Digest::parse(a).ok())
        .ok_or_else(|| malformed("no agreement id"))?;
    let inconsistent = |m: &str| BundleError::Inconsistent(m.to_owned());
    let (a_index, a) = statements
        .iter()
        .find(|(_, s)| s.id() == agreement_id)
        .ok_or_else(|| inconsistent("the agreement itself is not in the bundle"))?;
    let Ok(Body::Agreement(body)) = Body::parse(a.statement()) else {
        return Err(inconsistent("the statement named is not an agreement"));
    };
    check_text(&statements, a, &body)?;
    let mut signed = Vec::new();
    for (i, s) in &statements {
        let st = s.statement();
        if let Ok(Body::Position(p)) = Body::parse(st)
            && p.stance == Stance::Sign
            && st.refs.first() == Some(&agreement_id)
            && p.text_sha256 == Some(body.text_sha256)
            && body.signatories.contains(&st.author)
            && i > a_index
            && !signed.contains(&st.author)
        {
            signed.push(st.author.clone());
        }
    }
    let adopted = body.signatories.iter().all(|m| signed.contains(m));
    Ok(Proven {
        agreement: agreement_id,
        title: body.title,
        text_sha256: body.text_sha256.to_hex(),
        signatories: body.signatories,
        signed,
        adopted,
        size: cp.size(),
    })
}

/// The proposal version the agreement names is in the bundle, and its text has the
/// agreed hash.
fn check_text(
    statements: &[(u64, Signed)],
    a: &Signed,
    body: &AgreementBody,
) -> Result<(), BundleError> {
    let version = a.statement().refs.first();
    let text_ok = statements.iter().any(|(_, s)| {
        Some(&s.id()) == version
            && matches!(Body::parse(s.statement()), Ok(Body::Proposal(p)) if p.text_sha256() == body.text_sha256)
    });
    if text_ok {
        Ok(())
    } else {
        Err(BundleError::Inconsistent(
            "the proposal text the agreement names is missing or has another hash".into(),
        ))
    }
}
