//! The two passes of a sync over new entries (steps 3 and 4 of [`crate::sync`]), in
//! constant memory whatever the log's size.
//!
//! 1. [`Node::fetch_and_stage`] fetches the entry bundles, checks that they start with the
//!    entries the node has, hashes every new entry into the tree, and stages it in the
//!    replica (not yet part of it); at the end the tree must have the checkpoint's root.
//! 2. [`Node::check_staged`] reads the staged entries back chunk by chunk, checks the
//!    signatures on every core ([`crate::precheck`]), folds them in order through the
//!    group's rules ([`crate::fold`]) and appends them to the replica's entries inside the
//!    sync's open transaction, where later chunks look them up.
//!
//! Only then does the sync commit that transaction with the checkpoint.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use std::sync::OnceLock;

use serde_json::json;
use statement::group::SignatureCheck;
use tlog::checkpoint::Checkpoint;
use tlog::merkle::Frontier;
use tlog::tile::{EntryBundle, parse_bundle};

use crate::fold::{FoldStop, Signatures, fold_from};
use crate::precheck::CHUNK;
use crate::sync::{Case, Misbehaviour, Stop};
use crate::{Node, NodeError};

impl Node {
    /// Pass 1: fetch, hash and stage the entries `old..cp.size`; returns the new frontier.
    pub(crate) async fn fetch_and_stage(
        &self,
        old: u64,
        cp: &Checkpoint,
        case: &mut Case,
    ) -> Result<Frontier, Stop> {
        let mut frontier = self.frontier.clone();
        let mut pending: Vec<Vec<u8>> = Vec::with_capacity(CHUNK);
        let mut index = old;
        while index < cp.size() {
            let n = index / 256;
            let width = (cp.size() - n * 256).min(256) as u16;
            let bundle = EntryBundle::new(n, width).map_err(|e| Misbehaviour::BadEntry {
                index,
                error: e.to_string(),
            })?;
            let path = bundle.path();
            let data = self
                .client
                .get(&format!("/{path}"))
                .await?
                .ok_or_else(|| Misbehaviour::Missing { path: path.clone() })?;
            let entries = parse_bundle(bundle, &data).map_err(|e| Misbehaviour::BadEntry {
                index,
                error: format!("{path}: {e}"),
            })?;
            for (at, leaf) in (n * 256..).zip(entries) {
                if at < old {
                    let ours = self.replica.leaf(at).ok().flatten();
                    if ours.as_deref() != Some(leaf) {
                        case.extra = json!({ "index": at, "shown_entry": STANDARD.encode(leaf) });
                        return Err(Misbehaviour::HistoryChanged { index: at }.into());
                    }
                    continue;
                }
                frontier
                    .append(tlog::leaf_hash(leaf), |_, _| {})
                    .map_err(|e| Misbehaviour::BadEntry {
                        index: at,
                        error: e.to_string(),
                    })?;
                pending.push(leaf.to_vec());
            }
            index = n * 256 + u64::from(width);
            if pending.len() >= CHUNK || index >= cp.size() {
                self.replica.stage(index - pending.len() as u64, &pending)?;
                pending.clear();
            }
        }
        if frontier.root() != cp.root() {
            case.extra = json!({ "computed_root": frontier.root().to_base64() });
            return Err(Misbehaviour::RootMismatch { size: cp.size() }.into());
        }
        Ok(frontier)
    }

    /// Pass 2: check the staged entries `old..size` through the fold (applied to the node's
    /// rules, and to its views' group if it has one) and append them in the transaction
    /// the caller opened; the caller rolls back and restores both if this fails.
    pub(crate) fn check_staged(
        &mut self,
        old: u64,
        size: u64,
        case: &mut Case,
    ) -> Result<(), Stop> {
        if old == 0 && size > 0 {
            let first = self.replica.staged(0, 1)?;
            let leaf = first
                .first()
                .ok_or_else(|| NodeError::Replica("staged entry 0 is missing".into()))?;
            self.check_genesis(leaf, case)?;
        }
        let replica = &self.replica;
        let mut views = self.views.get_mut();
        let mut diverged = false;
        let folded = fold_from(
            &mut self.rules,
            replica,
            Signatures::Verify,
            |from| {
                if from >= size {
                    return Ok(Vec::new());
                }
                let leaves = replica.staged(from, CHUNK)?;
                if leaves.is_empty() {
                    return Err(NodeError::Replica(format!(
                        "staged entry {from} is missing"
                    )));
                }
                Ok(leaves)
            },
            |s| {
                if let Some(g) = views.as_mut() {
                    diverged |= g.apply_with(s, SignatureCheck::Trusted).is_err();
                }
            },
            |start, leaves, ids| replica.append_checked(start, leaves, ids),
        );
        if diverged {
            // Cannot happen (one fold, one code); if it did, fold the views afresh.
            self.views = OnceLock::new();
        }
        let (index, m) = match folded {
            Ok(()) => return Ok(()),
            Err(FoldStop::Node(e)) => return Err(e.into()),
            Err(FoldStop::Entry(index, e)) => (
                index,
                Misbehaviour::BadEntry {
                    index,
                    error: e.to_string(),
                },
            ),
            Err(FoldStop::Rule(index, r)) => (
                index,
                Misbehaviour::RuleViolation {
                    index,
                    code: r.code().to_owned(),
                    error: r.to_string(),
                },
            ),
        };
        let leaf = self.replica.staged(index, 1)?;
        case.extra = json!({ "index": index, "entry": leaf.first().map(|l| STANDARD.encode(l)) });
        Err(m.into())
    }

    /// Entry 0 must be the genesis pinned at `node init`.
    fn check_genesis(&self, leaf: &[u8], case: &mut Case) -> Result<(), Stop> {
        let pinned = self
            .replica
            .meta("genesis")?
            .ok_or_else(|| NodeError::Replica("no genesis in the replica".into()))?;
        if leaf != pinned.as_slice() {
            case.extra = json!({
                "index": 0,
                "shown_entry": STANDARD.encode(leaf),
                "pinned_genesis": STANDARD.encode(&pinned),
            });
            return Err(Misbehaviour::HistoryChanged { index: 0 }.into());
        }
        Ok(())
    }
}
