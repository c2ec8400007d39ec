//! The sequencer's tenure: holding, renewing and giving up the lease in the state store
//! that lets one of several hosts sharing the stores sequence (DESIGN.md, "Storage").
//!
//! Timing: the leader renews once a third of the lease has passed since its last grant,
//! and stops sequencing (steps down) once half of it has passed without a renewal — well
//! before the store's clock lets another host take over. The times are measured from the
//! moment the leader *asked*, so a slow answer only shortens its tenure.

use std::time::{Duration, Instant};

use store::{Lease, StateStore, StoreError};

/// Who sequences, as this host sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Role {
    /// Still opening its stores.
    #[default]
    Starting,
    /// This host holds the lease and sequences.
    Leader,
    /// Another host sequences; submissions are forwarded to its address, if known.
    Follower {
        /// The leader's advertised URL (none while no host holds the lease).
        leader: Option<String>,
    },
}

/// This host's claim to the lease.
#[derive(Debug)]
pub(crate) struct Tenure {
    /// A name unique to this run of this host.
    holder: String,
    /// Where other hosts forward submissions to while this one leads.
    address: String,
    ttl: Duration,
    /// The epoch and the moment of the last grant's request, while leading.
    held: Option<(u64, Instant)>,
}

impl Tenure {
    /// A tenure not yet held, under a fresh holder name.
    pub(crate) fn new(address: String, ttl: Duration) -> Tenure {
        let mut nonce = [0u8; 8];
        // Without OS randomness the process id and time still tell runs apart.
        if getrandom::fill(&mut nonce).is_err() {
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64);
            nonce = (t ^ u64::from(std::process::id())).to_be_bytes();
        }
        let nonce: String = nonce.iter().map(|b| format!("{b:02x}")).collect();
        Tenure {
            holder: format!("{address}#{nonce}"),
            address,
            ttl,
            held: None,
        }
    }

    /// Whether this host leads (as of its last grant).
    pub(crate) fn leading(&self) -> bool {
        self.held.is_some()
    }

    /// Asks for the lease (or renews it); records the grant. A lease held under this
    /// host's own address by another holder name was left by a previous run of this host
    /// (it was killed: the address is bound by this run now), so it is released and asked
    /// for again rather than waited out.
    pub(crate) fn ask(&mut self, state: &dyn StateStore) -> Result<Lease, StoreError> {
        let mut lease = self.ask_once(state)?;
        if let Lease::HeldBy {
            holder, address, ..
        } = &lease
            && *address == self.address
        {
            tracing::info!(previous = %holder, "taking the lease over from this host's previous run");
            state.release_lease(holder)?;
            lease = self.ask_once(state)?;
        }
        Ok(lease)
    }

    fn ask_once(&mut self, state: &dyn StateStore) -> Result<Lease, StoreError> {
        let asked = Instant::now();
        let lease = state.acquire_lease(&self.holder, &self.address, self.ttl)?;
        self.held = match (&lease, self.held) {
            // A different epoch means another host led in between: not a renewal.
            (Lease::Granted { epoch }, Some((held, _))) if *epoch != held => None,
            (Lease::Granted { epoch }, _) => Some((*epoch, asked)),
            (Lease::HeldBy { .. }, _) => None,
        };
        Ok(lease)
    }

    /// Renews the lease if a third of it has passed; returns whether this host may still
    /// sequence (it holds a grant younger than half the lease).
    pub(crate) fn keep(&mut self, state: &dyn StateStore) -> bool {
        let Some((_, granted)) = self.held else {
            return false;
        };
        if granted.elapsed() >= self.ttl / 3 {
            match self.ask(state) {
                Ok(Lease::Granted { .. }) if self.held.is_some() => return true,
                Ok(lease) => {
                    tracing::warn!(?lease, "lost the sequencer lease; stepping down");
                    self.held = None;
                    return false;
                }
                Err(e) => tracing::warn!(error = %e, "cannot renew the sequencer lease"),
            }
        }
        let young = self.fresh();
        if !young {
            self.held = None;
        }
        young
    }

    /// Whether this host still holds a grant younger than half the lease (no renewal):
    /// checked again just before a commit, after a batch's tiles were written.
    pub(crate) fn fresh(&self) -> bool {
        self.held.is_some_and(|(_, g)| g.elapsed() < self.ttl / 2)
    }

    /// How long the sequencer may wait idle before the lease needs renewing.
    pub(crate) fn until_renewal(&self) -> Duration {
        self.held.map_or(self.ttl / 3, |(_, g)| {
            (self.ttl / 3).saturating_sub(g.elapsed())
        })
    }

    /// How often a follower asks for the lease.
    pub(crate) fn poll_interval(&self) -> Duration {
        (self.ttl / 5).clamp(Duration::from_millis(50), Duration::from_secs(1))
    }

    /// Gives the lease up (on a graceful stop or after stepping down).
    pub(crate) fn release(&mut self, state: &dyn StateStore) {
        self.held = None;
        if let Err(e) = state.release_lease(&self.holder) {
            tracing::warn!(error = %e, "cannot release the sequencer lease");
        }
    }
}
