//! Body formats of C2SP tlog-witness v1.0.0 `add-checkpoint` (§HTTP Interface,
//! §add-checkpoint): the request, the 200 response (cosignature lines) and the 409 response
//! (`text/x.tlog.size`). Pure formats: what a witness decides from them is its business.

use super::CosignatureError;
use crate::Hash;
use crate::checkpoint::{Checkpoint, parse_decimal};
use crate::note::{self, MAX_NOTE_SIZE, MAX_SIGNATURES, Note, NoteError, SignatureLine};

/// Most consistency proof lines in a request (tlog-witness §add-checkpoint: "MUST NOT send
/// more than 63").
pub const MAX_PROOF_LINES: usize = 63;

/// Largest request body accepted: a note of [`MAX_NOTE_SIZE`] plus the `old` line and 63
/// proof lines (under 3 kB) with room to spare.
pub const MAX_ADD_CHECKPOINT_REQUEST_SIZE: usize = MAX_NOTE_SIZE + 4096;

const OLD_PREFIX: &str = "old ";

/// Splits off the first `\n`-terminated line; `None` if there is no newline.
fn split_line(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let end = bytes.iter().position(|&b| b == b'\n')?;
    Some((&bytes[..end], &bytes[end + 1..]))
}

/// An `add-checkpoint` request (tlog-witness §add-checkpoint): the size of the witness's
/// last cosigned checkpoint as the client believes it, a consistency proof from that size,
/// and the signed checkpoint note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddCheckpointRequest {
    old_size: u64,
    proof: Vec<Hash>,
    note: Note,
    checkpoint: Checkpoint,
}

impl AddCheckpointRequest {
    /// A request; refuses more than [`MAX_PROOF_LINES`] proof hashes and a note whose text
    /// is not a checkpoint.
    pub fn new(
        old_size: u64,
        proof: Vec<Hash>,
        note: Note,
    ) -> Result<AddCheckpointRequest, CosignatureError> {
        if proof.len() > MAX_PROOF_LINES {
            return Err(CosignatureError::TooManyProofLines {
                max: MAX_PROOF_LINES,
            });
        }
        let checkpoint = Checkpoint::parse(note.text())?;
        Ok(AddCheckpointRequest {
            old_size,
            proof,
            note,
            checkpoint,
        })
    }

    /// Parses a request body strictly (tlog-witness §add-checkpoint): `old <size>` in
    /// decimal without leading zeros, at most 63 lines of padded base64 hashes, an empty
    /// line, then a signed note whose text is a checkpoint. Every line ends in `\n`.
    /// Nothing is verified: the witness opens the note with the log's keys.
    pub fn parse(body: &[u8]) -> Result<AddCheckpointRequest, CosignatureError> {
        if body.len() > MAX_ADD_CHECKPOINT_REQUEST_SIZE {
            return Err(CosignatureError::RequestTooLarge {
                size: body.len(),
                max: MAX_ADD_CHECKPOINT_REQUEST_SIZE,
            });
        }
        let (old, mut rest) = split_line(body).ok_or(CosignatureError::InvalidOldLine)?;
        let old = core::str::from_utf8(old)
            .ok()
            .and_then(|line| line.strip_prefix(OLD_PREFIX))
            .ok_or(CosignatureError::InvalidOldLine)?;
        let old_size = parse_decimal(old).map_err(CosignatureError::InvalidOldSize)?;
        let mut proof = Vec::new();
        loop {
            let (line, next) = split_line(rest).ok_or(CosignatureError::MissingBlankLine)?;
            rest = next;
            if line.is_empty() {
                break;
            }
            if proof.len() == MAX_PROOF_LINES {
                return Err(CosignatureError::TooManyProofLines {
                    max: MAX_PROOF_LINES,
                });
            }
            let hash = core::str::from_utf8(line)
                .ok()
                .and_then(Hash::from_base64)
                .ok_or(CosignatureError::InvalidProofLine { index: proof.len() })?;
            proof.push(hash);
        }
        let note = Note::parse(rest)?;
        let checkpoint = Checkpoint::parse(note.text())?;
        Ok(AddCheckpointRequest {
            old_size,
            proof,
            note,
            checkpoint,
        })
    }

