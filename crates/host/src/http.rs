//! The host's HTTP API.
//!
//! | route | what |
//! |---|---|
//! | `POST /v1/statements` | one signed statement, or a JSON array of them (a batch) |
//! | `GET /checkpoint`, `GET /tile/...` | C2SP tlog-tiles read path |
//! | `GET /v1/proof/inclusion?index=&size=` | RFC 9162 inclusion proof |
//! | `GET /v1/proof/consistency?old=&new=` | RFC 9162 consistency proof |
//! | `GET /v1/statements/<id>` | a statement by id, with its index |
//! | `GET /v1/members/<id>` | a member's latest `seq` and statement id |
//! | `PUT`/`GET /v1/blobs/<sha256>` | large material named by its hash |
//! | `GET /metrics` | Prometheus metrics |
//!
//! Every route but `POST /v1/statements` (authenticated by the statements' own
//! signatures) and `/metrics` is for members only ([`crate::auth`]). Errors come from one
//! table ([`ApiError`]): precise 4xx JSON bodies, generic 5xx bodies with the detail in
//! the host's log.

mod errors;
mod forward;
mod reads;
mod signatures;
mod submit;

use std::sync::Arc;
use std::sync::mpsc::Sender;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post, put};
use store::{StateStore, TileStore};

pub use errors::ApiError;

use crate::rate::RateLimiter;
use crate::tiles::TileCache;
use crate::{Limits, Shared, Submission};

/// Everything the handlers share.
pub struct App {
    submit: Sender<Submission>,
    shared: Arc<Shared>,
    tiles: Arc<dyn TileStore>,
    /// The sequencer's cache of recently written tiles, shared for proofs.
    cache: Arc<TileCache>,
    state: Arc<dyn StateStore>,
    limits: Limits,
    rate: RateLimiter,
    /// Parses submissions and checks their signatures in batches across requests (`None`
    /// if its threads could not start: they are then checked where they arrive).
    signatures: Option<signatures::SignatureQueue>,
    /// The client that forwards submissions to the leader while this host follows.
    forwarder: reqwest::Client,
    /// This host's advertised URL (named in forwarded requests).
    advertise: String,
}

impl App {
    /// The handlers' state.
    pub fn new(
        submit: Sender<Submission>,
        shared: Arc<Shared>,
        tiles: (Arc<dyn TileStore>, Arc<TileCache>),
        state: Arc<dyn StateStore>,
        limits: Limits,
        advertise: String,
    ) -> App {
        let (tiles, cache) = tiles;
        let rate = RateLimiter::new(
            limits.statements_per_member_per_second,
            limits.statements_per_member_burst,
        );
        // Building a client fails only without TLS roots, which plain HTTP never needs.
        let forwarder = reqwest::Client::builder()
            .timeout(forward::FORWARD_TIMEOUT)
            .build()
            .unwrap_or_default();
        let threads = std::thread::available_parallelism().map_or(1, usize::from);
        let parse_with = shared.clone();
        let parse: Arc<signatures::Parse> =
            Arc::new(move |items| submit::parse_all(&parse_with, items));
        let signatures = signatures::SignatureQueue::start(threads, parse)
            .map_err(|e| tracing::warn!(error = %e, "no signature threads; checking inline"))
            .ok();
        App {
            submit,
            shared,
            tiles,
            cache,
            state,
            limits,
            rate,
            signatures,
            forwarder,
            advertise,
        }
    }
}

/// The host's routes over `app`.
pub fn router(app: App) -> Router {
    let limit = app.limits.max_body_bytes.max(app.limits.max_blob_bytes);
    Router::new()
        .route("/v1/statements", post(submit::submit))
        .route("/v1/statements/{id}", get(reads::statement))
        .route("/v1/members/{id}", get(reads::member))
        .route("/v1/proof/inclusion", get(reads::inclusion_proof))
        .route("/v1/proof/consistency", get(reads::consistency_proof))
        .route("/v1/blobs/{sha}", put(reads::put_blob).get(reads::get_blob))
        .route("/checkpoint", get(reads::checkpoint))
        .route("/tile/{*path}", get(reads::tile))
        .route("/metrics", get(reads::metrics))
        .fallback(reads::not_found)
        .layer(DefaultBodyLimit::max(limit))
        .with_state(Arc::new(app))
}
