//! Verifier keys of both kinds, the set a reader trusts, and the per-line verification
//! report (C2SP signed-note §Signatures).

use super::{Ed25519Verifier, KeyId, KeyName, KeyType, Note, NoteError, decode_key_string};
use crate::cosignature::CosignatureVerifier;

/// A key that can verify note signatures.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Verifier {
    /// An Ed25519 note key (type `0x01`), e.g. a log's key.
    Ed25519(Ed25519Verifier),
    /// A timestamped Ed25519 cosigner key (type `0x04`), e.g. a witness's key.
    Cosignature(CosignatureVerifier),
}

impl Verifier {
    /// Parses a verifier key of type `0x01` or `0x04`, checking that its ID is the key's.
    pub fn from_vkey(text: &str) -> Result<Verifier, NoteError> {
        let decoded = decode_key_string(text, false, &[KeyType::Ed25519, KeyType::CosignatureV1])?;
        match decoded.key_type {
            KeyType::Ed25519 => Ed25519Verifier::from_decoded(decoded).map(Verifier::Ed25519),
            KeyType::CosignatureV1 => {
                CosignatureVerifier::from_decoded(decoded).map(Verifier::Cosignature)
            }
        }
    }

    /// The verifier key string.
    pub fn to_vkey(&self) -> String {
        match self {
            Verifier::Ed25519(v) => v.to_vkey(),
            Verifier::Cosignature(v) => v.to_vkey(),
        }
    }

    /// The key name.
    pub fn name(&self) -> &KeyName {
        match self {
            Verifier::Ed25519(v) => v.name(),
            Verifier::Cosignature(v) => v.name(),
        }
    }

    /// The key ID.
    pub fn key_id(&self) -> KeyId {
        match self {
            Verifier::Ed25519(v) => v.key_id(),
            Verifier::Cosignature(v) => v.key_id(),
        }
    }

    /// The signature type.
    pub fn key_type(&self) -> KeyType {
        match self {
            Verifier::Ed25519(_) => KeyType::Ed25519,
            Verifier::Cosignature(_) => KeyType::CosignatureV1,
        }
    }

    /// Checks `signature` (key ID excluded) over the note `text`: `None` if it fails,
    /// otherwise the cosignature timestamp for a cosigner key and `Some(None)` for a note key.
    pub(super) fn verify_signature(&self, text: &[u8], signature: &[u8]) -> Option<Option<u64>> {
        match self {
            Verifier::Ed25519(v) => v.verify(text, signature).then_some(None),
            Verifier::Cosignature(v) => v.verify_note_signature(text, signature).map(Some),
        }
    }
}

impl From<Ed25519Verifier> for Verifier {
    fn from(v: Ed25519Verifier) -> Verifier {
        Verifier::Ed25519(v)
    }
}

impl From<CosignatureVerifier> for Verifier {
    fn from(v: CosignatureVerifier) -> Verifier {
        Verifier::Cosignature(v)
    }
}

/// The keys a reader trusts, looked up by (name, key ID) as the spec requires.
///
/// A set is small (a log key or two and the witnesses), so lookups are a linear scan
/// comparing the 4-byte ID first.
#[derive(Clone, Debug, Default)]
pub struct VerifierSet {
    verifiers: Vec<Verifier>,
}

impl VerifierSet {
    /// An empty set.
    pub fn new() -> VerifierSet {
        VerifierSet::default()
    }

    /// A set of `verifiers`; refuses two with the same (name, key ID).
    pub fn from_verifiers(
        verifiers: impl IntoIterator<Item = Verifier>,
    ) -> Result<VerifierSet, NoteError> {
        let mut set = VerifierSet::new();
        for v in verifiers {
            set.insert(v)?;
        }
        Ok(set)
    }

    /// Adds a verifier; refuses one whose (name, key ID) is already in the set, since a
    /// signature line could not tell them apart.
    pub fn insert(&mut self, verifier: impl Into<Verifier>) -> Result<(), NoteError> {
        let verifier = verifier.into();
        if self.find(verifier.name(), verifier.key_id()).is_some() {
            return Err(NoteError::DuplicateVerifier {
                name: verifier.name().clone(),
                key_id: verifier.key_id(),
            });
        }
        self.verifiers.push(verifier);
        Ok(())
    }

    /// The verifier for (name, key ID), if known.
    pub fn get(&self, name: &KeyName, key_id: KeyId) -> Option<&Verifier> {
        self.find(name, key_id).map(|(_, v)| v)
    }

    pub(super) fn find(&self, name: &KeyName, key_id: KeyId) -> Option<(usize, &Verifier)> {
        self.verifiers
            .iter()
            .enumerate()
            .find(|(_, v)| v.key_id() == key_id && v.name() == name)
    }

    /// The verifiers, in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = &Verifier> {
        self.verifiers.iter()
    }

    /// How many verifiers the set holds.
    pub fn len(&self) -> usize {
        self.verifiers.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.verifiers.is_empty()
    }
}

/// A signature line that verified against a known key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedSignature {
    /// Index of the line among the note's signature lines.
    pub index: usize,
    /// Name of the key.
    pub name: KeyName,
    /// ID of the key.
    pub key_id: KeyId,
    /// Type of the key: [`KeyType::Ed25519`] for a log signature,
    /// [`KeyType::CosignatureV1`] for a witness cosignature.
    pub key_type: KeyType,
    /// For a cosignature, the time it claims (POSIX seconds); `None` for a note signature.
    pub timestamp: Option<u64>,
}

/// The outcome of [`Note::verify`] for each signature line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Verification {
    /// Lines that verified, at most one per known key (the first valid line of that key).
    pub verified: Vec<VerifiedSignature>,
    /// Indices of lines from keys not in the set (ignored, as the spec requires).
    pub unknown: Vec<usize>,
    /// Indices of lines from known keys that did not verify.
    pub invalid: Vec<usize>,
}

impl Verification {
    /// Applies the acceptance rule of C2SP signed-note §Signatures to this report on `note`.
    pub fn check(&self, note: &Note) -> Result<(), NoteError> {
        if let Some(line) = self.invalid.first().and_then(|&i| note.signatures().get(i)) {
            return Err(NoteError::BadSignature {
                name: line.name().clone(),
                key_id: line.key_id(),
            });
        }
        if self.verified.is_empty() {
            return Err(NoteError::NoVerifiedSignature {
                unknown: self.unknown.len(),
            });
        }
        Ok(())
    }
}

/// A note that passed [`Note::open`], with the signatures that verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Opened {
    pub(super) note: Note,
    pub(super) verified: Vec<VerifiedSignature>,
}

impl Opened {
    /// The verified note text.
    pub fn text(&self) -> &str {
        self.note.text()
    }

    /// The whole note, unknown signatures included.
    pub fn note(&self) -> &Note {
        &self.note
    }

    /// The signatures that verified, at most one per known key.
    pub fn verified(&self) -> &[VerifiedSignature] {
        &self.verified
    }

    /// The note and the verified signatures.
    pub fn into_parts(self) -> (Note, Vec<VerifiedSignature>) {
        (self.note, self.verified)
    }
}
