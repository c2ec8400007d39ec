//! Forwarding from a follower to the host that holds the sequencer lease: submissions,
//! and the lookup of a member's chain (which must be as current as the leader's, since a
//! member resumes its chain from it; a follower replays the log a poll interval behind).
//!
//! A follower passes the request (body, content type, authorization) on unchanged and
//! the leader's answer back unchanged: the leader checks everything, and the submitter verifies its receipt
//! against the checkpoint, so the follower is trusted for nothing. A forwarded request
//! carries [`FORWARDED`]; a host that receives one while not leading answers 503 rather
//! than forwarding again, so a stale view of who leads cannot make a loop.

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::{ApiError, App};
use crate::Role;

/// Header marking a submission forwarded by another host.
pub(super) const FORWARDED: &str = "detente-forwarded-by";

/// How long a forwarded submission may take (the leader answers once the statement is
/// durable and witnessed).
pub(super) const FORWARD_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

/// The leader this host should forward to: `Some` while another host leads and the
/// request was not itself forwarded.
pub(super) fn leader_for(app: &App, headers: &HeaderMap) -> Option<String> {
    match app.shared.role() {
        Role::Follower { leader: Some(l) } if !headers.contains_key(FORWARDED) => Some(l),
        _ => None,
    }
}

/// Sends the request (`method` on `path`, with `body`) to the leader at `leader` and
/// relays its answer.
pub(super) async fn forward(
    app: &App,
    leader: &str,
    method: Method,
    path: &str,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let url = format!("{}{path}", leader.trim_end_matches('/'));
    let mut request = app
        .forwarder
        .request(method, &url)
        .header(FORWARDED, app.advertise.as_str())
        .body(body);
    for name in [header::CONTENT_TYPE, header::AUTHORIZATION] {
        if let Some(v) = headers.get(&name) {
            request = request.header(name, v.clone());
        }
    }
    let answer = request.send().await.map_err(|e| {
        app.shared.metrics.fault("forward");
        tracing::warn!(%leader, error = %e, "cannot forward a request to the leader");
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
