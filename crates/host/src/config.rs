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
    /// Where the sequencer's state (head and dedup index) lives. Default: absent, the
    /// SQLite file `state.sqlite` in `data`. A `postgres://user:password@host/db` URL keeps
    /// it in PostgreSQL instead (no TLS: loopback or a private network only). The state
    /// and the tiles must always be used together; pointing a log at another log's state
    /// makes the host refuse to start.
    #[serde(default)]
    pub state: Option<StateUrl>,
    /// Where the read path (tiles, entry bundles, checkpoint, blobs) lives. Default:
    /// absent, the directory `tiles/` in `data`. `file:///DIR` names another directory;
    /// `s3://BUCKET/PREFIX` an S3-compatible bucket, with endpoint, region and credentials
    /// from the `[s3]` table, else the `AWS_*` environment variables. Like the state, the
    /// tiles belong to one log.
    #[serde(default)]
    pub tiles: Option<TilesUrl>,
    /// How to reach the bucket `tiles` names; each key given overrides its `AWS_*`
    /// variable. Only with `tiles = "s3://…"`.
    #[serde(default)]
    pub s3: S3Config,
    /// Address to listen on. Default `127.0.0.1:8470`.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// The assembled genesis statement (JSON). Needed on first start; on later starts it
    /// is checked against entry 0.
    #[serde(default)]
    pub genesis: Option<PathBuf>,
    /// This host's URL as the other hosts sharing its stores reach it: while it holds the
    /// sequencer lease they forward submissions there. Default `http://` + the address it
    /// listens on.
    #[serde(default)]
    pub advertise: Option<String>,
    /// Length of the sequencer lease, in milliseconds, when several hosts share the stores:
    /// after the leader dies another takes over within about this long. Default 5000.
    #[serde(default = "default_lease_ms")]
    pub lease_ms: u64,
    /// Sequencing.
    #[serde(default)]
    pub batch: BatchConfig,
    /// Limits at the edge.
    #[serde(default)]
    pub limits: Limits,
}

fn default_lease_ms() -> u64 {
    5000
}

/// A PostgreSQL URL for the sequencer's state, checked when parsed. Its `Debug` form hides
/// the URL, which may hold a password.
#[derive(Clone, Deserialize)]
#[serde(try_from = "String")]
pub struct StateUrl(String);

impl StateUrl {
    /// The URL as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for StateUrl {
    type Error = HostError;

    /// Accepts `postgres://` and `postgresql://` URLs; anything else is a configuration
    /// error saying what is supported.
    fn try_from(url: String) -> Result<StateUrl, HostError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(StateUrl(url))
        } else {
            Err(HostError::Config(
                "state must be a postgres://user:password@host/db URL (omit it to keep the \
                 state in data/state.sqlite)"
                    .into(),
            ))
        }
    }
}

impl std::str::FromStr for StateUrl {
    type Err = HostError;

    fn from_str(url: &str) -> Result<StateUrl, HostError> {
        StateUrl::try_from(url.to_owned())
    }
}

impl std::fmt::Debug for StateUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StateUrl(postgres://…)")
    }
}

/// Where the read path lives, checked when parsed: a directory or an S3 bucket.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub enum TilesUrl {
    /// `file:///DIR`: a local directory (absolute path).
    Dir(PathBuf),
    /// `s3://BUCKET/PREFIX`: an S3-compatible bucket, the URL as given (it holds no
    /// credentials; they come from the environment).
    S3(String),
}

impl TryFrom<String> for TilesUrl {
    type Error = HostError;

    /// Accepts `file:///DIR` (an absolute path) and `s3://BUCKET[/PREFIX]`; anything else
    /// is a configuration error saying what is supported.
    fn try_from(url: String) -> Result<TilesUrl, HostError> {
        if let Some(path) = url.strip_prefix("file://")
            && path.starts_with('/')
        {
            return Ok(TilesUrl::Dir(PathBuf::from(path)));
        }
        if let Some(rest) = url.strip_prefix("s3://")
            && !rest.is_empty()
            && !rest.starts_with('/')
        {
            return Ok(TilesUrl::S3(url));
        }
        Err(HostError::Config(format!(
            "tiles must be file:///ABSOLUTE/DIR or s3://BUCKET/PREFIX, not {url:?} (omit it \
             to keep the tiles in data/tiles)"
        )))
    }
}

impl std::str::FromStr for TilesUrl {
    type Err = HostError;

    fn from_str(url: &str) -> Result<TilesUrl, HostError> {
        TilesUrl::try_from(url.to_owned())
    }
}

