//! Building and signing statements of every kind: the small API the node, the CLI, the
//! demo and the tests use.
//!
//! A [`Draft`] is what a member wants to say (kind, body, refs, addressees); an [`Author`]
//! holds a member's key and position in its chain (`seq`, `prev`) and turns drafts into
//! [`Signed`] statements.

use ed25519_dalek::SigningKey;
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::envelope::{FORMAT_VERSION, FormatError, Signed, Statement};
use crate::group::{Group, Member, Rules};
use crate::ids::{Digest, MemberId, StatementId, Timestamp};
use crate::keys::{MemberKey, SealKey};
use crate::kind::{
    FounderSignature, GenesisBody, GenesisDocument, Kind, MemberEntry, MessageContent, Stance, Tlp,
};
use crate::seal::{SealError, seal};

/// What a member wants to say, before it is placed in its chain and signed.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    /// Kind.
    pub kind: Kind,
    /// Clear body.
    pub body: Map<String, Value>,
    /// Refs.
    pub refs: Vec<StatementId>,
    /// Addressees.
    pub to: Option<Vec<MemberId>>,
    /// Sealed content.
    pub sealed: Option<String>,
}

fn object(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

impl Draft {
    /// A draft of `kind` with `body` (an object; anything else becomes `{}`).
    pub fn new(kind: Kind, body: Value) -> Draft {
        Draft {
            kind,
            body: object(body),
            refs: Vec::new(),
            to: None,
            sealed: None,
        }
    }

    /// A message in the clear.
    pub fn message(text: &str) -> Draft {
        Draft::new(Kind::Message, json!({ "text": text }))
    }

    /// A message with a subject, starting a thread.
    pub fn thread(subject: &str, text: &str) -> Draft {
        Draft::new(Kind::Message, json!({ "subject": subject, "text": text }))
    }

    /// A report of a STIX 2.1 bundle under a TLP marking (in the clear; see [`Draft::seal`]).
    pub fn report(tlp: Tlp, title: &str, bundle: Value) -> Draft {
        Draft::new(
            Kind::Report,
            json!({ "tlp": tlp, "title": title, "bundle": bundle }),
        )
    }

    /// A request for assistance or information, due by `due`.
    pub fn request(subject: &str, text: &str, due: &Timestamp) -> Draft {
        Draft::new(
            Kind::Request,
            json!({ "subject": subject, "text": text, "due": due }),
        )
    }

    /// A communication check: every addressee is expected to send a receipt by `due`.
    pub fn check(text: &str, due: &Timestamp) -> Draft {
        Draft::new(
            Kind::Request,
            json!({ "text": text, "due": due, "check": true }),
        )
    }

    /// A receipt acknowledging `refs`.
    pub fn receipt(refs: &[StatementId]) -> Draft {
        Draft::new(Kind::Receipt, json!({})).refs(refs)
    }

    /// Version 1 of a proposal.
    pub fn proposal(title: &str, text: &str) -> Draft {
        Draft::new(
            Kind::Proposal,
            json!({ "title": title, "text": text, "version": 1 }),
        )
    }

    /// Version `version` of a proposal, amending `amends` (its previous version).
    pub fn amendment(title: &str, text: &str, version: u32, amends: StatementId) -> Draft {
        Draft::new(
            Kind::Proposal,
            json!({ "title": title, "text": text, "version": version }),
        )
        .refs(&[amends])
    }

    /// A position on `target`.
    pub fn position(target: StatementId, stance: Stance, comment: Option<&str>) -> Draft {
        let mut body = json!({ "stance": stance });
        if let Some(c) = comment {
            body["comment"] = json!(c);
        }
        Draft::new(Kind::Position, body).refs(&[target])
    }

    /// Signing the agreement `agreement` whose text hash is `text_sha256`.
    pub fn sign(agreement: StatementId, text_sha256: Digest) -> Draft {
        Draft::new(
            Kind::Position,
            json!({ "stance": Stance::Sign, "text_sha256": text_sha256 }),
        )
        .refs(&[agreement])
    }

    /// An agreement on the text of the proposal version `version`.
    pub fn agreement(
        title: &str,
        version: StatementId,
        text_sha256: Digest,
        signatories: &[MemberId],
    ) -> Draft {
        Draft::new(
            Kind::Agreement,
            json!({ "title": title, "text_sha256": text_sha256, "signatories": signatories }),
        )
        .refs(&[version])
    }

    /// Proposes admitting a member.
    pub fn add_member(entry: &MemberEntry) -> Draft {
        let mut body = json!({
            "action": "add", "member": entry.id, "name": entry.name,
            "key": entry.key, "seal": entry.seal,
        });
        if let Some(c) = &entry.contact {
            body["contact"] = json!(c);
        }
        Draft::new(Kind::Member, body)
    }

    /// Proposes removing a member.
    pub fn remove_member(member: &MemberId) -> Draft {
        Draft::new(
            Kind::Member,
            json!({ "action": "remove", "member": member }),
        )
    }

    /// Proposes new keys for a member.
    pub fn rotate_keys(
        member: &MemberId,
        key: Option<&MemberKey>,
        seal: Option<&SealKey>,
    ) -> Draft {
        let mut body = json!({ "action": "rotate", "member": member });
        if let Some(k) = key {
            body["key"] = json!(k);
        }
        if let Some(s) = seal {
            body["seal"] = json!(s);
        }
        Draft::new(Kind::Member, body)
    }

    /// Evidence that one author signed two statements with the same seq.
    pub fn equivocation(a: &Signed, b: &Signed) -> Draft {
        Draft::new(
            Kind::Evidence,
            json!({ "statements": [a.to_value(), b.to_value()] }),
        )
    }

    /// Evidence that the host signed two checkpoints of one size with different roots.
    pub fn split_view(a: &str, b: &str) -> Draft {
        Draft::new(Kind::Evidence, json!({ "checkpoints": [a, b] }))
    }

    /// Sets `refs`.
    pub fn refs(mut self, refs: &[StatementId]) -> Draft {
        self.refs = refs.to_vec();
        self
    }

    /// Addresses the draft to `to` without sealing it.
    pub fn to(mut self, to: &[MemberId]) -> Draft {
        self.to = Some(to.to_vec());
        self
    }

    /// Seals the draft's content to `to` (whose sealing keys are `keys`, the author's
    /// included): the content fields of the body move, encrypted, into `sealed`.
    pub fn seal(mut self, to: &[MemberId], keys: &[&SealKey]) -> Result<Draft, SealError> {
        let content_fields: &[&str] = match self.kind {
            Kind::Message | Kind::Request => &["subject", "text"],
            Kind::Report => &["title", "bundle", "blob"],
            _ => &[],
        };
        let mut content = Map::new();
        for f in content_fields {
            if let Some(v) = self.body.remove(*f) {
                content.insert((*f).to_owned(), v);
            }
        }
        self.sealed = Some(seal(&Value::Object(content), keys)?);
        self.to = Some(to.to_vec());
        Ok(self)
    }

    /// A sealed message to `to`.
    pub fn sealed_message(
        content: &MessageContent,
        to: &[MemberId],
        keys: &[&SealKey],
    ) -> Result<Draft, SealError> {
        let mut body = json!({ "text": content.text });
        if let Some(s) = &content.subject {
            body["subject"] = json!(s);
        }
        Draft::new(Kind::Message, body).seal(to, keys)
    }
}

/// A member's signing key and its place in its author chain.
pub struct Author {
    group: String,
    member: MemberId,
    key: SigningKey,
    seq: u64,
    prev: Option<StatementId>,
}

impl Author {
    /// An author who has made no statement yet in `group`.
    pub fn new(group: &str, member: MemberId, key: SigningKey) -> Author {
        Author {
            group: group.to_owned(),
            member,
            key,
            seq: 0,
            prev: None,
        }
    }

    /// An author resuming its chain where the group's log has it.
    pub fn resume(group: &Group, member: MemberId, key: SigningKey) -> Author {
        Author::resume_at(group.origin(), group.member(&member), member, key)
    }

    /// [`Author::resume`] from the lean fold a node checks the log with.
    pub fn resume_in(rules: &Rules, member: MemberId, key: SigningKey) -> Author {
        let origin = rules.genesis().map(|g| g.origin.as_str());
        Author::resume_at(origin, rules.member(&member), member, key)
    }

    fn resume_at(
        origin: Option<&str>,
        state: Option<&Member>,
        member: MemberId,
        key: SigningKey,
    ) -> Author {
        let origin = origin.unwrap_or_default().to_owned();
        let (seq, prev) = state.map_or((0, None), |m| (m.last_seq, m.last_id));
        Author {
            group: origin,
            member,
            key,
            seq,
            prev,
        }
    }

    /// The member id.
    pub fn member(&self) -> &MemberId {
        &self.member
    }

    /// The signing key.
    pub fn key(&self) -> &SigningKey {
        &self.key
    }

    /// Replaces the signing key (after an approved rotation); the chain continues.
    pub fn set_key(&mut self, key: SigningKey) {
        self.key = key;
    }

    /// The seq of the author's latest statement.
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// Places `draft` next in the chain, stamped `time`, and signs it.
    pub fn sign(&mut self, draft: Draft, time: &Timestamp) -> Result<Signed, FormatError> {
        let signed = self.sign_at(draft, time, self.seq + 1, self.prev)?;
        self.seq += 1;
        self.prev = Some(signed.id());
        Ok(signed)
    }

    /// Signs `draft` at an explicit place in the chain without advancing it (for
    /// re-signing, and for tests that need gaps, repeats and equivocations).
    pub fn sign_at(
        &self,
        d: Draft,
        time: &Timestamp,
        seq: u64,
        prev: Option<StatementId>,
    ) -> Result<Signed, FormatError> {
        let statement = Statement {
            v: FORMAT_VERSION,
            group: self.group.clone(),
            author: self.member.clone(),
            seq,
            prev,
            time: time.clone(),
            kind: d.kind,
            refs: d.refs,
            to: d.to,
            body: d.body,
            sealed: d.sealed,
        };
        Signed::sign(statement, &self.key)
    }
}

/// Assembles the genesis statement from the document and every founder's signature; the
/// first founder (`author`) envelopes it.
pub fn genesis(
    document: GenesisDocument,
    signatures: Vec<FounderSignature>,
    author: &mut Author,
    time: &Timestamp,
) -> Result<Signed, FormatError> {
    let body = GenesisBody {
        document,
        signatures,
    };
    let body = serde_json::to_value(&body)
        .map_err(|e| FormatError::field("statement.body", e.to_string()))?;
    author.sign(Draft::new(Kind::Genesis, body), time)
}

/// The body a draft would have, serialised (for callers building drafts from typed bodies).
pub fn body_of<T: Serialize>(body: &T) -> Result<Value, FormatError> {
    serde_json::to_value(body).map_err(|e| FormatError::field("statement.body", e.to_string()))
}
