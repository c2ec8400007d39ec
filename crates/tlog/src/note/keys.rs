//! Key names, key IDs, Ed25519 note keys and their text encodings.
//!
//! - Key names and key IDs: C2SP signed-note v1.0.0 §Format and §Signatures.
//! - Verifier keys (`<name>+<hex key ID>+base64(type ‖ public key)`): the "vkey" encoding
//!   that C2SP signed-note and tlog-cosignature reference, as golang.org/x/mod `sumdb/note`
//!   writes it.
//! - Signer keys (`PRIVATE+KEY+<name>+<hex key ID>+base64(type ‖ seed)`): the Go ecosystem's
//!   private counterpart (golang.org/x/mod `sumdb/note`, `GenerateKey`); not part of a C2SP
//!   spec.

use core::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};

use super::{NoteError, SignatureLine};
use crate::hash::sha256;

/// Longest key name accepted, in bytes.
///
/// The signed-note spec sets no limit; 255 bytes is the limit of the `cosigner_name` and
/// `log_origin` fields of tlog-cosignature's `subtree/v1` message, so every name we accept
/// can also be used there.
pub const MAX_KEY_NAME_LEN: usize = 255;

/// Longest verifier key string accepted, in bytes (a 255-byte name, an 8-digit key ID and
/// the base64 of 33 bytes fit with room to spare).
pub const MAX_VERIFIER_KEY_LEN: usize = 512;

/// Longest signer key string accepted, in bytes.
pub const MAX_SIGNER_KEY_LEN: usize = MAX_VERIFIER_KEY_LEN + SIGNER_KEY_PREFIX.len();

const SIGNER_KEY_PREFIX: &str = "PRIVATE+KEY+";

/// Size of an Ed25519 public key or seed.
const ED25519_KEY_LEN: usize = 32;

/// Why a key name (or a checkpoint origin, which follows the same rules here) is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NameProblem {
    /// The name is empty.
    #[error("the name is empty")]
    Empty,
    /// The name is longer than the limit.
    #[error("the name is {len} bytes, more than {max}")]
    TooLong {
        /// Length of the name in bytes.
        len: usize,
        /// The limit in bytes.
        max: usize,
    },
    /// The name holds a Unicode space, a `+` or an ASCII control character.
    #[error("the name contains the forbidden character {ch:?}")]
    ForbiddenCharacter {
        /// The first forbidden character found.
        ch: char,
    },
}

/// Checks the key-name rules of C2SP signed-note §Format: non-empty, no Unicode spaces, no
/// `+`; plus, here, no ASCII control character (a note may not hold one) and at most
/// [`MAX_KEY_NAME_LEN`] bytes.
pub(crate) fn check_name(name: &str) -> Result<(), NameProblem> {
    if name.is_empty() {
        return Err(NameProblem::Empty);
    }
    if name.len() > MAX_KEY_NAME_LEN {
        return Err(NameProblem::TooLong {
            len: name.len(),
            max: MAX_KEY_NAME_LEN,
        });
    }
    // `char::is_whitespace` is Unicode's White_Space property, the same set Go's
    // `unicode.IsSpace` tests, so both refuse the same names.
    match name
        .chars()
        .find(|&c| c.is_whitespace() || c == '+' || c < ' ')
    {
        Some(ch) => Err(NameProblem::ForbiddenCharacter { ch }),
        None => Ok(()),
    }
}

/// A key name, checked: non-empty, at most [`MAX_KEY_NAME_LEN`] bytes, no Unicode space, no
/// `+`, no control character (C2SP signed-note §Format).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyName(String);

impl KeyName {
    /// Checks `name` against the key-name rules.
    pub fn new(name: impl Into<String>) -> Result<KeyName, NoteError> {
        let name = name.into();
        check_name(&name).map_err(NoteError::InvalidKeyName)?;
        Ok(KeyName(name))
    }

    /// Wraps a name that [`check_name`] accepted.
    pub(crate) fn from_checked(name: String) -> KeyName {
        KeyName(name)
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for KeyName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyName({:?})", self.0)
    }
}

impl AsRef<str> for KeyName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A 4-byte key ID, as it appears (big-endian) at the start of every note signature.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(pub [u8; 4]);

