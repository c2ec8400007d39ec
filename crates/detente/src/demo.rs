//! `detente demo`: a working group on this machine in one command.
//!
//! A host and N member nodes on 127.0.0.1, each node with its own keys and SQLite replica;
//! founding with a genesis signed by every founder; then a realistic scenario — a
//! communication check, a dialogue, a TLP:GREEN incident report, a sealed TLP:AMBER report,
//! a request answered late, a proposal in two versions with positions, an agreement signed
//! by all, a new member admitted by quorum — after which every node syncs, re-verifies the
//! whole log from scratch, and prints what its member sees and the standing table.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use host::{Host, HostConfig};
use node::{MemberKeys, Node};
use serde_json::json;
use statement::build::Draft;
use statement::kind::{GenesisDocument, Rules, WitnessEntry, WitnessPolicy};
use statement::{MemberId, Stance, Tlp};

use crate::cli::DemoArgs;
use crate::setup::assemble_and_check;
use crate::views::{content, standing_table};

const ORIGIN: &str = "demo.detente.example/wg-1";
/// Witnesses in the demo, and how many cosignatures nodes require.
const WITNESSES: usize = 3;
const WITNESSES_REQUIRED: u32 = 2;
const NAMES: [(&str, &str); 9] = [
    ("cert-north", "CERT North"),
    ("csirt-east", "CSIRT East"),
    ("ncsc-south", "NCSC South"),
    ("cert-west", "CERT West"),
    ("csirt-isles", "CSIRT Isles"),
    ("cert-alps", "CERT Alps"),
    ("ncsc-coast", "NCSC Coast"),
    ("cert-plains", "CERT Plains"),
    ("cert-delta", "CERT Delta"),
];

struct Demo {
    nodes: Vec<Node>,
    json: bool,
}

impl Demo {
    fn say(&self, text: &str) {
        if !self.json {
            println!("{text}");
        }
    }

    async fn post(
        &mut self,
        who: usize,
        draft: Draft,
        what: &str,
    ) -> anyhow::Result<statement::StatementId> {
        let posted = self.nodes[who]
            .post(draft)
            .await
            .with_context(|| format!("{what} by {}", self.nodes[who].member()))?;
        self.say(&format!(
            "  {:<12} {what}  → log index {}",
            self.nodes[who].member().as_str(),
            posted.index
        ));
        // Every node follows the log as it grows, so each sees every cosigned checkpoint:
        // standing's witnessed times are then the same on every node.
        for node in &mut self.nodes {
            node.sync().await?;
        }
        Ok(posted.id)
    }

    fn id(&self, i: usize) -> MemberId {
        self.nodes[i].member().clone()
    }
}

pub async fn run(a: DemoArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let dir = a.dir.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("detente-demo-{}", std::process::id()))
    });
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let n = usize::from(a.members);
    let quiet = a.json;
    if !quiet {
        println!(
            "Détente demo: a working group of {n} members who do not trust each other, nor their host."
        );
        println!("Everything lives in {}\n", dir.display());
        println!("1. Founding");
    }
    let host_dir = dir.join("host");
    let (signer, _) = host::keys::load_or_create(&host_dir, ORIGIN)?;
    let log = [(ORIGIN.to_owned(), signer.verifier().to_vkey())];
    let mut witnesses = Vec::new();
    for (id, _) in NAMES.iter().take(WITNESSES) {
        let name = format!("{id}.example/witness");
        let w = witness::start(
            &dir.join(format!("witness-{id}")),
            Some(&name),
            &log,
            "127.0.0.1:0".parse()?,
        )
        .await?;
        witnesses.push(w);
    }
    let policy = policy_of(&witnesses, WITNESSES_REQUIRED);
    let keys: Vec<MemberKeys> = (0..=n)
        .map(|i| MemberKeys::generate(MemberId::new(NAMES[i].0)?).map_err(Into::into))
        .collect::<anyhow::Result<_>>()?;
    let document = GenesisDocument {
        name: "Joint Cyber Security Working Group (demo)".into(),
        origin: ORIGIN.into(),
        log_key: signer.verifier().to_vkey(),
        founders: keys[..n]
            .iter()
            .enumerate()
            .map(|(i, k)| {
                k.entry(
                    NAMES[i].1,
                    Some(&format!("duty-officer@{}.example", NAMES[i].0)),
                )
            })
            .collect(),
        rules: Rules {
            member_quorum: (n as u32) / 2 + 1,
            witnesses: policy,
        },
    };
    let sigs = keys[..n]
        .iter()
        .map(|k| document.sign(k.member.clone(), &k.signing))
        .collect::<Result<Vec<_>, _>>()?;
    let genesis = assemble_and_check(document, sigs, &keys[0])?;
    let genesis_path = dir.join("genesis.json");
    std::fs::write(&genesis_path, genesis.leaf())?;
    if !quiet {
        println!(
            "  the {n} founders each signed the same genesis document; {} assembled it",
            NAMES[0].0
        );
    }
    let mut config = HostConfig::new(&host_dir);
    config.listen = "127.0.0.1:0".parse()?;
    config.genesis = Some(genesis_path.clone());
    config.batch.interval_ms = 5;
    let host = Host::start(config).await?;
    let url = format!("http://{}", host.addr);
    if !quiet {
        println!("  host listening on {url}, log key {}", host.vkey);
    }
    let mut keys = keys.into_iter();
    let mut nodes = Vec::new();
    for i in 0..n {
        let k = keys.next().context("keys")?;
        nodes.push(Node::init(&node_dir(&dir, i), &url, genesis.leaf(), k)?);
    }
    let newcomer = keys.next().context("keys")?;
    let mut demo = Demo {
        nodes,
        json: a.json,
    };
    let result = scenario(&mut demo, newcomer, &dir, &url, genesis.leaf(), a.scale).await;
    host.stop().await;
    for w in witnesses {
        w.stop().await;
    }
    let summary = result?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        println!(
            "\nDone in {:.1} s. Every node verified every statement; nothing had to be taken on trust.",
            started.elapsed().as_secs_f64()
        );
        println!(
            "Explore a member's view: detente read --data {}   (also: show, proposals, agreements, requests, standing, verify)",
            node_dir(&dir, 0).display()
        );
    }
    Ok(())
}

