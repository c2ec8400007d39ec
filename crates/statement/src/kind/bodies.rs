//! Bodies of the kinds other than `genesis` and `report`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{
    MAX_COMMENT_LEN, MAX_NAME_LEN, MAX_TITLE_LEN, Stance, Tlp, check_len, check_no_to, check_refs,
    check_sealing, check_text, typed,
};
use crate::envelope::{FormatError, MAX_LEAF_SIZE, MAX_REFS, MAX_TO, Statement};
use crate::ids::{Digest, MemberId, Timestamp};
use crate::keys::{MemberKey, SealKey};

/// What a `member` statement changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MemberAction {
    /// Admit a new member (needs `name`, `key`, `seal`).
    Add,
    /// Remove a member: it can no longer author statements.
    Remove,
    /// Replace a member's keys (needs `key` or `seal`); its author chain continues.
    Rotate,
}

/// `member`: a membership change, effective once the group's quorum approves it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberBody {
    /// What changes.
    pub action: MemberAction,
    /// Whom it concerns.
    pub member: MemberId,
    /// Display name (for `add`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Signing key (for `add`, optionally `rotate`); its key name must be `member`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<MemberKey>,
    /// Sealing key (for `add`, optionally `rotate`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seal: Option<SealKey>,
    /// How to reach the member's people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
}

pub(super) fn parse_member(s: &Statement) -> Result<MemberBody, FormatError> {
    check_no_to(s)?;
    check_refs(s, 0, 0, "a member statement has no refs")?;
    let b: MemberBody = typed(&s.body)?;
    if let Some(key) = &b.key
        && key.member() != &b.member
    {
        return Err(FormatError::field(
            "statement.body.key",
            "the key's name must be the member id",
        ));
    }
    check_len(
        "statement.body.name",
        b.name.as_deref().unwrap_or(""),
        MAX_NAME_LEN,
    )?;
    check_len(
        "statement.body.contact",
        b.contact.as_deref().unwrap_or(""),
        MAX_NAME_LEN,
    )?;
    match b.action {
        MemberAction::Add if b.name.is_none() || b.key.is_none() || b.seal.is_none() => {
            Err(FormatError::field(
                "statement.body",
                "adding a member needs `name`, `key` and `seal`",
            ))
        }
        MemberAction::Remove if b.key.is_some() || b.seal.is_some() => Err(FormatError::field(
            "statement.body",
            "removing a member takes no keys",
        )),
        MemberAction::Rotate if b.key.is_none() && b.seal.is_none() => Err(FormatError::field(
            "statement.body",
            "rotating needs a new `key` or `seal`",
        )),
        _ => Ok(b),
    }
}

/// `message`: dialogue. `refs[0]`, when present, is the statement answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageBody {
    /// Optional subject (content: absent when sealed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// Markdown text (content: absent when sealed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Optional TLP marking of the content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tlp: Option<Tlp>,
}

/// The confidential content of a `message` or `request`: what `sealed` decrypts to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageContent {
    /// Optional subject.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// Markdown text.
    pub text: String,
}

impl MessageContent {
    /// Checks bounds.
    pub fn check(&self) -> Result<(), FormatError> {
        check_len(
            "content.subject",
            self.subject.as_deref().unwrap_or(""),
            MAX_TITLE_LEN,
        )?;
        check_text("content.text", &self.text, MAX_LEAF_SIZE)
    }
}

pub(super) fn parse_message(s: &Statement) -> Result<MessageBody, FormatError> {
    check_refs(s, 0, MAX_REFS, "too many refs")?;
    let b: MessageBody = typed(&s.body)?;
    check_sealing(s, b.text.is_some() || b.subject.is_some(), b.tlp)?;
    check_content(&b.subject, &b.text, s.sealed.is_some())?;
    Ok(b)
}

fn check_content(
    subject: &Option<String>,
    text: &Option<String>,
    sealed: bool,
) -> Result<(), FormatError> {
    check_len(
        "statement.body.subject",
        subject.as_deref().unwrap_or(""),
        MAX_TITLE_LEN,
    )?;
    match text {
        Some(t) => check_text("statement.body.text", t, MAX_LEAF_SIZE),
        None if sealed => Ok(()),
        None => Err(FormatError::field("statement.body.text", "is required")),
    }
}

/// `request`: a request for assistance or information, answered by a `message` or
/// `report` from an addressee with the request in its `refs`. With `check: true` it is a
/// communication check, which expects a `receipt` from every addressee.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestBody {
    /// When an answer is due.
    pub due: Timestamp,
    /// A communication check: expects a `receipt`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub check: bool,
    /// Optional subject (content: absent when sealed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// What is asked (content: absent when sealed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Optional TLP marking of the content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tlp: Option<Tlp>,
}

