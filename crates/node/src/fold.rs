//! Folding entries of the replica through the group's rules ([`Rules`]) in constant
//! memory: the rules keep no record of what views read, and find earlier statements in
//! the replica ([`InReplica`]) instead of an index in memory. Sync, audit and opening a
//! node all fold this way, a chunk of entries at a time.

use std::collections::{BTreeMap, HashMap};

use statement::envelope::FormatError;
use statement::group::{Logged, Lookup, Member, Refused, Rules, SignatureCheck};
use statement::{MemberId, Rejection, Signed, StatementId};

use crate::NodeError;
use crate::precheck::{CHUNK, Prechecked, precheck};
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

/// Folds the entries from `rules.size()` on, a chunk at a time as `read(from)` gives them
/// (an empty chunk ends the fold), through `rules`, finding earlier statements in
/// `replica`'s entries. The next chunk's signatures are checked on the other cores while
/// this one folds. `each` is called with every statement applied, and `chunk_done(start,
/// leaves, ids)` after each chunk. On `Err`, `rules` may have moved on: the caller
/// restores it.
pub(crate) fn fold_from(
    rules: &mut Rules,
    replica: &Replica,
    signatures: Signatures,
    mut read: impl FnMut(u64) -> Result<Vec<Vec<u8>>, NodeError>,
    mut each: impl FnMut(&Signed),
    mut chunk_done: impl FnMut(u64, &[Vec<u8>], &[StatementId]) -> Result<(), NodeError>,
) -> Result<(), FoldStop> {
    let check = |members: &BTreeMap<MemberId, Member>, leaves: &[Vec<u8>]| match signatures {
        Signatures::Verify => precheck(members, leaves),
        Signatures::Trusted => leaves
            .iter()
            .map(|l| Signed::from_leaf(l).map(|s| (s, None)))
            .collect(),
    };
    let mut leaves = read(rules.size()).map_err(FoldStop::Node)?;
    let mut checked = check(rules.members(), &leaves);
    std::thread::scope(|scope| {
        while !leaves.is_empty() {
            let start = rules.size();
            let following = read(start + leaves.len() as u64).map_err(FoldStop::Node)?;
            // Checked against the keys before this chunk: a key that changes in it is
            // caught by the fold, which then verifies again (`VerifiedWith`).
            let members = rules.members().clone();
            let ahead = scope.spawn(move || {
                let c = check(&members, &following);
                (following, c)
            });
            let ids = fold_checked(rules, replica, signatures, checked, &mut each)?;
            chunk_done(start, &leaves, &ids).map_err(FoldStop::Node)?;
            // A panic in a worker is a bug in the parser; surface it, do not hide it.
            (leaves, checked) = ahead
                .join()
                .unwrap_or_else(|e| std::panic::resume_unwind(e));
        }
        Ok(())
    })
}

/// Folds one chunk whose signatures [`precheck`] checked (or that it parsed, for
/// [`Signatures::Trusted`]); returns the statements' ids.
fn fold_checked(
    rules: &mut Rules,
    replica: &Replica,
    signatures: Signatures,
    checked: Vec<Prechecked>,
    each: &mut impl FnMut(&Signed),
) -> Result<Vec<StatementId>, FoldStop> {
    let mut recent = HashMap::with_capacity(checked.len());
    let mut ids = Vec::with_capacity(checked.len());
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
    fold_from(
        &mut rules,
        replica,
        Signatures::Trusted,
        |from| replica.leaves(from, CHUNK),
        |_| {},
        |_, _, _| Ok(()),
    )
    .map_err(FoldStop::in_replica)?;
    Ok(rules)
}
