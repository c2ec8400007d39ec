//! The sequencer: one thread that owns the group's state and the tree's right edge,
//! admits statements in order through the group fold, and writes them to the log in
//! batches.
//!
//! A batch is closed after [`crate::BatchConfig::interval`] from its first statement or at
//! [`crate::BatchConfig::max_entries`], whichever comes first. Closing it runs the durable
//! sequence, in this order, each step only after the previous one returned `Ok`:
//!
//! 1. append the leaves to the right edge, giving the new tiles and root;
//! 2. write the tiles and entry bundles (durable on return: fsync, rename, fsync dir);
//! 3. sign the checkpoint and — if this host still holds a fresh sequencer lease —
//!    commit the head and the dedup index to the state store (compare-and-swap from the
//!    old size, durable on return);
//! 4. ask the witnesses to cosign it and record their cosignatures in the state store
//!    ([`crate::cosigning`]: never before 3, so no witness ever sees a checkpoint the
//!    log could lose);
//! 5. publish the checkpoint (atomic replace; its durable copy is the head committed in
//!    3, which start-up publishes again if a power loss lost or tore the file);
//! 6. only then answer the submitters, each with its index and inclusion proof (made on
//!    the runtime's blocking pool while the sequencer goes on with the next batch).
//!
//! A crash before 3 loses only unanswered statements (the tiles written are unreferenced
//! and get overwritten); a crash between 3 and 5 is repaired at start by re-publishing
//! the committed checkpoint and asking the witnesses again. If a step fails without a
//! crash, the in-memory state may be ahead of the durable one: the sequencer rebuilds
//! itself from the stores before admitting anything else (statements committed in 3 are
//! answered after the next checkpoint is out; the others get an error).

use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Instant;

use statement::group::{Effect, SignatureCheck};
use statement::{Rejection, Signed, StatementId};
use store::{Head, StateStore, TileStore};
use tlog::checkpoint::{Checkpoint, Origin};
use tlog::note::Signer;
use tlog::tile::{TILE_WIDTH, TileEdge, encode_bundle};
use tokio::sync::oneshot;

use crate::fold::Fold;
use crate::lease::Tenure;
use crate::tiles::{BatchProver, OwnTiles, TileCache};
use crate::witnesses::Witnesses;
use crate::{BatchConfig, HostError, Shared};

/// A statement handed to the sequencer, with where to send the outcome.
pub struct Submission {
    /// The statement.
    pub signed: Signed,
    /// The key its signature was already verified with, if it was.
    pub verified_with: Option<ed25519_dalek::VerifyingKey>,
    /// Where the outcome goes.
    pub reply: oneshot::Sender<Outcome>,
    /// When it reached the host: the batch interval counts from here, so statements that
    /// queued while the previous batch was made durable are not held back again.
    pub received: Instant,
}

/// What became of a submission.
pub type Outcome = Result<Receipt, Refusal>;

/// Proof that a statement is in the log.
#[derive(Debug, Clone)]
pub struct Receipt {
    /// Its log index.
    pub index: u64,
    /// Its id.
    pub id: StatementId,
    /// The signed checkpoint note that covers it.
    pub checkpoint: Arc<String>,
    /// Its inclusion proof in that checkpoint's tree.
    pub inclusion_proof: Vec<tlog::Hash>,
    /// It was already in the log (an idempotent retry).
    pub duplicate: bool,
}

/// Why a submission got no receipt.
#[derive(Debug, Clone)]
pub enum Refusal {
    /// The group's rules refuse it.
    Rejected(Rejection),
    /// The host could not make it durable; nothing was sequenced. Retry later.
    Unavailable,
}

/// The sequencer's state; see the module documentation.
pub struct Sequencer {
    pub(crate) fold: Fold,
    pub(crate) edge: TileEdge,
    /// Entries of the current partial entry bundle (fewer than 256).
    pub(crate) bundle: Vec<Vec<u8>>,
    pub(crate) head: Option<Head>,
    pub(crate) tiles: Arc<dyn TileStore>,
    pub(crate) state: Arc<dyn StateStore>,
    pub(crate) signer: Signer,
    pub(crate) origin: Origin,
    pub(crate) cache: Arc<TileCache>,
    pub(crate) shared: Arc<Shared>,
    /// The group's witnesses (none until genesis is known).
    pub(crate) witnesses: Option<Witnesses>,
    /// Whether the head's checkpoint carries the cosignatures the witness policy requires.
    pub(crate) head_witnessed: bool,
    /// Submitters whose statements are durable, waiting for a checkpoint that meets the
    /// witness policy: (index, id, duplicate, reply).
    pub(crate) pending: Vec<Pending>,
    /// When the witnesses were last asked again about the head.
    pub(crate) rewitnessed: Instant,
    /// This host's claim to the sequencer lease.
    pub(crate) tenure: Tenure,
    /// The genesis given at start, to found the log if this host is the first to lead.
    pub(crate) genesis: Option<Signed>,
    /// For the witnesses' HTTP client.
    pub(crate) runtime: tokio::runtime::Handle,
}

