//! Witness cosignatures, as C2SP `tlog-cosignature` v1.0.1
//! (<https://c2sp.org/tlog-cosignature@v1.0.1>) defines the Ed25519 flavour (signature type
//! `0x04`), and the body formats of C2SP `tlog-witness` v1.0.0 `add-checkpoint`
//! (<https://c2sp.org/tlog-witness@v1.0.0>).
//!
//! A cosignature is a note signature line on a checkpoint whose 76 bytes are
//! `key ID (4) ‖ timestamp (u64, big-endian) ‖ Ed25519 signature (64)`; the signature covers
//!
//! ```text
//! cosignature/v1
//! time 1679315147
//! example.com/behind-the-sofa
//! 20852163
//! CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=
//! ```
//!
//! and states that, as of that time, this is the largest tree consistent with everything the
//! cosigner has seen for that origin.
//!
//! What it does: cosigner keys and their vkey/skey strings ([`Cosigner`],
//! [`CosignatureVerifier`]); cosigning a checkpoint at a given time; verifying one
//! cosignature line and returning its timestamp; decoding a cosignature ([`Cosignature`]);
//! the witness `add-checkpoint` request and response bodies ([`AddCheckpointRequest`],
//! [`parse_add_checkpoint_response`]). To verify a checkpoint's log signature and its
//! cosignatures in one call, put the [`CosignatureVerifier`]s in the same
//! [`crate::note::VerifierSet`] as the log key and use [`crate::checkpoint::Checkpoint::open`].
//!
//! What it does not: the ML-DSA-44 flavour (type `0x06`, `subtree/v1`); deciding whether a
//! timestamp is too far in the future or a quorum is met (callers pass the time and the
//! policy); the witness's state, consistency checks or HTTP handling.

mod witness;

use core::fmt;

use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};

use crate::checkpoint::{Checkpoint, CheckpointError, DecimalProblem};
use crate::note::{
    self, DecodedKey, KeyId, KeyName, KeyType, NoteError, SignatureLine, check_id,
    decode_key_string, ed25519_public_key, ed25519_verify, encode_key_string,
};

pub use witness::{
    AddCheckpointRequest, MAX_ADD_CHECKPOINT_REQUEST_SIZE, MAX_PROOF_LINES,
    format_add_checkpoint_response, format_conflict_body, parse_add_checkpoint_response,
    parse_conflict_body,
};

/// Size of an Ed25519 cosignature in bytes: key ID (4), timestamp (8), signature (64).
pub const COSIGNATURE_SIZE: usize = 4 + 8 + 64;

/// Largest timestamp a cosignature may carry: 2^63 − 1 (tlog-cosignature §Format).
pub const MAX_TIMESTAMP: u64 = i64::MAX as u64;

/// The header line of the signed message (tlog-cosignature §Ed25519 signed message).
const HEADER: &[u8] = b"cosignature/v1\n";

