//! The node's HTTP client for the host: signed reads, statement submission, tiles.
//!
//! Nothing read here is trusted: the sync verifies every byte against signed checkpoints.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ed25519_dalek::SigningKey;
use serde_json::Value;
use statement::{MemberId, Signed};
use tlog::tile::{Tile, TileReader};

use crate::NodeError;

/// Largest response read from the host (a full entry bundle is at most 256 × 64 KiB).
const MAX_RESPONSE: usize = 17 << 20;

/// A member's client for one host.
#[derive(Clone)]
pub struct HostClient {
    base: String,
    member: MemberId,
    key: SigningKey,
    http: reqwest::Client,
}

/// What the host answered to a submission.
#[derive(Debug, Clone)]
pub enum Submitted {
    /// In the log: the receipt JSON (`index`, `id`, `checkpoint`, `inclusion_proof`).
    Receipt(Value),
    /// Refused: the HTTP status and the JSON error (`error`, `message`, details).
    Refused(u16, Value),
}

impl HostClient {
    /// A client for the host at `base` (e.g. `http://127.0.0.1:8470`), reading as `member`.
    pub fn new(base: &str, member: MemberId, key: SigningKey) -> Result<HostClient, NodeError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| NodeError::Network(e.to_string()))?;
        Ok(HostClient {
            base: base.trim_end_matches('/').to_owned(),
            member,
            key,
            http,
        })
    }

    /// The host's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// A signed GET; `Ok(None)` on 404.
    pub async fn get(&self, path: &str) -> Result<Option<Vec<u8>>, NodeError> {
        let unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let auth = host::auth::authorization(&self.member, &self.key, "GET", path, unix);
        let resp = self
            .http
            .get(format!("{}{path}", self.base))
            .header("authorization", auth)
            .send()
            .await
            .map_err(|e| NodeError::Network(format!("GET {path}: {e}")))?;
        let status = resp.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let body = read_limited(resp).await?;
        if !status.is_success() {
            return Err(NodeError::Network(format!(
                "GET {path}: {status}: {}",
                String::from_utf8_lossy(&body)
            )));
        }
        Ok(Some(body))
    }

    /// Stores a blob (material too large for a log entry) on the host under its SHA-256,
    /// with a signed `PUT /v1/blobs/<sha256>`.
    pub async fn put_blob(&self, bytes: Vec<u8>) -> Result<statement::Digest, NodeError> {
        let sha = statement::Digest::of(&bytes);
        let path = format!("/v1/blobs/{}", sha.to_hex());
        let unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let auth = host::auth::authorization(&self.member, &self.key, "PUT", &path, unix);
        let resp = self
            .http
            .put(format!("{}{path}", self.base))
            .header("authorization", auth)
            .header("content-type", "application/octet-stream")
            .body(bytes)
            .send()
            .await
            .map_err(|e| NodeError::Network(format!("PUT {path}: {e}")))?;
        let status = resp.status();
        if !status.is_success() {
            let body = read_limited(resp).await.unwrap_or_default();
            return Err(NodeError::Network(format!(
                "PUT {path}: {status}: {}",
                String::from_utf8_lossy(&body)
            )));
        }
        Ok(sha)
    }

    /// Submits statements (one, or a batch) and returns one answer per statement.
    pub async fn submit(&self, statements: &[Signed]) -> Result<Vec<Submitted>, NodeError> {
        let body: Vec<u8> = if let [one] = statements {
            one.leaf().to_vec()
        } else {
            serde_json::to_vec(&statements.iter().map(Signed::to_value).collect::<Vec<_>>())
                .map_err(|e| NodeError::Network(e.to_string()))?
        };
        let resp = self
            .http
            .post(format!("{}/v1/statements", self.base))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| NodeError::Network(format!("POST /v1/statements: {e}")))?;
        let status = resp.status().as_u16();
        let json: Value = serde_json::from_slice(&read_limited(resp).await?)
            .map_err(|e| NodeError::Network(format!("the host's answer is not JSON: {e}")))?;
        let one = |status: u16, v: Value| {
            if status == 200 {
                Submitted::Receipt(v)
            } else {
                Submitted::Refused(status, v)
            }
        };
        if statements.len() == 1 {
            return Ok(vec![one(status, json)]);
        }
        let results = json["results"].as_array().cloned().unwrap_or_default();
        if results.len() != statements.len() {
            return Err(NodeError::Network(format!(
                "the host answered {status}: {json}"
            )));
        }
        Ok(results
            .into_iter()
            .map(|r| one(r["status"].as_u64().unwrap_or(0) as u16, r))
            .collect())
    }
}

async fn read_limited(mut resp: reqwest::Response) -> Result<Vec<u8>, NodeError> {
    let mut out = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| NodeError::Network(e.to_string()))?
    {
        out.extend_from_slice(&chunk);
        if out.len() > MAX_RESPONSE {
            return Err(NodeError::Network("the host's answer is too large".into()));
        }
    }
    Ok(out)
}

/// Tiles fetched ahead of a proof computation (the proof code is synchronous).
pub struct FetchedTiles(pub std::collections::HashMap<Tile, Vec<u8>>);

/// A tile the proof needed was not fetched.
#[derive(Debug, thiserror::Error)]
#[error("tile {0} was not fetched")]
pub struct NotFetched(pub String);

impl TileReader for FetchedTiles {
    type Error = NotFetched;

    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, NotFetched> {
        tiles
            .iter()
            .map(|t| self.0.get(t).cloned().ok_or_else(|| NotFetched(t.path())))
            .collect()
    }
}
