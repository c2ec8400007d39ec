//! One error type for the API, with one status table.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use statement::Rejection;

use crate::auth::AuthError;

/// An error answer.
#[derive(Debug)]
pub enum ApiError {
    /// Malformed request (400).
    BadRequest(String),
    /// Not a member, or a bad read signature (401).
    Unauthorized(AuthError),
    /// Nothing there (404).
    NotFound(String),
    /// Too large (413).
    TooLarge(String),
    /// Not JSON (415).
    UnsupportedMediaType(String),
    /// Too many statements from this member (429).
    TooManyRequests(String),
    /// The group's rules refuse the statement (400/403/409/422 by reason).
    Rejected(Rejection),
    /// The host cannot answer for the statement now (503); a retry is safe, since the log
    /// never holds a statement twice.
    Unavailable,
    /// No host sequences right now (503): the lease is between holders, or the leader
    /// does not answer this host's forwarding.
    NoLeader(String),
    /// Our own failure (500); the detail goes to the log, not the client.
    Internal(String),
}

/// The HTTP status for a rejection.
pub fn rejection_status(r: &Rejection) -> StatusCode {
    match r {
        Rejection::Malformed(_) | Rejection::WrongGroup { .. } => StatusCode::BAD_REQUEST,
        Rejection::UnknownAuthor { .. }
        | Rejection::RemovedMember { .. }
        | Rejection::BadSignature { .. } => StatusCode::FORBIDDEN,
        Rejection::SeqGap { .. }
        | Rejection::SeqRepeat { .. }
        | Rejection::PrevMismatch { .. }
        | Rejection::NotFounded
        | Rejection::AlreadyFounded
        | Rejection::Duplicate { .. } => StatusCode::CONFLICT,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

/// The JSON body for a rejection: its code, its message and its structured details.
pub fn rejection_body(r: &Rejection) -> Value {
    let mut body = json!({ "error": r.code(), "message": r.to_string() });
    match r {
        Rejection::SeqGap { expected, got, .. } | Rejection::SeqRepeat { expected, got, .. } => {
            body["expected"] = json!(expected);
            body["got"] = json!(got);
        }
        Rejection::PrevMismatch { expected, .. } => body["expected"] = json!(expected),
        Rejection::UnknownRef { id } => body["ref"] = json!(id),
        _ => {}
    }
    body
}

impl ApiError {
    /// Status and body.
    pub fn parts(&self) -> (StatusCode, Value) {
        let e = |code: &str, msg: &str| json!({ "error": code, "message": msg });
        match self {
            ApiError::BadRequest(m) => (StatusCode::BAD_REQUEST, e("bad_request", m)),
            ApiError::Unauthorized(a) => {
                (StatusCode::UNAUTHORIZED, e("unauthorized", &a.to_string()))
            }
            ApiError::NotFound(m) => (StatusCode::NOT_FOUND, e("not_found", m)),
            ApiError::TooLarge(m) => (StatusCode::PAYLOAD_TOO_LARGE, e("too_large", m)),
            ApiError::UnsupportedMediaType(m) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                e("unsupported_media_type", m),
            ),
            ApiError::TooManyRequests(m) => (StatusCode::TOO_MANY_REQUESTS, e("rate_limited", m)),
            ApiError::Rejected(r) => (rejection_status(r), rejection_body(r)),
            ApiError::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                e(
                    "unavailable",
                    "the host cannot answer for this statement right now; retry later (a statement is never sequenced twice)",
                ),
            ),
            ApiError::NoLeader(m) => (StatusCode::SERVICE_UNAVAILABLE, e("no_leader", m)),
            ApiError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                e("internal", "internal error"),
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(detail) = &self {
            tracing::error!(%detail, "internal error");
        }
        let (status, body) = self.parts();
        (status, axum::Json(body)).into_response()
    }
}

impl From<store::StoreError> for ApiError {
    fn from(e: store::StoreError) -> ApiError {
        ApiError::Internal(e.to_string())
    }
}