/// Errors of cosigning, cosignature verification and the witness body formats.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CosignatureError {
    /// A signature line, note or key string is malformed, or a note did not verify.
    #[error("{0}")]
    Note(#[from] NoteError),
    /// The checkpoint in a request is malformed.
    #[error("{0}")]
    Checkpoint(#[from] CheckpointError),
    /// Malformed: a cosignature is not 76 bytes (key ID included).
    #[error("a cosignature is {found} bytes, expected {COSIGNATURE_SIZE}")]
    WrongLength {
        /// Length found, key ID included.
        found: usize,
    },
    /// Malformed: a cosignature's timestamp is above 2^63 − 1.
    #[error("cosignature timestamp {timestamp} is above 2^63 - 1")]
    TimestampTooLarge {
        /// The timestamp.
        timestamp: u64,
    },
    /// Misuse: asked to cosign at a time above 2^63 − 1.
    #[error("cannot cosign at time {timestamp}, above 2^63 - 1")]
    InvalidTimestamp {
        /// The timestamp.
        timestamp: u64,
    },
    /// Misuse: a line given to [`CosignatureVerifier::verify`] is by another key.
    #[error("the line is by {found_name}+{found_id}, not by this cosigner {name}+{key_id}")]
    KeyMismatch {
        /// This cosigner's name.
        name: KeyName,
        /// This cosigner's key ID.
        key_id: KeyId,
        /// The line's key name.
        found_name: KeyName,
        /// The line's key ID.
        found_id: KeyId,
    },
    /// Invalid: the cosignature does not verify.
    #[error("the cosignature by {name}+{key_id} does not verify")]
    BadSignature {
        /// The cosigner's name.
        name: KeyName,
        /// The cosigner's key ID.
        key_id: KeyId,
    },
    /// Malformed: a request body is larger than [`MAX_ADD_CHECKPOINT_REQUEST_SIZE`].
    #[error("the request body is {size} bytes, more than {max}")]
    RequestTooLarge {
        /// Size in bytes.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// Malformed: the request does not start with an `old <size>` line.
    #[error("the request does not start with an \"old <size>\" line")]
    InvalidOldLine,
    /// Malformed: the old size is not a decimal without leading zeros.
    #[error("invalid old size: {0}")]
    InvalidOldSize(DecimalProblem),
    /// Malformed: a consistency proof line is not padded base64 of a 32-byte hash.
    #[error("consistency proof line {index} is not base64 of a 32-byte hash")]
    InvalidProofLine {
        /// Index among the proof lines, from 0.
        index: usize,
    },
    /// Malformed, or misuse when building a request: more than [`MAX_PROOF_LINES`] proof
    /// lines.
    #[error("more than {max} consistency proof lines")]
    TooManyProofLines {
        /// The limit.
        max: usize,
    },
    /// Malformed: no empty line ends the proof lines.
    #[error("no empty line between the proof and the checkpoint")]
    MissingBlankLine,
    /// Malformed (or misuse when formatting): a response with no cosignature line.
    #[error("the response has no signature line")]
    EmptyResponse,
}

impl CosignatureError {
    /// Whether this is malformed input, invalid input or caller misuse.
    pub fn class(&self) -> note::ErrorClass {
        match self {
            CosignatureError::Note(e) => e.class(),
            CosignatureError::Checkpoint(e) => e.class(),
            CosignatureError::BadSignature { .. } => note::ErrorClass::Invalid,
            CosignatureError::InvalidTimestamp { .. } | CosignatureError::KeyMismatch { .. } => {
                note::ErrorClass::Misuse
            }
            _ => note::ErrorClass::Malformed,
        }
    }
}

/// The message an Ed25519 cosignature signs (tlog-cosignature §Ed25519 signed message):
/// `cosignature/v1\n`, `time <timestamp>\n`, then the checkpoint's note text.
pub fn signed_message(
    checkpoint: &Checkpoint,
    timestamp: u64,
) -> Result<Vec<u8>, CosignatureError> {
    if timestamp > MAX_TIMESTAMP {
        return Err(CosignatureError::InvalidTimestamp { timestamp });
    }
    Ok(message(checkpoint.to_text().as_bytes(), timestamp))
}

fn message(text: &[u8], timestamp: u64) -> Vec<u8> {
    let time = timestamp.to_string();
    let mut out = Vec::with_capacity(HEADER.len() + 6 + time.len() + text.len());
    out.extend_from_slice(HEADER);
    out.extend_from_slice(b"time ");
    out.extend_from_slice(time.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(text);
    out
}

/// A decoded Ed25519 cosignature (tlog-cosignature §Format, `timestamped_signature`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cosignature {
    key_id: KeyId,
    timestamp: u64,
    signature: [u8; 64],
}

impl Cosignature {
    /// Decodes the 76 bytes of a cosignature: key ID, big-endian timestamp, signature.
    /// Refuses other lengths and timestamps above 2^63 − 1. Nothing is verified.
    pub fn decode(bytes: &[u8]) -> Result<Cosignature, CosignatureError> {
        let bytes = <&[u8; COSIGNATURE_SIZE]>::try_from(bytes)
            .map_err(|_| CosignatureError::WrongLength { found: bytes.len() })?;
        let (id, rest) = bytes.split_at(4);
        let (time, sig) = rest.split_at(8);
        let mut key_id = [0u8; 4];
        key_id.copy_from_slice(id);
        let mut timestamp = [0u8; 8];
        timestamp.copy_from_slice(time);
        let timestamp = u64::from_be_bytes(timestamp);
        if timestamp > MAX_TIMESTAMP {
            return Err(CosignatureError::TimestampTooLarge { timestamp });
        }
        let mut signature = [0u8; 64];
        signature.copy_from_slice(sig);
        Ok(Cosignature {
            key_id: KeyId(key_id),
            timestamp,
            signature,
        })
    }

    /// Decodes the cosignature carried by a note signature line. Nothing is verified.
    pub fn from_line(line: &SignatureLine) -> Result<Cosignature, CosignatureError> {
        let mut bytes = Vec::with_capacity(4 + line.signature().len());
        bytes.extend_from_slice(&line.key_id().0);
        bytes.extend_from_slice(line.signature());
        Cosignature::decode(&bytes)
    }

    /// The 76 bytes of the cosignature.
    pub fn to_bytes(&self) -> [u8; COSIGNATURE_SIZE] {
        let mut out = [0u8; COSIGNATURE_SIZE];
        out[..4].copy_from_slice(&self.key_id.0);
        out[4..12].copy_from_slice(&self.timestamp.to_be_bytes());
        out[12..].copy_from_slice(&self.signature);
        out
    }

    /// The cosigner's key ID.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// The time of the cosignature, POSIX seconds.
    pub fn timestamp(&self) -> u64 {
        self.timestamp
    }

    /// The Ed25519 signature.
    pub fn signature(&self) -> &[u8; 64] {
        &self.signature
    }
}

/// Verifies the cosignatures of one cosigner: an Ed25519 key of type `0x04`, whose key ID
/// is `SHA-256(name ‖ 0x0A ‖ 0x04 ‖ key)[:4]` (tlog-cosignature §Format).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CosignatureVerifier {
    name: KeyName,
    key_id: KeyId,
    key: VerifyingKey,
}

impl CosignatureVerifier {
    /// A verifier for cosigner `name` and its 32-byte Ed25519 public key; refuses invalid
    /// and weak keys.
    pub fn new(name: KeyName, public_key: &[u8; 32]) -> Result<CosignatureVerifier, NoteError> {
        let key = ed25519_public_key(public_key)?;
        let key_id = KeyId::compute(&name, KeyType::CosignatureV1, public_key);
        Ok(CosignatureVerifier { name, key_id, key })
    }

    /// Parses a cosigner verifier key `<name>+<hex id>+base64(0x04 ‖ key)`, checking that
    /// the ID is the key's.
    pub fn from_vkey(text: &str) -> Result<CosignatureVerifier, NoteError> {
        CosignatureVerifier::from_decoded(decode_key_string(
            text,
            false,
            &[KeyType::CosignatureV1],
        )?)
    }

    pub(crate) fn from_decoded(decoded: DecodedKey) -> Result<CosignatureVerifier, NoteError> {
        let verifier = CosignatureVerifier::new(decoded.name, &decoded.material)?;
        check_id(decoded.declared_id, verifier.key_id)?;
        Ok(verifier)
    }

    /// The verifier key string, `<name>+<hex id>+base64(0x04 ‖ key)`.
    pub fn to_vkey(&self) -> String {
        encode_key_string(
            false,
            &self.name,
            self.key_id,
            KeyType::CosignatureV1,
            self.key.as_bytes(),
        )
    }

    /// The cosigner's name.
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

    /// Verifies this cosigner's signature line on `checkpoint` and returns its timestamp.
    pub fn verify(
        &self,
        checkpoint: &Checkpoint,
        line: &SignatureLine,
    ) -> Result<u64, CosignatureError> {
        if *line.name() != self.name || line.key_id() != self.key_id {
            return Err(CosignatureError::KeyMismatch {
                name: self.name.clone(),
                key_id: self.key_id,
                found_name: line.name().clone(),
                found_id: line.key_id(),
            });
        }
        let cosignature = Cosignature::from_line(line)?;
        let text = checkpoint.to_text();
        if ed25519_verify(
            &self.key,
            &message(text.as_bytes(), cosignature.timestamp),
            &cosignature.signature,
        ) {
            Ok(cosignature.timestamp)
        } else {
            Err(CosignatureError::BadSignature {
                name: self.name.clone(),
                key_id: self.key_id,
            })
        }
    }

    /// Checks a note signature (key ID excluded: timestamp ‖ signature) over a note text;
    /// the timestamp if it verifies. A wrong length or a timestamp above 2^63 − 1 fails.
    pub(crate) fn verify_note_signature(&self, text: &[u8], signature: &[u8]) -> Option<u64> {
        let (time, sig) = signature.split_first_chunk::<8>()?;
        let timestamp = u64::from_be_bytes(*time);
        if timestamp > MAX_TIMESTAMP {
            return None;
        }
        ed25519_verify(&self.key, &message(text, timestamp), sig).then_some(timestamp)
    }
}

/// Cosigns checkpoints with an Ed25519 key of type `0x04` (tlog-cosignature). One key must
/// serve one cosigner only: the signed message does not name the cosigner.
///
/// The seed is wiped when the cosigner is dropped; `Debug` shows only the name and key ID.
#[derive(Clone)]
pub struct Cosigner {
    name: KeyName,
    key_id: KeyId,
    key: SigningKey,
}

impl Cosigner {
    /// A cosigner for `name` from a 32-byte Ed25519 seed.
    pub fn from_seed(name: KeyName, seed: &[u8; 32]) -> Cosigner {
        let key = SigningKey::from_bytes(seed);
        let key_id = KeyId::compute(
            &name,
            KeyType::CosignatureV1,
            key.verifying_key().as_bytes(),
        );
        Cosigner { name, key_id, key }
    }

    /// Parses a signer key `PRIVATE+KEY+<name>+<hex id>+base64(0x04 ‖ seed)`, checking that
    /// the ID is that of the derived public key.
    pub fn from_skey(text: &str) -> Result<Cosigner, NoteError> {
        let mut decoded = decode_key_string(text, true, &[KeyType::CosignatureV1])?;
        let cosigner = Cosigner::from_seed(decoded.name.clone(), &decoded.material);
        decoded.material.fill(0);
        core::hint::black_box(&decoded.material);
        check_id(decoded.declared_id, cosigner.key_id)?;
        Ok(cosigner)
    }

    /// The signer key string. It holds the private seed: keep it secret.
    pub fn to_skey(&self) -> String {
        encode_key_string(
            true,
            &self.name,
            self.key_id,
            KeyType::CosignatureV1,
            self.key.as_bytes(),
        )
    }

    /// The cosigner's name.
    pub fn name(&self) -> &KeyName {
        &self.name
    }

    /// The key ID.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// The verifier for this cosigner's public key.
    pub fn verifier(&self) -> CosignatureVerifier {
        CosignatureVerifier {
            name: self.name.clone(),
            key_id: self.key_id,
            key: self.key.verifying_key(),
        }
    }

    /// Cosigns `checkpoint` as of `timestamp` (POSIX seconds, at most 2^63 − 1) and returns
    /// the signature line to append to the checkpoint note (tlog-cosignature §Format).
    pub fn cosign(
        &self,
        checkpoint: &Checkpoint,
        timestamp: u64,
    ) -> Result<SignatureLine, CosignatureError> {
        let message = signed_message(checkpoint, timestamp)?;
        let mut signature = Vec::with_capacity(COSIGNATURE_SIZE - 4);
        signature.extend_from_slice(&timestamp.to_be_bytes());
        signature.extend_from_slice(&self.key.sign(&message).to_bytes());
        Ok(SignatureLine::from_parts(
            self.name.clone(),
            self.key_id,
            signature,
        ))
    }
}

impl fmt::Debug for Cosigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cosigner")
            .field("name", &self.name)
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}
