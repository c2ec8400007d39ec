//! The read side: every STIX object of the verified log's `report` statements that this
//! member may read, with its provenance and `date_added`.
//!
//! Built incrementally from the group's report list (the fold already indexes reports by
//! log index) and the replica's entries, so a refresh costs only what was added since the
//! last one. Objects come only from statements that the sync verified; sealed reports are
//! opened with the member's key and skipped when they are not addressed to it.
//!
//! `date_added` (TAXII 2.1 §3.3) is when the statement entered the log, as this node can
//! prove it: the k-th earliest policy witness cosignature on the first checkpoint this
//! node verified that covers the entry, or, without witnesses, when the node verified that
//! checkpoint. Both are upper bounds. To give clients a strict order for `added_after`,
//! each report's time is raised to one microsecond after the previous report's if needed;
//! it stays an upper bound and never changes once computed.

use std::sync::Arc;

use serde_json::{Map, Value, json};
use statement::kind::{BlobRef, Body, ReportContent};
use statement::seal::unseal;
use statement::{Digest, Signed, StatementId, Timestamp, Tlp};
use tlog::checkpoint::Checkpoint;

use super::EXTENSION_ID;
use crate::{Node, NodeError};

/// One STIX object of one verified report.
#[derive(Debug, Clone)]
pub struct Record {
    /// Log index of its statement.
    pub index: u64,
    /// Its position in the statement's bundle.
    pub pos: u32,
    /// When its statement entered the log, microseconds since the epoch.
    pub date_added: i64,
    /// The report's marking.
    pub tlp: Tlp,
    /// The statement the report answers (`refs[0]`), if any.
    pub answers: Option<StatementId>,
    /// STIX `id`.
    pub stix_id: String,
    /// STIX `type`.
    pub stix_type: String,
    /// Its version: `modified`, else `created`, else `date_added` (TAXII 2.1 §3.4.3).
    pub version: String,
    /// The version in microseconds, for comparing.
    pub version_key: i64,
    /// STIX `spec_version` (`2.1` when absent, as for SCOs).
    pub spec_version: String,
    /// The object as served, provenance extension included.
    pub object: Arc<Value>,
}

impl Record {
    /// The ordering key: log order, then bundle order.
    pub fn key(&self) -> (u64, u32) {
        (self.index, self.pos)
    }
}

/// The index.
#[derive(Debug, Default)]
pub struct Index {
    /// Reports of the group's list already processed.
    reports_done: usize,
    /// Verified tree size when last refreshed.
    size: u64,
    /// (checkpoint size, unix seconds) of every verified checkpoint, by size.
    times: Vec<(u64, i64)>,
    /// `date_added` of the last report processed.
    last_micros: i64,
    /// Every record, in log order.
    pub records: Vec<Record>,
}

/// Microseconds of a timestamp.
pub fn micros(t: &Timestamp) -> i64 {
    t.unix()
        .saturating_mul(1_000_000)
        .saturating_add(i64::from(t.nanos() / 1000))
}

/// A TAXII timestamp (TAXII 2.1 §2.1: RFC 3339 UTC, microseconds).
pub fn format_micros(us: i64) -> String {
    let secs = us.div_euclid(1_000_000);
    let frac = us.rem_euclid(1_000_000);
    let t = Timestamp::from_unix_saturating(secs);
    let base = t.as_str().trim_end_matches('Z');
    format!("{base}.{frac:06}Z")
}

impl Index {
    /// Brings the index up to the node's verified log. A report whose blob cannot be
    /// fetched now stops the refresh there, to be retried on the next one.
    pub async fn refresh(&mut self, node: &Node) -> Result<(), NodeError> {
        let size = node.verified()?.map_or(0, |v| v.size);
        let reports = node.group()?.reports();
        if size == self.size && self.reports_done == reports.len() {
            return Ok(());
        }
        self.refresh_times(node)?;
        while let Some(r) = reports.get(self.reports_done) {
            let at = self.time_of(r.said.index);
            let micros = at.max(self.last_micros.saturating_add(1));
            match load(node, r.said.index, r.said.id).await {
                Err(Unread::Later(e)) => {
                    tracing::warn!(index = r.said.index, error = %e, "TAXII: report not read yet");
                    return Ok(());
                }
                Err(Unread::Never(e)) => {
                    tracing::warn!(index = r.said.index, error = %e, "TAXII: report skipped");
                    self.last_micros = micros;
                }
                Ok(loaded) => {
                    self.last_micros = micros;
                    if let Some(l) = loaded {
                        self.add(r.said.index, &l);
                    }
                }
            }
            self.reports_done += 1;
        }
        self.size = size;
        Ok(())
    }

    /// Adds the times of checkpoints verified since the last refresh.
    fn refresh_times(&mut self, node: &Node) -> Result<(), NodeError> {
        let known = self.times.last().map_or(0, |(s, _)| *s);
        let verified_at = node.replica.checkpoint_times()?;
        let notes = node.replica.checkpoint_notes()?;
        for ((size, note), (_, at)) in notes.iter().zip(verified_at.iter()) {
            if *size <= known {
                continue;
            }
            let witnessed = Checkpoint::open(note, &node.origin, &node.known)
                .ok()
                .and_then(|o| node.policy.witnessed_at(&o))
                .and_then(|t| i64::try_from(t).ok());
            self.times.push((*size, witnessed.unwrap_or(*at)));
        }
        Ok(())
    }

    /// The time (µs) of the first verified checkpoint covering `index`.
    fn time_of(&self, index: u64) -> i64 {
        let i = self.times.partition_point(|(size, _)| *size <= index);
        let secs = self
            .times
            .get(i)
            .or(self.times.last())
            .map_or(0, |(_, t)| *t);
        secs.saturating_mul(1_000_000)
    }

