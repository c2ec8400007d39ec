//! Counters exposed at `GET /metrics` in the Prometheus text format (0.0.4).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds (seconds) of the sequencing-latency histogram buckets.
const LATENCY_BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0];
/// Upper bounds of the batch-size histogram buckets.
const BATCH_BUCKETS: [f64; 8] = [1.0, 4.0, 16.0, 64.0, 256.0, 1024.0, 4096.0, 16384.0];

/// A histogram with fixed buckets.
#[derive(Debug, Default)]
struct Histogram {
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

impl Histogram {
    fn observe(&mut self, bounds: &[f64], v: f64) {
        if self.counts.len() != bounds.len() {
            self.counts = vec![0; bounds.len()];
        }
        for (c, b) in self.counts.iter_mut().zip(bounds) {
            if v <= *b {
                *c += 1;
            }
        }
        self.sum += v;
        self.count += 1;
    }

    fn render(&self, out: &mut String, name: &str, bounds: &[f64]) {
        let _ = writeln!(out, "# TYPE {name} histogram");
        for (i, b) in bounds.iter().enumerate() {
            let c = self.counts.get(i).copied().unwrap_or(0);
            let _ = writeln!(out, "{name}_bucket{{le=\"{b}\"}} {c}");
        }
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {}", self.count);
        let _ = writeln!(out, "{name}_sum {}", self.sum);
        let _ = writeln!(out, "{name}_count {}", self.count);
    }
}

/// The host's metrics.
#[derive(Debug, Default)]
pub struct Metrics {
    admitted: AtomicU64,
    tree_size: AtomicU64,
    leader: AtomicU64,
    refused: Mutex<BTreeMap<&'static str, u64>>,
    http_errors: Mutex<BTreeMap<u16, u64>>,
    batches: Mutex<(Histogram, Histogram)>,
    faults: Mutex<BTreeMap<&'static str, u64>>,
}

fn bump<K: Ord>(map: &Mutex<BTreeMap<K, u64>>, key: K) {
    let mut m = map
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    *m.entry(key).or_insert(0) += 1;
}

impl Metrics {
    /// Counts an admitted statement.
    pub fn admitted(&self) {
        self.admitted.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a refusal by its reason code.
    pub fn refused(&self, code: &'static str) {
        bump(&self.refused, code);
    }

    /// Counts an HTTP error answer by status.
    pub fn http_error(&self, status: u16) {
        bump(&self.http_errors, status);
    }

    /// Counts a storage or sequencing fault by kind.
    pub fn fault(&self, kind: &'static str) {
        bump(&self.faults, kind);
    }

    /// Records a sequenced batch.
    pub fn batch(&self, entries: usize, latency: Duration, tree_size: u64) {
        let mut b = self
            .batches
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        b.0.observe(&BATCH_BUCKETS, entries as f64);
        b.1.observe(&LATENCY_BUCKETS, latency.as_secs_f64());
        self.tree_size.store(tree_size, Ordering::Relaxed);
    }

    /// Sets the tree size (at start).
    pub fn set_tree_size(&self, size: u64) {
        self.tree_size.store(size, Ordering::Relaxed);
    }

    /// Sets whether this host sequences (holds the lease).
    pub fn set_leader(&self, leader: bool) {
        self.leader.store(u64::from(leader), Ordering::Relaxed);
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# TYPE detente_admitted_total counter");
        let _ = writeln!(
            out,
            "detente_admitted_total {}",
            self.admitted.load(Ordering::Relaxed)
        );
        let _ = writeln!(out, "# TYPE detente_tree_size gauge");
        let _ = writeln!(
            out,
            "detente_tree_size {}",
            self.tree_size.load(Ordering::Relaxed)
        );
        let _ = writeln!(out, "# TYPE detente_leader gauge");
        let _ = writeln!(
            out,
            "detente_leader {}",
            self.leader.load(Ordering::Relaxed)
        );
        render_labelled(&mut out, "detente_refused_total", "reason", &self.refused);
        render_labelled(
            &mut out,
            "detente_http_errors_total",
            "status",
            &self.http_errors,
        );
        render_labelled(&mut out, "detente_faults_total", "kind", &self.faults);
        let b = self
            .batches
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        b.0.render(&mut out, "detente_batch_entries", &BATCH_BUCKETS);
        b.1.render(&mut out, "detente_sequencing_seconds", &LATENCY_BUCKETS);
        out
    }
}

fn render_labelled<K: std::fmt::Display>(
    out: &mut String,
    name: &str,
    label: &str,
    map: &Mutex<BTreeMap<K, u64>>,
) {
    let _ = writeln!(out, "# TYPE {name} counter");
    let m = map
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    for (k, v) in m.iter() {
        let _ = writeln!(out, "{name}{{{label}=\"{k}\"}} {v}");
    }
}
