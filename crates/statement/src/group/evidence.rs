//! Checking `evidence`: proof of equivocation that anyone can verify offline.
//!
//! - Two statements by one author with the same `seq` and different ids, each signed with
//!   a key the author held in this group: the author equivocated (showed two histories).
//! - Two checkpoints for this log with the same tree size and different roots, each
//!   signed with the log's key: the host equivocated (a split view).

use tlog::checkpoint::{Checkpoint, Origin};
use tlog::note::{Ed25519Verifier, VerifierSet};

use super::state::Accused;
use super::{Group, Rejection};
use crate::envelope::Signed;
use crate::ids::Digest;
use crate::kind::EvidenceBody;

/// What a valid piece of evidence proves: who, and the two conflicting hashes (sorted).
pub(super) fn check(g: &Group, b: &EvidenceBody) -> Result<(Accused, [Digest; 2]), Rejection> {
    let (accused, mut conflict) = match (&b.statements, &b.checkpoints) {
        (Some(pair), _) => statements(g, pair)?,
        (None, Some(pair)) => checkpoints(g, pair)?,
        (None, None) => return Err(invalid("no evidence given")),
    };
    conflict.sort();
    if g.evidence
        .iter()
        .any(|e| e.accused == accused && e.conflict == conflict)
    {
        return Err(Rejection::DuplicateEvidence);
    }
    Ok((accused, conflict))
}

fn invalid(reason: impl Into<String>) -> Rejection {
    Rejection::InvalidEvidence {
        reason: reason.into(),
    }
}

fn statements(
    g: &Group,
    pair: &[serde_json::Value; 2],
) -> Result<(Accused, [Digest; 2]), Rejection> {
    let parse = |v: &serde_json::Value| {
        let bytes = serde_json::to_vec(v).map_err(|e| invalid(e.to_string()))?;
        Signed::from_json(&bytes).map_err(|e| invalid(format!("not a signed statement: {e}")))
    };
    let (a, b) = (parse(&pair[0])?, parse(&pair[1])?);
    let (sa, sb) = (a.statement(), b.statement());
    if sa.author != sb.author || sa.seq != sb.seq {
        return Err(invalid(
            "the two statements must have the same author and seq",
        ));
    }
    if a.id() == b.id() {
        return Err(invalid("the two statements are the same statement"));
    }
    if sa.group != sb.group || g.origin() != Some(sa.group.as_str()) {
        return Err(invalid("the statements are not for this group"));
    }
    let member = g
        .members
        .get(&sa.author)
        .ok_or_else(|| invalid(format!("{} was never a member", sa.author)))?;
    let signed_by_member = |s: &Signed| {
        std::iter::once(&member.key)
            .chain(member.past_keys.iter())
            .any(|k| s.verify(k.verifying_key()))
    };
    if !signed_by_member(&a) || !signed_by_member(&b) {
        return Err(invalid(format!(
            "both statements must be signed with a key of {}",
            sa.author
        )));
    }
    Ok((Accused::Member(sa.author.clone()), [a.id(), b.id()]))
}

fn checkpoints(g: &Group, pair: &[String; 2]) -> Result<(Accused, [Digest; 2]), Rejection> {
    let genesis = g
        .genesis
        .as_ref()
        .ok_or_else(|| invalid("group not founded"))?;
    let origin = Origin::new(genesis.origin.clone()).map_err(|e| invalid(e.to_string()))?;
    let mut known = VerifierSet::new();
    let key = Ed25519Verifier::from_vkey(&genesis.log_key).map_err(|e| invalid(e.to_string()))?;
    known.insert(key).map_err(|e| invalid(e.to_string()))?;
    let open = |note: &String| {
        Checkpoint::open(note.as_bytes(), &origin, &known)
            .map(|o| o.checkpoint().clone())
            .map_err(|e| invalid(format!("not a checkpoint signed by this log: {e}")))
    };
    let (a, b) = (open(&pair[0])?, open(&pair[1])?);
    if a.size() != b.size() || a.root() == b.root() {
        return Err(invalid(
            "the two checkpoints must have the same size and different roots",
        ));
    }
    Ok((Accused::Host, [Digest(a.root()), Digest(b.root())]))
}
