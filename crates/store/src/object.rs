//! [`ObjectTiles`]: the read path on S3-compatible object storage, for when one machine is
//! not enough (DESIGN.md, "Storage"). Tested against Garage.
//!
//! Why a worker thread: [`TileStore`] is synchronous and is called both from the
//! sequencer's own std thread and from inside tokio handlers, where starting or blocking
//! on another runtime panics. As [`crate::PostgresState`] does, the store owns one std
//! thread running a current-thread tokio runtime; each call spawns its requests onto that
//! runtime (which needs no runtime on the caller's side) and waits for the answer on a
//! std channel (which never touches tokio). Unlike PostgreSQL, requests run concurrently:
//! `write_files` keeps up to [`PUTS_IN_FLIGHT`] PUTs in flight.
//!
//! Durability: a PUT that succeeded is durable (S3 acknowledges a PUT only once the object
//! is stored; Garage once its replicas wrote it), atomic (a reader sees the old object or
//! the new one, never part of one) and visible to every later GET (S3 has strong
//! read-after-write consistency, Garage too). So `write_files` returns `Ok` only when every
//! PUT succeeded.
//!
//! Bounded in time: each request is bounded by the HTTP client's timeout, retried by
//! `object_store` at most [`RETRIES`] times, and cut off after [`REQUEST_TIMEOUT`] in all,
//! so a hung server fails a call in seconds; retrying longer is the caller's choice (the
//! host retries with backoff, counting every failure).
//!
//! Not trusted: whoever controls the bucket can delete or alter objects (availability),
//! but not undetected: nodes verify every tile and entry against signed checkpoints.
//!
//! Caching: full tiles, full entry bundles and blobs never change once a checkpoint covers
//! them (a blob is named by its hash), so they are stored with `Cache-Control: public,
//! max-age=31536000, immutable` and a CDN may keep them for a year. Partial tiles and
//! bundles are replaced by wider ones, and the checkpoint by the next one, so they get
//! `Cache-Control: no-cache` (a cache must revalidate each time): a stale checkpoint would
//! hide new entries. A full tile written in a crash window and rewritten before any
//! checkpoint covered it (see the [`TileStore`] contract) is not requested by a reader
//! that follows checkpoints; one that guessed it and cached the first version would fail
//! verification against the checkpoint, not be misled.

use std::future::Future;
use std::sync::Arc;
use std::sync::mpsc as std_mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use object_store::aws::{AmazonS3, AmazonS3Builder, AmazonS3ConfigKey};
use object_store::path::Path;
use object_store::{
    Attribute, Attributes, BackoffConfig, ClientConfigKey, ObjectStore, ObjectStoreExt, PutOptions,
    PutPayload, RetryConfig,
};
use tokio::sync::oneshot;
use tokio::task::JoinSet;

use crate::fs::valid_path;
use crate::{StoreError, TileStore};

/// Most PUTs of one `write_files` in flight at once.
pub const PUTS_IN_FLIGHT: usize = 16;
/// The longest one request may take, including `object_store`'s own retries, before it
/// fails with [`StoreError::ObjectTimeout`].
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);
/// The HTTP client's limit on one attempt (connect, send, receive the whole body).
const ATTEMPT_TIMEOUT: &str = "8s";
/// The HTTP client's limit on connecting.
const CONNECT_TIMEOUT: &str = "3s";
/// Retries of one request inside `object_store` (on connection errors and 5xx).
pub const RETRIES: usize = 2;

/// `Cache-Control` of objects that never change: full tiles, full bundles, blobs.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// `Cache-Control` of objects that are replaced: the checkpoint, partial tiles/bundles.
const REVALIDATE: &str = "no-cache";