impl KeyId {
    /// The recommended key ID of C2SP signed-note §Signatures:
    /// `SHA-256(name ‖ 0x0A ‖ type ‖ public key)[:4]`.
    pub fn compute(name: &KeyName, key_type: KeyType, public_key: &[u8]) -> KeyId {
        let mut input = Vec::with_capacity(name.as_str().len() + 2 + public_key.len());
        input.extend_from_slice(name.as_str().as_bytes());
        input.push(b'\n');
        input.push(key_type.byte());
        input.extend_from_slice(public_key);
        let digest = sha256(&input);
        KeyId([digest.0[0], digest.0[1], digest.0[2], digest.0[3]])
    }

    /// The ID as a big-endian integer.
    pub fn to_u32(self) -> u32 {
        u32::from_be_bytes(self.0)
    }

    /// Eight lowercase hex digits, as verifier keys write it.
    pub fn to_hex(self) -> String {
        hex::encode(self.0)
    }

    /// Parses exactly eight lowercase hex digits; `None` for anything else (uppercase is
    /// refused so that a parsed key string always formats back to the same bytes).
    pub fn from_hex(text: &str) -> Option<KeyId> {
        if text.len() != 8 || !text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return None;
        }
        let mut out = [0u8; 4];
        hex::decode_to_slice(text, &mut out).ok()?;
        Some(KeyId(out))
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({})", self.to_hex())
    }
}

/// The signature types this crate implements (C2SP signed-note §Signature types).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyType {
    /// `0x01`: Ed25519 over the note text (C2SP signed-note §Ed25519 signatures). Logs sign
    /// checkpoints with it.
    Ed25519,
    /// `0x04`: timestamped Ed25519 cosignature (C2SP tlog-cosignature v1). Witnesses cosign
    /// checkpoints with it.
    CosignatureV1,
}

impl KeyType {
    /// The signature type byte.
    pub const fn byte(self) -> u8 {
        match self {
            KeyType::Ed25519 => 0x01,
            KeyType::CosignatureV1 => 0x04,
        }
    }

    /// The key type of a signature type byte, if this crate implements it.
    pub const fn from_byte(byte: u8) -> Option<KeyType> {
        match byte {
            0x01 => Some(KeyType::Ed25519),
            0x04 => Some(KeyType::CosignatureV1),
            _ => None,
        }
    }
}

/// Why a verifier or signer key string is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyProblem {
    /// The string is longer than the limit.
    #[error("the key string is {len} bytes, more than {max}")]
    TooLong {
        /// Length of the string in bytes.
        len: usize,
        /// The limit in bytes.
        max: usize,
    },
    /// The string does not have the `name+id+key` (or `PRIVATE+KEY+name+id+key`) shape.
    #[error("the key string is not of the form [PRIVATE+KEY+]<name>+<hex id>+<base64 key>")]
    Format,
    /// The key ID is not eight lowercase hex digits.
    #[error("the key ID is not eight lowercase hex digits")]
    KeyIdHex,
    /// The key is not canonical padded standard base64.
    #[error("the key is not valid base64")]
    Base64,
    /// The type byte is not one this call accepts.
    #[error("key type {found:#04x} is not accepted here")]
    UnexpectedType {
        /// The type byte found.
        found: u8,
    },
    /// The key material has the wrong length.
    #[error("the key is {found} bytes (type byte included), expected {expected}")]
    Length {
        /// Expected length, type byte included.
        expected: usize,
        /// Length found, type byte included.
        found: usize,
    },
    /// The public key is not a valid Ed25519 point.
    #[error("the public key is not a valid Ed25519 point")]
    InvalidPublicKey,
    /// The public key is of small order: it would verify signatures on many messages.
    #[error("the public key is a weak (small-order) Ed25519 point")]
    WeakPublicKey,
}

/// A key string taken apart, before its ID is checked against its key.
pub(crate) struct DecodedKey {
    pub(crate) name: KeyName,
    pub(crate) declared_id: KeyId,
    pub(crate) key_type: KeyType,
    pub(crate) material: [u8; ED25519_KEY_LEN],
}

fn malformed(problem: KeyProblem) -> NoteError {
    NoteError::MalformedKey(problem)
}

