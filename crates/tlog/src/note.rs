//! Signed notes: a text signed by one or more keys, as C2SP `signed-note` v1.0.0
//! (<https://c2sp.org/signed-note@v1.0.0>) defines them.
//!
//! ```text
//! This is an example message.
//!
//! — example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=
//! ```
//!
//! What it does:
//! - parses notes strictly and formats them byte for byte ([`Note::parse`], [`Note::to_bytes`]);
//! - key names, key IDs, Ed25519 verifier and signer keys and their text encodings
//!   ([`KeyName`], [`KeyId`], [`Ed25519Verifier`], [`Signer`]);
//! - signs a text with one or more Ed25519 keys ([`Note::sign`]);
//! - verifies a note against a [`VerifierSet`] that may mix log keys (type `0x01`) and
//!   witness cosigner keys (type `0x04`, [`crate::cosignature`]), reporting for each
//!   signature line whether it verified, came from an unknown key or failed
//!   ([`Note::verify`]), and the spec's strict acceptance rule ([`open`]).
//!
//! What it does not: other signature types (ECDSA `0x02`, RFC 6962 `0x05`, ML-DSA-44
//! `0x06`): signatures of those types are simply signatures from unknown keys. It does not
//! interpret the text; [`crate::checkpoint`] does for checkpoints. No I/O, no clock, no
//! randomness: keys come in as bytes or strings.
//!
//! Limits (the spec asks verifiers to bound notes and accept at least 16 signatures):
//! [`MAX_NOTE_SIZE`], [`MAX_SIGNATURES`], [`MAX_SIGNATURE_LINE_LEN`], [`MAX_KEY_NAME_LEN`].

mod error;
mod keys;
mod verify;

use core::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

pub use error::{ErrorClass, LineProblem, NoteError};
pub(crate) use keys::{
    DecodedKey, check_id, check_name, decode_key_string, ed25519_public_key, ed25519_verify,
    encode_key_string,
};
pub use keys::{
    Ed25519Verifier, KeyId, KeyName, KeyProblem, KeyType, MAX_KEY_NAME_LEN, MAX_SIGNER_KEY_LEN,
    MAX_VERIFIER_KEY_LEN, NameProblem, Signer,
};
pub use verify::{Opened, Verification, VerifiedSignature, Verifier, VerifierSet};

/// Largest note accepted, in bytes (text and signature lines together): 1 MiB. A
/// checkpoint with 100 post-quantum signature lines still fits.
pub const MAX_NOTE_SIZE: usize = 1 << 20;

/// Most signature lines accepted in one note. The spec requires at least 16; Go's
/// `sumdb/note` also stops at 100.
pub const MAX_SIGNATURES: usize = 100;

/// Longest signature line accepted, in bytes, without its newline: room for a 255-byte
/// name and an ML-DSA-44 cosignature (3,244 base64 characters) or a ~5 kB post-quantum
/// signature (the spec's own estimate).
pub const MAX_SIGNATURE_LINE_LEN: usize = 8192;

/// What starts every signature line: an em dash (U+2014) and a space.
const SIGNATURE_PREFIX: &str = "\u{2014} ";

/// Smallest decoded signature: a 4-byte key ID and at least one signature byte.
const MIN_SIGNATURE_BYTES: usize = 5;

/// One signature line: key name, key ID and signature bytes (C2SP signed-note §Format).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignatureLine {
    name: KeyName,
    key_id: KeyId,
    signature: Vec<u8>,
}

impl SignatureLine {
    /// A line for `signature` (without the key ID) by key `name`/`key_id`; refuses an empty
    /// signature and one whose line would exceed [`MAX_SIGNATURE_LINE_LEN`].
    pub fn new(
        name: KeyName,
        key_id: KeyId,
        signature: Vec<u8>,
    ) -> Result<SignatureLine, NoteError> {
        let line = SignatureLine::from_parts(name, key_id, signature);
        if line.signature.is_empty() || line.encoded_len() > MAX_SIGNATURE_LINE_LEN {
            return Err(NoteError::InvalidSignatureSize {
                len: line.signature.len(),
            });
        }
        Ok(line)
    }

    /// Builds a line without the size checks, for signatures of a known, small size.
    pub(crate) fn from_parts(name: KeyName, key_id: KeyId, signature: Vec<u8>) -> SignatureLine {
        SignatureLine {
            name,
            key_id,
            signature,
        }
    }

