//! The signed envelope (DESIGN.md, "The statement").
//!
//! ```text
//! signed    = { "statement": <statement>, "sig": "<base64 Ed25519 over JCS(statement)>" }
//! statement id = hex SHA-256 of JCS(statement)
//! log leaf     = JCS(signed)
//! ```
//!
//! A leaf is accepted only in its canonical form (RFC 8785), so one statement has exactly
//! one leaf encoding, and it must fit in one tlog-tiles entry (65,535 bytes). The envelope
//! is checked here for shape only; who may say what is the fold's business
//! ([`crate::group`]).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::ids::{Digest, MemberId, StatementId, Timestamp};
use crate::jcs;
use crate::kind::Kind;

/// The only statement format version (`"v": 1`).
pub const FORMAT_VERSION: u64 = 1;

/// Largest leaf, i.e. JCS(signed), in bytes: one tlog-tiles entry (C2SP tlog-tiles, entry
/// bundles carry a 16-bit length).
pub const MAX_LEAF_SIZE: usize = 65_535;

/// Largest `seq` (2^53 − 1): integers above it do not survive JCS, which writes numbers as
/// IEEE 754 doubles (RFC 8785 §3.2.2.3).
pub const MAX_SEQ: u64 = (1 << 53) - 1;

/// Most entries in `refs`.
pub const MAX_REFS: usize = 64;

/// Most entries in `to`.
pub const MAX_TO: usize = 256;

/// Longest `group` (the log's origin line).
pub const MAX_GROUP_LEN: usize = 255;

/// Why a leaf or a statement is malformed (before any group rule is looked at).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FormatError {
    /// The leaf is larger than [`MAX_LEAF_SIZE`].
    #[error(
        "statement is {size} bytes canonicalised; the limit is {max} (put large material in a blob)"
    )]
    TooLarge {
        /// Size of JCS(signed).
        size: usize,
        /// The limit.
        max: usize,
    },
    /// The bytes are not valid I-JSON.
    #[error("not valid JSON: {0}")]
    Json(#[from] jcs::JcsError),
    /// Valid JSON, but not in its RFC 8785 canonical form.
    #[error("the leaf is not in RFC 8785 canonical form")]
    NotCanonical,
    /// A field is missing, unknown, of the wrong type or out of range.
    #[error("field `{field}`: {reason}")]
    Field {
        /// Dotted path of the field, e.g. `statement.seq`.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
}

impl FormatError {
    pub(crate) fn field(field: &str, reason: impl Into<String>) -> FormatError {
        FormatError::Field {
            field: field.to_owned(),
            reason: reason.into(),
        }
    }
}

/// A statement: what an author says, before or after signing. Field meanings are those of
/// DESIGN.md; `body` is kept as JSON and read through [`crate::kind::Body`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Statement {
    /// Format version, always [`FORMAT_VERSION`].
    pub v: u64,
    /// The group's log origin.
    pub group: String,
    /// Who says it.
    pub author: MemberId,
    /// 1, 2, 3 … per author, without gaps.
    pub seq: u64,
    /// Id of the author's previous statement; `null` exactly when `seq` is 1.
    pub prev: Option<StatementId>,
    /// The author's clock when signing (a claim, not trusted for deadlines).
    pub time: Timestamp,
    /// What kind of statement this is.
    pub kind: Kind,
    /// Statements this one answers, amends or acknowledges.
    pub refs: Vec<StatementId>,
    /// Addressees; absent for the whole group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Vec<MemberId>>,
    /// The clear part, everything the group's rules need.
    pub body: Map<String, Value>,
    /// Confidential content: base64 of an age file for `to` and the author.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed: Option<String>,
}

/// The wire form of the envelope.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    statement: Statement,
    sig: String,
}

/// A signed statement, as it is in the log: parsed, shape-checked, with its id and its
/// canonical leaf bytes. Whether the signature is the author's is checked against the
/// group's keys by [`Signed::verify`] (the fold does it).
#[derive(Debug, Clone, PartialEq)]
pub struct Signed {
    statement: Statement,
    sig: Signature,
    id: StatementId,
    leaf: Vec<u8>,
}

