//! `detente bench ...`: figures for the host, the node and the witness, each measured
//! beside a baseline taken in the same run (this machine is shared and noisy: ratios
//! mean more than absolute numbers).

mod conn;
mod host;
mod host_report;
mod verify;
mod witness;

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context as _, bail, ensure};
use ed25519_dalek::{Signature, VerifyingKey};
use node::MemberKeys;
use statement::build::{Author, Draft};
use statement::kind::{GenesisDocument, Rules, WitnessPolicy};
use statement::{MemberId, Signed, Stance};

use crate::cli::{BenchArgs, BenchCommand};
pub(crate) use conn::{Conn, metric, percentile, scrape};

/// The origin of every bench log.
const ORIGIN: &str = "bench.detente.example/wg";
/// Statements whose signatures the baseline verifies (each pass).
const BASELINE_SAMPLE: usize = 20_000;

pub async fn run(a: BenchArgs) -> anyhow::Result<()> {
    match a.what {
        BenchCommand::Host(h) => host::bench_host(h).await,
        BenchCommand::Verify(v) => verify::bench_verify(v).await,
        BenchCommand::Witness(w) => witness::bench_witness(w).await,
    }
}

/// The chain of the genesis' author, placed after the genesis.
pub(crate) fn after_genesis(keys: &MemberKeys, genesis: &Signed) -> anyhow::Result<Author> {
    let mut group = statement::Group::new();
    group
        .apply_with(genesis, statement::group::SignatureCheck::Verify)
        .map_err(|r| anyhow::anyhow!("the bench's own genesis is refused: {r}"))?;
    Ok(Author::resume(
        &group,
        keys.member.clone(),
        keys.signing.clone(),
    ))
}

/// A sample statement for the baseline: the key, the signed bytes and the signature.
pub(crate) type Sample = (VerifyingKey, Vec<u8>, Signature);

/// The whole HTTP request posting `body` to `/v1/statements`, written before the clock
/// starts like the signature.
pub(crate) fn post_request(body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "POST /v1/statements HTTP/1.1\r\nhost: bench\r\ncontent-type: application/json\r\n\
         content-length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

/// A JSON array of leaves (each leaf is a JSON object).
pub(crate) fn batch_body<'a>(leaves: impl Iterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut out = vec![b'['];
    for (i, leaf) in leaves.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(leaf);
    }
    out.push(b']');
    out
}

/// Verifications per second on this thread (one core), by the wall clock.
pub(crate) fn verify_rate(sample: &[Sample]) -> anyhow::Result<f64> {
    let started = Instant::now();
    verify_sample(sample)?;
    Ok(sample.len() as f64 / started.elapsed().as_secs_f64())
}

/// Signatures per second on this thread (one core), by the wall clock, under the
/// statements' own rule about as the host checks a batched request: the sample sorted by
/// author, in chunks of [`statement::signature::CHUNK`] (one or two authors each). Not the
/// baseline: it shows how much of the host's rate signature checking still costs.
pub(crate) fn batch_verify_rate(sample: &[Sample]) -> anyhow::Result<f64> {
    let mut claims: Vec<statement::signature::Claim<'_>> = sample
        .iter()
        .map(|(key, message, signature)| statement::signature::Claim {
            key,
            message,
            signature,
        })
        .collect();
    claims.sort_by_key(|c| *c.key.as_bytes());
    let started = Instant::now();
    let passed = claims
        .chunks(statement::signature::CHUNK)
        .filter(|chunk| statement::signature::verify_batch(std::hint::black_box(chunk)))
        .count();
    let seconds = started.elapsed().as_secs_f64();
    ensure!(
        passed == claims.len().div_ceil(statement::signature::CHUNK),
        "sample signatures do not verify in batches"
    );
    Ok(sample.len() as f64 / seconds)
}

/// Verifications per second of this thread's CPU time (one core), or of the wall clock
/// where the thread's CPU time cannot be read: a busy machine does not lower it.
pub(crate) fn verify_rate_cpu(sample: &[Sample]) -> anyhow::Result<f64> {
    let (cpu, started) = (thread_cpu_seconds(), Instant::now());
    verify_sample(sample)?;
    let seconds = match (cpu, thread_cpu_seconds()) {
        (Some(before), Some(after)) if after > before => after - before,
        _ => started.elapsed().as_secs_f64(),
    };
    Ok(sample.len() as f64 / seconds)
}

/// Verifies every signature of `sample` (the timed work of both rates).
fn verify_sample(sample: &[Sample]) -> anyhow::Result<()> {
    let mut bad = 0usize;
    for (key, message, sig) in sample {
        if key
            .verify_strict(std::hint::black_box(message), sig)
            .is_err()
        {
            bad += 1;
        }
    }
    ensure!(bad == 0, "{bad} sample signatures do not verify");
    Ok(())
}

