//! The body of the `proof` fuzz target, included with `#[path]` by the target and by
//! `crates/tlog/tests/fuzz_corpus_merkle.rs`
//! so that `cargo test` replays the seed corpus through the same code without libFuzzer.
//!
//! The first byte picks a mode:
//! - even: raw input. Sizes, an index, three hashes and proof hashes are read from the
//!   bytes and given to both verifiers and the planners, which must not panic, and whose
//!   lengths must agree;
//! - odd: a real tree. A tree of up to 300 leaves is built, real proofs are generated
//!   and must verify, and a fuzz-chosen corruption of each must fail.

use tlog::Hash;
use tlog::hash::leaf_hash;
use tlog::proof::{
    MemoryTree, consistency_plan, consistency_proof_len, inclusion_plan, inclusion_proof_len,
    prove_consistency, prove_inclusion, verify_consistency, verify_inclusion,
};

/// Reads fixed-size values off the front of the input, zero-filled once it runs out.
struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        let n = N.min(self.0.len());
        out[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        out
    }

    fn u64(&mut self) -> u64 {
        u64::from_be_bytes(self.bytes())
    }

    fn hash(&mut self) -> Hash {
        Hash(self.bytes())
    }
}

/// Runs one fuzz input.
pub fn run(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode & 1 == 0 {
        raw(mode, Input(rest));
    } else {
        real_tree(Input(rest));
    }
}

fn raw(mode: u8, mut input: Input<'_>) {
    let (mut old, mut new, mut index) = (input.u64(), input.u64(), input.u64());
    if mode & 2 != 0 {
        // Small sizes reach the interesting code paths far more often.
        (old, new, index) = (old % 70, new % 70, index % 70);
    }
    let (old_root, new_root, leaf) = (input.hash(), input.hash(), input.hash());
    let proof: Vec<Hash> = input
        .0
        .chunks(32)
        .take(80)
        .map(|c| {
            let mut h = [0u8; 32];
            h[..c.len()].copy_from_slice(c);
            Hash(h)
        })
        .collect();
    let _ = verify_inclusion(&leaf, index, new, &proof, &new_root);
    let _ = verify_consistency(old, new, &old_root, &new_root, &proof);
    match (inclusion_plan(index, new), inclusion_proof_len(index, new)) {
        (Ok(plan), Ok(len)) => assert_eq!(plan.proof_len(), len),
        (Err(a), Err(b)) => assert_eq!(a, b),
        (a, b) => panic!("inclusion plan {a:?} and length {b:?} disagree"),
    }
    match (consistency_plan(old, new), consistency_proof_len(old, new)) {
        (Ok(plan), Ok(len)) => assert_eq!(plan.proof_len(), len),
        (Err(a), Err(b)) => assert_eq!(a, b),
        (a, b) => panic!("consistency plan {a:?} and length {b:?} disagree"),
    }
}

fn real_tree(mut input: Input<'_>) {
    let [a, b] = input.bytes::<2>();
    let size = 1 + u64::from(u16::from_be_bytes([a, b]) % 300);
    let index = input.u64() % size;
    let old = 1 + input.u64() % size;
    let [element, bit, tweak] = input.bytes::<3>();
    let leaves: Vec<Hash> = (0..size).map(|i| leaf_hash(&i.to_be_bytes())).collect();
    let tree = MemoryTree::from_leaves(&leaves);
    let root = tree.root();
    let old_root = MemoryTree::from_leaves(&leaves[..old as usize]).root();

    let proof = prove_inclusion(&tree, index, size).expect("inclusion proof");
    let leaf = leaves[index as usize];
    verify_inclusion(&leaf, index, size, &proof, &root).expect("valid inclusion proof");
    let flip = |proof: &[Hash]| {
        let mut bad = proof.to_vec();
        if let Some(h) = bad.get_mut(usize::from(element) % proof.len().max(1)) {
            h.0[usize::from(bit) / 8] ^= 1 << (bit % 8);
        }
        bad
    };
    if !proof.is_empty() {
        assert!(verify_inclusion(&leaf, index, size, &flip(&proof), &root).is_err());
    }
    let mut longer = proof.clone();
    longer.push(Hash([tweak; 32]));
    assert!(verify_inclusion(&leaf, index, size, &longer, &root).is_err());
    let mut bad_leaf = leaf;
    bad_leaf.0[usize::from(bit) / 8] ^= 1 << (bit % 8);
    assert!(verify_inclusion(&bad_leaf, index, size, &proof, &root).is_err());

    let proof = prove_consistency(&tree, old, size).expect("consistency proof");
    verify_consistency(old, size, &old_root, &root, &proof).expect("valid consistency proof");
    if !proof.is_empty() {
        assert!(verify_consistency(old, size, &old_root, &root, &flip(&proof)).is_err());
        assert!(verify_consistency(old, size, &old_root, &root, &proof[1..]).is_err());
    }
    assert!(verify_consistency(old, size, &old_root, &root, &longer).is_err());
    let mut bad_root = root;
    bad_root.0[usize::from(bit) / 8] ^= 1 << (bit % 8);
    assert!(verify_consistency(old, size, &old_root, &bad_root, &proof).is_err());
}