    fn add(&mut self, index: u64, l: &Loaded) {
        let objects = l.bundle["objects"].as_array().cloned().unwrap_or_default();
        let st = l.signed.statement();
        let provenance = json!({
            "extension_type": "property-extension",
            "author": st.author.as_str(),
            "statement": l.signed.id().to_hex(),
            "log_index": index,
            "tlp": l.tlp.label(),
            "sealed": st.sealed.is_some(),
        });
        for (pos, object) in (0u32..).zip(objects) {
            if let Some(r) = self.record(index, pos, &l.signed, l.tlp, object, &provenance) {
                self.records.push(r);
            }
        }
    }

    fn record(
        &self,
        index: u64,
        pos: u32,
        s: &Signed,
        tlp: Tlp,
        object: Value,
        provenance: &Value,
    ) -> Option<Record> {
        let Value::Object(mut o) = object else {
            return None;
        };
        let stix_id = o.get("id")?.as_str()?.to_owned();
        let stix_type = o.get("type")?.as_str()?.to_owned();
        let stamp = |k: &str| {
            o.get(k)
                .and_then(Value::as_str)
                .and_then(|t| Timestamp::parse(t).ok())
        };
        let (version, version_key) = match stamp("modified").or_else(|| stamp("created")) {
            Some(t) => (t.as_str().to_owned(), micros(&t)),
            None => (format_micros(self.last_micros), self.last_micros),
        };
        let spec_version = o
            .get("spec_version")
            .and_then(Value::as_str)
            .unwrap_or("2.1")
            .to_owned();
        let ext = o
            .entry("extensions")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(ext) = ext {
            ext.insert(EXTENSION_ID.to_owned(), provenance.clone());
        }
        Some(Record {
            index,
            pos,
            date_added: self.last_micros,
            tlp,
            answers: s.statement().refs.first().copied(),
            stix_id,
            stix_type,
            version,
            version_key,
            spec_version,
            object: Arc::new(Value::Object(o)),
        })
    }
}

/// Why a report was not read.
enum Unread {
    /// Not now (its blob could not be fetched): retry.
    Later(String),
    /// Never (malformed, or its blob is missing or altered).
    Never(String),
}

/// A report this member can read.
struct Loaded {
    signed: Signed,
    tlp: Tlp,
    bundle: Value,
}

/// Reads the report at `index`: `None` when it is sealed and not to this member.
async fn load(node: &Node, index: u64, id: StatementId) -> Result<Option<Loaded>, Unread> {
    let never = |e: String| Unread::Never(e);
    let leaf = node
        .replica
        .leaf(index)
        .map_err(|e| never(e.to_string()))?
        .ok_or_else(|| never("entry missing".into()))?;
    let signed = Signed::from_leaf(&leaf).map_err(|e| never(e.to_string()))?;
    if signed.id() != id {
        return Err(never("entry and report list disagree".into()));
    }
    let Ok(Body::Report(body)) = Body::parse(signed.statement()) else {
        return Err(never("not a report".into()));
    };
    let sealed = signed.statement().sealed.is_some();
    let (bundle, blob) = match node.open_sealed(&signed) {
        None if sealed => return Ok(None),
        None => (body.bundle.clone(), body.blob.clone()),
        Some(opened) => {
            let v = opened.map_err(|e| never(format!("cannot open: {e}")))?;
            let c: ReportContent =
                serde_json::from_value(v).map_err(|e| never(format!("sealed content: {e}")))?;
            c.check(body.tlp).map_err(|e| never(e.to_string()))?;
            (c.bundle, c.blob)
        }
    };
    let bundle = match (bundle, blob) {
        (Some(b), _) => b,
        (None, Some(blob)) => fetch_blob(node, &blob, sealed).await?,
        (None, None) => return Err(never("no bundle".into())),
    };
    Ok(Some(Loaded {
        signed,
        tlp: body.tlp,
        bundle,
    }))
}

/// Fetches a report's blob from the host and checks it against the hash the signed
/// statement names; a sealed report's blob is sealed to the same addressees.
async fn fetch_blob(node: &Node, blob: &BlobRef, sealed: bool) -> Result<Value, Unread> {
    let path = format!("/v1/blobs/{}", blob.sha256.to_hex());
    let bytes = match node.client.get(&path).await {
        Ok(Some(b)) => b,
        Ok(None) => return Err(Unread::Never(format!("the host has no blob {path}"))),
        Err(e) => return Err(Unread::Later(e.to_string())),
    };
    if Digest::of(&bytes) != blob.sha256 || bytes.len() as u64 != blob.size {
        return Err(Unread::Never(format!(
            "the host's blob {path} does not match the statement"
        )));
    }
    let bundle: Value = if sealed {
        let text = std::str::from_utf8(&bytes).map_err(|_| Unread::Never("sealed blob".into()))?;
        unseal(text, &node.keys.identity).map_err(|e| Unread::Never(e.to_string()))?
    } else {
        serde_json::from_slice(&bytes).map_err(|e| Unread::Never(e.to_string()))?
    };
    if bundle["type"] != "bundle" || !bundle["objects"].is_array() {
        return Err(Unread::Never("the blob is not a STIX bundle".into()));
    }
    Ok(bundle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn taxii_timestamps_have_microseconds() {
        assert_eq!(format_micros(0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(
            format_micros(1_700_000_000_123_456),
            "2023-11-14T22:13:20.123456Z"
        );
        let t = Timestamp::parse("2023-11-14T22:13:20.123456Z").unwrap();
        assert_eq!(micros(&t), 1_700_000_000_123_456);
    }
}
