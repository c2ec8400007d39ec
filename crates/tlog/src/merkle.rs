//! The shape of an RFC 9162 Merkle tree and its right frontier.
//!
//! What it does:
//! - [`NodeId`] names a complete subtree (RFC 9162 §2.1.1: a node whose leaves are a
//!   power-of-two-sized, aligned run of the log), by level and index;
//! - [`Frontier`] appends leaf hashes to a tree in amortised O(1) hashes each while
//!   keeping only one hash per set bit of the tree size (a "compact range" over
//!   `[0, size)`), reports every node an append completes so storage can record it, and
//!   computes the root (RFC 9162 §2.1.1 `MTH`) in O(log size);
//! - [`root_of`] is the plain recursive `MTH` over a slice of leaf hashes, the reference the
//!   tests hold everything else to.
//!
//! What it does not do: store anything, or read stored hashes (see [`crate::proof`] and
//! [`crate::tile`]). Sizes and indices are `u64` everywhere; every tree size up to
//! `u64::MAX` is handled without overflow.

use thiserror::Error;

use crate::hash::{Hash, empty_root, node_hash};

/// The highest level a complete subtree can have in a tree of at most `u64::MAX` leaves.
pub const MAX_LEVEL: u8 = 63;

/// A complete subtree: the `2^level` leaves `[index·2^level, (index+1)·2^level)`.
///
/// Level 0 nodes are leaves. Built only through [`NodeId::new`], which refuses nodes that
/// could not be complete in any tree of at most `u64::MAX` leaves, so [`NodeId::start`] and
/// [`NodeId::end`] never overflow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId {
    level: u8,
    index: u64,
}

impl NodeId {
    /// The node at `level` and `index`; `None` when `level > 63` or when the node's last
    /// leaf would lie past `u64::MAX - 1` (no tree of `u64` size could hold it).
    pub const fn new(level: u8, index: u64) -> Option<NodeId> {
        if level > MAX_LEVEL {
            return None;
        }
        // The node is valid iff (index + 1) << level <= u64::MAX.
        let max_index = (u64::MAX >> level) - 1;
        if index > max_index {
            return None;
        }
        Some(NodeId { level, index })
    }

    /// The leaf at `index`; `None` only for `u64::MAX`.
    pub const fn leaf(index: u64) -> Option<NodeId> {
        NodeId::new(0, index)
    }

    /// Constructor for callers that have already established validity.
    pub(crate) const fn new_unchecked(level: u8, index: u64) -> NodeId {
        NodeId { level, index }
    }

    /// Height of the subtree above its leaves: 0 for a leaf.
    pub const fn level(self) -> u8 {
        self.level
    }

    /// Position among the nodes of the same level, counting from the left.
    pub const fn index(self) -> u64 {
        self.index
    }

    /// Number of leaves under the node, `2^level`.
    pub const fn leaf_count(self) -> u64 {
        1 << self.level
    }

    /// Index of the first leaf under the node.
    pub const fn start(self) -> u64 {
        self.index << self.level
    }

    /// One past the index of the last leaf under the node.
    pub const fn end(self) -> u64 {
        (self.index + 1) << self.level
    }

    /// Whether the node is a complete subtree of the tree of `size` leaves.
    pub const fn is_complete_in(self, size: u64) -> bool {
        self.end() <= size
    }

    /// The node one level up that contains this one, if it is a valid node.
    pub const fn parent(self) -> Option<NodeId> {
        if self.level == MAX_LEVEL {
            return None;
        }
        NodeId::new(self.level + 1, self.index >> 1)
    }

    /// The two halves of the node; `None` for a leaf.
    pub const fn children(self) -> Option<(NodeId, NodeId)> {
        if self.level == 0 {
            return None;
        }
        // Both children end no later than this node, so they are valid.
        let left = NodeId::new_unchecked(self.level - 1, self.index << 1);
        let right = NodeId::new_unchecked(self.level - 1, (self.index << 1) | 1);
        Some((left, right))
    }
}

/// Appends the maximal complete subtrees that make up `[start, end)` to `out`, left to
/// right.
///
/// Each node is as large as the alignment of its start and the remaining length allow.
/// For the ranges that RFC 9162 proofs and roots use (`start` a multiple of a power of two
/// at least `end - start`), the nodes come out in decreasing size and the range's `MTH` is
/// their fold from the right ([`fold_right`]).
pub(crate) fn push_range_nodes(mut start: u64, end: u64, out: &mut Vec<NodeId>) {
    while start < end {
        let len = end - start;
        // floor(log2(len)) <= 63 and trailing_zeros(start) <= 64: the min is <= 63.
        let by_len = 63 - len.leading_zeros();
        let level = start.trailing_zeros().min(by_len);
        let level = level as u8; // <= 63
        out.push(NodeId::new_unchecked(level, start >> level));
        start += 1u64 << level; // <= end, no overflow
    }
}

