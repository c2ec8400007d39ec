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
use statement::kind::{Body, ReportContent};
use statement::{Signed, StatementId, Timestamp, Tlp};
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
    /// Brings the index up to the node's verified log.
    pub fn refresh(&mut self, node: &Node) -> Result<(), NodeError> {
        let size = node.verified()?.map_or(0, |v| v.size);
        if size == self.size {
            return Ok(());
        }
        self.refresh_times(node)?;
        let reports = node.group().reports();
        for r in reports.get(self.reports_done..).unwrap_or_default() {
            let at = self.time_of(r.said.index);
            self.last_micros = at.max(self.last_micros.saturating_add(1));
            if let Err(e) = self.add_report(node, r.said.index, r.said.id) {
                tracing::warn!(index = r.said.index, error = %e, "TAXII: report skipped");
            }
        }
        self.reports_done = reports.len();
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

    fn add_report(&mut self, node: &Node, index: u64, id: StatementId) -> Result<(), String> {
        let leaf = node
            .replica
            .leaf(index)
            .map_err(|e| e.to_string())?
            .ok_or("entry missing")?;
        let s = Signed::from_leaf(&leaf).map_err(|e| e.to_string())?;
        if s.id() != id {
            return Err("entry and report list disagree".into());
        }
        let Ok(Body::Report(body)) = Body::parse(s.statement()) else {
            return Err("not a report".into());
        };
        let bundle = match node.open_sealed(&s) {
            None if s.statement().sealed.is_some() => return Ok(()), // not for us
            None => body.bundle.clone(),
            Some(opened) => {
                let v = opened.map_err(|e| format!("cannot open: {e}"))?;
                let c: ReportContent =
                    serde_json::from_value(v).map_err(|e| format!("sealed content: {e}"))?;
                c.check(body.tlp).map_err(|e| e.to_string())?;
                c.bundle
            }
        };
        let Some(bundle) = bundle else {
            return Err("the bundle is in a blob, not fetched".into());
        };
        let objects = bundle["objects"].as_array().cloned().unwrap_or_default();
        let provenance = json!({
            "extension_type": "property-extension",
            "author": s.statement().author.as_str(),
            "statement": id.to_hex(),
            "log_index": index,
            "tlp": body.tlp.label(),
            "sealed": s.statement().sealed.is_some(),
        });
        for (pos, object) in (0u32..).zip(objects) {
            if let Some(r) = self.record(index, pos, &s, body.tlp, object, &provenance) {
                self.records.push(r);
            }
        }
        Ok(())
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
