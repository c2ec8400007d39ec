//! `detente sync`, `detente post`, `detente verify`.

use anyhow::{Context as _, bail};
use node::Node;
use serde_json::{Value, json};
use statement::build::Draft;
use statement::{Digest, MemberId, Stance, Timestamp, Tlp};

use crate::cli::{NodeArgs, PostArgs, PostCommand, TlpArg};

/// Opens the node for a sync, an audit or a post (the rules only).
pub fn open(a: &NodeArgs) -> anyhow::Result<Node> {
    Ok(Node::open(&a.data)?)
}

/// Opens the node for a command that reads the group's views.
pub fn open_for_views(a: &NodeArgs) -> anyhow::Result<Node> {
    Ok(Node::open_for_views(&a.data)?)
}

pub fn print(json: bool, value: &Value, text: &str) {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(value).unwrap_or_default()
        );
    } else {
        println!("{text}");
    }
}

pub async fn sync(a: NodeArgs) -> anyhow::Result<()> {
    let mut node = open(&a)?;
    let s = node.sync().await?;
    let text = if s.from == s.to {
        format!("Up to date: {} statements, all verified.", s.to)
    } else {
        format!(
            "Verified {} new statements: the log now holds {}, consistent with everything this node saw before.",
            s.to - s.from,
            s.to
        )
    };
    print(a.json, &json!(s), &text);
    Ok(())
}

pub fn verify(a: NodeArgs) -> anyhow::Result<()> {
    let node = open(&a)?;
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} statements  {per_sec}  ETA {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    if a.json {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let audit = node.audit(|done, total| {
        bar.set_length(total);
        bar.set_position(done);
    })?;
    bar.finish_and_clear();
    let text = format!(
        "Verified {} statements from scratch: every signature, every rule, and the tree of the signed checkpoint of size {}. The replica agrees.",
        audit.statements, audit.size
    );
    print(a.json, &json!(audit), &text);
    Ok(())
}

fn tlp(t: TlpArg) -> Tlp {
    match t {
        TlpArg::Clear => Tlp::Clear,
        TlpArg::Green => Tlp::Green,
        TlpArg::Amber => Tlp::Amber,
        TlpArg::AmberStrict => Tlp::AmberStrict,
        TlpArg::Red => Tlp::Red,
    }
}

fn id(text: &str) -> anyhow::Result<Digest> {
    Digest::parse(text).with_context(|| format!("{text:?} is not a statement id"))
}

fn members(ids: &[String]) -> anyhow::Result<Vec<MemberId>> {
    ids.iter()
        .map(|m| MemberId::new(m).map_err(Into::into))
        .collect()
}

/// An RFC 3339 time, or a duration from now: `90m`, `4h`, `2d`, `30s`.
pub fn due(text: &str) -> anyhow::Result<Timestamp> {
    if let Ok(t) = Timestamp::parse(text) {
        return Ok(t);
    }
    let (n, unit) = text.split_at(text.len().saturating_sub(1));
    let n: i64 = n.parse().with_context(|| {
        format!("--due {text:?}: give an RFC 3339 UTC time or a duration like 90m, 4h, 2d")
    })?;
    let secs = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => bail!("--due {text:?}: the unit is s, m, h or d"),
    };
    Ok(Timestamp::from_unix_saturating(node::now().unix() + secs))
}

fn seal_if(node: &Node, draft: Draft, to: &[String], must: bool) -> anyhow::Result<Draft> {
    if to.is_empty() {
        if must {
            bail!("TLP:AMBER and TLP:RED content must be sealed: name its addressees with --to");
        }
        return Ok(draft);
    }
    Ok(node.seal(draft, &members(to)?)?)
}

fn build(node: &Node, what: PostCommand) -> anyhow::Result<Draft> {
    let g = node.group()?;
    Ok(match what {
        PostCommand::Message {
            text,
            subject,
            reply_to,
            to,
            tlp: t,
        } => {
            let mut d = match &subject {
                Some(s) => Draft::thread(s, &text),
                None => Draft::message(&text),
            };
            if let Some(r) = reply_to {
                d = d.refs(&[id(&r)?]);
            }
            if let Some(t) = t {
                d.body.insert("tlp".into(), json!(tlp(t)));
            }
            seal_if(node, d, &to, t.is_some_and(|t| tlp(t).requires_seal()))?
        }
        PostCommand::Report {
            bundle,
            tlp: t,
            title,
            to,
            answers,
        } => {
            let bundle: Value = serde_json::from_slice(
                &std::fs::read(&bundle)
                    .with_context(|| format!("cannot read {}", bundle.display()))?,
            )
            .context("the bundle is not JSON")?;
            let mut d = Draft::report(tlp(t), title.as_deref().unwrap_or("Report"), bundle);
            if let Some(r) = answers {
                d = d.refs(&[id(&r)?]);
            }
            seal_if(node, d, &to, tlp(t).requires_seal())?
        }
        PostCommand::Request {
            text,
            subject,
            due: when,
            to,
            check,
            sealed,
        } => {
            let when = due(&when)?;
            let mut d = if check {
                Draft::check(&text, &when)
            } else {
                Draft::request(subject.as_deref().unwrap_or("Request"), &text, &when)
            };
            if sealed {
                d = seal_if(node, d, &to, true)?;
            } else if !to.is_empty() {
                d = d.to(&members(&to)?);
            }
            d
        }
        PostCommand::Receipt { ids } => Draft::receipt(
            &ids.iter()
                .map(|i| id(i))
                .collect::<anyhow::Result<Vec<_>>>()?,
        ),
        PostCommand::Proposal {
            title,
            text,
            amends,
        } => {
            let text = std::fs::read_to_string(&text)
                .with_context(|| format!("cannot read {}", text.display()))?;
            match amends {
                None => Draft::proposal(&title, &text),
                Some(a) => {
                    let a = id(&a)?;
                    let (p, _) = g
                        .version(&a)
                        .context("--amends names no proposal version")?;
                    Draft::amendment(&title, &text, p.versions.len() as u32 + 1, a)
                }
            }
        }
        PostCommand::Position {
            target,
            stance,
            comment,
        } => {
            let stance: Stance = serde_json::from_value(json!(stance))
                .with_context(|| format!("unknown stance {stance:?}"))?;
            Draft::position(id(&target)?, stance, comment.as_deref())
        }
        PostCommand::Agreement {
            version,
            title,
            signatories,
        } => {
            let v = id(&version)?;
            let (_, ver) = g.version(&v).context("that id is not a proposal version")?;
            Draft::agreement(&title, v, ver.text_sha256, &members(&signatories)?)
        }
        PostCommand::Sign { agreement } => {
            let a = id(&agreement)?;
            let ag = g
                .agreements()
                .get(&a)
                .context("that id is not an agreement")?;
            Draft::sign(a, ag.text_sha256)
        }
    })
}

pub async fn post(a: PostArgs) -> anyhow::Result<()> {
    let mut node = open_for_views(&a.node)?;
    node.sync().await?;
    let draft = build(&node, a.what)?;
    let kind = draft.kind;
    let posted = node.post(draft).await?;
    let text = format!(
        "Posted {} {} at log index {}; its inclusion proof verifies against the log's signed checkpoint.",
        kind.as_str(),
        posted.id,
        posted.index
    );
    print(
        a.node.json,
        &json!({ "id": posted.id, "index": posted.index, "kind": kind }),
        &text,
    );
    Ok(())
}
