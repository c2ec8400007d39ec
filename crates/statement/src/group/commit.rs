//! Phase two of the fold: record a statement that [`super::check`] accepted. Nothing here
//! can fail; every rule was decided in phase one. A lean group ([`super::Rules`]) records
//! only what the rules consult.

use std::collections::BTreeMap;

use super::state::{
    Agreement, Applied, ChangeOutcome, Effect, Evidence, Logged, Member, MemberChange, Message,
    PositionRecord, Proposal, Report, Request, Said, Thread, Version,
};
use super::{Group, evidence};
use crate::envelope::Signed;
use crate::ids::{MemberId, StatementId};
use crate::kind::{
    Body, GenesisBody, MemberAction, MemberBody, ProposalBody, RequestBody, Stance, Tlp,
};

impl Group {
    pub(super) fn commit(&mut self, signed: &Signed, body: Body) -> Applied {
        let s = signed.statement();
        let index = self.size;
        let said = Said {
            id: signed.id(),
            index,
            author: s.author.clone(),
            time: s.time.clone(),
        };
        let mut effects = Vec::new();
        match body {
            Body::Genesis(b) => self.found(*b, &mut effects),
            Body::Member(b) => self.propose_change(said.clone(), *b),
            // What only views read; a lean fold (`Rules`) does not keep it.
            Body::Message(_) | Body::Report(_) | Body::Request(_) | Body::Receipt(_)
                if self.lean => {}
            Body::Message(_) => self.add_message(
                said.clone(),
                s.refs.first(),
                s.to.clone(),
                s.sealed.is_some(),
            ),
            Body::Report(b) => self.add_report(
                said.clone(),
                b.tlp,
                s.to.clone(),
                s.sealed.is_some(),
                &s.refs,
            ),
            Body::Request(b) => self.add_request(said.clone(), b, s.to.as_deref()),
            Body::Receipt(_) => self.add_receipt(&said, &s.refs),
            Body::Proposal(b) => self.add_version(said.clone(), s.refs.first().copied(), b),
            Body::Position(b) => {
                let record = PositionRecord {
                    said: said.clone(),
                    stance: b.stance,
                    comment: b.comment,
                };
                self.add_position(s.refs[0], record, &mut effects);
            }
            Body::Agreement(b) => {
                let agreement = Agreement {
                    said: said.clone(),
                    title: b.title,
                    text_sha256: b.text_sha256,
                    version: s.refs[0],
                    signatories: b.signatories,
                    signed: BTreeMap::new(),
                    adopted_at: None,
                };
                self.agreements.insert(said.id, agreement);
            }
            Body::Evidence(b) => {
                // Phase one accepted this evidence, so checking it again succeeds.
                if let Ok((accused, conflict)) = evidence::check(self, &b) {
                    effects.push(Effect::Equivocation(accused.clone()));
                    self.evidence.push(Evidence {
                        said: said.clone(),
                        accused,
                        conflict,
                    });
                }
            }
        }
        if let Some(author) = self.members.get_mut(&s.author) {
            author.last_seq = s.seq;
            author.last_id = Some(said.id);
        }
        if !self.lean {
            self.statements.insert(
                said.id,
                Logged {
                    index,
                    kind: s.kind,
                },
            );
        }
        self.size += 1;
        Applied {
            index,
            id: said.id,
            kind: s.kind,
            effects,
        }
    }

    fn found(&mut self, b: GenesisBody, effects: &mut Vec<Effect>) {
        for f in &b.document.founders {
            self.members.insert(
                f.id.clone(),
                Member {
                    id: f.id.clone(),
                    name: f.name.clone(),
                    contact: f.contact.clone(),
                    key: f.key.clone(),
                    seal: f.seal.clone(),
                    past_keys: Vec::new(),
                    active: true,
                    joined_at: 0,
                    removed_at: None,
                    last_seq: 0,
                    last_id: None,
                },
            );
            effects.push(Effect::MemberAdded(f.id.clone()));
        }
        self.genesis = Some(b.document);
    }

    fn propose_change(&mut self, said: Said, body: MemberBody) {
        let change = MemberChange {
            said: said.clone(),
            body,
            approvals: Default::default(),
            outcome: ChangeOutcome::Pending,
        };
        self.changes.insert(said.id, change);
    }

    fn add_message(
        &mut self,
        said: Said,
        first_ref: Option<&StatementId>,
        to: Option<Vec<MemberId>>,
        sealed: bool,
    ) {
        let parent = first_ref.filter(|r| self.messages.contains_key(r)).copied();
        let root = parent
            .and_then(|p| self.messages.get(&p))
            .map_or(said.id, |m| m.root);
        let thread = self.threads.entry(root).or_insert_with(|| Thread {
            root,
            // Most threads are a single message: room for one, not the four a first
            // push would reserve (96 bytes per thread on a log of announcements).
            messages: Vec::with_capacity(1),
            last_index: said.index,
        });
        thread.messages.push(said.id);
        thread.last_index = said.index;
        self.answer_requests(&said, first_ref.into_iter());
        self.messages.insert(
            said.id,
            Message {
                said,
                parent,
                root,
                to,
                sealed,
            },
        );
    }

    fn add_report(
        &mut self,
        said: Said,
        tlp: Tlp,
        to: Option<Vec<MemberId>>,
        sealed: bool,
        refs: &[StatementId],
    ) {
        self.answer_requests(&said, refs.iter());
        self.reports.push(Report {
            said,
            tlp,
            to,
            sealed,
        });
    }

