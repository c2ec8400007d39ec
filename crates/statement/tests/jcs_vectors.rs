//! Known-answer tests for `statement::jcs` (RFC 8785, JSON Canonicalization Scheme), and one
//! test per `JcsError` variant. Every vector names where it comes from.
//!
//! Sources:
//! - RFC 8785, https://www.rfc-editor.org/rfc/rfc8785 (June 2020): §3.2.2 sample, §3.2.3
//!   canonical form and sorting test data, §3.2.4 bytes, Appendix B number table,
//!   Appendix C and E examples.
//! - The RFC author's reference test data, https://github.com/cyberphone/json-canonicalization,
//!   `testdata/input/*.json` and `testdata/output/*.json`, at the commits named on each.
//! - The same repository's ES6 number test file `es6testfile100m.txt` (release `es6testfile`),
//!   which `testdata/README.md` defines as a deterministic sequence with published SHA-256
//!   checksums of its first 10^3 .. 10^8 lines.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use serde_json::{Number, Value, json};
use sha2::{Digest, Sha256};
use statement::jcs::{self, JcsError, MAX_DEPTH};

const LIMIT: usize = 1 << 20;

fn canon(input: &str) -> String {
    let out = jcs::canonicalize(input.as_bytes(), LIMIT)
        .unwrap_or_else(|e| panic!("{input:?} was refused: {e}"));
    String::from_utf8(out).unwrap()
}

fn refused(input: &[u8]) -> JcsError {
    match jcs::parse(input, LIMIT) {
        Ok(value) => panic!(
            "{:?} was accepted as {value}",
            String::from_utf8_lossy(input)
        ),
        Err(e) => {
            // Every error renders without panicking.
            assert!(!e.to_string().is_empty());
            e
        }
    }
}

// ---------------------------------------------------------------------------------------
// RFC 8785
// ---------------------------------------------------------------------------------------

/// RFC 8785 §3.2.2, the sample input.
const RFC_3_2_2_INPUT: &str = r#"{
  "numbers": [333333333.33333329, 1E30, 4.50,
              2e-3, 0.000000000000000000000000001],
  "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
  "literals": [null, true, false]
}"#;

/// RFC 8785 §3.2.3, its canonical form (the RFC's display line wrap removed).
const RFC_3_2_3_OUTPUT: &str = concat!(
    r#"{"literals":[null,true,false],"numbers":[333333333.3333333,"#,
    r#"1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}"#
);

/// RFC 8785 §3.2.4, the same canonical form as UTF-8 bytes in hex.
const RFC_3_2_4_HEX: &str = "
    7b 22 6c 69 74 65 72 61 6c 73 22 3a 5b 6e 75 6c 6c 2c 74 72
    75 65 2c 66 61 6c 73 65 5d 2c 22 6e 75 6d 62 65 72 73 22 3a
    5b 33 33 33 33 33 33 33 33 33 2e 33 33 33 33 33 33 33 2c 31
    65 2b 33 30 2c 34 2e 35 2c 30 2e 30 30 32 2c 31 65 2d 32 37
    5d 2c 22 73 74 72 69 6e 67 22 3a 22 e2 82 ac 24 5c 75 30 30
    30 66 5c 6e 41 27 42 5c 22 5c 5c 5c 5c 5c 22 2f 22 7d";

#[test]
fn rfc8785_3_2_2_sample() {
    assert_eq!(canon(RFC_3_2_2_INPUT), RFC_3_2_3_OUTPUT);
    let bytes: String = RFC_3_2_4_HEX.split_whitespace().collect();
    assert_eq!(
        jcs::canonicalize(RFC_3_2_2_INPUT.as_bytes(), LIMIT).unwrap(),
        hex::decode(bytes).unwrap()
    );
}

/// RFC 8785 §3.2.3, the sorting test data.
const RFC_3_2_3_SORT_INPUT: &str = r#"{
  "\u20ac": "Euro Sign",
  "\r": "Carriage Return",
  "\ufb33": "Hebrew Letter Dalet With Dagesh",
  "1": "One",
  "\ud83d\ude00": "Emoji: Grinning Face",
  "\u0080": "Control",
  "\u00f6": "Latin Small Letter O With Diaeresis"
}"#;

/// RFC 8785 §3.2.3, "Expected argument order after sorting property strings".
const RFC_3_2_3_SORT_ORDER: [&str; 7] = [
    "Carriage Return",
    "One",
    "Control",
    "Latin Small Letter O With Diaeresis",
    "Euro Sign",
    "Emoji: Grinning Face",
    "Hebrew Letter Dalet With Dagesh",
];

#[test]
fn rfc8785_3_2_3_sorting() {
    let out = canon(RFC_3_2_3_SORT_INPUT);
    let positions: Vec<usize> = RFC_3_2_3_SORT_ORDER
        .iter()
        .map(|v| out.find(&format!("\"{v}\"")).unwrap())
        .collect();
    assert!(positions.is_sorted(), "{out}");
    // The whole text, from that order and the §3.2.2.2 string rules.
    assert_eq!(
        out,
        "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u{80}\":\"Control\",\
         \"\u{f6}\":\"Latin Small Letter O With Diaeresis\",\"\u{20ac}\":\"Euro Sign\",\
         \"\u{1f600}\":\"Emoji: Grinning Face\",\"\u{fb33}\":\"Hebrew Letter Dalet With Dagesh\"}"
    );
}

