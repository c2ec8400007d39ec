//! Which complete subtrees a proof or root is made of.

use super::RangeError;
use crate::hash::Hash;
use crate::merkle::{NodeId, fold_right, push_range_nodes};

/// The complete subtrees a proof (or root) is computed from, and how to fold them.
///
/// Each proof element is the `MTH` of a range of leaves; the plan holds, per element, the
/// maximal complete subtrees of that range (largest first), whose hashes folded from the
/// right give the element. A range that is itself a complete subtree is one node.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ProofPlan {
    ids: Vec<NodeId>,
    /// Number of consecutive `ids` per proof element, in proof order; each is >= 1.
    groups: Vec<u8>,
}

impl ProofPlan {
    fn from_ranges(ranges: impl IntoIterator<Item = (u64, u64)>) -> ProofPlan {
        let mut plan = ProofPlan::default();
        for (start, end) in ranges {
            let before = plan.ids.len();
            push_range_nodes(start, end, &mut plan.ids);
            // A range of u64 leaves splits into at most 64 nodes.
            plan.groups.push((plan.ids.len() - before) as u8);
        }
        plan
    }

    /// Every node whose hash the proof needs, in the order [`ProofPlan::assemble`] takes
    /// them. Fetch or read exactly these.
    pub fn ids(&self) -> &[NodeId] {
        &self.ids
    }

    /// Number of hashes in the finished proof.
    pub fn proof_len(&self) -> usize {
        self.groups.len()
    }

    /// Folds the hashes of [`ProofPlan::ids`] (same order) into the proof; `None` if the
    /// number of hashes is not the number of ids.
    pub fn assemble(&self, hashes: &[Hash]) -> Option<Vec<Hash>> {
        if hashes.len() != self.ids.len() {
            return None;
        }
        let mut rest = hashes;
        let mut proof = Vec::with_capacity(self.groups.len());
        for &n in &self.groups {
            let (group, tail) = rest.split_at(usize::from(n));
            proof.push(fold_right(group)?);
            rest = tail;
        }
        Some(proof)
    }
}

/// The largest power of two strictly below `n`, for `n >= 2`.
fn split_point(n: u64) -> u64 {
    1 << (63 - (n - 1).leading_zeros())
}

/// The plan of the inclusion proof of leaf `index` in the tree of `size` leaves: RFC 9162
/// §2.1.3.1 `PATH(index, D[0:size])`, one element per level, leaf side first.
pub fn inclusion_plan(index: u64, size: u64) -> Result<ProofPlan, RangeError> {
    if size == 0 {
        return Err(RangeError::EmptyTree);
    }
    if index >= size {
        return Err(RangeError::IndexOutOfRange { index, size });
    }
    // Walk down from the root: at each node [lo, hi) the proof takes the MTH of the half
    // that does not hold the leaf.
    let (mut lo, mut hi) = (0, size);
    let mut ranges = Vec::new();
    while hi - lo > 1 {
        let mid = lo + split_point(hi - lo);
        if index < mid {
            ranges.push((mid, hi));
            hi = mid;
        } else {
            ranges.push((lo, mid));
            lo = mid;
        }
    }
    Ok(ProofPlan::from_ranges(ranges.into_iter().rev()))
}

/// The plan of the consistency proof from `old` to `new` leaves: RFC 9162 §2.1.4.1
/// `PROOF(old, D[0:new])`. Empty for `old == new`; [`RangeError::OldSizeZero`] for
/// `old == 0` (see the module doc).
pub fn consistency_plan(old: u64, new: u64) -> Result<ProofPlan, RangeError> {
    if old > new {
        return Err(RangeError::OldSizeGreater { old, new });
    }
    if old == 0 {
        return Err(RangeError::OldSizeZero);
    }
    // SUBPROOF(m, D[lo:hi], whole) with m = old - lo. Invariant: lo < old <= hi, so while
    // old < hi the node has at least two leaves.
    let (mut lo, mut hi, mut whole) = (0, new, true);
    let mut ranges = Vec::new();
    while old < hi {
        let mid = lo + split_point(hi - lo);
        if old <= mid {
            ranges.push((mid, hi));
            hi = mid;
        } else {
            ranges.push((lo, mid));
            lo = mid;
            whole = false;
        }
    }
    // SUBPROOF(m, D[m], false) = MTH(D[m]); with `whole` the verifier has the old root.
    if !whole {
        ranges.push((lo, hi));
    }
    Ok(ProofPlan::from_ranges(ranges.into_iter().rev()))
}

