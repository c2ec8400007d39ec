//! `detente witness` and `detente witness init`.

use anyhow::Context as _;
use statement::{Body, Signed};

use crate::cli::{WitnessArgs, WitnessCommand};

pub async fn run(a: WitnessArgs) -> anyhow::Result<()> {
    if let Some(WitnessCommand::Init { data, name }) = a.init {
        let (cosigner, created) = witness::load_or_create_key(&data, Some(&name))?;
        if created {
            println!("Created witness key {name} in {}.", data.display());
        }
        println!(
            "Witness verifier key (for the genesis witness policy):\n{}",
            cosigner.verifier().to_vkey()
        );
        return Ok(());
    }
    let data = a.data.context("--data DIR is required")?;
    let mut logs = Vec::new();
    for spec in &a.log {
        let (origin, vkey) = spec
            .split_once('=')
            .with_context(|| format!("--log {spec:?}: write ORIGIN=VERIFIER_KEY"))?;
        logs.push((origin.to_owned(), vkey.to_owned()));
    }
    if let Some(path) = &a.genesis {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let g = Signed::from_json(&bytes).context("not a genesis statement")?;
        let Body::Genesis(b) = Body::parse(g.statement())? else {
            anyhow::bail!("{} holds a statement that is not a genesis", path.display());
        };
        logs.push((b.document.origin.clone(), b.document.log_key.clone()));
    }
    if logs.is_empty() {
        anyhow::bail!(
            "name at least one log to witness: --log ORIGIN=VERIFIER_KEY or --genesis FILE"
        );
    }
    let w = witness::start(&data, a.name.as_deref(), &logs, a.listen).await?;
    println!(
        "Witness {} listening on http://{} — key {}",
        w.name, w.addr, w.vkey
    );
    for (origin, _) in &logs {
        println!("  witnessing {origin}");
    }
    crate::host_cmd::shutdown_signal().await;
    w.stop().await;
    Ok(())
}
