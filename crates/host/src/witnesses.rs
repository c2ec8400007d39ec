//! The host's side of C2SP tlog-witness: after each sequencing round, ask the group's
//! witnesses, in parallel and with a timeout, to cosign the new checkpoint.
//!
//! The host remembers each witness's latest cosigned size and sends the consistency proof
//! from it; a 409 tells it the witness's real size, and it retries once from there. Every
//! cosignature received is verified before it is attached. A witness that cannot be
//! reached, or refuses, is logged and counted; the round goes on without it.

use std::time::Duration;

use statement::kind::WitnessPolicy;
use tlog::Hash;
use tlog::checkpoint::Checkpoint;
use tlog::cosignature::{
    AddCheckpointRequest, CosignatureVerifier, parse_add_checkpoint_response, parse_conflict_body,
};
use tlog::note::{Note, SignatureLine};

use crate::metrics::Metrics;

/// How long the host waits for witnesses in one round.
pub const WITNESS_TIMEOUT: Duration = Duration::from_secs(3);

struct Client {
    name: String,
    url: String,
    verifier: CosignatureVerifier,
    /// The size this witness last cosigned, as far as the host knows.
    known: u64,
}

/// The group's witnesses and the threshold its nodes require.
pub struct Witnesses {
    clients: Vec<Client>,
    k: usize,
    http: reqwest::Client,
    runtime: tokio::runtime::Handle,
}

enum Reply {
    Cosigned(Vec<SignatureLine>),
    Conflict(u64),
    Failed(String),
}

impl Witnesses {
    /// The witnesses of `policy` (from genesis); unusable entries are skipped with a log
    /// line (genesis validation already refuses unparseable keys).
    pub fn new(policy: &WitnessPolicy, runtime: tokio::runtime::Handle) -> Witnesses {
        let clients = policy
            .witnesses
            .iter()
            .filter_map(|w| match CosignatureVerifier::from_vkey(&w.key) {
                Ok(verifier) => Some(Client {
                    name: w.name.clone(),
                    url: w.url.trim_end_matches('/').to_owned(),
                    verifier,
                    known: 0,
                }),
                Err(e) => {
                    tracing::error!(witness = %w.name, error = %e, "unusable witness key");
                    None
                }
            })
            .collect();
        let http = reqwest::Client::builder()
            .timeout(WITNESS_TIMEOUT)
            .build()
            .unwrap_or_default();
        Witnesses {
            clients,
            k: policy.k as usize,
            http,
            runtime,
        }
    }

    /// The number of cosignatures the policy requires.
    pub fn threshold(&self) -> usize {
        self.k
    }

    /// Whether there are witnesses to ask.
    pub fn is_empty(&self) -> bool {
        self.clients.is_empty()
    }

    /// Asks every witness to cosign `note` (the log-signed checkpoint `cp`); `prove(old)`
    /// gives the consistency proof from `old` to `cp.size()`. Returns the note with every
    /// verified cosignature attached and how many there are.
    pub fn cosign(
        &mut self,
        note: &Note,
        cp: &Checkpoint,
        prove: &dyn Fn(u64) -> Option<Vec<Hash>>,
        metrics: &Metrics,
    ) -> (Note, usize) {
        let mut out = note.clone();
        let mut count = 0;
        let first = self.round(note, cp, prove, None);
        let mut retry = Vec::new();
        for (i, reply) in first.into_iter().enumerate() {
            match reply {
                Reply::Conflict(size) if size <= cp.size() => {
                    self.clients[i].known = size;
                    retry.push(i);
                }
                other => count += self.take(i, other, cp, &mut out, metrics),
            }
        }
        if !retry.is_empty() {
            for (i, reply) in self
                .round(note, cp, prove, Some(&retry))
                .into_iter()
                .enumerate()
            {
                if retry.contains(&i) {
                    count += self.take(i, reply, cp, &mut out, metrics);
                }
            }
        }
        (out, count)
    }

    /// Verifies and attaches one witness's answer; returns 1 if it cosigned.
    fn take(
        &mut self,
        i: usize,
        reply: Reply,
        cp: &Checkpoint,
        out: &mut Note,
        metrics: &Metrics,
    ) -> usize {
        let c = &mut self.clients[i];
        let problem = match reply {
            Reply::Cosigned(lines) => {
                let good = lines.into_iter().find(|l| c.verifier.verify(cp, l).is_ok());
                match good.map(|line| out.add_signature(line)) {
                    Some(Ok(())) => {
                        c.known = cp.size();
                        return 1;
                    }
                    _ => "answered without a valid cosignature".to_owned(),
                }
            }
            Reply::Conflict(size) => format!("is at size {size}, beyond ours"),
            Reply::Failed(e) => e,
        };
        metrics.fault("witness");
        tracing::warn!(witness = %c.name, url = %c.url, problem = %problem, size = cp.size(), "witness did not cosign");
        0
    }

    /// One parallel round of requests (to `only` if given, else to all).
    fn round(
        &self,
        note: &Note,
        cp: &Checkpoint,
        prove: &dyn Fn(u64) -> Option<Vec<Hash>>,
        only: Option<&[usize]>,
    ) -> Vec<Reply> {
        let requests: Vec<Option<(String, Vec<u8>)>> = self
            .clients
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if only.is_some_and(|o| !o.contains(&i)) {
                    return None;
                }
                let old = c.known.min(cp.size());
                let proof = if old == 0 || old == cp.size() {
                    Some(Vec::new())
                } else {
                    prove(old)
                }?;
                let body = AddCheckpointRequest::new(old, proof, note.clone())
                    .ok()?
                    .to_bytes();
                Some((format!("{}/add-checkpoint", c.url), body))
            })
            .collect();
        let http = self.http.clone();
        self.runtime.block_on(async move {
            let calls = requests.into_iter().map(|r| {
                let http = http.clone();
                async move {
                    match r {
                        None => Reply::Failed("no request (no proof from its size)".into()),
                        Some((url, body)) => send(&http, &url, body).await,
                    }
                }
            });
            let handles: Vec<_> = calls.map(tokio::spawn).collect();
            let mut replies = Vec::with_capacity(handles.len());
            for h in handles {
                replies.push(h.await.unwrap_or_else(|e| Reply::Failed(e.to_string())));
            }
            replies
        })
    }
}

async fn send(http: &reqwest::Client, url: &str, body: Vec<u8>) -> Reply {
    let resp = match http.post(url).body(body).send().await {
        Ok(r) => r,
        Err(e) => return Reply::Failed(format!("unreachable: {e}")),
    };
    let status = resp.status().as_u16();
    let bytes = match resp.bytes().await {
        Ok(b) => b,
        Err(e) => return Reply::Failed(format!("unreadable answer: {e}")),
    };
    match status {
        200 => match parse_add_checkpoint_response(&bytes) {
            Ok(lines) => Reply::Cosigned(lines),
            Err(e) => Reply::Failed(format!("malformed cosignature: {e}")),
        },
        409 => match parse_conflict_body(&bytes) {
            Ok(size) => Reply::Conflict(size),
            Err(e) => Reply::Failed(format!("malformed 409: {e}")),
        },
        s => Reply::Failed(format!(
            "{s}: {}",
            String::from_utf8_lossy(&bytes).lines().next().unwrap_or("")
        )),
    }
}