/// RFC 8785 §3.2.3: `""`, `"a"`, `"aa"`, `"ab"` in that order.
#[test]
fn rfc8785_3_2_3_plain_english_order() {
    assert_eq!(
        canon(r#"{"ab":4,"aa":3,"a":2,"":1}"#),
        r#"{"":1,"a":2,"aa":3,"ab":4}"#
    );
}

/// RFC 8785 Appendix B, Table 1: IEEE 754 bits and their JSON representation. The NaN and
/// Infinity rows have none; see `non_finite_numbers_are_refused`.
const RFC_APPENDIX_B: [(u64, &str); 25] = [
    (0x0000000000000000, "0"),
    (0x8000000000000000, "0"),
    (0x0000000000000001, "5e-324"),
    (0x8000000000000001, "-5e-324"),
    (0x7fefffffffffffff, "1.7976931348623157e+308"),
    (0xffefffffffffffff, "-1.7976931348623157e+308"),
    (0x4340000000000000, "9007199254740992"),
    (0xc340000000000000, "-9007199254740992"),
    (0x4430000000000000, "295147905179352830000"),
    (0x44b52d02c7e14af5, "9.999999999999997e+22"),
    (0x44b52d02c7e14af6, "1e+23"),
    (0x44b52d02c7e14af7, "1.0000000000000001e+23"),
    (0x444b1ae4d6e2ef4e, "999999999999999700000"),
    (0x444b1ae4d6e2ef4f, "999999999999999900000"),
    (0x444b1ae4d6e2ef50, "1e+21"),
    (0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"),
    (0x3eb0c6f7a0b5ed8d, "0.000001"),
    (0x41b3de4355555553, "333333333.3333332"),
    (0x41b3de4355555554, "333333333.33333325"),
    (0x41b3de4355555555, "333333333.3333333"),
    (0x41b3de4355555556, "333333333.3333334"),
    (0x41b3de4355555557, "333333333.33333343"),
    (0xbecbf647612f3696, "-0.0000033333333333333333"),
    (0x43143ff3c1cb0959, "1424953923781206.2"),
    // Not in the table: the smallest normal double, from the es6testfile below.
    (0x0010000000000000, "2.2250738585072014e-308"),
];

/// Checks one double three ways: written from a `Number` holding it, and parsed back from
/// its expected text and from Rust's own spelling of it.
fn check_number(bits: u64, expected: &str) {
    let f = f64::from_bits(bits);
    let number = Value::Number(Number::from_f64(f).unwrap());
    assert_eq!(jcs::canonical(&number), expected.as_bytes(), "{bits:016x}");
    assert_eq!(canon(expected), expected, "{bits:016x}");
    assert_eq!(canon(&format!("{f:e}")), expected, "{bits:016x}");
    assert_eq!(
        canon(&format!("[{f:?}]")),
        format!("[{expected}]"),
        "{bits:016x}"
    );
}

#[test]
fn rfc8785_appendix_b_numbers() {
    for (bits, expected) in RFC_APPENDIX_B {
        check_number(bits, expected);
    }
}

/// RFC 8785 Appendix C: the address record's members come out as "address", "city",
/// "name", "state", "zip".
#[test]
fn rfc8785_appendix_c_address() {
    let input = r#"{
       "name": "John Doe",
       "address": "2000 Sunset Boulevard",
       "city": "Los Angeles",
       "zip": "90001",
       "state": "CA"
     }"#;
    assert_eq!(
        canon(input),
        r#"{"address":"2000 Sunset Boulevard","city":"Los Angeles","name":"John Doe","state":"CA","zip":"90001"}"#
    );
}

/// RFC 8785 Appendix E: subtypes in strings are kept as they are.
#[test]
fn rfc8785_appendix_e_string_subtypes() {
    let input = r#"{
       "time": "2019-01-28T07:45:10Z",
       "big": "055",
       "val": 3.5
     }"#;
    assert_eq!(
        canon(input),
        r#"{"big":"055","time":"2019-01-28T07:45:10Z","val":3.5}"#
    );
}

// ---------------------------------------------------------------------------------------
// cyberphone/json-canonicalization testdata
// ---------------------------------------------------------------------------------------

/// testdata/input/arrays.json (commit 72a2163bae9803964410d89cea8874787a95718b). Its
/// output file is `[56,{"1":[],"10":null,"d":true}]`, bytes
/// 5b35362c7b2231223a5b5d2c223130223a6e756c6c2c2264223a747275657d5d.
const CYBERPHONE_ARRAYS: (&str, &str) = (
    "[\n  56,\n  {\n    \"d\": true,\n    \"10\": null,\n    \"1\": [ ]\n  }\n]",
    r#"[56,{"1":[],"10":null,"d":true}]"#,
);

/// testdata/{input,output}/french.json (commit b01b0235cf94374efe5d11d00a86a11054756374);
/// é and ê are the precomposed U+00E9 and U+00EA. "ingnore" is sic.
const CYBERPHONE_FRENCH: (&str, &str) = (
    "{\n  \"peach\": \"This sorting order\",\n  \"p\u{e9}ch\u{e9}\": \"is wrong according to French\",\n  \"p\u{ea}che\": \"but canonicalization MUST\",\n  \"sin\":   \"ingnore locale\"\n}\n",
    "{\"peach\":\"This sorting order\",\"p\u{e9}ch\u{e9}\":\"is wrong according to French\",\"p\u{ea}che\":\"but canonicalization MUST\",\"sin\":\"ingnore locale\"}",
);

/// testdata/{input,output}/structures.json (commit 72a2163bae9803964410d89cea8874787a95718b).
const CYBERPHONE_STRUCTURES: (&str, &str) = (
    r#"{
  "1": {"f": {"f": "hi","F": 5} ,"\n": 56.0},
  "10": { },
  "": "empty",
  "a": { },
  "111": [ { } ],
  "A": { }
}"#,
    r#"{"":"empty","1":{"\n":56,"f":{"F":5,"f":"hi"}},"10":{},"111":[{}],"A":{},"a":{}}"#,
);

/// testdata/{input,output}/unicode.json (commit ff225671c5de178c946aad33ac5ef454d236505e):
/// no Unicode normalization.
const CYBERPHONE_UNICODE: (&str, &str) = (
    "{\n  \"Unnormalized Unicode\":\"\\u1e0d\\u0307\"\n}\n",
    "{\"Unnormalized Unicode\":\"\u{1e0d}\u{307}\"}",
);

/// testdata/{input,output}/values.json (commit 1e2733fc2bd37ed680fbb595f063f7bc62b4a0ec).
const CYBERPHONE_VALUES: (&str, &str) = (
    r#"{
  "numbers": [1E30, 4.50, 333333333.33333329, 2e-3, 0.000000000000000000000000001],
  "escaping": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
  "literals": [null, true, false]
}"#,
    r#"{"escaping":"€$\u000f\nA'B\"\\\\\"/","literals":[null,true,false],"numbers":[1e+30,4.5,333333333.3333333,0.002,1e-27]}"#,
);

/// testdata/{input,output}/weird.json (commit 77917fbd5d923bca23a9b5eb8851deec918016bf).
/// The output holds U+0080 and U+007F unescaped.
const CYBERPHONE_WEIRD: (&str, &str) = (
    r#"{
  "\u20ac": "Euro Sign",
  "1": "One",
  "\u0080": "Control\u007f",
  "\ud83d\ude02": "Smiley",
  "\u00f6": "Latin Small Letter O With Diaeresis",
  "\ufb33": "Hebrew Letter Dalet With Dagesh",
  "</script>": "Browser Challenge"
}
"#,
    "{\"1\":\"One\",\"</script>\":\"Browser Challenge\",\"\u{80}\":\"Control\u{7f}\",\"\u{f6}\":\"Latin Small Letter O With Diaeresis\",\"\u{20ac}\":\"Euro Sign\",\"\u{1f602}\":\"Smiley\",\"\u{fb33}\":\"Hebrew Letter Dalet With Dagesh\"}",
);