pub(super) fn parse_request(s: &Statement) -> Result<RequestBody, FormatError> {
    check_refs(s, 0, MAX_REFS, "too many refs")?;
    let b: RequestBody = typed(&s.body)?;
    if b.due <= s.time {
        return Err(FormatError::field(
            "statement.body.due",
            "must be after the statement's time",
        ));
    }
    check_sealing(s, b.text.is_some() || b.subject.is_some(), b.tlp)?;
    check_content(&b.subject, &b.text, s.sealed.is_some())?;
    Ok(b)
}

/// `receipt`: acknowledges every statement in `refs` (at least one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptBody {}

pub(super) fn parse_receipt(s: &Statement) -> Result<ReceiptBody, FormatError> {
    check_no_to(s)?;
    check_refs(s, 1, MAX_REFS, "a receipt acknowledges 1 to 64 statements")?;
    typed(&s.body)
}

/// `proposal`: one version of a draft. Version 1 has no refs; version n > 1 has exactly
/// one, the version it amends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProposalBody {
    /// Title.
    pub title: String,
    /// The full text of this version (markdown).
    pub text: String,
    /// 1 for a new proposal, then one more than the version amended.
    pub version: u32,
}

impl ProposalBody {
    /// SHA-256 of the text's UTF-8 bytes: what an `agreement` and its signatures name.
    pub fn text_sha256(&self) -> Digest {
        Digest::of(self.text.as_bytes())
    }
}

pub(super) fn parse_proposal(s: &Statement) -> Result<ProposalBody, FormatError> {
    check_no_to(s)?;
    let b: ProposalBody = typed(&s.body)?;
    check_text("statement.body.title", &b.title, MAX_TITLE_LEN)?;
    check_text("statement.body.text", &b.text, MAX_LEAF_SIZE)?;
    match b.version {
        0 => Err(FormatError::field("statement.body.version", "starts at 1")),
        1 => check_refs(s, 0, 0, "version 1 of a proposal has no refs").map(|()| b),
        _ => check_refs(
            s,
            1,
            1,
            "a later version refs exactly the version it amends",
        )
        .map(|()| b),
    }
}

/// `position`: a member's stance on the statement in `refs[0]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PositionBody {
    /// The stance.
    pub stance: Stance,
    /// Optional explanation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// For `sign`: the hash of the text signed, which must be the agreement's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_sha256: Option<Digest>,
}

pub(super) fn parse_position(s: &Statement) -> Result<PositionBody, FormatError> {
    check_no_to(s)?;
    check_refs(s, 1, 1, "a position refs exactly the statement it is on")?;
    let b: PositionBody = typed(&s.body)?;
    check_len(
        "statement.body.comment",
        b.comment.as_deref().unwrap_or(""),
        MAX_COMMENT_LEN,
    )?;
    if (b.stance == Stance::Sign) != b.text_sha256.is_some() {
        return Err(FormatError::field(
            "statement.body.text_sha256",
            "is required with stance `sign`, and only then",
        ));
    }
    Ok(b)
}

/// `agreement`: the final text of a proposal (by hash) and who must sign it. `refs[0]` is
/// the proposal version whose text it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgreementBody {
    /// Title.
    pub title: String,
    /// SHA-256 of the agreed text (the proposal version's `text`).
    pub text_sha256: Digest,
    /// Members whose `sign` adopts it.
    pub signatories: Vec<MemberId>,
}

pub(super) fn parse_agreement(s: &Statement) -> Result<AgreementBody, FormatError> {
    check_no_to(s)?;
    check_refs(
        s,
        1,
        1,
        "an agreement refs exactly the proposal version it adopts",
    )?;
    let b: AgreementBody = typed(&s.body)?;
    check_text("statement.body.title", &b.title, MAX_TITLE_LEN)?;
    if b.signatories.is_empty() || b.signatories.len() > MAX_TO {
        return Err(FormatError::field(
            "statement.body.signatories",
            format!("1 to {MAX_TO} members"),
        ));
    }
    let mut sorted: Vec<_> = b.signatories.iter().collect();
    sorted.sort();
    if sorted.windows(2).any(|w| w[0] == w[1]) {
        return Err(FormatError::field(
            "statement.body.signatories",
            "lists a member twice",
        ));
    }
    Ok(b)
}

/// `evidence`: two conflicting signed statements by one author (same `seq`, different
/// ids), or two checkpoints signed by the log with the same size and different roots.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvidenceBody {
    /// Two signed statements (`{statement, sig}` objects).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statements: Option<[Value; 2]>,
    /// Two signed checkpoint notes (C2SP signed-note text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoints: Option<[String; 2]>,
}

pub(super) fn parse_evidence(s: &Statement) -> Result<EvidenceBody, FormatError> {
    check_no_to(s)?;
    check_refs(s, 0, 0, "evidence has no refs")?;
    let b: EvidenceBody = typed(&s.body)?;
    if b.statements.is_some() == b.checkpoints.is_some() {
        return Err(FormatError::field(
            "statement.body",
            "evidence carries either two `statements` or two `checkpoints`",
        ));
    }
    Ok(b)
}
