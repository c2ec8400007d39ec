//! `report`: incident reports and threat intelligence as a STIX 2.1 bundle with a TLP 2.0
//! marking.
//!
//! Checked here: the STIX envelope (STIX 2.1 §8 bundle: `type`, `id`, `objects`) and each
//! object's `type` (§2.1 type name rules), `id` (§2.9 `<type>--<UUID>`) and `spec_version`
//! (`2.1`), and that no object carries a TLP marking stricter than the report's. Deeper STIX
//! validation is left to the node. A bundle too big for one log entry travels as a blob,
//! named by its SHA-256, which the signature covers.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{MAX_TITLE_LEN, Tlp, check_len, check_sealing, typed};
use crate::envelope::{FormatError, MAX_REFS, Statement};
use crate::ids::Digest;

/// Most objects in one bundle.
pub const MAX_OBJECTS: usize = 10_000;
/// Largest blob a statement may name (1 GiB).
pub const MAX_BLOB_SIZE: u64 = 1 << 30;

/// The TLP 2.0 marking-definition ids (OASIS cti-stix-common-objects, TLP 2.0 extension).
pub const TLP2_MARKINGS: [(Tlp, &str); 5] = [
    (
        Tlp::Clear,
        "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    ),
    (
        Tlp::Green,
        "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    ),
    (
        Tlp::Amber,
        "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    ),
    (
        Tlp::AmberStrict,
        "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    ),
    (
        Tlp::Red,
        "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
    ),
];

/// The TLP 1.0 marking-definition ids (STIX 2.1 §7.2.1.4), mapped to TLP 2.0 levels.
const TLP1_MARKINGS: [(Tlp, &str); 4] = [
    (
        Tlp::Clear,
        "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
    ),
    (
        Tlp::Green,
        "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
    ),
    (
        Tlp::Amber,
        "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
    ),
    (
        Tlp::Red,
        "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
    ),
];

/// STIX 2.1 cyber-observable types, whose `spec_version` is optional (STIX 2.1 §6).
const SCO_TYPES: [&str; 18] = [
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

/// Material too large for the log, stored beside it and named by its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlobRef {
    /// SHA-256 of the blob's bytes.
    pub sha256: Digest,
    /// Its size in bytes.
    pub size: u64,
    /// Its media type, e.g. `application/stix+json;version=2.1`.
    pub media_type: String,
}

/// `report` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportBody {
    /// The marking of the whole report; no object in it is marked stricter.
    pub tlp: Tlp,
    /// Optional title (content: absent when sealed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The STIX 2.1 bundle (content: absent when sealed or when in a blob).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bundle: Option<Value>,
    /// The bundle as a blob (content: absent when sealed or inline).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blob: Option<BlobRef>,
}

/// The confidential content of a sealed `report`: what `sealed` decrypts to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportContent {
    /// Optional title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The STIX 2.1 bundle, unless it is in a blob.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bundle: Option<Value>,
    /// The bundle as a blob (itself sealed to the same addressees).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blob: Option<BlobRef>,
}

impl ReportContent {
    /// Checks the content against the report's marking, as for a clear report.
    pub fn check(&self, tlp: Tlp) -> Result<(), FormatError> {
        check_content("content", &self.title, &self.bundle, &self.blob, tlp)
    }
}

pub(super) fn parse(s: &Statement) -> Result<ReportBody, FormatError> {
    if s.refs.len() > MAX_REFS {
        return Err(FormatError::field("statement.refs", "too many refs"));
    }
    let b: ReportBody = typed(&s.body)?;
    let has_content = b.title.is_some() || b.bundle.is_some() || b.blob.is_some();
    check_sealing(s, has_content, Some(b.tlp))?;
    if s.sealed.is_none() {
        check_content("statement.body", &b.title, &b.bundle, &b.blob, b.tlp)?;
    }
    Ok(b)
}

fn check_content(
    at: &str,
    title: &Option<String>,
    bundle: &Option<Value>,
    blob: &Option<BlobRef>,
    tlp: Tlp,
) -> Result<(), FormatError> {
    check_len(
        &format!("{at}.title"),
        title.as_deref().unwrap_or(""),
        MAX_TITLE_LEN,
    )?;
    match (bundle, blob) {
        (Some(bundle), None) => check_bundle(&format!("{at}.bundle"), bundle, tlp),
        (None, Some(blob)) => check_blob(&format!("{at}.blob"), blob),
        _ => Err(FormatError::field(
            at,
            "needs exactly one of `bundle` and `blob`",
        )),
    }
}

fn check_blob(at: &str, blob: &BlobRef) -> Result<(), FormatError> {
    if blob.size == 0 || blob.size > MAX_BLOB_SIZE {
        return Err(FormatError::field(&format!("{at}.size"), "1 byte to 1 GiB"));
    }
    if blob.media_type.is_empty() || blob.media_type.len() > 128 {
        return Err(FormatError::field(
            &format!("{at}.media_type"),
            "1 to 128 characters",
        ));
    }
    Ok(())
}

/// Checks a STIX 2.1 bundle's envelope and its objects' identity fields and markings.
pub fn check_bundle(at: &str, bundle: &Value, tlp: Tlp) -> Result<(), FormatError> {
    let obj = bundle
        .as_object()
        .ok_or_else(|| FormatError::field(at, "must be a STIX bundle object"))?;
    if obj.get("type").and_then(Value::as_str) != Some("bundle") {
        return Err(FormatError::field(
            &format!("{at}.type"),
            "must be \"bundle\"",
        ));
    }
    check_stix_id(&format!("{at}.id"), obj.get("id"), "bundle")?;
    let objects = obj
        .get("objects")
        .and_then(Value::as_array)
        .ok_or_else(|| FormatError::field(&format!("{at}.objects"), "must be an array"))?;
    if objects.is_empty() || objects.len() > MAX_OBJECTS {
        return Err(FormatError::field(
            &format!("{at}.objects"),
            format!("1 to {MAX_OBJECTS} objects"),
        ));
    }
    for (i, o) in objects.iter().enumerate() {
        check_object(&format!("{at}.objects[{i}]"), o, tlp)?;
    }
    Ok(())
}

fn check_object(at: &str, o: &Value, tlp: Tlp) -> Result<(), FormatError> {
    let o: &Map<String, Value> = o
        .as_object()
        .ok_or_else(|| FormatError::field(at, "must be an object"))?;
    let ty = o
        .get("type")
        .and_then(Value::as_str)
        .filter(|t| is_stix_type(t))
        .ok_or_else(|| {
            FormatError::field(
                &format!("{at}.type"),
                "must be a STIX type name (3-250 of a-z, 0-9, '-')",
            )
        })?;
    check_stix_id(&format!("{at}.id"), o.get("id"), ty)?;
    match o.get("spec_version") {
        Some(Value::String(v)) if v == "2.1" => {}
        None if SCO_TYPES.contains(&ty) => {}
        _ => {
            return Err(FormatError::field(
                &format!("{at}.spec_version"),
                "must be \"2.1\"",
            ));
        }
    }
    if let Some(marks) = o.get("object_marking_refs") {
        let marks = marks.as_array().ok_or_else(|| {
            FormatError::field(&format!("{at}.object_marking_refs"), "must be an array")
        })?;
        for m in marks.iter().filter_map(Value::as_str) {
            if let Some(level) = tlp_of_marking(m)
                && level > tlp
            {
                return Err(FormatError::field(
                    &format!("{at}.object_marking_refs"),
                    format!(
                        "object is marked {} but the report only {}",
                        level.label(),
                        tlp.label()
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// The TLP level of a TLP 1.0 or 2.0 marking-definition id, if it is one.
pub fn tlp_of_marking(id: &str) -> Option<Tlp> {
    TLP2_MARKINGS
        .iter()
        .chain(TLP1_MARKINGS.iter())
        .find(|(_, m)| *m == id)
        .map(|(t, _)| *t)
}

/// STIX 2.1 §2.1 (type names): 3 to 250 characters of `a-z`, `0-9`, `-`, starting and
/// ending alphanumeric, with no `--`.
fn is_stix_type(t: &str) -> bool {
    let b = t.as_bytes();
    (3..=250).contains(&b.len())
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
        && !t.contains("--")
}

/// STIX 2.1 §2.9: `<type>--<UUID>` with a lowercase RFC 4122 UUID.
fn check_stix_id(at: &str, id: Option<&Value>, ty: &str) -> Result<(), FormatError> {
    let ok = id
        .and_then(Value::as_str)
        .and_then(|id| id.strip_prefix(ty))
        .and_then(|rest| rest.strip_prefix("--"))
        .is_some_and(is_uuid);
    if !ok {
        return Err(FormatError::field(at, format!("must be \"{ty}--<uuid>\"")));
    }
    Ok(())
}

fn is_uuid(u: &str) -> bool {
    let b = u.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_digit() || (b'a'..=b'f').contains(c),
        })
}
