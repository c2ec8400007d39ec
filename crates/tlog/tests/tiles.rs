//! C2SP tlog-tiles: paths, geometry, data formats, the tile hash reader and the tile
//! builder, held to the in-memory tree and to the spec's examples.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use proptest::prelude::*;
use tlog::Hash;
use tlog::hash::leaf_hash;
use tlog::merkle::NodeId;
use tlog::proof::{
    HashReader, MemoryTree, consistency_plan, inclusion_plan, prove_consistency, prove_inclusion,
    root_at,
};
use tlog::tile::{
    BundleError, EntryBundle, MAX_ENTRY_SIZE, PathError, Tile, TileEdge, TileError, TileHashReader,
    TilePath, TileReadError, TileReader, encode_bundle, encode_tile_data, new_bundles, new_tiles,
    parse_bundle, parse_path, parse_tile_data, read_tile, tile_for_node, tiles_for_nodes,
    tiles_for_size,
};

fn tile(level: u8, index: u64, width: u16) -> Tile {
    Tile::new(level, index, width).unwrap()
}

#[test]
fn spec_examples() {
    // C2SP tlog-tiles, "Merkle Tree": index 1234067 is encoded as x001/x234/067.
    assert_eq!(tile(0, 1_234_067, 256).path(), "tile/0/x001/x234/067");
    assert_eq!(
        EntryBundle::new(1_234_067, 256).unwrap().path(),
        "tile/entries/x001/x234/067"
    );
    // "Partial Tiles": a tree of size 70,000 has 273 full level 0 tiles, a partial one of
    // width 112, one full level 1 tile, a partial one of width 17 and a partial level 2
    // tile of width 1; "Log entries": bundles are named like level 0 tiles.
    let paths: Vec<String> = tiles_for_size(70_000).map(Tile::path).collect();
    assert_eq!(paths.len(), 277);
    assert_eq!(
        &paths[272..],
        [
            "tile/0/272",
            "tile/0/273.p/112",
            "tile/1/000",
            "tile/1/001.p/17",
            "tile/2/000.p/1"
        ]
    );
    let bundles: Vec<EntryBundle> = new_bundles(0, 70_000).unwrap().collect();
    assert_eq!(bundles.len(), 274);
    assert_eq!(bundles[273].path(), "tile/entries/273.p/112");
    for p in &paths {
        assert_eq!(Tile::parse_path(p).unwrap().path(), *p);
    }
    assert_eq!(
        parse_path("tile/entries/273.p/112"),
        Ok(TilePath::Entries(EntryBundle::new(273, 112).unwrap()))
    );
    // "a tree of size 256 will be represented by a full level 0 tile and a partial level
    // 1 tile of width 1".
    let paths: Vec<String> = tiles_for_size(256).map(Tile::path).collect();
    assert_eq!(paths, ["tile/0/000", "tile/1/000.p/1"]);
}

#[test]
fn tiles_that_change_when_growing() {
    let list = |a, b| -> Vec<String> { new_tiles(a, b).unwrap().map(Tile::path).collect() };
    assert_eq!(list(70_000, 70_000), Vec::<String>::new());
    assert_eq!(list(70_000, 70_001), ["tile/0/273.p/113"]);
    assert_eq!(
        list(65_535, 65_536),
        ["tile/0/255", "tile/1/000", "tile/2/000.p/1"]
    );
    assert_eq!(list(0, 1), ["tile/0/000.p/1"]);
    assert_eq!(
        new_tiles(2, 1).err(),
        Some(TileError::SizesOutOfOrder { old: 2, new: 1 })
    );
    assert_eq!(new_bundles(255, 257).unwrap().count(), 2);
}