/// CPU time this thread has run, with nanosecond precision (the first field of
/// `/proc/thread-self/schedstat`); `None` where it cannot be read.
fn thread_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = stat.split_whitespace().next()?.parse().ok()?;
    Some(ns as f64 / 1e9)
}

/// The bench's directory: `--dir` (kept), or a new temporary one (removed after).
pub(crate) fn bench_dir(given: Option<&PathBuf>) -> anyhow::Result<(PathBuf, bool)> {
    let (dir, keep) = match given {
        Some(d) => (d.clone(), true),
        None => (
            std::env::temp_dir().join(format!(
                "detente-bench-{}-{}",
                std::process::id(),
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos())
            )),
            false,
        ),
    };
    if dir.exists() && std::fs::read_dir(&dir)?.next().is_some() {
        bail!(
            "{} is not empty: give a new directory to --dir",
            dir.display()
        );
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    Ok((dir, keep))
}

/// Keys for `n` bench members.
pub(crate) fn generate_members(n: usize) -> anyhow::Result<Vec<MemberKeys>> {
    (0..n)
        .map(|i| {
            Ok(MemberKeys::generate(MemberId::new(&format!(
                "bench-{i:04}"
            ))?)?)
        })
        .collect()
}

/// A bench group: its genesis (written to `genesis_path`) and the statements that admit
/// every member.
pub(crate) struct Founded {
    /// The founder.
    pub chair: MemberKeys,
    /// The genesis statement.
    pub genesis: Signed,
    /// Where it is written.
    pub genesis_path: PathBuf,
    /// The chair's additions of every member, each followed by its approval (quorum 1).
    pub setup: Vec<Signed>,
}

/// Founds a group whose log key is created in `host_dir`, with a chair who admits every
/// one of `members`, and the given witness policy.
pub(crate) fn found_group(
    dir: &Path,
    host_dir: &Path,
    members: &[MemberKeys],
    witnesses: Option<WitnessPolicy>,
) -> anyhow::Result<Founded> {
    let (signer, _) = ::host::keys::load_or_create(host_dir, ORIGIN)?;
    let chair = MemberKeys::generate(MemberId::new("bench-chair")?)?;
    let document = GenesisDocument {
        name: "detente bench".into(),
        origin: ORIGIN.into(),
        log_key: signer.verifier().to_vkey(),
        founders: vec![chair.entry("Bench chair", None)],
        rules: Rules {
            member_quorum: 1,
            witnesses: witnesses.unwrap_or_default(),
        },
    };
    let sig = document.sign(chair.member.clone(), &chair.signing)?;
    let genesis = crate::setup::assemble_and_check(document, vec![sig], &chair)?;
    let genesis_path = dir.join("genesis.json");
    std::fs::write(&genesis_path, genesis.leaf())?;
    let mut chair_author = after_genesis(&chair, &genesis)?;
    let mut setup = Vec::with_capacity(2 * members.len());
    for (i, m) in members.iter().enumerate() {
        let add = chair_author.sign(
            Draft::add_member(&m.entry(&format!("Bench member {i}"), None)),
            &node::now(),
        )?;
        let approve = chair_author.sign(
            Draft::position(add.id(), Stance::Approve, None),
            &node::now(),
        )?;
        setup.push(add);
        setup.push(approve);
    }
    Ok(Founded {
        chair,
        genesis,
        genesis_path,
        setup,
    })
}

/// The baseline line of every bench report.
pub(crate) fn print_baseline(rate: f64, passes: &[f64]) {
    println!(
        "  baseline: Ed25519 verify_strict on one core  {rate:>9.0} /s  (passes: {})",
        passes
            .iter()
            .map(|p| format!("{p:.0}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
}

/// Runs one bench: warns on a debug build, makes its directory, measures, removes the
/// directory unless it was given, and prints the report as text or JSON.
pub(crate) async fn run_bench<R, F>(
    name: &str,
    dir: Option<&PathBuf>,
    json: bool,
    measure: impl FnOnce(PathBuf) -> F,
    print: fn(&R),
) -> anyhow::Result<()>
where
    R: serde::Serialize,
    F: std::future::Future<Output = anyhow::Result<R>>,
{
    if cfg!(debug_assertions) && !json {
        eprintln!(
            "warning: this is a debug build; measure with `cargo run --release -p detente -- bench {name}`"
        );
    }
    let (dir, keep) = bench_dir(dir)?;
    let result = measure(dir.clone()).await;
    if !keep {
        let _ = std::fs::remove_dir_all(&dir);
    }
    let report = result?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print(&report);
    }
    Ok(())
}
