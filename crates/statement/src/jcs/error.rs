//! The one error type of JCS parsing and canonical serialization.

use std::fmt;

/// Why JSON text, or a typed value, has no canonical form.
///
/// The variants from [`TooLarge`](Self::TooLarge) to [`TrailingData`](Self::TrailingData)
/// mean the input text is not acceptable I-JSON: the sender's fault. Offsets are byte
/// offsets into the input given to [`parse`](super::parse). The variants from
/// [`NonFiniteNumber`](Self::NonFiniteNumber) on mean typed data given to
/// [`to_value`](super::to_value) cannot be represented: the caller's fault.
/// [`DuplicateKey`](Self::DuplicateKey), [`Noncharacter`](Self::Noncharacter) and
/// [`TooDeep`](Self::TooDeep) can be either; their offset is `None` for typed data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JcsError {
    /// The input is longer than the limit the caller set.
    #[error("JSON input is {len} bytes, more than the limit of {max}")]
    TooLarge {
        /// Length of the input.
        len: usize,
        /// The caller's limit.
        max: usize,
    },
    /// The input is not UTF-8 (RFC 7493 §2.1). This includes surrogate code points encoded
    /// directly in UTF-8.
    #[error("JSON input is not UTF-8 at byte {offset}")]
    InvalidUtf8 {
        /// Offset of the first byte that is not part of a valid UTF-8 sequence.
        offset: usize,
    },
    /// The input ends inside a value, or holds no value at all.
    #[error("JSON input ends early at byte {offset}")]
    UnexpectedEnd {
        /// Length of the input.
        offset: usize,
    },
    /// A byte that the JSON grammar (RFC 8259) does not allow at this place, such as a
    /// missing comma, a trailing comma, a single quote, a byte order mark, `NaN`, or a
    /// misspelt literal.
    #[error("unexpected byte 0x{byte:02x} in JSON input at byte {offset}")]
    UnexpectedByte {
        /// Offset of the byte.
        offset: usize,
        /// The byte.
        byte: u8,
    },
    /// A number that does not follow the JSON grammar (RFC 8259 §6): a lone `-`, a leading
    /// zero (`01`), or a `.` or exponent without digits. (A leading `+` or `.` is an
    /// [`UnexpectedByte`](Self::UnexpectedByte): it cannot start a value.)
    #[error("malformed JSON number at byte {offset}")]
    InvalidNumber {
        /// Offset of the number's first byte.
        offset: usize,
    },
    /// A number too large for an IEEE 754 double, such as `1e400` (RFC 8785 §3.2.2.3:
    /// infinity has no JSON form, so a JCS implementation must stop).
    #[error("JSON number at byte {offset} overflows an IEEE 754 double")]
    NumberOutOfRange {
        /// Offset of the number's first byte.
        offset: usize,
    },
    /// A backslash escape that JSON does not define (`\x`, `\U`, `\u12g4`, `\'`).
    #[error("invalid escape in JSON string at byte {offset}")]
    InvalidEscape {
        /// Offset of the backslash.
        offset: usize,
    },
    /// A control character (U+0000..U+001F) written raw inside a string; JSON requires it
    /// to be escaped (RFC 8259 §7).
    #[error("unescaped control character 0x{byte:02x} in JSON string at byte {offset}")]
    ControlCharacter {
        /// Offset of the character.
        offset: usize,
        /// The character.
        byte: u8,
    },
    /// A `\u` escape of a surrogate that is not half of a high–low pair, such as
    /// `"\uDEAD"` (RFC 8785 §3.2.2.2 note: such data must cause an error).
    #[error("lone surrogate \\u{unit:04x} in JSON string at byte {offset}")]
    LoneSurrogate {
        /// Offset of the escape's backslash.
        offset: usize,
        /// The surrogate code unit.
        unit: u16,
    },
    /// A Unicode noncharacter (U+FDD0..U+FDEF, or U+xFFFE/U+xFFFF in any plane), written
    /// raw or escaped, which I-JSON strings must not hold (RFC 7493 §2.1).
    #[error("noncharacter U+{code_point:04X} in JSON string{}", at(*.offset))]
    Noncharacter {
        /// Offset of the character or of its escape; `None` for typed data.
        offset: Option<usize>,
        /// The noncharacter.
        code_point: u32,
    },
    /// Two members of one object have the same name once escapes are decoded
    /// (RFC 7493 §2.3, RFC 8785 §3.1).
    #[error("duplicate JSON object member name {key:?}{}", at(*.offset))]
    DuplicateKey {
        /// The repeated name.
        key: String,
        /// Offset of the second occurrence's opening quote; `None` for typed data.
        offset: Option<usize>,
    },
    /// Arrays and objects nest deeper than the limit.
    #[error("JSON nests deeper than {max} levels{}", at(*.offset))]
    TooDeep {
        /// Offset of the `[` or `{` that goes one level too deep; `None` for typed data.
        offset: Option<usize>,
        /// The limit, [`MAX_DEPTH`](super::MAX_DEPTH).
        max: usize,
    },
    /// Something other than whitespace follows the value.
    #[error("unexpected data after the JSON value at byte {offset}")]
    TrailingData {
        /// Offset of the first such byte.
        offset: usize,
    },
    /// Typed data holds a NaN or an infinity, which have no JSON form (RFC 8785
    /// §3.2.2.3).
    #[error("NaN and infinities have no JSON form")]
    NonFiniteNumber,
    /// Typed data holds an integer outside ±(2^53 − 1), which a double cannot hold exactly
    /// (RFC 7493 §2.2); signing it would sign a different number. Write it as a string.
    #[error("integer {value} is outside ±(2^53 - 1); write it as a string")]
    IntegerOutOfRange {
        /// The integer (saturated to the bounds of `i128`).
        value: i128,
    },
    /// Typed data holds a map whose keys are not strings, integers or booleans.
    #[error("JSON object member names must be strings, not {found}")]
    KeyMustBeString {
        /// What kind of key was found (`"f64"`, `"sequence"`, ...).
        found: &'static str,
    },
    /// The `Serialize` implementation of typed data reported an error of its own.
    #[error("serializing to JSON failed: {message}")]
    Serialize {
        /// The implementation's message.
        message: String,
    },
}

impl serde::ser::Error for JcsError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        JcsError::Serialize {
            message: msg.to_string(),
        }
    }
}

/// Renders an optional offset as " at byte N", or nothing.
fn at(offset: Option<usize>) -> At {
    At(offset)
}

struct At(Option<usize>);

impl fmt::Display for At {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(offset) => write!(f, " at byte {offset}"),
            None => Ok(()),
        }
    }
}
