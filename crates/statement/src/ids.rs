//! Checked identifiers of the statement format: member ids, statement ids, SHA-256 digests
//! and RFC 3339 UTC timestamps. Each is built only through a checking constructor, so a
//! value of one of these types is always well-formed (parse, don't validate).

use core::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use tlog::Hash;

/// Longest member id accepted (DESIGN.md: `[a-z0-9.-]{1,64}`).
pub const MAX_MEMBER_ID_LEN: usize = 64;

/// Why an identifier or a time was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdError {
    /// A member id that is empty, too long or has a character outside `[a-z0-9.-]`.
    #[error("member id {0:?} must be 1 to 64 characters of a-z, 0-9, '.' and '-'")]
    MemberId(String),
    /// A digest that is not 64 lowercase hex digits.
    #[error("{0:?} is not a SHA-256 digest written as 64 lowercase hex digits")]
    Digest(String),
    /// A time that is not RFC 3339 in UTC (`YYYY-MM-DDTHH:MM:SS[.fraction]Z`).
    #[error("time {0:?} is not RFC 3339 UTC (YYYY-MM-DDTHH:MM:SS[.fraction]Z)")]
    Time(String),
}

/// A member's id: 1 to 64 characters of `[a-z0-9.-]` (DESIGN.md, "The statement").
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MemberId(String);

impl MemberId {
    /// Checks `text` and makes it a member id.
    pub fn new(text: &str) -> Result<MemberId, IdError> {
        let ok = !text.is_empty()
            && text.len() <= MAX_MEMBER_ID_LEN
            && text
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-');
        if ok {
            Ok(MemberId(text.to_owned()))
        } else {
            Err(IdError::MemberId(text.chars().take(80).collect()))
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MemberId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for MemberId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MemberId({})", self.0)
    }
}

/// A SHA-256 digest written as 64 lowercase hex digits: statement ids, text hashes, blob
/// names. Uppercase is refused so that one digest has exactly one spelling.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest(pub Hash);

impl Digest {
    /// Parses 64 lowercase hex digits.
    pub fn parse(text: &str) -> Result<Digest, IdError> {
        let lower = text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        match Hash::from_hex(text) {
            Some(h) if lower => Ok(Digest(h)),
            _ => Err(IdError::Digest(text.chars().take(80).collect())),
        }
    }

    /// SHA-256 of `data`.
    pub fn of(data: &[u8]) -> Digest {
        Digest(tlog::sha256(data))
    }

    /// The 64 lowercase hex digits.
    pub fn to_hex(&self) -> String {
        self.0.to_hex()
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.to_hex())
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({})", self.0.to_hex())
    }
}

/// A statement id: the hex SHA-256 of JCS(statement) (DESIGN.md, "The statement").
pub type StatementId = Digest;

/// A point in time, written as RFC 3339 in UTC with an upper-case `T` and `Z`
/// (`2026-11-29T08:15:02Z`, optionally with 1 to 9 fraction digits). The original spelling
/// is kept so that a parsed statement re-serialises to the same bytes.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Timestamp {
    text: String,
    unix: i64,
    nanos: u32,
}

impl Timestamp {
    /// Parses RFC 3339 §5.6 `date-time` restricted to UTC (`Z`), years 1970 to 9999, no
    /// leap second (`:60`), and 1 to 9 fraction digits.
    pub fn parse(text: &str) -> Result<Timestamp, IdError> {
        parse_rfc3339_utc(text).ok_or_else(|| IdError::Time(text.chars().take(80).collect()))
    }

    /// The time `unix` seconds after 1970-01-01T00:00:00Z, written without a fraction.
    pub fn from_unix(unix: i64) -> Option<Timestamp> {
        (0..=MAX_UNIX)
            .contains(&unix)
            .then(|| Timestamp::from_unix_saturating(unix))
    }

    /// The time `unix` seconds after the epoch, clamped to 1970..=9999.
    pub fn from_unix_saturating(unix: i64) -> Timestamp {
        let unix = unix.clamp(0, MAX_UNIX);
        let days = unix.div_euclid(86_400);
        let secs = unix.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        let text = format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        );
        Timestamp {
            text,
            unix,
            nanos: 0,
        }
    }

    /// Seconds since the Unix epoch.
    pub fn unix(&self) -> i64 {
        self.unix
    }

    /// The fraction of the second, in nanoseconds.
    pub fn nanos(&self) -> u32 {
        self.nanos
    }

    /// The text as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whole seconds from `self` to `later` (negative when `later` is earlier).
    pub fn seconds_until(&self, later: &Timestamp) -> i64 {
        later.unix - self.unix
    }
}

