//! `genesis`: entry 0, which founds the group.
//!
//! The founders agree on one *document* (group name, log origin and key, founding members
//! with their keys, rules) and each signs `GENESIS_SIGNING_CONTEXT ‖ JCS(document)`; the
//! genesis statement carries the document and every founder's signature, and is authored
//! (and enveloped) by the first founder listed. A genesis is therefore valid only if every
//! founder signed exactly the same document.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, Signer as _, SigningKey};
use serde::{Deserialize, Serialize};

use super::{MAX_NAME_LEN, check_len, check_no_to, check_refs, check_text, typed};
use crate::envelope::{FormatError, MAX_GROUP_LEN, MAX_TO, Statement};
use crate::ids::MemberId;
use crate::jcs;
use crate::keys::{MemberKey, SealKey};

/// Domain separation for founders' signatures over the genesis document, so that they can
/// never be mistaken for a statement signature or anything else.
pub const GENESIS_SIGNING_CONTEXT: &[u8] = b"detente genesis v1\n";

/// Most witnesses in a policy.
pub const MAX_WITNESSES: usize = 32;

/// A member as listed in genesis (and added by `member`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberEntry {
    /// Member id.
    pub id: MemberId,
    /// Display name (e.g. "CERT-EU").
    pub name: String,
    /// Signing key, named with `id`.
    pub key: MemberKey,
    /// Sealing key.
    pub seal: SealKey,
    /// How to reach the member's people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
}

/// A witness the group relies on (C2SP tlog-witness).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WitnessEntry {
    /// The witness's key name.
    pub name: String,
    /// Where its `add-checkpoint` endpoint lives.
    pub url: String,
    /// Its cosignature verifier key (C2SP tlog-cosignature, type 0x04).
    pub key: String,
}

/// Which witnesses must cosign a checkpoint before nodes accept it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WitnessPolicy {
    /// How many distinct witnesses of the list must cosign (0: none required).
    pub k: u32,
    /// The witnesses.
    pub witnesses: Vec<WitnessEntry>,
}

/// The group's rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    /// Approvals (`position: approve`) from distinct members that make a `member` change
    /// take effect.
    pub member_quorum: u32,
    /// Witness policy.
    #[serde(default)]
    pub witnesses: WitnessPolicy,
}

/// What the founders sign.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisDocument {
    /// The group's name.
    pub name: String,
    /// The log's origin (C2SP tlog-checkpoint); every statement's `group`.
    pub origin: String,
    /// The host's checkpoint verifier key (C2SP signed-note, Ed25519), named `origin`.
    pub log_key: String,
    /// The founding members; the first one authors the genesis statement.
    pub founders: Vec<MemberEntry>,
    /// The rules.
    pub rules: Rules,
}

/// One founder's signature over the document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FounderSignature {
    /// Who signed.
    pub member: MemberId,
    /// Base64 Ed25519 signature over `GENESIS_SIGNING_CONTEXT ‖ JCS(document)`.
    pub sig: String,
}

/// `genesis` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisBody {
    /// The document.
    pub document: GenesisDocument,
    /// One signature per founder.
    pub signatures: Vec<FounderSignature>,
}

impl GenesisDocument {
    /// The bytes founders sign: `GENESIS_SIGNING_CONTEXT ‖ JCS(document)`.
    pub fn signing_message(&self) -> Result<Vec<u8>, FormatError> {
        let mut m = GENESIS_SIGNING_CONTEXT.to_vec();
        m.extend(jcs::to_canonical(self)?);
        Ok(m)
    }

    /// A founder's signature over this document.
    pub fn sign(
        &self,
        member: MemberId,
        key: &SigningKey,
    ) -> Result<FounderSignature, FormatError> {
        let sig = key.sign(&self.signing_message()?);
        Ok(FounderSignature {
            member,
            sig: STANDARD.encode(sig.to_bytes()),
        })
    }

    /// Checks the document's own consistency: sizes, unique founders, a reachable quorum,
    /// parseable log and witness keys.
    pub fn check(&self) -> Result<(), FormatError> {
        check_text("document.name", &self.name, MAX_NAME_LEN)?;
        if self.origin.is_empty() || self.origin.len() > MAX_GROUP_LEN {
            return Err(FormatError::field("document.origin", "1 to 255 characters"));
        }
        check_log_key(&self.origin, &self.log_key)?;
        if self.founders.is_empty() || self.founders.len() > MAX_TO {
            return Err(FormatError::field(
                "document.founders",
                format!("1 to {MAX_TO} founders"),
            ));
        }
        for (i, f) in self.founders.iter().enumerate() {
            check_entry(&format!("document.founders[{i}]"), f)?;
            if self.founders[..i].iter().any(|g| g.id == f.id) {
                return Err(FormatError::field(
                    "document.founders",
                    format!("{} is listed twice", f.id),
                ));
            }
        }
        let q = self.rules.member_quorum as usize;
        if q == 0 || q > self.founders.len() {
            return Err(FormatError::field(
                "document.rules.member_quorum",
                "must be between 1 and the number of founders",
            ));
        }
        check_witnesses(&self.rules.witnesses)
    }
}

