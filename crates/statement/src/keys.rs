//! Members' public keys as people paste them.
//!
//! - [`MemberKey`]: an Ed25519 verification key written as a C2SP signed-note verifier key
//!   whose key name is the member id, `member-id+<8 hex key ID>+<base64(0x01 ‖ key)>`, so a
//!   member can read it out over the phone and anyone can check the key ID.
//! - [`SealKey`]: an age X25519 recipient (`age1…`), to which sealed statements are
//!   encrypted.

use core::fmt;
use core::str::FromStr;

use ed25519_dalek::VerifyingKey;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use tlog::note::{Ed25519Verifier, KeyId, KeyName, KeyType, NoteError};

use crate::ids::MemberId;

/// Why a key string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// Not of the form `member-id+hexid+base64`, or not an Ed25519 key.
    #[error(
        "member key {0:?} is not of the form member-id+<8 hex digits>+<base64 of 0x01 and a 32-byte Ed25519 key>"
    )]
    MemberKeySyntax(String),
    /// The key ID does not match the name and key.
    #[error("member key for {member}: key ID {got} does not match the key (expected {expected})")]
    KeyIdMismatch {
        /// The member the key is for.
        member: String,
        /// The key ID written.
        got: String,
        /// The key ID computed.
        expected: String,
    },
    /// Not an age X25519 recipient.
    #[error("seal key {0:?} is not an age X25519 recipient (age1…)")]
    SealKey(String),
}

/// A member's Ed25519 verification key, bound to its member id.
#[derive(Clone, PartialEq, Eq)]
pub struct MemberKey {
    member: MemberId,
    key: VerifyingKey,
}

impl MemberKey {
    /// Binds `key` to `member`.
    pub fn new(member: MemberId, key: VerifyingKey) -> MemberKey {
        MemberKey { member, key }
    }

    /// Parses `member-id+hexid+base64(0x01 ‖ key)` (C2SP signed-note verifier key syntax).
    pub fn parse(text: &str) -> Result<MemberKey, KeyError> {
        let syntax = || KeyError::MemberKeySyntax(short(text));
        let verifier = Ed25519Verifier::from_vkey(text).map_err(|e| match e {
            NoteError::KeyIdMismatch { declared, computed } => KeyError::KeyIdMismatch {
                member: short(text.split('+').next().unwrap_or_default()),
                got: declared.to_string(),
                expected: computed.to_string(),
            },
            _ => syntax(),
        })?;
        let member = MemberId::new(verifier.name().as_ref()).map_err(|_| syntax())?;
        let key = VerifyingKey::from_bytes(&verifier.public_key()).map_err(|_| syntax())?;
        Ok(MemberKey { member, key })
    }

    /// The member this key belongs to.
    pub fn member(&self) -> &MemberId {
        &self.member
    }

    /// The Ed25519 key.
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.key
    }

    /// The 4-byte key ID as 8 hex digits: SHA-256(member ‖ 0x0A ‖ 0x01 ‖ key)[:4]
    /// (C2SP signed-note), a short fingerprint people can compare.
    pub fn key_id(&self) -> String {
        let name = KeyName::new(self.member.as_str());
        name.map(|n| KeyId::compute(&n, KeyType::Ed25519, self.key.as_bytes()).to_string())
            .unwrap_or_default()
    }

    /// The verifier key string; `None` only if the key were invalid, which
    /// [`MemberKey::parse`] and the signing-key constructors rule out.
    fn vkey(&self) -> Option<String> {
        let name = KeyName::new(self.member.as_str()).ok()?;
        Ed25519Verifier::new(name, self.key.as_bytes())
            .ok()
            .map(|v| v.to_vkey())
    }
}

impl fmt::Display for MemberKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.vkey().unwrap_or_default())
    }
}

impl fmt::Debug for MemberKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MemberKey({self})")
    }
}

/// An age X25519 recipient: where sealed statements to a member are encrypted.
#[derive(Clone)]
pub struct SealKey(age::x25519::Recipient);

impl SealKey {
    /// Parses `age1…` (Bech32, age-encryption.org/v1 X25519 recipient).
    pub fn parse(text: &str) -> Result<SealKey, KeyError> {
        age::x25519::Recipient::from_str(text)
            .map(SealKey)
            .map_err(|_| KeyError::SealKey(short(text)))
    }

    /// The age recipient.
    pub fn recipient(&self) -> &age::x25519::Recipient {
        &self.0
    }
}

impl From<age::x25519::Recipient> for SealKey {
    fn from(r: age::x25519::Recipient) -> SealKey {
        SealKey(r)
    }
}

impl PartialEq for SealKey {
    fn eq(&self, other: &SealKey) -> bool {
        self.0.to_string() == other.0.to_string()
    }
}

impl Eq for SealKey {}

impl fmt::Display for SealKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Debug for SealKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SealKey({})", self.0)
    }
}

fn short(text: &str) -> String {
    text.chars().take(120).collect()
}

macro_rules! serde_via_display {
    ($t:ty) => {
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                <$t>::parse(&text).map_err(serde::de::Error::custom)
            }
        }
    };
}

serde_via_display!(MemberKey);
serde_via_display!(SealKey);