/// Folds subtree hashes from the right: `H(h0, H(h1, … H(hk-1, hk)))`; `None` if empty.
///
/// This is how RFC 9162 §2.1.1 `MTH` combines the decreasing complete subtrees of a range.
pub(crate) fn fold_right(hashes: &[Hash]) -> Option<Hash> {
    let (last, rest) = hashes.split_last()?;
    Some(rest.iter().rev().fold(*last, |acc, h| node_hash(h, &acc)))
}

/// The nodes the frontier of a tree of `size` leaves holds: one per set bit of `size`,
/// largest (leftmost) first. Together they cover `[0, size)`; the root is their hashes
/// folded from the right.
pub fn frontier_ids(size: u64) -> Vec<NodeId> {
    let mut out = Vec::with_capacity(size.count_ones() as usize);
    push_range_nodes(0, size, &mut out);
    out
}

/// Why a [`Frontier`] could not be built or extended.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum FrontierError {
    /// The stored parts disagree: a frontier of `size` leaves holds one hash per set bit
    /// of `size`.
    #[error("a frontier of size {size} holds {expected} hashes, got {got}")]
    HashCount {
        /// The tree size given.
        size: u64,
        /// `size.count_ones()`.
        expected: usize,
        /// The number of hashes given.
        got: usize,
    },
    /// The tree already has `u64::MAX` leaves, the most a `u64` size can count.
    #[error("the tree is full: it already has u64::MAX leaves")]
    Full,
}

/// The right frontier of a tree: the hashes of the maximal complete subtrees covering
/// `[0, size)`, enough to append and to compute the root.
///
/// Invariant: `hashes.len() == size.count_ones()`, and `hashes[i]` is the hash of
/// `frontier_ids(size)[i]`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Frontier {
    size: u64,
    hashes: Vec<Hash>,
}

impl Frontier {
    /// The frontier of the empty tree.
    pub fn new() -> Frontier {
        Frontier::default()
    }

    /// Rebuilds a frontier from stored parts: the tree size and the hashes of
    /// [`frontier_ids`]`(size)`, in that order.
    ///
    /// Only the count can be checked here; that the hashes are the right ones shows when
    /// [`Frontier::root`] is compared with a signed checkpoint.
    pub fn from_parts(size: u64, hashes: Vec<Hash>) -> Result<Frontier, FrontierError> {
        let expected = size.count_ones() as usize;
        if hashes.len() != expected {
            return Err(FrontierError::HashCount {
                size,
                expected,
                got: hashes.len(),
            });
        }
        Ok(Frontier { size, hashes })
    }

    /// Number of leaves in the tree.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The frontier hashes, largest subtree first (see [`frontier_ids`]).
    pub fn hashes(&self) -> &[Hash] {
        &self.hashes
    }

    /// The nodes whose hashes [`Frontier::hashes`] holds.
    pub fn ids(&self) -> Vec<NodeId> {
        frontier_ids(self.size)
    }

    /// Appends one leaf hash and returns its index.
    ///
    /// `on_complete` is called for every node that the append completes, from the leaf
    /// itself (level 0) upwards, with its hash; each node of the tree is reported exactly
    /// once over a run of appends. Costs one node hash per completed interior node:
    /// amortised one per append.
    pub fn append(
        &mut self,
        leaf: Hash,
        mut on_complete: impl FnMut(NodeId, &Hash),
    ) -> Result<u64, FrontierError> {
        let index = self.size;
        // u64::MAX itself is a valid size, so `index + 1` below cannot overflow after this.
        if index == u64::MAX {
            return Err(FrontierError::Full);
        }
        on_complete(NodeId::new_unchecked(0, index), &leaf);
        let mut node = leaf;
        // Each trailing one bit of `index` is a complete subtree at the end of `hashes`
        // that the new leaf now completes a sibling for. `index < u64::MAX`, so there are
        // at most 63 of them and every level below stays <= 63.
        for level in 1..=index.trailing_ones() {
            let Some(left) = self.hashes.pop() else {
                // Unreachable: `hashes` holds one hash per set bit of `index` (invariant),
                // the trailing ones among them last.
                break;
            };
            node = node_hash(&left, &node);
            let level = level as u8; // <= 63
            on_complete(NodeId::new_unchecked(level, index >> level), &node);
        }
        self.hashes.push(node);
        self.size = index + 1;
        Ok(index)
    }

