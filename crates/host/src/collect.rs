//! Filling the sequencer's next batch from the submission queue: while a batch is being
//! written, until its tiles are (so the next batch's tiles follow at once, as large as
//! the wait made them); otherwise until the batch interval has passed since the first
//! statement arrived.

use std::sync::mpsc::{Receiver, RecvTimeoutError, TryRecvError};
use std::time::Instant;

use crate::BatchConfig;
use crate::pipeline::Writing;
use crate::sequencer::{Batch, REWITNESS_INTERVAL, Sequencer, Submission};

/// What [`Sequencer::collect`] found in the queue.
pub(crate) struct Collected {
    /// The batch, if any statement arrived.
    pub(crate) batch: Option<Batch>,
    /// Whether senders remain (false: the host is stopping).
    pub(crate) open: bool,
}

impl Sequencer {
    /// Collects the next batch. While `busy` (the newest batch being written) is writing
    /// its tiles, it takes what arrives until they are written: the batch then goes to the
    /// writer, its tiles written while that one commits, as large as the wait made it. Otherwise it waits for a first statement until
    /// the lease needs renewing (or the witnesses asking again), then for more until the
    /// batch interval has passed since the first arrived.
    pub(crate) fn collect(
        &mut self,
        rx: &Receiver<Submission>,
        config: &BatchConfig,
        busy: Option<&Writing>,
    ) -> Collected {
        let mut wait = self.tenure.until_renewal();
        if !self.pending.is_empty() {
            wait = wait.min(REWITNESS_INTERVAL.saturating_sub(self.rewitnessed.elapsed()));
        }
        let first = match receive(rx, busy, Instant::now() + wait) {
            Ok(s) => s,
            Err(closed) => {
                return Collected {
                    batch: None,
                    open: !closed,
                };
            }
        };
        // Statements that queued during the previous flush have waited already: their
        // batch closes once the queue is drained (or at `max_entries`).
        let deadline = first.received + config.interval();
        let mut batch = Batch::default();
        self.admit(first, &mut batch);
        let mut open = true;
        while batch.entries.len() < config.max_entries {
            match receive(rx, busy, deadline) {
                Ok(s) => self.admit(s, &mut batch),
                Err(closed) => {
                    open = !closed;
                    break;
                }
            }
        }
        Collected {
            batch: Some(batch),
            open,
        }
    }
}

/// How often a sequencer waiting for statements looks whether the write in flight is past
/// its tiles.
const POLL: std::time::Duration = std::time::Duration::from_millis(1);

/// The next submission: while `busy` is being written, until its tiles are; otherwise
/// until `until`. `Err(true)` once every sender is gone.
fn receive(
    rx: &Receiver<Submission>,
    busy: Option<&Writing>,
    until: Instant,
) -> Result<Submission, bool> {
    let Some(w) = busy else {
        let left = until.saturating_duration_since(Instant::now());
        return rx
            .recv_timeout(left)
            .map_err(|e| e == RecvTimeoutError::Disconnected);
    };
    loop {
        if w.tiles_done() {
            return Err(false);
        }
        match rx.try_recv() {
            Ok(s) => return Ok(s),
            Err(TryRecvError::Disconnected) => return Err(true),
            Err(TryRecvError::Empty) => match rx.recv_timeout(POLL) {
                Ok(s) => return Ok(s),
                Err(RecvTimeoutError::Disconnected) => return Err(true),
                Err(RecvTimeoutError::Timeout) => {}
            },
        }
    }
}
