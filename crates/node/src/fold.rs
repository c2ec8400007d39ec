//! Folding entries of the replica through the group's rules ([`Rules`]) in constant
//! memory: the rules keep no record of what views read, and find earlier statements in
//! the replica ([`InReplica`]) instead of an index in memory. Sync, audit and opening a
//! node all fold this way, a chunk of entries at a time.

use std::collections::HashMap;

use statement::envelope::FormatError;
use statement::group::{Logged, Lookup, Refused, Rules, SignatureCheck};
use statement::{Rejection, Signed, StatementId};

use crate::NodeError;
use crate::precheck::precheck;
use crate::replica::Replica;

/// The replica as the fold's [`Lookup`]: its entries (with those a sync appended so far
/// in its open transaction), and the statements of the chunk being folded.
struct InReplica<'a> {
    replica: &'a Replica,
    recent: &'a HashMap<StatementId, Logged>,
}

impl Lookup for InReplica<'_> {
    type Error = NodeError;

    fn logged(&self, id: &StatementId, size: u64) -> Result<Option<Logged>, NodeError> {
        let found = match self.recent.get(id) {
            Some(l) => Some(*l),
            None => self.replica.find(id)?,
        };
        Ok(found.filter(|l| l.index < size))
    }
}

/// How a chunk's signatures are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Signatures {
    /// Verified, on every core.
    Verify,
    /// Not checked: entries this node already verified (reopening its replica).
    Trusted,
}

/// Why folding stopped.
pub(crate) enum FoldStop {
    /// The entry at this index is not a well-formed statement.
    Entry(u64, FormatError),
    /// The rules refuse the entry at this index.
    Rule(u64, Rejection),
    /// The replica failed.
    Node(NodeError),
}

impl FoldStop {
    /// As an error about the replica's own entries (which this node verified before).
    pub(crate) fn in_replica(self) -> NodeError {
        match self {
            FoldStop::Entry(i, e) => NodeError::Replica(format!("entry {i}: {e}")),
            FoldStop::Rule(i, r) => NodeError::Replica(format!("entry {i} breaks the rules: {r}")),
            FoldStop::Node(e) => e,
        }
    }
}

/// Folds `leaves`, the entries at `rules.size()..`, through `rules`, finding earlier
/// statements in `replica`'s entries, and calls `each` with every statement applied;
/// returns their ids. On `Err`, `rules` may have moved on: the caller restores it.
pub(crate) fn fold_chunk(
    rules: &mut Rules,
    replica: &Replica,
    leaves: &[Vec<u8>],
    signatures: Signatures,
    mut each: impl FnMut(&Signed),
) -> Result<Vec<StatementId>, FoldStop> {
    let checked = match signatures {
        Signatures::Verify => precheck(rules.members(), leaves),
        Signatures::Trusted => leaves
            .iter()
            .map(|l| Signed::from_leaf(l).map(|s| (s, None)))
            .collect(),
    };
    let mut recent = HashMap::with_capacity(leaves.len());
    let mut ids = Vec::with_capacity(leaves.len());
    for result in checked {
        let index = rules.size();
        let (signed, key) = result.map_err(|e| FoldStop::Entry(index, e))?;
        let check = match (signatures, &key) {
            (Signatures::Trusted, _) => SignatureCheck::Trusted,
            (Signatures::Verify, Some(k)) => SignatureCheck::VerifiedWith(k),
            (Signatures::Verify, None) => SignatureCheck::Verify,
        };
        let lookup = InReplica {
            replica,
            recent: &recent,
        };
        let applied = rules.apply(&signed, check, &lookup).map_err(|r| match r {
            Refused::Rule(r) => FoldStop::Rule(index, r),
            Refused::Lookup(e) => FoldStop::Node(e),
        })?;
        recent.insert(
            applied.id,
            Logged {
                index,
                kind: applied.kind,
            },
        );
        each(&signed);
        ids.push(applied.id);
    }
    Ok(ids)
}

/// Folds every entry of the replica, without checking signatures (this node verified
/// them), into a fresh [`Rules`].
pub(crate) fn reopen(replica: &Replica) -> Result<Rules, NodeError> {
    let mut rules = Rules::new();
    loop {
        let leaves = replica.leaves(rules.size(), crate::precheck::CHUNK)?;
        if leaves.is_empty() {
            return Ok(rules);
        }
        fold_chunk(&mut rules, replica, &leaves, Signatures::Trusted, |_| {})
            .map_err(FoldStop::in_replica)?;
    }
}
