//! The sequencer: one thread that owns the group's state and the tree's right edge,
//! admits statements in order through the group fold, and writes them to the log in
//! batches.
//!
//! A batch is closed after [`crate::BatchConfig::interval`] from its first statement or at
//! [`crate::BatchConfig::max_entries`], whichever comes first; while the previous batch is
//! being written, it is closed as soon as the queue is drained. Closing it runs the durable
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
//! 5. publish the checkpoint (atomic replace, durable);
//! 6. only then answer the submitters, each with its index and inclusion proof.
//!
//! Steps 2–3 (and 5 when there is no witness to ask) run on a writer thread while the
//! sequencer admits and appends the next batch ([`crate::pipeline`]): up to two batches
//! are written at once, the later one's tiles while the earlier one commits; commits and
//! checkpoints follow log order.
//!
//! A crash before 3 loses only unanswered statements (the tiles written are unreferenced
//! and get overwritten); a crash between 3 and 5 is repaired at start by re-publishing
//! the committed checkpoint and asking the witnesses again. If a step fails without a
//! crash, the in-memory state may be ahead of the durable one: the sequencer rebuilds
//! itself from the stores before admitting anything else (statements committed in 3 are
//! answered after the next checkpoint is out; the others get an error).

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::mpsc::Receiver;
use std::time::Instant;

use statement::group::{Effect, SignatureCheck};
use statement::{Group, Rejection, Signed, StatementId};
use store::{Head, StateStore, TileStore};
use tlog::checkpoint::Origin;
use tlog::note::Signer;
use tlog::tile::TileEdge;
use tokio::sync::oneshot;

use crate::collect::Collected;
use crate::lease::Tenure;
use crate::pipeline::Writing;
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
    pub(crate) group: Group,
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
    pub(crate) pending: Vec<(u64, StatementId, bool, oneshot::Sender<Outcome>)>,
    /// When the witnesses were last asked again about the head.
    pub(crate) rewitnessed: Instant,
    /// This host's claim to the sequencer lease.
    pub(crate) tenure: Tenure,
    /// The genesis given at start, to found the log if this host is the first to lead.
    pub(crate) genesis: Option<Signed>,
    /// For the witnesses' HTTP client.
    pub(crate) runtime: tokio::runtime::Handle,
}

/// Most batches being written at once: the oldest commits and publishes while the next
/// one's tiles are written.
const WRITES_IN_FLIGHT: usize = 2;

/// How often the sequencer asks the witnesses again while answers wait for them.
pub(crate) const REWITNESS_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

/// A batch being filled.
#[derive(Default)]
pub(crate) struct Batch {
    /// The statements the group admitted, in order, with their submitters.
    pub(crate) entries: Vec<(Signed, oneshot::Sender<Outcome>)>,
    /// Duplicates of statements admitted but not yet durable: answered with the batch.
    pub(crate) waiting: Vec<(u64, StatementId, oneshot::Sender<Outcome>)>,
}

