//! The TAXII 2.1 endpoints (§4 discovery, API root, status; §5 collections, manifest,
//! objects, object, versions): thin handlers over [`super::index`], [`super::query`] and
//! [`super::write`].

use axum::Router;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use axum::routing::get;
use serde_json::{Value, json};

use super::collections::{self, Collection};
use super::index::Record;
use super::media::{check_accept, check_content_type, taxii, taxii_dated};
use super::query::{self, Query as Filter, date_range, page};
use super::{API_ROOT, MEDIA_TYPE, STIX_MEDIA_TYPE, Taxii, TaxiiError, write};
use crate::serve::Principal;

type Params = Result<Query<Vec<(String, String)>>, QueryRejection>;
type Answer = Result<Response, TaxiiError>;

const OBJECTS_PARAMS: &[&str] = &[
    "added_after",
    "limit",
    "next",
    "match[id]",
    "match[type]",
    "match[version]",
    "match[spec_version]",
];
const OBJECT_PARAMS: &[&str] = &[
    "added_after",
    "limit",
    "next",
    "match[version]",
    "match[spec_version]",
];
const VERSIONS_PARAMS: &[&str] = &["added_after", "limit", "next", "match[spec_version]"];
const DELETE_PARAMS: &[&str] = &["match[version]", "match[spec_version]"];

/// Every route, with and without the final `/` (the specification's paths end with `/`;
/// taxii2-client asks for the status without it).
pub fn routes(t: Taxii) -> Router {
    let c = "/taxii2/api/collections/{cid}";
    let pairs: Vec<(String, axum::routing::MethodRouter<Taxii>)> = vec![
        ("/taxii2".into(), get(discovery)),
        ("/taxii2/api".into(), get(api_root)),
        ("/taxii2/api/status/{sid}".into(), get(status)),
        ("/taxii2/api/collections".into(), get(collections_list)),
        (c.into(), get(collection)),
        (format!("{c}/manifest"), get(manifest)),
        (format!("{c}/objects"), get(objects_get).post(objects_post)),
        (
            format!("{c}/objects/{{oid}}"),
            get(object_get).delete(object_delete),
        ),
        (format!("{c}/objects/{{oid}}/versions"), get(versions)),
    ];
    let mut r = Router::new();
    for (path, method) in pairs {
        r = r
            .route(&format!("{path}/"), method.clone())
            .route(&path, method);
    }
    r.route(
        "/taxii2/{*rest}",
        get(not_found).post(not_found).delete(not_found),
    )
    .with_state(t)
}

fn params(p: Params) -> Result<Vec<(String, String)>, TaxiiError> {
    p.map(|Query(v)| v).map_err(|_| TaxiiError::BadParameter {
        param: "query".into(),
        reason: "not a valid query string",
    })
}

impl Taxii {
    /// Authentication (401), then `Accept` (406).
    fn enter(&self, headers: &HeaderMap) -> Result<Principal, TaxiiError> {
        let who = self
            .shared
            .authenticate(headers)
            .map_err(|_| TaxiiError::Unauthenticated)?;
        check_accept(headers)?;
        Ok(who)
    }

    /// [`Taxii::enter`], then the collection (404).
    async fn collection(
        &self,
        headers: &HeaderMap,
        key: &str,
    ) -> Result<(Principal, Collection), TaxiiError> {
        let who = self.enter(headers)?;
        let node = self.shared.node().await;
        let c = collections::find(key, node.group()?).ok_or(TaxiiError::NotFound("collection"))?;
        Ok((who, c))
    }

    /// Calls `f` with the collection's records, in log order, the index brought up to
    /// the verified log first.
    async fn view<R>(
        &self,
        c: &Collection,
        f: impl FnOnce(Vec<&Record>) -> R,
    ) -> Result<R, TaxiiError> {
        let node = self.shared.node().await;
        let mut index = self.index.lock().await;
        index.refresh(&node).await?;
        let group = node.group()?;
        let records = index.records.iter().filter(|r| c.shows(r, group)).collect();
        Ok(f(records))
    }

