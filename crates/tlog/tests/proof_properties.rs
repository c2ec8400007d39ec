//! Property tests: generated proofs equal an independent, literal transcription of RFC 9162
//! §2.1.3.1 and §2.1.4.1, verify, and stop verifying after any single change.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::OnceLock;

use proptest::prelude::*;
use tlog::Hash;
use tlog::hash::{leaf_hash, node_hash};
use tlog::merkle::{Frontier, root_of};
use tlog::proof::{
    MemoryTree, inclusion_plan, prove_consistency, prove_inclusion, root_at, verify_consistency,
    verify_inclusion,
};

const MAX: usize = 5000;

/// One tree of 5000 leaves; proofs for smaller sizes read its older nodes.
fn big() -> &'static (Vec<Hash>, MemoryTree) {
    static TREE: OnceLock<(Vec<Hash>, MemoryTree)> = OnceLock::new();
    TREE.get_or_init(|| {
        let leaves: Vec<Hash> = (0..MAX as u64)
            .map(|i| leaf_hash(format!("entry {i}").as_bytes()))
            .collect();
        let tree = MemoryTree::from_leaves(&leaves);
        (leaves, tree)
    })
}

/// Largest power of two strictly below `n` (n >= 2).
fn k(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

/// RFC 9162 §2.1.3.1 `PATH(m, D_n)`, word for word.
fn ref_path(m: usize, d: &[Hash]) -> Vec<Hash> {
    if d.len() == 1 {
        return vec![];
    }
    let k = k(d.len());
    if m < k {
        [ref_path(m, &d[..k]), vec![root_of(&d[k..])]].concat()
    } else {
        [ref_path(m - k, &d[k..]), vec![root_of(&d[..k])]].concat()
    }
}

/// RFC 9162 §2.1.4.1 `SUBPROOF(m, D_n, b)`, word for word.
fn ref_subproof(m: usize, d: &[Hash], b: bool) -> Vec<Hash> {
    if m == d.len() {
        return if b { vec![] } else { vec![root_of(d)] };
    }
    let k = k(d.len());
    if m <= k {
        [ref_subproof(m, &d[..k], b), vec![root_of(&d[k..])]].concat()
    } else {
        [ref_subproof(m - k, &d[k..], false), vec![root_of(&d[..k])]].concat()
    }
}

fn flip(h: &Hash, bit: usize) -> Hash {
    let mut out = *h;
    out.0[bit / 8] ^= 1 << (bit % 8);
    out
}

fn size_and_index() -> impl Strategy<Value = (usize, usize)> {
    (1..=MAX).prop_flat_map(|size| (Just(size), 0..size))
}

fn two_sizes() -> impl Strategy<Value = (usize, usize)> {
    (1..=MAX).prop_flat_map(|new| (1..=new, Just(new)))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn inclusion_proofs_are_rfc_paths_and_tamper_evident(
        (size, index) in size_and_index(),
        element in any::<prop::sample::Index>(),
        bit in 0..256usize,
        extra in any::<[u8; 32]>(),
    ) {
        let (leaves, tree) = big();
        let (n, i) = (size as u64, index as u64);
        let root = root_at(tree, n).unwrap();
        prop_assert_eq!(root, root_of(&leaves[..size]));
        let proof = prove_inclusion(tree, i, n).unwrap();
        prop_assert_eq!(&proof, &ref_path(index, &leaves[..size]));
        let leaf = leaves[index];
        prop_assert_eq!(verify_inclusion(&leaf, i, n, &proof, &root), Ok(()));

        prop_assert!(verify_inclusion(&flip(&leaf, bit), i, n, &proof, &root).is_err());
        prop_assert!(verify_inclusion(&leaf, i, n, &proof, &flip(&root, bit)).is_err());
        let mut longer = proof.clone();
        longer.insert(element.index(proof.len() + 1), Hash(extra));
        prop_assert!(verify_inclusion(&leaf, i, n, &longer, &root).is_err());
        if !proof.is_empty() {
            let at = element.index(proof.len());
            let mut bad = proof.clone();
            bad[at] = flip(&bad[at], bit);
            prop_assert!(verify_inclusion(&leaf, i, n, &bad, &root).is_err());
            let mut shorter = proof.clone();
            shorter.remove(at);
            prop_assert!(verify_inclusion(&leaf, i, n, &shorter, &root).is_err());
        }
        for other in [i.wrapping_sub(1), i + 1] {
            if other < n {
                prop_assert!(verify_inclusion(&leaf, other, n, &proof, &root).is_err());
            }
        }
    }

    #[test]
    fn consistency_proofs_are_rfc_subproofs_and_tamper_evident(
        (old, new) in two_sizes(),
        element in any::<prop::sample::Index>(),
        bit in 0..256usize,
        extra in any::<[u8; 32]>(),
    ) {
        let (leaves, tree) = big();
        let (m, n) = (old as u64, new as u64);
        let (r1, r2) = (root_of(&leaves[..old]), root_of(&leaves[..new]));
        let proof = prove_consistency(tree, m, n).unwrap();
        prop_assert_eq!(&proof, &ref_subproof(old, &leaves[..new], true));
        prop_assert_eq!(verify_consistency(m, n, &r1, &r2, &proof), Ok(()));

        prop_assert!(verify_consistency(m, n, &flip(&r1, bit), &r2, &proof).is_err());
        prop_assert!(verify_consistency(m, n, &r1, &flip(&r2, bit), &proof).is_err());
        let mut longer = proof.clone();
        longer.insert(element.index(proof.len() + 1), Hash(extra));
        prop_assert!(verify_consistency(m, n, &r1, &r2, &longer).is_err());
        if !proof.is_empty() {
            let at = element.index(proof.len());
            let mut bad = proof.clone();
            bad[at] = flip(&bad[at], bit);
            prop_assert!(verify_consistency(m, n, &r1, &r2, &bad).is_err());
            let mut shorter = proof.clone();
            shorter.remove(at);
            prop_assert!(verify_consistency(m, n, &r1, &r2, &shorter).is_err());
            // The same proof does not vouch for a neighbouring old size.
            for other in [m - 1, m + 1] {
                if other >= 1 && other < n {
                    let r = root_of(&leaves[..other as usize]);
                    prop_assert!(verify_consistency(other, n, &r, &r2, &proof).is_err());
                }
            }
        }
    }

    #[test]
    fn frontier_root_is_the_reference_root(
        seeds in prop::collection::vec(any::<u32>(), 0..700),
        cut in any::<prop::sample::Index>(),
    ) {
        let leaves: Vec<Hash> = seeds.iter().map(|s| leaf_hash(&s.to_be_bytes())).collect();
        let mut frontier = Frontier::new();
        let cut = cut.index(leaves.len() + 1);
        for (i, leaf) in leaves.iter().enumerate() {
            if i == cut {
                prop_assert_eq!(frontier.root(), root_of(&leaves[..i]));
                // Rebuilding from stored parts changes nothing.
                let parts = Frontier::from_parts(frontier.size(), frontier.hashes().to_vec());
                prop_assert_eq!(parts.as_ref(), Ok(&frontier));
            }
            frontier.append(*leaf, |_, _| {}).unwrap();
        }
        prop_assert_eq!(frontier.root(), root_of(&leaves));
    }

    #[test]
    fn plans_name_only_complete_nodes_and_huge_trees_plan_fine(
        size in 1..=u64::MAX,
        index in any::<u64>(),
        old in 1..=u64::MAX,
    ) {
        let index = index % size;
        let old = old.min(size);
        let plan = inclusion_plan(index, size).unwrap();
        prop_assert!(plan.ids().iter().all(|id| id.is_complete_in(size)));
        prop_assert!(plan.proof_len() <= 64);
        let plan = tlog::proof::consistency_plan(old, size).unwrap();
        prop_assert!(plan.ids().iter().all(|id| id.is_complete_in(size)));
        prop_assert!(plan.proof_len() <= 128);
    }
}

/// STYLE.md "exhaustive bit flips over small trees": for every tree up to 16 leaves,
/// every proof, every bit of every proof hash, of the leaf and of the roots.
#[test]
fn exhaustive_bit_flips_on_small_trees() {
    let (leaves, tree) = big();
    for n in 1..=16u64 {
        let root = root_at(tree, n).unwrap();
        for i in 0..n {
            let leaf = leaves[i as usize];
            let proof = prove_inclusion(tree, i, n).unwrap();
            verify_inclusion(&leaf, i, n, &proof, &root).unwrap();
            for bit in 0..256 {
                assert!(verify_inclusion(&flip(&leaf, bit), i, n, &proof, &root).is_err());
                assert!(verify_inclusion(&leaf, i, n, &proof, &flip(&root, bit)).is_err());
                for e in 0..proof.len() {
                    let mut bad = proof.clone();
                    bad[e] = flip(&bad[e], bit);
                    assert!(verify_inclusion(&leaf, i, n, &bad, &root).is_err());
                }
            }
        }
        for m in 1..=n {
            let old_root = root_at(tree, m).unwrap();
            let proof = prove_consistency(tree, m, n).unwrap();
            verify_consistency(m, n, &old_root, &root, &proof).unwrap();
            for bit in 0..256 {
                assert!(verify_consistency(m, n, &flip(&old_root, bit), &root, &proof).is_err());
                assert!(verify_consistency(m, n, &old_root, &flip(&root, bit), &proof).is_err());
                for e in 0..proof.len() {
                    let mut bad = proof.clone();
                    bad[e] = flip(&bad[e], bit);
                    assert!(verify_consistency(m, n, &old_root, &root, &bad).is_err());
                }
            }
        }
    }
}

/// The frontier's reported nodes are exactly the tree's complete subtrees.
#[test]
fn reported_nodes_are_the_subtree_hashes() {
    let (leaves, tree) = big();
    let mut frontier = Frontier::new();
    let mut count = 0;
    for leaf in &leaves[..1000] {
        frontier
            .append(*leaf, |id, hash| {
                count += 1;
                assert_eq!(tree.node(id), Some(*hash), "{id:?}");
                if let Some((l, r)) = id.children() {
                    let (l, r) = (tree.node(l).unwrap(), tree.node(r).unwrap());
                    assert_eq!(node_hash(&l, &r), *hash);
                }
            })
            .unwrap();
    }
    assert_eq!(count, (0..10).map(|l| 1000 >> l).sum::<u64>());
}