impl Sequencer {
    /// Runs until every sender of `rx` is gone, then finishes the batches in flight. While
    /// another host holds the lease it follows the log instead ([`Sequencer::follow`]).
    pub fn run(mut self, rx: Receiver<Submission>, config: BatchConfig) {
        let mut writing: VecDeque<Writing> = VecDeque::new();
        loop {
            if !self.tenure.leading() {
                // Every path that stops leading settled the batches being written first.
                if self.follow(&rx) {
                    continue;
                }
                break;
            }
            let Collected { batch, open } = self.collect(&rx, &config, writing.back());
            let (sealed, waiting) = match batch {
                Some(b) if b.entries.is_empty() => (None, b.waiting),
                Some(b) => (Some(self.seal(b)), Vec::new()),
                None => (None, Vec::new()),
            };
            if sealed.is_none() && waiting.is_empty() && writing.is_empty() {
                if !open {
                    break;
                }
                self.idle();
                continue;
            }
            // How many writes may go on while this batch is dispatched; with nothing to
            // dispatch, the oldest is waited for.
            let limit = match &sealed {
                Some(Ok(s)) if s.publishes() && writing.iter().all(Writing::publishes) => {
                    WRITES_IN_FLIGHT - 1
                }
                Some(Ok(_)) => 0,
                _ => writing.len().saturating_sub(1),
            };
            let mut settled = Ok(());
            while settled.is_ok()
                && writing
                    .front()
                    .is_some_and(|w| writing.len() > limit || w.is_finished())
            {
                if let Some(w) = writing.pop_front() {
                    settled = self.settle(w);
                }
            }
            let next = match (settled, sealed) {
                (Err(e), sealed) => {
                    // Nothing of the batches sealed after the failed one is committed.
                    if let Some(Ok(s)) = sealed {
                        s.refuse();
                    }
                    refuse_waiting(waiting);
                    Err(e)
                }
                (Ok(()), Some(Err(e))) => {
                    refuse_waiting(waiting);
                    Err(e)
                }
                (Ok(()), Some(Ok(s))) => {
                    if !self.tenure.keep(self.state.as_ref()) {
                        s.refuse();
                        self.drain(&mut writing);
                        self.step_down();
                        continue;
                    }
                    match self.dispatch(s, writing.back_mut()) {
                        Ok(w) => {
                            writing.push_back(w);
                            Ok(())
                        }
                        Err((answers, e)) => {
                            answers.refuse();
                            Err(e)
                        }
                    }
                }
                (Ok(()), None) => {
                    match writing.back_mut() {
                        Some(w) => w.answer_with(waiting),
                        None => self.answer_waiting(waiting),
                    }
                    Ok(())
                }
            };
            match next {
                // Answered only now, so that the next batch is written meanwhile.
                Ok(()) => self.answer_pending(),
                Err(e) => {
                    self.drain(&mut writing);
                    if !self.recover_from(e) {
                        return;
                    }
                }
            }
            if !open && writing.is_empty() {
                break;
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

    /// Waits for every batch being written (after a failure, or before stepping down):
    /// those that committed are answered after the next checkpoint, the others refused.
    fn drain(&mut self, writing: &mut VecDeque<Writing>) {
        for w in writing.drain(..) {
            if let Err(e) = self.settle(w) {
                tracing::warn!(error = %e, "a batch written meanwhile failed too");
            }
        }
    }

    /// After a failed batch: steps down if the lease is gone, else rebuilds from the
    /// stores. Returns false if the sequencer cannot go on.
    fn recover_from(&mut self, e: HostError) -> bool {
        tracing::error!(error = %e, "sequencing failed; rebuilding from the stores");
        self.shared.metrics.fault("sequencing");
        if !self.tenure.keep(self.state.as_ref()) {
            self.step_down();
        } else if let Err(e) = self.reload() {
            tracing::error!(error = %e, "cannot rebuild the sequencer; refusing submissions");
            self.shared.set_failed();
            for (.., reply) in self.pending.drain(..) {
                let _ = reply.send(Err(Refusal::Unavailable));
            }
            return false;
        }
        true
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
        if batch.entries.is_empty() {
            self.answer_waiting(batch.waiting);
        } else {
            let sealed = self.seal(batch)?;
            self.write_now(sealed)?;
            self.answer_pending();
        }
        match outcome.try_recv() {
            Ok(Ok(receipt)) => Ok(receipt),
            Ok(Err(Refusal::Rejected(r))) => Err(HostError::Genesis(r.to_string())),
            _ => Err(HostError::Corrupt(
                "no receipt for a statement sequenced alone".into(),
            )),
        }
    }

    /// Applies one submission to the group, or answers it at once.
    pub(crate) fn admit(&mut self, sub: Submission, batch: &mut Batch) {
        let sig = sub
            .verified_with
            .as_ref()
            .map_or(SignatureCheck::Verify, SignatureCheck::VerifiedWith);
        match self.group.apply_with(&sub.signed, sig) {
            Ok(applied) => {
                self.shared.metrics.admitted();
                if applied.effects.iter().any(|e| {
                    matches!(
                        e,
                        Effect::MemberAdded(_) | Effect::MemberRemoved(_) | Effect::KeysRotated(_)
                    )
                }) {
                    self.shared.refresh_members(&self.group);
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

    /// A prover for the current head's tree, with its checkpoint note as receipts carry it
    /// (made once for all the receipts of a batch).
    fn prover(&self) -> HeadProver<'_> {
        let tiles = OwnTiles {
            store: self.tiles.as_ref(),
            cache: &self.cache,
        };
        HeadProver {
            tree: BatchProver::new(tiles, self.head.as_ref().map_or(0, |h| h.size)),
            checkpoint: self
                .head
                .as_ref()
                .map(|h| Arc::new(String::from_utf8_lossy(&h.checkpoint).into_owned())),
        }
    }

    /// Answers every waiting submitter, if the head meets the witness policy.
    pub(crate) fn answer_pending(&mut self) {
        if !self.head_witnessed {
            if !self.pending.is_empty() {
                tracing::warn!(
                    waiting = self.pending.len(),
                    "answers wait for a checkpoint cosigned by enough witnesses"
                );
            }
            return;
        }
        let pending = std::mem::take(&mut self.pending);
        let prover = self.prover();
        for (index, id, duplicate, reply) in pending {
            let receipt = Sequencer::receipt(&prover, index, id, duplicate);
            let _ = reply.send(receipt.ok_or(Refusal::Unavailable));
        }
    }

    fn answer_waiting(&mut self, waiting: Vec<(u64, StatementId, oneshot::Sender<Outcome>)>) {
        if waiting.is_empty() {
            return;
        }
        for (index, id, reply) in waiting {
            self.pending.push((index, id, true, reply));
        }
        self.answer_pending();
    }
}

/// Proves inclusion in the current head, whose note it carries.
struct HeadProver<'a> {
    tree: BatchProver<'a>,
    checkpoint: Option<Arc<String>>,
}

/// Refuses duplicates that waited for a batch that failed.
fn refuse_waiting(waiting: Vec<(u64, StatementId, oneshot::Sender<Outcome>)>) {
    for (.., reply) in waiting {
        let _ = reply.send(Err(Refusal::Unavailable));
    }
}
