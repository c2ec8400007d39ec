//! STIX 2.1 structure checks for POSTed objects (STIX 2.1 §3 common properties, §4–§6
//! the required properties of each SDO, SRO, SCO and meta object).
//!
//! Each object is checked on its own: a failure names the property and the rule, and the
//! envelope's other objects are still shared (TAXII 2.1 §5.5). Types this table does not
//! know (custom objects) get the common checks only. This is structure, not semantics:
//! patterns are not parsed and references are not resolved.

use serde_json::{Map, Value};
use statement::Timestamp;
use statement::kind::tlp_of_marking;

/// How a required property is checked.
#[derive(Clone, Copy)]
enum P {
    /// A non-empty string.
    Str,
    /// A STIX timestamp.
    Ts,
    /// A boolean.
    Bool,
    /// An integer.
    Int,
    /// A STIX identifier.
    Ref,
    /// A non-empty list of identifiers.
    Refs,
    /// A non-empty list of strings.
    Strs,
    /// A JSON object.
    Obj,
}

/// Required properties by type (STIX 2.1 §4 SDOs, §5 SROs, §6 SCOs, §7 meta objects).
const REQUIRED: &[(&str, &[(&str, P)])] = &[
    ("attack-pattern", &[("name", P::Str)]),
    ("campaign", &[("name", P::Str)]),
    ("course-of-action", &[("name", P::Str)]),
    ("grouping", &[("context", P::Str), ("object_refs", P::Refs)]),
    ("identity", &[("name", P::Str)]),
    ("incident", &[("name", P::Str)]),
    (
        "indicator",
        &[
            ("pattern", P::Str),
            ("pattern_type", P::Str),
            ("valid_from", P::Ts),
        ],
    ),
    ("infrastructure", &[("name", P::Str)]),
    ("intrusion-set", &[("name", P::Str)]),
    ("location", &[]),
    ("malware", &[("is_family", P::Bool)]),
    ("malware-analysis", &[("product", P::Str)]),
    ("note", &[("content", P::Str), ("object_refs", P::Refs)]),
    (
        "observed-data",
        &[
            ("first_observed", P::Ts),
            ("last_observed", P::Ts),
            ("number_observed", P::Int),
        ],
    ),
    ("opinion", &[("opinion", P::Str), ("object_refs", P::Refs)]),
    (
        "report",
        &[
            ("name", P::Str),
            ("published", P::Ts),
            ("object_refs", P::Refs),
        ],
    ),
    ("threat-actor", &[("name", P::Str)]),
    ("tool", &[("name", P::Str)]),
    ("vulnerability", &[("name", P::Str)]),
    (
        "relationship",
        &[
            ("relationship_type", P::Str),
            ("source_ref", P::Ref),
            ("target_ref", P::Ref),
        ],
    ),
    ("sighting", &[("sighting_of_ref", P::Ref)]),
    (
        "language-content",
        &[("object_ref", P::Ref), ("contents", P::Obj)],
    ),
    ("marking-definition", &[]),
    (
        "extension-definition",
        &[
            ("name", P::Str),
            ("schema", P::Str),
            ("version", P::Str),
            ("extension_types", P::Strs),
        ],
    ),
    ("artifact", &[]),
    ("autonomous-system", &[("number", P::Int)]),
    ("directory", &[("path", P::Str)]),
    ("domain-name", &[("value", P::Str)]),
    ("email-addr", &[("value", P::Str)]),
    ("email-message", &[("is_multipart", P::Bool)]),
    ("file", &[]),
    ("ipv4-addr", &[("value", P::Str)]),
    ("ipv6-addr", &[("value", P::Str)]),
    ("mac-addr", &[("value", P::Str)]),
    ("mutex", &[("name", P::Str)]),
    ("network-traffic", &[("protocols", P::Strs)]),
    ("process", &[]),
    ("software", &[("name", P::Str)]),
    ("url", &[("value", P::Str)]),
    ("user-account", &[]),
    ("windows-registry-key", &[]),
    ("x509-certificate", &[]),
];

/// The STIX 2.1 cyber-observable types (§6): no `created`/`modified`, `spec_version`
/// optional.
const SCO: &[&str] = &[
    "artifact",
    "autonomous-system",
    "directory",
    "domain-name",
    "email-addr",
    "email-message",
    "file",
    "ipv4-addr",
    "ipv6-addr",
    "mac-addr",
    "mutex",
    "network-traffic",
    "process",
    "software",
    "url",
    "user-account",
    "windows-registry-key",
    "x509-certificate",
];

