//! The errors of the signed-note module.

use super::{KeyId, KeyName, KeyProblem, NameProblem};

/// Which kind of failure an error is, to map it to a response (e.g. 400, 403 or 500) without
/// matching every variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorClass {
    /// The input is not of the format: garbage, truncated, too large.
    Malformed,
    /// The input is well-formed but not acceptable: a bad signature, no trusted signature,
    /// the wrong log.
    Invalid,
    /// The caller asked for something that cannot be done (no signers, a duplicate
    /// verifier, an out-of-range argument).
    Misuse,
}

/// Why a signature line is malformed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LineProblem {
    /// The line is longer than [`MAX_SIGNATURE_LINE_LEN`](super::MAX_SIGNATURE_LINE_LEN).
    #[error("the line is {len} bytes, more than {max}")]
    TooLong {
        /// Length of the line in bytes, newline excluded.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The line does not start with an em dash (U+2014) and a space.
    #[error("the line does not start with \"\u{2014} \"")]
    MissingPrefix,
    /// No space separates the key name from the signature.
    #[error("no space separates the key name from the signature")]
    MissingSpace,
    /// The key name breaks the key-name rules.
    #[error("invalid key name: {0}")]
    KeyName(NameProblem),
    /// The signature is not canonical padded standard base64 (RFC 4648 §4).
    #[error("the signature is not valid base64")]
    Base64,
    /// The signature decodes to fewer than 5 bytes (a key ID and at least one byte).
    #[error("the signature decodes to {len} bytes, fewer than 5")]
    TooShort {
        /// Decoded length.
        len: usize,
    },
}

/// Errors of signed-note parsing, formatting, key handling and verification.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NoteError {
    /// Malformed: the note (or text) is larger than [`MAX_NOTE_SIZE`](super::MAX_NOTE_SIZE).
    #[error("the note is {size} bytes, more than the limit of {max}")]
    TooLarge {
        /// Size in bytes.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// Malformed: the note is not valid UTF-8.
    #[error("the note is not valid UTF-8 (byte {offset})")]
    InvalidUtf8 {
        /// Offset of the first invalid byte.
        offset: usize,
    },
    /// Malformed: the note holds an ASCII control character other than newline.
    #[error("the note holds control character {byte:#04x} at byte {offset}")]
    ControlCharacter {
        /// Offset of the character.
        offset: usize,
        /// The character.
        byte: u8,
    },
    /// Malformed: the note, or a text to sign, does not end in a newline.
    #[error("the note does not end in a newline")]
    MissingFinalNewline,
    /// Malformed: no blank line followed by at least one signature line.
    #[error("the note has no blank line followed by signature lines")]
    NoSignatureBlock,
    /// Malformed: more than [`MAX_SIGNATURES`](super::MAX_SIGNATURES) signature lines.
    #[error("the note has more than {max} signature lines")]
    TooManySignatures {
        /// The limit.
        max: usize,
    },
    /// Malformed: a signature line is not of the form `— <name> <base64>`.
    #[error("signature line {index}: {problem}")]
    SignatureLine {
        /// Index of the line among the signature lines, from 0.
        index: usize,
        /// What is wrong with it.
        problem: LineProblem,
    },
    /// Malformed (or misuse, when building a name): a key name breaks the key-name rules.
    #[error("invalid key name: {0}")]
    InvalidKeyName(NameProblem),
    /// Malformed: a verifier or signer key string.
    #[error("malformed key string: {0}")]
    MalformedKey(KeyProblem),
    /// Malformed: a key string's ID is not the ID of its key.
    #[error("the key string declares key ID {declared} but its key has ID {computed}")]
    KeyIdMismatch {
        /// The ID written in the string.
        declared: KeyId,
        /// The ID computed from the name and key.
        computed: KeyId,
    },
    /// Invalid: a signature from a known key does not verify (the spec says to reject the
    /// whole note).
    #[error("the signature by known key {name}+{key_id} does not verify")]
    BadSignature {
        /// Name of the key.
        name: KeyName,
        /// ID of the key.
        key_id: KeyId,
    },
    /// Invalid: no signature from a known key.
    #[error("no signature from a known key ({unknown} from unknown keys)")]
    NoVerifiedSignature {
        /// How many signature lines came from unknown keys.
        unknown: usize,
    },
    /// Misuse: two verifiers for the same (name, key ID) in one set.
    #[error("the verifier set already has a key {name}+{key_id}")]
    DuplicateVerifier {
        /// Name of the key.
        name: KeyName,
        /// ID of the key.
        key_id: KeyId,
    },
    /// Misuse: signing with no signer.
    #[error("signing needs at least one signer")]
    NoSigners,
    /// Misuse: a signature line built from an empty or oversized signature.
    #[error("a signature of {len} bytes does not fit a signature line")]
    InvalidSignatureSize {
        /// Length of the signature in bytes, key ID excluded.
        len: usize,
    },
}

impl NoteError {
    /// Whether this is malformed input, invalid input or caller misuse.
    pub fn class(&self) -> ErrorClass {
        match self {
            NoteError::BadSignature { .. } | NoteError::NoVerifiedSignature { .. } => {
                ErrorClass::Invalid
            }
            NoteError::DuplicateVerifier { .. }
            | NoteError::NoSigners
            | NoteError::InvalidSignatureSize { .. } => ErrorClass::Misuse,
            _ => ErrorClass::Malformed,
        }
    }
}
