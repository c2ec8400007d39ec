//! The real `detente host` binary as a child process, a founded group for it, and an HTTP
//! client that signs its reads.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs::File;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, bail};
use ed25519_dalek::SigningKey;
use statement::build::genesis;
use statement::kind::{GenesisDocument, MemberEntry, Rules, WitnessPolicy};
use statement::{MemberId, MemberKey, SealKey, Signed, Timestamp};
use tlog::checkpoint::{Checkpoint, Origin};
use tlog::note::{Ed25519Verifier, VerifierSet};

pub const ORIGIN: &str = "crash.test.example/detente/wg";
pub const BIN: &str = env!("CARGO_BIN_EXE_detente");

pub fn now() -> Timestamp {
    Timestamp::from_unix(unix() as i64).unwrap()
}

pub fn unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A small random source (xorshift64*), seeded so that a failing run can be replayed with
/// `DETENTE_TEST_SEED`.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }

    /// The seed from `DETENTE_TEST_SEED`, or from the clock.
    pub fn seed() -> u64 {
        std::env::var("DETENTE_TEST_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64
            })
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `lo..hi` (hi > lo).
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo)
    }

    /// True with probability `num / den`.
    pub fn chance(&mut self, num: u64, den: u64) -> bool {
        self.next() % den < num
    }
}

/// A founding member.
#[derive(Clone)]
pub struct Member {
    pub id: MemberId,
    pub key: SigningKey,
}

/// A group founded for a host whose key `detente host init` created.
pub struct Group {
    pub members: Vec<Member>,
    pub vkey: String,
    pub genesis: Signed,
    pub genesis_path: PathBuf,
}

impl Group {
    /// Opens a checkpoint note with the log's key.
    pub fn open_checkpoint(&self, note: &str) -> anyhow::Result<Checkpoint> {
        open_checkpoint(&self.vkey, note)
    }
}

pub fn open_checkpoint(vkey: &str, note: &str) -> anyhow::Result<Checkpoint> {
    let known = VerifierSet::from_verifiers([Ed25519Verifier::from_vkey(vkey)?.into()])?;
    Ok(
        Checkpoint::open(note.as_bytes(), &Origin::new(ORIGIN)?, &known)?
            .checkpoint()
            .clone(),
    )
}

/// Creates the log's key in `data` with `detente host init`, and a genesis founded by
/// `n` members naming it, written next to `data`.
pub fn found(data: &Path, n: usize) -> Group {
    let out = Command::new(BIN)
        .args(["host", "init", "--origin", ORIGIN, "--data"])
        .arg(data)
        .output()
        .unwrap();
    assert!(out.status.success(), "detente host init: {out:?}");
    let vkey = std::fs::read_to_string(data.join("log.vkey"))
        .unwrap()
        .trim()
        .to_owned();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&vkey),
        "host init prints the verifier key"
    );
    let members: Vec<Member> = (0..n)
        .map(|i| Member {
            id: MemberId::new(&format!("cert-{i}")).unwrap(),
            key: SigningKey::from_bytes(&[i as u8 + 1; 32]),
        })
        .collect();
    let seal = SealKey::from(age::x25519::Identity::generate().to_public());
    let document = GenesisDocument {
        name: "crash test group".into(),
        origin: ORIGIN.into(),
        log_key: vkey.clone(),
        founders: members
            .iter()
            .map(|m| MemberEntry {
                id: m.id.clone(),
                name: m.id.to_string(),
                key: MemberKey::new(m.id.clone(), m.key.verifying_key()),
                seal: seal.clone(),
                contact: None,
            })
            .collect(),
        rules: Rules {
            member_quorum: 1,
            witnesses: WitnessPolicy::default(),
        },
    };
    let sigs = members
        .iter()
        .map(|m| document.sign(m.id.clone(), &m.key).unwrap())
        .collect();
    let mut author =
        statement::build::Author::new(ORIGIN, members[0].id.clone(), members[0].key.clone());
    let g = genesis(document, sigs, &mut author, &now()).unwrap();
    let genesis_path = data.with_extension("genesis.json");
    std::fs::write(&genesis_path, g.leaf()).unwrap();
    Group {
        members,
        vkey,
        genesis: g,
        genesis_path,
    }
}

/// A free port on 127.0.0.1 (free when asked; the host binds it on every start).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `detente host` running as a child process. Killed (SIGKILL) when dropped, so that a
/// failing test leaves no host behind.
pub struct HostProc {
    child: Option<Child>,
    pub addr: SocketAddr,
    pub stdout: PathBuf,
    pub stderr: PathBuf,
    pub started_in: Duration,
}

impl HostProc {
    /// Starts the host on `data` (logs in `logs` numbered by `run`), with `args` added
    /// (such as `--state URL`), and waits until it answers on `addr`.
    pub fn start(
        data: &Path,
        genesis: &Path,
        addr: SocketAddr,
        logs: &Path,
        run: usize,
        args: &[String],
    ) -> anyhow::Result<HostProc> {
        let stdout = logs.join(format!("host-{run}.out"));
        let stderr = logs.join(format!("host-{run}.err"));
        let started = Instant::now();
        let child = Command::new(BIN)
            .arg("host")
            .arg("--data")
            .arg(data)
            .arg("--genesis")
            .arg(genesis)
            .arg("--listen")
            .arg(addr.to_string())
            .args(["--batch-interval-ms", "10"])
            .args(args)
            .env("DETENTE_LOG", "info")
            .stdin(Stdio::null())
            .stdout(File::create(&stdout)?)
            .stderr(File::create(&stderr)?)
            .spawn()
            .context("spawning detente host")?;
        let mut host = HostProc {
            child: Some(child),
            addr,
            stdout,
            stderr,
            started_in: Duration::ZERO,
        };
        host.wait_ready(Duration::from_secs(30))?;
        host.started_in = started.elapsed();
        Ok(host)
    }

