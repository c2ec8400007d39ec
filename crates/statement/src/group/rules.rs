//! [`Rules`]: the fold without the records that only views read, for checking a log of
//! any size in the same memory.

use std::collections::BTreeMap;

use super::{Applied, Group, Lookup, Member, Refused, SignatureCheck, check};
use crate::envelope::Signed;
use crate::ids::MemberId;
use crate::kind::GenesisDocument;

/// The group's rules and the state they consult, and nothing else: genesis, members and
/// their chains, proposals' versions, agreements, membership changes and evidence. It
/// keeps no record of messages, threads, requests, reports or positions, and finds earlier
/// statements through a [`Lookup`] instead of an index of its own — so its memory grows
/// with governance (proposals, agreements, membership changes), not with the log.
///
/// It accepts and refuses exactly what [`Group`] does, with the same [`Rejection`]
/// (it is the same code); it is for a party that checks a log, such as a member's node
/// syncing or auditing, while views read a [`Group`].
///
/// [`Rejection`]: super::Rejection
#[derive(Debug, Clone, PartialEq)]
pub struct Rules(Group);

impl Default for Rules {
    fn default() -> Rules {
        Rules::new()
    }
}

impl Rules {
    /// No group yet: the next statement must be `genesis`.
    pub fn new() -> Rules {
        Rules(Group {
            lean: true,
            ..Group::default()
        })
    }

    /// The rules' state of a full group: what folding the same log through [`Rules`] gives,
    /// without folding it again.
    pub fn of(group: &Group) -> Rules {
        Rules(Group {
            lean: true,
            genesis: group.genesis.clone(),
            members: group.members.clone(),
            size: group.size,
            proposals: group.proposals.clone(),
            versions: group.versions.clone(),
            agreements: group.agreements.clone(),
            changes: group.changes.clone(),
            evidence: group.evidence.clone(),
            ..Group::default()
        })
    }

    /// Applies the next statement of the log, finding earlier statements through `lookup`,
    /// which must hold at least every statement applied so far. On `Err` the state is
    /// unchanged.
    pub fn apply<L: Lookup + ?Sized>(
        &mut self,
        signed: &Signed,
        sig: SignatureCheck<'_>,
        lookup: &L,
    ) -> Result<Applied, Refused<L::Error>> {
        let body = check::check(&self.0, lookup, signed, sig)?;
        Ok(self.0.commit(signed, body))
    }

    /// Number of statements applied: the log index the next one gets.
    pub fn size(&self) -> u64 {
        self.0.size()
    }

    /// The genesis document, once founded.
    pub fn genesis(&self) -> Option<&GenesisDocument> {
        self.0.genesis()
    }

    /// Every member, current and removed, by id.
    pub fn members(&self) -> &BTreeMap<MemberId, Member> {
        self.0.members()
    }

    /// One member.
    pub fn member(&self, id: &MemberId) -> Option<&Member> {
        self.0.member(id)
    }
}
