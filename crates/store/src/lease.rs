//! The sequencer lease: which of several hosts sharing one state store may sequence.
//!
//! One row per log. A host that holds the lease renews it before it expires; any other
//! host may take it once it has expired by the store's own clock, which moves the epoch
//! on. Together with the head's compare-and-swap (a stale leader's commit finds the head
//! moved and fails with a conflict) this means that at most one host publishes at a time.

use std::time::Duration;

/// Who holds the lease, as [`crate::StateStore::acquire_lease`] found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lease {
    /// The caller holds it now, for `ttl` from the moment it asked.
    Granted {
        /// Counts the hand-overs between holders: the same while one holder renews.
        epoch: u64,
    },
    /// Another holder has it and it has not expired.
    HeldBy {
        /// The holder's name.
        holder: String,
        /// Where the holder takes submissions (its advertised URL).
        address: String,
        /// How long until it expires unless renewed, by the store's clock.
        remaining: Duration,
    },
}

/// The lease's length in whole milliseconds, as the stores keep it.
pub(crate) fn ttl_millis(ttl: Duration) -> i64 {
    i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX)
}

/// A remaining time the store reported, in milliseconds (never negative).
pub(crate) fn remaining(millis: i64) -> Duration {
    Duration::from_millis(u64::try_from(millis).unwrap_or(0))
}

/// The lease row as a store read it (inside the transaction that may take it).
#[derive(Debug)]
pub(crate) struct LeaseRow {
    /// Current holder (empty when nobody ever held it or it was released).
    pub holder: String,
    /// The holder's advertised address.
    pub address: String,
    /// Hand-overs so far.
    pub epoch: i64,
    /// Milliseconds until it expires by the store's clock (negative once expired).
    pub remaining_ms: i64,
}

impl LeaseRow {
    /// Whether `holder` may take the row now; `Ok(epoch)` with the epoch to write, or
    /// `Err` with who holds it.
    pub(crate) fn take(&self, holder: &str) -> Result<i64, Lease> {
        if self.holder == holder {
            Ok(self.epoch)
        } else if self.holder.is_empty() || self.remaining_ms <= 0 {
            Ok(self.epoch.saturating_add(1))
        } else {
            Err(Lease::HeldBy {
                holder: self.holder.clone(),
                address: self.address.clone(),
                remaining: remaining(self.remaining_ms),
            })
        }
    }
}

/// The epoch a store wrote, as the caller sees it.
pub(crate) fn granted(epoch: i64) -> Lease {
    Lease::Granted {
        epoch: u64::try_from(epoch).unwrap_or(0),
    }
}