/// Splits a verifier key (`private == false`) or signer key string and checks its shape;
/// `accepted` lists the key types this call accepts.
pub(crate) fn decode_key_string(
    text: &str,
    private: bool,
    accepted: &[KeyType],
) -> Result<DecodedKey, NoteError> {
    let max = if private {
        MAX_SIGNER_KEY_LEN
    } else {
        MAX_VERIFIER_KEY_LEN
    };
    if text.len() > max {
        return Err(malformed(KeyProblem::TooLong {
            len: text.len(),
            max,
        }));
    }
    let rest = if private {
        text.strip_prefix(SIGNER_KEY_PREFIX)
            .ok_or(malformed(KeyProblem::Format))?
    } else {
        text
    };
    // Names hold no `+` and hex IDs none either, so the first two `+` split the string;
    // the base64 key may hold more.
    let (name, rest) = rest.split_once('+').ok_or(malformed(KeyProblem::Format))?;
    let (id, key) = rest.split_once('+').ok_or(malformed(KeyProblem::Format))?;
    let name = KeyName::new(name)?;
    let declared_id = KeyId::from_hex(id).ok_or(malformed(KeyProblem::KeyIdHex))?;
    let mut bytes = STANDARD
        .decode(key)
        .map_err(|_| malformed(KeyProblem::Base64))?;
    let result = split_key_bytes(&bytes, accepted);
    // Best-effort wipe of a private seed's copy (the crate has no zeroize dependency).
    bytes.fill(0);
    core::hint::black_box(&bytes);
    let (key_type, material) = result?;
    Ok(DecodedKey {
        name,
        declared_id,
        key_type,
        material,
    })
}

fn split_key_bytes(
    bytes: &[u8],
    accepted: &[KeyType],
) -> Result<(KeyType, [u8; ED25519_KEY_LEN]), NoteError> {
    let expected = 1 + ED25519_KEY_LEN;
    let (&type_byte, material) = bytes
        .split_first()
        .ok_or(malformed(KeyProblem::Length { expected, found: 0 }))?;
    let key_type = KeyType::from_byte(type_byte)
        .filter(|t| accepted.contains(t))
        .ok_or(malformed(KeyProblem::UnexpectedType { found: type_byte }))?;
    let material = <[u8; ED25519_KEY_LEN]>::try_from(material).map_err(|_| {
        malformed(KeyProblem::Length {
            expected,
            found: bytes.len(),
        })
    })?;
    Ok((key_type, material))
}

/// Formats a key string: `[PRIVATE+KEY+]<name>+<hex id>+base64(type ‖ material)`.
pub(crate) fn encode_key_string(
    private: bool,
    name: &KeyName,
    key_id: KeyId,
    key_type: KeyType,
    material: &[u8; ED25519_KEY_LEN],
) -> String {
    let mut bytes = [0u8; 1 + ED25519_KEY_LEN];
    bytes[0] = key_type.byte();
    bytes[1..].copy_from_slice(material);
    let encoded = STANDARD.encode(bytes);
    bytes.fill(0);
    core::hint::black_box(&bytes);
    let prefix = if private { SIGNER_KEY_PREFIX } else { "" };
    format!("{prefix}{name}+{key_id}+{encoded}")
}

/// Checks an Ed25519 public key: a valid point, not of small order.
pub(crate) fn ed25519_public_key(bytes: &[u8; ED25519_KEY_LEN]) -> Result<VerifyingKey, NoteError> {
    let key =
        VerifyingKey::from_bytes(bytes).map_err(|_| malformed(KeyProblem::InvalidPublicKey))?;
    if key.is_weak() {
        return Err(malformed(KeyProblem::WeakPublicKey));
    }
    Ok(key)
}

/// Verifies an Ed25519 signature with the strict checks (canonical `S`, no small-order `R`
/// or key), so that no second valid encoding of a signature exists.
pub(crate) fn ed25519_verify(key: &VerifyingKey, message: &[u8], signature: &[u8]) -> bool {
    let Ok(signature) = <[u8; 64]>::try_from(signature) else {
        return false;
    };
    key.verify_strict(message, &Signature::from_bytes(&signature))
        .is_ok()
}

/// Verifies Ed25519 note signatures (type `0x01`, C2SP signed-note §Ed25519 signatures) by
/// one named key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ed25519Verifier {
    name: KeyName,
    key_id: KeyId,
    key: VerifyingKey,
}

