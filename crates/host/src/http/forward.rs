//! Forwarding submissions from a follower to the host that holds the sequencer lease.
//!
//! A follower passes the request body on unchanged and the leader's answer back
//! unchanged: the leader checks everything, and the submitter verifies its receipt
//! against the checkpoint, so the follower is trusted for nothing. A forwarded request
//! carries [`FORWARDED`]; a host that receives one while not leading answers 503 rather
//! than forwarding again, so a stale view of who leads cannot make a loop.

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::{ApiError, App};

/// Header marking a submission forwarded by another host.
pub(super) const FORWARDED: &str = "detente-forwarded-by";

/// How long a forwarded submission may take (the leader answers once the statement is
/// durable and witnessed).
pub(super) const FORWARD_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

/// Sends `body` to the leader at `leader` and relays its answer.
pub(super) async fn forward(
    app: &App,
    leader: &str,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let url = format!("{}/v1/statements", leader.trim_end_matches('/'));
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .cloned()
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    let answer = app
        .forwarder
        .post(&url)
        .header(header::CONTENT_TYPE, content_type)
        .header(FORWARDED, app.advertise.as_str())
        .body(body)
        .send()
        .await
        .map_err(|e| {
            app.shared.metrics.fault("forward");
            tracing::warn!(%leader, error = %e, "cannot forward a submission to the leader");
            ApiError::NoLeader(format!(
                "the sequencing host {leader} does not answer; retry shortly"
            ))
        })?;
    let status = StatusCode::from_u16(answer.status().as_u16())
        .map_err(|e| ApiError::Internal(format!("leader's status: {e}")))?;
    let content_type = answer.headers().get(header::CONTENT_TYPE).cloned();
    let bytes = answer.bytes().await.map_err(|e| {
        ApiError::NoLeader(format!(
            "the sequencing host {leader} broke off its answer: {e}"
        ))
    })?;
    let mut response = (status, bytes).into_response();
    if let Some(ct) = content_type {
        response.headers_mut().insert(header::CONTENT_TYPE, ct);
    }
    Ok(response)
}
