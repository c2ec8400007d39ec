//! How the fold finds the statements already in the log: in the [`Group`]'s own index,
//! or, for [`super::Rules`], wherever the caller keeps the log (a database on disk), so
//! that folding a log of any size takes the same memory.

use std::collections::HashMap;
use std::convert::Infallible;

use super::{Logged, Rejection};
use crate::ids::StatementId;

/// The log's statements so far, by id, as the rules consult them: for duplicates, for
/// `refs`, and for the kind of what a position or an agreement names.
pub trait Lookup {
    /// Why a lookup could not be answered (an I/O error, say). Never a rule's verdict.
    type Error;

    /// Where the statement `id` is, if it is among the log's first `size` entries (the
    /// ones the fold has applied). A statement at index `size` or later must not be found:
    /// that is how a fold over a log already stored in full sees only its past.
    fn logged(&self, id: &StatementId, size: u64) -> Result<Option<Logged>, Self::Error>;
}

/// Why the fold did not apply a statement: the rules refuse it, or a [`Lookup`] failed
/// before they could decide (then nothing is known about the statement).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused<E> {
    /// The rules refuse it.
    #[error(transparent)]
    Rule(#[from] Rejection),
    /// Looking up an earlier statement failed.
    #[error("could not look up an earlier statement: {0}")]
    Lookup(E),
}

impl Refused<Infallible> {
    /// The rejection, for a lookup that cannot fail.
    pub fn into_rejection(self) -> Rejection {
        match self {
            Refused::Rule(r) => r,
            Refused::Lookup(never) => match never {},
        }
    }
}

/// A [`Group`](super::Group)'s own index of every statement it applied.
pub(super) struct Held<'a>(pub(super) &'a HashMap<StatementId, Logged>);

impl Lookup for Held<'_> {
    type Error = Infallible;

    fn logged(&self, id: &StatementId, _size: u64) -> Result<Option<Logged>, Infallible> {
        Ok(self.0.get(id).copied())
    }
}

impl Lookup for HashMap<StatementId, Logged> {
    type Error = Infallible;

    fn logged(&self, id: &StatementId, size: u64) -> Result<Option<Logged>, Infallible> {
        Ok(self.get(id).copied().filter(|l| l.index < size))
    }
}
