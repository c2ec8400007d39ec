//! The misbehaving host: an HTTP proxy in front of the real host.
//!
//! It forwards every request (method, path and query, body, and the member's
//! `Authorization` and `Content-Type` headers) to the real host and relays the answer,
//! except for the paths it has been told to answer itself: that is all a malicious host
//! needs to roll back, fork, drop, reorder, alter or forge what it serves. It lives in
//! the test suite only; the real host has no such mode.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::body::{Bytes, to_bytes};
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::world::Forged;

/// Largest request body forwarded (the host's own limit is 8 MiB).
const MAX_BODY: usize = 16 << 20;

/// What the proxy answers for a path instead of the real host's answer.
#[derive(Clone, Debug)]
pub enum Answer {
    /// 200 with these bytes.
    Body(Vec<u8>),
    /// This status with an empty body.
    Status(StatusCode),
}

struct Inner {
    upstream: String,
    http: reqwest::Client,
    /// Path (with its leading `/`, no query) → what to answer instead of the host.
    overrides: Mutex<HashMap<String, Answer>>,
}

/// A running proxy; each node under test gets its own, so that two nodes can be shown
/// two different logs.
#[derive(Clone)]
pub struct Proxy {
    /// Its base URL, for `Node::init`.
    pub url: String,
    inner: Arc<Inner>,
}

impl Proxy {
    /// Starts a proxy on 127.0.0.1 in front of `upstream`, forwarding everything.
    pub async fn start(upstream: &str) -> Proxy {
        let inner = Arc::new(Inner {
            upstream: upstream.trim_end_matches('/').to_owned(),
            http: reqwest::Client::new(),
            overrides: Mutex::default(),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let app = Router::new().fallback(forward).with_state(inner.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Proxy { url, inner }
    }

    fn overrides(&self) -> std::sync::MutexGuard<'_, HashMap<String, Answer>> {
        self.inner
            .overrides
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Answers `path` (e.g. `/checkpoint`, `/tile/0/000.p/4`) with `answer` from now on.
    pub fn set(&self, path: &str, answer: Answer) {
        self.overrides().insert(path.to_owned(), answer);
    }

    /// Serves `log` instead of the host's: its checkpoint, every tile and every bundle.
    pub fn serve(&self, log: &Forged) {
        let mut o = self.overrides();
        o.insert("/checkpoint".into(), Answer::Body(log.note.clone()));
        for (path, data) in &log.files {
            o.insert(format!("/{path}"), Answer::Body(data.clone()));
        }
    }

    /// Back to forwarding everything.
    pub fn honest(&self) {
        self.overrides().clear();
    }
}

async fn forward(State(inner): State<Arc<Inner>>, req: Request) -> Response {
    let path = req.uri().path().to_owned();
    let answer = inner
        .overrides
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&path)
        .cloned();
    match answer {
        Some(Answer::Body(bytes)) => (StatusCode::OK, bytes).into_response(),
        Some(Answer::Status(status)) => status.into_response(),
        None => relay(&inner, req)
            .await
            .unwrap_or_else(|e| (StatusCode::BAD_GATEWAY, e).into_response()),
    }
}

async fn relay(inner: &Inner, req: Request) -> Result<Response, String> {
    let url = format!(
        "{}{}",
        inner.upstream,
        req.uri().path_and_query().map_or("/", |p| p.as_str())
    );
    let mut out = inner.http.request(req.method().clone(), url);
    for name in [header::AUTHORIZATION, header::CONTENT_TYPE] {
        if let Some(value) = req.headers().get(&name) {
            out = out.header(name, value.clone());
        }
    }
    let body: Bytes = to_bytes(req.into_body(), MAX_BODY)
        .await
        .map_err(|e| e.to_string())?;
    let resp = out.body(body).send().await.map_err(|e| e.to_string())?;
    let status = resp.status();
    let content_type = resp.headers().get(header::CONTENT_TYPE).cloned();
    let bytes = resp.bytes().await.map_err(|e| e.to_string())?;
    let mut relayed = (status, bytes).into_response();
    if let Some(ct) = content_type {
        relayed.headers_mut().insert(header::CONTENT_TYPE, ct);
    }
    Ok(relayed)
}
