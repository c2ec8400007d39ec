//! Following the leader and taking over from it, when several hosts share the stores.
//!
//! A follower asks for the lease every [`crate::lease`] poll interval. While another
//! host holds it, the follower replays what the leader commits (so that its membership
//! snapshot, reads and dedup answers stay current and a take-over needs only the last
//! few entries), and the HTTP layer forwards submissions to the leader's address. Once the
//! lease is granted, the follower rebuilds from the stores — repairing the crash window
//! the old leader may have left (a committed checkpoint not yet published) — and leads.

use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Instant;

use store::Lease;

use crate::lease::Role;
use crate::sequencer::{Refusal, Sequencer, Submission};

impl Sequencer {
    /// One round of following: ask for the lease, take over if granted, else catch up
    /// with the leader and wait a poll interval. Returns `false` once every submission
    /// sender is gone (the host is stopping).
    pub(crate) fn follow(&mut self, rx: &Receiver<Submission>) -> bool {
        match self.tenure.ask(self.state.as_ref()) {
            Ok(Lease::Granted { epoch }) if self.tenure.leading() => {
                tracing::info!(epoch, "took the sequencer lease");
                match self.take_over() {
                    Ok(()) => return true,
                    Err(e) => {
                        tracing::error!(error = %e, "cannot take over sequencing; giving the lease up");
                        self.shared.metrics.fault("take_over");
                        self.tenure.release(self.state.as_ref());
                        self.shared.set_role(Role::Follower { leader: None });
                    }
                }
            }
            Ok(Lease::HeldBy { address, .. }) => {
                self.shared.set_role(Role::Follower {
                    leader: Some(address),
                });
                if let Err(e) = self.catch_up() {
                    tracing::warn!(error = %e, "cannot follow the log; rebuilding from the stores");
                    if let Err(e) = self.reload() {
                        tracing::error!(error = %e, "cannot rebuild from the stores");
                    }
                }
            }
            Ok(Lease::Granted { .. }) => {}
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the sequencer lease");
                self.shared.set_role(Role::Follower { leader: None });
            }
        }
        self.wait_as_follower(rx)
    }

    /// Waits one poll interval, refusing any submission that reached this host's
    /// sequencer while it does not lead (the HTTP layer forwards them; these raced a
    /// step-down). Returns `false` once every sender is gone.
    fn wait_as_follower(&mut self, rx: &Receiver<Submission>) -> bool {
        let until = Instant::now() + self.tenure.poll_interval();
        loop {
            match rx.recv_timeout(until.saturating_duration_since(Instant::now())) {
                Ok(s) => {
                    let _ = s.reply.send(Err(Refusal::Unavailable));
                }
                Err(RecvTimeoutError::Timeout) => return true,
                Err(RecvTimeoutError::Disconnected) => return false,
            }
        }
    }

    /// Starts leading: brings the followed log up to the committed head (repairing the
    /// published checkpoint), founds the log if it is still empty, and asks the witnesses
    /// about the head. A follower already holds the log up to its last catch-up, so only
    /// the entries since are replayed; if that fails it rebuilds from scratch.
    fn take_over(&mut self) -> Result<(), crate::HostError> {
        if let Err(e) = self.resume() {
            tracing::warn!(error = %e, "cannot resume from the followed log; rebuilding");
            self.reload()?;
        }
        self.lead()
    }

    /// Stops leading after the lease was lost or could not be renewed in time: answers
    /// every waiting submitter with "unavailable" (their statements are durable; a retry
    /// finds them), gives the lease up, and rebuilds from the stores as a follower.
    pub(crate) fn step_down(&mut self) {
        tracing::warn!("stepping down: this host no longer sequences");
        self.shared.metrics.fault("lease_lost");
        self.shared.set_role(Role::Follower { leader: None });
        for (.., reply) in self.pending.drain(..) {
            let _ = reply.send(Err(Refusal::Unavailable));
        }
        self.tenure.release(self.state.as_ref());
        if let Err(e) = self.reload() {
            tracing::error!(error = %e, "cannot rebuild from the stores after stepping down");
        }
    }
}