fn node_dir(dir: &Path, i: usize) -> PathBuf {
    dir.join(NAMES[i].0)
}

async fn scenario(
    d: &mut Demo,
    newcomer: MemberKeys,
    dir: &Path,
    url: &str,
    genesis: &[u8],
    scale: u64,
) -> anyhow::Result<serde_json::Value> {
    let n = d.nodes.len();
    let (a, b, c) = (0, 1, 2 % n);
    d.say("\n2. A communication check: every member should acknowledge within the hour");
    let check = d
        .post(
            a,
            Draft::check(
                "Communication check: please acknowledge.",
                &crate::node_cmd::due("1h")?,
            ),
            "communication check",
        )
        .await?;
    d.post(b, Draft::receipt(&[check]), "receipt").await?;

    d.say("\n3. Dialogue");
    let t = d
        .post(
            b,
            Draft::thread(
                "Ransomware campaign against hospitals",
                "We see a wave of intrusions through an unpatched VPN appliance since Monday.",
            ),
            "starts a thread",
        )
        .await?;
    let r1 = d
        .post(
            c,
            Draft::message("Same pattern here, two hospitals affected.").refs(&[t]),
            "replies",
        )
        .await?;
    d.post(
        a,
        Draft::message("Can you share indicators? We will coordinate a joint advisory.")
            .refs(&[r1]),
        "replies",
    )
    .await?;

    d.say("\n4. Incident reports: one TLP:GREEN for the group, one TLP:AMBER sealed to one member");
    d.post(
        c,
        Draft::report(
            Tlp::Green,
            "VPN exploitation infrastructure",
            stix_bundle("green"),
        ),
        "TLP:GREEN report (STIX 2.1)",
    )
    .await?;
    let amber = d.nodes[a].seal(
        Draft::report(Tlp::Amber, "Victim details", stix_bundle("amber")),
        &[d.id(b)],
    )?;
    let amber_id = d
        .post(a, amber, &format!("TLP:AMBER report sealed to {}", d.id(b)))
        .await?;

    d.say("\n5. A request for assistance, answered late");
    let req = d
        .post(
            b,
            Draft::request(
                "Malware sample",
                "Please send the loader sample from your incident.",
                &crate::node_cmd::due("2s")?,
            )
            .to(&[d.id(c)]),
            "request, due in 2 s",
        )
        .await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    d.post(
        c,
        Draft::message("Sample shared out of band; hash in the report.").refs(&[req]),
        "answers (late)",
    )
    .await?;

    d.say("\n6. A proposal for a norm, in two versions, with positions");
    let v1 = d
        .post(
            a,
            Draft::proposal(
                "Notification norm",
                "Members notify each other of incidents affecting hospitals within 72 hours.",
            ),
            "tables v1",
        )
        .await?;
    let text2 = "Members notify each other of incidents affecting hospitals within 24 hours, and share indicators at TLP:GREEN or lower.";
    let v2 = d
        .post(
            b,
            Draft::amendment("Notification norm", text2, 2, v1),
            "tables v2",
        )
        .await?;
    d.post(
        c,
        Draft::position(v1, Stance::Oppose, Some("72 hours is too slow")),
        "opposes v1",
    )
    .await?;
    for i in 0..n {
        d.post(i, Draft::position(v2, Stance::Support, None), "supports v2")
            .await?;
    }

    d.say("\n7. The agreement, signed by all");
    let hash = statement::Digest::of(text2.as_bytes());
    let everyone: Vec<MemberId> = (0..n).map(|i| d.id(i)).collect();
    let agreement = d
        .post(
            a,
            Draft::agreement("Hospital incident notification", v2, hash, &everyone),
            "tables the agreement",
        )
        .await?;
    for i in 0..n {
        d.post(i, Draft::sign(agreement, hash), "signs").await?;
    }

    d.say("\n8. A new member, admitted by quorum");
    let entry = newcomer.entry(NAMES[n].1, None);
    let change = d
        .post(
            a,
            Draft::add_member(&entry),
            &format!("proposes admitting {}", entry.id),
        )
        .await?;
    let quorum = d.nodes[a].genesis().rules.member_quorum as usize;
    for i in 0..quorum {
        d.post(
            i,
            Draft::position(change, Stance::Approve, None),
            "approves",
        )
        .await?;
    }
    let mut new_node = Node::init(&dir.join(NAMES[n].0), url, genesis, newcomer)?;
    new_node.sync().await?;
    d.nodes.push(new_node);
    let last = d.nodes.len() - 1;
    d.post(
        last,
        Draft::message("Glad to join; we will share what we see.").refs(&[t]),
        "says hello",
    )
    .await?;

    if scale > 0 {
        scale_up(d, scale).await?;
    }
    report(d, amber_id).await
}

