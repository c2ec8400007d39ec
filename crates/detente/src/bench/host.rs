//! `detente bench host`: how fast a host durably sequences statements on this machine.
//!
//! A host is started in this process on 127.0.0.1 (its own tiles and SQLite under a
//! temporary directory, every write fsynced as in production) for a group with one member
//! per client, so that per-member rate limits never bind. Every statement is signed before
//! the clock starts: signing is the clients' cost, not the host's. Then C clients, on a
//! runtime of their own, each submit their member's statements one request at a time and
//! wait for the answer — which the host gives only once the statement is durable in the
//! log and covered by a published checkpoint. Measured: statements per second and
//! submit-to-answer latency per request, for single statements (`--clients`, 256 by
//! default) and for batches (the first `--batch-clients` members, 32 by default, 64
//! statements a request). The loop is closed — a client sends its next request only once
//! answered — so clients × statements per request are in flight and latency is about
//! that over the rate: 32 × 64 keeps the host busy, 256 × 64 would only measure queueing.
//!
//! The baseline, taken in the same run on the same statements, is the raw Ed25519 rate of
//! one core (`verify_strict` over each statement's signed bytes): checking signatures is
//! the work the host cannot skip, so the ratio to it says how much the server adds. Where
//! the time goes is shown from the kernel's per-thread CPU accounting (host runtime,
//! signature threads, sequencer, clients) and from the host's own metrics (batches,
//! sequencing time).
//!
//! With `--state postgres://… [--tiles s3://…]` the same measurement runs a second time,
//! in the same process, on the scale-out backend, so the two rows compare directly.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context as _, ensure};
use host::config::TilesUrl;
use host::{Host, HostConfig};

use super::host_report::{cpu_by_role, print_report};
use node::MemberKeys;
use serde::Serialize;
use statement::Signed;
use statement::build::{Author, Draft};

use super::{
    BASELINE_SAMPLE, Conn, Founded, ORIGIN, Sample, batch_body, batch_verify_rate, bench_dir,
    found_group, generate_members, metric, percentile, post_request, scrape, verify_rate,
};
use crate::cli::BenchHostArgs;

/// Most statements the setup sends per request (the host's default limit).
const SETUP_CHUNK: usize = 4096;

/// One member's pre-signed work: each request of each phase, ready to write.
struct Work {
    warmup: Vec<u8>,
    singles: Vec<Vec<u8>>,
    batches: Vec<Vec<u8>>,
}

/// What one measured phase found.
#[derive(Debug, Serialize)]
pub(super) struct Phase {
    pub(super) mode: &'static str,
    /// Concurrent clients, each with one request in flight.
    pub(super) clients: usize,
    pub(super) statements_per_request: usize,
    pub(super) requests: usize,
    pub(super) statements: usize,
    pub(super) seconds: f64,
    pub(super) statements_per_second: f64,
    pub(super) ratio_to_baseline: f64,
    pub(super) latency_ms_p50: f64,
    pub(super) latency_ms_p99: f64,
    pub(super) latency_ms_max: f64,
    pub(super) host_batches: u64,
    pub(super) host_mean_batch: f64,
    pub(super) host_mean_sequencing_ms: f64,
    pub(super) cpu_seconds: BTreeMap<&'static str, f64>,
}

#[derive(Debug, Serialize)]
pub(super) struct Report {
    /// Where the host kept its state and tiles.
    pub(super) backend: String,
    pub(super) cpus: usize,
    pub(super) clients: usize,
    pub(super) batch_interval_ms: u64,
    pub(super) baseline_verify_per_second: f64,
    pub(super) baseline_passes: Vec<f64>,
    /// The statements' rule on one core in batches of 64 by one or two authors, for scale.
    pub(super) batch_verify_per_second: f64,
    pub(super) presign_seconds: f64,
    pub(super) phases: Vec<Phase>,
    pub(super) tree_size: u64,
    pub(super) dir: Option<PathBuf>,
}

/// Where one measurement keeps the host's state and tiles.
struct Backend {
    /// For the report.
    label: String,
    state: Option<host::StateUrl>,
    tiles: Option<TilesUrl>,
}

