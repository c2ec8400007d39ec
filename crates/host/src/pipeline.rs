//! Making batches durable on threads of their own while the sequencer admits the next.
//!
//! A batch goes through three stages:
//!
//! 1. [`Sequencer::seal`] (sequencer thread): its leaves are appended to the right edge,
//!    its tiles and entry bundles encoded and its checkpoint signed — CPU only;
//! 2. [`Sequencer::dispatch`] hands the I/O to a writer thread: write the tiles and
//!    bundles (durable on return); wait until the batch before it is committed and
//!    published; check that the lease is still fresh; commit the head (compare-and-swap
//!    from the old size) and, when no witness has to be asked first, publish the
//!    checkpoint;
//! 3. [`Sequencer::settle`] (sequencer thread, in log order) waits for the writer, then
//!    asks the witnesses (if any) and publishes; the sequencer then answers the
//!    submitters.
//!
//! So the next batch's admission (the group fold) and sealing, and the writing of its
//! tiles, overlap the current batch's commit; commits and published checkpoints still
//! follow log order, nothing is committed over tiles not yet written, and nothing is
//! answered before the checkpoint that covers it is committed and published. If a batch
//! fails, every batch after it is refused (none of them commits: each waits for a `true`
//! from the one before) and the sequencer rebuilds from the stores; tiles they wrote are
//! unreferenced and get overwritten.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender};
use std::thread::JoinHandle;
use std::time::Instant;

use statement::StatementId;
use store::{Head, StateStore, TileStore};
use tlog::checkpoint::Checkpoint;
use tlog::note::Note;
use tlog::tile::{TILE_WIDTH, encode_bundle};
use tokio::sync::oneshot;

use crate::HostError;
use crate::sequencer::{Batch, Outcome, Refusal, Sequencer};

/// The I/O of one batch, done by the writer thread.
pub(crate) struct Write {
    /// The tree size the commit moves the head from.
    old: u64,
    /// Tiles and entry bundles, written before the commit.
    files: Vec<(String, Vec<u8>)>,
    /// The new head.
    head: Head,
    /// The dedup index of the batch.
    ids: Vec<(StatementId, u64)>,
    /// Whether the writer publishes the checkpoint itself (no witness to ask first).
    publish: bool,
}

/// A sealed batch: its I/O, and what the sequencer keeps to answer it.
pub(crate) struct Sealed {
    answers: Answers,
    write: Write,
}

/// What the sequencer keeps of a batch to answer it once it is durable.
pub(crate) struct Answers {
    started: Instant,
    note: Note,
    checkpoint: Checkpoint,
    /// The new entries' submitters, in log order from [`Write::old`].
    replies: Vec<(StatementId, oneshot::Sender<Outcome>)>,
    /// Duplicates of entries not yet durable when they arrived.
    waiting: Vec<(u64, StatementId, oneshot::Sender<Outcome>)>,
    /// With [`Write::publish`]: whether the head is then witnessed as the policy wants.
    witnessed: bool,
}

/// Why a write failed, and whether its head had been committed by then.
struct Failure {
    committed: bool,
    error: HostError,
}

/// A batch being written.
pub(crate) struct Writing {
    answers: Answers,
    done: JoinHandle<(Write, Result<(), Failure>)>,
    /// Whether its writer publishes the checkpoint (see [`Write::publish`]).
    publishes: bool,
    /// Told by its writer whether it committed and published: the next batch's writer
    /// commits only after a `true` (taken by the next [`Sequencer::dispatch`]).
    then: Option<Receiver<bool>>,
    /// Set by its writer once past writing the tiles (whether or not that worked).
    tiles_done: Arc<AtomicBool>,
}

impl Writing {
    /// Whether its writer publishes the checkpoint itself: only such batches may be
    /// written while another is (a witnessed checkpoint is amended by the sequencer after
    /// the write, which a later commit would race).
    pub(crate) fn publishes(&self) -> bool {
        self.publishes
    }

    /// Answers `waiting` (duplicates of entries not yet durable) with this batch.
    pub(crate) fn answer_with(
        &mut self,
        waiting: Vec<(u64, StatementId, oneshot::Sender<Outcome>)>,
    ) {
        self.answers.waiting.extend(waiting);
    }

    /// Whether its writer is past writing the tiles: the next batch's tiles may be
    /// written now, while this one commits.
    pub(crate) fn tiles_done(&self) -> bool {
        self.tiles_done.load(Ordering::Acquire) || self.done.is_finished()
    }

