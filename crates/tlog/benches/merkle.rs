//! Merkle tree benchmarks, all in one run so that the ratios mean something:
//!
//! (a) the baseline: raw SHA-256 of a 64-byte message (two compression blocks, like a
//!     node hash);
//! (b) appending 100-byte entries: leaf hash + frontier append, about two such hashes
//!     per leaf, so about 0.5 of (a) at best;
//! (c) inclusion and consistency proofs, generation and verification, at 10^6 leaves from
//!     a [`MemoryTree`], and at 10^8 leaves from tiles computed on demand.
//!
//! The 10^8 tree is never built. It is the genuine RFC 9162 tree whose leaves are all the
//! same entry: every complete subtree at level `l` then has the same hash `H_l`, with
//! `H_0` the leaf hash and `H_{l+1} = node(H_l, H_l)`, so any tile (full or partial) is
//! `width` copies of `H_{8·L}`, derived in O(width) with no storage. Proof generation goes
//! through [`TileHashReader`] exactly as with stored tiles, including the hashing of
//! levels between tile levels; verification is the same as for any tree.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::convert::Infallible;
use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tlog::Hash;
use tlog::hash::{leaf_hash, node_hash, sha256};
use tlog::merkle::Frontier;
use tlog::proof::{
    HashReader, MemoryTree, prove_consistency, prove_inclusion, root_at, verify_consistency,
    verify_inclusion,
};
use tlog::tile::{Tile, TileEdge, TileHashReader, TileReader};

fn baseline(c: &mut Criterion) {
    let mut g = c.benchmark_group("a_baseline");
    g.throughput(Throughput::Elements(1));
    let msg = [0x5au8; 64];
    g.bench_function("sha256_64_bytes", |b| b.iter(|| sha256(black_box(&msg))));
    // Where an append's time goes: one leaf hash and, amortised, one node hash.
    let entry = [0x42u8; 100];
    g.bench_function("leaf_hash_100_bytes", |b| {
        b.iter(|| leaf_hash(black_box(&entry)))
    });
    let (l, r) = (sha256(b"l"), sha256(b"r"));
    g.bench_function("node_hash", |b| b.iter(|| node_hash(black_box(&l), &r)));
    g.finish();
}

fn append(c: &mut Criterion) {
    let mut g = c.benchmark_group("b_append");
    g.throughput(Throughput::Elements(1));
    let mut entry = [0x42u8; 100];
    let mut frontier = Frontier::new();
    let mut counter = 0u64;
    g.bench_function("leaf_hash_and_frontier_append_100_byte_entries", |b| {
        b.iter(|| {
            counter += 1;
            entry[..8].copy_from_slice(&counter.to_le_bytes());
            let leaf = leaf_hash(black_box(&entry));
            frontier.append(leaf, |_, _| {}).unwrap()
        })
    });
    // The host's path: the same, plus writing tiles (TileEdge), in batches of 4096.
    let mut edge = TileEdge::new();
    let entries: Vec<[u8; 100]> = (0..4096u32)
        .map(|i| {
            let mut e = [0x42u8; 100];
            e[..4].copy_from_slice(&i.to_le_bytes());
            e
        })
        .collect();
    g.throughput(Throughput::Elements(4096));
    g.bench_function("tile_edge_batch_of_4096_100_byte_entries", |b| {
        b.iter(|| {
            let leaves: Vec<Hash> = entries.iter().map(|e| leaf_hash(e)).collect();
            edge.append(&leaves).unwrap().root
        })
    });
    g.finish();
}

/// Deterministic spread of indices over `[0, n)`.
fn spread(i: u64, n: u64) -> u64 {
    i.wrapping_mul(0x9e37_79b9_7f4a_7c15) % n
}

fn proofs<R: HashReader>(
    c: &mut Criterion,
    group: &str,
    reader: &R,
    size: u64,
    leaf: impl Fn(u64) -> Hash,
) {
    let mut g = c.benchmark_group(group);
    let root = root_at(reader, size).unwrap();
    let mut i = 0u64;
    g.bench_function("prove_inclusion", |b| {
        b.iter(|| {
            i += 1;
            prove_inclusion(reader, spread(i, size), size).unwrap()
        })
    });
    let index = spread(7, size);
    let proof = prove_inclusion(reader, index, size).unwrap();
    let leaf_hash = leaf(index);
    verify_inclusion(&leaf_hash, index, size, &proof, &root).unwrap();
    g.bench_function("verify_inclusion", |b| {
        b.iter(|| verify_inclusion(black_box(&leaf_hash), index, size, &proof, &root).unwrap())
    });
    let mut i = 0u64;
    g.bench_function("prove_consistency", |b| {
        b.iter(|| {
            i += 1;
            prove_consistency(reader, 1 + spread(i, size - 1), size).unwrap()
        })
    });
    let old = 1 + spread(11, size - 1);
    let old_root = root_at(reader, old).unwrap();
    let proof = prove_consistency(reader, old, size).unwrap();
    verify_consistency(old, size, &old_root, &root, &proof).unwrap();
    g.bench_function("verify_consistency", |b| {
        b.iter(|| verify_consistency(old, size, black_box(&old_root), &root, &proof).unwrap())
    });
    g.bench_function("root_at", |b| {
        b.iter(|| root_at(reader, black_box(size)).unwrap())
    });
    g.finish();
}

fn memory_1e6(c: &mut Criterion) {
    const SIZE: u64 = 1_000_000;
    let leaves: Vec<Hash> = (0..SIZE).map(|i| leaf_hash(&i.to_le_bytes())).collect();
    let tree = MemoryTree::from_leaves(&leaves);
    proofs(c, "c_memory_1e6", &tree, SIZE, |i| leaves[i as usize]);
}

/// The tiles of the tree whose leaves are all `ENTRY`, derived on demand.
struct SameLeafTiles {
    /// `level[l]` = hash of every complete subtree at tree level `l`.
    level: Vec<Hash>,
}

const ENTRY: &[u8] = b"detente benchmark entry: every leaf of the 10^8 tree is this one";

impl SameLeafTiles {
    fn new() -> SameLeafTiles {
        let mut level = vec![leaf_hash(ENTRY)];
        for l in 0..63 {
            level.push(node_hash(&level[l], &level[l]));
        }
        SameLeafTiles { level }
    }
}

impl TileReader for SameLeafTiles {
    type Error = Infallible;

    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, Infallible> {
        Ok(tiles
            .iter()
            .map(|t| {
                let h = self.level[usize::from(t.level()) * 8];
                h.0.repeat(usize::from(t.width()))
            })
            .collect())
    }
}

fn tiles_1e8(c: &mut Criterion) {
    const SIZE: u64 = 100_000_000;
    let tiles = TileHashReader::new(SIZE, SameLeafTiles::new());
    let leaf = leaf_hash(ENTRY);
    proofs(c, "c_tiles_1e8", &tiles, SIZE, |_| leaf);
}

criterion_group!(benches, baseline, append, memory_1e6, tiles_1e8);
criterion_main!(benches);
