//! `detente node serve`: the node's local HTTP server for the member's own people and
//! tools — TAXII 2.1 ([`crate::taxii`]) and the web console ([`crate::console`]) on one
//! port — with a background sync that keeps the replica current.
//!
//! Everything served comes from the verified replica. The node is shared between the
//! handlers and the sync loop behind one async mutex ([`Shared::node`]); a failed sync is
//! kept in [`Health`] for the console and the logs, and never changes the replica.

pub mod users;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::http::HeaderMap;
use serde::Serialize;
use tokio::sync::{Mutex, MutexGuard, watch};

use crate::{Node, NodeError, Synced};
pub use users::{AuthError, Principal, Users};

/// How the server runs.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Address to listen on (keep it on loopback or behind a TLS proxy).
    pub listen: SocketAddr,
    /// How often the background sync runs.
    pub sync_every: Duration,
}

/// The state of the node's syncing, as the console shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Health {
    /// Unix time of the last sync attempt.
    pub last_attempt: Option<i64>,
    /// Unix time of the last sync that succeeded.
    pub last_success: Option<i64>,
    /// Verified tree size after the last successful sync.
    pub size: u64,
    /// Why the last attempt failed, if it did.
    pub last_error: Option<String>,
    /// Where the evidence is, if the last failure was the host misbehaving.
    pub evidence: Option<PathBuf>,
}

struct Inner {
    node: Mutex<Node>,
    data: PathBuf,
    health: std::sync::Mutex<Health>,
}

/// What every handler holds: the node, its users and its health. Cheap to clone.
#[derive(Clone)]
pub struct Shared(Arc<Inner>);

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

impl Shared {
    /// Wraps a node for serving.
    pub fn new(node: Node) -> Shared {
        let data = node.data().to_path_buf();
        Shared(Arc::new(Inner {
            node: Mutex::new(node),
            data,
            health: std::sync::Mutex::new(Health::default()),
        }))
    }

    /// The node, locked. Hold the guard briefly: the sync loop and every handler wait on it.
    pub async fn node(&self) -> MutexGuard<'_, Node> {
        self.0.node.lock().await
    }

    /// The node's directory.
    pub fn data(&self) -> &std::path::Path {
        &self.0.data
    }

    /// Checks a request's credentials against the node's users (re-read on each request,
    /// so `detente node user add` takes effect without a restart).
    pub fn authenticate(&self, headers: &HeaderMap) -> Result<Principal, AuthError> {
        let users = Users::load(&self.0.data).map_err(|e| {
            tracing::error!(error = %e, "cannot read the node's users");
            AuthError::Wrong
        })?;
        users.authenticate(headers)
    }

    /// The sync health.
    pub fn health(&self) -> Health {
        self.0.health.lock().map(|h| h.clone()).unwrap_or_default()
    }

    /// Syncs now and records the outcome in [`Health`].
    pub async fn sync_now(&self) -> Result<Synced, NodeError> {
        let result = self.node().await.sync().await;
        let now = unix_now();
        if let Ok(mut h) = self.0.health.lock() {
            h.last_attempt = Some(now);
            match &result {
                Ok(s) => {
                    h.last_success = Some(now);
                    h.size = s.to;
                    h.last_error = None;
                    h.evidence = None;
                }
                Err(e) => {
                    h.last_error = Some(e.to_string());
                    h.evidence = match e {
                        NodeError::HostMisbehaved(r) => Some(r.evidence.clone()),
                        _ => None,
                    };
                }
            }
        }
        result
    }
}

/// The node's whole local API: TAXII 2.1 under `/taxii2/` and the console everywhere else.
pub fn router(shared: Shared) -> Router {
    crate::taxii::router(shared.clone()).merge(crate::console::router(shared))
}

/// A running node server.
pub struct Server {
    addr: SocketAddr,
    shared: Shared,
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Server {
    /// Binds `config.listen`, starts the background sync and serves until [`Server::stop`].
    pub async fn start(node: Node, config: ServeConfig) -> Result<Server, NodeError> {
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|e| NodeError::Setup(format!("cannot listen on {}: {e}", config.listen)))?;
        let addr = listener
            .local_addr()
            .map_err(|e| NodeError::Setup(format!("no local address: {e}")))?;
        let shared = Shared::new(node);
        let (stop, stopped) = watch::channel(false);
        let mut tasks = Vec::new();
        let mut until = stopped.clone();
        let app = router(shared.clone());
        tasks.push(tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
                let _ = until.wait_for(|s| *s).await;
            });
            if let Err(e) = serve.await {
                tracing::error!(error = %e, "the node's HTTP server failed");
            }
        }));
        tasks.push(tokio::spawn(sync_loop(
            shared.clone(),
            config.sync_every,
            stopped,
        )));
        tracing::info!(%addr, "node serving");
        Ok(Server {
            addr,
            shared,
            stop,
            tasks,
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The shared state (for tests and the binary).
    pub fn shared(&self) -> &Shared {
        &self.shared
    }

    /// Stops serving and syncing, waiting for requests in flight.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

async fn sync_loop(shared: Shared, every: Duration, mut stopped: watch::Receiver<bool>) {
    loop {
        match shared.sync_now().await {
            Ok(s) if s.to > s.from => tracing::info!(from = s.from, to = s.to, "synced"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "sync failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stopped.wait_for(|s| *s) => return,
        }
    }
}