/// Checks a member entry (also used for `member add`).
pub(crate) fn check_entry(field: &str, e: &MemberEntry) -> Result<(), FormatError> {
    check_text(&format!("{field}.name"), &e.name, MAX_NAME_LEN)?;
    check_len(
        &format!("{field}.contact"),
        e.contact.as_deref().unwrap_or(""),
        MAX_NAME_LEN,
    )?;
    if e.key.member() != &e.id {
        return Err(FormatError::field(
            &format!("{field}.key"),
            "the key's name must be the member id",
        ));
    }
    Ok(())
}

fn check_log_key(origin: &str, log_key: &str) -> Result<(), FormatError> {
    let verifier = tlog::note::Ed25519Verifier::from_vkey(log_key)
        .map_err(|e| FormatError::field("document.log_key", e.to_string()))?;
    if verifier.name().as_ref() != origin {
        return Err(FormatError::field(
            "document.log_key",
            "the key's name must be the origin",
        ));
    }
    Ok(())
}

fn check_witnesses(policy: &WitnessPolicy) -> Result<(), FormatError> {
    if policy.witnesses.len() > MAX_WITNESSES {
        return Err(FormatError::field(
            "document.rules.witnesses",
            format!("at most {MAX_WITNESSES}"),
        ));
    }
    if policy.k as usize > policy.witnesses.len() {
        return Err(FormatError::field(
            "document.rules.witnesses.k",
            "exceeds the number of witnesses",
        ));
    }
    for (i, w) in policy.witnesses.iter().enumerate() {
        let field = format!("document.rules.witnesses.witnesses[{i}]");
        check_text(&format!("{field}.url"), &w.url, MAX_NAME_LEN)?;
        let verifier = tlog::note::Verifier::from_vkey(&w.key)
            .ok()
            .filter(|v| v.key_type() == tlog::note::KeyType::CosignatureV1)
            .ok_or_else(|| {
                FormatError::field(
                    &format!("{field}.key"),
                    "must be a cosignature verifier key (type 0x04)",
                )
            })?;
        if verifier.name().as_ref() != w.name {
            return Err(FormatError::field(
                &format!("{field}.key"),
                "the key's name must be the witness name",
            ));
        }
        if policy.witnesses[..i].iter().any(|v| v.name == w.name) {
            return Err(FormatError::field(&field, "witness listed twice"));
        }
    }
    Ok(())
}

/// Checks a genesis statement as far as it depends on itself alone: shape, the document,
/// the author being the first founder, and every founder's signature over the document.
pub(super) fn parse(s: &Statement) -> Result<GenesisBody, FormatError> {
    check_no_to(s)?;
    check_refs(s, 0, 0, "genesis has no refs")?;
    let b: GenesisBody = typed(&s.body)?;
    b.document.check()?;
    if b.document.origin != s.group {
        return Err(FormatError::field(
            "statement.group",
            "must be the document's origin",
        ));
    }
    if b.document.founders[0].id != s.author || s.seq != 1 {
        return Err(FormatError::field(
            "statement.author",
            "genesis is statement 1 of the first founder",
        ));
    }
    check_founder_signatures(&b)?;
    Ok(b)
}

fn check_founder_signatures(b: &GenesisBody) -> Result<(), FormatError> {
    let message = b.document.signing_message()?;
    if b.signatures.len() != b.document.founders.len() {
        return Err(FormatError::field(
            "statement.body.signatures",
            "one signature per founder",
        ));
    }
    for founder in &b.document.founders {
        let field = format!("statement.body.signatures[{}]", founder.id);
        let sig = b
            .signatures
            .iter()
            .find(|s| s.member == founder.id)
            .ok_or_else(|| FormatError::field(&field, "missing"))?;
        let bytes: [u8; 64] = STANDARD
            .decode(&sig.sig)
            .ok()
            .and_then(|v| v.try_into().ok())
            .ok_or_else(|| FormatError::field(&field, "not a base64 Ed25519 signature"))?;
        let ok = crate::signature::verify(
            founder.key.verifying_key(),
            &message,
            &Signature::from_bytes(&bytes),
        );
        if !ok {
            return Err(FormatError::field(
                &field,
                "does not verify over this document",
            ));
        }
    }
    Ok(())
}
