//! `detente bench witness`: what a witness costs.
//!
//! 1. **Cosignatures per second.** A witness (its SQLite state committed before every
//!    answer, as in production) is handed `add-checkpoint` requests directly: chains of
//!    checkpoints of trees of 10^7 entries and up, each with the consistency proof from the
//!    one before — first one log alone, one request after the other (every cosignature
//!    waits for its own fsync), then many logs at once, a thread each, whose requests share
//!    commits. Each tree has every leaf equal, so that any size's root and proofs are
//!    derived on the fly; its proofs have the same length and cost to verify as any other
//!    tree's of that size. The requests are signed by the logs before the clock starts
//!    (signing is the log's cost). Reported: the durable rate, and cosignatures per second
//!    of CPU (the process's user + system time, fsync's kernel work included). Baseline,
//!    same run: the raw Ed25519 verify rate of one core, per second of the CPU time of the
//!    thread that verifies (so that both sides of the ratio count CPU time: timed by the
//!    wall clock, the baseline fell whenever another process took the core, and the ratio
//!    rose with it).
//! 2. **Added latency of a sequencing round.** Two hosts on 127.0.0.1, one without
//!    witnesses and one whose group requires 2 cosignatures of 3 witnesses on loopback;
//!    one client submits single statements one after the other to each. The difference of
//!    the submit-to-answer latencies is what witnessing adds.

use std::convert::Infallible;
use std::path::Path;
use std::time::Instant;

use anyhow::ensure;
use host::{Host, HostConfig};
use serde::Serialize;
use statement::build::{Author, Draft};
use tlog::checkpoint::{Checkpoint, Origin};
use tlog::cosignature::{AddCheckpointRequest, Cosigner};
use tlog::merkle::NodeId;
use tlog::note::{KeyName, Signer};
use tlog::proof::{HashReader, prove_consistency, root_at};
use tlog::{Hash, leaf_hash, node_hash};
use witness::{Answer, Witness};

use super::{
    Conn, Founded, ORIGIN, Sample, found_group, generate_members, percentile, post_request,
    print_baseline, run_bench, verify_rate_cpu,
};
use crate::cli::BenchWitnessArgs;

/// Size of the tree the cosigning phase starts from.
const START_SIZE: u64 = 10_000_000;

#[derive(Debug, Serialize)]
struct Cosigning {
    logs: usize,
    requests: usize,
    seconds: f64,
    cosignatures_per_second: f64,
    cpu_seconds: f64,
    cpu_user_seconds: f64,
    cpu_system_seconds: f64,
    cosignatures_per_cpu_second: f64,
    ratio_to_baseline: f64,
    proof_hashes_mean: f64,
    tree_size_first: u64,
    tree_size_last: u64,
}

#[derive(Debug, Serialize)]
struct Latency {
    witnesses: usize,
    required: u32,
    statements: usize,
    latency_ms_p50: f64,
    latency_ms_p99: f64,
}

#[derive(Debug, Serialize)]
struct Report {
    baseline_verify_per_second: f64,
    baseline_passes: Vec<f64>,
    cosigning: Vec<Cosigning>,
    rounds: Vec<Latency>,
    added_latency_ms_p50: f64,
    added_latency_ms_p99: f64,
}

pub async fn bench_witness(a: BenchWitnessArgs) -> anyhow::Result<()> {
    let (dir, json) = (a.dir.clone(), a.json);
    run_bench(
        "witness",
        dir.as_ref(),
        json,
        |d| async move { measure(&a, &d).await },
        print_report,
    )
    .await
}

