//! The kinds of statement and their bodies (DESIGN.md, "Kinds").
//!
//! Each kind has a typed body with strict validation: unknown fields are refused, sizes
//! and counts are bounded, ids and times are well-formed, and every error names the field.
//! What is checked here depends on the statement alone; what depends on the group (does
//! the referenced proposal exist, is the addressee a member) is the fold's
//! ([`crate::group`]).
//!
//! `message`, `report` and `request` may be sealed: their confidential fields (the
//! *content*: subject, text, STIX bundle) then travel encrypted in `sealed` and must be
//! absent from `body`; the fields the rules need (`due`, `check`, `tlp`) stay in the clear.
//! The other kinds are governance and are never sealed.

mod bodies;
mod genesis;
mod report;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use bodies::{
    AgreementBody, EvidenceBody, MemberAction, MemberBody, MessageBody, MessageContent,
    PositionBody, ProposalBody, ReceiptBody, RequestBody,
};
pub use genesis::{
    FounderSignature, GENESIS_SIGNING_CONTEXT, GenesisBody, GenesisDocument, MemberEntry, Rules,
    WitnessEntry, WitnessPolicy,
};
pub use report::{BlobRef, ReportBody, ReportContent, TLP2_MARKINGS, tlp_of_marking};

use crate::envelope::{FormatError, Statement, serde_field};

/// Longest subject or title, in bytes.
pub const MAX_TITLE_LEN: usize = 256;
/// Longest comment on a position, in bytes.
pub const MAX_COMMENT_LEN: usize = 4096;
/// Longest member display name or contact line, in bytes.
pub const MAX_NAME_LEN: usize = 256;

/// The kind of a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Entry 0: founds the group.
    Genesis,
    /// Adds, removes or re-keys a member, once a quorum approves.
    Member,
    /// Dialogue.
    Message,
    /// An incident report or threat intelligence: a STIX 2.1 bundle with a TLP marking.
    Report,
    /// A request for assistance or information, due by a time.
    Request,
    /// Acknowledges the statements in `refs`.
    Receipt,
    /// A version of a draft norm, agreement or working rule.
    Proposal,
    /// A member's recorded stance on a proposal, report, membership change or agreement.
    Position,
    /// An agreement on the final text of a proposal, adopted when every signatory signs.
    Agreement,
    /// Proof that an author, or the host, equivocated.
    Evidence,
}

impl Kind {
    /// Whether statements of this kind may carry `sealed` content (DESIGN.md: governance
    /// kinds are never sealed).
    pub fn sealable(self) -> bool {
        matches!(self, Kind::Message | Kind::Report | Kind::Request)
    }

    /// The kind's name as written in `kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Genesis => "genesis",
            Kind::Member => "member",
            Kind::Message => "message",
            Kind::Report => "report",
            Kind::Request => "request",
            Kind::Receipt => "receipt",
            Kind::Proposal => "proposal",
            Kind::Position => "position",
            Kind::Agreement => "agreement",
            Kind::Evidence => "evidence",
        }
    }
}

/// A TLP 2.0 marking (FIRST Traffic Light Protocol 2.0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Tlp {
    /// TLP:CLEAR — no limit on disclosure.
    #[serde(rename = "CLEAR")]
    Clear,
    /// TLP:GREEN — the community.
    #[serde(rename = "GREEN")]
    Green,
    /// TLP:AMBER — the recipients' organisations and their clients.
    #[serde(rename = "AMBER")]
    Amber,
    /// TLP:AMBER+STRICT — the recipients' organisations only.
    #[serde(rename = "AMBER+STRICT")]
    AmberStrict,
    /// TLP:RED — the named recipients only.
    #[serde(rename = "RED")]
    Red,
}

impl Tlp {
    /// Whether content under this marking must be sealed (DESIGN.md: RED and AMBER are
    /// always sealed).
    pub fn requires_seal(self) -> bool {
        matches!(self, Tlp::Amber | Tlp::AmberStrict | Tlp::Red)
    }

    /// `TLP:<LEVEL>` as written in TLP 2.0.
    pub fn label(self) -> &'static str {
        match self {
            Tlp::Clear => "TLP:CLEAR",
            Tlp::Green => "TLP:GREEN",
            Tlp::Amber => "TLP:AMBER",
            Tlp::AmberStrict => "TLP:AMBER+STRICT",
            Tlp::Red => "TLP:RED",
        }
    }
}

/// A stance in a `position`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stance {
    /// For a proposal version.
    Support,
    /// Against a proposal version or a membership change.
    Oppose,
    /// Neither, on the record.
    Abstain,
    /// Approves a membership change (counts towards its quorum).
    Approve,
    /// Signs an agreement's text (must name its hash).
    Sign,
    /// STIX 2.1 opinion scale, for reports.
    StronglyDisagree,
    /// STIX 2.1 opinion scale, for reports.
    Disagree,
    /// STIX 2.1 opinion scale, for reports.
    Neutral,
    /// STIX 2.1 opinion scale, for reports.
    Agree,
    /// STIX 2.1 opinion scale, for reports.
    StronglyAgree,
    /// A remark on the record without taking a side.
    Comment,
}