#[test]
fn invalid_paths_are_refused_with_the_right_error() {
    use PathError::*;
    let cases: &[(&str, PathError)] = &[
        ("", NotATilePath),
        ("tile", NotATilePath),
        ("tile/", NotATilePath),
        ("tiles/0/000", NotATilePath),
        ("/tile/0/000", NotATilePath),
        ("tile/0", NotATilePath),
        ("tile/0/", BadIndex),
        ("tile/00/000", BadLevel),
        ("tile/01/000", BadLevel),
        ("tile/64/000", BadLevel),
        ("tile/-1/000", BadLevel),
        ("tile/+1/000", BadLevel),
        ("tile/a/000", BadLevel),
        ("tile/100/000", BadLevel),
        ("tile/0/00", BadIndex),
        ("tile/0/0000", BadIndex),
        ("tile/0/1", BadIndex),
        ("tile/0/x001", BadIndex),
        ("tile/0/001/002", BadIndex),
        ("tile/0/x000/001", BadIndex),
        ("tile/0/x001/x002", BadIndex),
        ("tile/0/X001/002", BadIndex),
        ("tile/0/x001//002", BadIndex),
        ("tile/0/001/", BadIndex),
        ("tile/0/-01", BadIndex),
        ("tile/0/٣٣٣", BadIndex),
        // golang.org/x/mod sumdb/tlog tile_test.go `tilePaths` invalid shapes.
        ("tile/3/5/123/456/078", BadIndex),
        ("tile/3/-1/123/456/078", BadIndex),
        ("tile/0/000.p/0", BadWidth),
        ("tile/0/000.p/256", BadWidth),
        ("tile/0/000.p/010", BadWidth),
        ("tile/0/000.p/", BadWidth),
        ("tile/0/000.p/1/", BadWidth),
        ("tile/0/000.p/1.p/1", BadWidth),
        ("tile/0/000.P/1", BadIndex),
        ("tile/entries/000.p/256", BadWidth),
        ("tile/entries/", BadIndex),
        ("tile/entries", NotATilePath),
        ("tile/8/000", BeyondTreeLimit),
        ("tile/63/000", BeyondTreeLimit),
        ("tile/7/001", BeyondTreeLimit),
        ("tile/7/000", BeyondTreeLimit),
        ("tile/0/x999/x999/x999/x999/x999/x999/999", BeyondTreeLimit),
    ];
    for (path, want) in cases {
        assert_eq!(parse_path(path), Err(*want), "{path:?}");
    }
    let long = format!("tile/0/{}000", "x999/".repeat(1000));
    assert_eq!(parse_path(&long), Err(TooLong { len: long.len() }));
    assert_eq!(Tile::parse_path("tile/entries/000"), Err(NotATilePath));
    assert_eq!(EntryBundle::parse_path("tile/0/000"), Err(NotATilePath));
    assert!(parse_path("tile/7/000.p/255").is_ok());
}

fn any_tile() -> impl Strategy<Value = Tile> {
    (0u8..=7, any::<u64>(), 1u16..=256).prop_map(|(level, index, width)| {
        // Scale the index into the range valid for the level.
        let max = (u64::MAX >> (8 * u32::from(level))) / 256;
        let index = if max == 0 { 0 } else { index % max };
        let width = if level == 7 { width.min(255) } else { width };
        Tile::new(level, index, width).unwrap()
    })
}

