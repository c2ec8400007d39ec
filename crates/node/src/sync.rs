//! `detente sync`: fetch what is new and verify all of it before storing any of it.
//!
//! 1. The checkpoint must be signed by the log key named in genesis, for this origin.
//! 2. Against the last checkpoint this node verified: a smaller tree is a rollback; the
//!    same size with another root is a fork; a larger tree must be consistent with it —
//!    the node computes the consistency proof itself from the host's tiles and verifies it.
//! 3. The new entry bundles must start with the entries the node already has, and every
//!    new entry must hash, with the ones before, to the checkpoint's root.
//! 4. Only then — once the signed checkpoint commits the host to these exact entries —
//!    is each one read: entry 0 must be the genesis pinned at `node init`, and every new
//!    statement goes through the same group fold the host runs. Checking the root first
//!    keeps the report honest: bytes altered in transit are a root mismatch, not a
//!    statement "the host admitted", and a rule violation is always one the host signed.
//!
//! Anything wrong stops the sync: the replica is not changed, and what the host did is
//! written to `evidence/` with everything needed to show it to someone else (the two
//! checkpoints, the entry, the proof). A host that cannot be reached, or answers a read
//! with an error status, stops the sync too but proves nothing: that is a
//! [`NodeError::Network`], and no evidence is written.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Serialize;
use serde_json::json;
use statement::group::Rules;
use tlog::checkpoint::Checkpoint;
use tlog::proof::{consistency_plan, prove_consistency, verify_consistency};
use tlog::tile::{TileHashReader, tiles_for_nodes};

use crate::client::FetchedTiles;
use crate::replica::Verified;
use crate::{Node, NodeError};

/// What the host did wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Misbehaviour {
    /// The checkpoint is not a valid checkpoint of this log.
    BadCheckpoint {
        /// Why.
        error: String,
    },
    /// The host showed a smaller tree than one it signed before.
    Rollback {
        /// The size this node verified.
        verified: u64,
        /// The size shown now.
        shown: u64,
    },
    /// Two signed checkpoints of one size with different roots: two histories.
    Fork {
        /// The size.
        size: u64,
    },
    /// The host shows a tree that the witnesses did not cosign, while a witness holds a
    /// log-signed tree of the same size with another root: a split view.
    SplitView {
        /// The size.
        size: u64,
        /// The witness that holds the other tree.
        witness: String,
    },
    /// The new checkpoint is not consistent with the verified one (per the host's tiles).
    Inconsistent {
        /// The verified size.
        old: u64,
        /// The new size.
        new: u64,
        /// Why.
        error: String,
    },
    /// The host does not serve data its checkpoint implies (it answers 404).
    Missing {
        /// The path.
        path: String,
    },
    /// An entry the node already had differs in the host's bundle, or the signed tree's
    /// entry 0 is not the genesis pinned when the node was set up.
    HistoryChanged {
        /// Its index.
        index: u64,
    },
    /// An entry is not a well-formed statement.
    BadEntry {
        /// Its index.
        index: u64,
        /// Why.
        error: String,
    },
    /// The entries do not hash to the checkpoint's root.
    RootMismatch {
        /// The checkpoint's size.
        size: u64,
    },
    /// The log holds a statement the group's rules refuse.
    RuleViolation {
        /// Its index.
        index: u64,
        /// The rejection's code.
        code: String,
        /// The rejection.
        error: String,
    },
}

/// A detected misbehaviour and where its proof was written.
#[derive(Debug, Clone)]
pub struct Report {
    /// What happened.
    pub misbehaviour: Misbehaviour,
    /// A sentence for people.
    pub message: String,
    /// The evidence file.
    pub evidence: PathBuf,
}

/// What a successful sync did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Synced {
    /// Verified size before.
    pub from: u64,
    /// Verified size after.
    pub to: u64,
}

/// Evidence being gathered during a sync.
pub(crate) struct Case {
    verified: Option<Verified>,
    shown: Vec<u8>,
    pub(crate) extra: serde_json::Value,
}

/// Why a step of the sync stopped: the host misbehaved (written up as evidence), or the
/// sync could not finish for a reason that proves nothing against the host (it could not
/// be reached or answered with an error status, or the replica failed).
pub(crate) enum Stop {
    Host(Misbehaviour),
    Node(NodeError),
}

impl From<Misbehaviour> for Stop {
    fn from(m: Misbehaviour) -> Stop {
        Stop::Host(m)
    }
}

impl From<NodeError> for Stop {
    fn from(e: NodeError) -> Stop {
        Stop::Node(e)
    }
}