impl Signed {
    /// Signs `statement` with `key`. Fails when the statement is malformed or its leaf
    /// would exceed [`MAX_LEAF_SIZE`].
    pub fn sign(statement: Statement, key: &SigningKey) -> Result<Signed, FormatError> {
        check_shape(&statement)?;
        let message = jcs::to_canonical(&statement)?;
        let sig = key.sign(&message);
        let wire = Wire {
            statement,
            sig: STANDARD.encode(sig.to_bytes()),
        };
        let leaf = jcs::to_canonical(&wire)?;
        check_size(leaf.len())?;
        Ok(Signed {
            statement: wire.statement,
            sig,
            id: Digest::of(&message),
            leaf,
        })
    }

    /// Parses a log leaf: strict I-JSON, canonical, within size, every field well-formed.
    /// The signature is parsed but not yet checked against a key.
    pub fn from_leaf(leaf: &[u8]) -> Result<Signed, FormatError> {
        check_size(leaf.len())?;
        let value = jcs::parse(leaf, MAX_LEAF_SIZE)?;
        if jcs::canonical(&value) != leaf {
            return Err(FormatError::NotCanonical);
        }
        Signed::from_canonical(value, leaf.to_vec())
    }

    /// Reads a signed statement from JSON already parsed by the strict parser
    /// ([`jcs::parse`]), as a host does with each item of a submitted batch: the value is
    /// canonicalised into its leaf and read as [`Signed::from_leaf`] would, without
    /// parsing it a second time.
    pub fn from_value(value: serde_json::Value) -> Result<Signed, FormatError> {
        let leaf = jcs::canonical(&value);
        check_size(leaf.len())?;
        Signed::from_canonical(value, leaf)
    }

    /// Parses a signed statement given as any JSON (for instance pasted or inside an
    /// `evidence` body): it is canonicalised first, then read as [`Signed::from_leaf`].
    pub fn from_json(bytes: &[u8]) -> Result<Signed, FormatError> {
        Signed::from_value(jcs::parse(bytes, 4 * MAX_LEAF_SIZE)?)
    }

    /// The fields of `value`, whose canonical form is `leaf`.
    fn from_canonical(value: serde_json::Value, leaf: Vec<u8>) -> Result<Signed, FormatError> {
        let wire: Wire = serde_json::from_value(value).map_err(|e| serde_field("", &e))?;
        check_shape(&wire.statement)?;
        let sig = decode_signature(&wire.sig)?;
        // In canonical form the members are ordered "sig", "statement", so the leaf is
        // `{"sig":"<base64>","statement":` JCS(statement) `}`: hash that slice directly.
        let start = r#"{"sig":""#.len() + wire.sig.len() + r#"","statement":"#.len();
        let message = leaf
            .get(start..leaf.len().saturating_sub(1))
            .ok_or(FormatError::NotCanonical)?;
        Ok(Signed {
            id: Digest::of(message),
            statement: wire.statement,
            sig,
            leaf,
        })
    }

    /// Checks the signature over JCS(statement) with `key`, under the statements'
    /// signature rule ([`crate::signature`]: Ed25519, RFC 8032, cofactored, with canonical
    /// encodings and no small-order key or `R`).
    pub fn verify(&self, key: &VerifyingKey) -> bool {
        crate::signature::verify(key, self.signed_message(), &self.sig)
    }

    /// This statement's signature as a claim for [`crate::signature::verify_each`], which
    /// checks many at once.
    pub fn claim<'a>(&'a self, key: &'a VerifyingKey) -> crate::signature::Claim<'a> {
        crate::signature::Claim {
            key,
            message: self.signed_message(),
            signature: &self.sig,
        }
    }

    /// The bytes the signature covers: JCS(statement).
    pub fn signed_message(&self) -> &[u8] {
        let start = r#"{"sig":""#.len() + 88 + r#"","statement":"#.len();
        // The leaf was built by `sign` or checked by `from_leaf`, and a base64 Ed25519
        // signature is always 88 characters, so this range is inside the leaf.
        &self.leaf[start..self.leaf.len() - 1]
    }

