//! Checkpoints: a log's signed tree head, as C2SP `tlog-checkpoint` v1.0.0
//! (<https://c2sp.org/tlog-checkpoint@v1.0.0>) defines its note text.
//!
//! ```text
//! example.com/behind-the-sofa
//! 20852163
//! CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=
//! ```
//!
//! What it does: the [`Origin`] newtype; strict parsing and byte-exact formatting of the
//! checkpoint text ([`Checkpoint::parse`], [`Checkpoint::to_text`]); signing a checkpoint
//! into a signed note ([`Checkpoint::sign`]); opening a signed checkpoint for an expected
//! log, verifying the log's signature and any witness cosignatures in one pass
//! ([`Checkpoint::open`]).
//!
//! What it does not: check that the root hash is right for the log (that takes
//! [`crate::proof`]), decide how many cosignatures are enough (a policy above this crate),
//! or read anything: checkpoints come in as bytes.
//!
//! One deliberate narrowing of the spec: the spec only RECOMMENDS that an origin hold no
//! spaces or `+`; [`Origin`] requires it, so that the origin can also be the log's key name.
//! Checkpoints of logs such as Go's checksum database (`go.sum database tree`) are refused.

use core::fmt;

use crate::Hash;
use crate::note::{
    self, KeyName, KeyType, MAX_KEY_NAME_LEN, NameProblem, Note, NoteError, Signer,
    VerifiedSignature, VerifierSet,
};

/// Longest origin accepted, in bytes: the key-name limit, so an origin is always a valid
/// key name (and fits tlog-cosignature's 255-byte `log_origin`).
pub const MAX_ORIGIN_LEN: usize = MAX_KEY_NAME_LEN;

/// Why a decimal number (a tree size, a witness `old` size) is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecimalProblem {
    /// The number is empty.
    #[error("the number is empty")]
    Empty,
    /// Something other than ASCII digits (a sign, a space, a letter).
    #[error("the number holds a character other than ASCII digits")]
    NotDigits,
    /// A leading zero on a number other than `0`.
    #[error("the number has a leading zero")]
    LeadingZero,
    /// The number is larger than 2^64 − 1.
    #[error("the number does not fit in 64 bits")]
    Overflow,
}

/// Parses an ASCII decimal with no sign and no leading zeros (`0` itself allowed), as
/// tlog-checkpoint's tree size and tlog-witness's `old` line write it.
pub(crate) fn parse_decimal(text: &str) -> Result<u64, DecimalProblem> {
    if text.is_empty() {
        return Err(DecimalProblem::Empty);
    }
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(DecimalProblem::NotDigits);
    }
    if text.len() > 1 && text.starts_with('0') {
        return Err(DecimalProblem::LeadingZero);
    }
    // Only digits are left, so parsing can fail only by overflowing.
    text.parse::<u64>().map_err(|_| DecimalProblem::Overflow)
}

