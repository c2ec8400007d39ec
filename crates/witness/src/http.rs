//! The witness's HTTP API (C2SP tlog-witness): `POST /add-checkpoint` and, for monitors,
//! `GET /<hex SHA-256 of the origin>/checkpoint`.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tlog::cosignature::{MAX_ADD_CHECKPOINT_REQUEST_SIZE, format_conflict_body};

use crate::{Answer, Witness};

/// The witness's routes.
pub fn router(witness: Arc<Witness>) -> Router {
    Router::new()
        .route("/add-checkpoint", post(add_checkpoint))
        .route("/{origin_hash}/checkpoint", get(latest))
        .layer(DefaultBodyLimit::max(MAX_ADD_CHECKPOINT_REQUEST_SIZE))
        .with_state(witness)
}

fn text(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<axum::body::Body>,
) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
        body.into(),
    )
        .into_response()
}

async fn add_checkpoint(
    State(w): State<Arc<Witness>>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(b) => b,
        Err(e) => {
            return text(
                e.status(),
                "text/plain; charset=utf-8",
                format!("{}\n", e.body_text()),
            );
        }
    };
    // Signature checks and the fsync'd commit are blocking work: keep them off the executor.
    let answer = tokio::task::spawn_blocking(move || w.add_checkpoint(&body))
        .await
        .unwrap_or_else(|_| Answer::Refused(500, "internal error".into()));
    match answer {
        Answer::Cosigned(lines) => text(StatusCode::OK, "text/plain; charset=utf-8", lines),
        Answer::Conflict(size) => text(
            StatusCode::CONFLICT,
            "text/x.tlog.size",
            format_conflict_body(size),
        ),
        Answer::Refused(status, message) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let message = if message.ends_with('\n') {
                message
            } else {
                format!("{message}\n")
            };
            text(status, "text/plain; charset=utf-8", message)
        }
    }
}

async fn latest(State(w): State<Arc<Witness>>, Path(origin_hash): Path<String>) -> Response {
    match w.latest(&origin_hash) {
        Some(note) => text(StatusCode::OK, "text/plain; charset=utf-8", note),
        None => text(
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            "no checkpoint cosigned for that log\n",
        ),
    }
}