/// How often the sequencer asks the witnesses again while answers wait for them.
const REWITNESS_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

/// A batch being filled.
#[derive(Default)]
struct Batch {
    entries: Vec<(Signed, oneshot::Sender<Outcome>)>,
    /// Duplicates of statements admitted but not yet durable: answered with the batch.
    waiting: Vec<(u64, StatementId, oneshot::Sender<Outcome>)>,
}

impl Sequencer {
    /// Runs until every sender of `rx` is gone, then finishes the batch in flight. While
    /// another host holds the lease it follows the log instead ([`Sequencer::follow`]).
    pub fn run(mut self, rx: Receiver<Submission>, config: BatchConfig) {
        loop {
            if !self.tenure.leading() {
                if self.follow(&rx) {
                    continue;
                }
                break;
            }
            let mut wait = self.tenure.until_renewal();
            if !self.pending.is_empty() {
                wait = wait.min(REWITNESS_INTERVAL.saturating_sub(self.rewitnessed.elapsed()));
            }
            let first = match rx.recv_timeout(wait) {
                Ok(s) => s,
                Err(RecvTimeoutError::Timeout) => {
                    self.idle();
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => break,
            };
            // Statements that queued during the previous flush have waited already: their
            // batch closes once the queue is drained (or at `max_entries`).
            let deadline = first.received + config.interval();
            let mut batch = Batch::default();
            self.admit(first, &mut batch);
            while batch.entries.len() < config.max_entries {
                let left = deadline.saturating_duration_since(Instant::now());
                let next = match left.is_zero() {
                    true => rx.try_recv().ok(),
                    false => rx.recv_timeout(left).ok(),
                };
                match next {
                    Some(s) => self.admit(s, &mut batch),
                    None => break,
                }
            }
            if !self.tenure.keep(self.state.as_ref()) {
                // Nothing of this batch was written: its submitters may retry elsewhere.
                for (_, reply) in batch.entries {
                    let _ = reply.send(Err(Refusal::Unavailable));
                }
                self.step_down();
                continue;
            }
            if let Err(e) = self.flush(batch, Answering::Elsewhere) {
                if matches!(e, HostError::LeaseLost) {
                    // A starved or paused leader past half its lease may not commit: the
                    // designed step-down (as above), not a fault of the stores.
                    tracing::warn!(error = %e, "nothing of the batch was committed");
                } else {
                    tracing::error!(error = %e, "sequencing failed; rebuilding from the stores");
                }
                self.shared.metrics.fault("sequencing");
                if !self.tenure.keep(self.state.as_ref()) {
                    self.step_down();
                } else if let Err(e) = self.reload() {
                    tracing::error!(error = %e, "cannot rebuild the sequencer; refusing submissions");
                    self.shared.set_failed();
                    return;
                }
            }
        }
        for (.., reply) in self.pending.drain(..) {
            let _ = reply.send(Err(Refusal::Unavailable));
        }
        if self.tenure.leading() {
            self.tenure.release(self.state.as_ref());
        }
        tracing::info!("sequencer stopped");
    }

    /// Keeps the lease while no statement arrives, and asks the witnesses again when
    /// answers wait for them.
    fn idle(&mut self) {
        if !self.tenure.keep(self.state.as_ref()) {
            self.step_down();
        } else if !self.pending.is_empty() && self.rewitnessed.elapsed() >= REWITNESS_INTERVAL {
            self.rewitness();
        }
    }

    /// Sequences one statement on its own, synchronously (genesis on first start).
    pub(crate) fn sequence_now(&mut self, signed: Signed) -> Result<Receipt, HostError> {
        let (reply, mut outcome) = oneshot::channel();
        let mut batch = Batch::default();
        self.admit(
            Submission {
                signed,
                verified_with: None,
                reply,
                received: Instant::now(),
            },
            &mut batch,
        );
        self.flush(batch, Answering::Here)?;
        match outcome.try_recv() {
            Ok(Ok(receipt)) => Ok(receipt),
            Ok(Err(Refusal::Rejected(r))) => Err(HostError::Genesis(r.to_string())),
            _ => Err(HostError::Corrupt(
                "no receipt for a statement sequenced alone".into(),
            )),
        }
    }

    /// Applies one submission to the group, or answers it at once.
    fn admit(&mut self, sub: Submission, batch: &mut Batch) {
        let sig = sub
            .verified_with
            .as_ref()
            .map_or(SignatureCheck::Verify, SignatureCheck::VerifiedWith);
        match self.fold.apply_with(&sub.signed, sig) {
            Ok(applied) => {
                self.shared.metrics.admitted();
                if applied.effects.iter().any(|e| {
                    matches!(
                        e,
                        Effect::MemberAdded(_) | Effect::MemberRemoved(_) | Effect::KeysRotated(_)
                    )
                }) {
                    self.shared.refresh_members(&self.fold);
                }
                batch.entries.push((sub.signed, sub.reply));
            }
            Err(Rejection::Duplicate { id, index }) => {
                let durable = self.head.as_ref().map_or(0, |h| h.size);
                if index < durable {
                    let receipt = Sequencer::receipt(&self.prover(), index, id, true);
                    let _ = sub.reply.send(receipt.ok_or(Refusal::Unavailable));
                } else {
                    batch.waiting.push((index, id, sub.reply));
                }
            }
            Err(r) => {
                self.shared.metrics.refused(r.code());
                let _ = sub.reply.send(Err(Refusal::Rejected(r)));
            }
        }
    }

    /// A receipt for `index` in the current head (proved by `prover`, made for the head).
    fn receipt(
        prover: &HeadProver<'_>,
        index: u64,
        id: StatementId,
        duplicate: bool,
    ) -> Option<Receipt> {
        let checkpoint = prover.checkpoint.clone()?;
        let proof = prover
            .tree
            .inclusion(index)
            .map_err(|e| tracing::error!(error = %e, index, "cannot prove inclusion"))
            .ok()?;
        Some(Receipt {
            index,
            id,
            checkpoint,
            inclusion_proof: proof,
            duplicate,
        })
    }

    /// A prover for the current head's tree, with its checkpoint note as receipts carry it.
    fn prover(&self) -> HeadProver<'_> {
        let tiles = OwnTiles {
            store: self.tiles.as_ref(),
            cache: &self.cache,
        };
        HeadProver::new(
            tiles,
            self.head.as_ref().map(|h| (h.size, h.checkpoint.clone())),
        )
    }

