//! The strict I-JSON parser (RFC 7493, RFC 8259 grammar) behind [`super::parse`].
//!
//! A hand-written recursive descent over bytes rather than `serde_json::from_slice`, for
//! three reasons: serde_json keeps the last of two duplicate member names; its default
//! float parser may be one ulp off (exact parsing is its `float_roundtrip` feature), and a
//! one-ulp difference changes the canonical text and so the signature; and its errors carry
//! line and column in a message, where callers here need a typed reason and a byte offset.
//! Numbers go through `str::parse::<f64>`, which rounds correctly (to nearest, ties to
//! even) for any number of digits.

use serde_json::map::Entry;
use serde_json::{Map, Number, Value};

use super::{JcsError, MAX_DEPTH, swar};

/// 2^53 − 1: the largest magnitude up to which every integer is exactly a double
/// (RFC 7493 §2.2).
pub(super) const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// Integer literals with at most this many digits are below 2^53, so they are read
/// exactly without going through `f64`.
const FAST_INTEGER_DIGITS: usize = 15;

pub(super) fn parse(bytes: &[u8], max_len: usize) -> Result<Value, JcsError> {
    if bytes.len() > max_len {
        return Err(JcsError::TooLarge {
            len: bytes.len(),
            max: max_len,
        });
    }
    // Validating the whole input once up front lets the parser slice `&str`s at ASCII
    // delimiters without decoding, and rejects surrogates encoded in UTF-8 (ED A0 80...).
    let text = std::str::from_utf8(bytes).map_err(|e| JcsError::InvalidUtf8 {
        offset: e.valid_up_to(),
    })?;
    let mut parser = Parser { text, pos: 0 };
    parser.skip_whitespace();
    let value = parser.value(0)?;
    parser.skip_whitespace();
    match parser.peek() {
        None => Ok(value),
        Some(_) => Err(JcsError::TrailingData { offset: parser.pos }),
    }
}

/// The number rule of the value model (see the module documentation of `jcs`): an integral
/// double within ±(2^53 − 1) becomes an integer `Number` (`-0` becomes 0), any other
/// finite double stays a double. `None` for NaN and infinities.
pub(super) fn number_from_f64(f: f64) -> Option<Number> {
    // NaN and infinities have a NaN fractional part, so they fall to `from_f64`, which
    // refuses them.
    if f.fract() == 0.0 && f.abs() <= MAX_SAFE_INTEGER as f64 {
        // Exact: `f` is an integer of magnitude below 2^53.
        if f < 0.0 {
            Some(Number::from(f as i64))
        } else {
            Some(Number::from(f as u64))
        }
    } else {
        Number::from_f64(f)
    }
}

/// Whether `c` is a Unicode noncharacter: U+FDD0..U+FDEF, or the last two code points of
/// any plane (Unicode §23.7).
pub(super) fn is_noncharacter(c: u32) -> bool {
    (0xFDD0..=0xFDEF).contains(&c) || c & 0xFFFE == 0xFFFE
}

/// The first noncharacter in `s`, as its byte index and code point.
pub(super) fn find_noncharacter(s: &str) -> Option<(usize, u32)> {
    // Every noncharacter's UTF-8 form starts with 0xEF (the BMP ones) or 0xF0..0xF4; most
    // strings have no such byte and skip decoding.
    if !s.bytes().any(|b| b >= 0xEF) {
        return None;
    }
    s.char_indices()
        .map(|(i, c)| (i, u32::from(c)))
        .find(|&(_, c)| is_noncharacter(c))
}

struct Parser<'a> {
    /// The whole input, already checked to be UTF-8.
    text: &'a str,
    /// Offset of the next byte to read.
    pos: usize,
}

impl<'a> Parser<'a> {
    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    fn peek(&self) -> Option<u8> {
        self.bytes().get(self.pos).copied()
    }

    /// The error for the byte at `pos`, which is not what the grammar wants there.
    fn unexpected(&self) -> JcsError {
        match self.peek() {
            None => JcsError::UnexpectedEnd { offset: self.pos },
            Some(byte) => JcsError::UnexpectedByte {
                offset: self.pos,
                byte,
            },
        }
    }

