//! Parsing and signature checks of many entries at once, on every core.
//!
//! The group fold is sequential — each statement's rules depend on the ones before — but
//! its costliest part, the Ed25519 check, depends only on the author's key. So a chunk of
//! entries is parsed and verified in parallel (in batches of 64, see
//! [`statement::signature`]) against the keys the group holds before the chunk, and then
//! folded in order with [`SignatureCheck::VerifiedWith`]: the fold skips the check if
//! that is still the author's key and does it again if the key changed inside the chunk
//! (or the author joined inside it).

use std::collections::BTreeMap;

use ed25519_dalek::VerifyingKey;
use statement::envelope::FormatError;
use statement::group::Member;
use statement::{MemberId, Signed};

/// Entries folded per chunk: large enough to keep every core busy, small enough that a
/// chunk's statements take little memory.
pub const CHUNK: usize = 4096;

/// One entry, parsed, with the key its signature verified under (if it did under the
/// author's key before the chunk).
pub type Prechecked = Result<(Signed, Option<VerifyingKey>), FormatError>;

/// Parses each leaf and verifies its signature with its author's current key among
/// `members` (the group's before the chunk), spreading the work over the machine's cores.
/// Results are in input order.
pub fn precheck(members: &BTreeMap<MemberId, Member>, leaves: &[Vec<u8>]) -> Vec<Prechecked> {
    let part = |leaves: &[Vec<u8>]| -> Vec<Prechecked> {
        let mut out: Vec<Prechecked> = leaves
            .iter()
            .map(|leaf| {
                let signed = Signed::from_leaf(leaf)?;
                let key = members
                    .get(&signed.statement().author)
                    .map(|m| *m.key.verifying_key());
                Ok((signed, key))
            })
            .collect();
        statement::signature::keep_verified(&mut out);
        out
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if threads < 2 || leaves.len() < 64 {
        return part(leaves);
    }
    let per = leaves.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let parts: Vec<_> = leaves
            .chunks(per)
            .map(|leaves| scope.spawn(move || part(leaves)))
            .collect();
        parts
            .into_iter()
            // A panic in a worker is a bug in the parser; surface it, do not hide it.
            .flat_map(|p| p.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}
