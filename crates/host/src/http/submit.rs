//! `POST /v1/statements`: admission.
//!
//! The body is one signed statement or a JSON array of them, parsed as strict I-JSON
//! (duplicate keys, lone surrogates and deep nesting refused) and canonicalised. Signatures
//! are verified here, on the blocking pool and in parallel with other requests, against the
//! author's current key; the sequencer then applies the group's rules in log order and
//! skips the signature check if the key is still current. Each statement is answered only
//! once it is durable in the log and covered by a published checkpoint.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use statement::{Signed, jcs};
use tokio::sync::oneshot;

use super::errors::{rejection_body, rejection_status};
use super::forward::{forward, leader_for};
use super::{ApiError, App};
use crate::{Outcome, Receipt, Refusal, Role, Submission};

/// The receipt as JSON: `{ index, id, checkpoint, inclusion_proof, duplicate? }`.
pub fn receipt_json(r: &Receipt) -> Value {
    let proof: Vec<String> = r
        .inclusion_proof
        .iter()
        .map(|h| STANDARD.encode(h.as_bytes()))
        .collect();
    let mut v = json!({ "index": r.index, "id": r.id, "checkpoint": r.checkpoint.as_str(), "inclusion_proof": proof });
    if r.duplicate {
        v["duplicate"] = json!(true);
    }
    v
}

fn outcome_parts(outcome: Result<Outcome, ApiError>) -> (StatusCode, Value) {
    match outcome {
        Ok(Ok(receipt)) => (StatusCode::OK, receipt_json(&receipt)),
        Ok(Err(Refusal::Rejected(r))) => (rejection_status(&r), rejection_body(&r)),
        Ok(Err(Refusal::Unavailable)) => ApiError::Unavailable.parts(),
        Err(e) => e.parts(),
    }
}

pub(super) async fn submit(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let answer = match (app.shared.role(), leader_for(&app, &headers)) {
        (Role::Leader, _) => admit(app, headers, body).await,
        (_, Some(leader)) => match read_body(&app, body) {
            Ok(body) => {
                let path = "/v1/statements";
                forward(&app, &leader, Method::POST, path, &headers, body).await
            }
            Err(e) => Err(e),
        },
        _ => Err(ApiError::NoLeader(
            "no host sequences right now (the sequencer lease is changing hands); retry shortly"
                .into(),
        )),
    };
    answer.unwrap_or_else(IntoResponse::into_response)
}

/// The request body, within the size limit.
fn read_body(app: &App, body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    let body = body.map_err(|e| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::TooLarge(format!(
            "the body exceeds {} bytes",
            app.limits.max_body_bytes
        )),
        _ => ApiError::BadRequest(e.body_text()),
    })?;
    if body.len() > app.limits.max_body_bytes {
        return Err(ApiError::TooLarge(format!(
            "the body exceeds {} bytes",
            app.limits.max_body_bytes
        )));
    }
    Ok(body)
}

async fn admit(
    app: Arc<App>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = read_body(&app, body)?;
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !ct.starts_with("application/json") {
        return Err(ApiError::UnsupportedMediaType(
            "send statements as application/json".into(),
        ));
    }
    let value = jcs::parse(&body, app.limits.max_body_bytes)
        .map_err(|e| ApiError::BadRequest(format!("not valid JSON: {e}")))?;
    let (items, batch) = match value {
        Value::Array(items) => (items, true),
        other => (vec![other], false),
    };
    if items.is_empty() {
        return Err(ApiError::BadRequest("an empty batch".into()));
    }
    if items.len() > app.limits.max_statements_per_request {
        return Err(ApiError::TooLarge(format!(
            "at most {} statements per request",
            app.limits.max_statements_per_request
        )));
    }
    let prepared = prepare(app.clone(), items).await?;
    let outcomes = sequence(&app, prepared).await;
    if !batch {
        let (status, body) = outcome_parts(
            outcomes
                .into_iter()
                .next()
                .unwrap_or(Err(ApiError::Unavailable)),
        );
        return Ok((status, axum::Json(body)).into_response());
    }
    let results: Vec<Value> = outcomes
        .into_iter()
        .map(|o| {
            let (status, mut body) = outcome_parts(o);
            body["status"] = json!(status.as_u16());
            body
        })
        .collect();
    Ok((StatusCode::OK, axum::Json(json!({ "results": results }))).into_response())
}

type Prepared = Result<(Signed, Option<ed25519_dalek::VerifyingKey>), ApiError>;

/// Most statements verified on the async worker itself: one verification takes about as
/// long as a hop to the blocking pool and back costs, so a small request is cheaper
/// checked where it is; a bigger one goes to the blocking pool so it does not stall the
/// worker's other connections.
const VERIFY_INLINE: usize = 2;

/// Parses every statement and verifies its signature with its author's current key (on
/// the blocking pool unless there are at most [`VERIFY_INLINE`]).
async fn prepare(app: Arc<App>, items: Vec<Value>) -> Result<Vec<Prepared>, ApiError> {
    if items.len() <= VERIFY_INLINE {
        return Ok(verify_all(&app, items));
    }
    tokio::task::spawn_blocking(move || verify_all(&app, items))
        .await
        .map_err(|e| ApiError::Internal(format!("verification task: {e}")))
}

/// Parses and verifies `items` on the calling thread.
fn verify_all(app: &App, items: Vec<Value>) -> Vec<Prepared> {
    items
        .into_iter()
        .map(|v| {
            let signed = Signed::from_value(v)
                .map_err(|e| ApiError::Rejected(statement::Rejection::Malformed(e)))?;
            let key = app
                .shared
                .member(&signed.statement().author)
                .filter(|m| m.active)
                .map(|m| m.key)
                .filter(|k| signed.verify(k));
            Ok((signed, key))
        })
        .collect()
}

/// Rate-limits, hands the statements to the sequencer in order and waits for every
/// outcome.
async fn sequence(app: &App, prepared: Vec<Prepared>) -> Vec<Result<Outcome, ApiError>> {
    if app.shared.failed() {
        return prepared
            .into_iter()
            .map(|_| Err(ApiError::Unavailable))
            .collect();
    }
    let now = Instant::now();
    let mut waiting = Vec::with_capacity(prepared.len());
    for p in prepared {
        let (signed, verified_with) = match p {
            Ok(p) => p,
            Err(e) => {
                waiting.push(Err(e));
                continue;
            }
        };
        if verified_with.is_some() && !app.rate.take(&signed.statement().author, 1, now) {
            app.shared.metrics.refused("rate_limited");
            waiting.push(Err(ApiError::TooManyRequests(format!(
                "{} is over {} statements per second",
                signed.statement().author,
                app.limits.statements_per_member_per_second
            ))));
            continue;
        }
        let (reply, rx) = oneshot::channel();
        if app
            .submit
            .send(Submission {
                signed,
                verified_with,
                reply,
                received: now,
            })
            .is_err()
        {
            waiting.push(Err(ApiError::Unavailable));
            continue;
        }
        waiting.push(Ok(rx));
    }
    let mut out = Vec::with_capacity(waiting.len());
    for w in waiting {
        out.push(match w {
            Ok(rx) => rx.await.map_err(|_| ApiError::Unavailable),
            Err(e) => Err(e),
        });
    }
    out
}