#[test]
fn cyberphone_testdata() {
    for (name, (input, output)) in [
        ("arrays", CYBERPHONE_ARRAYS),
        ("french", CYBERPHONE_FRENCH),
        ("structures", CYBERPHONE_STRUCTURES),
        ("unicode", CYBERPHONE_UNICODE),
        ("values", CYBERPHONE_VALUES),
        ("weird", CYBERPHONE_WEIRD),
    ] {
        assert_eq!(canon(input), output, "{name}");
        // A canonical form is its own canonical form.
        assert_eq!(canon(output), output, "{name}");
    }
}

// ---------------------------------------------------------------------------------------
// cyberphone es6testfile
// ---------------------------------------------------------------------------------------

/// The first 168 lines of es6testfile100m.txt: its fixed edge cases, in its format
/// `hex-ieee,expected` (hex without leading zeros). The values are `staticU64s` of the
/// generator in cyberphone testdata/README.md; the expected texts are the file's, as
/// `es6testfile_checksums` proves (they are within its first 1,000 lines).
const ES6_STATIC_LINES: &str = "\
0,0
8000000000000000,0
1,5e-324
8000000000000001,-5e-324
c46696695dbd1cc3,-3.3333333333333335e+21
c43211ede4974a35,-333333333333333300000
c3fce97ca0f21056,-33333333333333336000
c3c7213080c1a6ac,-3333333333333334000
c39280f39a348556,-333333333333333400
c35d9b1f5d20d557,-33333333333333340
c327af4c4a80aaac,-3333333333333334
c2f2f2a36ecd5556,-333333333333333.4
c2be51057e155558,-33333333333333.344
c28840d131aaaaac,-3333333333333.334
c253670dc1555557,-333333333333.33344
c21f0b4935555557,-33333333333.33334
c1e8d5d42aaaaaac,-3333333333.333334
c1b3de4355555556,-333333333.3333334
c17fca0555555556,-33333333.333333336
c1496e6aaaaaaaab,-3333333.3333333335
c114585555555555,-333333.3333333333
c0e046aaaaaaaaab,-33333.333333333336
c0aa0aaaaaaaaaaa,-3333.333333333333
c074d55555555555,-333.3333333333333
c040aaaaaaaaaaab,-33.333333333333336
c00aaaaaaaaaaaab,-3.3333333333333335
bfd5555555555555,-0.3333333333333333
bfa1111111111111,-0.03333333333333333
bf6b4e81b4e81b4f,-0.0033333333333333335
bf35d867c3ece2a5,-0.0003333333333333333
bf0179ec9cbd821e,-0.000033333333333333335
becbf647612f3696,-0.0000033333333333333333
be965e9f80f29212,-3.3333333333333335e-7
be61e54c672874db,-3.3333333333333334e-8
be2ca213d840baf8,-3.3333333333333334e-9
bdf6e80fe033c8c6,-3.333333333333333e-10
bdc2533fe68fd3d2,-3.3333333333333335e-11
bd8d51ffd74c861c,-3.333333333333333e-12
bd5774ccac3d3817,-3.3333333333333334e-13
bd22c3d6f030f9ac,-3.3333333333333334e-14
bcee0624b3818f79,-3.3333333333333332e-15
bcb804ea293472c7,-3.333333333333333e-16
bc833721ba905bd3,-3.3333333333333335e-17
bc4ebe9c5db3c61e,-3.3333333333333333e-18
bc18987d17c304e5,-3.3333333333333334e-19
bbe3ad30dfcf371d,-3.333333333333333e-20
bbaf7b816618582f,-3.3333333333333333e-21
bb792f9ab81379bf,-3.333333333333333e-22
bb442615600f9499,-3.3333333333333333e-23
bb101e77800c76e1,-3.3333333333333334e-24
bad9ca58cce0be35,-3.3333333333333335e-25
baa4a1e0a3e6fe90,-3.333333333333333e-26
ba708180831f320d,-3.333333333333333e-27
ba3a68cd9e985016,-3.3333333333333338e-28
446696695dbd1cc3,3.3333333333333335e+21
443211ede4974a35,333333333333333300000
43fce97ca0f21056,33333333333333336000
43c7213080c1a6ac,3333333333333334000
439280f39a348556,333333333333333400
435d9b1f5d20d557,33333333333333340
4327af4c4a80aaac,3333333333333334
42f2f2a36ecd5556,333333333333333.4
42be51057e155558,33333333333333.344
428840d131aaaaac,3333333333333.334
4253670dc1555557,333333333333.33344
421f0b4935555557,33333333333.33334
41e8d5d42aaaaaac,3333333333.333334
41b3de4355555556,333333333.3333334
417fca0555555556,33333333.333333336
41496e6aaaaaaaab,3333333.3333333335
4114585555555555,333333.3333333333
40e046aaaaaaaaab,33333.333333333336
40aa0aaaaaaaaaaa,3333.333333333333
4074d55555555555,333.3333333333333
4040aaaaaaaaaaab,33.333333333333336
400aaaaaaaaaaaab,3.3333333333333335
3fd5555555555555,0.3333333333333333
3fa1111111111111,0.03333333333333333
3f6b4e81b4e81b4f,0.0033333333333333335
3f35d867c3ece2a5,0.0003333333333333333
3f0179ec9cbd821e,0.000033333333333333335
3ecbf647612f3696,0.0000033333333333333333
3e965e9f80f29212,3.3333333333333335e-7
3e61e54c672874db,3.3333333333333334e-8
3e2ca213d840baf8,3.3333333333333334e-9
3df6e80fe033c8c6,3.333333333333333e-10
3dc2533fe68fd3d2,3.3333333333333335e-11
3d8d51ffd74c861c,3.333333333333333e-12
3d5774ccac3d3817,3.3333333333333334e-13
3d22c3d6f030f9ac,3.3333333333333334e-14
3cee0624b3818f79,3.3333333333333332e-15
3cb804ea293472c7,3.333333333333333e-16
3c833721ba905bd3,3.3333333333333335e-17
3c4ebe9c5db3c61e,3.3333333333333333e-18
3c18987d17c304e5,3.3333333333333334e-19
3be3ad30dfcf371d,3.333333333333333e-20
3baf7b816618582f,3.3333333333333333e-21
3b792f9ab81379bf,3.333333333333333e-22
3b442615600f9499,3.3333333333333333e-23
3b101e77800c76e1,3.3333333333333334e-24
3ad9ca58cce0be35,3.3333333333333335e-25
3aa4a1e0a3e6fe90,3.333333333333333e-26
3a708180831f320d,3.333333333333333e-27
3a3a68cd9e985016,3.3333333333333338e-28
4024000000000000,10
4014000000000000,5
3fe0000000000000,0.5
3fa999999999999a,0.05
3f747ae147ae147b,0.005
3f40624dd2f1a9fc,0.0005
3f0a36e2eb1c432d,0.00005
3ed4f8b588e368f1,0.000005
3ea0c6f7a0b5ed8d,5e-7
3e6ad7f29abcaf48,5e-8
3e35798ee2308c3a,5e-9
3ed539223589fa95,0.00000506
3ed4ff26cd5a7781,0.000005006
3ed4f95a762283ff,0.0000050006
3ed4f8c60703520c,0.00000500006
3ed4f8b72f19cd0d,0.000005000006
3ed4f8b5b31c0c8d,0.0000050000006
3ed4f8b58d1c461a,0.00000500000006
3ed4f8b5894f7f0e,0.000005000000006
3ed4f8b588ee37f3,0.0000050000000006
3ed4f8b588e47da4,0.00000500000000006
3ed4f8b588e3849c,0.000005000000000006
3ed4f8b588e36bb5,0.0000050000000000006
3ed4f8b588e36937,0.00000500000000000006
3ed4f8b588e368f8,0.000005000000000000006
3ed4f8b588e368f1,0.000005
3ff0000000000000,1
bff0000000000000,-1
bfeffffffffffffa,-0.9999999999999993
bfeffffffffffffb,-0.9999999999999994
3feffffffffffffa,0.9999999999999993
3feffffffffffffb,0.9999999999999994
3feffffffffffffc,0.9999999999999996
3feffffffffffffe,0.9999999999999998
bfefffffffffffff,-0.9999999999999999
bfefffffffffffff,-0.9999999999999999
3fefffffffffffff,0.9999999999999999
3fefffffffffffff,0.9999999999999999
3fd3333333333332,0.29999999999999993
3fd3333333333333,0.3
3fd3333333333334,0.30000000000000004
10000000000000,2.2250738585072014e-308
ffffffffffffd,2.2250738585072e-308
fffffffffffff,2.225073858507201e-308
7fefffffffffffff,1.7976931348623157e+308
ffefffffffffffff,-1.7976931348623157e+308
4340000000000000,9007199254740992
c340000000000000,-9007199254740992
4430000000000000,295147905179352830000
44b52d02c7e14af5,9.999999999999997e+22
44b52d02c7e14af6,1e+23
44b52d02c7e14af7,1.0000000000000001e+23
444b1ae4d6e2ef4e,999999999999999700000
444b1ae4d6e2ef4f,999999999999999900000
444b1ae4d6e2ef50,1e+21
3eb0c6f7a0b5ed8c,9.999999999999997e-7
3eb0c6f7a0b5ed8d,0.000001
41b3de4355555553,333333333.3333332
41b3de4355555554,333333333.33333325
41b3de4355555555,333333333.3333333
41b3de4355555556,333333333.3333334
41b3de4355555557,333333333.33333343
becbf647612f3696,-0.0000033333333333333333
43143ff3c1cb0959,1424953923781206.2
";

