//! The node's witness policy (DESIGN.md, "The log"; C2SP tlog-witness, tlog-cosignature).
//!
//! A node accepts a checkpoint only if it carries valid cosignatures from at least `k` of
//! the witnesses listed in genesis. When a checkpoint falls short, the node asks the
//! witnesses directly for the latest checkpoint each cosigned (their monitoring API): a
//! log-signed checkpoint of the same size with another root is proof of a split view.
//!
//! Standing's times come from here too: a statement was in the log no later than the
//! `k`-th earliest policy witness's timestamp on the first checkpoint that covered it, so
//! fewer than `k` lying witnesses cannot move that bound.

use std::time::Duration;

use statement::Timestamp;
use statement::group::Standing;
use statement::kind::WitnessPolicy;
use tlog::checkpoint::{Checkpoint, OpenedCheckpoint};
use tlog::cosignature::CosignatureVerifier;
use tlog::note::{KeyType, Verifier};

use crate::{Node, NodeError};

/// The policy as the node applies it.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// Cosignatures required.
    pub k: usize,
    /// The witnesses: name, URL and key.
    pub witnesses: Vec<(String, String, CosignatureVerifier)>,
}

impl Policy {
    /// The policy of genesis; unparseable keys are refused.
    pub fn from_genesis(p: &WitnessPolicy) -> Result<Policy, NodeError> {
        let witnesses = p
            .witnesses
            .iter()
            .map(|w| {
                CosignatureVerifier::from_vkey(&w.key)
                    .map(|v| (w.name.clone(), w.url.trim_end_matches('/').to_owned(), v))
                    .map_err(|e| NodeError::Setup(format!("witness {}: {e}", w.name)))
            })
            .collect::<Result<_, _>>()?;
        Ok(Policy {
            k: p.k as usize,
            witnesses,
        })
    }

    /// The verifiers to add to the node's verifier set.
    pub fn verifiers(&self) -> impl Iterator<Item = Verifier> + '_ {
        self.witnesses
            .iter()
            .map(|(_, _, v)| Verifier::Cosignature(v.clone()))
    }

    /// The policy witnesses' timestamps on an opened checkpoint, one per witness, sorted.
    pub fn timestamps(&self, opened: &OpenedCheckpoint) -> Vec<u64> {
        let mut times: Vec<u64> = self
            .witnesses
            .iter()
            .filter_map(|(_, _, v)| {
                opened
                    .cosignatures()
                    .iter()
                    .find(|c| {
                        c.key_type == KeyType::CosignatureV1
                            && c.name == *v.name()
                            && c.key_id == v.key_id()
                    })
                    .and_then(|c| c.timestamp)
            })
            .collect();
        times.sort_unstable();
        times
    }

    /// The trusted upper bound of when the checkpoint's tree existed: the k-th earliest
    /// policy cosignature, if there are k.
    pub fn witnessed_at(&self, opened: &OpenedCheckpoint) -> Option<u64> {
        let times = self.timestamps(opened);
        (self.k > 0)
            .then(|| times.get(self.k - 1).copied())
            .flatten()
    }

    /// Whether the checkpoint meets the policy: `Err((got, required))` if not.
    pub fn check(&self, opened: &OpenedCheckpoint) -> Result<(), (usize, usize)> {
        let got = self.timestamps(opened).len();
        if got >= self.k {
            Ok(())
        } else {
            Err((got, self.k))
        }
    }
}

impl Node {
    /// Asks every policy witness for the latest checkpoint it cosigned, and returns one
    /// that is signed by the log, has the size of `shown` and another root, if any: with
    /// `shown`, two signed trees of one size.
    pub(crate) async fn gossip(&self, shown: &Checkpoint) -> Option<(String, Vec<u8>)> {
        let hash = tlog::sha256(self.origin.as_str().as_bytes()).to_hex();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .ok()?;
        for (name, url, _) in &self.policy.witnesses {
            let Ok(resp) = http.get(format!("{url}/{hash}/checkpoint")).send().await else {
                continue;
            };
            let Ok(note) = resp.bytes().await else {
                continue;
            };
            match self.open_checkpoint(&note) {
                Ok(other) if other.size() == shown.size() && other.root() != shown.root() => {
                    tracing::warn!(witness = %name, "a witness holds another tree of the same size");
                    return Some((name.clone(), note.to_vec()));
                }
                _ => {}
            }
        }
        None
    }

    /// For each verified checkpoint size, the witnessed time of its tree (if it had k
    /// cosignatures), in increasing size.
    pub fn witnessed_times(&self) -> Result<Vec<(u64, Option<Timestamp>)>, NodeError> {
        let notes = self.replica.checkpoint_notes()?;
        Ok(notes
            .into_iter()
            .map(|(size, note)| {
                let at = Checkpoint::open(&note, &self.origin, &self.known)
                    .ok()
                    .and_then(|o| self.policy.witnessed_at(&o))
                    .and_then(|t| Timestamp::from_unix(i64::try_from(t).ok()?));
                (size, at)
            })
            .collect())
    }

    /// Every member's standing at `now`, with witnessed times where the log has them.
    pub fn standing(&self, now: &Timestamp) -> Result<Vec<Standing>, NodeError> {
        let times = self.witnessed_times()?;
        let witnessed = |index: u64| {
            // The first checkpoint that covers `index` bounds when it was in the log.
            let i = times.partition_point(|(size, _)| *size <= index);
            times.get(i).and_then(|(_, t)| t.clone())
        };
        Ok(self.group()?.standing(now, &witnessed))
    }
}