impl Stance {
    /// Whether this stance may be taken on a statement of kind `target`.
    pub fn allowed_on(self, target: Kind) -> bool {
        use Stance::*;
        match target {
            Kind::Proposal => matches!(self, Support | Oppose | Abstain | Comment),
            Kind::Member => matches!(self, Approve | Oppose | Abstain | Comment),
            Kind::Agreement => matches!(self, Sign | Comment),
            Kind::Report => matches!(
                self,
                StronglyDisagree | Disagree | Neutral | Agree | StronglyAgree | Comment
            ),
            _ => false,
        }
    }
}

/// A statement's body, read according to its kind.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Body {
    /// See [`GenesisBody`].
    Genesis(Box<GenesisBody>),
    /// See [`MemberBody`].
    Member(Box<MemberBody>),
    /// See [`MessageBody`].
    Message(MessageBody),
    /// See [`ReportBody`].
    Report(Box<ReportBody>),
    /// See [`RequestBody`].
    Request(RequestBody),
    /// See [`ReceiptBody`].
    Receipt(ReceiptBody),
    /// See [`ProposalBody`].
    Proposal(ProposalBody),
    /// See [`PositionBody`].
    Position(PositionBody),
    /// See [`AgreementBody`].
    Agreement(AgreementBody),
    /// See [`EvidenceBody`].
    Evidence(Box<EvidenceBody>),
}

impl Body {
    /// Reads and checks the body of `s` according to `s.kind`, including the kind's rules
    /// on `refs`, `to` and `sealed`. Everything checked here depends on `s` alone.
    pub fn parse(s: &Statement) -> Result<Body, FormatError> {
        if s.sealed.is_some() && !s.kind.sealable() {
            return Err(FormatError::field(
                "statement.sealed",
                format!("a {} statement is never sealed", s.kind.as_str()),
            ));
        }
        let body = match s.kind {
            Kind::Genesis => Body::Genesis(Box::new(genesis::parse(s)?)),
            Kind::Member => Body::Member(Box::new(bodies::parse_member(s)?)),
            Kind::Message => Body::Message(bodies::parse_message(s)?),
            Kind::Report => Body::Report(Box::new(report::parse(s)?)),
            Kind::Request => Body::Request(bodies::parse_request(s)?),
            Kind::Receipt => Body::Receipt(bodies::parse_receipt(s)?),
            Kind::Proposal => Body::Proposal(bodies::parse_proposal(s)?),
            Kind::Position => Body::Position(bodies::parse_position(s)?),
            Kind::Agreement => Body::Agreement(bodies::parse_agreement(s)?),
            Kind::Evidence => Body::Evidence(Box::new(bodies::parse_evidence(s)?)),
        };
        Ok(body)
    }
}

/// Reads `body` as `T`, reporting serde's message (which names the field) under `body`.
pub(crate) fn typed<T: DeserializeOwned>(body: &Map<String, Value>) -> Result<T, FormatError> {
    serde_json::from_value(Value::Object(body.clone()))
        .map_err(|e| serde_field("statement.body", &e))
}

/// Checks a text field's length.
pub(crate) fn check_len(field: &str, text: &str, max: usize) -> Result<(), FormatError> {
    if text.len() > max {
        return Err(FormatError::field(field, format!("at most {max} bytes")));
    }
    Ok(())
}

/// Checks a required text: non-empty (after trimming) and bounded.
pub(crate) fn check_text(field: &str, text: &str, max: usize) -> Result<(), FormatError> {
    if text.trim().is_empty() {
        return Err(FormatError::field(field, "must not be empty"));
    }
    check_len(field, text, max)
}

/// Checks the number of `refs`.
pub(crate) fn check_refs(
    s: &Statement,
    min: usize,
    max: usize,
    what: &str,
) -> Result<(), FormatError> {
    if s.refs.len() < min || s.refs.len() > max {
        return Err(FormatError::field("statement.refs", what.to_owned()));
    }
    Ok(())
}

/// Checks that a statement not meant to be addressed has no `to`.
pub(crate) fn check_no_to(s: &Statement) -> Result<(), FormatError> {
    if s.to.is_some() {
        return Err(FormatError::field(
            "statement.to",
            format!("a {} statement is for the whole group", s.kind.as_str()),
        ));
    }
    Ok(())
}

/// Checks the sealing rules of a sealable kind: content fields present exactly when not
/// sealed, and a TLP that requires sealing only on sealed statements.
pub(crate) fn check_sealing(
    s: &Statement,
    has_content: bool,
    tlp: Option<Tlp>,
) -> Result<(), FormatError> {
    match (s.sealed.is_some(), has_content) {
        (true, true) => Err(FormatError::field(
            "statement.body",
            "a sealed statement keeps its content in `sealed`, not in the clear body",
        )),
        (false, false) => Err(FormatError::field(
            "statement.body",
            "the content is missing",
        )),
        _ => match tlp {
            Some(t) if t.requires_seal() && s.sealed.is_none() => Err(FormatError::field(
                "statement.sealed",
                format!("{} content must be sealed to its addressees", t.label()),
            )),
            _ => Ok(()),
        },
    }
}