    /// Records `said` as the answer of its author to every request among `refs` that was
    /// addressed to it and that it had not answered yet.
    fn answer_requests<'a>(&mut self, said: &Said, refs: impl Iterator<Item = &'a StatementId>) {
        for r in refs {
            if let Some(req) = self.requests.get_mut(r)
                && req.recipients.contains(&said.author)
            {
                req.answers
                    .entry(said.author.clone())
                    .or_insert_with(|| said.clone());
            }
        }
    }

    fn add_request(&mut self, said: Said, b: RequestBody, to: Option<&[MemberId]>) {
        let recipients = match to {
            Some(to) => to.iter().filter(|m| **m != said.author).cloned().collect(),
            None if b.check => self
                .members
                .values()
                .filter(|m| m.active && m.id != said.author)
                .map(|m| m.id.clone())
                .collect(),
            None => Vec::new(),
        };
        let request = Request {
            said: said.clone(),
            due: b.due,
            check: b.check,
            recipients,
            answers: BTreeMap::new(),
            receipts: BTreeMap::new(),
        };
        self.requests.insert(said.id, request);
    }

    fn add_receipt(&mut self, said: &Said, refs: &[StatementId]) {
        for r in refs {
            if let Some(req) = self.requests.get_mut(r)
                && req.recipients.contains(&said.author)
            {
                req.receipts
                    .entry(said.author.clone())
                    .or_insert_with(|| said.clone());
            }
        }
    }

    fn add_version(&mut self, said: Said, amends: Option<StatementId>, b: ProposalBody) {
        // Phase one checked that `amends` is the latest version of a known proposal.
        let root = amends
            .and_then(|a| self.versions.get(&a))
            .map_or(said.id, |(root, _)| *root);
        let proposal = self.proposals.entry(root).or_insert_with(|| Proposal {
            root,
            versions: Vec::new(),
        });
        let text_sha256 = b.text_sha256();
        proposal.versions.push(Version {
            said: said.clone(),
            version: b.version,
            title: b.title,
            text_sha256,
        });
        self.versions
            .insert(said.id, (root, proposal.versions.len() - 1));
    }

    fn add_position(
        &mut self,
        target: StatementId,
        record: PositionRecord,
        effects: &mut Vec<Effect>,
    ) {
        let author = record.said.author.clone();
        let (index, stance, said) = (record.said.index, record.stance, record.said.clone());
        if !self.lean {
            self.positions
                .entry(target)
                .or_default()
                .entry(author.clone())
                .or_default()
                .push(record);
        }
        match stance {
            Stance::Approve => self.approve_change(target, author, index, effects),
            Stance::Sign => {
                if let Some(a) = self.agreements.get_mut(&target) {
                    a.signed.entry(author).or_insert(said);
                    if a.adopted_at.is_none()
                        && a.signatories.iter().all(|m| a.signed.contains_key(m))
                    {
                        a.adopted_at = Some(index);
                        effects.push(Effect::AgreementAdopted(target));
                    }
                }
            }
            _ => {}
        }
    }

    fn approve_change(
        &mut self,
        target: StatementId,
        approver: MemberId,
        index: u64,
        effects: &mut Vec<Effect>,
    ) {
        let quorum = self
            .genesis
            .as_ref()
            .map_or(u32::MAX, |g| g.rules.member_quorum) as usize;
        let Some(change) = self.changes.get_mut(&target) else {
            return;
        };
        change.approvals.insert(approver);
        if change.outcome != ChangeOutcome::Pending || change.approvals.len() < quorum {
            return;
        }
        let body = change.body.clone();
        let outcome = match self.enact(&body, index, effects) {
            true => ChangeOutcome::Effective(index),
            false => {
                effects.push(Effect::ChangeVoid(target));
                ChangeOutcome::Void(index)
            }
        };
        if let Some(change) = self.changes.get_mut(&target) {
            change.outcome = outcome;
        }
    }

    /// Applies an approved membership change; false when it no longer applies.
    fn enact(&mut self, b: &MemberBody, index: u64, effects: &mut Vec<Effect>) -> bool {
        match b.action {
            MemberAction::Add => {
                let (Some(name), Some(key), Some(seal)) = (&b.name, &b.key, &b.seal) else {
                    return false;
                };
                if self.members.contains_key(&b.member) {
                    return false;
                }
                self.members.insert(
                    b.member.clone(),
                    Member {
                        id: b.member.clone(),
                        name: name.clone(),
                        contact: b.contact.clone(),
                        key: key.clone(),
                        seal: seal.clone(),
                        past_keys: Vec::new(),
                        active: true,
                        joined_at: index,
                        removed_at: None,
                        last_seq: 0,
                        last_id: None,
                    },
                );
                effects.push(Effect::MemberAdded(b.member.clone()));
                true
            }
            MemberAction::Remove => match self.members.get_mut(&b.member) {
                Some(m) if m.active => {
                    m.active = false;
                    m.removed_at = Some(index);
                    effects.push(Effect::MemberRemoved(b.member.clone()));
                    true
                }
                _ => false,
            },
            MemberAction::Rotate => match self.members.get_mut(&b.member) {
                Some(m) if m.active => {
                    if let Some(key) = &b.key {
                        let old = std::mem::replace(&mut m.key, key.clone());
                        m.past_keys.push(old);
                    }
                    if let Some(seal) = &b.seal {
                        m.seal = seal.clone();
                    }
                    if let Some(contact) = &b.contact {
                        m.contact = Some(contact.clone());
                    }
                    effects.push(Effect::KeysRotated(b.member.clone()));
                    true
                }
                _ => false,
            },
        }
    }
}
