//! `detente bench verify`: how fast a member's node syncs and verifies a long log.
//!
//! A host is started in this process on 127.0.0.1 and filled with N statements from M
//! members (signed on every core, submitted in batches). Then a fresh node is set up and
//! `detente sync` runs in a child process, so that its memory is its own: it fetches every
//! entry bundle, hashes the tree, checks every signature and every rule. Then
//! `detente verify` re-derives the whole log from the replica. Measured: statements per
//! second of each, beside the raw Ed25519 rate of one core taken in the same run on the
//! same statements, and each child's peak resident memory (VmHWM).

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail, ensure};
use host::{Host, HostConfig};
use node::{MemberKeys, Node};
use serde::Serialize;
use statement::Signed;
use statement::build::{Author, Draft};

use super::{
    BASELINE_SAMPLE, Conn, Founded, ORIGIN, Sample, batch_body, found_group, generate_members,
    post_request, print_baseline, run_bench, verify_rate,
};
use crate::cli::BenchVerifyArgs;

/// Statements per request while filling the log (the host's default limit).
const PER_REQUEST: usize = 4096;

/// One child process's figures.
#[derive(Debug, Serialize)]
struct Run {
    command: &'static str,
    statements: u64,
    seconds: f64,
    statements_per_second: f64,
    ratio_to_baseline: f64,
    peak_memory_mb: f64,
}

#[derive(Debug, Serialize)]
struct Report {
    cpus: usize,
    members: usize,
    statements: u64,
    fill_seconds: f64,
    baseline_verify_per_second: f64,
    baseline_passes: Vec<f64>,
    runs: Vec<Run>,
}

pub async fn bench_verify(a: BenchVerifyArgs) -> anyhow::Result<()> {
    let (dir, json) = (a.dir.clone(), a.json);
    run_bench(
        "verify",
        dir.as_ref(),
        json,
        |d| async move { measure(&a, &d).await },
        print_report,
    )
    .await
}

async fn measure(a: &BenchVerifyArgs, dir: &Path) -> anyhow::Result<Report> {
    let say = |s: &str| {
        if !a.json {
            eprintln!("{s}");
        }
    };
    let host_dir = dir.join("host");
    let members = generate_members(a.members as usize)?;
    let Founded {
        chair,
        genesis,
        genesis_path,
        setup,
    } = found_group(dir, &host_dir, &members, None)?;
    let mut config = HostConfig::new(&host_dir);
    config.listen = "127.0.0.1:0".parse()?;
    config.genesis = Some(genesis_path);
    config.limits.statements_per_member_per_second = 10_000_000;
    config.limits.statements_per_member_burst = 10_000_000;
    let host = Host::start(config).await?;
    let addr = host.addr;
    say(&format!(
        "Host on http://{addr}; filling the log with {} statements from {} members …",
        a.statements, a.members
    ));
    let started = Instant::now();
    let sample = fill(addr, &members, &setup, a.statements, &say).await?;
    let fill_seconds = started.elapsed().as_secs_f64();
    let total = 1 + setup.len() as u64 + a.statements;

    say("Measuring raw Ed25519 verification on one core …");
    let mut baseline_passes = vec![verify_rate(&sample)?];
    let node_dir = dir.join("node");
    let keys = MemberKeys::from_file_text(&chair.to_file_text()?)?;
    drop(Node::init(
        &node_dir,
        &format!("http://{addr}"),
        genesis.leaf(),
        keys,
    )?);
    say("A fresh node syncs and verifies the whole log (child process) …");
    let data = node_dir.display().to_string();
    let sync = child("sync", &["sync", "--json", "--data", &data], total).await?;
    say("The node re-derives everything from its replica (`detente verify`) …");
    let audit = child("verify", &["verify", "--json", "--data", &data], total).await?;
    baseline_passes.push(verify_rate(&sample)?);
    host.stop().await;
    let baseline = baseline_passes.iter().copied().fold(0.0, f64::max);
    let runs = [sync, audit]
        .into_iter()
        .map(|mut r| {
            r.ratio_to_baseline = r.statements_per_second / baseline;
            r
        })
        .collect();
    Ok(Report {
        cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
        members: a.members as usize,
        statements: total,
        fill_seconds,
        baseline_verify_per_second: baseline,
        baseline_passes,
        runs,
    })
}

/// Submits the setup, then `n` statements in rounds: each round every member signs a
/// batch (on every core) and all batches are submitted at once. Returns a baseline sample.
async fn fill(
    addr: std::net::SocketAddr,
    members: &[MemberKeys],
    setup: &[Signed],
    n: u64,
    say: &impl Fn(&str),
) -> anyhow::Result<Vec<Sample>> {
    let mut conns = Vec::with_capacity(members.len());
    for _ in members {
        conns.push(Conn::open(addr).await?);
    }
    for chunk in setup.chunks(PER_REQUEST) {
        submit(&mut conns[0], chunk).await?;
    }
    let mut authors: Vec<Author> = members
        .iter()
        .map(|m| Author::new(ORIGIN, m.member.clone(), m.signing.clone()))
        .collect();
    let mut sample: Vec<Sample> = Vec::new();
    let mut left = n;
    let mut round = 0u64;
    while left > 0 {
        let each = (left.div_ceil(members.len() as u64) as usize).min(PER_REQUEST);
        let batches = sign_round(&mut authors, members, each, left, round)?;
        for b in &batches {
            if sample.len() < BASELINE_SAMPLE {
                sample.extend(
                    b.iter()
                        .take(64)
                        .map(|s| {
                            let key = s.statement().author.clone();
                            let k = members
                                .iter()
                                .find(|m| m.member == key)
                                .map(|m| m.signing.verifying_key());
                            (k, s)
                        })
                        .filter_map(|(k, s)| {
                            Some((k?, s.signed_message().to_vec(), *s.signature()))
                        }),
                );
            }
            left -= b.len() as u64;
        }
        let tasks: Vec<_> = conns
            .drain(..)
            .zip(batches)
            .map(|(mut c, b)| {
                tokio::spawn(async move {
                    submit(&mut c, &b).await?;
                    anyhow::Ok(c)
                })
            })
            .collect();
        for t in tasks {
            conns.push(t.await??);
        }
        while conns.len() < members.len() {
            conns.push(Conn::open(addr).await?);
        }
        round += 1;
        say(&format!("  {} of {n} statements in the log", n - left));
    }
    Ok(sample)
}

