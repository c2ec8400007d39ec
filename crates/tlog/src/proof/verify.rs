//! Proof verification, RFC 9162 §2.1.3.2 and §2.1.4.2.
//!
//! The expected proof length is checked first so that a proof of the wrong length gets
//! its own error; then the RFC algorithms run as written (their own length checks stay,
//! as a second line).

use thiserror::Error;

use super::RangeError;
use crate::hash::{Hash, node_hash};

/// Why a proof did not verify. Every variant is a reason to distrust the proof, or the
/// request (sizes, index) it was checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// Inclusion in the empty tree: it has no leaves.
    #[error("the tree is empty")]
    EmptyTree,
    /// The leaf index is not below the tree size.
    #[error("leaf index {index} is not in a tree of size {size}")]
    IndexOutOfRange {
        /// The leaf index.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// Consistency from the empty tree is not defined by RFC 9162 §2.1.4; every tree
    /// extends the empty tree, so the caller accepts it without a proof (after checking
    /// that the old root, if it has one, is `SHA-256("")`).
    #[error("consistency from the empty tree has no proof")]
    OldSizeZero,
    /// The old tree is larger than the new one: logs only grow.
    #[error("old size {old} is larger than new size {new}")]
    OldSizeGreater {
        /// The old tree size.
        old: u64,
        /// The new tree size.
        new: u64,
    },
    /// The proof does not have the number of hashes the sizes (and index) imply.
    #[error("proof has {got} hashes, expected {expected}")]
    WrongProofLength {
        /// The length the sizes imply.
        expected: usize,
        /// The length of the proof given.
        got: usize,
    },
    /// The root computed from the leaf and the inclusion proof is not the expected root.
    #[error("computed root {computed}, expected {expected}")]
    RootMismatch {
        /// The root the proof leads to.
        computed: Hash,
        /// The root it was checked against.
        expected: Hash,
    },
    /// The consistency proof does not lead to the old root.
    #[error("computed old root {computed}, expected {expected}")]
    OldRootMismatch {
        /// The old root the proof leads to.
        computed: Hash,
        /// The old root it was checked against.
        expected: Hash,
    },
    /// The consistency proof does not lead to the new root.
    #[error("computed new root {computed}, expected {expected}")]
    NewRootMismatch {
        /// The new root the proof leads to.
        computed: Hash,
        /// The new root it was checked against.
        expected: Hash,
    },
    /// Two different roots for the same tree size: if both are signed, the log has shown
    /// two histories (a fork).
    #[error("two different roots for size {size}: {old_root} and {new_root}")]
    SameSizeDifferentRoots {
        /// The tree size.
        size: u64,
        /// The root given as old.
        old_root: Hash,
        /// The root given as new.
        new_root: Hash,
    },
}

impl From<RangeError> for VerifyError {
    fn from(e: RangeError) -> Self {
        match e {
            RangeError::EmptyTree => VerifyError::EmptyTree,
            RangeError::IndexOutOfRange { index, size } => {
                VerifyError::IndexOutOfRange { index, size }
            }
            RangeError::OldSizeZero => VerifyError::OldSizeZero,
            RangeError::OldSizeGreater { old, new } => VerifyError::OldSizeGreater { old, new },
        }
    }
}

/// Bit length of `x`: 0 for 0.
fn bit_len(x: u64) -> u32 {
    u64::BITS - x.leading_zeros()
}

/// The number of hashes in the inclusion proof of leaf `index` in a tree of `size`
/// leaves: the leaf's depth in the RFC 9162 tree.
pub fn inclusion_proof_len(index: u64, size: u64) -> Result<usize, RangeError> {
    if size == 0 {
        return Err(RangeError::EmptyTree);
    }
    if index >= size {
        return Err(RangeError::IndexOutOfRange { index, size });
    }
    // Below the level where the paths to `index` and to the last leaf meet, every level
    // has a sibling; above it, only the levels where `index` descends to the right.
    let inner = bit_len(index ^ (size - 1));
    let border = index.checked_shr(inner).unwrap_or(0).count_ones();
    Ok((inner + border) as usize)
}

/// The number of hashes in the consistency proof from `old` to `new` leaves; 0 when
/// `old == new`.
pub fn consistency_proof_len(old: u64, new: u64) -> Result<usize, RangeError> {
    if old > new {
        return Err(RangeError::OldSizeGreater { old, new });
    }
    if old == 0 {
        return Err(RangeError::OldSizeZero);
    }
    if old == new {
        return Ok(0);
    }
    // Above the old tree's last complete subtree the proof is the inclusion proof of that
    // subtree, plus the subtree itself unless it is the whole old tree.
    let shift = old.trailing_zeros();
    let index = (old - 1) >> shift;
    let last = (new - 1) >> shift;
    let inner = bit_len(index ^ last);
    let border = index.checked_shr(inner).unwrap_or(0).count_ones();
    Ok((inner + border) as usize + usize::from(index != 0))
}

