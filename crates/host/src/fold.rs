//! The host's fold: the group's rules ([`Rules`]) and an index of the log's statements by
//! id, which is all that admission consults.
//!
//! A full [`statement::Group`] would also record every message, thread, request and
//! report for views the host never shows; that record grew by a few hundred bytes and
//! several allocations per statement, on the sequencer's thread, with the log. The index
//! here holds an id, an index and a kind per statement.

use std::collections::{BTreeMap, HashMap};

use statement::group::{Logged, Member, Rules, SignatureCheck};
use statement::kind::GenesisDocument;
use statement::{Applied, MemberId, Rejection, Signed, StatementId};

/// The state admission needs, folded from the log: see the module documentation.
#[derive(Debug, Default)]
pub struct Fold {
    rules: Rules,
    logged: HashMap<StatementId, Logged>,
}

impl Fold {
    /// No log yet: the next statement must be the genesis.
    pub fn new() -> Fold {
        Fold::default()
    }

    /// Applies the next statement of the log (as [`statement::Group::apply_with`], with
    /// the same verdicts); on `Err` nothing changed.
    pub fn apply_with(
        &mut self,
        signed: &Signed,
        sig: SignatureCheck<'_>,
    ) -> Result<Applied, Rejection> {
        let applied = self
            .rules
            .apply(signed, sig, &self.logged)
            .map_err(statement::group::Refused::into_rejection)?;
        let logged = Logged {
            index: applied.index,
            kind: applied.kind,
        };
        self.logged.insert(applied.id, logged);
        Ok(applied)
    }

    /// Every member, current and removed, by id.
    pub fn members(&self) -> &BTreeMap<MemberId, Member> {
        self.rules.members()
    }

    /// The genesis document, once founded.
    pub fn genesis(&self) -> Option<&GenesisDocument> {
        self.rules.genesis()
    }
}
