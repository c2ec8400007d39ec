//! Eight bytes at a time: finding the bytes of a JSON string that need attention, for the
//! parser and the writer. Strings are mostly plain ASCII, and these checks let both skip
//! such runs a word at a time instead of a byte at a time.

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The eight bytes at `i`, if there are eight.
pub(super) fn word_at(bytes: &[u8], i: usize) -> Option<u64> {
    let chunk: [u8; 8] = bytes.get(i..i.checked_add(8)?)?.try_into().ok()?;
    Some(u64::from_le_bytes(chunk))
}

/// Whether some byte of `word` is below `n`, for `n` at most 0x80 (the "hasless" bit trick:
/// subtracting `n` from a byte below it borrows into the byte's top bit, which `!word`
/// keeps only for bytes that had it clear).
const fn has_less(word: u64, n: u8) -> bool {
    word.wrapping_sub(ONES * n as u64) & !word & HIGHS != 0
}

/// Whether some byte of `word` equals `b`.
const fn has_byte(word: u64, b: u8) -> bool {
    has_less(word ^ (ONES * b as u64), 1)
}

/// Whether some byte of `word` is `"`, `\` or a control character (below 0x20): the bytes
/// that end a run of a JSON string, in its text and in its canonical form alike.
pub(super) const fn has_special(word: u64) -> bool {
    has_less(word, 0x20) || has_byte(word, b'"') || has_byte(word, b'\\')
}

/// Whether some byte of `word` is not ASCII.
pub(super) const fn has_non_ascii(word: u64) -> bool {
    word & HIGHS != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agrees_with_bytewise_checks() {
        let special = |b: u8| b < 0x20 || b == b'"' || b == b'\\';
        let interesting = [
            0u8, 1, 0x1f, 0x20, 0x21, b'"', b'#', b'[', b'\\', b']', b'a', 0x7f, 0x80, 0xbf, 0xc2,
            0xef, 0xf0, 0xff,
        ];
        for &a in &interesting {
            for &b in &interesting {
                for position in 0..8 {
                    let mut bytes = [b'a'; 8];
                    bytes[position] = a;
                    bytes[(position + 3) % 8] = b;
                    let word = word_at(&bytes, 0).unwrap();
                    assert_eq!(
                        has_special(word),
                        bytes.iter().any(|&x| special(x)),
                        "{bytes:?}"
                    );
                    assert_eq!(has_non_ascii(word), !bytes.is_ascii(), "{bytes:?}");
                }
            }
        }
        assert_eq!(word_at(b"1234567", 0), None);
        assert_eq!(word_at(b"12345678", 1), None);
        assert_eq!(word_at(b"12345678", usize::MAX), None);
    }
}
