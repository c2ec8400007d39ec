//! Tile and entry bundle paths, C2SP tlog-tiles "Merkle Tree" and "Log entries".
//!
//! Parsing is strict: exactly the paths [`Tile::path`] and [`EntryBundle::path`] write are
//! accepted, so a path names one resource and a resource has one path.

use core::fmt;

use thiserror::Error;

use super::{EntryBundle, TILE_WIDTH, Tile, TileError};

/// Longer than any valid path (the longest is 52 bytes); refused before any work.
const MAX_PATH_LEN: usize = 64;

/// Why a string is not a tile or entry bundle path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum PathError {
    /// Longer than any tile path.
    #[error("path of {len} bytes is too long for a tile path")]
    TooLong {
        /// The path length in bytes.
        len: usize,
    },
    /// Does not start with `tile/` followed by a level or `entries` and an index.
    #[error("not a tile path")]
    NotATilePath,
    /// The level is not a decimal 0 to 63 without leading zeros.
    #[error("tile level is not a decimal 0..=63 without leading zeros")]
    BadLevel,
    /// The index is not 3-digit groups, all but the last prefixed with `x`, without a
    /// leading all-zero group.
    #[error("tile index is not canonical x-prefixed 3-digit groups")]
    BadIndex,
    /// The `.p/` width is not a decimal 1 to 255 without leading zeros.
    #[error("partial tile width is not a decimal 1..=255 without leading zeros")]
    BadWidth,
    /// Well-formed, but no tree of at most `u64::MAX` leaves has that tile (a level above
    /// 7, or an index too large).
    #[error("well-formed tile path beyond any tree of u64 size")]
    BeyondTreeLimit,
}

/// A parsed tile path: a hash tile or an entry bundle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TilePath {
    /// `tile/<L>/<N>[.p/<W>]`.
    Hashes(Tile),
    /// `tile/entries/<N>[.p/<W>]`.
    Entries(EntryBundle),
}

/// Writes `N` as 3-digit groups, all but the last prefixed with `x`.
fn write_index(f: &mut fmt::Formatter<'_>, mut index: u64) -> fmt::Result {
    let mut groups = [0u16; 7]; // u64::MAX has 20 digits: 7 groups
    let mut n = 0;
    loop {
        groups[n] = (index % 1000) as u16;
        index /= 1000;
        n += 1;
        if index == 0 {
            break;
        }
    }
    for g in groups[1..n].iter().rev() {
        write!(f, "x{g:03}/")?;
    }
    write!(f, "{:03}", groups[0])
}

fn write_width(f: &mut fmt::Formatter<'_>, width: u16) -> fmt::Result {
    if width < TILE_WIDTH {
        write!(f, ".p/{width}")?;
    }
    Ok(())
}

impl fmt::Display for Tile {
    /// The tile's path, `tile/<L>/<N>[.p/<W>]` (tlog-tiles "Merkle Tree").
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tile/{}/", self.level)?;
        write_index(f, self.index)?;
        write_width(f, self.width)
    }
}

impl fmt::Display for EntryBundle {
    /// The bundle's path, `tile/entries/<N>[.p/<W>]` (tlog-tiles "Log entries").
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("tile/entries/")?;
        write_index(f, self.index())?;
        write_width(f, self.width())
    }
}

impl Tile {
    /// The tile's path relative to the log prefix, `tile/<L>/<N>[.p/<W>]` (tlog-tiles
    /// "Merkle Tree").
    pub fn path(self) -> String {
        self.to_string()
    }

    /// Parses a hash tile path (tlog-tiles "Merkle Tree"); entry bundle paths are
    /// refused with [`PathError::NotATilePath`].
    pub fn parse_path(path: &str) -> Result<Tile, PathError> {
        match parse_path(path)? {
            TilePath::Hashes(tile) => Ok(tile),
            TilePath::Entries(_) => Err(PathError::NotATilePath),
        }
    }
}

impl EntryBundle {
    /// The bundle's path relative to the log prefix, `tile/entries/<N>[.p/<W>]`
    /// (tlog-tiles "Log entries").
    pub fn path(self) -> String {
        self.to_string()
    }

