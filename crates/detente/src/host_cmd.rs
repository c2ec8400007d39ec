//! `detente host` and `detente host init`.

use anyhow::Context as _;
use host::{Host, HostConfig};

use crate::cli::{HostArgs, HostCommand};

pub async fn run(a: HostArgs) -> anyhow::Result<()> {
    if let Some(HostCommand::Init { data, origin }) = a.init {
        let (signer, created) = host::keys::load_or_create(&data, &origin)?;
        let vkey = signer.verifier().to_vkey();
        if created {
            println!("Created the key of log {origin} in {}.", data.display());
        } else {
            println!("{} already holds the key of log {origin}.", data.display());
        }
        println!(
            "Log verifier key (give it to the founders for `detente genesis draft --log-key`):\n{vkey}"
        );
        return Ok(());
    }
    let mut config = match &a.config {
        Some(path) => HostConfig::from_toml_file(path)?,
        None => HostConfig::new(
            a.data
                .clone()
                .context("--data DIR is required (or --config FILE)")?,
        ),
    };
    if let Some(d) = a.data {
        config.data = d;
    }
    if a.state.is_some() {
        config.state = a.state;
    }
    if a.tiles.is_some() {
        config.tiles = a.tiles;
    }
    if let Some(l) = a.listen {
        config.listen = l;
    }
    if a.genesis.is_some() {
        config.genesis = a.genesis;
    }
    if let Some(i) = a.batch_interval_ms {
        config.batch.interval_ms = i;
    }
    if let Some(m) = a.batch_max {
        config.batch.max_entries = m;
    }
    if a.advertise.is_some() {
        config.advertise = a.advertise;
    }
    if let Some(l) = a.lease_ms {
        config.lease_ms = l;
    }
    let host = Host::start(config).await?;
    println!(
        "Host listening on http://{} — log key {}",
        host.addr, host.vkey
    );
    shutdown_signal().await;
    eprintln!("Stopping: finishing the batch in flight…");
    host.stop().await;
    Ok(())
}

/// Resolves on SIGTERM or Ctrl-C.
pub(crate) async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(t) => t,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