/// The root that an inclusion proof leads to from `leaf` at `index` in a tree of `size`
/// leaves (RFC 9162 §2.1.3.2 steps 1–3). Compare it with a trusted root, or use
/// [`verify_inclusion`].
pub fn root_from_inclusion_proof(
    leaf: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
) -> Result<Hash, VerifyError> {
    let expected = inclusion_proof_len(index, size)?;
    let wrong_len = VerifyError::WrongProofLength {
        expected,
        got: proof.len(),
    };
    if proof.len() != expected {
        return Err(wrong_len);
    }
    // RFC 9162 §2.1.3.2; `size >= 1` here.
    let (mut fnode, mut snode, mut r) = (index, size - 1, *leaf);
    for p in proof {
        if snode == 0 {
            return Err(wrong_len);
        }
        if fnode & 1 == 1 || fnode == snode {
            r = node_hash(p, &r);
            while fnode & 1 == 0 && fnode != 0 {
                fnode >>= 1;
                snode >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(wrong_len);
    }
    Ok(r)
}

/// Verifies that `leaf` is the leaf hash at `index` in the tree of `size` leaves whose
/// root is `root`, with the inclusion proof `proof` (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(
    leaf: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), VerifyError> {
    let computed = root_from_inclusion_proof(leaf, index, size, proof)?;
    if computed != *root {
        return Err(VerifyError::RootMismatch {
            computed,
            expected: *root,
        });
    }
    Ok(())
}

/// Verifies that the tree of `new` leaves with root `new_root` extends the tree of `old`
/// leaves with root `old_root`, with the consistency proof `proof` (RFC 9162 §2.1.4.2).
///
/// Equal sizes need an empty proof and equal roots ([`VerifyError::SameSizeDifferentRoots`]
/// otherwise). An old size of 0 is refused with [`VerifyError::OldSizeZero`]: see there.
pub fn verify_consistency(
    old: u64,
    new: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), VerifyError> {
    let expected = consistency_proof_len(old, new)?;
    let wrong_len = VerifyError::WrongProofLength {
        expected,
        got: proof.len(),
    };
    if proof.len() != expected {
        return Err(wrong_len);
    }
    if old == new {
        if old_root != new_root {
            return Err(VerifyError::SameSizeDifferentRoots {
                size: old,
                old_root: *old_root,
                new_root: *new_root,
            });
        }
        return Ok(());
    }
    // RFC 9162 §2.1.4.2, 0 < old < new. Step 2: a power-of-two old tree is a complete
    // subtree whose hash is the old root, so the proof leaves it out.
    let (first, rest) = if old.is_power_of_two() {
        (old_root, proof)
    } else {
        proof.split_first().ok_or(wrong_len)?
    };
    let (mut fnode, mut snode) = (old - 1, new - 1);
    while fnode & 1 == 1 {
        fnode >>= 1;
        snode >>= 1;
    }
    let (mut fr, mut sr) = (*first, *first);
    for c in rest {
        if snode == 0 {
            return Err(wrong_len);
        }
        if fnode & 1 == 1 || fnode == snode {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while fnode & 1 == 0 && fnode != 0 {
                fnode >>= 1;
                snode >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(wrong_len);
    }
    if fr != *old_root {
        return Err(VerifyError::OldRootMismatch {
            computed: fr,
            expected: *old_root,
        });
    }
    if sr != *new_root {
        return Err(VerifyError::NewRootMismatch {
            computed: sr,
            expected: *new_root,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proof::{consistency_plan, inclusion_plan};

    #[test]
    fn lengths_agree_with_plans() {
        for size in 1..=130u64 {
            for index in 0..size {
                let plan = inclusion_plan(index, size).unwrap();
                assert_eq!(inclusion_proof_len(index, size), Ok(plan.proof_len()));
            }
            for old in 1..=size {
                let plan = consistency_plan(old, size).unwrap();
                assert_eq!(consistency_proof_len(old, size), Ok(plan.proof_len()));
            }
        }
        for (a, b) in [(1, u64::MAX), (u64::MAX - 1, u64::MAX), (1 << 63, u64::MAX)] {
            let plan = consistency_plan(a, b).unwrap();
            assert_eq!(consistency_proof_len(a, b), Ok(plan.proof_len()));
            let plan = inclusion_plan(a, b).unwrap();
            assert_eq!(inclusion_proof_len(a, b), Ok(plan.proof_len()));
        }
    }

    #[test]
    fn refuses_bad_requests_without_panicking() {
        let h = Hash::default();
        assert_eq!(
            verify_inclusion(&h, 0, 0, &[], &h),
            Err(VerifyError::EmptyTree)
        );
        assert_eq!(
            verify_inclusion(&h, u64::MAX, u64::MAX, &[], &h),
            Err(VerifyError::IndexOutOfRange {
                index: u64::MAX,
                size: u64::MAX
            })
        );
        assert_eq!(
            verify_consistency(0, 0, &h, &h, &[]),
            Err(VerifyError::OldSizeZero)
        );
        assert_eq!(
            verify_consistency(2, 1, &h, &h, &[]),
            Err(VerifyError::OldSizeGreater { old: 2, new: 1 })
        );
        assert_eq!(
            verify_consistency(3, 3, &h, &h, &[h]),
            Err(VerifyError::WrongProofLength {
                expected: 0,
                got: 1
            })
        );
        assert!(matches!(
            verify_consistency(3, 3, &h, &Hash([1; 32]), &[]),
            Err(VerifyError::SameSizeDifferentRoots { size: 3, .. })
        ));
        assert_eq!(verify_consistency(3, 3, &h, &h, &[]), Ok(()));
        assert!(matches!(
            verify_consistency(u64::MAX - 1, u64::MAX, &h, &h, &[h; 64]),
            Err(VerifyError::WrongProofLength { .. } | VerifyError::OldRootMismatch { .. })
        ));
    }
}
