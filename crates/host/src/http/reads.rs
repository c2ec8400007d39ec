//! The read routes: tiles, checkpoint, proofs, statements, members, blobs, metrics.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;
use statement::{Digest, MemberId, Signed};
use tlog::tile::{TilePath, parse_bundle, parse_path};

use super::forward::{forward, leader_for};
use super::{ApiError, App};
use crate::auth::{AuthError, ReadAuth};
use crate::tiles::{OwnTiles, consistency, inclusion};

/// Checks the member's signature on a read request.
fn authorize(
    app: &App,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<MemberId, ApiError> {
    let header = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or(ApiError::Unauthorized(AuthError::Missing))?;
    let auth = ReadAuth::parse(header).map_err(ApiError::Unauthorized)?;
    let member = app
        .shared
        .member(&auth.member)
        .filter(|m| m.active)
        .ok_or_else(|| ApiError::Unauthorized(AuthError::NotAMember(auth.member.to_string())))?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let pq = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
    auth.check(
        &member.key,
        method.as_str(),
        pq,
        now,
        app.limits.read_auth_skew_seconds,
    )
    .map_err(ApiError::Unauthorized)?;
    Ok(auth.member)
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
}

pub(super) async fn not_found() -> ApiError {
    ApiError::NotFound("no such route".into())
}

pub(super) async fn checkpoint(
    State(app): State<Arc<App>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&app, &method, &uri, &headers)?;
    let (size, note) = app.shared.published();
    if size == 0 {
        return Err(ApiError::NotFound("the log is empty".into()));
    }
    let headers = [
        (
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        ),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
    ];
    Ok((headers, note.as_str().to_owned()).into_response())
}

/// The number of leaves a tile's data depends on: it may be served once the published
/// tree has at least that many (tlog-tiles: only what a checkpoint implies).
fn leaves_needed(path: &TilePath) -> Option<u64> {
    let (level, index, width) = match path {
        TilePath::Hashes(t) => (t.level(), t.index(), t.width()),
        TilePath::Entries(b) => (0, b.index(), b.width()),
    };
    let hashes = index.checked_mul(256)?.checked_add(u64::from(width))?;
    hashes
        .checked_shl(8 * u32::from(level))
        .filter(|n| n >> (8 * u32::from(level)) == hashes)
}

pub(super) async fn tile(
    State(app): State<Arc<App>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&app, &method, &uri, &headers)?;
    let path = uri.path().trim_start_matches('/').to_owned();
    let parsed =
        parse_path(&path).map_err(|e| ApiError::NotFound(format!("not a tile path: {e}")))?;
    let (size, _) = app.shared.published();
    if leaves_needed(&parsed).is_none_or(|n| n > size) {
        return Err(ApiError::NotFound(format!(
            "{path} is beyond the published tree"
        )));
    }
    let store = app.tiles.clone();
    let data = blocking(move || Ok(store.read(&path)?))
        .await?
        .ok_or_else(|| ApiError::NotFound(uri.path().to_owned()))?;
    let headers = [
        (
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/octet-stream"),
        ),
        // A tile path names its width, so its bytes never change (C2SP tlog-tiles).
        (
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=31536000, immutable"),
        ),
    ];
    Ok((headers, data).into_response())
}

fn number(q: &HashMap<String, String>, key: &str) -> Result<Option<u64>, ApiError> {
    q.get(key)
        .map(|v| {
            v.parse::<u64>().map_err(|_| {
                ApiError::BadRequest(format!("`{key}` must be a non-negative integer"))
            })
        })
        .transpose()
}

fn proof_json(proof: &[tlog::Hash]) -> Vec<String> {
    proof
        .iter()
        .map(|h| STANDARD.encode(h.as_bytes()))
        .collect()
}

/// Runs a prover over the host's own tiles on the blocking pool: recently written tiles
/// from the sequencer's cache, the rest from the tile store.
async fn prove<E: std::fmt::Display>(
    app: &App,
    prover: impl FnOnce(OwnTiles<'_>) -> Result<Vec<tlog::Hash>, E> + Send + 'static,
) -> Result<Vec<tlog::Hash>, ApiError> {
    let (store, cache) = (app.tiles.clone(), app.cache.clone());
    blocking(move || {
        let tiles = OwnTiles {
            store: store.as_ref(),
            cache: &cache,
        };
        prover(tiles).map_err(|e| ApiError::Internal(e.to_string()))
    })
    .await
}

pub(super) async fn inclusion_proof(
    State(app): State<Arc<App>>,
    Query(q): Query<HashMap<String, String>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&app, &method, &uri, &headers)?;
    let (published, _) = app.shared.published();
    let index =
        number(&q, "index")?.ok_or_else(|| ApiError::BadRequest("`index` is required".into()))?;
    let size = number(&q, "size")?.unwrap_or(published);
    if size > published || index >= size {
        return Err(ApiError::BadRequest(format!(
            "need index < size <= {published} (the published size)"
        )));
    }
    let proof = prove(&app, move |tiles| inclusion(tiles, index, size)).await?;
    Ok(
        axum::Json(json!({ "index": index, "size": size, "proof": proof_json(&proof) }))
            .into_response(),
    )
}