proptest! {
    #[test]
    fn tile_paths_round_trip(t in any_tile(), entries in any::<bool>()) {
        if entries {
            let b = EntryBundle::new(t.index(), t.width());
            if let Ok(b) = b {
                prop_assert_eq!(EntryBundle::parse_path(&b.path()), Ok(b));
            }
        } else {
            prop_assert_eq!(Tile::parse_path(&t.path()), Ok(t));
        }
    }

    #[test]
    fn garbage_paths_never_panic_and_what_parses_round_trips(s in "(tile/)?[0-9a-z/.p-]{0,40}") {
        if let Ok(p) = parse_path(&s) {
            let printed = match p {
                TilePath::Hashes(t) => t.path(),
                TilePath::Entries(b) => b.path(),
            };
            prop_assert_eq!(printed, s);
        }
    }

    #[test]
    fn mutated_paths_are_refused_or_canonical(
        t in any_tile(),
        at in any::<prop::sample::Index>(),
        c in prop::sample::select(vec!['0', '9', 'x', '/', '.', 'p', '-']),
        op in 0..3u8,
    ) {
        let mut s: Vec<char> = t.path().chars().collect();
        let i = at.index(s.len());
        match op {
            0 => { s.remove(i); }
            1 => s.insert(i, c),
            _ => s[i] = c,
        }
        let s: String = s.into_iter().collect();
        if let Ok(TilePath::Hashes(t)) = parse_path(&s) {
            prop_assert_eq!(t.path(), s);
        }
    }

    #[test]
    fn bundles_round_trip_and_garbage_is_refused(
        entries in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..40), 1..20),
        garbage in prop::collection::vec(any::<u8>(), 0..300),
        width in 1u16..=256,
        cut in any::<prop::sample::Index>(),
    ) {
        let b = EntryBundle::new(7, entries.len() as u16).unwrap();
        let data = encode_bundle(&entries).unwrap();
        let parsed = parse_bundle(b, &data).unwrap();
        prop_assert_eq!(parsed.len(), entries.len());
        prop_assert!(parsed.iter().zip(&entries).all(|(a, b)| *a == b.as_slice()));
        // Any strict prefix fails, any extension fails.
        let cut = cut.index(data.len());
        prop_assert!(parse_bundle(b, &data[..cut]).is_err());
        let mut longer = data.clone();
        longer.push(0);
        prop_assert_eq!(parse_bundle(b, &longer), Err(BundleError::TrailingBytes { len: 1 }));
        // Garbage: an error, or a bundle that encodes back to exactly the garbage.
        let g = EntryBundle::new(0, width).unwrap();
        if let Ok(parsed) = parse_bundle(g, &garbage) {
            prop_assert_eq!(encode_bundle(&parsed).unwrap(), garbage.clone());
        }
        let t = Tile::new(0, 0, width).unwrap();
        if let Ok(hashes) = parse_tile_data(t, &garbage) {
            prop_assert_eq!(encode_tile_data(&hashes).unwrap(), garbage);
        }
    }
}

#[test]
fn bundle_and_tile_data_limits() {
    let max = vec![7u8; MAX_ENTRY_SIZE];
    let data = encode_bundle(&[&max]).unwrap();
    assert_eq!(&data[..2], [0xff, 0xff]);
    let b = EntryBundle::new(0, 1).unwrap();
    assert_eq!(parse_bundle(b, &data).unwrap(), [max.as_slice()]);
    assert!(encode_bundle(&vec![b"x"; 257]).is_err());
    let full = Tile::new(3, 0, 256).unwrap();
    assert!(parse_tile_data(full, &vec![0u8; 8192]).is_ok());
    assert!(parse_tile_data(full, &vec![0u8; 8191]).is_err());
    assert!(parse_tile_data(full, &vec![0u8; 8224]).is_err());
    assert!(encode_tile_data(&[Hash::default(); 257]).is_err());
}

/// Tiles kept by a host across appends, partial tiles of past sizes included (tlog-tiles:
/// partial tiles of checkpointed sizes stay available).
#[derive(Default)]
struct Store(BTreeMap<Tile, Vec<u8>>);

#[derive(Debug, thiserror::Error)]
#[error("tile {0} not stored")]
struct NotStored(Tile);

impl TileReader for Store {
    type Error = NotStored;

    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, NotStored> {
        tiles
            .iter()
            .map(|t| self.0.get(t).cloned().ok_or(NotStored(*t)))
            .collect()
    }
}

struct Grown {
    tree: MemoryTree,
    store: Store,
    sizes: Vec<u64>,
}

