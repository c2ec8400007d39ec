//! `detente bench host`'s report: CPU by role from the kernel's accounting, and the text
//! table.

use std::collections::BTreeMap;

use super::host::Report;
use super::print_baseline;

/// CPU seconds so far of this process' threads, by role (Linux: from
/// `/proc/self/task/*/schedstat`; empty elsewhere). A thread that exited is not counted.
pub(super) fn cpu_by_role() -> BTreeMap<&'static str, f64> {
    let mut out = BTreeMap::new();
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return out;
    };
    for t in tasks.flatten() {
        let p = t.path();
        let (Ok(comm), Ok(sched)) = (
            std::fs::read_to_string(p.join("comm")),
            std::fs::read_to_string(p.join("schedstat")),
        ) else {
            continue;
        };
        let Some(ns) = sched
            .split_whitespace()
            .next()
            .and_then(|v| v.parse::<u64>().ok())
        else {
            continue;
        };
        let role = match comm.trim() {
            "sequencer" => "host sequencer",
            "signatures" => "host signature threads (parsing, signatures)",
            c if c.starts_with("tokio") => "host runtime (HTTP, proofs, answers)",
            c if c.starts_with("bench-client") => "clients",
            _ => "other",
        };
        *out.entry(role).or_insert(0.0) += ns as f64 / 1e9;
    }
    out
}

pub(super) fn print_report(r: &Report) {
    println!(
        "Détente host benchmark, {}: {} CPUs, {} members, host batch interval {} ms \
         (rows: clients × statements per request, each client waiting for its answer)",
        r.backend, r.cpus, r.clients, r.batch_interval_ms
    );
    print_baseline(r.baseline_verify_per_second, &r.baseline_passes);
    println!(
        "  for scale: the statements' rule on one core in batches of 64 by 1-2 authors  {:.0} /s",
        r.batch_verify_per_second
    );
    for p in &r.phases {
        let label = if p.statements_per_request == 1 {
            format!("{} × 1", p.clients)
        } else {
            format!("{} × {}", p.clients, p.statements_per_request)
        };
        println!(
            "  {label:<18} {:>7} in {:>5.2} s  {:>9.0} statements/s = {:.2} × baseline   \
             latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            p.statements,
            p.seconds,
            p.statements_per_second,
            p.ratio_to_baseline,
            p.latency_ms_p50,
            p.latency_ms_p99,
            p.latency_ms_max
        );
        let cpu: Vec<String> = p
            .cpu_seconds
            .iter()
            .map(|(k, v)| format!("{k} {v:.2} s"))
            .collect();
        println!(
            "  {:<18} host: {} batches of {:.0} on average, {:.1} ms each to make durable; CPU: {}",
            "",
            p.host_batches,
            p.host_mean_batch,
            p.host_mean_sequencing_ms,
            cpu.join(", ")
        );
    }
    println!(
        "  (signing beforehand took {:.1} s; log of {} entries{})",
        r.presign_seconds,
        r.tree_size,
        r.dir
            .as_ref()
            .map(|d| format!(" kept in {}", d.display()))
            .unwrap_or_default()
    );
}
