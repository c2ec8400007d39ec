//! The body of the `tile` fuzz target, included with `#[path]` by the target and by
//! `crates/tlog/tests/fuzz_corpus_merkle.rs`
//! so that `cargo test` replays the seed corpus through the same code without libFuzzer.
//!
//! The first byte picks what the rest is fed to:
//! - 0: a tile or entry bundle path; whatever parses must print back to the same string;
//! - 1: entry bundle data; whatever parses must encode back to the same bytes;
//! - 2: tile data; likewise;
//! - 3: tiles served by a hostile tile reader (the input's bytes, of any length) behind a
//!   `TileHashReader`, asked for roots and proofs: errors are fine, panics are not;
//! - 4: a `TileEdge` rebuilt from fuzzed partial tiles, then appended to: it must agree
//!   with `new_tiles` and with its own frontier.

use std::convert::Infallible;

use tlog::Hash;
use tlog::tile::{
    EntryBundle, Tile, TileEdge, TileHashReader, TileReader, encode_bundle, encode_tile_data,
    new_tiles, parse_bundle, parse_path, parse_tile_data,
};

/// Runs one fuzz input.
pub fn run(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 5 {
        0 => path(rest),
        1 => bundle(rest),
        2 => tile_data(rest),
        3 => hostile_tiles(rest),
        _ => edge(rest),
    }
}

fn path(rest: &[u8]) {
    let text = String::from_utf8_lossy(rest);
    if let Ok(parsed) = parse_path(&text) {
        let printed = match parsed {
            tlog::tile::TilePath::Hashes(tile) => tile.path(),
            tlog::tile::TilePath::Entries(bundle) => bundle.path(),
        };
        assert_eq!(printed, text, "path does not round-trip");
    }
}

/// Splits a small header off the input: a width in 1..=256 and an index.
fn header(rest: &[u8]) -> (u16, u64, &[u8]) {
    let (head, body) = rest.split_at(rest.len().min(3));
    let w = head.first().copied().unwrap_or(0);
    let n = head
        .get(1..)
        .map_or(0, |b| b.iter().fold(0u64, |n, &x| n << 8 | u64::from(x)));
    (u16::from(w) + 1, n, body)
}

fn bundle(rest: &[u8]) {
    let (width, index, body) = header(rest);
    let Ok(bundle) = EntryBundle::new(index, width) else {
        return;
    };
    if let Ok(entries) = parse_bundle(bundle, body) {
        assert_eq!(entries.len(), usize::from(width));
        assert_eq!(encode_bundle(&entries).as_deref(), Ok(body));
    }
}

fn tile_data(rest: &[u8]) {
    let (width, index, body) = header(rest);
    let Ok(tile) = Tile::new(0, index, width) else {
        return;
    };
    if let Ok(hashes) = parse_tile_data(tile, body) {
        assert_eq!(encode_tile_data(&hashes).as_deref(), Ok(body));
    }
}

/// Serves every tile from consecutive slices of the input, whatever their length.
struct Hostile<'a>(&'a [u8]);

impl TileReader for Hostile<'_> {
    type Error = Infallible;

    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, Infallible> {
        let mut rest = self.0;
        let mut out = Vec::new();
        for tile in tiles {
            // Usually the right length, sometimes not, and sometimes one tile short.
            let want = usize::from(tile.width()) * 32;
            let n = want.min(rest.len());
            out.push(rest[..n].to_vec());
            rest = &rest[n..];
            if rest.first() == Some(&0xff) {
                break;
            }
        }
        Ok(out)
    }
}

fn hostile_tiles(rest: &[u8]) {
    let (a, tiles) = rest.split_at(rest.len().min(8));
    let size = a.iter().fold(0u64, |n, &x| n << 8 | u64::from(x)) % 100_000;
    let reader = TileHashReader::new(size, Hostile(tiles));
    let _ = tlog::proof::root_at(&reader, size);
    let _ = tlog::proof::prove_inclusion(&reader, size / 3, size);
    let _ = tlog::proof::prove_consistency(&reader, size / 2 + 1, size);
}

fn edge(rest: &[u8]) {
    let (a, rest) = rest.split_at(rest.len().min(4));
    let size = a.iter().fold(0u64, |n, &x| n << 8 | u64::from(x));
    // Offer the tiles a tree of `size` needs, cut from the input (maybe short).
    let mut body = rest;
    let mut tiles = Vec::new();
    for level in 0..8u8 {
        let hashes = size >> (8 * u32::from(level));
        let Some(tile) = Tile::at_size(level, hashes / 256, size) else {
            continue;
        };
        let n = (usize::from(tile.width()) * 32).min(body.len());
        tiles.push((tile, &body[..n]));
        body = &body[n..];
    }
    let Ok(mut edge) = TileEdge::from_partial_tiles(size, &tiles) else {
        return;
    };
    let leaves: Vec<Hash> = body
        .chunks(8)
        .take(600)
        .map(tlog::hash::leaf_hash)
        .collect();
    let update = edge.append(&leaves).expect("append within u64");
    let written: Vec<Tile> = update.tiles.iter().map(|(t, _)| *t).collect();
    let expected: Vec<Tile> = new_tiles(size, update.size).into_iter().flatten().collect();
    assert_eq!(written, expected);
    assert_eq!(update.root, edge.frontier().root());
}