    /// Whether its writer has finished (settling it will not block).
    pub(crate) fn is_finished(&self) -> bool {
        self.done.is_finished()
    }
}

impl Sealed {
    /// Whether its writer will publish the checkpoint itself (see [`Writing::publishes`]).
    pub(crate) fn publishes(&self) -> bool {
        self.write.publish
    }

    /// Refuses every submitter: nothing of the batch was written.
    pub(crate) fn refuse(self) {
        self.answers.refuse();
    }
}

impl Answers {
    /// Refuses every submitter: nothing of the batch was written.
    pub(crate) fn refuse(self) {
        for (_, reply) in self.replies {
            let _ = reply.send(Err(Refusal::Unavailable));
        }
        for (.., reply) in self.waiting {
            let _ = reply.send(Err(Refusal::Unavailable));
        }
    }
}

impl Sequencer {
    /// Appends a non-empty batch to the tree and signs its checkpoint, ready to write.
    pub(crate) fn seal(&mut self, batch: Batch) -> Result<Sealed, HostError> {
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
        let checkpoint = Checkpoint::new(self.origin.clone(), update.size, update.root);
        let note = checkpoint
            .sign(&[&self.signer])
            .map_err(|e| HostError::Corrupt(e.to_string()))?;
        let head = Head {
            size: update.size,
            root: update.root,
            checkpoint: note.to_bytes(),
        };
        let replies: Vec<(StatementId, oneshot::Sender<Outcome>)> = batch
            .entries
            .into_iter()
            .map(|(s, reply)| (s.id(), reply))
            .collect();
        let ids = replies
            .iter()
            .enumerate()
            .map(|(i, (id, _))| (*id, old + i as u64))
            .collect();
        let (publish, witnessed) = match &self.witnesses {
            None => (true, true),
            Some(w) if w.is_empty() => (true, w.threshold() == 0),
            Some(_) => (false, false),
        };
        Ok(Sealed {
            answers: Answers {
                started,
                note,
                checkpoint,
                replies,
                waiting: batch.waiting,
                witnessed,
            },
            write: Write {
                old,
                files,
                head,
                ids,
                publish,
            },
        })
    }

    /// Starts writing a sealed batch on a thread of its own, after `before` (the batch
    /// written before it, if it is still being written): its tiles at once, its commit only
    /// once that batch committed and published, and only while the lease, as granted now,
    /// is younger than half its length.
    pub(crate) fn dispatch(
        &self,
        sealed: Sealed,
        before: Option<&mut Writing>,
    ) -> Result<Writing, (Answers, HostError)> {
        let Some(lease_until) = self.tenure.fresh_until() else {
            return Err((sealed.answers, HostError::LeaseLost));
        };
        let after = match before {
            Some(w) => match w.then.take() {
                Some(rx) => Some(rx),
                // Its signal was given away already: never commit after an unknown batch.
                None => return Err((sealed.answers, HostError::Aborted)),
            },
            None => None,
        };
        let (tiles, state) = (self.tiles.clone(), self.state.clone());
        let Sealed {
            answers,
            write: job,
        } = sealed;
        let publishes = job.publish;
        let (tell, then) = std::sync::mpsc::channel();
        let tiles_done = Arc::new(AtomicBool::new(false));
        let tiles_flag = tiles_done.clone();
        let done = std::thread::Builder::new()
            .name("sequencer-write".into())
            .spawn(move || {
                let order = Order {
                    after,
                    tell,
                    tiles_done: Some(tiles_flag),
                };
                let result = write(tiles.as_ref(), state.as_ref(), &job, lease_until, order);
                (job, result)
            });
        match done {
            Ok(done) => Ok(Writing {
                answers,
                done,
                publishes,
                then: Some(then),
                tiles_done,
            }),
            Err(e) => Err((
                answers,
                HostError::io(std::path::Path::new("sequencer write thread"), e),
            )),
        }
    }

    /// Writes a sealed batch on the calling thread and settles it (genesis, at start).
    pub(crate) fn write_now(&mut self, sealed: Sealed) -> Result<(), HostError> {
        let Some(lease_until) = self.tenure.fresh_until() else {
            sealed.refuse();
            return Err(HostError::LeaseLost);
        };
        let (tell, _) = std::sync::mpsc::channel();
        let order = Order {
            after: None,
            tell,
            tiles_done: None,
        };
        let result = write(
            self.tiles.as_ref(),
            self.state.as_ref(),
            &sealed.write,
            lease_until,
            order,
        );
        self.finish(sealed.answers, sealed.write, result)
    }

