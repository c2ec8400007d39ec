//! The canonical serializer (RFC 8785 §3.2) behind [`super::canonical`].

use std::cmp::Ordering;

use serde_json::{Map, Number, Value};

use super::swar;

/// 2^53: up to this magnitude an integer `Number` is written in plain decimal, which is
/// exactly what ECMAScript writes for it (see `write_number`).
const MAX_PLAIN_INTEGER: u64 = 1 << 53;

pub(super) fn write_value(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => write_number(n, out),
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push(b'[');
            let mut first = true;
            for item in items {
                if !first {
                    out.push(b',');
                }
                first = false;
                write_value(item, out);
            }
            out.push(b']');
        }
        Value::Object(members) => write_object(members, out),
    }
}

/// Members in the order of their names' UTF-16 code units (RFC 8785 §3.2.3).
fn write_object(members: &Map<String, Value>, out: &mut Vec<u8>) {
    out.push(b'{');
    // serde_json's `Map` is a `BTreeMap` ordered by UTF-8 bytes, which agrees with UTF-16
    // order unless names hold characters at or above U+E000; with its `preserve_order`
    // feature (which any crate in the build can switch on) it keeps insertion order. So
    // check the order we are given, without allocating, and sort only when it is wrong.
    let mut in_order = true;
    let mut previous: Option<&str> = None;
    for key in members.keys() {
        if let Some(previous) = previous
            && cmp_utf16(previous, key) != Ordering::Less
        {
            in_order = false;
            break;
        }
        previous = Some(key);
    }
    if in_order {
        write_members(members.iter(), out);
    } else {
        let mut sorted: Vec<(&String, &Value)> = members.iter().collect();
        // Names in one map are distinct, so an unstable sort is deterministic.
        sorted.sort_unstable_by(|a, b| cmp_utf16(a.0, b.0));
        write_members(sorted.into_iter(), out);
    }
    out.push(b'}');
}

fn write_members<'a>(members: impl Iterator<Item = (&'a String, &'a Value)>, out: &mut Vec<u8>) {
    let mut first = true;
    for (key, value) in members {
        if !first {
            out.push(b',');
        }
        first = false;
        write_string(key, out);
        out.push(b':');
        write_value(value, out);
    }
}

/// Compares two strings as sequences of UTF-16 code units (RFC 8785 §3.2.3), without
/// converting them.
///
/// UTF-8 byte order is code point order. UTF-16 order differs from it in one way only:
/// characters at U+10000 and above are surrogate pairs (0xD800..0xDBFF first) and so sort
/// before U+E000..U+FFFF. Both strings are valid UTF-8 and equal up to the first byte
/// where they differ, so that byte is at a character boundary in both or in neither. In
/// neither, the two characters share their lead byte, hence their length and their
/// UTF-16 form's shape, and byte order is UTF-16 order. At a boundary both bytes are
/// ASCII or lead bytes, and [`utf16_rank`] moves the 4-byte lead bytes (0xF0..0xF4)
/// before the lead bytes of U+E000..U+FFFF (0xEE, 0xEF).
pub(super) fn cmp_utf16(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    match a.iter().zip(b).find(|(x, y)| x != y) {
        None => a.len().cmp(&b.len()),
        Some((&x, &y)) => utf16_rank(x).cmp(&utf16_rank(y)),
    }
}

/// Reorders UTF-8 lead bytes so that comparing them compares the UTF-16 code units of the
/// characters they start: 0xF0..0xF4 become 0xEE..0xF2, 0xEE..0xEF become 0xF3..0xF4. All
/// other bytes, continuation bytes included, keep their value; 0xF5..0xFF never occur.
fn utf16_rank(byte: u8) -> u8 {
    match byte {
        0xEE..=0xEF => byte + 5,
        0xF0..=0xF4 => byte - 2,
        _ => byte,
    }
}

/// What to write for each byte of a string (RFC 8785 §3.2.2.2): 0 for the byte itself,
/// `u` for `\u00xx`, otherwise the letter after the backslash.
static ESCAPE: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < 0x20 {
        table[i] = b'u';
        i += 1;
    }
    table[0x08] = b'b';
    table[0x09] = b't';
    table[0x0A] = b'n';
    table[0x0C] = b'f';
    table[0x0D] = b'r';
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table
};

const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