/// A log grown to 70,000+ leaves in irregular batches through `TileEdge`, every update
/// checked against the in-memory tree, and the edge rebuilt from its partial tiles after
/// every batch.
fn grown() -> &'static Grown {
    static GROWN: OnceLock<Grown> = OnceLock::new();
    GROWN.get_or_init(|| {
        let mut tree = MemoryTree::new();
        let mut store = Store::default();
        let mut edge = TileEdge::new();
        let mut sizes = Vec::new();
        let batches = [
            1usize, 1, 254, 1, 255, 256, 300, 1000, 63_000, 255, 1, 5000, 3,
        ];
        for batch in batches {
            let old = edge.size();
            let leaves: Vec<Hash> = (old..old + batch as u64)
                .map(|i| leaf_hash(&i.to_le_bytes()))
                .collect();
            for leaf in &leaves {
                tree.push(*leaf).unwrap();
            }
            let update = edge.append(&leaves).unwrap();
            assert_eq!(update.size, tree.size());
            assert_eq!(update.root, tree.root());
            let written: Vec<Tile> = update.tiles.iter().map(|(t, _)| *t).collect();
            let expected: Vec<Tile> = new_tiles(old, update.size).unwrap().collect();
            assert_eq!(written, expected, "tiles written {old} -> {}", update.size);
            for (t, data) in update.tiles {
                assert_eq!(read_tile(&tree, t).unwrap(), data, "tile {t}");
                store.0.insert(t, data);
            }
            let partial = edge.partial_tiles();
            let refs: Vec<(Tile, &[u8])> = partial
                .iter()
                .rev()
                .map(|(t, d)| (*t, d.as_slice()))
                .collect();
            let rebuilt = TileEdge::from_partial_tiles(edge.size(), &refs).unwrap();
            assert_eq!(rebuilt, edge);
            sizes.push(update.size);
        }
        Grown { tree, store, sizes }
    })
}

#[test]
fn builder_tiles_equal_tiles_from_scratch() {
    let g = grown();
    assert!(g.tree.size() > 65_536 + 256);
    // Every tile of every checkpointed size is stored and equal to one built from scratch.
    for &size in &g.sizes {
        for t in tiles_for_size(size) {
            assert_eq!(
                g.store.0.get(&t),
                Some(&read_tile(&g.tree, t).unwrap()),
                "{t}"
            );
        }
    }
}

#[test]
fn tile_reads_equal_memory_reads() {
    let g = grown();
    for (i, &size) in g.sizes.iter().enumerate() {
        let tiles = TileHashReader::new(size, &g.store);
        assert_eq!(
            root_at(&tiles, size).unwrap(),
            root_at(&g.tree, size).unwrap()
        );
        for index in [0, size / 3, size / 2, size - 1] {
            let got = prove_inclusion(&tiles, index, size).unwrap();
            assert_eq!(got, prove_inclusion(&g.tree, index, size).unwrap());
        }
        for &old in &g.sizes[..=i] {
            let got = prove_consistency(&tiles, old, size).unwrap();
            assert_eq!(got, prove_consistency(&g.tree, old, size).unwrap());
        }
    }
}

/// A reader that only has the tiles it was told a proof needs.
struct Only<'a>(&'a Store, BTreeSet<Tile>);

impl TileReader for Only<'_> {
    type Error = NotStored;

    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, NotStored> {
        if let Some(t) = tiles.iter().find(|t| !self.1.contains(t)) {
            return Err(NotStored(*t));
        }
        self.0.read_tiles(tiles)
    }
}

#[test]
fn tiles_for_a_proof_are_exactly_enough() {
    let g = grown();
    let size = *g.sizes.last().unwrap();
    for (index, old) in [(0, 1), (12_345, 2), (70_000, 70_000), (size - 1, 65_536)] {
        let plan = inclusion_plan(index, size).unwrap();
        let needed: BTreeSet<Tile> = tiles_for_nodes(plan.ids(), size)
            .unwrap()
            .into_iter()
            .collect();
        let reader = TileHashReader::new(size, Only(&g.store, needed.clone()));
        let proof = prove_inclusion(&reader, index, size).unwrap();
        assert_eq!(proof, prove_inclusion(&g.tree, index, size).unwrap());
        // Removing any one needed tile makes the proof fail.
        for t in &needed {
            let mut fewer = needed.clone();
            fewer.remove(t);
            let reader = TileHashReader::new(size, Only(&g.store, fewer));
            assert!(prove_inclusion(&reader, index, size).is_err());
        }
        let plan = consistency_plan(old, size).unwrap();
        let needed = tiles_for_nodes(plan.ids(), size)
            .unwrap()
            .into_iter()
            .collect();
        let reader = TileHashReader::new(size, Only(&g.store, needed));
        assert_eq!(
            prove_consistency(&reader, old, size).unwrap(),
            prove_consistency(&g.tree, old, size).unwrap()
        );
    }
}