impl PartialOrd for Timestamp {
    fn partial_cmp(&self, other: &Self) -> Option<core::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Timestamp {
    fn cmp(&self, other: &Self) -> core::cmp::Ordering {
        (self.unix, self.nanos).cmp(&(other.unix, other.nanos))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({})", self.text)
    }
}

/// 9999-12-31T23:59:59Z.
const MAX_UNIX: i64 = 253_402_300_799;

fn parse_rfc3339_utc(text: &str) -> Option<Timestamp> {
    let b = text.as_bytes();
    if b.len() < 20 || b.len() > 30 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' {
        return None;
    }
    if b[13] != b':' || b[16] != b':' || *b.last()? != b'Z' {
        return None;
    }
    let num = |r: core::ops::Range<usize>| -> Option<i64> {
        let s = &b[r];
        s.iter()
            .all(u8::is_ascii_digit)
            .then(|| s.iter().fold(0i64, |acc, d| acc * 10 + i64::from(d - b'0')))
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if y < 1970 || !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo) {
        return None;
    }
    if h > 23 || mi > 59 || s > 59 {
        return None;
    }
    let nanos = parse_fraction(&b[19..b.len() - 1])?;
    let unix = days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s;
    Some(Timestamp {
        text: text.to_owned(),
        unix,
        nanos,
    })
}

/// Parses `""` or `.` followed by 1 to 9 digits into nanoseconds.
fn parse_fraction(frac: &[u8]) -> Option<u32> {
    if frac.is_empty() {
        return Some(0);
    }
    let digits = frac.strip_prefix(b".")?;
    if digits.is_empty() || digits.len() > 9 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut nanos = 0u32;
    for i in 0..9 {
        nanos = nanos * 10 + digits.get(i).map_or(0, |d| u32::from(d - b'0'));
    }
    Some(nanos)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

macro_rules! serde_via_str {
    ($t:ty, $parse:expr, $show:expr) => {
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&$show(self))
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                $parse(&text).map_err(serde::de::Error::custom)
            }
        }
    };
}

serde_via_str!(MemberId, MemberId::new, |m: &MemberId| m.0.clone());
serde_via_str!(Digest, Digest::parse, Digest::to_hex);
serde_via_str!(Timestamp, Timestamp::parse, |t: &Timestamp| t.text.clone());

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_ids() {
        assert!(MemberId::new("cert-a.example").is_ok());
        assert!(MemberId::new(&"a".repeat(64)).is_ok());
        for bad in ["", "Cert", "a b", "a_b", "é", &"a".repeat(65)] {
            assert!(MemberId::new(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn digests_are_lowercase_hex_only() {
        let d = Digest::of(b"x");
        assert_eq!(Digest::parse(&d.to_hex()), Ok(d));
        assert!(Digest::parse(&d.to_hex().to_uppercase()).is_err());
        assert!(Digest::parse("00").is_err());
    }

    #[test]
    fn timestamps_parse_strictly() {
        let t = Timestamp::parse("2026-11-29T08:15:02Z").unwrap();
        assert_eq!(t.unix(), 1_795_940_102);
        let leap = Timestamp::parse("2024-02-29T00:00:00.5Z").unwrap();
        assert_eq!(leap.nanos(), 500_000_000);
        for bad in [
            "2026-11-29T08:15:02+00:00",
            "2026-11-29t08:15:02Z",
            "2026-11-29 08:15:02Z",
            "2025-02-29T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-11-29T24:00:00Z",
            "2026-11-29T23:59:60Z",
            "2026-11-29T23:59:59.Z",
            "2026-11-29T23:59:59.1234567890Z",
            "1969-12-31T23:59:59Z",
            "+2026-11-29T08:15:02Z",
            "",
        ] {
            assert!(Timestamp::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn unix_round_trip() {
        for unix in [0, 951_782_400, 1_795_940_102, MAX_UNIX] {
            let t = Timestamp::from_unix(unix).unwrap();
            assert_eq!(Timestamp::parse(t.as_str()).unwrap().unix(), unix, "{t}");
        }
        assert_eq!(
            Timestamp::from_unix(0).unwrap().as_str(),
            "1970-01-01T00:00:00Z"
        );
        assert!(Timestamp::from_unix(-1).is_none());
    }
}
