//! The group fold: `apply(state, signed) -> Result<Applied, Rejection>`.
//!
//! One implementation of the group's rules, run identically by the host (to decide
//! admission) and by every node (to rebuild the group from the log it verified). It is
//! deterministic: the same log gives the same state everywhere. Applying is two phases —
//! [`Group::check`] decides without changing anything, then the statement is recorded —
//! so a refused statement leaves the state exactly as it was.
//!
//! What the fold keeps: membership and keys (with quorum-approved changes), every author's
//! chain (`seq`, `prev`), threads, requests with answers and receipts, proposals with
//! versions and positions, agreements with signatures, reports, and evidence of
//! equivocation. [`Group::standing`] derives each member's standing from it.

mod check;
mod commit;
mod evidence;
mod lookup;
mod rejection;
mod rules;
mod standing;
mod state;

use std::collections::{BTreeMap, HashMap};

pub use lookup::{Lookup, Refused};
pub use rejection::Rejection;
pub use rules::Rules;
pub use standing::Standing;
pub use state::{
    Accused, Agreement, Applied, ChangeOutcome, Effect, Evidence, Logged, Member, MemberChange,
    Message, PositionRecord, Proposal, Report, Request, Said, Thread, Version,
};

use crate::envelope::Signed;
use crate::ids::{MemberId, StatementId};
use crate::kind::{Body, GenesisDocument};

/// How [`Group::apply_with`] checks a statement's signature.
#[derive(Debug, Clone, Copy)]
pub enum SignatureCheck<'a> {
    /// Verify it with the author's current key.
    Verify,
    /// The caller already verified it with this key (for instance on another thread);
    /// the check is skipped if that is still the author's current key, and done again
    /// otherwise (the key was rotated meanwhile).
    VerifiedWith(&'a ed25519_dalek::VerifyingKey),
    /// Skip it. Only for statements read back from a log this party itself verified
    /// statement by statement, such as a host's own durable log on restart.
    Trusted,
}

/// The state of a group, folded from its log.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Group {
    /// Keeps only what the rules consult (see [`Rules`]): no record of messages, threads,
    /// requests, reports or positions, and no index of statements (a [`Lookup`] is).
    lean: bool,
    genesis: Option<GenesisDocument>,
    members: BTreeMap<MemberId, Member>,
    statements: HashMap<StatementId, Logged>,
    size: u64,
    messages: HashMap<StatementId, Message>,
    threads: BTreeMap<StatementId, Thread>,
    requests: BTreeMap<StatementId, Request>,
    reports: Vec<Report>,
    proposals: BTreeMap<StatementId, Proposal>,
    /// Proposal version id → (root id, position in `versions`).
    versions: HashMap<StatementId, (StatementId, usize)>,
    positions: HashMap<StatementId, BTreeMap<MemberId, Vec<PositionRecord>>>,
    agreements: BTreeMap<StatementId, Agreement>,
    changes: BTreeMap<StatementId, MemberChange>,
    evidence: Vec<Evidence>,
}

impl Group {
    /// An empty group: the next statement must be `genesis`.
    pub fn new() -> Group {
        Group::default()
    }

    /// Applies the next statement of the log: checks it against every rule and, if it
    /// passes, records it at index [`Group::size`]. On `Err` the state is unchanged.
    pub fn apply(&mut self, signed: &Signed) -> Result<Applied, Rejection> {
        self.apply_with(signed, SignatureCheck::Verify)
    }

    /// [`Group::apply`] with a choice of how the signature is checked (see
    /// [`SignatureCheck`]); every other rule is checked the same way.
    pub fn apply_with(
        &mut self,
        signed: &Signed,
        sig: SignatureCheck<'_>,
    ) -> Result<Applied, Rejection> {
        let body = check::check(self, &lookup::Held(&self.statements), signed, sig)
            .map_err(Refused::into_rejection)?;
        Ok(self.commit(signed, body))
    }

    /// Decides whether `signed` may be the next statement, without changing anything.
    /// Returns its parsed body.
    pub fn check(&self, signed: &Signed) -> Result<Body, Rejection> {
        check::check(
            self,
            &lookup::Held(&self.statements),
            signed,
            SignatureCheck::Verify,
        )
        .map_err(Refused::into_rejection)
    }

    /// Number of statements applied: the log index the next one gets.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The genesis document, once founded.
    pub fn genesis(&self) -> Option<&GenesisDocument> {
        self.genesis.as_ref()
    }

    /// The log origin, once founded.
    pub fn origin(&self) -> Option<&str> {
        self.genesis.as_ref().map(|g| g.origin.as_str())
    }

    /// Every member, current and removed, by id.
    pub fn members(&self) -> &BTreeMap<MemberId, Member> {
        &self.members
    }

    /// One member.
    pub fn member(&self, id: &MemberId) -> Option<&Member> {
        self.members.get(id)
    }

    /// Where a statement is in the log, if it is.
    pub fn logged(&self, id: &StatementId) -> Option<Logged> {
        self.statements.get(id).copied()
    }

    /// Threads by root id.
    pub fn threads(&self) -> &BTreeMap<StatementId, Thread> {
        &self.threads
    }

    /// A message by id.
    pub fn message(&self, id: &StatementId) -> Option<&Message> {
        self.messages.get(id)
    }

    /// Requests by id.
    pub fn requests(&self) -> &BTreeMap<StatementId, Request> {
        &self.requests
    }

    /// Reports in log order.
    pub fn reports(&self) -> &[Report] {
        &self.reports
    }

    /// Proposals by the id of their first version.
    pub fn proposals(&self) -> &BTreeMap<StatementId, Proposal> {
        &self.proposals
    }

    /// The proposal a version belongs to, and the version.
    pub fn version(&self, id: &StatementId) -> Option<(&Proposal, &Version)> {
        let (root, i) = self.versions.get(id)?;
        let p = self.proposals.get(root)?;
        Some((p, p.versions.get(*i)?))
    }

    /// Every position taken on a statement, per member, in log order (the last counts).
    pub fn positions_on(
        &self,
        target: &StatementId,
    ) -> Option<&BTreeMap<MemberId, Vec<PositionRecord>>> {
        self.positions.get(target)
    }

    /// Agreements by id.
    pub fn agreements(&self) -> &BTreeMap<StatementId, Agreement> {
        &self.agreements
    }

    /// Membership changes by id.
    pub fn changes(&self) -> &BTreeMap<StatementId, MemberChange> {
        &self.changes
    }

    /// Checks a piece of evidence against this group's keys, as the fold would, without
    /// recording it: who equivocated, or why it proves nothing.
    pub fn verify_evidence(&self, body: &crate::kind::EvidenceBody) -> Result<Accused, Rejection> {
        evidence::check(self, body).map(|(accused, _)| accused)
    }

    /// Recorded evidence of equivocation, in log order.
    pub fn evidence(&self) -> &[Evidence] {
        &self.evidence
    }
}