#[test]
fn es6testfile_static_lines() {
    let mut count = 0;
    for line in ES6_STATIC_LINES.lines() {
        let (hex, expected) = line.split_once(',').unwrap();
        check_number(u64::from_str_radix(hex, 16).unwrap(), expected);
        count += 1;
    }
    assert_eq!(count, 168);
}

/// The values of es6testfile100m.txt in order, as cyberphone testdata/README.md generates
/// them: the fixed edge cases, then the 2,000 doubles from 0x0010000000000000 up, then the
/// doubles read (little-endian, 8 bytes at a time) from the SHA-256 chain that starts at
/// SHA-256 of 32 zero bytes, skipping zeros and non-finite values.
fn es6_values() -> impl Iterator<Item = u64> {
    let fixed: Vec<u64> = ES6_STATIC_LINES
        .lines()
        .map(|line| u64::from_str_radix(line.split_once(',').unwrap().0, 16).unwrap())
        .collect();
    let serial = (0..2000u64).map(|i| 0x0010_0000_0000_0000 + i);
    let mut block = [0u8; 32];
    let mut pending = Vec::new();
    let chained = std::iter::from_fn(move || {
        loop {
            if pending.is_empty() {
                block = Sha256::digest(block).into();
                pending = block
                    .chunks_exact(8)
                    .rev()
                    .map(|c| u64::from_le_bytes(c.try_into().unwrap()))
                    .collect();
            }
            let bits = pending.pop().unwrap();
            let f = f64::from_bits(bits);
            if f != 0.0 && f.is_finite() {
                return Some(bits);
            }
        }
    });
    fixed.into_iter().chain(serial).chain(chained)
}

/// SHA-256 of the first `lines` lines of es6testfile100m.txt as this crate writes them:
/// each double's hex bits, a comma, its canonical JSON text, a newline.
fn es6_checksum(lines: usize) -> String {
    let mut hash = Sha256::new();
    let mut out = Vec::new();
    for bits in es6_values().take(lines) {
        out.clear();
        out.extend_from_slice(format!("{bits:x},").as_bytes());
        jcs::write_canonical(
            &Value::Number(Number::from_f64(f64::from_bits(bits)).unwrap()),
            &mut out,
        );
        out.push(b'\n');
        hash.update(&out);
    }
    hex::encode(hash.finalize())
}

/// The published checksums of es6testfile100m.txt's first 10^3, 10^4 and 10^5 lines
/// (cyberphone testdata/README.md), reproduced line for line.
#[test]
fn es6testfile_checksums() {
    assert_eq!(
        es6_checksum(1_000),
        "be18b62b6f69cdab33a7e0dae0d9cfa869fda80ddc712221570f9f40a5878687"
    );
    assert_eq!(
        es6_checksum(10_000),
        "b9f7a8e75ef22a835685a52ccba7f7d6bdc99e34b010992cbc5864cd12be6892"
    );
    assert_eq!(
        es6_checksum(100_000),
        "22776e6d4b49fa294a0d0f349268e5c28808fe7e0cb2bcbe28f63894e494d4c7"
    );
}

