//! `POST /v1/statements`: admission.
//!
//! The body is one signed statement or a JSON array of them, parsed as strict I-JSON
//! (duplicate keys, lone surrogates and deep nesting refused) and canonicalised. Signatures
//! are verified here, in parallel with the sequencer, against the author's current key,
//! together with other requests' ([`super::signatures`]); the sequencer then applies the
//! group's rules in log order and skips the signature check if the key is still current.
//! Each statement is answered only once it is durable in the log and covered by a
//! published checkpoint.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Serialize, Serializer, ser::SerializeSeq as _};
use serde_json::{Value, json};
use statement::{Signed, jcs};
use tokio::sync::oneshot;

use super::errors::{rejection_body, rejection_status};
use super::forward::{forward, leader_for};
use super::{ApiError, App};
use crate::{Outcome, Receipt, Refusal, Role, Shared, Submission};

/// A receipt as the API answers it: `{ checkpoint, duplicate?, id, inclusion_proof, index }`
/// (the keys sorted, as a JSON object map writes them), with `status` inside a batch's
/// `results`. Serialised straight from the receipt: a batch answer holds one per statement,
/// so no intermediate `Value` is built for each.
#[derive(Serialize)]
struct ReceiptBody<'a> {
    checkpoint: &'a str,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    duplicate: bool,
    id: &'a statement::StatementId,
    inclusion_proof: ProofBase64<'a>,
    index: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<u16>,
}

impl<'a> ReceiptBody<'a> {
    fn of(r: &'a Receipt, status: Option<u16>) -> ReceiptBody<'a> {
        ReceiptBody {
            checkpoint: r.checkpoint.as_str(),
            duplicate: r.duplicate,
            id: &r.id,
            inclusion_proof: ProofBase64(&r.inclusion_proof),
            index: r.index,
            status,
        }
    }
}

/// An inclusion proof as a JSON array of standard base64 hashes.
struct ProofBase64<'a>(&'a [tlog::Hash]);

impl Serialize for ProofBase64<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        let mut text = [0u8; 44];
        for hash in self.0 {
            let n = STANDARD
                .encode_slice(hash.as_bytes(), &mut text)
                .map_err(serde::ser::Error::custom)?;
            let text = std::str::from_utf8(&text[..n]).map_err(serde::ser::Error::custom)?;
            seq.serialize_element(text)?;
        }
        seq.end()
    }
}

/// One entry of a batch answer: a receipt, or a refusal's JSON body with its status.
#[derive(Serialize)]
#[serde(untagged)]
enum BatchItem<'a> {
    Receipt(ReceiptBody<'a>),
    Refused(Value),
}

/// A batch answer: `{ "results": [...] }`, one entry per statement in request order.
#[derive(Serialize)]
struct BatchAnswer<'a> {
    results: Vec<BatchItem<'a>>,
}

/// The answer to a single statement.
fn single_answer(outcome: Result<Outcome, ApiError>) -> Response {
    match receipt_or_refusal(&outcome) {
        Ok(receipt) => axum::Json(ReceiptBody::of(receipt, None)).into_response(),
        Err((status, body)) => (status, axum::Json(body)).into_response(),
    }
}

/// The answer to a batch: 200 with every statement's own status inside.
fn batch_answer(outcomes: &[Result<Outcome, ApiError>]) -> Response {
    let results = outcomes
        .iter()
        .map(|o| match receipt_or_refusal(o) {
            Ok(receipt) => BatchItem::Receipt(ReceiptBody::of(receipt, Some(200))),
            Err((status, mut body)) => {
                body["status"] = json!(status.as_u16());
                BatchItem::Refused(body)
            }
        })
        .collect();
    axum::Json(BatchAnswer { results }).into_response()
}

/// The receipt, or the status and JSON body of why there is none.
fn receipt_or_refusal(
    outcome: &Result<Outcome, ApiError>,
) -> Result<&Receipt, (StatusCode, Value)> {
    match outcome {
        Ok(Ok(receipt)) => Ok(receipt),
        Ok(Err(Refusal::Rejected(r))) => Err((rejection_status(r), rejection_body(r))),
        Ok(Err(Refusal::Unavailable)) => Err(ApiError::Unavailable.parts()),
        Err(e) => Err(e.parts()),
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
    let prepared = prepare(&app, items).await?;
    let outcomes = sequence(&app, prepared).await;
    if !batch {
        let single = outcomes
            .into_iter()
            .next()
            .unwrap_or(Err(ApiError::Unavailable));
        return Ok(single_answer(single));
    }
    Ok(batch_answer(&outcomes))
}

/// A statement parsed, with its author's current key if its signature verified under it.
pub(crate) type Prepared = Result<(Signed, Option<ed25519_dalek::VerifyingKey>), ApiError>;

/// Parses every statement and verifies its signature with its author's current key: on
/// the signature threads ([`super::signatures`]) for a request of at most
/// [`statement::signature::CHUNK`] statements, so that none holds a thread there for
/// longer than one batch; on the blocking pool for a bigger one (or if the threads could
/// not start).
async fn prepare(app: &Arc<App>, items: Vec<Value>) -> Result<Vec<Prepared>, ApiError> {
    let queue = app.signatures.as_ref();
    let Some(queue) = queue.filter(|_| items.len() <= statement::signature::CHUNK) else {
        let app = app.clone();
        return tokio::task::spawn_blocking(move || {
            let mut prepared = parse_all(&app.shared, items);
            statement::signature::keep_verified(&mut prepared);
            prepared
        })
        .await
        .map_err(|e| ApiError::Internal(format!("verification task: {e}")));
    };
    queue
        .check(items)
        .await
        .ok_or_else(|| ApiError::Internal("the signature threads stopped".into()))
}

/// Parses `items`, each with its author's current key if the author is an active member.
pub(super) fn parse_all(shared: &Shared, items: Vec<Value>) -> Vec<Prepared> {
    items
        .into_iter()
        .map(|v| {
            let signed = Signed::from_value(v)
                .map_err(|e| ApiError::Rejected(statement::Rejection::Malformed(e)))?;
            let key = shared
                .member(&signed.statement().author)
                .filter(|m| m.active)
                .map(|m| m.key);
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn receipt(duplicate: bool) -> Receipt {
        Receipt {
            index: 7,
            id: statement::Digest::of(b"statement"),
            checkpoint: Arc::new("example.org/log\n8\nroot\n".into()),
            inclusion_proof: vec![tlog::leaf_hash(b"a"), tlog::leaf_hash(b"b")],
            duplicate,
        }
    }

    /// The receipt is written field for field as the API documents it, the proof in
    /// standard base64, `duplicate` only when true and `status` only inside a batch.
    #[test]
    fn receipt_body_is_the_documented_json() {
        let r = receipt(false);
        let proof: Vec<String> = r
            .inclusion_proof
            .iter()
            .map(|h| STANDARD.encode(h.as_bytes()))
            .collect();
        let expected = json!({
            "index": 7, "id": r.id, "checkpoint": r.checkpoint.as_str(), "inclusion_proof": proof,
        });
        let text = serde_json::to_string(&ReceiptBody::of(&r, None)).unwrap();
        assert_eq!(text, expected.to_string());

        let again = receipt(true);
        let v = serde_json::to_value(ReceiptBody::of(&again, Some(200))).unwrap();
        assert_eq!(
            (v["duplicate"].as_bool(), v["status"].as_u64()),
            (Some(true), Some(200))
        );
    }
}