/// The embedded backend, then the scale-out one if the arguments name it.
fn backends(a: &BenchHostArgs) -> Vec<Backend> {
    let mut out = vec![Backend {
        label: "embedded (SQLite + directory)".into(),
        state: None,
        tiles: None,
    }];
    if let Some(state) = &a.state {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let tiles = a.tiles.as_ref().map(|t| match t {
            TilesUrl::S3(url) => {
                TilesUrl::S3(format!("{}/bench-{nanos}", url.trim_end_matches('/')))
            }
            dir => dir.clone(),
        });
        let label = match &tiles {
            Some(TilesUrl::S3(_)) => "PostgreSQL + S3",
            _ => "PostgreSQL + directory",
        };
        out.push(Backend {
            label: label.into(),
            state: Some(state.clone()),
            tiles,
        });
    }
    out
}

pub async fn bench_host(a: BenchHostArgs) -> anyhow::Result<()> {
    if cfg!(debug_assertions) && !a.json {
        eprintln!(
            "warning: this is a debug build; measure with `cargo run --release -p detente -- bench host`"
        );
    }
    let clients = a.clients as usize;
    let per_request = a.batch as usize;
    let mut reports = Vec::new();
    for backend in backends(&a) {
        if !a.json {
            eprintln!("== {}", backend.label);
        }
        let (dir, keep) = bench_dir(
            a.dir
                .as_ref()
                .map(|d| d.join(reports.len().to_string()))
                .as_ref(),
        )?;
        let result = measure(&a, &dir, clients, per_request, &backend).await;
        if !keep {
            let _ = std::fs::remove_dir_all(&dir);
        }
        let mut report =
            result.with_context(|| format!("measuring the {} backend", backend.label))?;
        report.dir = keep.then_some(dir);
        reports.push(report);
    }
    if a.json {
        println!("{}", serde_json::to_string_pretty(&reports)?);
    } else {
        for r in &reports {
            print_report(r);
        }
    }
    Ok(())
}

async fn measure(
    a: &BenchHostArgs,
    dir: &Path,
    clients: usize,
    per_request: usize,
    backend: &Backend,
) -> anyhow::Result<Report> {
    let say = |s: &str| {
        if !a.json {
            eprintln!("{s}");
        }
    };
    let host_dir = dir.join("host");
    let members = generate_members(clients)?;
    let Founded {
        genesis_path,
        setup,
        ..
    } = found_group(dir, &host_dir, &members, None)?;

    let batch_clients = (a.batch_clients as usize).min(clients);
    let singles_each = (a.statements as usize).div_ceil(clients);
    let batches_each = (a.statements as usize).div_ceil(batch_clients * per_request);
    let to_sign = clients * (1 + singles_each) + batch_clients * batches_each * per_request;
    say(&format!(
        "Signing {to_sign} statements for {clients} members …"
    ));
    let started = Instant::now();
    let (work, sample) = presign(
        &members,
        singles_each,
        (batch_clients, batches_each),
        per_request,
    )?;
    let presign_seconds = started.elapsed().as_secs_f64();

    say("Measuring raw Ed25519 verification on one core …");
    let mut baseline_passes = vec![verify_rate(&sample)?];
    let batch_verify_per_second = batch_verify_rate(&sample)?;

    let mut config = HostConfig::new(&host_dir);
    config.listen = "127.0.0.1:0".parse()?;
    config.genesis = Some(genesis_path);
    config.batch.interval_ms = a.batch_interval_ms;
    config.state = backend.state.clone();
    config.tiles = backend.tiles.clone();
    config.limits.statements_per_member_per_second = 10_000_000;
    config.limits.statements_per_member_burst = 10_000_000;
    let host = Host::start(config).await?;
    let addr = host.addr;
    say(&format!("Host on http://{addr}; founding the group …"));
    let mut conn = Conn::open(addr).await?;
    for chunk in setup.chunks(SETUP_CHUNK) {
        let request = post_request(&batch_body(chunk.iter().map(Signed::leaf)));
        let text = conn.submit(&request).await?;
        ensure!(
            text.matches("\"status\":200").count() == chunk.len(),
            "the host refused part of the setup: {}",
            text.chars().take(500).collect::<String>()
        );
    }

    let json = a.json;
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("bench-driver".into())
        .spawn(move || {
            let _ = tx.send(drive(addr, work, per_request, json));
        })?;
    let phases = rx.await.context("the bench driver stopped")??;

    baseline_passes.push(verify_rate(&sample)?);
    let tree_size = metric(&scrape(addr).await?, "detente_tree_size") as u64;
    host.stop().await;
    let expected = 1 + setup.len() + to_sign;
    ensure!(
        tree_size == expected as u64,
        "the log holds {tree_size} entries, expected {expected}"
    );
    let baseline = baseline_passes.iter().copied().fold(0.0, f64::max);
    let phases = phases
        .into_iter()
        .map(|mut p| {
            p.ratio_to_baseline = p.statements_per_second / baseline;
            p
        })
        .collect();
    Ok(Report {
        backend: backend.label.clone(),
        cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
        clients,
        batch_interval_ms: a.batch_interval_ms,
        baseline_verify_per_second: baseline,
        baseline_passes,
        batch_verify_per_second,
        presign_seconds,
        phases,
        tree_size,
        dir: None,
    })
}