pub(super) async fn consistency_proof(
    State(app): State<Arc<App>>,
    Query(q): Query<HashMap<String, String>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&app, &method, &uri, &headers)?;
    let (published, _) = app.shared.published();
    let old = number(&q, "old")?.ok_or_else(|| ApiError::BadRequest("`old` is required".into()))?;
    let new = number(&q, "new")?.unwrap_or(published);
    if old == 0 || old > new || new > published {
        return Err(ApiError::BadRequest(format!(
            "need 0 < old <= new <= {published} (the published size)"
        )));
    }
    let proof = prove(&app, move |tiles| consistency(tiles, old, new)).await?;
    Ok(axum::Json(json!({ "old": old, "new": new, "proof": proof_json(&proof) })).into_response())
}

pub(super) async fn statement(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&app, &method, &uri, &headers)?;
    let id = Digest::parse(&id).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let (published, _) = app.shared.published();
    let (state, tiles) = (app.state.clone(), app.tiles.clone());
    let found = blocking(move || {
        let Some(index) = state.index_of(&id)?.filter(|i| *i < published) else {
            return Ok(None);
        };
        let bundle = tlog::tile::EntryBundle::new(index / 256, bundle_width(index, published))
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        let data = tiles
            .read(&bundle.path())?
            .ok_or_else(|| ApiError::Internal(format!("{} missing", bundle.path())))?;
        let entries = parse_bundle(bundle, &data).map_err(|e| ApiError::Internal(e.to_string()))?;
        let leaf = entries
            .get((index % 256) as usize)
            .ok_or_else(|| ApiError::Internal("entry missing".into()))?;
        let signed = Signed::from_leaf(leaf).map_err(|e| ApiError::Internal(e.to_string()))?;
        Ok(Some((index, signed.to_value())))
    })
    .await?;
    let (index, statement) =
        found.ok_or_else(|| ApiError::NotFound(format!("no statement {id} in the log")))?;
    Ok(axum::Json(json!({ "index": index, "statement": statement })).into_response())
}

/// The width of the entry bundle holding `index` in the tree of `size`.
fn bundle_width(index: u64, size: u64) -> u16 {
    let start = index / 256 * 256;
    (size - start).min(256) as u16
}

pub(super) async fn member(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&app, &method, &uri, &headers)?;
    if let Some(leader) = leader_for(&app, &headers) {
        let path = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
        return forward(&app, &leader, method, path, &headers, Bytes::new()).await;
    }
    let id = MemberId::new(&id).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let m = app
        .shared
        .member(&id)
        .ok_or_else(|| ApiError::NotFound(format!("{id} is not a member")))?;
    Ok(axum::Json(
        json!({ "member": id, "active": m.active, "last_seq": m.last_seq, "last_id": m.last_id }),
    )
    .into_response())
}

pub(super) async fn put_blob(
    State(app): State<Arc<App>>,
    Path(sha): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    authorize(&app, &method, &uri, &headers)?;
    let sha = Digest::parse(&sha).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    if body.len() > app.limits.max_blob_bytes {
        return Err(ApiError::TooLarge(format!(
            "blobs are at most {} bytes",
            app.limits.max_blob_bytes
        )));
    }
    if Digest::of(&body) != sha {
        return Err(ApiError::BadRequest(
            "the body's SHA-256 is not the one in the path".into(),
        ));
    }
    let tiles = app.tiles.clone();
    blocking(move || Ok(tiles.write_blob(&sha, &body)?)).await?;
    Ok(StatusCode::CREATED.into_response())
}

pub(super) async fn get_blob(
    State(app): State<Arc<App>>,
    Path(sha): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&app, &method, &uri, &headers)?;
    let sha = Digest::parse(&sha).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let tiles = app.tiles.clone();
    let data = blocking(move || Ok(tiles.read_blob(&sha)?))
        .await?
        .ok_or_else(|| ApiError::NotFound("no such blob".into()))?;
    let headers = [
        (
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/octet-stream"),
        ),
        (
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=31536000, immutable"),
        ),
    ];
    Ok((headers, data).into_response())
}

pub(super) async fn metrics(State(app): State<Arc<App>>) -> Response {
    let headers = [(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    )];
    (headers, app.shared.metrics.render()).into_response()
}