    /// Parses one signature line, without its final newline (C2SP signed-note §Format).
    pub fn parse(line: &str) -> Result<SignatureLine, LineProblem> {
        if line.len() > MAX_SIGNATURE_LINE_LEN {
            return Err(LineProblem::TooLong {
                len: line.len(),
                max: MAX_SIGNATURE_LINE_LEN,
            });
        }
        let rest = line
            .strip_prefix(SIGNATURE_PREFIX)
            .ok_or(LineProblem::MissingPrefix)?;
        let (name, encoded) = rest.split_once(' ').ok_or(LineProblem::MissingSpace)?;
        check_name(name).map_err(LineProblem::KeyName)?;
        // The standard engine only accepts canonical padded base64 (no stray trailing
        // bits), so every signature has exactly one encoding and a changed byte always
        // changes the decoded signature or fails here.
        let mut bytes = STANDARD.decode(encoded).map_err(|_| LineProblem::Base64)?;
        if bytes.len() < MIN_SIGNATURE_BYTES {
            return Err(LineProblem::TooShort { len: bytes.len() });
        }
        let key_id = KeyId([bytes[0], bytes[1], bytes[2], bytes[3]]);
        bytes.drain(..4);
        Ok(SignatureLine {
            name: KeyName::from_checked(name.to_owned()),
            key_id,
            signature: bytes,
        })
    }

    /// The key name.
    pub fn name(&self) -> &KeyName {
        &self.name
    }

    /// The key ID.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// The signature bytes, key ID excluded.
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }

    /// Length of the formatted line in bytes, newline excluded.
    fn encoded_len(&self) -> usize {
        let raw = 4 + self.signature.len();
        SIGNATURE_PREFIX.len() + self.name.as_str().len() + 1 + raw.div_ceil(3) * 4
    }

    fn write_to(&self, out: &mut String) {
        out.push_str(SIGNATURE_PREFIX);
        out.push_str(self.name.as_str());
        out.push(' ');
        let mut raw = Vec::with_capacity(4 + self.signature.len());
        raw.extend_from_slice(&self.key_id.0);
        raw.extend_from_slice(&self.signature);
        STANDARD.encode_string(raw, out);
    }
}

impl fmt::Display for SignatureLine {
    /// The line as the note writes it, without its newline.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::with_capacity(self.encoded_len());
        self.write_to(&mut out);
        f.write_str(&out)
    }
}

/// Checks the note-wide rules of C2SP signed-note §Format: at most [`MAX_NOTE_SIZE`] bytes,
/// valid UTF-8, no ASCII control character other than newline.
fn check_note_bytes(bytes: &[u8]) -> Result<&str, NoteError> {
    if bytes.len() > MAX_NOTE_SIZE {
        return Err(NoteError::TooLarge {
            size: bytes.len(),
            max: MAX_NOTE_SIZE,
        });
    }
    let text = core::str::from_utf8(bytes).map_err(|e| NoteError::InvalidUtf8 {
        offset: e.valid_up_to(),
    })?;
    check_controls(text)?;
    Ok(text)
}

fn check_controls(text: &str) -> Result<(), NoteError> {
    // Bytes below 0x20 never occur inside a multi-byte UTF-8 sequence, so a byte scan
    // finds exactly the control characters.
    match text.bytes().position(|b| b < 0x20 && b != b'\n') {
        Some(offset) => Err(NoteError::ControlCharacter {
            offset,
            byte: text.as_bytes()[offset],
        }),
        None => Ok(()),
    }
}

/// Checks a note text: the note-wide rules, and a final newline.
fn check_text(text: &str) -> Result<(), NoteError> {
    check_note_bytes(text.as_bytes())?;
    if !text.ends_with('\n') {
        return Err(NoteError::MissingFinalNewline);
    }
    Ok(())
}

/// A signed note: a text ending in a newline and one or more signature lines.
///
/// Every `Note` value formats to a note that [`Note::parse`] reads back as the same value:
/// the constructors check the text, the number of lines and the total size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    text: String,
    signatures: Vec<SignatureLine>,
}

impl Note {
    /// A note from a text and its signature lines, checked as [`Note::parse`] would.
    pub fn new(text: impl Into<String>, signatures: Vec<SignatureLine>) -> Result<Note, NoteError> {
        let text = text.into();
        check_text(&text)?;
        let note = Note { text, signatures };
        note.check_signature_count()?;
        note.check_size()?;
        Ok(note)
    }