/// Every member signs up to `each` statements (no more than `left` in all), on every core.
fn sign_round(
    authors: &mut [Author],
    members: &[MemberKeys],
    each: usize,
    left: u64,
    round: u64,
) -> anyhow::Result<Vec<Vec<Signed>>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per = authors.len().div_ceil(threads);
    let quota: Vec<usize> = (0..authors.len())
        .map(|i| {
            let before = (i * each) as u64;
            left.saturating_sub(before).min(each as u64) as usize
        })
        .collect();
    let now = node::now();
    std::thread::scope(|s| {
        let handles: Vec<_> = authors
            .chunks_mut(per)
            .zip(quota.chunks(per))
            .zip(members.chunks(per))
            .map(|((authors, quota), members)| {
                let now = &now;
                s.spawn(move || {
                    let mut out = Vec::with_capacity(authors.len());
                    for ((author, q), m) in authors.iter_mut().zip(quota).zip(members) {
                        let batch = (0..*q)
                            .map(|i| {
                                let text = format!(
                                    "Round {round}, note {i} from {}: sensor sweep found the \
                                     beacon pattern again; hashes in the shared report.",
                                    m.member
                                );
                                author.sign(Draft::thread("Bench: sensor sweep", &text), now)
                            })
                            .collect::<Result<Vec<_>, _>>()?;
                        out.push(batch);
                    }
                    anyhow::Ok(out)
                })
            })
            .collect();
        let mut all = Vec::new();
        for h in handles {
            let part = h
                .join()
                .unwrap_or_else(|_| Err(anyhow::anyhow!("a signing thread panicked")))?;
            all.extend(part);
        }
        Ok(all.into_iter().filter(|b| !b.is_empty()).collect())
    })
}

/// Submits one batch and requires every statement in it to be sequenced.
async fn submit(conn: &mut Conn, batch: &[Signed]) -> anyhow::Result<()> {
    let text = conn
        .submit(&post_request(&batch_body(batch.iter().map(Signed::leaf))))
        .await?;
    ensure!(
        text.matches("\"status\":200").count() == batch.len(),
        "the host refused part of a batch: {}",
        text.chars().take(300).collect::<String>()
    );
    Ok(())
}

/// Runs this binary with `args` as a child, timing it and sampling its peak memory.
async fn child(command: &'static str, args: &[&str], statements: u64) -> anyhow::Result<Run> {
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    tokio::task::spawn_blocking(move || run_child(command, &args, statements))
        .await
        .context("the child's watcher stopped")?
}

fn run_child(command: &'static str, args: &[String], statements: u64) -> anyhow::Result<Run> {
    let exe = std::env::current_exe().context("cannot find this program")?;
    let started = Instant::now();
    let mut process = std::process::Command::new(exe)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot start `detente {command}`"))?;
    let status_path = format!("/proc/{}/status", process.id());
    let mut peak_kb = 0u64;
    while process.try_wait()?.is_none() {
        if let Some(kb) = vm_hwm_kb(&status_path) {
            peak_kb = peak_kb.max(kb);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let seconds = started.elapsed().as_secs_f64();
    let output = process.wait_with_output()?;
    let out = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!(
            "`detente {command}` failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    if std::env::var_os("DETENTE_LOG").is_some() {
        // The child's own log (its phases), asked for with DETENTE_LOG.
        eprint!("{}", String::from_utf8_lossy(&output.stderr));
    }
    let value: serde_json::Value = serde_json::from_str(&out)
        .with_context(|| format!("`detente {command}` printed no JSON: {out}"))?;
    let size = value["to"].as_u64().or(value["size"].as_u64());
    ensure!(
        size == Some(statements),
        "`detente {command}` reached {size:?}, expected {statements}: {out}"
    );
    Ok(Run {
        command,
        statements,
        seconds,
        statements_per_second: statements as f64 / seconds,
        ratio_to_baseline: 0.0,
        peak_memory_mb: peak_kb as f64 / 1024.0,
    })
}

/// The peak resident set (`VmHWM`, KiB) of a running process, from `/proc`.
fn vm_hwm_kb(path: &str) -> Option<u64> {
    let text = std::fs::read_to_string(path).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn print_report(r: &Report) {
    println!(
        "Détente node benchmark: {} CPUs, a log of {} statements from {} members (filled in {:.1} s)",
        r.cpus, r.statements, r.members, r.fill_seconds
    );
    print_baseline(r.baseline_verify_per_second, &r.baseline_passes);
    for run in &r.runs {
        println!(
            "  detente {:<7} {:>8} in {:>6.2} s  {:>9.0} statements/s = {:.2} × baseline   peak memory {:.0} MB",
            run.command,
            run.statements,
            run.seconds,
            run.statements_per_second,
            run.ratio_to_baseline,
            run.peak_memory_mb
        );
    }
}