/// A tlog-tiles tree in an S3 bucket, under a prefix; meets every contract of
/// [`TileStore`].
pub struct ObjectTiles {
    store: Arc<AmazonS3>,
    prefix: String,
    url: String,
    runtime: tokio::runtime::Handle,
    stop: Option<oneshot::Sender<()>>,
    worker: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for ObjectTiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL holds no credentials (they come from the environment).
        f.debug_struct("ObjectTiles")
            .field("url", &self.url)
            .finish()
    }
}

/// Splits `s3://BUCKET[/PREFIX]` into the bucket and the prefix (without slashes at
/// either end; empty when absent).
fn parse_url(url: &str) -> Result<(&str, &str), StoreError> {
    let bad = |why: &str| StoreError::ObjectUrl(format!("{url:?}: {why}"));
    let rest = url
        .strip_prefix("s3://")
        .ok_or_else(|| bad("expected s3://BUCKET/PREFIX"))?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.is_empty() {
        return Err(bad("the bucket name is missing"));
    }
    let prefix = prefix.trim_matches('/');
    if Path::parse(prefix).is_err() || prefix.contains("//") {
        return Err(bad("the prefix is not a valid object path"));
    }
    Ok((bucket, prefix))
}

/// How to reach an S3-compatible service, for what the environment does not say (or says
/// otherwise): every field that is `Some` overrides the matching `AWS_*` variable.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct S3Settings {
    /// The service's URL, e.g. `http://127.0.0.1:3900` (`AWS_ENDPOINT_URL`).
    pub endpoint: Option<String>,
    /// The region (`AWS_REGION`); S3-compatible servers name their own (Garage: `garage`).
    pub region: Option<String>,
    /// The access key id (`AWS_ACCESS_KEY_ID`).
    pub access_key_id: Option<String>,
    /// The secret access key (`AWS_SECRET_ACCESS_KEY`). Never shown by `Debug`.
    pub secret_access_key: Option<String>,
    /// Whether a plain-HTTP endpoint is allowed (`AWS_ALLOW_HTTP`).
    pub allow_http: Option<bool>,
}

impl std::fmt::Debug for S3Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Settings")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field(
                "secret_access_key",
                &self.secret_access_key.as_ref().map(|_| "…"),
            )
            .field("allow_http", &self.allow_http)
            .finish()
    }
}

impl S3Settings {
    /// `builder` with every setting given here applied over what it read from the
    /// environment.
    fn apply(&self, mut builder: AmazonS3Builder) -> AmazonS3Builder {
        if let Some(e) = &self.endpoint {
            builder = builder.with_endpoint(e);
        }
        if let Some(r) = &self.region {
            builder = builder.with_region(r);
        }
        if let Some(k) = &self.access_key_id {
            builder = builder.with_access_key_id(k);
        }
        if let Some(k) = &self.secret_access_key {
            builder = builder.with_secret_access_key(k);
        }
        if let Some(h) = self.allow_http {
            builder = builder.with_allow_http(h);
        }
        builder
    }
}

impl ObjectTiles {
    /// Opens the tree at `s3://BUCKET/PREFIX` (the prefix may be empty), with the endpoint,
    /// region and credentials from the usual AWS environment variables: `AWS_ENDPOINT_URL`
    /// (or `AWS_ENDPOINT`), `AWS_REGION`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, and
    /// `AWS_ALLOW_HTTP=true` for a plain-HTTP endpoint. Requests are path-style
    /// (`ENDPOINT/BUCKET/KEY`), which every S3-compatible server accepts.
    ///
    /// Reads the checkpoint once, so that a wrong endpoint, bucket or key fails here
    /// rather than at the first write.
    pub fn open(url: &str) -> Result<ObjectTiles, StoreError> {
        ObjectTiles::open_with(url, &S3Settings::default())
    }

