//! The verifiable log core of Détente.
//!
//! What it does:
//! - RFC 9162 §2.1 Merkle tree hashing ([`hash`]), appending through the right frontier
//!   ([`merkle`]), inclusion and consistency proofs, generated from stored hashes and
//!   verified ([`proof`]);
//! - C2SP `signed-note` ([`note`]), `tlog-checkpoint` ([`checkpoint`]),
//!   `tlog-cosignature` ([`cosignature`]) and `tlog-tiles` ([`tile`]).
//!
//! What it does not do: any I/O, any clock, any randomness. Storage comes in through the
//! [`proof::HashReader`] and [`tile::TileReader`] traits, time as arguments, keys as bytes.
//! The host, the nodes, the witnesses and outside auditors all run this same code.

pub mod checkpoint;
pub mod cosignature;
pub mod hash;
pub mod merkle;
pub mod note;
pub mod proof;
pub mod tile;

pub use hash::{HASH_SIZE, Hash, empty_root, leaf_hash, node_hash, sha256};
