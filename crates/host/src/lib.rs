//! The Détente host: admits signed statements through the group fold, sequences them into
//! the log in durable batches, and serves the log to members.
//!
//! Trusted for nothing but availability: every member's node re-verifies all it reads.
//! The sequencer ([`sequencer`]) is one thread that owns the group's state; the HTTP API
//! ([`http`]) verifies signatures in parallel, bounds everything at the edge and hands
//! statements to the sequencer; reads are for members only ([`auth`]).

pub mod auth;
pub mod config;
mod cosigning;
mod failover;
pub mod fold;
pub mod http;
pub mod keys;
pub mod lease;
pub mod metrics;
mod open;
pub mod rate;
pub mod recover;
pub mod retry;
pub mod sequencer;
pub mod tiles;
pub mod witnesses;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use ed25519_dalek::VerifyingKey;
use statement::{MemberId, Signed, StatementId};
use store::{StoreError, TileStore};

use crate::fold::Fold;

pub use config::{BatchConfig, HostConfig, Limits, StateUrl};
pub use lease::Role;
pub use recover::Opening;
pub use sequencer::{Outcome, Receipt, Refusal, Sequencer, Submission};

/// Why the host could not start or keep going.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HostError {
    /// The configuration is wrong; the message says how to fix it.
    #[error("configuration: {0}")]
    Config(String),
    /// The genesis statement is not acceptable.
    #[error("genesis: {0}")]
    Genesis(String),
    /// This host's sequencer lease ran out during a batch; nothing of it was committed.
    #[error("the sequencer lease ran out before the batch could be committed")]
    LeaseLost,
    /// Stored state is inconsistent; the host refuses to guess.
    #[error("refusing to start: {0}")]
    Corrupt(String),
    /// A store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The filesystem failed.
    #[error("I/O error on {path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
}

impl HostError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> HostError {
        HostError::Io {
            path: path.display().to_string(),
            source,
        }
    }
}

/// What a member's entry in the membership snapshot says.
#[derive(Debug, Clone)]
pub struct MemberView {
    /// Current signing key.
    pub key: VerifyingKey,
    /// Still a member.
    pub active: bool,
    /// Seq of its latest statement in the committed log.
    pub last_seq: u64,
    /// Id of that statement.
    pub last_id: Option<StatementId>,
}

/// State shared by the sequencer (writer) and the HTTP handlers (readers).
#[derive(Debug, Default)]
pub struct Shared {
    members: RwLock<HashMap<MemberId, MemberView>>,
    published: RwLock<(u64, Arc<String>)>,
    role: RwLock<Role>,
    failed: AtomicBool,
    /// Metrics.
    pub metrics: metrics::Metrics,
}

impl Shared {
    /// Replaces the membership snapshot with the group's.
    pub fn refresh_members(&self, fold: &Fold) {
        let view = fold
            .members()
            .iter()
            .map(|(id, m)| {
                let v = MemberView {
                    key: *m.key.verifying_key(),
                    active: m.active,
                    last_seq: m.last_seq,
                    last_id: m.last_id,
                };
                (id.clone(), v)
            })
            .collect();
        *self
            .members
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = view;
    }

    /// Records a newly published checkpoint (and the members' chains at that point).
    pub fn publish(&self, fold: &Fold, size: u64, checkpoint: Arc<String>) {
        self.refresh_members(fold);
        *self
            .published
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = (size, checkpoint);
    }

    /// A member's entry.
    pub fn member(&self, id: &MemberId) -> Option<MemberView> {
        self.members
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(id)
            .cloned()
    }

