//! Properties of the JCS parser and serializer over generated values and bytes.
//! Known-answer vectors and one test per error are in `tests/jcs_vectors.rs`.

use proptest::prelude::*;
use serde_json::{Map, Number, Value};

use super::parse::{is_noncharacter, number_from_f64};
use super::write::cmp_utf16;
use super::{canonical, canonicalize, parse, to_value};

const LIMIT: usize = 1 << 20;

/// Numbers as the parser makes them: doubles from any bit pattern, integers in and around
/// the safe range, and small decimals.
fn number() -> impl Strategy<Value = Number> {
    prop_oneof![
        any::<u64>()
            .prop_map(f64::from_bits)
            .prop_filter_map("finite", number_from_f64),
        any::<i64>().prop_filter_map("double", |i| number_from_f64(i as f64)),
        (-(1i64 << 53)..=1 << 53).prop_filter_map("double", |i| number_from_f64(i as f64)),
        (-1e6..1e6f64).prop_filter_map("finite", number_from_f64),
    ]
}

/// Strings weighted towards what escaping and ordering get wrong: controls, quotes,
/// backslashes, U+2028, characters around U+E000 and beyond U+FFFF.
fn string() -> impl Strategy<Value = String> {
    let special = prop::sample::select(vec![
        '\0',
        '\u{8}',
        '\t',
        '\n',
        '\u{b}',
        '\u{c}',
        '\r',
        '\u{1f}',
        '"',
        '\\',
        '/',
        '\u{7f}',
        '\u{80}',
        '\u{2028}',
        '\u{d7ff}',
        '\u{e000}',
        '\u{fb33}',
        '\u{fffd}',
        '\u{10000}',
        '\u{1f600}',
        '\u{10fffd}',
        'a',
        'b',
    ]);
    prop::collection::vec(prop_oneof![special, any::<char>()], 0..8).prop_map(|chars| {
        chars
            .into_iter()
            .filter(|&c| !is_noncharacter(u32::from(c)))
            .collect()
    })
}

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number().prop_map(Value::Number),
        string().prop_map(Value::String),
    ];
    leaf.prop_recursive(6, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::vec((string(), inner), 0..8)
                .prop_map(|members| Value::Object(members.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// `value` written the slow way, sorting names with `encode_utf16`: an oracle for member
/// order that shares nothing with `cmp_utf16`.
fn reference(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                reference(item, out);
            }
            out.push(b']');
        }
        Value::Object(members) => {
            let mut names: Vec<&String> = members.keys().collect();
            names.sort_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()));
            out.push(b'{');
            for (i, name) in names.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend(canonical(&Value::String(name.clone())));
                out.push(b':');
                reference(&members[name.as_str()], out);
            }
            out.push(b'}');
        }
        scalar => out.extend(canonical(scalar)),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parse_inverts_canonical(v in value()) {
        let text = canonical(&v);
        prop_assert_eq!(parse(&text, LIMIT).unwrap(), v);
    }

    #[test]
    fn canonical_is_idempotent(v in value()) {
        let once = canonical(&v);
        prop_assert_eq!(canonicalize(&once, LIMIT).unwrap(), once);
    }

    #[test]
    fn members_are_in_utf16_order(v in value()) {
        let mut expected = Vec::new();
        reference(&v, &mut expected);
        prop_assert_eq!(canonical(&v), expected);
    }

    /// Any spelling serde_json writes (other escapes, whitespace, its own float format)
    /// canonicalizes to the same bytes.
    #[test]
    fn other_spellings_canonicalize_alike(v in value()) {
        let pretty = serde_json::to_vec_pretty(&v).unwrap();
        prop_assert_eq!(canonicalize(&pretty, LIMIT).unwrap(), canonical(&v));
    }

    /// `Value`'s own `Serialize` through the checked serializer is the identity.
    #[test]
    fn to_value_keeps_values(v in value()) {
        prop_assert_eq!(to_value(&v).unwrap(), v);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        if let Ok(once) = canonicalize(&bytes, LIMIT) {
            prop_assert_eq!(canonicalize(&once, LIMIT).unwrap(), once);
        }
    }

    /// Near-valid input: a canonical text with one byte changed.
    #[test]
    fn mutated_json_never_panics(v in value(), at in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let mut text = canonical(&v);
        if !text.is_empty() {
            let i = at.index(text.len());
            text[i] = byte;
        }
        if let Ok(once) = canonicalize(&text, LIMIT) {
            prop_assert_eq!(canonicalize(&once, LIMIT).unwrap(), once);
        }
    }

    #[test]
    fn utf16_comparison(a in string(), b in string()) {
        prop_assert_eq!(cmp_utf16(&a, &b), a.encode_utf16().cmp(b.encode_utf16()));
        let (ab, ba) = (format!("{a}{b}"), format!("{b}{a}"));
        prop_assert_eq!(cmp_utf16(&ab, &ba), ab.encode_utf16().cmp(ba.encode_utf16()));
    }

    /// Every finite double is written as ECMAScript writes it, whether held as an integer or
    /// a double.
    #[test]
    fn numbers_match_ryu_js(bits in any::<u64>(), i in -(1i64 << 53)..=1 << 53) {
        let f = f64::from_bits(bits);
        if f.is_finite() {
            let expected = if f == 0.0 {
                "0".to_owned()
            } else {
                ryu_js::Buffer::new().format_finite(f).to_owned()
            };
            let held = Value::Number(number_from_f64(f).unwrap());
            prop_assert_eq!(canonical(&held), expected.as_bytes());
            let raw = Value::Number(Number::from_f64(f).unwrap());
            prop_assert_eq!(canonical(&raw), expected.as_bytes());
        }
        let expected = ryu_js::Buffer::new().format_finite(i as f64).to_owned();
        let expected = if i == 0 { "0".to_owned() } else { expected };
        prop_assert_eq!(canonical(&Value::Number(i.into())), expected.as_bytes());
    }
}
