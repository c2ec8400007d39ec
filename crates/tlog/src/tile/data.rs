//! Tile data and entry bundles as bytes (C2SP tlog-tiles "Merkle Tree", "Log entries").

use thiserror::Error;

use super::{EntryBundle, MAX_ENTRY_SIZE, TILE_WIDTH, Tile, TileError};
use crate::hash::{HASH_SIZE, Hash};

/// Encodes tile data: the concatenation of 1 to 256 hashes (tlog-tiles "Merkle Tree":
/// "concatenated sequences of consecutive Merkle Tree Hashes").
pub fn encode_tile_data(hashes: &[Hash]) -> Result<Vec<u8>, TileError> {
    if hashes.is_empty() || hashes.len() > usize::from(TILE_WIDTH) {
        return Err(TileError::HashCount {
            count: hashes.len(),
        });
    }
    Ok(hashes.iter().flat_map(|h| h.0).collect())
}

/// Parses the data of `tile`: exactly `32 × width` bytes (tlog-tiles "Merkle Tree"; a full
/// tile is 8,192 bytes). The hashes are not authenticated: see the module doc.
pub fn parse_tile_data(tile: Tile, data: &[u8]) -> Result<Vec<Hash>, TileError> {
    let expected = usize::from(tile.width()) * HASH_SIZE;
    if data.len() != expected {
        return Err(TileError::DataLength {
            tile,
            expected,
            got: data.len(),
        });
    }
    // Every chunk is exactly HASH_SIZE bytes, so from_slice never returns None here.
    Ok(data
        .chunks_exact(HASH_SIZE)
        .filter_map(Hash::from_slice)
        .collect())
}

/// Why bytes are not a valid entry bundle, or entries cannot form one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum BundleError {
    /// An entry is longer than [`MAX_ENTRY_SIZE`] and cannot be length-prefixed.
    #[error("entry {entry} is {len} bytes, more than 65535")]
    EntryTooLarge {
        /// Position of the entry in the bundle.
        entry: usize,
        /// Its length.
        len: usize,
    },
    /// A bundle holds 1 to 256 entries.
    #[error("a bundle holds 1 to 256 entries, got {count}")]
    EntryCount {
        /// The number of entries given.
        count: usize,
    },
    /// The data ends inside entry `entry` (its length prefix or its bytes).
    #[error("bundle data ends inside entry {entry}")]
    Truncated {
        /// Position of the entry cut short.
        entry: usize,
    },
    /// The data ends cleanly after fewer entries than the bundle's width.
    #[error("bundle has {got} entries, expected {expected}")]
    TooFewEntries {
        /// The bundle's width.
        expected: u16,
        /// The number of entries found.
        got: u16,
    },
    /// Bytes follow the bundle's last entry.
    #[error("{len} bytes follow the bundle's last entry")]
    TrailingBytes {
        /// The number of bytes left over.
        len: usize,
    },
}

/// Encodes an entry bundle: each entry as a big-endian `u16` length then its bytes
/// (tlog-tiles "Log entries"). 1 to 256 entries of at most [`MAX_ENTRY_SIZE`] bytes.
pub fn encode_bundle<E: AsRef<[u8]>>(entries: &[E]) -> Result<Vec<u8>, BundleError> {
    if entries.is_empty() || entries.len() > usize::from(TILE_WIDTH) {
        return Err(BundleError::EntryCount {
            count: entries.len(),
        });
    }
    let total: usize = entries.iter().map(|e| 2 + e.as_ref().len()).sum();
    let mut out = Vec::with_capacity(total);
    for (entry, e) in entries.iter().enumerate() {
        let e = e.as_ref();
        if e.len() > MAX_ENTRY_SIZE {
            return Err(BundleError::EntryTooLarge {
                entry,
                len: e.len(),
            });
        }
        // MAX_ENTRY_SIZE == u16::MAX: the length fits.
        out.extend_from_slice(&(e.len() as u16).to_be_bytes());
        out.extend_from_slice(e);
    }
    Ok(out)
}

/// Parses the data of entry bundle `bundle`: exactly `width` length-prefixed entries and
/// nothing after (tlog-tiles "Log entries"). The entries are not authenticated: hash them
/// ([`crate::hash::leaf_hash`]) and compare with the bundle's level-0 tile or an inclusion
/// proof.
pub fn parse_bundle(bundle: EntryBundle, data: &[u8]) -> Result<Vec<&[u8]>, BundleError> {
    let width = bundle.width();
    let mut entries = Vec::with_capacity(usize::from(width));
    let mut rest = data;
    for entry in 0..usize::from(width) {
        if rest.is_empty() {
            return Err(BundleError::TooFewEntries {
                expected: width,
                got: entries.len() as u16, // < width <= 256
            });
        }
        let truncated = BundleError::Truncated { entry };
        let (prefix, tail) = rest.split_first_chunk::<2>().ok_or(truncated)?;
        let len = usize::from(u16::from_be_bytes(*prefix));
        let (e, tail) = tail.split_at_checked(len).ok_or(truncated)?;
        entries.push(e);
        rest = tail;
    }
    if !rest.is_empty() {
        return Err(BundleError::TrailingBytes { len: rest.len() });
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundle_round_trip_and_errors() {
        let b = EntryBundle::new(0, 3).unwrap();
        let data = encode_bundle(&[&b""[..], b"a", b"bc"]).unwrap();
        assert_eq!(data, b"\x00\x00\x00\x01a\x00\x02bc");
        assert_eq!(parse_bundle(b, &data).unwrap(), [&b""[..], b"a", b"bc"]);
        assert_eq!(
            parse_bundle(b, &data[..data.len() - 1]),
            Err(BundleError::Truncated { entry: 2 })
        );
        assert_eq!(
            parse_bundle(b, &data[..4]),
            Err(BundleError::Truncated { entry: 1 })
        );
        assert_eq!(
            parse_bundle(b, &data[..3]),
            Err(BundleError::Truncated { entry: 1 })
        );
        assert_eq!(
            parse_bundle(b, &data[..5]),
            Err(BundleError::TooFewEntries {
                expected: 3,
                got: 2
            })
        );
        let mut long = data.clone();
        long.push(0);
        assert_eq!(
            parse_bundle(b, &long),
            Err(BundleError::TrailingBytes { len: 1 })
        );
        let big = vec![0u8; MAX_ENTRY_SIZE + 1];
        assert_eq!(
            encode_bundle(&[big]),
            Err(BundleError::EntryTooLarge {
                entry: 0,
                len: MAX_ENTRY_SIZE + 1
            })
        );
        assert!(encode_bundle(&[vec![0u8; MAX_ENTRY_SIZE]]).is_ok());
        assert_eq!(
            encode_bundle::<&[u8]>(&[]),
            Err(BundleError::EntryCount { count: 0 })
        );
    }

    #[test]
    fn tile_data_lengths() {
        let t = Tile::new(1, 0, 2).unwrap();
        let hashes = [Hash([1; 32]), Hash([2; 32])];
        let data = encode_tile_data(&hashes).unwrap();
        assert_eq!(parse_tile_data(t, &data).unwrap(), hashes);
        assert!(matches!(
            parse_tile_data(t, &data[1..]),
            Err(TileError::DataLength {
                expected: 64,
                got: 63,
                ..
            })
        ));
        assert_eq!(
            encode_tile_data(&[]),
            Err(TileError::HashCount { count: 0 })
        );
    }
}