async fn measure(a: &BenchWitnessArgs, dir: &Path) -> anyhow::Result<Report> {
    let say = |s: &str| {
        if !a.json {
            eprintln!("{s}");
        }
    };
    say(&format!(
        "Preparing {} add-checkpoint requests from a tree of {START_SIZE} entries …",
        a.cosignatures
    ));
    let tree = SameLeaves::new();
    let logs = a.logs as usize;
    let per_log = (a.cosignatures as usize).div_ceil(logs);
    let mut single = Vec::new();
    let mut last = 0;
    let (one, _) = chain(0, per_log * logs, &tree)?;
    single.push(one);
    let mut chains = Vec::with_capacity(logs);
    for i in 1..=logs {
        let (c, l) = chain(i, per_log, &tree)?;
        last = last.max(l);
        chains.push(c);
    }
    let sample = checkpoint_sample();
    let mut baseline_passes = vec![verify_rate_cpu(&sample)?];
    say("A witness cosigns one log's checkpoints one after the other …");
    let sequential = cosign_all(&dir.join("witness-one"), &single)?;
    say(&format!(
        "A witness cosigns {logs} logs' checkpoints at once …"
    ));
    let cosigning = cosign_all(&dir.join("witness-many"), &chains)?;
    baseline_passes.push(verify_rate_cpu(&sample)?);
    say("Sequencing rounds without witnesses …");
    let plain = round_latency(
        &dir.join("plain"),
        0,
        a.rounds as usize,
        a.batch_interval_ms,
    )
    .await?;
    say("Sequencing rounds with 3 witnesses on loopback, 2 required …");
    let witnessed = round_latency(
        &dir.join("witnessed"),
        3,
        a.rounds as usize,
        a.batch_interval_ms,
    )
    .await?;
    let baseline = baseline_passes.iter().copied().fold(0.0, f64::max);
    Ok(Report {
        baseline_verify_per_second: baseline,
        baseline_passes,
        cosigning: [sequential, cosigning]
            .into_iter()
            .map(|c| Cosigning {
                ratio_to_baseline: c.cosignatures_per_cpu_second / baseline,
                tree_size_last: last,
                ..c
            })
            .collect(),
        added_latency_ms_p50: witnessed.latency_ms_p50 - plain.latency_ms_p50,
        added_latency_ms_p99: witnessed.latency_ms_p99 - plain.latency_ms_p99,
        rounds: vec![plain, witnessed],
    })
}

/// Node hashes of the tree whose leaves are all the same entry.
struct SameLeaves {
    level: Vec<Hash>,
}

impl SameLeaves {
    fn new() -> SameLeaves {
        let mut level = vec![leaf_hash(b"detente witness bench entry")];
        for l in 0..63 {
            level.push(node_hash(&level[l], &level[l]));
        }
        SameLeaves { level }
    }
}

impl HashReader for SameLeaves {
    type Error = Infallible;

    fn read_hashes(&self, ids: &[NodeId]) -> Result<Vec<Hash>, Infallible> {
        Ok(ids
            .iter()
            .map(|id| self.level[usize::from(id.level())])
            .collect())
    }
}

/// One log of the cosigning phase: its origin, key seed and `add-checkpoint` requests.
struct LogChain {
    origin: String,
    signer: Signer,
    requests: Vec<Vec<u8>>,
}

/// The origin of bench log `i`.
fn log_origin(i: usize) -> String {
    format!("{ORIGIN}-{i}")
}

/// Log `i`'s signed checkpoints from `START_SIZE` on, each as an `add-checkpoint` request
/// from the one before (the first from size 0); returns the last size too.
fn chain(i: usize, n: usize, tree: &SameLeaves) -> anyhow::Result<(LogChain, u64)> {
    let origin = log_origin(i);
    let signer = Signer::from_seed(KeyName::new(origin.clone())?, &[i as u8; 32]);
    let o = Origin::new(origin.clone())?;
    let mut requests = Vec::with_capacity(n + 1);
    let mut old = 0u64;
    let mut size = START_SIZE;
    for j in 0..=n {
        let note = Checkpoint::new(o.clone(), size, root_at(tree, size)?).sign(&[&signer])?;
        let proof = if old == 0 {
            Vec::new()
        } else {
            prove_consistency(tree, old, size)?
        };
        requests.push(AddCheckpointRequest::new(old, proof, note)?.to_bytes());
        old = size;
        // Vary the step so that proofs take every shape.
        size += 1 + ((i * 131 + j) as u64 * 7919) % 4096;
    }
    Ok((
        LogChain {
            origin,
            signer,
            requests,
        },
        old,
    ))
}