    /// One page of `q` over the collection. The selection is kept per query
    /// ([`query::Selections`]), so a walk with `next` costs each page only its records.
    async fn paged<R>(
        &self,
        c: &Collection,
        q: &Filter,
        key: &str,
        f: impl FnOnce(query::Page<'_>) -> R,
    ) -> Result<R, TaxiiError> {
        let node = self.shared.node().await;
        let mut index = self.index.lock().await;
        index.refresh(&node).await?;
        let group = node.group()?;
        let all = &index.records;
        let keys = self.selections.get_or(key, all.len(), || {
            let whole = Filter {
                next: None,
                ..q.clone()
            };
            whole
                .select(all.iter().filter(|r| c.shows(r, group)))
                .iter()
                .map(|r| r.key())
                .collect()
        });
        Ok(f(query::page_of(&keys, all, q.next, q.limit)))
    }
}

async fn not_found(State(t): State<Taxii>, headers: HeaderMap) -> Answer {
    t.enter(&headers)?;
    Err(TaxiiError::NotFound("TAXII endpoint"))
}

/// §4.1 discovery.
async fn discovery(State(t): State<Taxii>, headers: HeaderMap) -> Answer {
    t.enter(&headers)?;
    Ok(taxii(
        StatusCode::OK,
        &json!({
            "title": t.config.title,
            "description": "A Détente member's node: STIX 2.1 shared through a signed, append-only, witnessed log, every object verified",
            "default": API_ROOT,
            "api_roots": [API_ROOT],
        }),
    ))
}

/// §4.2 API root.
async fn api_root(State(t): State<Taxii>, headers: HeaderMap) -> Answer {
    t.enter(&headers)?;
    Ok(taxii(
        StatusCode::OK,
        &json!({
            "title": t.config.title,
            "description": "The working group's reports, one collection per TLP level",
            "versions": [MEDIA_TYPE],
            "max_content_length": t.config.max_content_length,
        }),
    ))
}

/// §4.3 status.
async fn status(State(t): State<Taxii>, headers: HeaderMap, Path(sid): Path<String>) -> Answer {
    t.enter(&headers)?;
    let s = t.statuses.get(&sid).ok_or(TaxiiError::NotFound("status"))?;
    Ok(taxii(StatusCode::OK, &s.to_json()))
}

/// §5.1 collections.
async fn collections_list(State(t): State<Taxii>, headers: HeaderMap) -> Answer {
    let who = t.enter(&headers)?;
    let node = t.shared.node().await;
    let list: Vec<Value> = collections::listed(&t.config, node.group()?)
        .iter()
        .map(|c| c.resource(&who, &t.config))
        .collect();
    Ok(taxii(StatusCode::OK, &json!({ "collections": list })))
}

/// §5.2 collection.
async fn collection(State(t): State<Taxii>, headers: HeaderMap, Path(cid): Path<String>) -> Answer {
    let (who, c) = t.collection(&headers, &cid).await?;
    Ok(taxii(StatusCode::OK, &c.resource(&who, &t.config)))
}

/// An envelope-like answer: `{more, next, <key>: items}`, or `{}` when empty.
fn listing(key: &str, items: Vec<Value>, more: bool, next: Option<String>) -> Value {
    let mut v = json!({});
    if more {
        v["more"] = json!(true);
        if let Some(n) = next {
            v["next"] = json!(n);
        }
    }
    if !items.is_empty() {
        if !more {
            v["more"] = json!(false);
        }
        v[key] = Value::Array(items);
    }
    v
}

/// One page as an envelope-like answer under `key`, each record shown by `item`, with
/// the page's date range for the `X-TAXII-Date-Added-*` headers.
fn listed(
    key: &str,
    p: query::Page<'_>,
    item: impl Fn(&Record) -> Value,
) -> (Value, Option<(String, String)>) {
    let items = p.items.iter().map(|r| item(r)).collect();
    (listing(key, items, p.more, p.next), date_range(&p.items))
}

/// §5.3 manifest and §5.4 get objects: the collection's objects, filtered and paged, each
/// shown by `item`; `what` names the endpoint in the selection cache's key.
async fn objects_listing(
    t: &Taxii,
    headers: &HeaderMap,
    cid: &str,
    p: Params,
    what: &str,
    item: fn(&Record) -> Value,
) -> Answer {
    let (_, c) = t.collection(headers, cid).await?;
    let params = params(p)?;
    let q = Filter::parse(&params, OBJECTS_PARAMS, t.config.max_page_size)?;
    let key = query::selection_key(&format!("{what}/{}", c.id), &params);
    let (body, range) = t
        .paged(&c, &q, &key, |p| listed("objects", p, item))
        .await?;
    Ok(taxii_dated(&body, range))
}

/// §5.3 manifest.
async fn manifest(
    State(t): State<Taxii>,
    headers: HeaderMap,
    Path(cid): Path<String>,
    p: Params,
) -> Answer {
    objects_listing(&t, &headers, &cid, p, "manifest", |r| {
        json!({
            "id": r.stix_id,
            "date_added": super::index::format_micros(r.date_added),
            "version": r.version,
            "media_type": STIX_MEDIA_TYPE,
        })
    })
    .await
}

/// Objects of one page as an envelope.
fn envelope(q: &Filter, records: Vec<&Record>) -> (Value, Option<(String, String)>) {
    listed(
        "objects",
        page(q.select(records.into_iter()), q.limit),
        |r| (*r.object).clone(),
    )
}

/// §5.4 get objects.
async fn objects_get(
    State(t): State<Taxii>,
    headers: HeaderMap,
    Path(cid): Path<String>,
    p: Params,
) -> Answer {
    objects_listing(&t, &headers, &cid, p, "objects", |r| (*r.object).clone()).await
}

/// §5.5 add objects.
async fn objects_post(
    State(t): State<Taxii>,
    headers: HeaderMap,
    Path(cid): Path<String>,
    body: Body,
) -> Answer {
    let (who, c) = t.collection(&headers, &cid).await?;
    if !c.can_write(&who, &t.config) {
        return Err(TaxiiError::Forbidden(if who.can_write {
            "this collection is read-only on this node"
        } else {
            "this user may read but not post"
        }));
    }
    check_content_type(&headers)?;
    let max = t.config.max_content_length;
    let announced = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(n) = announced.filter(|n| *n > max) {
        return Err(TaxiiError::TooLarge { size: n, max });
    }
    let limit = usize::try_from(max).unwrap_or(usize::MAX);
    let bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| TaxiiError::TooLarge {
            size: max.saturating_add(1),
            max,
        })?;
    let now = now_micros();
    let s = write::accept(&t, &who, &c, &bytes, now).await?;
    tracing::info!(
        user = %who.name,
        collection = %c.alias,
        status = %s.id,
        objects = s.successes.len() + s.failures.len() + s.pendings.len(),
        refused = s.failures.len(),
        "TAXII envelope accepted"
    );
    Ok(taxii(StatusCode::ACCEPTED, &s.to_json()))
}