    /// Parses a note (C2SP signed-note §Format). The text ends at the last blank line;
    /// every line after it must be a signature line; the whole note must be valid UTF-8
    /// without control characters other than newline, end in a newline, and stay within
    /// [`MAX_NOTE_SIZE`] and [`MAX_SIGNATURES`]. Nothing is verified.
    pub fn parse(bytes: &[u8]) -> Result<Note, NoteError> {
        let all = check_note_bytes(bytes)?;
        if !all.ends_with('\n') {
            return Err(NoteError::MissingFinalNewline);
        }
        // Signature lines are never empty, so the last "\n\n" is the end of the text
        // (which keeps its own final newline) and the blank line.
        let split = all.rfind("\n\n").ok_or(NoteError::NoSignatureBlock)?;
        let (text, block) = (&all[..=split], &all[split + 2..]);
        if block.is_empty() {
            return Err(NoteError::NoSignatureBlock);
        }
        let count = block.bytes().filter(|&b| b == b'\n').count();
        if count > MAX_SIGNATURES {
            return Err(NoteError::TooManySignatures {
                max: MAX_SIGNATURES,
            });
        }
        let signatures = block
            .split_terminator('\n')
            .enumerate()
            .map(|(index, line)| {
                SignatureLine::parse(line)
                    .map_err(|problem| NoteError::SignatureLine { index, problem })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Note {
            text: text.to_owned(),
            signatures,
        })
    }

    /// Signs `text` with each signer, in order (C2SP signed-note §Ed25519 signatures).
    pub fn sign(text: impl Into<String>, signers: &[&Signer]) -> Result<Note, NoteError> {
        let text = text.into();
        check_text(&text)?;
        if signers.is_empty() {
            return Err(NoteError::NoSigners);
        }
        let mut note = Note {
            text,
            signatures: Vec::with_capacity(signers.len()),
        };
        for signer in signers {
            let line = signer.sign_text(&note.text);
            note.add_signature(line)?;
        }
        Ok(note)
    }

    /// Adds a signature line, replacing any line by the same (name, key ID) so that a key
    /// never appears twice; refuses to pass [`MAX_SIGNATURES`] or [`MAX_NOTE_SIZE`].
    pub fn add_signature(&mut self, line: SignatureLine) -> Result<(), NoteError> {
        let previous = self
            .signatures
            .iter()
            .position(|l| l.key_id == line.key_id && l.name == line.name);
        let old = match previous {
            Some(i) => Some((i, core::mem::replace(&mut self.signatures[i], line))),
            None => {
                self.signatures.push(line);
                None
            }
        };
        let checked = self
            .check_signature_count()
            .and_then(|()| self.check_size());
        if checked.is_err() {
            // Leave the note as it was.
            match old {
                Some((i, old)) => self.signatures[i] = old,
                None => {
                    self.signatures.pop();
                }
            }
        }
        checked
    }

    /// The text, with its final newline.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The signature lines, in order.
    pub fn signatures(&self) -> &[SignatureLine] {
        &self.signatures
    }

    /// The note as bytes (C2SP signed-note §Format).
    pub fn to_bytes(&self) -> Vec<u8> {
        self.to_string().into_bytes()
    }

    /// Size of the formatted note in bytes.
    pub fn encoded_len(&self) -> usize {
        self.text.len()
            + 1
            + self
                .signatures
                .iter()
                .map(|l| l.encoded_len() + 1)
                .sum::<usize>()
    }

    fn check_signature_count(&self) -> Result<(), NoteError> {
        if self.signatures.is_empty() {
            return Err(NoteError::NoSignatureBlock);
        }
        if self.signatures.len() > MAX_SIGNATURES {
            return Err(NoteError::TooManySignatures {
                max: MAX_SIGNATURES,
            });
        }
        Ok(())
    }

    fn check_size(&self) -> Result<(), NoteError> {
        let size = self.encoded_len();
        if size > MAX_NOTE_SIZE {
            return Err(NoteError::TooLarge {
                size,
                max: MAX_NOTE_SIZE,
            });
        }
        Ok(())
    }

    /// Verifies every signature line whose (name, key ID) is in `known` (C2SP signed-note
    /// §Signatures) and reports the outcome of each line; lines from unknown keys are only
    /// listed. This never rejects: [`Note::open`] applies the spec's acceptance rule.
    pub fn verify(&self, known: &VerifierSet) -> Verification {
        self.verify_lines(known, false)
    }

    /// [`Note::verify`], stopping at the first failing line from a known key if
    /// `stop_at_invalid` (the note will be rejected anyway, so the rest is not worth the
    /// work of a hostile note's many bad signatures).
    pub(crate) fn verify_lines(&self, known: &VerifierSet, stop_at_invalid: bool) -> Verification {
        let mut report = Verification::default();
        // Indices in `known` already reported as verified: a key counts once however many
        // lines it has (every line is still verified).
        let mut counted: Vec<usize> = Vec::new();
        for (index, line) in self.signatures.iter().enumerate() {
            let Some((position, verifier)) = known.find(&line.name, line.key_id) else {
                report.unknown.push(index);
                continue;
            };
            match verifier.verify_signature(self.text.as_bytes(), &line.signature) {
                None => {
                    report.invalid.push(index);
                    if stop_at_invalid {
                        break;
                    }
                }
                Some(timestamp) => {
                    if !counted.contains(&position) {
                        counted.push(position);
                        report.verified.push(VerifiedSignature {
                            index,
                            name: line.name.clone(),
                            key_id: line.key_id,
                            key_type: verifier.key_type(),
                            timestamp,
                        });
                    }
                }
            }
        }
        report
    }

    /// Verifies the note and applies the acceptance rule of C2SP signed-note §Signatures:
    /// reject if a signature from a known key fails, reject if no known key signed;
    /// signatures from unknown keys are ignored.
    pub fn open(self, known: &VerifierSet) -> Result<Opened, NoteError> {
        let report = self.verify_lines(known, true);
        report.check(&self)?;
        Ok(Opened {
            note: self,
            verified: report.verified,
        })
    }
}

impl fmt::Display for Note {
    /// The whole note: text, blank line, signature lines.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::with_capacity(self.encoded_len());
        out.push_str(&self.text);
        out.push('\n');
        for line in &self.signatures {
            line.write_to(&mut out);
            out.push('\n');
        }
        f.write_str(&out)
    }
}