/// The plan of the root of the tree of `size` leaves: one element, the `MTH` of
/// `[0, size)`, made of the frontier nodes. Empty for size 0 (whose root,
/// `SHA-256("")`, needs no stored hash).
pub fn root_plan(size: u64) -> ProofPlan {
    if size == 0 {
        return ProofPlan::default();
    }
    ProofPlan::from_ranges([(0, size)])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (tree size or old size, index or new size, expected nodes as (level, index)).
    type Case = (u64, u64, &'static [(u8, u64)]);

    fn ids(list: &[(u8, u64)]) -> Vec<NodeId> {
        list.iter()
            .map(|&(l, i)| NodeId::new(l, i).unwrap())
            .collect()
    }

    // Node lists from transparency-dev/merkle proof/proof_test.go (TestInclusion,
    // TestConsistency). That code lists the nodes of an ephemeral (rehashed) node right to
    // left; ours go left to right, so those pairs appear swapped here.
    #[test]
    fn inclusion_nodes_match_transparency_dev() {
        let cases: &[Case] = &[
            (1, 0, &[]),
            (2, 0, &[(0, 1)]),
            (3, 1, &[(0, 0), (0, 2)]),
            (7, 0, &[(0, 1), (1, 1), (1, 2), (0, 6)]),
            (7, 3, &[(0, 2), (1, 0), (1, 2), (0, 6)]),
            (7, 6, &[(1, 2), (2, 0)]),
            (5, 3, &[(0, 2), (1, 0), (0, 4)]),
            (15, 10, &[(0, 11), (1, 4), (1, 6), (0, 14), (3, 0)]),
            (
                31,
                24,
                &[(0, 25), (1, 13), (1, 14), (0, 30), (3, 2), (4, 0)],
            ),
            (
                95,
                81,
                &[
                    (0, 80),
                    (1, 41),
                    (2, 21),
                    (2, 22),
                    (1, 46),
                    (0, 94),
                    (4, 4),
                    (6, 0),
                ],
            ),
        ];
        for &(size, index, want) in cases {
            let plan = inclusion_plan(index, size).unwrap();
            assert_eq!(plan.ids(), ids(want), "size {size} index {index}");
        }
    }

    #[test]
    fn consistency_nodes_match_transparency_dev() {
        let cases: &[Case] = &[
            (1, 2, &[(0, 1)]),
            (1, 6, &[(0, 1), (1, 1), (1, 2)]),
            (2, 8, &[(1, 1), (2, 1)]),
            (3, 7, &[(0, 2), (0, 3), (1, 0), (1, 2), (0, 6)]),
            (4, 7, &[(1, 2), (0, 6)]),
            (5, 7, &[(0, 4), (0, 5), (0, 6), (2, 0)]),
            (7, 8, &[(0, 6), (0, 7), (1, 2), (2, 0)]),
            (4, 4, &[]),
            (3, 6, &[(0, 2), (0, 3), (1, 0), (1, 2)]),
            (10, 15, &[(1, 4), (1, 5), (1, 6), (0, 14), (3, 0)]),
            (24, 31, &[(3, 2), (2, 6), (1, 14), (0, 30), (4, 0)]),
        ];
        for &(old, new, want) in cases {
            let plan = consistency_plan(old, new).unwrap();
            assert_eq!(plan.ids(), ids(want), "{old} -> {new}");
        }
    }

    #[test]
    fn ranges_refused() {
        assert_eq!(inclusion_plan(0, 0), Err(RangeError::EmptyTree));
        assert_eq!(
            inclusion_plan(7, 7),
            Err(RangeError::IndexOutOfRange { index: 7, size: 7 })
        );
        assert_eq!(consistency_plan(0, 5), Err(RangeError::OldSizeZero));
        assert_eq!(
            consistency_plan(9, 8),
            Err(RangeError::OldSizeGreater { old: 9, new: 8 })
        );
        assert_eq!(root_plan(0).proof_len(), 0);
    }

    #[test]
    fn huge_sizes_plan_without_overflow() {
        let plan = inclusion_plan(u64::MAX - 1, u64::MAX).unwrap();
        assert_eq!(plan.proof_len(), 63);
        let plan = consistency_plan(u64::MAX - 1, u64::MAX).unwrap();
        assert!(plan.proof_len() > 0);
        assert_eq!(root_plan(u64::MAX).ids().len(), 64);
    }
}