#[test]
fn tile_hash_reader_errors() {
    let g = grown();
    let size = g.sizes[3]; // 257
    let tiles = TileHashReader::new(size, &g.store);
    let outside = NodeId::new(0, size).unwrap();
    assert!(matches!(
        tiles.read_hashes(&[outside]),
        Err(TileReadError::NodeNotInTree { .. })
    ));
    // A size for which no partial tile was written: the store says so.
    let unknown = TileHashReader::new(size + 1, &g.store);
    assert!(matches!(
        root_at(&unknown, size + 1),
        Err(tlog::proof::ProofError::Reader(TileReadError::Reader(
            NotStored(_)
        )))
    ));

    struct Short;
    impl TileReader for Short {
        type Error = NotStored;
        fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, NotStored> {
            Ok(tiles
                .iter()
                .map(|t| vec![0; usize::from(t.width()) * 32 - 1])
                .collect())
        }
    }
    let short = TileHashReader::new(size, Short);
    assert!(matches!(
        short.read_hashes(&[NodeId::leaf(0).unwrap()]),
        Err(TileReadError::TileData(TileError::DataLength { .. }))
    ));
    struct Nothing;
    impl TileReader for Nothing {
        type Error = NotStored;
        fn read_tiles(&self, _: &[Tile]) -> Result<Vec<Vec<u8>>, NotStored> {
            Ok(vec![])
        }
    }
    let nothing = TileHashReader::new(size, Nothing);
    assert!(matches!(
        nothing.read_hashes(&[NodeId::leaf(0).unwrap()]),
        Err(TileReadError::TileCount {
            expected: 1,
            got: 0
        })
    ));
}

#[test]
fn tile_slots_cover_levels_between_tiles() {
    let g = grown();
    let size = *g.sizes.last().unwrap();
    let tiles = TileHashReader::new(size, &g.store);
    // Nodes at every level 0..=16 that are complete in the tree.
    let ids: Vec<NodeId> = (0..=16u8)
        .flat_map(|l| {
            let n = size >> l;
            [0, n / 2, n.saturating_sub(1)].map(move |i| NodeId::new(l, i).unwrap())
        })
        .filter(|id| id.is_complete_in(size))
        .collect();
    let from_tiles = tiles.read_hashes(&ids).unwrap();
    assert_eq!(from_tiles, g.tree.read_hashes(&ids).unwrap());
    let slot = tile_for_node(NodeId::new(9, 1).unwrap(), size).unwrap();
    assert_eq!((slot.tile, slot.start, slot.count), (tile(1, 0, 256), 2, 2));
}

#[test]
fn edge_refuses_wrong_partial_tiles() {
    let g = grown();
    let size = g.sizes[6]; // 1068 = 4·256 + 44: partial tiles (0, 4, 44) and (1, 0, 4)
    assert_eq!(size, 1068);
    let t0 = tile(0, 4, 44);
    let t1 = tile(1, 0, 4);
    let d0 = g.store.0[&t0].clone();
    let d1 = g.store.0[&t1].clone();
    let edge = TileEdge::from_partial_tiles(size, &[(t0, &d0), (t1, &d1)]).unwrap();
    assert_eq!(edge.root(), root_at(&g.tree, size).unwrap());
    assert_eq!(
        TileEdge::from_partial_tiles(size, &[(t0, &d0)]),
        Err(TileError::EdgeTileMissing { tile: t1 })
    );
    assert_eq!(
        TileEdge::from_partial_tiles(size, &[(t0, &d0), (t1, &d1), (t1, &d1)]),
        Err(TileError::EdgeTileUnexpected { tile: t1 })
    );
    let other = tile(0, 3, 256);
    assert_eq!(
        TileEdge::from_partial_tiles(size, &[(t0, &d0), (t1, &d1), (other, &d0)]),
        Err(TileError::EdgeTileUnexpected { tile: other })
    );
    assert!(matches!(
        TileEdge::from_partial_tiles(size, &[(t0, &d0[1..]), (t1, &d1)]),
        Err(TileError::DataLength { .. })
    ));
    assert!(matches!(
        TileEdge::from_partial_tiles(u64::MAX, &[]),
        Err(TileError::EdgeTileMissing { .. })
    ));
    let mut empty = TileEdge::from_partial_tiles(0, &[]).unwrap();
    assert_eq!(empty.append(&[]).unwrap().tiles, vec![]);
}
