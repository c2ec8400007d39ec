//! A witness per C2SP tlog-witness v1.0.0, cosigning with C2SP tlog-cosignature v1.0.1.
//!
//! A witness remembers, per log, the latest checkpoint it cosigned, and cosigns a new one
//! only with a consistency proof from it. A client that requires cosignatures from k of n
//! independent witnesses cannot be shown a split view unless k of them collude.
//!
//! [`Witness::add_checkpoint`] implements `add-checkpoint` as the spec orders the checks:
//! malformed request 400; unknown origin 404; no verifying log signature (or a failing
//! one) 403; old size beyond the checkpoint 400; old size not the witness's 409 with its
//! size; a size-0 checkpoint without the empty root, a proof with `old 0`, a different
//! root at the same size, or a failing proof 422; otherwise the new checkpoint is stored
//! (compare-and-swap, durable) *before* the cosignature is returned. When the 422 is a
//! conflict with what the witness cosigned (same size, another root), its body carries
//! the witness's cosigned checkpoint, so the caller holds two signed checkpoints of one
//! size: offline evidence of a split view.

pub mod http;
mod state;

use std::collections::HashMap;

use tlog::checkpoint::{Checkpoint, Origin};
use tlog::cosignature::{AddCheckpointRequest, Cosigner, format_add_checkpoint_response};
use tlog::note::{Ed25519Verifier, Note, VerifierSet};
use tlog::proof::verify_consistency;

pub use state::{Cosigned, WitnessState};

/// Why the witness could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WitnessError {
    /// A `--log ORIGIN=VERIFIER_KEY` that does not parse.
    #[error("log {0}")]
    Log(String),
    /// The state store failed.
    #[error("witness state: {0}")]
    State(#[from] rusqlite::Error),
    /// The stored state is inconsistent.
    #[error("witness state is corrupt: {0}")]
    Corrupt(String),
}

/// The answer to an `add-checkpoint` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// 200: the cosignature lines.
    Cosigned(Vec<u8>),
    /// 409: the witness's latest cosigned size (`text/x.tlog.size`).
    Conflict(u64),
    /// Any other status, with a readable body.
    Refused(u16, String),
}

/// A known log: its origin and the keys its checkpoints must be signed with.
struct Log {
    origin: Origin,
    keys: VerifierSet,
}

/// A witness: its cosigning key, the logs it witnesses, and its durable state.
pub struct Witness {
    cosigner: Cosigner,
    logs: HashMap<String, Log>,
    state: WitnessState,
    clock: Box<dyn Fn() -> u64 + Send + Sync>,
}

impl Witness {
    /// A witness cosigning with `cosigner` for `logs` (`origin`, log verifier key), keeping
    /// its state in `state` and reading time (POSIX seconds) from `clock`.
    pub fn new(
        cosigner: Cosigner,
        logs: &[(String, String)],
        state: WitnessState,
        clock: Box<dyn Fn() -> u64 + Send + Sync>,
    ) -> Result<Witness, WitnessError> {
        let mut known = HashMap::new();
        for (origin, vkey) in logs {
            let o = Origin::new(origin.clone())
                .map_err(|e| WitnessError::Log(format!("{origin}: {e}")))?;
            let key = Ed25519Verifier::from_vkey(vkey)
                .map_err(|e| WitnessError::Log(format!("{origin}: {e}")))?;
            if key.name().as_str() != origin {
                return Err(WitnessError::Log(format!(
                    "{origin}: the key is named {}",
                    key.name().as_str()
                )));
            }
            let keys = VerifierSet::from_verifiers([key.into()])
                .map_err(|e| WitnessError::Log(e.to_string()))?;
            known.insert(origin.clone(), Log { origin: o, keys });
        }
        Ok(Witness {
            cosigner,
            logs: known,
            state,
            clock,
        })
    }

    /// The witness's cosigner verifier key (C2SP tlog-cosignature, type 0x04).
    pub fn vkey(&self) -> String {
        self.cosigner.verifier().to_vkey()
    }

    /// The latest cosigned checkpoint of the log whose origin hashes (SHA-256, hex) to
    /// `origin_hash`, for monitors (tlog-witness, monitoring API).
    pub fn latest(&self, origin_hash: &str) -> Option<Vec<u8>> {
        let origin = self
            .logs
            .keys()
            .find(|o| tlog::sha256(o.as_bytes()).to_hex() == origin_hash)?;
        self.state.get(origin).ok().flatten().map(|c| c.note)
    }