    /// Waits for a batch's write, then publishes it and queues its submitters for
    /// [`Sequencer::answer_pending`]; see the module documentation. On an error the caller rebuilds: the batch's submitters are answered
    /// after the next checkpoint if it was committed, and refused otherwise.
    pub(crate) fn settle(&mut self, writing: Writing) -> Result<(), HostError> {
        let Writing { answers, done, .. } = writing;
        match done.join() {
            Ok((job, result)) => self.finish(answers, job, result),
            Err(_) => {
                // Whether it committed is unknown: refuse, a retry finds it either way.
                answers.refuse();
                Err(HostError::Corrupt("the sequencer's writer panicked".into()))
            }
        }
    }

    /// Answers a written batch (see [`Sequencer::settle`]).
    fn finish(
        &mut self,
        answers: Answers,
        write: Write,
        result: Result<(), Failure>,
    ) -> Result<(), HostError> {
        if let Err(Failure {
            committed: false,
            error,
        }) = result
        {
            answers.refuse();
            return Err(error);
        }
        let Answers {
            started,
            note,
            checkpoint,
            replies,
            waiting,
            witnessed,
        } = answers;
        let size = write.head.size;
        for (path, data) in write.files {
            self.cache.insert(path, Arc::new(data));
        }
        self.head = Some(write.head);
        let entries = replies.len();
        for (i, (id, reply)) in replies.into_iter().enumerate() {
            self.pending.push((write.old + i as u64, id, false, reply));
        }
        for (index, id, reply) in waiting {
            self.pending.push((index, id, true, reply));
        }
        // From here on the batch is durable: if publishing failed, the sequencer rebuilds
        // and its submitters are answered after the next checkpoint is out.
        result.map_err(|f| f.error)?;
        if write.publish {
            let text = Arc::new(String::from_utf8_lossy(&note.to_bytes()).into_owned());
            self.shared.publish(&self.group, size, text);
            self.head_witnessed = witnessed;
        } else {
            self.witness_and_publish(note, &checkpoint, true)?;
        }
        self.shared.metrics.batch(entries, started.elapsed(), size);
        Ok(())
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

/// Where a batch's commit goes in the order of commits.
struct Order {
    /// Says whether the batch before it committed and published (none: nothing before it
    /// is being written).
    after: Option<Receiver<bool>>,
    /// Tells the batch after it the same of this one.
    tell: Sender<bool>,
    /// Set once past writing the tiles.
    tiles_done: Option<Arc<AtomicBool>>,
}

/// The writer's work: tiles and bundles; then, once the batch before it is committed and
/// published, and only if the lease is still fresh, the commit; then the checkpoint if
/// nothing has to be asked first.
fn write(
    tiles: &dyn TileStore,
    state: &dyn StateStore,
    job: &Write,
    lease_until: Instant,
    order: Order,
) -> Result<(), Failure> {
    let result = write_in_order(tiles, state, job, lease_until, &order);
    // A dropped sender reads as `false` too (the writer panicked).
    let _ = order.tell.send(result.is_ok());
    result
}

fn write_in_order(
    tiles: &dyn TileStore,
    state: &dyn StateStore,
    job: &Write,
    lease_until: Instant,
    order: &Order,
) -> Result<(), Failure> {
    let before = |error: HostError| Failure {
        committed: false,
        error,
    };
    let written = tiles.write_files(&job.files);
    if let Some(flag) = &order.tiles_done {
        flag.store(true, Ordering::Release);
    }
    written.map_err(|e| before(e.into()))?;
    if let Some(after) = &order.after
        && after.recv() != Ok(true)
    {
        return Err(before(HostError::Aborted));
    }
    if Instant::now() >= lease_until {
        return Err(before(HostError::LeaseLost));
    }
    // Committed before any witness sees it: a checkpoint shown to a witness is one this
    // log can never take back, whatever happens next.
    state
        .commit(job.old, &job.head, &job.ids)
        .map_err(|e| before(e.into()))?;
    if job.publish {
        tiles
            .publish_checkpoint(&job.head.checkpoint)
            .map_err(|e| Failure {
                committed: true,
                error: e.into(),
            })?;
    }
    Ok(())
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
