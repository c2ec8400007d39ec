//! Fuzzes tile and entry bundle paths, tile data, entry bundles, reading hashes from
//! hostile tiles, and rebuilding a tile edge. The body is in `tile_harness.rs`.
#![no_main]

#[path = "tile_harness.rs"]
mod tile_harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| tile_harness::run(data));