/// STIX 2.1 §4.14 opinion values.
const OPINIONS: &[&str] = &[
    "strongly-disagree",
    "disagree",
    "neutral",
    "agree",
    "strongly-agree",
];

/// STIX 2.1 §2.1 type names: 3–250 of `a-z0-9-`, alphanumeric at both ends, no `--`.
pub fn is_type_name(t: &str) -> bool {
    let b = t.as_bytes();
    (3..=250).contains(&b.len())
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
        && !t.contains("--")
}

/// STIX 2.1 §2.9 identifiers: `<type>--<lowercase UUID>`.
pub fn is_identifier(id: &str) -> bool {
    let Some((ty, uuid)) = id.split_once("--") else {
        return false;
    };
    let b = uuid.as_bytes();
    is_type_name(ty)
        && b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_digit() || (b'a'..=b'f').contains(c),
        })
}

fn check(o: &Map<String, Value>, name: &str, p: P) -> Result<(), String> {
    let v = o.get(name).ok_or_else(|| format!("`{name}` is required"))?;
    let ok = match p {
        P::Str => v.as_str().is_some_and(|s| !s.is_empty()),
        P::Ts => v.as_str().is_some_and(|s| Timestamp::parse(s).is_ok()),
        P::Bool => v.is_boolean(),
        P::Int => v.is_i64() || v.is_u64(),
        P::Ref => v.as_str().is_some_and(is_identifier),
        P::Refs => v.as_array().is_some_and(|a| {
            !a.is_empty() && a.iter().all(|x| x.as_str().is_some_and(is_identifier))
        }),
        P::Strs => v
            .as_array()
            .is_some_and(|a| !a.is_empty() && a.iter().all(Value::is_string)),
        P::Obj => v.is_object(),
    };
    let what = match p {
        P::Str => "a non-empty string",
        P::Ts => "an RFC 3339 UTC timestamp",
        P::Bool => "a boolean",
        P::Int => "an integer",
        P::Ref => "a STIX identifier",
        P::Refs => "a non-empty list of STIX identifiers",
        P::Strs => "a non-empty list of strings",
        P::Obj => "an object",
    };
    if ok {
        Ok(())
    } else {
        Err(format!("`{name}` must be {what}"))
    }
}

/// Checks one object; the reason names the first rule it breaks.
pub fn object(v: &Value) -> Result<(), String> {
    let o = v.as_object().ok_or("not a JSON object")?;
    let ty = o
        .get("type")
        .and_then(Value::as_str)
        .filter(|t| is_type_name(t))
        .ok_or("`type` must be a STIX type name")?;
    let id = o.get("id").and_then(Value::as_str).unwrap_or("");
    if !is_identifier(id) || id.split("--").next() != Some(ty) {
        return Err(format!("`id` must be \"{ty}--<uuid>\""));
    }
    if let Some(bad) = o.keys().find(|k| {
        k.is_empty()
            || k.len() > 250
            || !k
                .bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_')
    }) {
        return Err(format!("property name {bad:?} is not a STIX property name"));
    }
    common(o, ty)?;
    let required = REQUIRED
        .iter()
        .find(|(t, _)| *t == ty)
        .map_or(&[][..], |(_, r)| *r);
    for (name, p) in required {
        check(o, name, *p)?;
    }
    specific(o, ty)
}

fn common(o: &Map<String, Value>, ty: &str) -> Result<(), String> {
    let sco = SCO.contains(&ty);
    match o.get("spec_version").and_then(Value::as_str) {
        Some("2.1") => {}
        None if sco => {}
        Some(other) => {
            return Err(format!(
                "`spec_version` {other:?} is not supported: only 2.1"
            ));
        }
        None => return Err("`spec_version` is required and must be \"2.1\"".into()),
    }
    if !sco {
        check(o, "created", P::Ts)?;
        if ty != "marking-definition" {
            check(o, "modified", P::Ts)?;
            let t = |k: &str| {
                o.get(k)
                    .and_then(Value::as_str)
                    .and_then(|s| Timestamp::parse(s).ok())
            };
            if t("modified") < t("created") {
                return Err("`modified` is earlier than `created`".into());
            }
        }
    }
    for (name, p) in [("created_by_ref", P::Ref), ("object_marking_refs", P::Refs)] {
        if o.contains_key(name) {
            check(o, name, p)?;
        }
    }
    if o.get("revoked").is_some_and(|r| !r.is_boolean()) {
        return Err("`revoked` must be a boolean".into());
    }
    if o.get("confidence")
        .is_some_and(|c| c.as_u64().is_none_or(|c| c > 100))
    {
        return Err("`confidence` must be an integer from 0 to 100".into());
    }
    if o.get("extensions").is_some_and(|e| !e.is_object()) {
        return Err("`extensions` must be an object".into());
    }
    Ok(())
}

