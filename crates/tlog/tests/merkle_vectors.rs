//! Known-answer tests for RFC 9162 tree hashing, the frontier and proofs.
//!
//! Every expected value is copied from a public source, named above it; none is computed
//! by this crate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use tlog::Hash;
use tlog::hash::{empty_root, leaf_hash};
use tlog::merkle::{Frontier, NodeId, root_of};
use tlog::proof::{
    MemoryTree, VerifyError, prove_consistency, prove_inclusion, root_at, verify_consistency,
    verify_inclusion,
};

fn h(hex: &str) -> Hash {
    Hash::from_hex(hex).unwrap()
}

fn hs(list: &[&str]) -> Vec<Hash> {
    list.iter().map(|x| h(x)).collect()
}

/// The eight leaves of the RFC 6962 test tree: transparency-dev/merkle
/// `testonly/constants.go` `LeafInputs()` (also google/certificate-transparency
/// `merkle_tree_test.cc`), as hex.
const LEAF_INPUTS: [&str; 8] = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
];

/// Root of the tree of the first `n` leaves, n = 0..=8: transparency-dev/merkle
/// `testonly/constants.go` `RootHashes()` (and `proof/verify_test.go` `roots`).
const ROOTS: [&str; 9] = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

/// Every complete subtree of the 8-leaf tree, by level then index: transparency-dev/merkle
/// `testonly/constants.go` `NodeHashes()`.
const NODES: [&[&str]; 4] = [
    &[
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
    ],
    &[
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    ],
    &[
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    &["5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"],
];

/// Frontier ("compact tree") of each size 0..=8 as (level, index) into `NODES`:
/// transparency-dev/merkle `testonly/constants.go` `CompactTrees()`.
const COMPACT: [&[(usize, usize)]; 9] = [
    &[],
    &[(0, 0)],
    &[(1, 0)],
    &[(1, 0), (0, 2)],
    &[(2, 0)],
    &[(2, 0), (0, 4)],
    &[(2, 0), (1, 2)],
    &[(2, 0), (1, 2), (0, 6)],
    &[(3, 0)],
];

/// Inclusion proofs (leaf index, tree size, proof): transparency-dev/merkle
/// `proof/verify_test.go` `inclusionProofs` (which numbers leaves from 1; shifted here).
const INCLUSION: [(u64, u64, &[&str]); 5] = [
    (0, 1, &[]),
    (
        0,
        8,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        &[
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        3,
        &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
    ),
    (
        1,
        5,
        &[
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
];

/// Consistency proofs (old size, new size, proof): transparency-dev/merkle
/// `proof/verify_test.go` `consistencyProofs`.
const CONSISTENCY: [(u64, u64, &[&str]); 5] = [
    (1, 1, &[]),
    (
        1,
        8,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        &[
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
];

fn leaves() -> Vec<Hash> {
    LEAF_INPUTS
        .iter()
        .map(|x| leaf_hash(&hex::decode(x).unwrap()))
        .collect()
}

fn tree() -> MemoryTree {
    MemoryTree::from_leaves(&leaves())
}

#[test]
fn roots_of_every_size() {
    let leaves = leaves();
    assert_eq!(empty_root(), h(ROOTS[0]));
    let mut frontier = Frontier::new();
    for (n, root) in ROOTS.iter().enumerate() {
        assert_eq!(root_of(&leaves[..n]), h(root), "reference root, size {n}");
        assert_eq!(frontier.root(), h(root), "frontier root, size {n}");
        assert_eq!(
            root_at(&tree(), n as u64).unwrap(),
            h(root),
            "root_at, size {n}"
        );
        if let Some(leaf) = leaves.get(n) {
            frontier.append(*leaf, |_, _| {}).unwrap();
        }
    }
}

#[test]
fn every_complete_subtree_and_frontier() {
    let tree = tree();
    for (level, row) in NODES.iter().enumerate() {
        for (index, node) in row.iter().enumerate() {
            let id = NodeId::new(level as u8, index as u64).unwrap();
            assert_eq!(tree.node(id), Some(h(node)), "{id:?}");
        }
    }
    let leaves = leaves();
    let mut frontier = Frontier::new();
    let mut reported = Vec::new();
    for (n, compact) in COMPACT.iter().enumerate() {
        let want: Vec<Hash> = compact.iter().map(|&(l, i)| h(NODES[l][i])).collect();
        assert_eq!(frontier.hashes(), want.as_slice(), "frontier of size {n}");
        let rebuilt = Frontier::from_parts(n as u64, want).unwrap();
        assert_eq!(rebuilt, frontier);
        if let Some(leaf) = leaves.get(n) {
            frontier
                .append(*leaf, |id, hash| reported.push((id, *hash)))
                .unwrap();
        }
    }
    // Each node the appends reported is the one in NODES.
    assert_eq!(reported.len(), 8 + 4 + 2 + 1);
    for (id, hash) in reported {
        assert_eq!(hash, h(NODES[id.level() as usize][id.index() as usize]));
    }
}

#[test]
fn inclusion_proofs() {
    let tree = tree();
    let leaves = leaves();
    for (index, size, want) in INCLUSION {
        let want = hs(want);
        let proof = prove_inclusion(&tree, index, size).unwrap();
        assert_eq!(proof, want, "inclusion of {index} in {size}");
        let root = h(ROOTS[size as usize]);
        let leaf = leaves[index as usize];
        verify_inclusion(&leaf, index, size, &want, &root).unwrap();
        // The probes of transparency-dev/merkle `corruptInclusionProof`.
        let mut probes: Vec<(u64, u64, Hash, Vec<Hash>, Hash)> = vec![
            (index.wrapping_sub(1), size, leaf, want.clone(), root),
            (index + 1, size, leaf, want.clone(), root),
            (index ^ 2, size, leaf, want.clone(), root),
            (index, size * 2, leaf, want.clone(), root),
            (index, size / 2, leaf, want.clone(), root),
            (index, size, leaf_hash(b"WrongLeaf"), want.clone(), root),
            (index, size, leaf, want.clone(), empty_root()),
            (index, size, leaf, [want.clone(), vec![root]].concat(), root),
            (index, size, leaf, [vec![root], want.clone()].concat(), root),
        ];
        for i in 0..want.len() {
            let mut bad = want.clone();
            bad[i].0[0] ^= 8;
            probes.push((index, size, leaf, bad, root));
        }
        if !want.is_empty() {
            probes.push((index, size, leaf, want[..want.len() - 1].to_vec(), root));
        }
        for (i, (index, size, leaf, proof, root)) in probes.into_iter().enumerate() {
            assert!(
                verify_inclusion(&leaf, index, size, &proof, &root).is_err(),
                "probe {i} verified"
            );
        }
    }
}

#[test]
fn consistency_proofs() {
    let tree = tree();
    for (old, new, want) in CONSISTENCY {
        let want = hs(want);
        let proof = prove_consistency(&tree, old, new).unwrap();
        assert_eq!(proof, want, "consistency {old} -> {new}");
        let (r1, r2) = (h(ROOTS[old as usize]), h(ROOTS[new as usize]));
        verify_consistency(old, new, &r1, &r2, &want).unwrap();
        if want.is_empty() {
            continue;
        }
        // The probes of transparency-dev/merkle `corruptConsistencyProof`.
        let mut probes: Vec<(u64, u64, Hash, Hash, Vec<Hash>)> = vec![
            (old - 1, new, r1, r2, want.clone()),
            (old + 1, new, r1, r2, want.clone()),
            (old ^ 2, new, r1, r2, want.clone()),
            (old, new * 2, r1, r2, want.clone()),
            (old, new / 2, r1, r2, want.clone()),
            (old, new, leaf_hash(b"WrongRoot"), r2, want.clone()),
            (old, new, r1, leaf_hash(b"WrongRoot"), want.clone()),
            (old, new, r2, r1, want.clone()),
            (old, new, r1, r2, vec![]),
            (old, new, r1, r2, [want.clone(), vec![r1]].concat()),
            (old, new, r1, r2, [want.clone(), vec![r2]].concat()),
            (old, new, r1, r2, [vec![r1], want.clone()].concat()),
            (old, new, r1, r2, [vec![want[0]], want.clone()].concat()),
            (old, new, r1, r2, want[..want.len() - 1].to_vec()),
        ];
        for i in 0..want.len() {
            let mut bad = want.clone();
            bad[i].0[0] ^= 16;
            probes.push((old, new, r1, r2, bad));
        }
        for (i, (o, n, a, b, proof)) in probes.into_iter().enumerate() {
            assert!(
                verify_consistency(o, n, &a, &b, &proof).is_err(),
                "probe {i} of {old} -> {new} verified"
            );
        }
    }
}

#[test]
fn specific_errors() {
    let leaves = leaves();
    let root8 = h(ROOTS[8]);
    let proof = hs(INCLUSION[1].2);
    assert_eq!(
        verify_inclusion(&leaves[0], 0, 8, &proof[..2], &root8),
        Err(VerifyError::WrongProofLength {
            expected: 3,
            got: 2
        })
    );
    match verify_inclusion(&leaves[1], 0, 8, &proof, &root8) {
        Err(VerifyError::RootMismatch { computed, expected }) => {
            assert_eq!(expected, root8);
            assert_ne!(computed, root8);
        }
        other => panic!("expected a root mismatch, got {other:?}"),
    }
    let (r6, r8) = (h(ROOTS[6]), h(ROOTS[8]));
    let proof = hs(CONSISTENCY[2].2);
    assert!(matches!(
        verify_consistency(6, 8, &r8, &r8, &proof),
        Err(VerifyError::OldRootMismatch { .. })
    ));
    assert!(matches!(
        verify_consistency(6, 8, &r6, &r6, &proof),
        Err(VerifyError::NewRootMismatch { .. })
    ));
    assert_eq!(
        verify_consistency(0, 8, &empty_root(), &r8, &[]),
        Err(VerifyError::OldSizeZero)
    );
    assert_eq!(
        verify_consistency(8, 6, &r8, &r6, &[]),
        Err(VerifyError::OldSizeGreater { old: 8, new: 6 })
    );
    assert_eq!(
        verify_inclusion(&leaves[0], 8, 8, &[], &r8),
        Err(VerifyError::IndexOutOfRange { index: 8, size: 8 })
    );
}
