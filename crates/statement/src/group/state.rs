//! The records the fold keeps: what the group's state is made of. All public, read-only
//! outside the fold.

use std::collections::{BTreeMap, BTreeSet};

use crate::ids::{Digest, MemberId, StatementId, Timestamp};
use crate::keys::{MemberKey, SealKey};
use crate::kind::{Kind, MemberBody, Stance, Tlp};

/// A member, as the log made it.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    /// Member id.
    pub id: MemberId,
    /// Display name.
    pub name: String,
    /// How to reach its people.
    pub contact: Option<String>,
    /// Current signing key.
    pub key: MemberKey,
    /// Current sealing key.
    pub seal: SealKey,
    /// Signing keys it held before, oldest first (for checking evidence).
    pub past_keys: Vec<MemberKey>,
    /// False once removed.
    pub active: bool,
    /// Log index of the statement that made it a member (0 for founders).
    pub joined_at: u64,
    /// Log index of the statement whose approval removed it.
    pub removed_at: Option<u64>,
    /// Seq of its latest statement (0 before the first).
    pub last_seq: u64,
    /// Id of its latest statement.
    pub last_id: Option<StatementId>,
}

/// Where and what a statement is, for every statement in the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Logged {
    /// Log index.
    pub index: u64,
    /// Kind.
    pub kind: Kind,
}

/// A reference to a statement in the log with its author and the author's time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Said {
    /// Statement id.
    pub id: StatementId,
    /// Log index.
    pub index: u64,
    /// Author.
    pub author: MemberId,
    /// The author's `time` (a claim; standing prefers witnessed times).
    pub time: Timestamp,
}

/// A message in a thread.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// Who said it, where, when.
    pub said: Said,
    /// The message it answers, if it answers a message.
    pub parent: Option<StatementId>,
    /// The root of its thread (itself for a root).
    pub root: StatementId,
    /// Addressees, if sealed or addressed.
    pub to: Option<Vec<MemberId>>,
    /// Whether the content is sealed.
    pub sealed: bool,
}

/// A thread: a root message and every message under it.
#[derive(Debug, Clone, PartialEq)]
pub struct Thread {
    /// The root message.
    pub root: StatementId,
    /// Every message, in log order (the root first).
    pub messages: Vec<StatementId>,
    /// Log index of the latest message.
    pub last_index: u64,
}

/// A request and what became of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// Who asked, where, when.
    pub said: Said,
    /// When the answer is due.
    pub due: Timestamp,
    /// A communication check (expects receipts).
    pub check: bool,
    /// Who is expected to answer: `to`, or for a check sent to the whole group every other
    /// member at the time. A request for assistance sent to the whole group expects no one
    /// in particular.
    pub recipients: Vec<MemberId>,
    /// First answer (a `message` or `report` naming the request in `refs`) per member.
    pub answers: BTreeMap<MemberId, Said>,
    /// First receipt per member.
    pub receipts: BTreeMap<MemberId, Said>,
}

/// One version of a proposal.
#[derive(Debug, Clone, PartialEq)]
pub struct Version {
    /// Who tabled it, where, when.
    pub said: Said,
    /// 1, 2, 3 …
    pub version: u32,
    /// Title of this version.
    pub title: String,
    /// SHA-256 of the text.
    pub text_sha256: Digest,
}

/// A proposal: all its versions.
#[derive(Debug, Clone, PartialEq)]
pub struct Proposal {
    /// Id of version 1.
    pub root: StatementId,
    /// Versions in order.
    pub versions: Vec<Version>,
}

/// One position taken.
#[derive(Debug, Clone, PartialEq)]
pub struct PositionRecord {
    /// Who took it, where, when.
    pub said: Said,
    /// The stance.
    pub stance: Stance,
    /// Optional explanation.
    pub comment: Option<String>,
}

/// An agreement and its signatures.
#[derive(Debug, Clone, PartialEq)]
pub struct Agreement {
    /// Who tabled it, where, when.
    pub said: Said,
    /// Title.
    pub title: String,
    /// Hash of the agreed text.
    pub text_sha256: Digest,
    /// The proposal version whose text it is.
    pub version: StatementId,
    /// Who must sign.
    pub signatories: Vec<MemberId>,
    /// Signatures received, per signatory.
    pub signed: BTreeMap<MemberId, Said>,
    /// Log index of the last signature, once every signatory signed.
    pub adopted_at: Option<u64>,
}

/// What became of a membership change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeOutcome {
    /// Waiting for approvals.
    Pending,
    /// Took effect with the approval at this log index.
    Effective(u64),
    /// Reached quorum but could no longer apply (e.g. the member was added meanwhile).
    Void(u64),
}

/// A `member` statement and its approvals.
#[derive(Debug, Clone, PartialEq)]
pub struct MemberChange {
    /// Who proposed it, where, when.
    pub said: Said,
    /// The change.
    pub body: MemberBody,
    /// Members who approved it.
    pub approvals: BTreeSet<MemberId>,
    /// Its outcome.
    pub outcome: ChangeOutcome,
}

/// Who the evidence is against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Accused {
    /// A member signed two statements with the same seq.
    Member(MemberId),
    /// The host signed two checkpoints of one size with different roots.
    Host,
}

/// Recorded evidence of equivocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    /// Who posted it, where, when.
    pub said: Said,
    /// Who equivocated.
    pub accused: Accused,
    /// The two conflicting things' hashes (statement ids, or checkpoint roots), sorted.
    pub conflict: [Digest; 2],
}

/// A report (its content may be sealed).
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Who shared it, where, when.
    pub said: Said,
    /// Its marking.
    pub tlp: Tlp,
    /// Addressees, if any.
    pub to: Option<Vec<MemberId>>,
    /// Whether the content is sealed.
    pub sealed: bool,
}

/// What applying a statement changed besides recording it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Effect {
    /// A member joined (by genesis or an approved `member add`).
    MemberAdded(MemberId),
    /// A member was removed.
    MemberRemoved(MemberId),
    /// A member's keys were replaced.
    KeysRotated(MemberId),
    /// A membership change reached quorum but could not apply.
    ChangeVoid(StatementId),
    /// An agreement got its last signature.
    AgreementAdopted(StatementId),
    /// Evidence of equivocation was recorded.
    Equivocation(Accused),
}

/// The result of applying a statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// Its log index.
    pub index: u64,
    /// Its id.
    pub id: StatementId,
    /// Its kind.
    pub kind: Kind,
    /// What it changed.
    pub effects: Vec<Effect>,
}