fn specific(o: &Map<String, Value>, ty: &str) -> Result<(), String> {
    let has = |k: &str| o.contains_key(k);
    let get = |k: &str| o.get(k).unwrap_or(&Value::Null);
    match ty {
        "opinion"
            if !get("opinion")
                .as_str()
                .is_some_and(|s| OPINIONS.contains(&s)) =>
        {
            Err(format!("`opinion` must be one of {}", OPINIONS.join(", ")))
        }
        "malware" if get("is_family") == &Value::Bool(true) && !has("name") => {
            Err("`name` is required when `is_family` is true".into())
        }
        "malware-analysis" if !has("result") && !has("analysis_sco_refs") => {
            Err("one of `result` and `analysis_sco_refs` is required".into())
        }
        "location"
            if !(has("region") || has("country") || (has("latitude") && has("longitude"))) =>
        {
            Err("one of `region`, `country`, or `latitude` with `longitude` is required".into())
        }
        "marking-definition"
            if !(has("extensions") || (has("definition_type") && has("definition"))) =>
        {
            Err("`definition_type` with `definition`, or `extensions`, is required".into())
        }
        "artifact" if !has("payload_bin") && !has("url") => {
            Err("one of `payload_bin` and `url` is required".into())
        }
        "file" if !has("hashes") && !has("name") => {
            Err("one of `hashes` and `name` is required".into())
        }
        "observed-data"
            if !get("number_observed")
                .as_u64()
                .is_some_and(|n| (1..=999_999_999).contains(&n)) =>
        {
            Err("`number_observed` must be from 1 to 999,999,999".into())
        }
        _ => Ok(()),
    }
}

/// The strictest TLP marking an object carries in `object_marking_refs`, if any.
pub fn strictest_tlp(v: &Value) -> Option<statement::Tlp> {
    v["object_marking_refs"]
        .as_array()?
        .iter()
        .filter_map(Value::as_str)
        .filter_map(tlp_of_marking)
        .max()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use statement::kind::TLP2_MARKINGS;

    fn indicator() -> Value {
        json!({
            "type": "indicator", "spec_version": "2.1",
            "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
            "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
            "pattern": "[ipv4-addr:value = '10.0.0.1']", "pattern_type": "stix",
            "valid_from": "2026-01-01T00:00:00Z"
        })
    }

    #[test]
    fn valid_objects_pass() {
        assert_eq!(object(&indicator()), Ok(()));
        let ip = json!({"type": "ipv4-addr", "id": "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd", "value": "10.0.0.1"});
        assert_eq!(object(&ip), Ok(()));
    }

    #[test]
    fn each_rule_names_what_is_wrong() {
        let cases: Vec<(&str, Value, &str)> = vec![
            ("spec_version", json!("2.0"), "only 2.1"),
            (
                "id",
                json!("malware--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"),
                "`id`",
            ),
            ("pattern", Value::Null, "`pattern`"),
            ("valid_from", json!("yesterday"), "`valid_from`"),
            ("modified", json!("2025-01-01T00:00:00Z"), "earlier"),
            ("confidence", json!(101), "`confidence`"),
            ("BadName", json!(1), "property name"),
        ];
        for (k, v, want) in cases {
            let mut o = indicator();
            if v.is_null() {
                o.as_object_mut().unwrap().remove(k);
            } else {
                o[k] = v;
            }
            let e = object(&o).unwrap_err();
            assert!(e.contains(want), "{k}: {e}");
        }
        assert!(object(&json!("x")).is_err());
        let op = json!({"type": "opinion", "spec_version": "2.1", "id": "opinion--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
            "created": "2026-01-01T00:00:00Z", "modified": "2026-01-01T00:00:00Z", "opinion": "maybe",
            "object_refs": ["indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"]});
        assert!(object(&op).unwrap_err().contains("strongly-agree"));
    }

    #[test]
    fn tlp_markings_are_read() {
        let mut o = indicator();
        o["object_marking_refs"] = json!([TLP2_MARKINGS[2].1, TLP2_MARKINGS[1].1]);
        assert_eq!(strictest_tlp(&o), Some(statement::Tlp::Amber));
        assert_eq!(strictest_tlp(&indicator()), None);
    }
}