/// The same for 10^7 and for all 10^8 lines (about 6 and 65 seconds in release:
/// `cargo test --release -p statement --test jcs_vectors -- --ignored`).
#[test]
#[ignore = "slow: 10 million numbers"]
fn es6testfile_checksum_10m() {
    assert_eq!(
        es6_checksum(10_000_000),
        "b9f8a44a91d46813b21b9602e72f112613c91408db0b8341fb94603d9db135e0"
    );
}

#[test]
#[ignore = "slow: 100 million numbers"]
fn es6testfile_checksum_100m() {
    assert_eq!(
        es6_checksum(100_000_000),
        "0f7dda6b0837dde083c5d6b896f7d62340c8a2415b0c7121d83145e08a755272"
    );
}

// ---------------------------------------------------------------------------------------
// Serialization rules, one by one
// ---------------------------------------------------------------------------------------

/// RFC 8785 §3.2.2.2: U+0000..U+001F as `\u00xx` in lower-case hex, except the five with a
/// short form.
#[test]
fn control_characters_are_escaped() {
    let expected = [
        r"\u0000", r"\u0001", r"\u0002", r"\u0003", r"\u0004", r"\u0005", r"\u0006", r"\u0007",
        r"\b", r"\t", r"\n", r"\u000b", r"\f", r"\r", r"\u000e", r"\u000f", r"\u0010", r"\u0011",
        r"\u0012", r"\u0013", r"\u0014", r"\u0015", r"\u0016", r"\u0017", r"\u0018", r"\u0019",
        r"\u001a", r"\u001b", r"\u001c", r"\u001d", r"\u001e", r"\u001f",
    ];
    for (c, escaped) in (0u8..0x20).zip(expected) {
        let value = Value::String(char::from(c).to_string());
        assert_eq!(jcs::canonical(&value), format!("\"{escaped}\"").as_bytes());
        // And from any spelling of it in the input.
        assert_eq!(
            canon(&format!("\"\\u{:04X}\"", c)),
            format!("\"{escaped}\"")
        );
    }
}