    /// The published tree size and checkpoint note.
    pub fn published(&self) -> (u64, Arc<String>) {
        self.published
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Records who sequences now.
    pub fn set_role(&self, role: Role) {
        self.metrics.set_leader(role == Role::Leader);
        *self
            .role
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = role;
    }

    /// Who sequences, as this host last saw it.
    pub fn role(&self) -> Role {
        self.role
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn set_failed(&self) {
        self.failed.store(true, Ordering::SeqCst);
    }

    /// Whether the sequencer stopped for good.
    pub fn failed(&self) -> bool {
        self.failed.load(Ordering::SeqCst)
    }
}

/// A running host.
pub struct Host {
    /// The address it listens on.
    pub addr: SocketAddr,
    /// The log's verifier key.
    pub vkey: String,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: tokio::task::JoinHandle<()>,
    sequencer: Option<std::thread::JoinHandle<()>>,
}

impl Host {
    /// Opens the log in `config.data` (creating the key and stores on first start),
    /// recovers or founds it, binds the listener and starts serving.
    pub async fn start(config: HostConfig) -> Result<Host, HostError> {
        Host::start_with_tiles(config, None).await
    }

    /// [`Host::start`], with the read path in `tiles` instead of the one the configuration
    /// names (for tests that wrap a store to inject faults).
    pub async fn start_with_tiles(
        config: HostConfig,
        tiles: Option<Arc<dyn TileStore>>,
    ) -> Result<Host, HostError> {
        let genesis = read_genesis(config.genesis.as_deref())?;
        let origin = match (
            &genesis,
            std::fs::read_to_string(config.data.join(keys::VKEY_FILE)),
        ) {
            (Some(g), _) => g.statement().group.clone(),
            (None, Ok(vkey)) => vkey.split('+').next().unwrap_or_default().to_owned(),
            (None, Err(_)) => {
                return Err(HostError::Config(format!(
                    "{} holds no log: start with --genesis FILE",
                    config.data.display()
                )));
            }
        };
        let (signer, _) = keys::load_or_create(&config.data, &origin)?;
        let vkey = signer.verifier().to_vkey();
        let tiles = match tiles {
            Some(t) => t,
            None => open::open_tiles(&config).await?,
        };
        let state = open::open_state(&config).await?;
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|e| HostError::io(Path::new(&config.listen.to_string()), e))?;
        let addr = listener
            .local_addr()
            .map_err(|e| HostError::io(Path::new("listener"), e))?;
        let shared = Arc::new(Shared::default());
        let tiles: Arc<dyn TileStore> =
            Arc::new(retry::Retrying::new(tiles, shared.clone()).within_lease(config.lease()));
        let advertise = config
            .advertise
            .clone()
            .unwrap_or_else(|| format!("http://{addr}"));
        let cache = Arc::new(tiles::TileCache::default());
        let opening = Opening {
            tiles: tiles.clone(),
            cache: cache.clone(),
            state: state.clone(),
            signer,
            shared: shared.clone(),
            genesis,
            runtime: tokio::runtime::Handle::current(),
            address: advertise.clone(),
            lease: config.lease(),
        };
        let sequencer = tokio::task::spawn_blocking(move || Sequencer::open(opening))
            .await
            .map_err(|e| HostError::Corrupt(format!("sequencer start panicked: {e}")))??;
        let (tx, rx) = std::sync::mpsc::channel();
        let batch = config.batch.clone();
        let sequencer = std::thread::Builder::new()
            .name("sequencer".into())
            .spawn(move || sequencer.run(rx, batch))
            .map_err(|e| HostError::io(Path::new("sequencer thread"), e))?;
        let app = http::App::new(
            tx,
            shared,
            (tiles, cache),
            state,
            config.limits.clone(),
            advertise,
        );
        let (shutdown, signal) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let serve = axum::serve(listener, http::router(app)).with_graceful_shutdown(async {
                let _ = signal.await;
            });
            if let Err(e) = serve.await {
                tracing::error!(error = %e, "HTTP server failed");
            }
        });
        tracing::info!(%addr, %vkey, "host listening");
        Ok(Host {
            addr,
            vkey,
            shutdown: Some(shutdown),
            server,
            sequencer: Some(sequencer),
        })
    }

    /// Stops accepting requests, lets the sequencer finish the batch in flight, and
    /// returns when both have stopped.
    pub async fn stop(mut self) {
        if let Some(s) = self.shutdown.take() {
            let _ = s.send(());
        }
        let _ = (&mut self.server).await;
        // The router (and with it the last submission sender) is dropped with the server,
        // which ends the sequencer's loop after its current batch.
        if let Some(t) = self.sequencer.take() {
            let _ = tokio::task::spawn_blocking(move || t.join()).await;
        }
    }
}

fn read_genesis(path: Option<&Path>) -> Result<Option<Signed>, HostError> {
    let Some(path) = path else { return Ok(None) };
    let bytes = std::fs::read(path).map_err(|e| HostError::io(path, e))?;
    Signed::from_json(&bytes)
        .map(Some)
        .map_err(|e| HostError::Genesis(format!("{}: {e}", path.display())))
}