    /// [`ObjectTiles::open`] with `settings` over the environment (for instance from a
    /// configuration file).
    pub fn open_with(url: &str, settings: &S3Settings) -> Result<ObjectTiles, StoreError> {
        let (bucket, prefix) = parse_url(url)?;
        let retry = RetryConfig {
            backoff: BackoffConfig {
                init_backoff: Duration::from_millis(100),
                max_backoff: Duration::from_secs(1),
                base: 2.0,
            },
            max_retries: RETRIES,
            retry_timeout: REQUEST_TIMEOUT,
        };
        let store = settings
            .apply(AmazonS3Builder::from_env())
            .with_bucket_name(bucket)
            .with_virtual_hosted_style_request(false)
            .with_config(
                AmazonS3ConfigKey::Client(ClientConfigKey::Timeout),
                ATTEMPT_TIMEOUT,
            )
            .with_config(
                AmazonS3ConfigKey::Client(ClientConfigKey::ConnectTimeout),
                CONNECT_TIMEOUT,
            )
            .with_retry(retry)
            .build()?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|source| StoreError::Io {
                path: "the object store's runtime".into(),
                source,
            })?;
        let handle = runtime.handle().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let worker = std::thread::Builder::new()
            .name("detente-object-store".into())
            .spawn(move || {
                // Drives every request spawned on `handle` until the store is dropped.
                let _ = runtime.block_on(stopped);
            })
            .map_err(|source| StoreError::Io {
                path: "the object store's thread".into(),
                source,
            })?;
        let tiles = ObjectTiles {
            store: Arc::new(store),
            prefix: prefix.to_owned(),
            url: url.to_owned(),
            runtime: handle,
            stop: Some(stop),
            worker: Some(worker),
        };
        tiles.read("checkpoint")?;
        Ok(tiles)
    }

    /// The URL it was opened with.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The object key of a tlog-tiles path, refusing paths outside the layout.
    fn key(&self, path: &str) -> Result<Path, StoreError> {
        if !valid_path(path) {
            return Err(StoreError::BadPath(path.chars().take(100).collect()));
        }
        // A valid path is ASCII with non-empty segments, so `from` changes nothing in it.
        Ok(if self.prefix.is_empty() {
            Path::from(path)
        } else {
            Path::from(format!("{}/{path}", self.prefix))
        })
    }

    /// Runs `work` on the store's runtime and waits for it, bounded by `timeout`.
    fn run<T, F>(&self, timeout: Duration, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: Future<Output = Result<T, StoreError>> + Send + 'static,
    {
        let (reply, answer) = std_mpsc::sync_channel(1);
        self.runtime.spawn(async move {
            let result = tokio::time::timeout(timeout, work)
                .await
                .unwrap_or_else(|_| {
                    Err(StoreError::ObjectTimeout {
                        seconds: timeout.as_secs(),
                    })
                });
            // The caller may have gone; then nobody wants the answer.
            let _ = reply.send(result);
        });
        // The task is dropped unrun, and the sender with it, once the runtime is gone.
        answer.recv().map_err(|_| StoreError::ObjectStopped)?
    }
}

impl Drop for ObjectTiles {
    fn drop(&mut self) {
        // Ends the worker's `block_on`; dropping the runtime there cancels what is left.
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(worker) = self.worker.take() {
            // A worker that panicked has nothing left to clean up.
            let _ = worker.join();
        }
    }
}

/// The headers of an object at `path` (see the module documentation on caching).
fn attributes(path: &str) -> Attributes {
    let (cache, content_type) = if path == "checkpoint" {
        (REVALIDATE, "text/plain; charset=utf-8")
    } else if path.contains(".p/") {
        (REVALIDATE, "application/octet-stream")
    } else {
        (IMMUTABLE, "application/octet-stream")
    };
    let mut attributes = Attributes::new();
    attributes.insert(Attribute::CacheControl, cache.into());
    attributes.insert(Attribute::ContentType, content_type.into());
    attributes
}