/// Signs every member's statements, on every core, and builds the request bodies.
fn presign(
    members: &[MemberKeys],
    singles_each: usize,
    (batch_clients, batches_each): (usize, usize),
    per_request: usize,
) -> anyhow::Result<(Vec<Work>, Vec<Sample>)> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = members.len().div_ceil(threads);
    let sample_each = BASELINE_SAMPLE.div_ceil(members.len());
    let parts: Vec<anyhow::Result<(Vec<Work>, Vec<Sample>)>> = std::thread::scope(|s| {
        let handles: Vec<_> = members
            .chunks(chunk)
            .enumerate()
            .map(|(c, ms)| {
                s.spawn(move || {
                    let mut work = Vec::with_capacity(ms.len());
                    let mut sample = Vec::new();
                    for (i, m) in ms.iter().enumerate() {
                        // Only the first `batch_clients` members send batches.
                        let batches = match c * chunk + i < batch_clients {
                            true => batches_each,
                            false => 0,
                        };
                        let (w, smp) =
                            sign_member(m, singles_each, batches, per_request, sample_each)?;
                        work.push(w);
                        sample.extend(smp);
                    }
                    Ok((work, sample))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("a signing thread panicked")))
            })
            .collect()
    });
    let mut work = Vec::with_capacity(members.len());
    let mut sample = Vec::new();
    for p in parts {
        let (w, s) = p?;
        work.extend(w);
        sample.extend(s);
    }
    Ok((work, sample))
}

fn sign_member(
    m: &MemberKeys,
    singles_each: usize,
    batches_each: usize,
    per_request: usize,
    sample_each: usize,
) -> anyhow::Result<(Work, Vec<Sample>)> {
    let mut author = Author::new(ORIGIN, m.member.clone(), m.signing.clone());
    let key = m.signing.verifying_key();
    let mut sample = Vec::new();
    let mut n = 0usize;
    let mut next = |author: &mut Author| -> anyhow::Result<Signed> {
        n += 1;
        let text = format!(
            "Statement {n} of {}: indicators seen at our perimeter overnight; \
             the loader matches last week's campaign, details in the shared report.",
            m.member
        );
        let s = author.sign(
            Draft::thread("Bench: perimeter indicators", &text),
            &node::now(),
        )?;
        if sample.len() < sample_each {
            sample.push((key, s.signed_message().to_vec(), *s.signature()));
        }
        Ok(s)
    };
    let warmup = post_request(next(&mut author)?.leaf());
    let singles = (0..singles_each)
        .map(|_| Ok(post_request(next(&mut author)?.leaf())))
        .collect::<anyhow::Result<_>>()?;
    let mut batches = Vec::with_capacity(batches_each);
    for _ in 0..batches_each {
        let statements = (0..per_request)
            .map(|_| next(&mut author))
            .collect::<anyhow::Result<Vec<_>>>()?;
        batches.push(post_request(&batch_body(
            statements.iter().map(Signed::leaf),
        )));
    }
    Ok((
        Work {
            warmup,
            singles,
            batches,
        },
        sample,
    ))
}