    /// Handles a `POST add-checkpoint` body (C2SP tlog-witness §add-checkpoint).
    pub fn add_checkpoint(&self, body: &[u8]) -> Answer {
        let request = match AddCheckpointRequest::parse(body) {
            Ok(r) => r,
            Err(e) => {
                return Answer::Refused(400, format!("malformed add-checkpoint request: {e}"));
            }
        };
        let (old, proof, note) = request.into_parts();
        // The log is found by the note's first line (the checkpoint's origin), so that the
        // checkpoint is parsed once, by `open_note`, and the note is not copied. A first
        // line that names no known log is parsed here only to tell a malformed checkpoint
        // (400) from an unknown log (404), in the spec's order.
        let first_line = note.text().split('\n').next().unwrap_or_default();
        let Some(log) = self.logs.get(first_line) else {
            return match Checkpoint::parse(note.text()) {
                Err(e) => Answer::Refused(400, format!("not a checkpoint: {e}")),
                Ok(c) => {
                    Answer::Refused(404, format!("this witness does not witness {}", c.origin()))
                }
            };
        };
        let (checkpoint, note) = match Checkpoint::open_note(note, &log.origin, &log.keys) {
            Ok(opened) => opened.into_parts(),
            Err(e) if e.class() == tlog::note::ErrorClass::Malformed => {
                return Answer::Refused(400, format!("not a checkpoint: {e}"));
            }
            Err(e) => {
                return Answer::Refused(
                    403,
                    format!("the checkpoint is not signed by the log: {e}"),
                );
            }
        };
        if old > checkpoint.size() {
            return Answer::Refused(
                400,
                format!(
                    "old size {old} is beyond the checkpoint's size {}",
                    checkpoint.size()
                ),
            );
        }
        match self.state.advance(
            &log.origin,
            &checkpoint,
            |prev| check(prev, old, &proof, &checkpoint),
            || self.cosign(&checkpoint, note),
        ) {
            Ok(Ok(cosigned_note)) => Answer::Cosigned(cosigned_note),
            Ok(Err(answer)) => answer,
            Err(e) => {
                tracing::error!(error = %e, "witness state failed");
                Answer::Refused(500, "internal error".into())
            }
        }
    }

    /// The cosignature of `cp` as of now: the response body, and the note to store (the
    /// checkpoint with our cosignature). Returned to the client only once [`check`] passed
    /// and the note is durably stored.
    fn cosign(&self, cp: &Checkpoint, note: Note) -> Result<(Vec<u8>, Vec<u8>), Answer> {
        let now = (self.clock)().min(tlog::cosignature::MAX_TIMESTAMP);
        let line = self
            .cosigner
            .cosign(cp, now)
            .map_err(|e| Answer::Refused(500, format!("cannot cosign: {e}")))?;
        let body = format_add_checkpoint_response(std::slice::from_ref(&line))
            .map_err(|e| Answer::Refused(500, format!("cannot cosign: {e}")))?;
        let mut stored_note = note;
        stored_note
            .add_signature(line)
            .map_err(|e| Answer::Refused(500, format!("cannot cosign: {e}")))?;
        Ok((body, stored_note.to_bytes()))
    }
}

/// The checks of `cp` (with `old` and `proof`) against the latest checkpoint the witness
/// accepted; run by the state against the latest it holds, so that check and update are
/// one atomic step.
fn check(
    prev: Option<&Cosigned>,
    old: u64,
    proof: &[tlog::Hash],
    cp: &Checkpoint,
) -> Result<(), Answer> {
    let stored = prev.map_or(0, |p| p.size);
    if old != stored {
        return Err(Answer::Conflict(stored));
    }
    if cp.size() == 0 && cp.root() != tlog::empty_root() {
        return Err(Answer::Refused(
            422,
            "a checkpoint of size 0 must have the empty tree's root".into(),
        ));
    }
    match prev {
        None if !proof.is_empty() => Err(Answer::Refused(
            422,
            "old size 0 takes an empty consistency proof".into(),
        )),
        None => Ok(()),
        Some(p) if p.size == cp.size() && p.root != cp.root() => {
            let body = format!(
                "this witness cosigned another tree of size {}\n\n{}",
                p.size,
                String::from_utf8_lossy(&p.note)
            );
            Err(Answer::Refused(422, body))
        }
        Some(p) if p.size == cp.size() => Ok(()),
        Some(p) => verify_consistency(p.size, cp.size(), &p.root, &cp.root(), proof).map_err(|e| {
            let body = format!(
                "the consistency proof from size {} fails: {e}\n\n{}",
                p.size,
                String::from_utf8_lossy(&p.note)
            );
            Answer::Refused(422, body)
        }),
    }
}

