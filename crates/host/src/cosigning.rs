//! Witnessing the sequencer's committed checkpoints (C2SP tlog-witness) and publishing
//! them with the cosignatures received.
//!
//! Order matters: a checkpoint is shown to witnesses only once it is committed to the
//! state store. A witness remembers what it cosigned and refuses anything inconsistent
//! with it, so a checkpoint cosigned and then lost in a crash (or by a leader whose lease
//! ran out) would make the log's next checkpoint look like a fork and stop it for good.

use std::sync::Arc;
use std::time::Instant;

use store::Head;
use tlog::checkpoint::Checkpoint;
use tlog::note::Note;

use crate::HostError;
use crate::sequencer::Sequencer;
use crate::tiles::{OwnTiles, consistency};

impl Sequencer {
    /// Asks the witnesses to cosign `note`; returns it with their cosignatures and whether
    /// it meets the policy.
    fn witness(&mut self, note: Note, cp: &Checkpoint) -> (Note, bool) {
        let Some(w) = self.witnesses.as_mut() else {
            return (note, true);
        };
        if w.is_empty() {
            return (note, w.threshold() == 0);
        }
        let (store, cache) = (self.tiles.as_ref(), &self.cache);
        let prove = |old: u64| consistency(OwnTiles { store, cache }, old, cp.size()).ok();
        let (note, n) = w.cosign(&note, cp, &prove, &self.shared.metrics);
        let ok = n >= w.threshold();
        if !ok {
            self.shared.metrics.fault("witness_quorum");
            tracing::warn!(
                cosignatures = n,
                required = w.threshold(),
                size = cp.size(),
                "cannot reach enough witnesses; sequencing goes on, answers wait"
            );
        }
        (note, ok)
    }

    /// Asks the witnesses about the committed head's checkpoint `note` (for `cp`), records
    /// any cosignatures in the state store, and publishes the result: always when
    /// `publish`, otherwise only if it gained cosignatures.
    pub(crate) fn witness_and_publish(
        &mut self,
        note: Note,
        cp: &Checkpoint,
        publish: bool,
    ) -> Result<(), HostError> {
        let Some(head) = self.head.clone() else {
            return Ok(());
        };
        let (note, witnessed) = self.witness(note, cp);
        let bytes = note.to_bytes();
        let gained = bytes != head.checkpoint;
        if gained {
            self.state.amend_checkpoint(head.size, &bytes)?;
            self.head = Some(Head {
                checkpoint: bytes.clone(),
                ..head
            });
        }
        if gained || publish {
            self.tiles.publish_checkpoint(&bytes)?;
            let text = Arc::new(String::from_utf8_lossy(&bytes).into_owned());
            self.shared.publish(&self.fold, cp.size(), text);
        }
        self.head_witnessed = witnessed;
        Ok(())
    }

    /// Asks the witnesses again about the head (after a round that fell short of the
    /// policy, or at start) and publishes the head's checkpoint with any new cosignatures.
    pub(crate) fn rewitness(&mut self) {
        self.rewitnessed = Instant::now();
        let Some(head) = &self.head else {
            return;
        };
        let Ok(note) = Note::parse(&head.checkpoint) else {
            return;
        };
        let Ok(cp) = Checkpoint::parse(note.text()) else {
            return;
        };
        if let Err(e) = self.witness_and_publish(note, &cp, false) {
            tracing::error!(error = %e, "cannot publish the cosigned checkpoint");
            return;
        }
        self.answer_pending(crate::sequencer::Answering::Elsewhere);
    }
}