/// Errors of checkpoint parsing, formatting and opening.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CheckpointError {
    /// The enclosing signed note is malformed or did not verify.
    #[error("checkpoint note: {0}")]
    Note(#[from] NoteError),
    /// Malformed: the text is larger than [`note::MAX_NOTE_SIZE`].
    #[error("the checkpoint text is {size} bytes, more than {max}")]
    TooLarge {
        /// Size in bytes.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// Malformed: the text holds an ASCII control character other than newline.
    #[error("the checkpoint text holds a control character at byte {offset}")]
    ControlCharacter {
        /// Offset of the character.
        offset: usize,
    },
    /// Malformed: the text does not end in a newline.
    #[error("the checkpoint text does not end in a newline")]
    MissingFinalNewline,
    /// Malformed: fewer than three lines.
    #[error("the checkpoint text has {found} lines, fewer than 3")]
    TooFewLines {
        /// Lines found.
        found: usize,
    },
    /// Malformed (or misuse, when building an origin): the origin line.
    #[error("invalid origin: {0}")]
    InvalidOrigin(NameProblem),
    /// Malformed: the tree size line.
    #[error("invalid tree size: {0}")]
    InvalidSize(DecimalProblem),
    /// Malformed: the root hash line is not padded standard base64 of 32 bytes.
    #[error("the root hash is not base64 of 32 bytes")]
    InvalidRootHash,
    /// Malformed: an extension line is empty.
    #[error("extension line {index} is empty")]
    EmptyExtensionLine {
        /// Index among the extension lines, from 0.
        index: usize,
    },
    /// Misuse: an extension given to [`Checkpoint::with_extensions`] is empty or holds a
    /// newline or control character.
    #[error("extension {index} is empty or holds a newline or control character")]
    InvalidExtension {
        /// Index among the extensions, from 0.
        index: usize,
    },
    /// Invalid: the checkpoint is from another log.
    #[error("the checkpoint is for origin {found}, expected {expected}")]
    OriginMismatch {
        /// The origin the caller expected.
        expected: Origin,
        /// The origin in the checkpoint.
        found: Origin,
    },
    /// Invalid: no Ed25519 (type `0x01`) signature from a known log key verified; witness
    /// cosignatures alone do not make a checkpoint.
    #[error("no signature from a known log key")]
    NoLogSignature,
}

impl CheckpointError {
    /// Whether this is malformed input, invalid input or caller misuse.
    pub fn class(&self) -> note::ErrorClass {
        match self {
            CheckpointError::Note(e) => e.class(),
            CheckpointError::OriginMismatch { .. } | CheckpointError::NoLogSignature => {
                note::ErrorClass::Invalid
            }
            CheckpointError::InvalidExtension { .. } => note::ErrorClass::Misuse,
            _ => note::ErrorClass::Malformed,
        }
    }
}

/// A log's origin: the first line of its checkpoints and its identity.
///
/// Checked: non-empty, at most [`MAX_ORIGIN_LEN`] bytes, no Unicode space, no `+`, no control
/// character — the key-name rules, so [`Origin::key_name`] always works.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Origin(String);

impl Origin {
    /// Checks `origin`.
    pub fn new(origin: impl Into<String>) -> Result<Origin, CheckpointError> {
        let origin = origin.into();
        note::check_name(&origin).map_err(CheckpointError::InvalidOrigin)?;
        Ok(Origin(origin))
    }

    /// The origin as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The origin as a key name: tlog-checkpoint §Signatures says the log's key name SHOULD
    /// be its origin.
    pub fn key_name(&self) -> KeyName {
        KeyName::from_checked(self.0.clone())
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Origin({:?})", self.0)
    }
}

/// A checkpoint: origin, tree size, root hash and optional extension lines
/// (C2SP tlog-checkpoint §Note text).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    origin: Origin,
    size: u64,
    root: Hash,
    extensions: Vec<String>,
}

impl Checkpoint {
    /// A checkpoint without extension lines.
    pub fn new(origin: Origin, size: u64, root: Hash) -> Checkpoint {
        Checkpoint {
            origin,
            size,
            root,
            extensions: Vec::new(),
        }
    }

    /// Sets the extension lines (the spec makes them OPTIONAL and NOT RECOMMENDED); each
    /// must be non-empty and hold no newline or control character.
    pub fn with_extensions(
        mut self,
        extensions: Vec<String>,
    ) -> Result<Checkpoint, CheckpointError> {
        if let Some(index) = extensions
            .iter()
            .position(|e| e.is_empty() || e.bytes().any(|b| b < 0x20))
        {
            return Err(CheckpointError::InvalidExtension { index });
        }
        self.extensions = extensions;
        Ok(self)
    }

    /// The origin.
    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    /// The tree size.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The root hash of the tree at that size.
    pub fn root(&self) -> Hash {
        self.root
    }

    /// The extension lines, without newlines.
    pub fn extensions(&self) -> &[String] {
        &self.extensions
    }