impl Node {
    /// Syncs with the host; see the module documentation.
    pub async fn sync(&mut self) -> Result<Synced, NodeError> {
        let note = self
            .client
            .get("/checkpoint")
            .await?
            .ok_or_else(|| NodeError::Network("the host has no checkpoint yet".into()))?;
        let mut case = Case {
            verified: self.replica.verified()?,
            shown: note.clone(),
            extra: json!({}),
        };
        let cp = match self.open_checkpoint(&note) {
            Ok(cp) => cp,
            Err(error) => return Err(self.misbehaved(Misbehaviour::BadCheckpoint { error }, &case)),
        };
        let old = case.verified.as_ref().map_or(0, |v| v.size);
        if let Some(v) = &case.verified {
            if cp.size() < v.size {
                return Err(self.misbehaved(
                    Misbehaviour::Rollback {
                        verified: v.size,
                        shown: cp.size(),
                    },
                    &case,
                ));
            }
            if cp.size() == v.size {
                if cp.root() != v.root {
                    return Err(self.misbehaved(Misbehaviour::Fork { size: v.size }, &case));
                }
                return Ok(Synced { from: old, to: old });
            }
        }
        if let Err(stop) = self.check_witnesses(&note, &cp, &mut case).await {
            return Err(self.stopped(stop, &case));
        }
        if let Some(v) = &case.verified
            && let Err((stop, proof)) = self.check_consistency(v, &cp).await
        {
            case.extra = json!({ "consistency_proof": proof });
            return Err(self.stopped(stop, &case));
        }
        self.replica.clear_staged()?;
        let started = std::time::Instant::now();
        let frontier = match self.fetch_and_stage(old, &cp, &mut case).await {
            Ok(f) => f,
            Err(stop) => return Err(self.stopped(stop, &case)),
        };
        let fetched = started.elapsed();
        let before = self.rules.clone();
        self.replica.begin_checked()?;
        if let Err(stop) = self.check_staged(old, cp.size(), &mut case) {
            // check_staged moved the group on: back to the replica's.
            self.restore(before);
            self.replica.rollback_checked()?;
            return Err(self.stopped(stop, &case));
        }
        let verified = Verified {
            size: cp.size(),
            root: cp.root(),
            note,
        };
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let checked = started.elapsed() - fetched;
        if let Err(e) = self.replica.commit_checked(&verified, &frontier, now) {
            self.restore(before);
            self.replica.rollback_checked()?;
            return Err(e);
        }
        tracing::info!(
            entries = cp.size() - old,
            fetch_ms = fetched.as_millis() as u64,
            check_ms = checked.as_millis() as u64,
            commit_ms = (started.elapsed() - fetched - checked).as_millis() as u64,
            "synced"
        );
        self.frontier = frontier;
        Ok(Synced {
            from: old,
            to: cp.size(),
        })
    }

    /// Opens a checkpoint note with the log key from genesis.
    pub(crate) fn open_checkpoint(&self, note: &[u8]) -> Result<Checkpoint, String> {
        Checkpoint::open(note, &self.origin, &self.known)
            .map(|o| o.checkpoint().clone())
            .map_err(|e| e.to_string())
    }

    /// Requires the witness policy's cosignatures on `cp`. When they fall short, asks the
    /// witnesses what they cosigned: another log-signed tree of the same size is a split
    /// view (evidence); otherwise the checkpoint is simply not accepted yet.
    async fn check_witnesses(
        &self,
        note: &[u8],
        cp: &Checkpoint,
        case: &mut Case,
    ) -> Result<(), Stop> {
        let opened = Checkpoint::open(note, &self.origin, &self.known).map_err(|e| {
            Stop::Host(Misbehaviour::BadCheckpoint {
                error: e.to_string(),
            })
        })?;
        let Err((got, required)) = self.policy.check(&opened) else {
            return Ok(());
        };
        if let Some((witness, other)) = self.gossip(cp).await {
            case.extra = json!({ "witness_checkpoint": String::from_utf8_lossy(&other) });
            return Err(Stop::Host(Misbehaviour::SplitView {
                size: cp.size(),
                witness,
            }));
        }
        Err(Stop::Node(NodeError::Unwitnessed {
            size: cp.size(),
            got,
            required,
        }))
    }

