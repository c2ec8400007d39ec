//! Every reason the group's rules refuse a statement.

use crate::envelope::FormatError;
use crate::ids::{Digest, MemberId, StatementId};
use crate::kind::{Kind, Stance};

/// Why [`crate::group::Group::apply`] refused a statement. The host answers a submitter
/// with it; a node that finds one in the log has caught the host admitting what the rules
/// forbid. Each variant is deterministic: every honest party reaches the same verdict.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Rejection {
    /// The statement is malformed: a field is missing, unknown, out of range or not
    /// canonical. The inner error names the field.
    #[error("malformed statement: {0}")]
    Malformed(#[from] FormatError),
    /// The first statement of a log must be `genesis`.
    #[error("the group is not founded yet: the first statement must be genesis")]
    NotFounded,
    /// A second `genesis`.
    #[error("the group is already founded; genesis is entry 0 only")]
    AlreadyFounded,
    /// `group` is not this log's origin.
    #[error("statement is for group {got:?}, this is {expected:?}")]
    WrongGroup {
        /// This group's origin.
        expected: String,
        /// The statement's `group`.
        got: String,
    },
    /// The author is not a member.
    #[error("{author} is not a member of this group")]
    UnknownAuthor {
        /// The author.
        author: MemberId,
    },
    /// The author was removed from the group.
    #[error("{author} was removed from the group and can no longer make statements")]
    RemovedMember {
        /// The author.
        author: MemberId,
    },
    /// The signature does not verify with the author's current key.
    #[error("the signature is not {author}'s")]
    BadSignature {
        /// The claimed author.
        author: MemberId,
    },
    /// The statement is already in the log.
    #[error("statement {id} is already in the log at index {index}")]
    Duplicate {
        /// Its id.
        id: StatementId,
        /// Where it is.
        index: u64,
    },
    /// `seq` skips ahead: statements of this author are missing before it.
    #[error("{author}'s next seq is {expected}, got {got}: statements are missing")]
    SeqGap {
        /// The author.
        author: MemberId,
        /// The seq the log expects next.
        expected: u64,
        /// The statement's seq.
        got: u64,
    },
    /// `seq` was already used by this author (a different statement holds it).
    #[error("{author}'s next seq is {expected}, got {got}: that seq is already used")]
    SeqRepeat {
        /// The author.
        author: MemberId,
        /// The seq the log expects next.
        expected: u64,
        /// The statement's seq.
        got: u64,
    },
    /// `prev` is not the author's previous statement.
    #[error("prev must be {expected:?}, the author's previous statement")]
    PrevMismatch {
        /// The id of the author's last statement in the log.
        expected: Option<StatementId>,
        /// The statement's prev.
        got: Option<StatementId>,
    },
    /// A ref names a statement that is not in the log.
    #[error("refs names {id}, which is not in the log")]
    UnknownRef {
        /// The unknown id.
        id: StatementId,
    },
    /// An addressee in `to` (or a signatory) is not a current member.
    #[error("{member} is not a current member and cannot be addressed")]
    NotAMember {
        /// The non-member.
        member: MemberId,
    },
    /// A `member add` for an id that is, or was, a member.
    #[error("{member} is already, or was, a member")]
    MemberExists {
        /// The id.
        member: MemberId,
    },
    /// A ref must point at a statement of another kind.
    #[error("refs[0] {id} is a {got:?}, expected a {expected:?}")]
    WrongRefKind {
        /// The referenced statement.
        id: StatementId,
        /// Its kind.
        got: Kind,
        /// The kind required here.
        expected: Kind,
    },
    /// A proposal version that does not follow the latest version.
    #[error("proposal version must be {expected} amending the latest version {latest}, got {got}")]
    ProposalVersion {
        /// The version the proposal expects next.
        expected: u32,
        /// The version given.
        got: u32,
        /// The id of the proposal's latest version.
        latest: StatementId,
    },
    /// A stance that makes no sense on the target's kind.
    #[error("stance {stance:?} cannot be taken on a {target:?}")]
    StanceNotAllowed {
        /// The stance.
        stance: Stance,
        /// The target's kind.
        target: Kind,
    },
    /// An agreement names a text hash that its proposal version does not have.
    #[error("no proposal version has text hash {got}")]
    UnknownTextHash {
        /// The hash named.
        got: Digest,
    },
    /// A `sign` that names a different hash from the agreement's.
    #[error("signing names text hash {got}, the agreement's is {expected}")]
    SignHashMismatch {
        /// The agreement's hash.
        expected: Digest,
        /// The position's hash.
        got: Digest,
    },
    /// A `sign` by a member the agreement does not name.
    #[error("{member} is not a signatory of this agreement")]
    NotASignatory {
        /// The member.
        member: MemberId,
    },
    /// An `evidence` statement that proves nothing.
    #[error("evidence is not valid: {reason}")]
    InvalidEvidence {
        /// Why.
        reason: String,
    },
    /// The same equivocation was already recorded.
    #[error("this evidence is already recorded")]
    DuplicateEvidence,
}

impl Rejection {
    /// A stable, machine-readable name for the reason (used in HTTP answers and metrics).
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::Malformed(_) => "malformed",
            Rejection::NotFounded => "not_founded",
            Rejection::AlreadyFounded => "already_founded",
            Rejection::WrongGroup { .. } => "wrong_group",
            Rejection::UnknownAuthor { .. } => "unknown_author",
            Rejection::RemovedMember { .. } => "removed_member",
            Rejection::BadSignature { .. } => "bad_signature",
            Rejection::Duplicate { .. } => "duplicate",
            Rejection::SeqGap { .. } => "seq_gap",
            Rejection::SeqRepeat { .. } => "seq_repeat",
            Rejection::PrevMismatch { .. } => "prev_mismatch",
            Rejection::UnknownRef { .. } => "unknown_ref",
            Rejection::NotAMember { .. } => "not_a_member",
            Rejection::MemberExists { .. } => "member_exists",
            Rejection::WrongRefKind { .. } => "wrong_ref_kind",
            Rejection::ProposalVersion { .. } => "proposal_version",
            Rejection::StanceNotAllowed { .. } => "stance_not_allowed",
            Rejection::UnknownTextHash { .. } => "unknown_text_hash",
            Rejection::SignHashMismatch { .. } => "sign_hash_mismatch",
            Rejection::NotASignatory { .. } => "not_a_signatory",
            Rejection::InvalidEvidence { .. } => "invalid_evidence",
            Rejection::DuplicateEvidence => "duplicate_evidence",
        }
    }
}
