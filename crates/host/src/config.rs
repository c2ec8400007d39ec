//! The host's configuration: command-line flags or a TOML file with the same keys.
//! Unknown keys are refused (fail closed), every option has a documented default.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::HostError;

/// Everything `detente host` needs.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostConfig {
    /// Directory of the log: `state.sqlite`, the tlog-tiles tree under `tiles/`, the log's
    /// key (`log.key`, owner-only) and verifier key (`log.vkey`).
    pub data: PathBuf,
    /// Address to listen on. Default `127.0.0.1:8470`.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// The assembled genesis statement (JSON). Needed on first start; on later starts it
    /// is checked against entry 0.
    #[serde(default)]
    pub genesis: Option<PathBuf>,
    /// Sequencing.
    #[serde(default)]
    pub batch: BatchConfig,
    /// Limits at the edge.
    #[serde(default)]
    pub limits: Limits,
}

/// How admitted statements are batched into the log.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchConfig {
    /// Longest a statement waits for its batch to be sequenced, in milliseconds.
    /// Default 100. Lower means lower latency and more fsyncs.
    #[serde(default = "default_interval_ms")]
    pub interval_ms: u64,
    /// Most statements in one batch. Default 4096.
    #[serde(default = "default_max_entries")]
    pub max_entries: usize,
}

/// Limits on what a client may send.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Largest request body in bytes (413 beyond). Default 8 MiB.
    #[serde(default = "default_max_body")]
    pub max_body_bytes: usize,
    /// Most statements in one POST (413 beyond). Default 4096.
    #[serde(default = "default_max_batch")]
    pub max_statements_per_request: usize,
    /// Statements a member may submit per second, sustained (429 beyond). Default 5000.
    #[serde(default = "default_rate")]
    pub statements_per_member_per_second: u32,
    /// Burst above the sustained rate. Default 20000.
    #[serde(default = "default_burst")]
    pub statements_per_member_burst: u32,
    /// Largest blob in bytes. Default 64 MiB.
    #[serde(default = "default_max_blob")]
    pub max_blob_bytes: usize,
    /// Allowed clock difference for signed read requests, in seconds. Default 300.
    #[serde(default = "default_skew")]
    pub read_auth_skew_seconds: u64,
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8470))
}
fn default_interval_ms() -> u64 {
    100
}
fn default_max_entries() -> usize {
    4096
}
fn default_max_body() -> usize {
    8 << 20
}
fn default_max_batch() -> usize {
    4096
}
fn default_rate() -> u32 {
    5000
}
fn default_burst() -> u32 {
    20_000
}
fn default_max_blob() -> usize {
    64 << 20
}
fn default_skew() -> u64 {
    300
}

impl Default for BatchConfig {
    fn default() -> BatchConfig {
        BatchConfig {
            interval_ms: default_interval_ms(),
            max_entries: default_max_entries(),
        }
    }
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_body_bytes: default_max_body(),
            max_statements_per_request: default_max_batch(),
            statements_per_member_per_second: default_rate(),
            statements_per_member_burst: default_burst(),
            max_blob_bytes: default_max_blob(),
            read_auth_skew_seconds: default_skew(),
        }
    }
}

impl BatchConfig {
    /// The batch interval.
    pub fn interval(&self) -> Duration {
        Duration::from_millis(self.interval_ms.max(1))
    }
}

impl HostConfig {
    /// A configuration with every default, for the log in `data`.
    pub fn new(data: impl Into<PathBuf>) -> HostConfig {
        HostConfig {
            data: data.into(),
            listen: default_listen(),
            genesis: None,
            batch: BatchConfig::default(),
            limits: Limits::default(),
        }
    }

    /// Reads a TOML configuration file. Unknown keys are an error.
    pub fn from_toml_file(path: &Path) -> Result<HostConfig, HostError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| HostError::Config(format!("cannot read {}: {e}", path.display())))?;
        toml::from_str(&text).map_err(|e| HostError::Config(format!("{}: {e}", path.display())))
    }
}