    /// Computes the consistency proof from the host's tiles and verifies it.
    async fn check_consistency(
        &self,
        v: &Verified,
        cp: &Checkpoint,
    ) -> Result<(), (Stop, Vec<String>)> {
        let inconsistent = |error: String, proof: Vec<String>| {
            (
                Stop::Host(Misbehaviour::Inconsistent {
                    old: v.size,
                    new: cp.size(),
                    error,
                }),
                proof,
            )
        };
        let plan =
            consistency_plan(v.size, cp.size()).map_err(|e| inconsistent(e.to_string(), vec![]))?;
        let tiles = tiles_for_nodes(plan.ids(), cp.size())
            .map_err(|e| inconsistent(e.to_string(), vec![]))?;
        let mut fetched = FetchedTiles(Default::default());
        for tile in tiles {
            let path = tile.path();
            match self.client.get(&format!("/{path}")).await {
                Ok(Some(data)) => {
                    fetched.0.insert(tile, data);
                }
                Ok(None) => return Err((Misbehaviour::Missing { path }.into(), vec![])),
                Err(e) => return Err((e.into(), vec![])),
            }
        }
        let proof = prove_consistency(&TileHashReader::new(cp.size(), fetched), v.size, cp.size())
            .map_err(|e| inconsistent(format!("the tiles do not give a proof: {e}"), vec![]))?;
        let shown: Vec<String> = proof
            .iter()
            .map(|h| STANDARD.encode(h.as_bytes()))
            .collect();
        verify_consistency(v.size, cp.size(), &v.root, &cp.root(), &proof)
            .map_err(|e| inconsistent(format!("the proof from the host's tiles fails: {e}"), shown))
    }

    /// Puts the rules' state back as it was before a sync that failed, and forgets the
    /// views' group, which the sync may have moved on.
    fn restore(&mut self, rules: Rules) {
        self.rules = rules;
        self.views = OnceLock::new();
    }

    /// The error that stops the sync: evidence written if the host misbehaved.
    fn stopped(&self, stop: Stop, case: &Case) -> NodeError {
        match stop {
            Stop::Host(m) => self.misbehaved(m, case),
            Stop::Node(e) => e,
        }
    }

    /// Writes the evidence of `m` and returns the error that stops the sync.
    fn misbehaved(&self, m: Misbehaviour, case: &Case) -> NodeError {
        let message = describe(&m);
        let unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir = self.data.join("evidence");
        let path = dir.join(format!("{unix}.json"));
        let evidence = json!({
            "misbehaviour": m,
            "message": message,
            "host": self.client.base(),
            "verified_checkpoint": case.verified.as_ref().map(|v| String::from_utf8_lossy(&v.note).into_owned()),
            "shown_checkpoint": String::from_utf8_lossy(&case.shown),
            "detail": case.extra,
        });
        let written = std::fs::create_dir_all(&dir).and_then(|()| {
            std::fs::write(
                &path,
                serde_json::to_vec_pretty(&evidence).unwrap_or_default(),
            )
        });
        if let Err(e) = written {
            tracing::error!(error = %e, path = %path.display(), "cannot write evidence");
        }
        NodeError::HostMisbehaved(Box::new(Report {
            misbehaviour: m,
            message,
            evidence: path,
        }))
    }
}

/// A sentence for people.
pub fn describe(m: &Misbehaviour) -> String {
    match m {
        Misbehaviour::BadCheckpoint { error } => {
            format!("the host served a checkpoint that is not this log's: {error}")
        }
        Misbehaviour::Rollback { verified, shown } => {
            format!(
                "the host rolled the log back: it showed size {shown} after signing size {verified}"
            )
        }
        Misbehaviour::Fork { size } => {
            format!("the host signed two different trees of size {size}: a forked log")
        }
        Misbehaviour::Inconsistent { old, new, error } => {
            format!(
                "the host's tree of size {new} does not extend the verified tree of size {old}: {error}"
            )
        }
        Misbehaviour::SplitView { size, witness } => format!(
            "the host shows a tree of size {size} that the witnesses did not cosign, while witness {witness} holds another tree of that size signed by the log: a split view"
        ),
        Misbehaviour::Missing { path } => {
            format!("the host does not serve {path}, which its checkpoint implies")
        }
        Misbehaviour::HistoryChanged { index } => {
            format!("the host changed entry {index}, which this node had verified")
        }
        Misbehaviour::BadEntry { index, error } => {
            format!("entry {index} is not a valid statement: {error}")
        }
        Misbehaviour::RootMismatch { size } => {
            format!("the entries the host served do not hash to its checkpoint of size {size}")
        }
        Misbehaviour::RuleViolation { index, error, .. } => {
            format!("the host admitted entry {index}, which the group's rules refuse: {error}")
        }
    }
}