/// RFC 8785 §3.2.2.2: everything else is written as it is, `"` and `\` excepted; that
/// includes `/`, DEL, U+2028 and U+2029 (which ECMAScript's JSON.stringify leaves alone).
#[test]
fn other_characters_are_literal() {
    assert_eq!(canon(r#""\/""#), r#""/""#);
    assert_eq!(canon(r#""\"\\""#), r#""\"\\""#);
    assert_eq!(
        canon(r#""\u007f\u2028\u2029""#),
        "\"\u{7f}\u{2028}\u{2029}\""
    );
    assert_eq!(canon(r#""\uD834\uDD1E""#), "\"\u{1d11e}\"");
    assert_eq!(canon("\"\u{1d11e}\u{e9}\""), "\"\u{1d11e}\u{e9}\"");
    assert_eq!(canon(r#""\u0000""#), r#""\u0000""#);
}

/// RFC 8785 §3.2.3: names compare as UTF-16 code units. U+10000 is the surrogate pair
/// D800 DC00 and so sorts before U+FB33, though its UTF-8 bytes and code point are larger.
#[test]
fn names_sort_by_utf16_code_units() {
    let out = canon(r#"{"\ufb33":1,"\ud800\udc00":2,"\ue000":3,"\ud7ff":4,"z":5}"#);
    assert_eq!(
        out,
        "{\"z\":5,\"\u{d7ff}\":4,\"\u{10000}\":2,\"\u{e000}\":3,\"\u{fb33}\":1}"
    );
    // Nested objects, and objects inside arrays, are sorted too (§3.2.3); arrays are not.
    assert_eq!(
        canon(r#"[{"b":[3,1,{"d":1,"c":2}],"a":0},2,1]"#),
        r#"[{"a":0,"b":[3,1,{"c":2,"d":1}]},2,1]"#
    );
}

/// RFC 8785 §3.2.2.3 and ECMA-262 Number::toString, plus the JSON number grammar.
#[test]
fn numbers() {
    for (input, expected) in [
        ("-0", "0"),
        ("-0.0", "0"),
        ("0e10", "0"),
        ("-0e-10", "0"),
        ("1E+2", "100"),
        ("1e2", "100"),
        ("100e-2", "1"),
        ("0.1", "0.1"),
        ("1e21", "1e+21"),
        ("1e20", "100000000000000000000"),
        ("1e-7", "1e-7"),
        ("0.000001", "0.000001"),
        ("123456789012345678901234567890", "1.2345678901234568e+29"),
        // Appendix B note 1: 2^53 + 1 has no double and rounds to 2^53.
        ("9007199254740993", "9007199254740992"),
        // cyberphone testdata/README.md sample line 4340000000000001,9007199254740994.
        ("9007199254740994", "9007199254740994"),
        ("-9007199254740993", "-9007199254740992"),
        ("999999999999999", "999999999999999"),
        ("-999999999999999", "-999999999999999"),
        ("1000000000000000", "1000000000000000"),
        // Underflow rounds to zero, as any double reader does.
        ("1e-400", "0"),
        ("-1e-400", "0"),
        // The largest double, and a spelling just below the point where it would round up.
        ("1.7976931348623157e308", "1.7976931348623157e+308"),
        ("1.7976931348623158e308", "1.7976931348623157e+308"),
        // Many digits: correctly rounded, not truncated.
        (
            "0.1000000000000000055511151231257827021181583404541015625",
            "0.1",
        ),
        // Exactly halfway between 1 and the next double: ties go to the even one.
        (
            "1.00000000000000011102230246251565404236316680908203125",
            "1",
        ),
        (
            "1.00000000000000011102230246251565404236316680908203126",
            "1.0000000000000002",
        ),
    ] {
        assert_eq!(canon(input), expected, "{input}");
    }
}

/// RFC 8785 §3.2.2.1 and §3.2.1: literals as they are, no whitespace; RFC 8259 §2 allows
/// exactly four whitespace bytes around tokens.
#[test]
fn literals_and_whitespace() {
    assert_eq!(
        canon(" \t\r\n[ \t\r\nnull , true ,\n false ] \t\r\n"),
        "[null,true,false]"
    );
    assert_eq!(canon("{ \"a\" : { } , \"b\" : [ ] }"), r#"{"a":{},"b":[]}"#);
    assert_eq!(canon("\"\""), "\"\"");
    assert_eq!(canon("0"), "0");
    assert_eq!(canon("null"), "null");
}

/// Equal names spelt differently are one name, and parsing reads escapes.
#[test]
fn parse_gives_the_value() {
    let value = jcs::parse(br#"{"a\u0062":[1,-2,0.5,"\u00e9"],"c":{"d":null}}"#, LIMIT).unwrap();
    assert_eq!(
        value,
        json!({"ab": [1, -2, 0.5, "\u{e9}"], "c": {"d": null}})
    );
    // Integers within 2^53 - 1 come back as integers (so typed bodies read them), larger
    // ones as doubles.
    let value = jcs::parse(b"[9007199254740991,9007199254740992,-1.0,1e3]", LIMIT).unwrap();
    assert_eq!(value[0].as_u64(), Some(9_007_199_254_740_991));
    assert!(value[1].is_f64());
    assert_eq!(value[2].as_i64(), Some(-1));
    assert_eq!(value[3].as_u64(), Some(1000));
}

// ---------------------------------------------------------------------------------------
// Every JcsError variant
// ---------------------------------------------------------------------------------------

#[test]
fn too_large() {
    assert_eq!(
        jcs::parse(b"[1]", 2),
        Err(JcsError::TooLarge { len: 3, max: 2 })
    );
    assert!(jcs::parse(b"[1]", 3).is_ok());
    assert_eq!(
        jcs::canonicalize(b"", 0),
        Err(JcsError::UnexpectedEnd { offset: 0 })
    );
}

#[test]
fn invalid_utf8() {
    assert_eq!(refused(b"\"\xff\""), JcsError::InvalidUtf8 { offset: 1 });
    // A surrogate encoded directly in UTF-8 (CESU-8 style).
    assert_eq!(
        refused(b"[\"\xed\xa0\x80\"]"),
        JcsError::InvalidUtf8 { offset: 2 }
    );
    // An overlong encoding of '/'.
    assert_eq!(
        refused(b"\"\xc0\xaf\""),
        JcsError::InvalidUtf8 { offset: 1 }
    );
    // Truncated sequence at the end.
    assert_eq!(refused(b"\"\xe2\x82"), JcsError::InvalidUtf8 { offset: 1 });
    // UTF-16 is not UTF-8 either.
    assert_eq!(
        refused(b"\xff\xfe[\x00]\x00"),
        JcsError::InvalidUtf8 { offset: 0 }
    );
}

#[test]
fn unexpected_end() {
    for (input, offset) in [
        (&b""[..], 0),
        (b"   ", 3),
        (b"[1,", 3),
        (b"[1", 2),
        (b"{\"a\"", 4),
        (b"{\"a\":", 5),
        (b"\"abc", 4),
        (b"\"\\", 2),
        (b"\"\\u12", 5),
        (b"tru", 3),
        (b"{", 1),
    ] {
        assert_eq!(
            refused(input),
            JcsError::UnexpectedEnd { offset },
            "{input:?}"
        );
    }
}

#[test]
fn unexpected_byte() {
    for (input, offset, byte) in [
        (&b"[1,]"[..], 3, b']'),
        (b"{\"a\":1,}", 7, b'}'),
        (b"[1 2]", 3, b'2'),
        (b"{'a':1}", 1, b'\''),
        (b"{a:1}", 1, b'a'),
        (b"{1:2}", 1, b'1'),
        (b"{\"a\" 1}", 5, b'1'),
        (b"NaN", 0, b'N'),
        (b"Infinity", 0, b'I'),
        (b"-Infinity", 0, b'-'),
        (b"+1", 0, b'+'),
        (b".5", 0, b'.'),
        (b"trUe", 2, b'U'),
        (b"nul1", 3, b'1'),
        (b"\xef\xbb\xbf{}", 0, 0xef),
        (b"\x0c1", 0, 0x0c),
        (b"[1,,2]", 3, b','),
        (b"]", 0, b']'),
        (b"/* */ 1", 0, b'/'),
    ] {
        if input == b"-Infinity" {
            // A '-' starts a number, so this one is a malformed number.
            assert_eq!(refused(input), JcsError::InvalidNumber { offset: 0 });
            continue;
        }
        assert_eq!(
            refused(input),
            JcsError::UnexpectedByte { offset, byte },
            "{input:?}"
        );
    }
}

#[test]
fn invalid_number() {
    for (input, offset) in [
        (&b"01"[..], 0),
        (b"-01", 0),
        (b"00", 0),
        (b"-", 0),
        (b"-a", 0),
        (b"1.", 0),
        (b"1.e3", 0),
        (b"1e", 0),
        (b"1e+", 0),
        (b"1E-x", 0),
        (b"[0, 1.]", 4),
        (b"{\"n\": -}", 6),
    ] {
        assert_eq!(
            refused(input),
            JcsError::InvalidNumber { offset },
            "{input:?}"
        );
    }
}

#[test]
fn number_out_of_range() {
    for (input, offset) in [
        (&b"1e400"[..], 0),
        (b"-1e400", 0),
        (b"[1.7976931348623159e308]", 1),
        (b"{\"big\": 1e99999999999999999999}", 8),
        (b"[0, 123456789e999]", 4),
    ] {
        assert_eq!(
            refused(input),
            JcsError::NumberOutOfRange { offset },
            "{input:?}"
        );
    }
    // 1e309 digit by digit.
    let mut long = vec![b'1'];
    long.resize(310, b'0');
    assert_eq!(refused(&long), JcsError::NumberOutOfRange { offset: 0 });
}

#[test]
fn invalid_escape() {
    for (input, offset) in [
        (&br#""\x""#[..], 1),
        (br#""\'""#, 1),
        (br#""\U0041""#, 1),
        (br#""\u12g4""#, 1),
        (br#""ab\u004""#, 3),
        (br#"["\a"]"#, 2),
        (br#""\uD83D\uDE0""#, 7),
    ] {
        assert_eq!(
            refused(input),
            JcsError::InvalidEscape { offset },
            "{input:?}"
        );
    }
}

#[test]
fn control_character() {
    for (input, offset, byte) in [
        (&b"\"a\nb\""[..], 2, b'\n'),
        (b"\"\t\"", 1, b'\t'),
        (b"\"\x00\"", 1, 0),
        (b"{\"\x1f\":1}", 2, 0x1f),
    ] {
        assert_eq!(
            refused(input),
            JcsError::ControlCharacter { offset, byte },
            "{input:?}"
        );
    }
}

/// RFC 8785 §3.2.2.2 note: "lone surrogates" (e.g., U+DEAD) must cause an error.
#[test]
fn lone_surrogate() {
    for (input, offset, unit) in [
        (&br#""\uDEAD""#[..], 1, 0xdead),
        (br#""\ud83d""#, 1, 0xd83d),
        (br#""\uD83Dx""#, 1, 0xd83d),
        (br#""\uD83D\u0041""#, 1, 0xd83d),
        (br#""\uD83D\uD83D""#, 1, 0xd83d),
        (br#""\uDE00\uD83D""#, 1, 0xde00),
        (br#"{"k\uDC00":1}"#, 3, 0xdc00),
        (br#""\uD800"#, 1, 0xd800),
    ] {
        assert_eq!(
            refused(input),
            JcsError::LoneSurrogate { offset, unit },
            "{input:?}"
        );
    }
}

/// RFC 7493 §2.1: no noncharacters, escaped or not.
#[test]
fn noncharacter() {
    for (input, offset, code_point) in [
        (&br#""\uFFFF""#[..], 1, 0xffff),
        (br#""\ufffe""#, 1, 0xfffe),
        (br#""ab\uFDD0""#, 3, 0xfdd0),
        (br#""\uD83F\uDFFE""#, 1, 0x1fffe),
        (br#""\uDBFF\uDFFF""#, 1, 0x10ffff),
        ("\"x\u{fdef}\"".as_bytes(), 2, 0xfdef),
        ("{\"\u{10fffe}\":1}".as_bytes(), 2, 0x10fffe),
    ] {
        assert_eq!(
            refused(input),
            JcsError::Noncharacter {
                offset: Some(offset),
                code_point
            },
            "{input:?}"
        );
    }
    // Their neighbours are fine.
    assert!(jcs::parse(br#""\uFDCF\uFDF0\uFFFD\uD83F\uDFFD""#, LIMIT).is_ok());
    assert_eq!(
        jcs::to_value("a\u{ffff}"),
        Err(JcsError::Noncharacter {
            offset: None,
            code_point: 0xffff
        })
    );
    let mut map = BTreeMap::new();
    map.insert("\u{fdd0}", 1);
    assert!(matches!(
        jcs::to_value(&map),
        Err(JcsError::Noncharacter { offset: None, .. })
    ));
}

/// RFC 8785 §3.1 and RFC 7493 §2.3: no duplicate names, however they are spelt.
#[test]
fn duplicate_key() {
    for (input, key, offset) in [
        (&br#"{"a":1,"a":2}"#[..], "a", 7),
        (br#"{"a":1,"\u0061":1}"#, "a", 7),
        (br#"{"x":{"b":[],"c":0,"b":{}}}"#, "b", 19),
        (
            "{\"\u{e9}\":1,\"e\u{301}\":2,\"\\u00e9\":3}".as_bytes(),
            "\u{e9}",
            16,
        ),
    ] {
        assert_eq!(
            refused(input),
            JcsError::DuplicateKey {
                key: key.to_owned(),
                offset: Some(offset)
            },
            "{input:?}"
        );
    }

    // Typed data: a flattened map that repeats a field.
    #[derive(Serialize)]
    struct Flattened {
        a: u8,
        #[serde(flatten)]
        rest: BTreeMap<String, u8>,
    }
    let value = Flattened {
        a: 1,
        rest: BTreeMap::from([("a".to_owned(), 2)]),
    };
    assert_eq!(
        jcs::to_canonical(&value),
        Err(JcsError::DuplicateKey {
            key: "a".to_owned(),
            offset: None
        })
    );
    // serde_json keeps the last one silently; the reason this check exists.
    assert_eq!(serde_json::to_value(&value).unwrap(), json!({"a": 2}));
}

fn nested_arrays(depth: usize) -> String {
    "[".repeat(depth) + &"]".repeat(depth)
}

#[test]
fn too_deep() {
    assert_eq!(MAX_DEPTH, 64);
    assert!(jcs::parse(nested_arrays(MAX_DEPTH).as_bytes(), LIMIT).is_ok());
    assert_eq!(
        refused(nested_arrays(MAX_DEPTH + 1).as_bytes()),
        JcsError::TooDeep {
            offset: Some(MAX_DEPTH),
            max: MAX_DEPTH
        }
    );
    let objects = "{\"a\":".repeat(MAX_DEPTH + 1) + "1" + &"}".repeat(MAX_DEPTH + 1);
    assert_eq!(
        refused(objects.as_bytes()),
        JcsError::TooDeep {
            offset: Some(5 * MAX_DEPTH),
            max: MAX_DEPTH
        }
    );
    // Far deeper input is refused just as fast, without recursing into it.
    let very_deep = nested_arrays(1_000_000);
    assert!(matches!(
        jcs::parse(very_deep.as_bytes(), very_deep.len()),
        Err(JcsError::TooDeep { .. })
    ));

    // Typed data: the same limit.
    let ok: Value = serde_json::from_str(&nested_arrays(MAX_DEPTH)).unwrap();
    assert_eq!(jcs::to_value(&ok).unwrap(), ok);
    let deep = Value::Array(vec![ok]);
    assert_eq!(
        jcs::to_value(&deep),
        Err(JcsError::TooDeep {
            offset: None,
            max: MAX_DEPTH
        })
    );
}

#[test]
fn trailing_data() {
    for (input, offset) in [
        (&b"{} x"[..], 3),
        (b"1 2", 2),
        (b"[]]", 2),
        (b"\"a\"\"b\"", 3),
        (b"truex", 4),
        (b"{}\x00", 2),
        (b"0 \xc2\xa0", 2),
        (b"1\n\x0c", 2),
    ] {
        assert_eq!(
            refused(input),
            JcsError::TrailingData { offset },
            "{input:?}"
        );
    }
}

/// RFC 8785 §3.2.2.3 note: NaN and Infinity must cause an error (Appendix B rows
/// 7fffffffffffffff and 7ff0000000000000).
#[test]
fn non_finite_numbers_are_refused() {
    for f in [
        f64::from_bits(0x7fffffffffffffff),
        f64::from_bits(0x7ff0000000000000),
        f64::NEG_INFINITY,
    ] {
        assert_eq!(jcs::to_canonical(&f), Err(JcsError::NonFiniteNumber));
        assert_eq!(
            jcs::to_canonical(&json_like(f)),
            Err(JcsError::NonFiniteNumber)
        );
    }
    assert_eq!(jcs::to_canonical(&f32::NAN), Err(JcsError::NonFiniteNumber));
    // serde_json turns them into null without a word.
    assert_eq!(serde_json::to_vec(&f64::NAN).unwrap(), b"null");
}

fn json_like(f: f64) -> HashMap<&'static str, Vec<f64>> {
    HashMap::from([("x", vec![1.0, f])])
}

#[test]
fn integer_out_of_range() {
    const SAFE: i64 = (1 << 53) - 1;
    assert_eq!(jcs::to_canonical(&SAFE).unwrap(), b"9007199254740991");
    assert_eq!(jcs::to_canonical(&-SAFE).unwrap(), b"-9007199254740991");
    assert_eq!(
        jcs::to_canonical(&(SAFE + 1)),
        Err(JcsError::IntegerOutOfRange { value: 1 << 53 })
    );
    assert_eq!(
        jcs::to_canonical(&(-SAFE - 1)),
        Err(JcsError::IntegerOutOfRange { value: -(1 << 53) })
    );
    assert_eq!(
        jcs::to_canonical(&u64::MAX),
        Err(JcsError::IntegerOutOfRange {
            value: u64::MAX.into()
        })
    );
    assert_eq!(
        jcs::to_canonical(&u128::MAX),
        Err(JcsError::IntegerOutOfRange { value: i128::MAX })
    );
}

#[test]
fn key_must_be_string() {
    let map = BTreeMap::from([(vec![1u8], 1)]);
    assert_eq!(
        jcs::to_canonical(&map),
        Err(JcsError::KeyMustBeString { found: "sequence" })
    );
    let map = HashMap::from([((1u8, 2u8), 1)]);
    assert_eq!(
        jcs::to_canonical(&map),
        Err(JcsError::KeyMustBeString { found: "tuple" })
    );
    let map = BTreeMap::from([(Some("a"), 1)]);
    assert_eq!(
        jcs::to_canonical(&map),
        Err(JcsError::KeyMustBeString { found: "option" })
    );

    struct FloatKeys;
    impl Serialize for FloatKeys {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            use serde::ser::SerializeMap;
            let mut map = s.serialize_map(Some(1))?;
            map.serialize_entry(&1.5f64, &1)?;
            map.end()
        }
    }
    assert_eq!(
        jcs::to_canonical(&FloatKeys),
        Err(JcsError::KeyMustBeString { found: "f64" })
    );

    // Integer, boolean and char keys are written as strings, as serde_json does.
    let map = BTreeMap::from([(10, "ten"), (9, "nine"), (-1, "minus one")]);
    assert_eq!(
        jcs::to_canonical(&map).unwrap(),
        br#"{"-1":"minus one","10":"ten","9":"nine"}"#
    );
    let map = BTreeMap::from([(true, 1), (false, 0)]);
    assert_eq!(jcs::to_canonical(&map).unwrap(), br#"{"false":0,"true":1}"#);
}

#[test]
fn serialize_error() {
    struct Broken;
    impl Serialize for Broken {
        fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
            Err(serde::ser::Error::custom("broken on purpose"))
        }
    }
    assert_eq!(
        jcs::to_canonical(&vec![Broken]),
        Err(JcsError::Serialize {
            message: "broken on purpose".to_owned()
        })
    );
}

// ---------------------------------------------------------------------------------------
// Typed data
// ---------------------------------------------------------------------------------------

#[derive(Serialize)]
#[serde(rename_all = "snake_case")]
enum Stance {
    Support,
    Amend(String),
    Weighted(u8, u8),
    Conditional { on: String },
}

#[derive(Serialize)]
struct Sample {
    v: u8,
    zeta: Option<&'static str>,
    alpha: Vec<f64>,
    unit: (),
    stances: Vec<Stance>,
    name: char,
    bytes: serde_bytes_like::Bytes,
}

/// A stand-in for `serde_bytes`: serializes through `serialize_bytes`.
mod serde_bytes_like {
    pub struct Bytes(pub &'static [u8]);
    impl serde::Serialize for Bytes {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_bytes(self.0)
        }
    }
}

#[test]
fn typed_data() {
    let sample = Sample {
        v: 1,
        zeta: None,
        alpha: vec![1.0, -0.0, 0.5, 1e21, 1e-7],
        unit: (),
        stances: vec![
            Stance::Support,
            Stance::Amend("x".to_owned()),
            Stance::Weighted(1, 2),
            Stance::Conditional { on: "y".to_owned() },
        ],
        name: '\u{e9}',
        bytes: serde_bytes_like::Bytes(&[0, 255]),
    };
    let canonical = jcs::to_canonical(&sample).unwrap();
    assert_eq!(
        String::from_utf8(canonical.clone()).unwrap(),
        "{\"alpha\":[1,0,0.5,1e+21,1e-7],\"bytes\":[0,255],\"name\":\"\u{e9}\",\
         \"stances\":[\"support\",{\"amend\":\"x\"},{\"weighted\":[1,2]},{\"conditional\":{\"on\":\"y\"}}],\
         \"unit\":null,\"v\":1,\"zeta\":null}"
    );
    // The typed path and the text path agree.
    let value = jcs::to_value(&sample).unwrap();
    assert_eq!(jcs::parse(&canonical, LIMIT).unwrap(), value);
    assert_eq!(jcs::canonical(&value), canonical);
    let mut reused = b"prefix".to_vec();
    jcs::write_canonical(&value, &mut reused);
    assert_eq!(&reused[6..], &canonical[..]);
    // Same text as serde_json would give, once canonicalized.
    let via_serde_json = serde_json::to_vec_pretty(&sample).unwrap();
    assert_eq!(
        jcs::canonicalize(&via_serde_json, LIMIT).unwrap(),
        canonical
    );
}

/// `canonical` writes any `Value`, including numbers built by hand beyond 2^53, which it
/// rounds like a reader of their decimal text would (RFC 8785 Appendix B note 1).
#[test]
fn hand_built_values() {
    let value = json!({"big": 9_007_199_254_740_993u64, "neg": i64::MIN, "f": 1.0});
    assert_eq!(
        jcs::canonical(&value),
        br#"{"big":9007199254740992,"f":1,"neg":-9223372036854776000}"#
    );
}

/// This module's number handling assumes serde_json's default features: without
/// `arbitrary_precision`, serde_json itself refuses 1e400.
#[test]
fn serde_json_features_are_as_assumed() {
    assert!(serde_json::from_str::<Value>("1e400").is_err());
}
