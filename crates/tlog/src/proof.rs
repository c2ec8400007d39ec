//! Inclusion and consistency proofs: which hashes they need, generating them from stored
//! hashes, and verifying them.
//!
//! What it does:
//! - plans a proof ([`inclusion_plan`], [`consistency_plan`], [`root_plan`]): every proof
//!   element of RFC 9162 §2.1.3.1 (`PATH`) and §2.1.4.1 (`SUBPROOF`) is the `MTH` of a
//!   range of leaves, which the plan splits into aligned complete subtrees ([`NodeId`]s).
//!   A client fetches exactly [`ProofPlan::ids`]; a server reads them from storage;
//! - generates proofs and roots from any [`HashReader`] in one batched read
//!   ([`prove_inclusion`], [`prove_consistency`], [`root_at`]);
//! - verifies proofs exactly as RFC 9162 §2.1.3.2 and §2.1.4.2 describe
//!   ([`verify_inclusion`], [`verify_consistency`]), with a specific [`VerifyError`] per
//!   failure and no panic on any input;
//! - keeps a whole tree in memory ([`MemoryTree`]) for tests, benchmarks and small tools.
//!
//! What it does not do: trust a [`HashReader`]. Generation folds whatever the reader
//! returns; only verification against a signed root tells a good proof from a bad one.
//! Consistency from the empty tree is not an RFC 9162 proof (§2.1.4 defines proofs
//! between two non-empty trees): every tree extends the empty one, so callers check an
//! old size of 0 themselves and the functions here refuse it with
//! [`RangeError::OldSizeZero`] / [`VerifyError::OldSizeZero`].

mod memory;
mod plan;
mod verify;

use thiserror::Error;

use crate::hash::{Hash, empty_root};
use crate::merkle::NodeId;

pub use memory::{MemoryTree, MissingNode};
pub use plan::{ProofPlan, consistency_plan, inclusion_plan, root_plan};
pub use verify::{
    VerifyError, consistency_proof_len, inclusion_proof_len, root_from_inclusion_proof,
    verify_consistency, verify_inclusion,
};

/// Reads the hashes of complete subtrees of a tree.
///
/// Contract: `read_hashes(ids)` returns one hash per id, in the order asked (the ids may
/// repeat and need not be sorted), or an error; each id asked is a complete subtree of
/// the tree the caller is working on. The functions of this module ask for everything
/// they need in one call. A reader that does not have a node returns an error: it never
/// invents a hash. The hashes are not authenticated by anything here.
pub trait HashReader {
    /// Why a read failed (storage error, node not stored, ...).
    type Error: std::error::Error + 'static;

    /// Returns the hashes of `ids`, in order.
    fn read_hashes(&self, ids: &[NodeId]) -> Result<Vec<Hash>, Self::Error>;
}

impl<T: HashReader + ?Sized> HashReader for &T {
    type Error = T::Error;

    fn read_hashes(&self, ids: &[NodeId]) -> Result<Vec<Hash>, Self::Error> {
        (**self).read_hashes(ids)
    }
}

/// Sizes or indices for which no proof exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum RangeError {
    /// The empty tree has no leaves to prove.
    #[error("the tree is empty")]
    EmptyTree,
    /// The leaf index is not below the tree size.
    #[error("leaf index {index} is not in a tree of size {size}")]
    IndexOutOfRange {
        /// The leaf index asked for.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// Consistency from the empty tree is not defined by RFC 9162 §2.1.4; every tree is
    /// consistent with it, so the caller handles it without a proof.
    #[error("consistency from the empty tree has no proof")]
    OldSizeZero,
    /// The old tree is larger than the new one.
    #[error("old size {old} is larger than new size {new}")]
    OldSizeGreater {
        /// The old tree size.
        old: u64,
        /// The new tree size.
        new: u64,
    },
}

/// Why a proof or root could not be generated.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ProofError<E> {
    /// The sizes or index ask for a proof that does not exist (caller misuse).
    #[error("invalid proof range")]
    Range(#[from] RangeError),
    /// The hash reader failed (our storage's failure).
    #[error("reading stored hashes failed")]
    Reader(#[source] E),
    /// The hash reader broke its contract by returning the wrong number of hashes.
    #[error("hash reader returned {got} hashes for {expected} nodes")]
    HashCount {
        /// The number of nodes asked for.
        expected: usize,
        /// The number of hashes returned.
        got: usize,
    },
}

/// Reads the nodes of `plan` in one batch and folds them into proof elements.
pub fn prove_plan<R: HashReader>(
    reader: &R,
    plan: &ProofPlan,
) -> Result<Vec<Hash>, ProofError<R::Error>> {
    if plan.ids().is_empty() {
        return Ok(Vec::new());
    }
    let hashes = reader.read_hashes(plan.ids()).map_err(ProofError::Reader)?;
    plan.assemble(&hashes).ok_or(ProofError::HashCount {
        expected: plan.ids().len(),
        got: hashes.len(),
    })
}

/// The root of the tree of `size` leaves (RFC 9162 §2.1.1 `MTH`), read from `reader` in
/// one batch of at most 64 hashes; `SHA-256("")` for size 0, without reading.
pub fn root_at<R: HashReader>(reader: &R, size: u64) -> Result<Hash, ProofError<R::Error>> {
    let proof = prove_plan(reader, &root_plan(size))?;
    Ok(proof.first().copied().unwrap_or_else(empty_root))
}

/// The inclusion proof of leaf `index` in the tree of `size` leaves (RFC 9162 §2.1.3.1
/// `PATH(index, D[0:size])`), read from `reader` in one batch.
pub fn prove_inclusion<R: HashReader>(
    reader: &R,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>, ProofError<R::Error>> {
    prove_plan(reader, &inclusion_plan(index, size)?)
}

/// The consistency proof from the tree of `old` leaves to the tree of `new` leaves
/// (RFC 9162 §2.1.4.1 `PROOF(old, D[0:new])`), read from `reader` in one batch. Empty when
/// `old == new`; an error for `old == 0` (see the module doc).
pub fn prove_consistency<R: HashReader>(
    reader: &R,
    old: u64,
    new: u64,
) -> Result<Vec<Hash>, ProofError<R::Error>> {
    prove_plan(reader, &consistency_plan(old, new)?)
}