    /// The root of the tree (RFC 9162 §2.1.1 `MTH`): the frontier folded from the right,
    /// or `SHA-256("")` for the empty tree. O(log size) hashes.
    pub fn root(&self) -> Hash {
        fold_right(&self.hashes).unwrap_or_else(empty_root)
    }
}

/// RFC 9162 §2.1.1 `MTH` of a list of leaf hashes, by its recursive definition: the
/// reference the faster code is tested against. O(n) hashes, O(log n) stack depth.
pub fn root_of(leaves: &[Hash]) -> Hash {
    match leaves {
        [] => empty_root(),
        [leaf] => *leaf,
        _ => {
            // k is the largest power of two smaller than n (n >= 2).
            let n = leaves.len();
            let k = 1usize << (usize::BITS - 1 - (n - 1).leading_zeros());
            let (left, right) = leaves.split_at(k);
            node_hash(&root_of(left), &root_of(right))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::leaf_hash;

    fn leaves(n: u64) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect()
    }

    #[test]
    fn node_bounds() {
        assert_eq!(NodeId::new(64, 0), None);
        assert_eq!(NodeId::new(63, 0).map(NodeId::end), Some(1 << 63));
        assert_eq!(NodeId::new(63, 1), None);
        assert_eq!(NodeId::leaf(u64::MAX), None);
        assert_eq!(NodeId::leaf(u64::MAX - 1).map(NodeId::end), Some(u64::MAX));
        let n = NodeId::new(3, 5).unwrap();
        assert_eq!((n.start(), n.end(), n.leaf_count()), (40, 48, 8));
        assert_eq!(n.parent(), NodeId::new(4, 2));
        assert_eq!(
            n.children(),
            Some((NodeId::new(2, 10).unwrap(), NodeId::new(2, 11).unwrap()))
        );
        assert!(n.is_complete_in(48) && !n.is_complete_in(47));
    }

    #[test]
    fn frontier_matches_reference_and_reports_every_node_once() {
        let all = leaves(300);
        let mut f = Frontier::new();
        let mut seen = std::collections::BTreeSet::new();
        for (i, leaf) in all.iter().enumerate() {
            let got = f
                .append(*leaf, |id, _| assert!(seen.insert(id), "{id:?} twice"))
                .unwrap();
            assert_eq!(got, i as u64);
            assert_eq!(f.root(), root_of(&all[..=i]));
            assert_eq!(f.ids(), frontier_ids(f.size()));
        }
        // A tree of n leaves has 2n - 1 - (number of incomplete nodes) complete nodes.
        let complete: usize = (0..=8).map(|l| 300usize >> l).sum();
        assert_eq!(seen.len(), complete);
    }

    #[test]
    fn frontier_from_parts_checks_count_and_full_tree() {
        assert!(matches!(
            Frontier::from_parts(3, vec![Hash::default()]),
            Err(FrontierError::HashCount {
                expected: 2,
                got: 1,
                ..
            })
        ));
        let mut f = Frontier::from_parts(u64::MAX, vec![Hash::default(); 64]).unwrap();
        assert_eq!(
            f.append(Hash::default(), |_, _| {}),
            Err(FrontierError::Full)
        );
        let mut f = Frontier::from_parts(u64::MAX - 1, vec![Hash::default(); 63]).unwrap();
        let mut top = None;
        assert_eq!(
            f.append(Hash::default(), |id, _| top = Some(id)),
            Ok(u64::MAX - 1)
        );
        assert_eq!(top.map(NodeId::level), Some(0));
        assert_eq!(f.hashes().len(), 64);
    }

    #[test]
    fn range_nodes_cover_exactly() {
        for (start, end) in [(0u64, 0u64), (0, 7), (4, 7), (6, 7), (8, 16), (12, 15)] {
            let mut out = Vec::new();
            push_range_nodes(start, end, &mut out);
            let mut at = start;
            for id in &out {
                assert_eq!(id.start(), at);
                at = id.end();
            }
            assert_eq!(at, end);
        }
        assert_eq!(frontier_ids(u64::MAX).len(), 64);
    }
}