    fn wait_ready(&mut self, limit: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + limit;
        let want = format!("Host listening on http://{}", self.addr);
        loop {
            if let Some(status) = self.child.as_mut().unwrap().try_wait()? {
                bail!(
                    "detente host exited during start ({status}); stderr:\n{}",
                    self.stderr_text()
                );
            }
            let out = std::fs::read_to_string(&self.stdout).unwrap_or_default();
            if out.contains(&want) {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!(
                    "detente host did not start within {limit:?}; stderr:\n{}",
                    self.stderr_text()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn stderr_text(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// Whether the process is still running.
    pub fn running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| c.try_wait().ok().flatten().is_none())
    }

    /// SIGKILL, and reap.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM; waits up to `limit` for the exit status.
    pub fn terminate(&mut self, limit: Duration) -> anyhow::Result<(ExitStatus, Duration)> {
        let child = self.child.as_mut().context("not running")?;
        let started = Instant::now();
        let status = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status()?;
        anyhow::ensure!(status.success(), "kill -TERM failed: {status}");
        loop {
            if let Some(status) = child.try_wait()? {
                self.child = None;
                return Ok((status, started.elapsed()));
            }
            if started.elapsed() > limit {
                bail!(
                    "detente host did not exit within {limit:?} of SIGTERM; stderr:\n{}",
                    self.stderr_text()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for HostProc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Why a request got no answer, or what the answer was.
pub enum Answer {
    /// No answer in time: the host may still act on the request.
    TimedOut,
    /// No HTTP answer: connection refused or reset, truncated body.
    Lost(String),
    /// An HTTP answer.
    Got(u16, serde_json::Value),
}

/// An HTTP client of the host.
#[derive(Clone)]
pub struct Client {
    /// The hosts, asked in turn (one request each).
    pub bases: Vec<String>,
    turn: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    pub http: reqwest::Client,
}

impl Client {
    pub fn new(addr: SocketAddr) -> Client {
        Client::spread(&[addr])
    }

    /// A client that sends each request to the next of `addrs` in turn.
    pub fn spread(addrs: &[SocketAddr]) -> Client {
        Client {
            bases: addrs.iter().map(|a| format!("http://{a}")).collect(),
            turn: Default::default(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(20))
                .build()
                .unwrap(),
        }
    }

    /// The host for the next request.
    fn base(&self) -> &str {
        let i = self.turn.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        &self.bases[i % self.bases.len()]
    }

    async fn answer(r: Result<reqwest::Response, reqwest::Error>) -> Answer {
        let r = match r {
            Ok(r) => r,
            Err(e) if e.is_timeout() => return Answer::TimedOut,
            Err(e) => return Answer::Lost(format!("{e:?}")),
        };
        let status = r.status().as_u16();
        match r.bytes().await {
            Ok(b) => Answer::Got(
                status,
                serde_json::from_slice(&b).unwrap_or(serde_json::Value::Null),
            ),
            Err(e) if e.is_timeout() => Answer::TimedOut,
            Err(e) => Answer::Lost(format!("{e:?}")),
        }
    }

    /// Posts one statement (`batch` false) or a JSON array of them.
    pub async fn post(&self, statements: &[Signed], batch: bool) -> Answer {
        let body = if batch {
            serde_json::to_vec(&statements.iter().map(Signed::to_value).collect::<Vec<_>>())
                .unwrap()
        } else {
            statements[0].leaf().to_vec()
        };
        let r = self
            .http
            .post(format!("{}/v1/statements", self.base()))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await;
        Client::answer(r).await
    }

    /// A read signed by `who`.
    pub async fn get(&self, who: &Member, path: &str) -> Answer {
        let auth = host::auth::authorization(&who.id, &who.key, "GET", path, unix());
        let r = self
            .http
            .get(format!("{}{path}", self.base()))
            .header("authorization", auth)
            .send()
            .await;
        Client::answer(r).await
    }

    /// A read signed by `who`, as bytes; fails unless 200.
    pub async fn get_bytes(&self, who: &Member, path: &str) -> anyhow::Result<Vec<u8>> {
        let auth = host::auth::authorization(&who.id, &who.key, "GET", path, unix());
        let r = self
            .http
            .get(format!("{}{path}", self.base()))
            .header("authorization", auth)
            .send()
            .await?;
        let status = r.status();
        let body = r.bytes().await?;
        anyhow::ensure!(
            status.is_success(),
            "GET {path}: {status} {}",
            String::from_utf8_lossy(&body)
        );
        Ok(body.to_vec())
    }

    /// A read signed by `who`, as JSON; fails unless 200.
    pub async fn get_json(&self, who: &Member, path: &str) -> anyhow::Result<serde_json::Value> {
        Ok(serde_json::from_slice(&self.get_bytes(who, path).await?)?)
    }
}

/// Decodes a JSON array of base64 hashes.
pub fn hashes(v: &serde_json::Value) -> anyhow::Result<Vec<tlog::Hash>> {
    v.as_array()
        .context("not an array of hashes")?
        .iter()
        .map(|h| {
            h.as_str()
                .and_then(tlog::Hash::from_base64)
                .context("not a base64 hash")
        })
        .collect()
}
