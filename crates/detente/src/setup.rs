//! Keys, founding, and node set-up: `keygen`, `genesis draft|sign|assemble`, `node init`.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use node::{MemberKeys, Node};
use statement::build::{Author, genesis as assemble_genesis};
use statement::kind::{
    FounderSignature, GenesisDocument, MemberEntry, Rules, WitnessEntry, WitnessPolicy,
};
use statement::{Body, MemberId};

use crate::cli::{GenesisCommand, KeygenArgs, NodeCommand};

fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

fn write(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

pub fn keygen(a: KeygenArgs) -> anyhow::Result<()> {
    let member = MemberId::new(&a.member)?;
    let out = a
        .out
        .unwrap_or_else(|| PathBuf::from(format!("{member}.key")));
    if out.exists() {
        bail!("{} exists; refusing to overwrite a key file", out.display());
    }
    let keys = MemberKeys::generate(member.clone())?;
    keys.save(&out)?;
    let entry = keys.entry(
        a.name.as_deref().unwrap_or(member.as_str()),
        a.contact.as_deref(),
    );
    eprintln!(
        "Wrote {} (owner-only). Keep it secret. Public line for the genesis or a `member add`:",
        out.display()
    );
    println!("{}", serde_json::to_string(&entry)?);
    Ok(())
}

pub fn genesis(c: GenesisCommand) -> anyhow::Result<()> {
    match c {
        GenesisCommand::Draft {
            name,
            origin,
            log_key,
            founders,
            quorum,
            witnesses,
            witnesses_required,
            out,
        } => {
            let founders = founders
                .iter()
                .map(|l| {
                    serde_json::from_str::<MemberEntry>(l)
                        .with_context(|| format!("not a public line from `detente keygen`: {l}"))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            let quorum = quorum.unwrap_or(founders.len() as u32 / 2 + 1);
            let witnesses = witness_policy(&witnesses, witnesses_required)?;
            let document = GenesisDocument {
                name,
                origin,
                log_key,
                founders,
                rules: Rules {
                    member_quorum: quorum,
                    witnesses,
                },
            };
            document.check()?;
            write(&out, &serde_json::to_vec_pretty(&document)?)?;
            println!(
                "Wrote {}. Each founder checks it and runs `detente genesis sign {}`.",
                out.display(),
                out.display()
            );
            Ok(())
        }
        GenesisCommand::Sign { draft, key, out } => {
            let document: GenesisDocument =
                serde_json::from_slice(&read(&draft)?).context("not a genesis draft")?;
            document.check()?;
            let keys = MemberKeys::load(&key)?;
            let founder = document
                .founders
                .iter()
                .find(|f| f.id == keys.member)
                .with_context(|| format!("{} is not a founder in this draft", keys.member))?;
            if founder.key.verifying_key() != &keys.signing.verifying_key() {
                bail!("the draft lists another key for {}", keys.member);
            }
            let sig = document.sign(keys.member.clone(), &keys.signing)?;
            let out = out.unwrap_or_else(|| PathBuf::from(format!("{}.sig", keys.member)));
            write(&out, &serde_json::to_vec(&sig)?)?;
            println!(
                "Signed as {}: wrote {}. Hand it to {}, who assembles the genesis.",
                keys.member,
                out.display(),
                document.founders[0].id
            );
            Ok(())
        }
        GenesisCommand::Assemble {
            draft,
            signatures,
            key,
            out,
        } => {
            let document: GenesisDocument =
                serde_json::from_slice(&read(&draft)?).context("not a genesis draft")?;
            let sigs = signatures
                .iter()
                .map(|p| {
                    serde_json::from_slice::<FounderSignature>(&read(p)?)
                        .with_context(|| format!("{} is not a signature", p.display()))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            let keys = MemberKeys::load(&key)?;
            if document.founders.first().map(|f| &f.id) != Some(&keys.member) {
                bail!(
                    "the first founder assembles the genesis; {} is not it",
                    keys.member
                );
            }
            let genesis = assemble_and_check(document, sigs, &keys)?;
            write(&out, genesis.leaf())?;
            println!(
                "Every founder signed the same document. Wrote {} (statement {}).",
                out.display(),
                genesis.id()
            );
            Ok(())
        }
    }
}

/// The witness policy from `--witness URL=VERIFIER_KEY` flags: the name is the key's
/// name; k defaults to a majority.
fn witness_policy(specs: &[String], k: Option<u32>) -> anyhow::Result<WitnessPolicy> {
    let witnesses = specs
        .iter()
        .map(|spec| {
            let (url, key) = spec
                .split_once('=')
                .with_context(|| format!("--witness {spec:?}: write URL=VERIFIER_KEY"))?;
            let name = key.split('+').next().unwrap_or_default().to_owned();
            Ok(WitnessEntry {
                name,
                url: url.to_owned(),
                key: key.to_owned(),
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let k = k.unwrap_or(if witnesses.is_empty() {
        0
    } else {
        witnesses.len() as u32 / 2 + 1
    });
    Ok(WitnessPolicy { k, witnesses })
}

/// Builds the genesis statement and checks every founder's signature.
pub fn assemble_and_check(
    document: GenesisDocument,
    sigs: Vec<FounderSignature>,
    keys: &MemberKeys,
) -> anyhow::Result<statement::Signed> {
    let origin = document.origin.clone();
    let mut author = Author::new(&origin, keys.member.clone(), keys.signing.clone());
    let genesis = assemble_genesis(document, sigs, &mut author, &node::now())?;
    Body::parse(genesis.statement()).context("the genesis does not hold")?;
    Ok(genesis)
}

pub fn node_init(c: NodeCommand) -> anyhow::Result<()> {
    let NodeCommand::Init {
        host,
        genesis,
        key,
        data,
    } = c
    else {
        anyhow::bail!("not `node init`");
    };
    let keys = MemberKeys::load(&key)?;
    let member = keys.member.clone();
    let node = Node::init(&data, &host, &read(&genesis)?, keys)?;
    println!(
        "Node for {member} of group {:?} set up in {}. Next: `detente sync --data {}`.",
        node.genesis().name,
        data.display(),
        data.display()
    );
    Ok(())
}
