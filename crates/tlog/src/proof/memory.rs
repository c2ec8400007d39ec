//! A whole tree in memory: every complete subtree hash, for tests, benchmarks and tools.

use thiserror::Error;

use super::HashReader;
use crate::hash::Hash;
use crate::merkle::{Frontier, FrontierError, NodeId};

/// Every complete subtree hash of a tree, kept in memory (about `2 × size` hashes).
///
/// Serves as a [`HashReader`] for any tree size up to its own, so proofs and roots of past
/// sizes come from the same object.
#[derive(Clone, Debug, Default)]
pub struct MemoryTree {
    frontier: Frontier,
    /// `levels[l][i]` is the hash of `NodeId(l, i)`.
    levels: Vec<Vec<Hash>>,
}

/// A [`MemoryTree`] was asked for a node it does not have (not complete in the tree).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("node {id:?} is not a complete subtree of the tree")]
pub struct MissingNode {
    /// The node asked for.
    pub id: NodeId,
}

impl MemoryTree {
    /// The empty tree.
    pub fn new() -> MemoryTree {
        MemoryTree::default()
    }

    /// The tree of these leaf hashes.
    pub fn from_leaves(leaves: &[Hash]) -> MemoryTree {
        let mut tree = MemoryTree::new();
        for leaf in leaves {
            // A slice holds far fewer than u64::MAX hashes, so the tree cannot fill up.
            if tree.push(*leaf).is_err() {
                break;
            }
        }
        tree
    }

    /// Appends a leaf hash; returns its index.
    pub fn push(&mut self, leaf: Hash) -> Result<u64, FrontierError> {
        let levels = &mut self.levels;
        self.frontier.append(leaf, |id, hash| {
            let level = usize::from(id.level());
            if levels.len() <= level {
                levels.resize_with(level + 1, Vec::new);
            }
            // Nodes of a level complete left to right, so this is index `id.index()`.
            levels[level].push(*hash);
        })
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.frontier.size()
    }

    /// The root of the whole tree.
    pub fn root(&self) -> Hash {
        self.frontier.root()
    }

    /// The frontier of the whole tree.
    pub fn frontier(&self) -> &Frontier {
        &self.frontier
    }

    /// The hash of a complete subtree, if the tree has it.
    pub fn node(&self, id: NodeId) -> Option<Hash> {
        let level = self.levels.get(usize::from(id.level()))?;
        let index = usize::try_from(id.index()).ok()?;
        level.get(index).copied()
    }
}

impl HashReader for MemoryTree {
    type Error = MissingNode;

    fn read_hashes(&self, ids: &[NodeId]) -> Result<Vec<Hash>, MissingNode> {
        ids.iter()
            .map(|&id| self.node(id).ok_or(MissingNode { id }))
            .collect()
    }
}