/// The `[s3]` table: endpoint, region and credentials of an S3-compatible service, for a
/// host whose `tiles` is `s3://…`. Every key is optional and overrides the environment
/// variable named beside it; `Debug` hides the secret.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct S3Config {
    /// The service's URL, e.g. `http://127.0.0.1:3900` (`AWS_ENDPOINT_URL`).
    #[serde(default)]
    pub endpoint: Option<String>,
    /// The region (`AWS_REGION`).
    #[serde(default)]
    pub region: Option<String>,
    /// The access key id (`AWS_ACCESS_KEY_ID`).
    #[serde(default)]
    pub access_key_id: Option<String>,
    /// The secret access key (`AWS_SECRET_ACCESS_KEY`); keep the file owner-only.
    #[serde(default)]
    pub secret_access_key: Option<String>,
    /// Allow a plain-HTTP endpoint (`AWS_ALLOW_HTTP`).
    #[serde(default)]
    pub allow_http: Option<bool>,
}

impl std::fmt::Debug for S3Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.settings().fmt(f)
    }
}

impl S3Config {
    /// True when no key is set.
    pub fn is_empty(&self) -> bool {
        *self == S3Config::default()
    }

    /// The object store's settings.
    pub fn settings(&self) -> store::S3Settings {
        store::S3Settings {
            endpoint: self.endpoint.clone(),
            region: self.region.clone(),
            access_key_id: self.access_key_id.clone(),
            secret_access_key: self.secret_access_key.clone(),
            allow_http: self.allow_http,
        }
    }
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
            state: None,
            tiles: None,
            s3: S3Config::default(),
            listen: default_listen(),
            genesis: None,
            advertise: None,
            lease_ms: default_lease_ms(),
            batch: BatchConfig::default(),
            limits: Limits::default(),
        }
    }

    /// The sequencer lease's length (at least 300 ms).
    pub fn lease(&self) -> Duration {
        Duration::from_millis(self.lease_ms.max(300))
    }

    /// Reads a TOML configuration file. Unknown keys are an error.
    pub fn from_toml_file(path: &Path) -> Result<HostConfig, HostError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| HostError::Config(format!("cannot read {}: {e}", path.display())))?;
        toml::from_str(&text).map_err(|e| HostError::Config(format!("{}: {e}", path.display())))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn state_defaults_to_sqlite_and_takes_a_postgres_url() {
        let c: HostConfig = toml::from_str("data = \"/d\"").unwrap();
        assert!(c.state.is_none());
        let c: HostConfig =
            toml::from_str("data = \"/d\"\nstate = \"postgres://u:secret@127.0.0.1/db\"").unwrap();
        let url = c.state.unwrap();
        assert_eq!(url.as_str(), "postgres://u:secret@127.0.0.1/db");
        assert!(
            !format!("{url:?}").contains("secret"),
            "Debug hides the URL"
        );
    }

    #[test]
    fn tiles_take_a_directory_or_a_bucket() {
        let c: HostConfig = toml::from_str("data = \"/d\"").unwrap();
        assert!(c.tiles.is_none());
        let c: HostConfig = toml::from_str("data = \"/d\"\ntiles = \"file:///t\"").unwrap();
        assert_eq!(c.tiles, Some(TilesUrl::Dir("/t".into())));
        let c: HostConfig = toml::from_str("data = \"/d\"\ntiles = \"s3://b/p\"").unwrap();
        assert_eq!(c.tiles, Some(TilesUrl::S3("s3://b/p".into())));
        for bad in [
            "/t",
            "file://t",
            "s3://",
            "s3:///p",
            "gs://b",
            "http://x/b",
            "",
        ] {
            let toml = format!("data = \"/d\"\ntiles = \"{bad}\"");
            let e = toml::from_str::<HostConfig>(&toml).unwrap_err().to_string();
            assert!(e.contains("s3://BUCKET"), "{bad}: {e}");
        }
    }

    #[test]
    fn s3_table_takes_endpoint_region_and_credentials() {
        let c: HostConfig = toml::from_str(
            "data = \"/d\"\ntiles = \"s3://b/p\"\n[s3]\nendpoint = \"http://127.0.0.1:3900\"\n\
             region = \"garage\"\naccess_key_id = \"GK1\"\nsecret_access_key = \"hush\"\n\
             allow_http = true",
        )
        .unwrap();
        let s = c.s3.settings();
        assert_eq!(s.endpoint.as_deref(), Some("http://127.0.0.1:3900"));
        assert_eq!(s.region.as_deref(), Some("garage"));
        assert_eq!(s.access_key_id.as_deref(), Some("GK1"));
        assert_eq!(s.secret_access_key.as_deref(), Some("hush"));
        assert_eq!(s.allow_http, Some(true));
        assert!(!format!("{c:?}").contains("hush"), "Debug hides the secret");
        let e = toml::from_str::<HostConfig>("data = \"/d\"\n[s3]\nsecret = \"x\"")
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown field"), "{e}");
    }

    #[test]
    fn state_refuses_what_is_not_postgres() {
        for bad in ["sqlite:/d/state.sqlite", "/d/state.sqlite", "mysql://x", ""] {
            let toml = format!("data = \"/d\"\nstate = \"{bad}\"");
            let e = toml::from_str::<HostConfig>(&toml).unwrap_err().to_string();
            assert!(e.contains("postgres://"), "{bad}: {e}");
            assert!(bad.parse::<StateUrl>().is_err(), "{bad}");
        }
    }
}