    /// The request body, byte for byte as tlog-witness §add-checkpoint writes it.
    pub fn to_bytes(&self) -> Vec<u8> {
        let note = self.note.to_bytes();
        let mut out = Vec::with_capacity(32 + 45 * self.proof.len() + note.len());
        out.extend_from_slice(OLD_PREFIX.as_bytes());
        out.extend_from_slice(self.old_size.to_string().as_bytes());
        out.push(b'\n');
        for hash in &self.proof {
            out.extend_from_slice(hash.to_base64().as_bytes());
            out.push(b'\n');
        }
        out.push(b'\n');
        out.extend_from_slice(&note);
        out
    }

    /// The old size.
    pub fn old_size(&self) -> u64 {
        self.old_size
    }

    /// The consistency proof from the old size to the checkpoint's size.
    pub fn proof(&self) -> &[Hash] {
        &self.proof
    }

    /// The signed checkpoint note, as sent (not verified).
    pub fn note(&self) -> &Note {
        &self.note
    }

    /// The checkpoint parsed from the note text (not verified).
    pub fn checkpoint(&self) -> &Checkpoint {
        &self.checkpoint
    }

    /// The old size, the proof and the note.
    pub fn into_parts(self) -> (u64, Vec<Hash>, Note) {
        (self.old_size, self.proof, self.note)
    }
}

/// Parses a 200 `add-checkpoint` response body (tlog-witness §add-checkpoint): one or more
/// note signature lines, each ending in `\n`, at most [`MAX_SIGNATURES`]. Nothing is
/// verified: append the lines to the checkpoint note and open it with the witness keys.
pub fn parse_add_checkpoint_response(body: &[u8]) -> Result<Vec<SignatureLine>, CosignatureError> {
    if body.len() > MAX_NOTE_SIZE {
        return Err(NoteError::TooLarge {
            size: body.len(),
            max: MAX_NOTE_SIZE,
        }
        .into());
    }
    let text = core::str::from_utf8(body).map_err(|e| NoteError::InvalidUtf8 {
        offset: e.valid_up_to(),
    })?;
    if text.is_empty() {
        return Err(CosignatureError::EmptyResponse);
    }
    if !text.ends_with('\n') {
        return Err(NoteError::MissingFinalNewline.into());
    }
    if text.bytes().filter(|&b| b == b'\n').count() > MAX_SIGNATURES {
        return Err(NoteError::TooManySignatures {
            max: MAX_SIGNATURES,
        }
        .into());
    }
    text.split_terminator('\n')
        .enumerate()
        .map(|(index, line)| {
            SignatureLine::parse(line)
                .map_err(|problem| NoteError::SignatureLine { index, problem }.into())
        })
        .collect()
}

/// Formats a 200 `add-checkpoint` response body: each line followed by `\n`. Refuses an
/// empty list (the spec requires one or more lines) and more than [`MAX_SIGNATURES`].
pub fn format_add_checkpoint_response(
    lines: &[SignatureLine],
) -> Result<Vec<u8>, CosignatureError> {
    if lines.is_empty() {
        return Err(CosignatureError::EmptyResponse);
    }
    if lines.len() > MAX_SIGNATURES {
        return Err(NoteError::TooManySignatures {
            max: MAX_SIGNATURES,
        }
        .into());
    }
    let mut out = String::new();
    for line in lines {
        out.push_str(&line.to_string());
        out.push('\n');
    }
    Ok(out.into_bytes())
}

/// Parses a 409 `add-checkpoint` response body (`text/x.tlog.size`, tlog-witness
/// §add-checkpoint): the witness's latest cosigned size in decimal and a newline.
pub fn parse_conflict_body(body: &[u8]) -> Result<u64, CosignatureError> {
    let line = body
        .strip_suffix(b"\n")
        .ok_or(NoteError::MissingFinalNewline)?;
    let line = core::str::from_utf8(line).map_err(|e| NoteError::InvalidUtf8 {
        offset: e.valid_up_to(),
    })?;
    parse_decimal(line).map_err(CosignatureError::InvalidOldSize)
}

/// Formats a 409 `add-checkpoint` response body: `<size>\n`.
pub fn format_conflict_body(size: u64) -> String {
    format!("{size}\n")
}

// Keep the note module's limits in one place: a response is at most a note's worth of lines.
const _: () = assert!(MAX_SIGNATURES * (note::MAX_SIGNATURE_LINE_LEN + 1) <= MAX_NOTE_SIZE);