    /// The statement.
    pub fn statement(&self) -> &Statement {
        &self.statement
    }

    /// The statement id: hex SHA-256 of JCS(statement).
    pub fn id(&self) -> StatementId {
        self.id
    }

    /// The log leaf: JCS(signed).
    pub fn leaf(&self) -> &[u8] {
        &self.leaf
    }

    /// The signature.
    pub fn signature(&self) -> &Signature {
        &self.sig
    }

    /// The signed envelope as a JSON value.
    pub fn to_value(&self) -> Value {
        // The leaf is canonical JSON that this crate produced or parsed.
        serde_json::from_slice(&self.leaf).unwrap_or(Value::Null)
    }
}

fn check_size(size: usize) -> Result<(), FormatError> {
    if size > MAX_LEAF_SIZE {
        return Err(FormatError::TooLarge {
            size,
            max: MAX_LEAF_SIZE,
        });
    }
    Ok(())
}

fn decode_signature(text: &str) -> Result<Signature, FormatError> {
    let bad = || {
        FormatError::field(
            "sig",
            "must be the standard base64 of a 64-byte Ed25519 signature",
        )
    };
    if text.len() != 88 {
        return Err(bad());
    }
    let bytes = STANDARD.decode(text).map_err(|_| bad())?;
    let bytes: [u8; 64] = bytes.try_into().map_err(|_| bad())?;
    Ok(Signature::from_bytes(&bytes))
}

/// Checks the envelope fields that do not depend on the kind or on the group.
fn check_shape(s: &Statement) -> Result<(), FormatError> {
    if s.v != FORMAT_VERSION {
        return Err(FormatError::field(
            "statement.v",
            format!("must be {FORMAT_VERSION}"),
        ));
    }
    if s.group.is_empty() || s.group.len() > MAX_GROUP_LEN || s.group.contains(char::is_whitespace)
    {
        return Err(FormatError::field(
            "statement.group",
            "must be the log origin: 1 to 255 characters, no spaces",
        ));
    }
    if s.seq == 0 || s.seq > MAX_SEQ {
        return Err(FormatError::field(
            "statement.seq",
            "must be between 1 and 2^53-1",
        ));
    }
    if (s.seq == 1) != s.prev.is_none() {
        return Err(FormatError::field(
            "statement.prev",
            "must be null exactly when seq is 1",
        ));
    }
    if s.refs.len() > MAX_REFS {
        return Err(FormatError::field(
            "statement.refs",
            format!("at most {MAX_REFS} entries"),
        ));
    }
    check_to(s)?;
    if let Some(sealed) = &s.sealed {
        if s.to.is_none() {
            return Err(FormatError::field(
                "statement.sealed",
                "needs `to`: the addressees it is sealed for",
            ));
        }
        if sealed.is_empty() || STANDARD.decode(sealed).is_err() {
            return Err(FormatError::field(
                "statement.sealed",
                "must be standard base64 of an age file",
            ));
        }
    }
    Ok(())
}

fn check_to(s: &Statement) -> Result<(), FormatError> {
    let Some(to) = &s.to else { return Ok(()) };
    if to.is_empty() || to.len() > MAX_TO {
        return Err(FormatError::field(
            "statement.to",
            format!("1 to {MAX_TO} member ids, or absent for the whole group"),
        ));
    }
    let mut seen: Vec<&MemberId> = to.iter().collect();
    seen.sort();
    if seen.windows(2).any(|w| w[0] == w[1]) {
        return Err(FormatError::field("statement.to", "lists a member twice"));
    }
    Ok(())
}

/// Turns a serde error into a field error, keeping serde's description (which names the
/// unknown or missing field) under the given path prefix.
pub(crate) fn serde_field(prefix: &str, e: &serde_json::Error) -> FormatError {
    let field = if prefix.is_empty() {
        "statement"
    } else {
        prefix
    };
    FormatError::field(field, e.to_string())
}