    /// Parses a checkpoint's note text, final newline included (C2SP tlog-checkpoint
    /// §Note text): origin; tree size in decimal with no sign or leading zero; padded base64
    /// of the 32-byte root; then non-empty extension lines. Nothing is verified.
    pub fn parse(text: &str) -> Result<Checkpoint, CheckpointError> {
        if text.len() > note::MAX_NOTE_SIZE {
            return Err(CheckpointError::TooLarge {
                size: text.len(),
                max: note::MAX_NOTE_SIZE,
            });
        }
        if let Some(offset) = text.bytes().position(|b| b < 0x20 && b != b'\n') {
            return Err(CheckpointError::ControlCharacter { offset });
        }
        let body = text
            .strip_suffix('\n')
            .ok_or(CheckpointError::MissingFinalNewline)?;
        let mut lines = body.split('\n');
        let (Some(origin), Some(size), Some(root)) = (lines.next(), lines.next(), lines.next())
        else {
            return Err(CheckpointError::TooFewLines {
                found: body.split('\n').count(),
            });
        };
        let origin = Origin::new(origin)?;
        let size = parse_decimal(size).map_err(CheckpointError::InvalidSize)?;
        let root = Hash::from_base64(root).ok_or(CheckpointError::InvalidRootHash)?;
        let extensions = lines
            .enumerate()
            .map(|(index, line)| {
                if line.is_empty() {
                    Err(CheckpointError::EmptyExtensionLine { index })
                } else {
                    Ok(line.to_owned())
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Checkpoint {
            origin,
            size,
            root,
            extensions,
        })
    }

    /// The note text of the checkpoint, byte for byte as tlog-checkpoint §Note text writes
    /// it, final newline included.
    pub fn to_text(&self) -> String {
        let mut out = String::with_capacity(
            self.origin.0.len() + 66 + self.extensions.iter().map(|e| e.len() + 1).sum::<usize>(),
        );
        out.push_str(&self.origin.0);
        out.push('\n');
        out.push_str(&self.size.to_string());
        out.push('\n');
        out.push_str(&self.root.to_base64());
        out.push('\n');
        for e in &self.extensions {
            out.push_str(e);
            out.push('\n');
        }
        out
    }

    /// Signs the checkpoint with the log's key(s) into a signed note (tlog-checkpoint
    /// §Signatures; the key name SHOULD be the origin).
    pub fn sign(&self, signers: &[&Signer]) -> Result<Note, CheckpointError> {
        Ok(Note::sign(self.to_text(), signers)?)
    }

    /// Parses and opens a signed checkpoint note of the log `origin`; see
    /// [`Checkpoint::open_note`].
    pub fn open(
        bytes: &[u8],
        origin: &Origin,
        known: &VerifierSet,
    ) -> Result<OpenedCheckpoint, CheckpointError> {
        Checkpoint::open_note(Note::parse(bytes)?, origin, known)
    }

    /// Opens a signed checkpoint note of the log `origin`: parses the text, checks the
    /// origin, verifies every signature from a key in `known` (log keys and witness
    /// cosigner keys alike), refuses the note if any of them fails (signed-note
    /// §Signatures) and requires at least one verified Ed25519 log signature. Signatures
    /// from unknown keys are ignored (tlog-checkpoint §Signatures).
    pub fn open_note(
        note: Note,
        origin: &Origin,
        known: &VerifierSet,
    ) -> Result<OpenedCheckpoint, CheckpointError> {
        let checkpoint = Checkpoint::parse(note.text())?;
        if checkpoint.origin != *origin {
            return Err(CheckpointError::OriginMismatch {
                expected: origin.clone(),
                found: checkpoint.origin,
            });
        }
        let report = note.verify_lines(known, true);
        if let Some(line) = report
            .invalid
            .first()
            .and_then(|&i| note.signatures().get(i))
        {
            return Err(NoteError::BadSignature {
                name: line.name().clone(),
                key_id: line.key_id(),
            }
            .into());
        }
        let (log_signatures, cosignatures): (Vec<_>, Vec<_>) = report
            .verified
            .into_iter()
            .partition(|v| v.key_type == KeyType::Ed25519);
        if log_signatures.is_empty() {
            return Err(CheckpointError::NoLogSignature);
        }
        Ok(OpenedCheckpoint {
            checkpoint,
            note,
            log_signatures,
            cosignatures,
        })
    }
}

impl fmt::Display for Checkpoint {
    /// The note text, as [`Checkpoint::to_text`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}

/// A checkpoint whose log signature verified, with the cosignatures that verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenedCheckpoint {
    checkpoint: Checkpoint,
    note: Note,
    log_signatures: Vec<VerifiedSignature>,
    cosignatures: Vec<VerifiedSignature>,
}

impl OpenedCheckpoint {
    /// The checkpoint.
    pub fn checkpoint(&self) -> &Checkpoint {
        &self.checkpoint
    }

    /// The signed note, unknown signatures included.
    pub fn note(&self) -> &Note {
        &self.note
    }

    /// The log signatures (type `0x01`) that verified; never empty.
    pub fn log_signatures(&self) -> &[VerifiedSignature] {
        &self.log_signatures
    }

    /// The witness cosignatures (type `0x04`) that verified, one per witness key, each with
    /// its timestamp.
    pub fn cosignatures(&self) -> &[VerifiedSignature] {
        &self.cosignatures
    }

    /// The checkpoint and the note.
    pub fn into_parts(self) -> (Checkpoint, Note) {
        (self.checkpoint, self.note)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals() {
        assert_eq!(parse_decimal("0"), Ok(0));
        assert_eq!(parse_decimal("18446744073709551615"), Ok(u64::MAX));
        assert_eq!(
            parse_decimal("18446744073709551616"),
            Err(DecimalProblem::Overflow)
        );
        assert_eq!(parse_decimal(""), Err(DecimalProblem::Empty));
        assert_eq!(parse_decimal("01"), Err(DecimalProblem::LeadingZero));
        assert_eq!(parse_decimal("00"), Err(DecimalProblem::LeadingZero));
        for bad in ["+1", "-1", " 1", "1 ", "1_0", "١"] {
            assert_eq!(parse_decimal(bad), Err(DecimalProblem::NotDigits), "{bad}");
        }
    }

    #[test]
    fn origin_is_a_key_name() {
        let origin = Origin::new("example.com/log").unwrap();
        assert_eq!(origin.key_name().as_str(), "example.com/log");
        assert!(Origin::new("go.sum database tree").is_err());
    }
}