impl Ed25519Verifier {
    /// A verifier for `name` and a 32-byte Ed25519 public key; refuses invalid and weak keys.
    pub fn new(name: KeyName, public_key: &[u8; 32]) -> Result<Ed25519Verifier, NoteError> {
        let key = ed25519_public_key(public_key)?;
        let key_id = KeyId::compute(&name, KeyType::Ed25519, public_key);
        Ok(Ed25519Verifier { name, key_id, key })
    }

    /// Parses a verifier key `<name>+<hex id>+base64(0x01 ‖ key)`, checking that the ID is
    /// the key's.
    pub fn from_vkey(text: &str) -> Result<Ed25519Verifier, NoteError> {
        Ed25519Verifier::from_decoded(decode_key_string(text, false, &[KeyType::Ed25519])?)
    }

    pub(crate) fn from_decoded(decoded: DecodedKey) -> Result<Ed25519Verifier, NoteError> {
        let verifier = Ed25519Verifier::new(decoded.name, &decoded.material)?;
        check_id(decoded.declared_id, verifier.key_id)?;
        Ok(verifier)
    }

    /// The verifier key string, `<name>+<hex id>+base64(0x01 ‖ key)`.
    pub fn to_vkey(&self) -> String {
        encode_key_string(
            false,
            &self.name,
            self.key_id,
            KeyType::Ed25519,
            self.key.as_bytes(),
        )
    }

    /// The key name.
    pub fn name(&self) -> &KeyName {
        &self.name
    }

    /// The key ID.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// The 32-byte public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// Whether `signature` (without the key ID) is this key's signature of `text`.
    pub fn verify(&self, text: &[u8], signature: &[u8]) -> bool {
        ed25519_verify(&self.key, text, signature)
    }
}

pub(crate) fn check_id(declared: KeyId, computed: KeyId) -> Result<(), NoteError> {
    if declared == computed {
        Ok(())
    } else {
        Err(NoteError::KeyIdMismatch { declared, computed })
    }
}

/// Signs note texts with an Ed25519 key (type `0x01`, C2SP signed-note §Ed25519
/// signatures). Ed25519 is deterministic: the same key and text give the same signature.
///
/// The seed is wiped when the signer is dropped; `Debug` shows only the name and key ID.
#[derive(Clone)]
pub struct Signer {
    name: KeyName,
    key_id: KeyId,
    key: SigningKey,
}

impl Signer {
    /// A signer for `name` from a 32-byte Ed25519 seed (RFC 8032 private key).
    pub fn from_seed(name: KeyName, seed: &[u8; 32]) -> Signer {
        let key = SigningKey::from_bytes(seed);
        let key_id = KeyId::compute(&name, KeyType::Ed25519, key.verifying_key().as_bytes());
        Signer { name, key_id, key }
    }

    /// Parses a signer key `PRIVATE+KEY+<name>+<hex id>+base64(0x01 ‖ seed)`, checking that
    /// the ID is that of the derived public key.
    pub fn from_skey(text: &str) -> Result<Signer, NoteError> {
        let mut decoded = decode_key_string(text, true, &[KeyType::Ed25519])?;
        let signer = Signer::from_seed(decoded.name.clone(), &decoded.material);
        decoded.material.fill(0);
        core::hint::black_box(&decoded.material);
        check_id(decoded.declared_id, signer.key_id)?;
        Ok(signer)
    }

    /// The signer key string. It holds the private seed: keep it secret.
    pub fn to_skey(&self) -> String {
        encode_key_string(
            true,
            &self.name,
            self.key_id,
            KeyType::Ed25519,
            self.key.as_bytes(),
        )
    }

    /// The key name.
    pub fn name(&self) -> &KeyName {
        &self.name
    }

    /// The key ID.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// The 32-byte Ed25519 seed (RFC 8032 private key). Secret: for storing the key
    /// elsewhere, such as a member's key file.
    pub fn seed(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// The verifier for this signer's public key.
    pub fn verifier(&self) -> Ed25519Verifier {
        Ed25519Verifier {
            name: self.name.clone(),
            key_id: self.key_id,
            key: self.key.verifying_key(),
        }
    }

    /// Signs a note text (which the caller has checked) and returns its signature line.
    pub(crate) fn sign_text(&self, text: &str) -> SignatureLine {
        let signature = self.key.sign(text.as_bytes()).to_bytes();
        SignatureLine::from_parts(self.name.clone(), self.key_id, signature.to_vec())
    }
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("name", &self.name)
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}