/// One PUT, bounded by [`REQUEST_TIMEOUT`].
async fn put(
    store: Arc<AmazonS3>,
    key: Path,
    path: String,
    bytes: Vec<u8>,
) -> Result<(), StoreError> {
    let options = PutOptions::from(attributes(&path));
    let put = store.put_opts(&key, PutPayload::from(bytes), options);
    match tokio::time::timeout(REQUEST_TIMEOUT, put).await {
        Ok(result) => result.map(|_| ()).map_err(StoreError::from),
        Err(_) => Err(StoreError::ObjectTimeout {
            seconds: REQUEST_TIMEOUT.as_secs(),
        }),
    }
}

/// PUTs every file, at most [`PUTS_IN_FLIGHT`] at once; the first error wins (the other
/// PUTs are cancelled when the set is dropped).
async fn put_all(
    store: Arc<AmazonS3>,
    files: Vec<(Path, String, Vec<u8>)>,
) -> Result<(), StoreError> {
    let mut running = JoinSet::new();
    for (key, path, bytes) in files {
        if running.len() >= PUTS_IN_FLIGHT {
            join_one(&mut running).await?;
        }
        running.spawn(put(store.clone(), key, path, bytes));
    }
    while !running.is_empty() {
        join_one(&mut running).await?;
    }
    Ok(())
}

async fn join_one(running: &mut JoinSet<Result<(), StoreError>>) -> Result<(), StoreError> {
    match running.join_next().await {
        Some(Ok(result)) => result,
        // A PUT task panicked (or was cancelled): the write did not happen.
        Some(Err(_)) => Err(StoreError::ObjectStopped),
        None => Ok(()),
    }
}

impl TileStore for ObjectTiles {
    fn write_files(&self, files: &[(String, Vec<u8>)]) -> Result<(), StoreError> {
        // Every path is checked before anything is written.
        let files = files
            .iter()
            .map(|(path, bytes)| Ok((self.key(path)?, path.clone(), bytes.clone())))
            .collect::<Result<Vec<_>, StoreError>>()?;
        if files.is_empty() {
            return Ok(());
        }
        // Each PUT is bounded by REQUEST_TIMEOUT; this outer bound only catches a runtime
        // that stopped making progress, and scales with the number of rounds.
        let rounds = files.len().div_ceil(PUTS_IN_FLIGHT) as u32;
        let store = self.store.clone();
        self.run(REQUEST_TIMEOUT * (rounds + 1), put_all(store, files))
    }

    fn publish_checkpoint(&self, note: &[u8]) -> Result<(), StoreError> {
        // A single PUT replaces the object atomically.
        self.write_files(&[("checkpoint".to_owned(), note.to_vec())])
    }

    fn read(&self, path: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let key = self.key(path)?;
        let store = self.store.clone();
        self.run(REQUEST_TIMEOUT, async move {
            match store.get(&key).await {
                Ok(found) => Ok(Some(found.bytes().await?.to_vec())),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(e.into()),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn urls() {
        assert_eq!(parse_url("s3://b").unwrap(), ("b", ""));
        assert_eq!(parse_url("s3://b/").unwrap(), ("b", ""));
        assert_eq!(parse_url("s3://b/p/q/").unwrap(), ("b", "p/q"));
        for bad in [
            "s3://",
            "s3:///p",
            "file:///x",
            "b/p",
            "s3://b/p//q",
            "s3://b/../x",
        ] {
            assert!(
                matches!(parse_url(bad), Err(StoreError::ObjectUrl(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn cache_headers() {
        let cache = |p: &str| attributes(p).get(&Attribute::CacheControl).cloned();
        for immutable in ["tile/0/000", "tile/entries/x001/002", "blob/00"] {
            assert_eq!(cache(immutable), Some(IMMUTABLE.into()), "{immutable}");
        }
        for replaced in ["checkpoint", "tile/0/000.p/5", "tile/entries/001.p/9"] {
            assert_eq!(cache(replaced), Some(REVALIDATE.into()), "{replaced}");
        }
    }
}