/// Ed25519 verifications of checkpoint-sized messages, for the baseline.
fn checkpoint_sample() -> Vec<Sample> {
    let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    (0..2000u32)
        .map(|i| {
            let message =
                format!("{ORIGIN}\n{}\nroot{i}\n", START_SIZE + u64::from(i)).into_bytes();
            let sig = ed25519_dalek::Signer::sign(&key, &message);
            (key.verifying_key(), message, sig)
        })
        .collect()
}

/// One witness cosigns every chain, each log on a thread of its own (so that requests for
/// different logs share commits); the first request of each log is not timed.
fn cosign_all(dir: &Path, chains: &[LogChain]) -> anyhow::Result<Cosigning> {
    std::fs::create_dir_all(dir)?;
    let cosigner = Cosigner::from_seed(KeyName::new("bench.detente.example/witness")?, &[9; 32]);
    let state = witness::WitnessState::open(&dir.join("witness.sqlite"))?;
    let logs: Vec<(String, String)> = chains
        .iter()
        .map(|c| (c.origin.clone(), c.signer.verifier().to_vkey()))
        .collect();
    let w = Witness::new(cosigner, &logs, state, Box::new(|| 1_790_000_000u64))?;
    for c in chains {
        let first = c
            .requests
            .first()
            .ok_or_else(|| anyhow::anyhow!("no requests"))?;
        expect_cosigned(w.add_checkpoint(first))?;
    }
    let cpu_before = process_cpu_seconds();
    let started = Instant::now();
    std::thread::scope(|scope| {
        let threads: Vec<_> = chains
            .iter()
            .map(|c| {
                let w = &w;
                scope.spawn(move || {
                    c.requests
                        .iter()
                        .skip(1)
                        .try_for_each(|r| expect_cosigned(w.add_checkpoint(r)))
                })
            })
            .collect();
        threads.into_iter().try_for_each(|t| {
            t.join()
                .unwrap_or_else(|_| Err(anyhow::anyhow!("a cosigning thread panicked")))
        })
    })?;
    let seconds = started.elapsed().as_secs_f64();
    let cpu_after = process_cpu_seconds();
    let (cpu_user_seconds, cpu_system_seconds) =
        (cpu_after.0 - cpu_before.0, cpu_after.1 - cpu_before.1);
    let cpu_seconds = cpu_user_seconds + cpu_system_seconds;
    let rest: Vec<&Vec<u8>> = chains
        .iter()
        .flat_map(|c| c.requests.iter().skip(1))
        .collect();
    let proof_lines: usize = rest
        .iter()
        .map(|r| {
            r.split(|&b| b == b'\n')
                .take_while(|l| !l.is_empty())
                .count()
                - 1
        })
        .sum();
    Ok(Cosigning {
        logs: chains.len(),
        requests: rest.len(),
        seconds,
        cosignatures_per_second: rest.len() as f64 / seconds,
        cpu_seconds,
        cpu_user_seconds,
        cpu_system_seconds,
        cosignatures_per_cpu_second: rest.len() as f64 / cpu_seconds.max(1e-9),
        ratio_to_baseline: 0.0,
        proof_hashes_mean: proof_lines as f64 / rest.len().max(1) as f64,
        tree_size_first: START_SIZE,
        tree_size_last: 0,
    })
}

/// CPU time (user, system) of this whole process, from `/proc/self/stat` (clock ticks of
/// 10 ms; 0 elsewhere). System time is the kernel's share: the fsyncs, the writes, the
/// futex waits and wake-ups of the threads.
fn process_cpu_seconds() -> (f64, f64) {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return (0.0, 0.0);
    };
    // Fields after the parenthesised command name: utime and stime are the 12th and 13th.
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    (ticks(11) as f64 / 100.0, ticks(12) as f64 / 100.0)
}

fn expect_cosigned(answer: Answer) -> anyhow::Result<()> {
    match answer {
        Answer::Cosigned(_) => Ok(()),
        other => anyhow::bail!("the witness did not cosign: {other:?}"),
    }
}