/// A string per RFC 8785 §3.2.2.2: runs of bytes that need no escape are copied whole.
fn write_string(s: &str, out: &mut Vec<u8>) {
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut start = 0;
    let mut i = 0;
    loop {
        // Skip eight bytes at a time while none of them needs an escape.
        while let Some(word) = swar::word_at(bytes, i) {
            if swar::has_special(word) {
                break;
            }
            i += 8;
        }
        // Then byte by byte, to the end of the word that stopped the fast loop.
        let stop = bytes.len().min(i + 8);
        while i < stop {
            let byte = bytes[i];
            let escape = ESCAPE[usize::from(byte)];
            if escape != 0 {
                out.extend_from_slice(&bytes[start..i]);
                if escape == b'u' {
                    out.extend_from_slice(b"\\u00");
                    out.push(HEX_DIGITS[usize::from(byte >> 4)]);
                    out.push(HEX_DIGITS[usize::from(byte & 0xF)]);
                } else {
                    out.push(b'\\');
                    out.push(escape);
                }
                start = i + 1;
            }
            i += 1;
        }
        if i >= bytes.len() {
            break;
        }
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// A number per RFC 8785 §3.2.2.3: the ECMAScript `Number.prototype.toString` of its double.
///
/// Integers up to 2^53 in magnitude are written in plain decimal, which is what ECMAScript
/// writes for them: an integer below 10^21 is written as the digits of the shortest
/// decimal that rounds to it, padded with zeros, and the only decimal below 2^53 that
/// rounds to an integer with as few or fewer digits is that integer itself (at 2^53, where
/// 2^53 + 1 also rounds to it, ECMAScript picks the closer one). A test checks this against
/// `ryu-js`. Everything else goes through `ryu-js`.
fn write_number(n: &Number, out: &mut Vec<u8>) {
    if let Some(u) = n.as_u64() {
        if u <= MAX_PLAIN_INTEGER {
            write_u64(u, out);
            return;
        }
    } else if let Some(i) = n.as_i64()
        && i.unsigned_abs() <= MAX_PLAIN_INTEGER
    {
        out.push(b'-');
        write_u64(i.unsigned_abs(), out);
        return;
    }
    // `as_f64` rounds integers to the nearest double, as a JCS reader of their decimal
    // form would.
    match n.as_f64() {
        Some(f) if f.is_finite() => {
            if f == 0.0 {
                // ECMAScript writes both zeros as "0".
                out.push(b'0');
            } else {
                out.extend_from_slice(ryu_js::Buffer::new().format_finite(f).as_bytes());
            }
        }
        // With serde_json's default features every `Number` is a finite double or a
        // 64-bit integer, so this is unreachable; a test guards that assumption. Were
        // `arbitrary_precision` switched on, a number that no double holds would come
        // here, and it has no canonical form.
        _ => out.extend_from_slice(b"null"),
    }
}

fn write_u64(mut n: u64, out: &mut Vec<u8>) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[start..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ecmascript(f: f64) -> String {
        if f == 0.0 {
            return "0".to_owned();
        }
        ryu_js::Buffer::new().format_finite(f).to_owned()
    }

    fn written(n: Number) -> String {
        let mut out = Vec::new();
        write_number(&n, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn plain_integers_agree_with_ryu_js() {
        let edges = [
            0u64,
            1,
            9,
            10,
            99,
            100,
            1 << 52,
            (1 << 53) - 1,
            1 << 53,
            999_999_999_999_999,
            1_000_000_000_000_000,
            9_007_199_254_740_990,
        ];
        for u in edges {
            assert_eq!(written(Number::from(u)), ecmascript(u as f64), "{u}");
            let i = -(u as i64);
            assert_eq!(written(Number::from(i)), ecmascript(i as f64), "{i}");
        }
        // Every integer in a window below 2^53, and a spread across the range.
        for u in ((1u64 << 53) - 100_000..=1 << 53).chain((0..1u64 << 53).step_by(1 << 37)) {
            assert_eq!(written(Number::from(u)), ecmascript(u as f64), "{u}");
        }
    }

    #[test]
    fn large_integers_round_like_doubles() {
        // RFC 8785 Appendix B note 1: 2^53 + 1 has no double; it rounds to 2^53.
        assert_eq!(
            written(Number::from(9_007_199_254_740_993u64)),
            "9007199254740992"
        );
        assert_eq!(written(Number::from(u64::MAX)), "18446744073709552000");
        assert_eq!(written(Number::from(i64::MIN)), "-9223372036854776000");
    }

    #[test]
    fn zeros() {
        let negative_zero = Number::from_f64(-0.0).unwrap();
        assert_eq!(written(negative_zero), "0");
        assert_eq!(written(Number::from_f64(0.0).unwrap()), "0");
    }

    #[test]
    fn utf16_order_of_lead_bytes() {
        let samples = [
            "",
            "\0",
            "a",
            "aa",
            "ab",
            "\u{7f}",
            "\u{80}",
            "\u{7ff}",
            "\u{800}",
            "\u{d7ff}",
            "\u{e000}",
            "\u{fb33}",
            "\u{ffff}",
            "\u{10000}",
            "\u{1f600}",
            "\u{10ffff}",
            "a\u{10000}",
            "a\u{ffff}",
            "\u{ffff}a",
            "\u{10000}a",
        ];
        for a in samples {
            for b in samples {
                assert_eq!(
                    cmp_utf16(a, b),
                    a.encode_utf16().cmp(b.encode_utf16()),
                    "{a:?} vs {b:?}"
                );
            }
        }
    }
}
