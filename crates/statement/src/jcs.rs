//! RFC 8785 JSON Canonicalization Scheme (JCS): a strict I-JSON parser and the canonical
//! serializer that statements are hashed and signed over.
//!
//! # What this implements
//!
//! - **Accepted language** (RFC 8785 §3.1): I-JSON, RFC 7493 — JSON text (RFC 8259) in UTF-8
//!   whose object member names are unique (§2.3), whose strings hold Unicode scalar values
//!   other than noncharacters (§2.1), and whose numbers are IEEE 754 doubles (§2.2).
//!   [`parse`] refuses everything else with a precise [`JcsError`].
//! - **Whitespace** (§3.2.1): none is written.
//! - **Literals** (§3.2.2.1): `null`, `true`, `false`.
//! - **Strings** (§3.2.2.2): only `"` and `\` and the controls U+0000..U+001F are escaped;
//!   `\b \t \n \f \r` in their short form, the other controls as `\u00xx` in lower-case hex.
//!   Everything else (including `/`, U+007F, U+2028 and U+2029) is written as its UTF-8 bytes.
//!   No Unicode normalization is applied (§3.1 note).
//! - **Numbers** (§3.2.2.3): every number is an IEEE 754 double, written as ECMAScript's
//!   `Number.prototype.toString` writes it (ECMA-262 §7.1.12.1 with "Note 2"), through
//!   `ryu-js`. So `1E30` becomes `1e+30`, `4.50` becomes `4.5`, `-0` becomes `0`, and an
//!   integer literal beyond 2^53 is rounded to the nearest double (`9007199254740993`
//!   becomes `9007199254740992`), exactly as the RFC's Appendix B shows.
//! - **Member order** (§3.2.3): recursively, object members are sorted by their names as
//!   arrays of UTF-16 code units, compared as unsigned integers — not by UTF-8 bytes and not
//!   by code points, which differ for names holding characters at or above U+E000
//!   (`"\u{10000}"` sorts before `"\u{FB33}"`). Array order is kept.
//! - **Encoding** (§3.2.4): the output is UTF-8.
//!
//! # What it refuses, and why
//!
//! A signature is only as good as the agreement on the bytes it covers. Every input that two
//! JSON implementations could read differently is refused rather than guessed at:
//! duplicate member names (one reader keeps the first, another the last), lone surrogates
//! in `\u` escapes (no Unicode text for them; RFC 8785 §3.2.2.2 requires an error),
//! noncharacters (I-JSON §2.1), numbers that overflow a double such as `1e400` (RFC 8785
//! §3.2.2.3 requires an error), invalid UTF-8, a byte order mark, and anything after the
//! value. Numbers that underflow (`1e-400`) are rounded to zero, as every double reader
//! does.
//!
//! # Limits
//!
//! - The caller gives the largest input [`parse`] accepts, in bytes.
//! - Arrays and objects nest at most [`MAX_DEPTH`] deep, so parsing, writing and dropping
//!   a parsed value never recurse deeper than that.
//! - Nothing in here panics on any input; the fuzz target `jcs` checks it.
//!
//! # The value model
//!
//! Parsed text becomes a [`serde_json::Value`], so typed bodies come out with
//! `serde_json::from_value`. A number is stored as an integer when its double is an integer
//! of magnitude at most 2^53 − 1 (I-JSON §2.2's exact range, where integer and double agree),
//! and as a double otherwise; `-0` is stored as the integer 0. [`to_value`] and
//! [`to_canonical`] build values from typed data with the same rule, so
//! `parse(to_canonical(x))` equals `to_value(x)`.
//!
//! [`canonical`] writes any `Value`; numbers are written from their double, so a `u64`
//! above 2^53 built by hand is rounded like any JCS reader would round it. The checks of
//! I-JSON belong to [`parse`] and [`to_value`], which are how values should be made.

mod error;
mod parse;
mod ser;
mod swar;
#[cfg(test)]
mod tests;
mod write;

use serde::Serialize;
use serde_json::Value;

pub use error::JcsError;

/// How deeply arrays and objects may nest: `[]` is at depth 1, `[[]]` at depth 2. Deeper
/// input is refused with [`JcsError::TooDeep`]. Statements nest a handful of levels; STIX
/// bundles in reports rarely pass ten.
pub const MAX_DEPTH: usize = 64;

/// Parses I-JSON text (RFC 7493, as RFC 8785 §3.1 requires) into a value.
///
/// # Errors
///
/// Any input that is not a single I-JSON value, optionally surrounded by JSON whitespace, or
/// that is longer than `max_len` bytes, or that nests deeper than [`MAX_DEPTH`]. See
/// [`JcsError`] for each case.
pub fn parse(bytes: &[u8], max_len: usize) -> Result<Value, JcsError> {
    parse::parse(bytes, max_len)
}

/// The canonical form of `value` (RFC 8785 §3.2), as UTF-8 bytes.
#[must_use]
pub fn canonical(value: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    write::write_value(value, &mut out);
    out
}

/// Appends the canonical form of `value` (RFC 8785 §3.2) to `out`, so that a caller
/// canonicalising many values can reuse one buffer.
pub fn write_canonical(value: &Value, out: &mut Vec<u8>) {
    write::write_value(value, out);
}

/// Converts typed data into a value with the checks of [`parse`]: numbers must be finite
/// doubles and integers within ±(2^53 − 1), map keys must be strings (or integers, written
/// in decimal, or booleans), member names unique, strings free of noncharacters, nesting
/// at most [`MAX_DEPTH`].
///
/// Unlike `serde_json::to_value`, which turns NaN and infinities into `null` and keeps the
/// last of two equal keys, this refuses them.
///
/// # Errors
///
/// [`JcsError::NonFiniteNumber`], [`JcsError::IntegerOutOfRange`],
/// [`JcsError::KeyMustBeString`], [`JcsError::DuplicateKey`], [`JcsError::Noncharacter`],
/// [`JcsError::TooDeep`], or [`JcsError::Serialize`] when `value`'s own `Serialize`
/// implementation fails.
pub fn to_value<T: Serialize + ?Sized>(value: &T) -> Result<Value, JcsError> {
    value.serialize(ser::ValueSerializer::new())
}

/// The canonical form (RFC 8785 §3.2) of typed data: [`to_value`], then [`canonical`].
///
/// # Errors
///
/// As [`to_value`].
pub fn to_canonical<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, JcsError> {
    Ok(canonical(&to_value(value)?))
}

/// Parses I-JSON text and returns its canonical form (RFC 8785): [`parse`], then
/// [`canonical`].
///
/// # Errors
///
/// As [`parse`].
pub fn canonicalize(bytes: &[u8], max_len: usize) -> Result<Vec<u8>, JcsError> {
    let value = parse(bytes, max_len)?;
    let mut out = Vec::with_capacity(bytes.len());
    write::write_value(&value, &mut out);
    Ok(out)
}