    /// Makes a batch durable and answers it; see the module documentation.
    fn flush(&mut self, batch: Batch, answering: Answering) -> Result<(), HostError> {
        if batch.entries.is_empty() {
            for (index, id, reply) in batch.waiting {
                self.pending.push((index, id, true, reply));
            }
            self.answer_pending(answering);
            return Ok(());
        }
        let started = Instant::now();
        let old = self.edge.size();
        let leaves: Vec<tlog::Hash> = batch
            .entries
            .iter()
            .map(|(s, _)| tlog::leaf_hash(s.leaf()))
            .collect();
        let update = self
            .edge
            .append(&leaves)
            .map_err(|e| HostError::Corrupt(e.to_string()))?;
        let mut files: Vec<(String, Vec<u8>)> = update
            .tiles
            .iter()
            .map(|(t, d)| (t.path(), d.clone()))
            .collect();
        files.extend(self.bundles(old, batch.entries.iter().map(|(s, _)| s.leaf()))?);
        self.tiles.write_files(&files)?;
        for (path, data) in files {
            self.cache.insert(path, Arc::new(data));
        }
        let checkpoint = Checkpoint::new(self.origin.clone(), update.size, update.root);
        let note = checkpoint
            .sign(&[&self.signer])
            .map_err(|e| HostError::Corrupt(e.to_string()))?;
        let head = Head {
            size: update.size,
            root: update.root,
            checkpoint: note.to_bytes(),
        };
        let ids: Vec<(StatementId, u64)> = batch
            .entries
            .iter()
            .enumerate()
            .map(|(i, (s, _))| (s.id(), old + i as u64))
            .collect();
        if !self.tenure.fresh() {
            return Err(HostError::LeaseLost);
        }
        // Committed before any witness sees it: a checkpoint shown to a witness is one
        // this log can never take back, whatever happens next.
        self.state.commit(old, &head, &ids)?;
        self.head = Some(head);
        let entries = batch.entries.len();
        for (i, (s, reply)) in batch.entries.into_iter().enumerate() {
            self.pending.push((old + i as u64, s.id(), false, reply));
        }
        for (index, id, reply) in batch.waiting {
            self.pending.push((index, id, true, reply));
        }
        // From here on the batch is durable: if publishing fails, the sequencer rebuilds
        // and its submitters are answered after the next checkpoint is out.
        self.witness_and_publish(note, &checkpoint, true)?;
        self.shared
            .metrics
            .batch(entries, started.elapsed(), update.size);
        self.answer_pending(answering);
        Ok(())
    }