/// Parses and opens a note: [`Note::parse`] then [`Note::open`].
pub fn open(bytes: &[u8], known: &VerifierSet) -> Result<Opened, NoteError> {
    Note::parse(bytes)?.open(known)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer(name: &str, seed: u8) -> Signer {
        Signer::from_seed(KeyName::new(name).unwrap(), &[seed; 32])
    }

    #[test]
    fn text_with_blank_lines_round_trips() {
        let s = signer("a.example/k", 1);
        for text in ["\n", "a\n\n", "a\n\n\nb\n", "x\n\n\n"] {
            let note = Note::sign(text, &[&s]).unwrap();
            let parsed = Note::parse(&note.to_bytes()).unwrap();
            assert_eq!(parsed, note);
            assert_eq!(parsed.text(), text);
        }
    }

    #[test]
    fn encoded_len_matches_formatting() {
        let s = signer("a.example/k", 1);
        let note = Note::sign("hello\n", &[&s]).unwrap();
        assert_eq!(note.encoded_len(), note.to_bytes().len());
        let line = SignatureLine::new(s.name().clone(), s.key_id(), vec![7; 10]).unwrap();
        assert_eq!(line.encoded_len(), line.to_string().len());
    }

    #[test]
    fn add_signature_replaces_same_key_and_restores_on_error() {
        let s = signer("a.example/k", 1);
        let mut note = Note::sign("hello\n", &[&s]).unwrap();
        let replacement = SignatureLine::new(s.name().clone(), s.key_id(), vec![1; 64]).unwrap();
        note.add_signature(replacement.clone()).unwrap();
        assert_eq!(note.signatures(), &[replacement]);
        for i in 1..MAX_SIGNATURES {
            let name = KeyName::new(format!("k{i}")).unwrap();
            note.add_signature(SignatureLine::new(name, KeyId([0; 4]), vec![1]).unwrap())
                .unwrap();
        }
        let before = note.clone();
        let extra =
            SignatureLine::new(KeyName::new("extra").unwrap(), KeyId([0; 4]), vec![1]).unwrap();
        assert_eq!(
            note.add_signature(extra),
            Err(NoteError::TooManySignatures {
                max: MAX_SIGNATURES
            })
        );
        assert_eq!(note, before);
    }

    #[test]
    fn error_classes() {
        assert_eq!(NoteError::NoSigners.class(), ErrorClass::Misuse);
        assert_eq!(
            NoteError::NoVerifiedSignature { unknown: 0 }.class(),
            ErrorClass::Invalid
        );
        assert_eq!(NoteError::NoSignatureBlock.class(), ErrorClass::Malformed);
    }
}
