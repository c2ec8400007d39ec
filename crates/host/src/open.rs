//! Opening the host's two stores from its configuration.

use std::sync::Arc;

use store::{FsTiles, ObjectTiles, PostgresState, SqliteState, StateStore, StoreError, TileStore};

use crate::config::TilesUrl;
use crate::{HostConfig, HostError};

/// Opens the read path: the directory or bucket `config.tiles` names, else the tlog-tiles
/// directory `tiles/` in `config.data`. Opening a bucket reads from it (to fail now on a
/// wrong endpoint or key), which blocks, so it runs off the async executor.
pub(crate) async fn open_tiles(config: &HostConfig) -> Result<Arc<dyn TileStore>, HostError> {
    let tiles = config.tiles.clone();
    if !config.s3.is_empty() && !matches!(tiles, Some(TilesUrl::S3(_))) {
        return Err(HostError::Config(
            "the [s3] table is set but tiles is not an s3://BUCKET/PREFIX URL".into(),
        ));
    }
    let default = config.data.join("tiles");
    let s3 = config.s3.settings();
    tokio::task::spawn_blocking(move || -> Result<Arc<dyn TileStore>, StoreError> {
        Ok(match tiles {
            None => Arc::new(FsTiles::open(default)?),
            Some(TilesUrl::Dir(dir)) => Arc::new(FsTiles::open(dir)?),
            Some(TilesUrl::S3(url)) => Arc::new(ObjectTiles::open_with(&url, &s3)?),
        })
    })
    .await
    .map_err(|e| HostError::Corrupt(format!("opening the tiles panicked: {e}")))?
    .map_err(HostError::from)
}

/// Opens the sequencer's state: PostgreSQL when `config.state` names it, else the SQLite
/// file in `config.data`. Connecting blocks, so it runs off the async executor.
pub(crate) async fn open_state(config: &HostConfig) -> Result<Arc<dyn StateStore>, HostError> {
    let (url, path) = (config.state.clone(), config.data.join("state.sqlite"));
    if url.is_some() && path.exists() {
        // Fail closed: starting from an empty PostgreSQL state would fork this log.
        return Err(HostError::Config(format!(
            "{} holds this log's state; it cannot move to PostgreSQL by changing --state \
             (remove --state to keep using it)",
            path.display()
        )));
    }
    tokio::task::spawn_blocking(move || -> Result<Arc<dyn StateStore>, StoreError> {
        Ok(match url {
            Some(url) => Arc::new(PostgresState::connect(url.as_str())?),
            None => Arc::new(SqliteState::open(&path)?),
        })
    })
    .await
    .map_err(|e| HostError::Corrupt(format!("opening the state panicked: {e}")))?
    .map_err(HostError::from)
}