    /// Answers every waiting submitter, if the head meets the witness policy: `Elsewhere`
    /// proves their inclusion on the runtime's blocking pool, so that the next batch need
    /// not wait for the proofs of this one.
    pub(crate) fn answer_pending(&mut self, answering: Answering) {
        if !self.head_witnessed {
            if !self.pending.is_empty() {
                tracing::warn!(
                    waiting = self.pending.len(),
                    "answers wait for a checkpoint cosigned by enough witnesses"
                );
            }
            return;
        }
        if self.pending.is_empty() {
            return;
        }
        let pending = std::mem::take(&mut self.pending);
        let head = self.head.as_ref().map(|h| (h.size, h.checkpoint.clone()));
        let (tiles, cache) = (self.tiles.clone(), self.cache.clone());
        let answer = move || {
            let tiles = OwnTiles {
                store: tiles.as_ref(),
                cache: &cache,
            };
            answer(&HeadProver::new(tiles, head), pending);
        };
        match answering {
            Answering::Here => answer(),
            // Dropped unrun only if the runtime is shutting down: the submitters then get
            // an error, as they would for a host that stopped before answering.
            Answering::Elsewhere => drop(self.runtime.spawn_blocking(answer)),
        }
    }

    /// The entry bundles to write for new `leaves` appended at `old`: every bundle they
    /// complete, and the partial bundle they leave, if any (C2SP tlog-tiles).
    fn bundles<'a>(
        &mut self,
        old: u64,
        leaves: impl Iterator<Item = &'a [u8]>,
    ) -> Result<Vec<(String, Vec<u8>)>, HostError> {
        let width = usize::from(TILE_WIDTH);
        let mut out = Vec::new();
        let mut index = old / width as u64;
        for leaf in leaves {
            self.bundle.push(leaf.to_vec());
            if self.bundle.len() == width {
                out.push((bundle_path(index, width)?, encode(&self.bundle)?));
                self.bundle.clear();
                index += 1;
            }
        }
        if !self.bundle.is_empty() {
            out.push((
                bundle_path(index, self.bundle.len())?,
                encode(&self.bundle)?,
            ));
        }
        Ok(out)
    }
}

/// Where a batch's submitters get their receipts made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Answering {
    /// On the sequencer's thread, before it returns (the genesis, sequenced alone).
    Here,
    /// On the runtime's blocking pool.
    Elsewhere,
}

/// A submitter waiting for its receipt: (index, id, duplicate, reply).
type Pending = (u64, StatementId, bool, oneshot::Sender<Outcome>);

/// Sends each of `pending` its receipt in `prover`'s tree (made once for all of them).
fn answer(prover: &HeadProver<'_>, pending: Vec<Pending>) {
    prover
        .tree
        .prefetch(pending.iter().map(|(index, ..)| *index));
    for (index, id, duplicate, reply) in pending {
        let receipt = Sequencer::receipt(prover, index, id, duplicate);
        let _ = reply.send(receipt.ok_or(Refusal::Unavailable));
    }
}

/// Proves inclusion in a head, whose note it carries.
struct HeadProver<'a> {
    tree: BatchProver<'a>,
    checkpoint: Option<Arc<String>>,
}

impl<'a> HeadProver<'a> {
    /// A prover for the tree of `head`'s size, from `tiles`; `head` is its size and note.
    fn new(tiles: OwnTiles<'a>, head: Option<(u64, Vec<u8>)>) -> HeadProver<'a> {
        let (size, note) = head.map_or((0, None), |(size, note)| (size, Some(note)));
        HeadProver {
            tree: BatchProver::new(tiles, size),
            checkpoint: note.map(|n| Arc::new(String::from_utf8_lossy(&n).into_owned())),
        }
    }
}

fn bundle_path(index: u64, width: usize) -> Result<String, HostError> {
    let width = u16::try_from(width).map_err(|_| HostError::Corrupt("bundle width".into()))?;
    tlog::tile::EntryBundle::new(index, width)
        .map(|b| b.path())
        .map_err(|e| HostError::Corrupt(e.to_string()))
}

fn encode(entries: &[Vec<u8>]) -> Result<Vec<u8>, HostError> {
    encode_bundle(entries).map_err(|e| HostError::Corrupt(e.to_string()))
}