/// The collection's records for one object id; 404 if it has none.
fn one<'a>(records: Vec<&'a Record>, oid: &str) -> Result<Vec<&'a Record>, TaxiiError> {
    let mine: Vec<&Record> = records.into_iter().filter(|r| r.stix_id == oid).collect();
    if mine.is_empty() {
        Err(TaxiiError::NotFound("object in this collection"))
    } else {
        Ok(mine)
    }
}

/// §5.6 get an object.
async fn object_get(
    State(t): State<Taxii>,
    headers: HeaderMap,
    Path((cid, oid)): Path<(String, String)>,
    p: Params,
) -> Answer {
    let (_, c) = t.collection(&headers, &cid).await?;
    let q = Filter::parse(&params(p)?, OBJECT_PARAMS, t.config.max_page_size)?;
    let (body, range) = t
        .view(&c, |records| one(records, &oid).map(|r| envelope(&q, r)))
        .await??;
    Ok(taxii_dated(&body, range))
}

/// §5.7 delete an object: the log is append-only, so nothing can be deleted. The
/// specification's answer for a client that may not delete is 403, with the reason.
async fn object_delete(
    State(t): State<Taxii>,
    headers: HeaderMap,
    Path((cid, oid)): Path<(String, String)>,
    p: Params,
) -> Answer {
    let (who, c) = t.collection(&headers, &cid).await?;
    Filter::parse(&params(p)?, DELETE_PARAMS, t.config.max_page_size)?;
    t.view(&c, |records| one(records, &oid).map(|_| ()))
        .await??;
    Err(TaxiiError::Forbidden(if c.can_write(&who, &t.config) {
        "objects cannot be deleted: this collection is an append-only signed log; post a new version with \"revoked\": true instead"
    } else {
        "this collection is read-only for this user, and objects in the append-only log cannot be deleted"
    }))
}

/// §5.8 versions of an object.
async fn versions(
    State(t): State<Taxii>,
    headers: HeaderMap,
    Path((cid, oid)): Path<(String, String)>,
    p: Params,
) -> Answer {
    let (_, c) = t.collection(&headers, &cid).await?;
    let mut q = Filter::parse(&params(p)?, VERSIONS_PARAMS, t.config.max_page_size)?;
    q.versions = query::Versions {
        all: true,
        ..query::Versions::default()
    };
    let (body, range) = t
        .view(&c, |records| {
            one(records, &oid).map(|r| {
                listed("versions", page(q.select(r.into_iter()), q.limit), |r| {
                    json!(r.version)
                })
            })
        })
        .await??;
    Ok(taxii_dated(&body, range))
}

/// The current time in microseconds since the epoch.
fn now_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}