    fn expect(&mut self, byte: u8) -> Result<(), JcsError> {
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    /// JSON whitespace only (RFC 8259 §2): no form feed, no vertical tab, no U+00A0.
    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    /// A value at `pos`, inside `depth` arrays and objects.
    fn value(&mut self, depth: usize) -> Result<Value, JcsError> {
        match self.peek() {
            Some(b'{') => self.object(depth + 1),
            Some(b'[') => self.array(depth + 1),
            Some(b'"') => self.string().map(Value::String),
            Some(b't') => self.literal(b"true", Value::Bool(true)),
            Some(b'f') => self.literal(b"false", Value::Bool(false)),
            Some(b'n') => self.literal(b"null", Value::Null),
            Some(b'-' | b'0'..=b'9') => self.number().map(Value::Number),
            _ => Err(self.unexpected()),
        }
    }

    fn literal(&mut self, word: &[u8], value: Value) -> Result<Value, JcsError> {
        for &byte in word {
            self.expect(byte)?;
        }
        Ok(value)
    }

    /// Refuses to open an array or object at nesting level `depth`. Checked before
    /// descending, so recursion (here, in the writer and in `Drop`) stays within
    /// [`MAX_DEPTH`] frames.
    fn enter(&self, depth: usize) -> Result<(), JcsError> {
        if depth > MAX_DEPTH {
            Err(JcsError::TooDeep {
                offset: Some(self.pos),
                max: MAX_DEPTH,
            })
        } else {
            Ok(())
        }
    }

    /// An array whose `[` is at `pos`; `depth` counts this array.
    fn array(&mut self, depth: usize) -> Result<Value, JcsError> {
        self.enter(depth)?;
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_whitespace();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Value::Array(items));
        }
        loop {
            items.push(self.value(depth)?);
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    self.skip_whitespace();
                }
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Value::Array(items));
                }
                _ => return Err(self.unexpected()),
            }
        }
    }

    /// An object whose `{` is at `pos`; `depth` counts this object.
    fn object(&mut self, depth: usize) -> Result<Value, JcsError> {
        self.enter(depth)?;
        self.pos += 1;
        let mut members = Map::new();
        self.skip_whitespace();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Value::Object(members));
        }
        loop {
            let key_offset = self.pos;
            if self.peek() != Some(b'"') {
                return Err(self.unexpected());
            }
            let key = self.string()?;
            self.skip_whitespace();
            self.expect(b':')?;
            self.skip_whitespace();
            let value = self.value(depth)?;
            // Names are compared after unescaping: "a" and "\u0061" are the same name.
            match members.entry(key) {
                Entry::Vacant(entry) => {
                    entry.insert(value);
                }
                Entry::Occupied(entry) => {
                    return Err(JcsError::DuplicateKey {
                        key: entry.key().clone(),
                        offset: Some(key_offset),
                    });
                }
            }
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    self.skip_whitespace();
                }
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Value::Object(members));
                }
                _ => return Err(self.unexpected()),
            }
        }
    }

    /// A string whose opening `"` is at `pos`, unescaped.
    fn string(&mut self) -> Result<String, JcsError> {
        let text = self.text;
        self.pos += 1;
        // Filled only once an escape shows up; a string without escapes is copied once.
        let mut decoded: Option<String> = None;
        loop {
            let start = self.pos;
            let end = self.scan_run(start)?;
            // `start` follows an ASCII byte (the quote or an escape) and `end` is at one,
            // so both are character boundaries and `get` cannot fail.
            let run = text
                .get(start..end)
                .ok_or(JcsError::InvalidUtf8 { offset: start })?;
            self.pos = end;
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(match decoded {
                        None => run.to_owned(),
                        Some(mut decoded) => {
                            decoded.push_str(run);
                            decoded
                        }
                    });
                }
                Some(b'\\') => {
                    let decoded =
                        decoded.get_or_insert_with(|| String::with_capacity(run.len() + 16));
                    decoded.push_str(run);
                    self.escape(decoded)?;
                }
                Some(byte) => {
                    return Err(JcsError::ControlCharacter { offset: end, byte });
                }
                None => return Err(self.unexpected()),
            }
        }
    }

    /// The offset of the first `"`, `\` or control character at or after `start`, or of
    /// the end of the input, having checked the characters before it for noncharacters.
    fn scan_run(&self, start: usize) -> Result<usize, JcsError> {
        let bytes = self.bytes();
        let mut i = start;
        loop {
            // Eight plain ASCII bytes at a time.
            while let Some(word) = swar::word_at(bytes, i) {
                if swar::has_special(word) || swar::has_non_ascii(word) {
                    break;
                }
                i += 8;
            }
            // Then byte by byte, to the end of the word that stopped the fast loop.
            let stop = bytes.len().min(i + 8);
            while i < stop {
                match bytes.get(i).copied() {
                    Some(b'"' | b'\\' | 0..0x20) | None => return Ok(i),
                    // Every noncharacter's UTF-8 form starts with 0xEF (the BMP ones) or
                    // 0xF0..0xF4; such a byte is always a lead byte.
                    Some(0xEF..) => {
                        let c = self.text.get(i..).and_then(|rest| rest.chars().next());
                        let Some(c) = c else {
                            return Err(JcsError::InvalidUtf8 { offset: i });
                        };
                        if is_noncharacter(u32::from(c)) {
                            return Err(JcsError::Noncharacter {
                                offset: Some(i),
                                code_point: u32::from(c),
                            });
                        }
                        i += c.len_utf8();
                    }
                    Some(_) => i += 1,
                }
            }
            if i >= bytes.len() {
                return Ok(bytes.len());
            }
        }
    }

    /// The escape whose backslash is at `pos`, appended to `out` (RFC 8259 §7).
    fn escape(&mut self, out: &mut String) -> Result<(), JcsError> {
        let offset = self.pos;
        let bytes = self.bytes();
        let Some(&kind) = bytes.get(offset + 1) else {
            return Err(JcsError::UnexpectedEnd {
                offset: bytes.len(),
            });
        };
        self.pos += 2;
        let c = match kind {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => self.unicode_escape(offset)?,
            _ => return Err(JcsError::InvalidEscape { offset }),
        };
        out.push(c);
        Ok(())
    }

    /// The character of a `\u` escape whose backslash is at `offset`, with `pos` after
    /// the `u`: one escape, or a high and a low surrogate escape making one pair.
    fn unicode_escape(&mut self, offset: usize) -> Result<char, JcsError> {
        let unit = self.hex4(offset)?;
        let code_point = match unit {
            0xD800..=0xDBFF => {
                let bytes = self.bytes();
                if bytes.get(self.pos) != Some(&b'\\') || bytes.get(self.pos + 1) != Some(&b'u') {
                    return Err(JcsError::LoneSurrogate { offset, unit });
                }
                let low_offset = self.pos;
                self.pos += 2;
                let low = self.hex4(low_offset)?;
                if !(0xDC00..=0xDFFF).contains(&low) {
                    return Err(JcsError::LoneSurrogate { offset, unit });
                }
                0x10000 + ((u32::from(unit) - 0xD800) << 10) + (u32::from(low) - 0xDC00)
            }
            0xDC00..=0xDFFF => return Err(JcsError::LoneSurrogate { offset, unit }),
            _ => u32::from(unit),
        };
        if is_noncharacter(code_point) {
            return Err(JcsError::Noncharacter {
                offset: Some(offset),
                code_point,
            });
        }
        // Surrogates were handled above, so every remaining code point is a `char`.
        char::from_u32(code_point).ok_or(JcsError::LoneSurrogate { offset, unit })
    }

    /// Four hex digits at `pos`, of the escape whose backslash is at `offset`.
    fn hex4(&mut self, offset: usize) -> Result<u16, JcsError> {
        let bytes = self.bytes();
        let mut unit: u16 = 0;
        for i in 0..4 {
            let digit = match bytes.get(self.pos + i) {
                None => {
                    return Err(JcsError::UnexpectedEnd {
                        offset: bytes.len(),
                    });
                }
                Some(&b) => match b {
                    b'0'..=b'9' => b - b'0',
                    b'a'..=b'f' => b - b'a' + 10,
                    b'A'..=b'F' => b - b'A' + 10,
                    _ => return Err(JcsError::InvalidEscape { offset }),
                },
            };
            unit = unit << 4 | u16::from(digit);
        }
        self.pos += 4;
        Ok(unit)
    }

    /// A number at `pos` (RFC 8259 §6), rounded to the nearest double.
    fn number(&mut self) -> Result<Number, JcsError> {
        let bytes = self.bytes();
        let start = self.pos;
        let invalid = JcsError::InvalidNumber { offset: start };
        let negative = bytes.get(start) == Some(&b'-');
        let int_start = start + usize::from(negative);
        let int_end = match bytes.get(int_start) {
            Some(b'0') => {
                if let Some(b'0'..=b'9') = bytes.get(int_start + 1) {
                    return Err(invalid);
                }
                int_start + 1
            }
            Some(b'1'..=b'9') => skip_digits(bytes, int_start + 1),
            _ => return Err(invalid),
        };
        let mut pos = int_end;
        let mut integral = true;
        if bytes.get(pos) == Some(&b'.') {
            integral = false;
            let digits_end = skip_digits(bytes, pos + 1);
            if digits_end == pos + 1 {
                return Err(invalid);
            }
            pos = digits_end;
        }
        if let Some(b'e' | b'E') = bytes.get(pos) {
            integral = false;
            pos += 1;
            if let Some(b'+' | b'-') = bytes.get(pos) {
                pos += 1;
            }
            let digits_end = skip_digits(bytes, pos);
            if digits_end == pos {
                return Err(invalid);
            }
            pos = digits_end;
        }
        self.pos = pos;

        let int_digits = bytes.get(int_start..int_end).unwrap_or_default();
        if integral && int_digits.len() <= FAST_INTEGER_DIGITS {
            // Below 10^15 < 2^53: exact, and the same `Number` that `number_from_f64`
            // gives for this value.
            let n = int_digits
                .iter()
                .fold(0u64, |n, &d| n * 10 + u64::from(d - b'0'));
            return Ok(if negative && n != 0 {
                Number::from(-(n as i64))
            } else {
                Number::from(n)
            });
        }
        let literal = self.text.get(start..pos).ok_or(invalid)?;
        // Rust's float parser accepts a superset of the JSON grammar checked above and
        // rounds correctly; it returns an infinity when the number overflows.
        let f: f64 = literal
            .parse()
            .map_err(|_| JcsError::InvalidNumber { offset: start })?;
        number_from_f64(f).ok_or(JcsError::NumberOutOfRange { offset: start })
    }
}

/// The offset of the first non-digit at or after `pos`.
fn skip_digits(bytes: &[u8], pos: usize) -> usize {
    let rest = bytes.get(pos..).unwrap_or_default();
    pos + rest
        .iter()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(rest.len())
}