/// Submit-to-answer latency of single statements, one at a time, to a host whose group
/// requires 2 of `witnesses` witnesses (none if 0).
async fn round_latency(
    dir: &Path,
    witnesses: usize,
    statements: usize,
    interval_ms: u64,
) -> anyhow::Result<Latency> {
    let host_dir = dir.join("host");
    let (signer, _) = ::host::keys::load_or_create(&host_dir, ORIGIN)?;
    let log = [(ORIGIN.to_owned(), signer.verifier().to_vkey())];
    let mut running = Vec::new();
    for i in 0..witnesses {
        let name = format!("w{i}.bench.detente.example/witness");
        let w = witness::start(
            &dir.join(format!("witness-{i}")),
            Some(&name),
            &log,
            "127.0.0.1:0".parse()?,
        )
        .await?;
        running.push(w);
    }
    let required = if witnesses == 0 { 0 } else { 2 };
    let policy = crate::demo::policy_of(&running, required);
    let members = generate_members(1)?;
    let Founded {
        genesis_path,
        setup,
        ..
    } = found_group(dir, &host_dir, &members, Some(policy))?;
    let mut config = HostConfig::new(&host_dir);
    config.listen = "127.0.0.1:0".parse()?;
    config.genesis = Some(genesis_path);
    config.batch.interval_ms = interval_ms;
    config.limits.statements_per_member_per_second = 10_000_000;
    config.limits.statements_per_member_burst = 10_000_000;
    let host = Host::start(config).await?;
    let mut conn = Conn::open(host.addr).await?;
    for s in &setup {
        conn.submit(&post_request(s.leaf())).await?;
    }
    let m = &members[0];
    let mut author = Author::new(ORIGIN, m.member.clone(), m.signing.clone());
    let mut latencies = Vec::with_capacity(statements);
    for i in 0..=statements {
        let s = author.sign(
            Draft::thread("Bench: round", &format!("Round {i}: nothing new.")),
            &node::now(),
        )?;
        let request = post_request(s.leaf());
        let t = Instant::now();
        let text = conn.submit(&request).await?;
        ensure!(text.contains("\"index\""), "refused: {text}");
        if i > 0 {
            latencies.push(t.elapsed());
        }
    }
    host.stop().await;
    for w in running {
        w.stop().await;
    }
    latencies.sort();
    let ms = |q: f64| percentile(&latencies, q).as_secs_f64() * 1e3;
    Ok(Latency {
        witnesses,
        required,
        statements,
        latency_ms_p50: ms(0.5),
        latency_ms_p99: ms(0.99),
    })
}

fn print_report(r: &Report) {
    println!("Détente witness benchmark");
    print_baseline(r.baseline_verify_per_second, &r.baseline_passes);
    for c in &r.cosigning {
        println!(
            "  {} log(s) at once: {} checkpoints of trees from {} entries, proofs of {:.1} hashes on average",
            c.logs, c.requests, c.tree_size_first, c.proof_hashes_mean
        );
        println!(
            "    durable (committed with fsync before answering): {:.2} s, {:.0} cosignatures/s; CPU {:.2} s (user {:.2} s, system {:.2} s), {:.0} cosignatures per CPU second = {:.2} × baseline",
            c.seconds,
            c.cosignatures_per_second,
            c.cpu_seconds,
            c.cpu_user_seconds,
            c.cpu_system_seconds,
            c.cosignatures_per_cpu_second,
            c.ratio_to_baseline
        );
    }
    for l in &r.rounds {
        println!(
            "  sequencing round, {} witnesses ({} required): {} single statements, latency p50 {:.1} ms, p99 {:.1} ms",
            l.witnesses, l.required, l.statements, l.latency_ms_p50, l.latency_ms_p99
        );
    }
    println!(
        "  witnessing adds p50 {:.1} ms, p99 {:.1} ms",
        r.added_latency_ms_p50, r.added_latency_ms_p99
    );
}