/// Posts `count` generated statements in batches, round-robin over the members.
async fn scale_up(d: &mut Demo, count: u64) -> anyhow::Result<()> {
    d.say(&format!("\n9. Scale: {count} more statements"));
    let started = Instant::now();
    let mut done = 0u64;
    let mut who = 0;
    while done < count {
        let batch = (count - done).min(512);
        let drafts = (0..batch)
            .map(|i| Draft::message(&format!("Generated message {}", done + i)))
            .collect();
        d.nodes[who].post_all(drafts).await?;
        done += batch;
        who = (who + 1) % d.nodes.len();
    }
    let secs = started.elapsed().as_secs_f64();
    d.say(&format!("  {count} statements signed, sequenced, proven and verified in {secs:.1} s ({:.0}/s end to end)", count as f64 / secs));
    Ok(())
}

/// Every node syncs and audits; prints what each member sees, and the standing table.
async fn report(d: &mut Demo, amber: statement::StatementId) -> anyhow::Result<serde_json::Value> {
    d.say("\n10. Every node syncs, then re-verifies the whole log from scratch");
    let mut members = Vec::new();
    for node in &mut d.nodes {
        node.sync().await?;
        let audit = node.audit(|_, _| {})?;
        let (_, s) = node
            .statement(&amber)?
            .context("the AMBER report is in every replica")?;
        let (_, view) = content(node, &s);
        let g = node.group()?;
        let line = format!(
            "  {:<12} verified {} statements; {} threads, {} reports, {} proposals, {} agreement(s); AMBER report: {}",
            node.member().as_str(),
            audit.statements,
            g.threads().len(),
            g.reports().len(),
            g.proposals().len(),
            g.agreements().len(),
            if node.open_sealed(&s).is_some() {
                "readable".to_owned()
            } else {
                view
            }
        );
        if !d.json {
            println!("{line}");
        }
        members.push(json!({ "member": node.member(), "verified": audit.statements, "can_read_amber": node.open_sealed(&s).is_some() }));
    }
    let (standing, table) = standing_table(&d.nodes[0], &node::now())?;
    d.say("\n11. Standing, computed from the log by any node\n");
    d.say(table.trim_end());
    Ok(json!({ "members": members, "standing": standing }))
}

/// A small STIX 2.1 bundle with one indicator, marked with the TLP 2.0 marking of `tlp`.
fn stix_bundle(tlp: &str) -> serde_json::Value {
    let marking = match tlp {
        "amber" => "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
        _ => "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    };
    json!({
        "type": "bundle",
        "id": "bundle--9a1f3c52-4a4e-4c2a-9d57-3d7f8a0c1b21",
        "objects": [{
            "type": "indicator", "spec_version": "2.1",
            "id": "indicator--1f2e3d4c-5b6a-4798-8a9b-0c1d2e3f4a5b",
            "created": "2026-11-29T08:00:00.000Z", "modified": "2026-11-29T08:00:00.000Z",
            "name": "VPN exploitation C2",
            "pattern": "[ipv4-addr:value = '203.0.113.45']", "pattern_type": "stix",
            "valid_from": "2026-11-29T08:00:00Z",
            "object_marking_refs": [marking]
        }]
    })
}

/// The genesis witness policy naming running `witnesses` on loopback, `k` required.
pub(crate) fn policy_of(witnesses: &[witness::Running], k: u32) -> WitnessPolicy {
    WitnessPolicy {
        k,
        witnesses: witnesses
            .iter()
            .map(|w| WitnessEntry {
                name: w.name.clone(),
                url: format!("http://{}", w.addr),
                key: w.vkey.clone(),
            })
            .collect(),
    }
}
