//! `detente bench witness`: what a witness costs.
//!
//! 1. **Cosignatures per second on one core.** A witness (its SQLite state committed on
//!    every cosignature, as in production) is handed `add-checkpoint` requests directly on
//!    this thread: a chain of checkpoints of a tree of 10^7 entries and up, each with the
//!    consistency proof from the one before. The tree has every leaf equal, so that any
//!    size's root and proofs are derived on the fly; proofs of such a tree have the same
//!    length and cost to verify as any other of its size. The requests are signed by the
//!    log before the clock starts (signing is the log's cost). Baseline, same run: the raw
//!    Ed25519 verify rate of one core.
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
    print_baseline, run_bench, verify_rate,
};
use crate::cli::BenchWitnessArgs;

/// Size of the tree the cosigning phase starts from.
const START_SIZE: u64 = 10_000_000;

#[derive(Debug, Serialize)]
struct Cosigning {
    requests: usize,
    seconds: f64,
    cosignatures_per_second: f64,
    cpu_seconds: f64,
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
    cosigning: Cosigning,
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
    let (requests, sample, last) = chain(a.cosignatures as usize)?;
    let mut baseline_passes = vec![verify_rate(&sample)?];
    say("A witness cosigns them one after the other on this thread …");
    let cosigning = cosign_all(&dir.join("witness-core"), &requests)?;
    baseline_passes.push(verify_rate(&sample)?);
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
        cosigning: Cosigning {
            ratio_to_baseline: cosigning.cosignatures_per_cpu_second / baseline,
            tree_size_last: last,
            ..cosigning
        },
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

/// The log's signed checkpoints from `START_SIZE` on, each as an `add-checkpoint` request
/// from the one before (the first from size 0), and a baseline sample of log signatures.
fn chain(n: usize) -> anyhow::Result<(Vec<Vec<u8>>, Vec<Sample>, u64)> {
    let tree = SameLeaves::new();
    let signer = Signer::from_seed(KeyName::new(ORIGIN)?, &[7; 32]);
    let origin = Origin::new(ORIGIN)?;
    let mut requests = Vec::with_capacity(n + 1);
    let mut sample = Vec::new();
    let mut old = 0u64;
    let mut size = START_SIZE;
    for i in 0..=n {
        let cp = Checkpoint::new(origin.clone(), size, root_at(&tree, size)?);
        let note = cp.sign(&[&signer])?;
        let proof = if old == 0 {
            Vec::new()
        } else {
            prove_consistency(&tree, old, size)?
        };
        if sample.len() < 2000 {
            let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]).verifying_key();
            let message = note.text().as_bytes().to_vec();
            let sig = ed25519_dalek::Signer::sign(
                &ed25519_dalek::SigningKey::from_bytes(&[7; 32]),
                &message,
            );
            sample.push((key, message, sig));
        }
        requests.push(AddCheckpointRequest::new(old, proof, note)?.to_bytes());
        old = size;
        // Vary the step so that proofs take every shape.
        size += 1 + (i as u64 * 7919) % 4096;
    }
    Ok((requests, sample, old))
}

/// Cosigns every request on this thread; the first (from size 0) is not timed.
fn cosign_all(dir: &Path, requests: &[Vec<u8>]) -> anyhow::Result<Cosigning> {
    std::fs::create_dir_all(dir)?;
    let signer = Signer::from_seed(KeyName::new(ORIGIN)?, &[7; 32]);
    let cosigner = Cosigner::from_seed(KeyName::new("bench.detente.example/witness")?, &[9; 32]);
    let state = witness::WitnessState::open(&dir.join("witness.sqlite"))?;
    let clock = Box::new(|| 1_790_000_000u64);
    let w = Witness::new(
        cosigner,
        &[(ORIGIN.to_owned(), signer.verifier().to_vkey())],
        state,
        clock,
    )?;
    let (first, rest) = requests
        .split_first()
        .ok_or_else(|| anyhow::anyhow!("no requests"))?;
    expect_cosigned(w.add_checkpoint(first))?;
    let cpu_before = thread_cpu_seconds();
    let started = Instant::now();
    for r in rest {
        expect_cosigned(w.add_checkpoint(r))?;
    }
    let seconds = started.elapsed().as_secs_f64();
    let cpu_seconds = thread_cpu_seconds() - cpu_before;
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
        requests: rest.len(),
        seconds,
        cosignatures_per_second: rest.len() as f64 / seconds,
        cpu_seconds,
        cosignatures_per_cpu_second: rest.len() as f64 / cpu_seconds.max(1e-9),
        ratio_to_baseline: 0.0,
        proof_hashes_mean: proof_lines as f64 / rest.len().max(1) as f64,
        tree_size_first: START_SIZE,
        tree_size_last: 0,
    })
}

/// CPU time this thread has used (Linux `/proc/thread-self/schedstat`; 0 elsewhere).
fn thread_cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(0.0, |ns| ns as f64 / 1e9)
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
    let c = &r.cosigning;
    println!("Détente witness benchmark");
    print_baseline(r.baseline_verify_per_second, &r.baseline_passes);
    println!(
        "  cosigning on one core: {} checkpoints of sizes {}..{} with proofs of {:.1} hashes on average",
        c.requests, c.tree_size_first, c.tree_size_last, c.proof_hashes_mean
    );
    println!(
        "    durable (each cosignature committed with fsync before it is answered): {:.2} s, {:.0} cosignatures/s",
        c.seconds, c.cosignatures_per_second
    );
    println!(
        "    CPU: {:.2} s, {:.0} cosignatures per CPU second = {:.2} × baseline",
        c.cpu_seconds, c.cosignatures_per_cpu_second, c.ratio_to_baseline
    );
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