    /// Parses an entry bundle path (tlog-tiles "Log entries"); hash tile paths are
    /// refused with [`PathError::NotATilePath`].
    pub fn parse_path(path: &str) -> Result<EntryBundle, PathError> {
        match parse_path(path)? {
            TilePath::Entries(bundle) => Ok(bundle),
            TilePath::Hashes(_) => Err(PathError::NotATilePath),
        }
    }
}

/// Parses `tile/<L>/<N>[.p/<W>]` or `tile/entries/<N>[.p/<W>]`, relative to the log
/// prefix (C2SP tlog-tiles "Merkle Tree", "Log entries").
///
/// `<L>` is decimal 0 to 63 without leading zeros; `<N>` is zero-padded 3-digit groups,
/// all but the last prefixed with `x`, and (our strictness, so each index has one path)
/// without a leading `x000` group; `<W>` is decimal 1 to 255 without leading zeros.
pub fn parse_path(path: &str) -> Result<TilePath, PathError> {
    if path.len() > MAX_PATH_LEN {
        return Err(PathError::TooLong { len: path.len() });
    }
    let rest = path.strip_prefix("tile/").ok_or(PathError::NotATilePath)?;
    let (head, rest) = rest.split_once('/').ok_or(PathError::NotATilePath)?;
    let level = match head {
        "entries" => None,
        _ => Some(parse_level(head)?),
    };
    let (index, width) = match rest.split_once(".p/") {
        Some((index, width)) => (index, parse_width(width)?),
        None => (rest, TILE_WIDTH),
    };
    let index = parse_index(index)?;
    let out_of_range = |_: TileError| PathError::BeyondTreeLimit;
    match level {
        Some(level) => Ok(TilePath::Hashes(
            Tile::new(level, index, width).map_err(out_of_range)?,
        )),
        None => Ok(TilePath::Entries(
            EntryBundle::new(index, width).map_err(out_of_range)?,
        )),
    }
}

/// A decimal number of 1 to `max_digits` ASCII digits without leading zeros.
fn parse_decimal(s: &str, max_digits: usize) -> Option<u16> {
    let b = s.as_bytes();
    if b.is_empty() || b.len() > max_digits || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    if b.len() > 1 && b[0] == b'0' {
        return None;
    }
    Some(b.iter().fold(0u16, |n, d| n * 10 + u16::from(d - b'0')))
}

fn parse_level(s: &str) -> Result<u8, PathError> {
    match parse_decimal(s, 2) {
        Some(level @ 0..=63) => Ok(level as u8),
        _ => Err(PathError::BadLevel),
    }
}

fn parse_width(s: &str) -> Result<u16, PathError> {
    match parse_decimal(s, 3) {
        Some(width @ 1..=255) => Ok(width),
        _ => Err(PathError::BadWidth),
    }
}

/// A 3-digit group, with or without its `x` prefix as required.
fn parse_group(group: &str, prefixed: bool) -> Option<u64> {
    let digits = if prefixed {
        group.strip_prefix('x')?
    } else {
        group
    };
    let b = digits.as_bytes();
    if b.len() != 3 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0u64, |n, d| n * 10 + u64::from(d - b'0')))
}

fn parse_index(s: &str) -> Result<u64, PathError> {
    let mut groups = s.split('/').peekable();
    let mut index: u64 = 0;
    let mut first = true;
    while let Some(group) = groups.next() {
        let last = groups.peek().is_none();
        let value = parse_group(group, !last).ok_or(PathError::BadIndex)?;
        if first && !last && value == 0 {
            return Err(PathError::BadIndex);
        }
        index = index
            .checked_mul(1000)
            .and_then(|i| i.checked_add(value))
            .ok_or(PathError::BeyondTreeLimit)?;
        first = false;
    }
    Ok(index)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_groups() {
        let t = |i| Tile::new(0, i, 256).unwrap().path();
        assert_eq!(t(0), "tile/0/000");
        assert_eq!(t(999), "tile/0/999");
        assert_eq!(t(1000), "tile/0/x001/000");
        assert_eq!(t(1_234_067), "tile/0/x001/x234/067");
        let max = u64::MAX / 256 - 1;
        assert_eq!(
            parse_path(&t(max)),
            Ok(TilePath::Hashes(Tile::new(0, max, 256).unwrap()))
        );
    }
}