/// Runs the clients on a runtime of their own (threads named `bench-client`, so that
/// their CPU time is told apart from the host's): a warm-up round, then each phase.
fn drive(
    addr: SocketAddr,
    work: Vec<Work>,
    per_request: usize,
    quiet: bool,
) -> anyhow::Result<Vec<Phase>> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .thread_name("bench-client")
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let (mut warmup, mut singles, mut batches) = (Vec::new(), Vec::new(), Vec::new());
        for w in work {
            warmup.push((Conn::open(addr).await?, vec![w.warmup]));
            singles.push(w.singles);
            batches.push(w.batches);
        }
        // One request per client first: connections open, every member's key known.
        let (conns, _) = run_phase(addr, warmup, "warm-up", 1).await?;
        let say = |s: &str| {
            if !quiet {
                eprintln!("{s}");
            }
        };
        say("Single statements …");
        let (conns, one) =
            run_phase(addr, conns.into_iter().zip(singles).collect(), "single", 1).await?;
        say("Batches …");
        let (_, many) = run_phase(
            addr,
            conns
                .into_iter()
                .zip(batches)
                .filter(|(_, b)| !b.is_empty())
                .collect(),
            "batch",
            per_request,
        )
        .await?;
        Ok(vec![one, many])
    })
}

/// Every client sends its requests one after the other on its connection; returns the
/// connections and the phase's figures.
async fn run_phase(
    addr: SocketAddr,
    work: Vec<(Conn, Vec<Vec<u8>>)>,
    mode: &'static str,
    per_request: usize,
) -> anyhow::Result<(Vec<Conn>, Phase)> {
    let clients = work.len();
    let cpu_before = cpu_by_role();
    let metrics_before = scrape(addr).await?;
    let started = Instant::now();
    let tasks: Vec<_> = work
        .into_iter()
        .map(|(mut conn, requests)| {
            tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(requests.len());
                for r in requests {
                    let t = Instant::now();
                    let text = conn.submit(&r).await?;
                    latencies.push(t.elapsed());
                    if per_request > 1 {
                        ensure!(
                            text.matches("\"status\":200").count() == per_request,
                            "part of a batch was refused: {}",
                            text.chars().take(300).collect::<String>()
                        );
                    }
                }
                anyhow::Ok((conn, latencies))
            })
        })
        .collect();
    let mut conns = Vec::with_capacity(tasks.len());
    let mut latencies = Vec::new();
    for t in tasks {
        let (conn, l) = t.await??;
        conns.push(conn);
        latencies.extend(l);
    }
    let seconds = started.elapsed().as_secs_f64();
    let cpu_after = cpu_by_role();
    let metrics_after = scrape(addr).await?;
    latencies.sort();
    let ms = |q: f64| percentile(&latencies, q).as_secs_f64() * 1e3;
    let requests = latencies.len();
    let statements = requests * per_request;
    let d = |name: &str| metric(&metrics_after, name) - metric(&metrics_before, name);
    let host_batches = d("detente_batch_entries_count");
    let phase = Phase {
        mode,
        clients,
        statements_per_request: per_request,
        requests,
        statements,
        seconds,
        statements_per_second: statements as f64 / seconds,
        ratio_to_baseline: 0.0,
        latency_ms_p50: ms(0.5),
        latency_ms_p99: ms(0.99),
        latency_ms_max: ms(1.0),
        host_batches: host_batches as u64,
        host_mean_batch: d("detente_batch_entries_sum") / host_batches.max(1.0),
        host_mean_sequencing_ms: d("detente_sequencing_seconds_sum") * 1e3 / host_batches.max(1.0),
        cpu_seconds: cpu_after
            .iter()
            .map(|(k, v)| (*k, v - cpu_before.get(k).copied().unwrap_or(0.0)))
            .collect(),
    };
    Ok((conns, phase))
}