/// Loads the witness key from `dir`, or creates one named `name`; returns the cosigner and
/// whether it was created.
pub fn load_or_create_key(
    dir: &std::path::Path,
    name: Option<&str>,
) -> Result<(Cosigner, bool), WitnessError> {
    let path = dir.join("witness.key");
    if path.exists() {
        let text = std::fs::read_to_string(&path)
            .map_err(|e| WitnessError::Corrupt(format!("{}: {e}", path.display())))?;
        let c = Cosigner::from_skey(text.trim())
            .map_err(|e| WitnessError::Corrupt(format!("{}: {e}", path.display())))?;
        if let Some(n) = name
            && c.name().as_str() != n
        {
            return Err(WitnessError::Log(format!(
                "{} holds the key of witness {}, not {n}",
                path.display(),
                c.name().as_str()
            )));
        }
        return Ok((c, false));
    }
    let name = name.ok_or_else(|| {
        WitnessError::Log("a new witness needs --name (e.g. witness.example.org/w1)".into())
    })?;
    let key_name = tlog::note::KeyName::new(name).map_err(|e| WitnessError::Log(e.to_string()))?;
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| WitnessError::Corrupt(format!("no randomness: {e}")))?;
    let cosigner = Cosigner::from_seed(key_name, &seed);
    std::fs::create_dir_all(dir)
        .map_err(|e| WitnessError::Corrupt(format!("{}: {e}", dir.display())))?;
    host::keys::write_private(&path, cosigner.to_skey().as_bytes())
        .map_err(|e| WitnessError::Corrupt(e.to_string()))?;
    std::fs::write(
        dir.join("witness.vkey"),
        format!("{}\n", cosigner.verifier().to_vkey()),
    )
    .map_err(|e| WitnessError::Corrupt(e.to_string()))?;
    Ok((cosigner, true))
}

/// A witness serving on a socket.
pub struct Running {
    /// The address it listens on.
    pub addr: std::net::SocketAddr,
    /// Its cosigner verifier key.
    pub vkey: String,
    /// Its key name.
    pub name: String,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: tokio::task::JoinHandle<()>,
}

impl Running {
    /// Stops serving (requests in flight finish) and waits for it.
    pub async fn stop(mut self) {
        if let Some(s) = self.shutdown.take() {
            let _ = s.send(());
        }
        let _ = (&mut self.server).await;
    }
}

/// Starts a witness whose key and state live in `dir` (created on first start with
/// `name`), witnessing `logs` (origin, log verifier key), listening on `listen`.
pub async fn start(
    dir: &std::path::Path,
    name: Option<&str>,
    logs: &[(String, String)],
    listen: std::net::SocketAddr,
) -> Result<Running, WitnessError> {
    let (cosigner, _) = load_or_create_key(dir, name)?;
    let name = cosigner.name().as_str().to_owned();
    let state = WitnessState::open(&dir.join("witness.sqlite"))?;
    let clock = Box::new(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    });
    let witness = std::sync::Arc::new(Witness::new(cosigner, logs, state, clock)?);
    let vkey = witness.vkey();
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| WitnessError::Corrupt(format!("cannot listen on {listen}: {e}")))?;
    let addr = listener
        .local_addr()
        .map_err(|e| WitnessError::Corrupt(e.to_string()))?;
    let (shutdown, signal) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        let serve = axum::serve(listener, http::router(witness)).with_graceful_shutdown(async {
            let _ = signal.await;
        });
        if let Err(e) = serve.await {
            tracing::error!(error = %e, "witness server failed");
        }
    });
    Ok(Running {
        addr,
        vkey,
        name,
        shutdown: Some(shutdown),
        server,
    })
}
