//! What a member reads: threads, statements, proposals, agreements, requests, standing.
//! Every view comes from the node's verified replica; `--json` prints the same data.

use std::fmt::Write as _;

use anyhow::Context as _;
use node::Node;
use serde_json::{Value, json};
use statement::group::Group;
use statement::{Digest, Signed, StatementId};

use crate::cli::{NodeArgs, ReadArgs, ShowArgs};
use crate::node_cmd::{open_for_views, print};

/// The readable content of a statement for this node: subject and text, opened if sealed
/// to this member, or a note saying to whom it is sealed.
pub fn content(node: &Node, s: &Signed) -> (Option<String>, String) {
    let st = s.statement();
    let pick = |v: &Value| {
        (
            v["subject"]
                .as_str()
                .or(v["title"].as_str())
                .map(str::to_owned),
            v["text"].as_str().unwrap_or("").to_owned(),
        )
    };
    match node.open_sealed(s) {
        Some(Ok(v)) => {
            let (subject, text) = pick(&v);
            (subject, format!("🔒 {text}"))
        }
        Some(Err(e)) => (None, format!("(sealed; cannot open: {e})")),
        None if st.sealed.is_some() => {
            let to: Vec<String> = st.to.iter().flatten().map(ToString::to_string).collect();
            (None, format!("(sealed to {})", to.join(", ")))
        }
        None => pick(&Value::Object(st.body.clone())),
    }
}

fn first_line(text: &str, max: usize) -> String {
    let line = text.lines().next().unwrap_or("");
    if line.chars().count() > max {
        format!("{}…", line.chars().take(max).collect::<String>())
    } else {
        line.to_owned()
    }
}

fn statement(node: &Node, id: &StatementId) -> anyhow::Result<(u64, Signed)> {
    node.statement(id)?
        .with_context(|| format!("{id} is not in the verified log"))
}

pub fn read(a: ReadArgs) -> anyhow::Result<()> {
    let node = open_for_views(&a.node)?;
    let g = node.group()?;
    let mut threads: Vec<_> = g.threads().values().collect();
    threads.sort_by_key(|t| std::cmp::Reverse(t.last_index));
    if let Some(root) = &a.thread {
        let root = Digest::parse(root).context("--thread takes a statement id")?;
        threads.retain(|t| t.root == root);
    }
    let mut text = String::new();
    let mut out = Vec::new();
    for t in threads {
        let mut messages = Vec::new();
        for id in &t.messages {
            let (index, s) = statement(&node, id)?;
            let (subject, body) = content(&node, &s);
            let depth = depth(g, id);
            if messages.is_empty() {
                let _ = writeln!(
                    text,
                    "── {} ({} messages)",
                    subject.as_deref().unwrap_or("(no subject)"),
                    t.messages.len()
                );
            }
            let _ = writeln!(
                text,
                "{}[{index}] {} {}: {}",
                "  ".repeat(depth + 1),
                s.statement().author,
                s.statement().time,
                first_line(&body, 100)
            );
            messages.push(json!({ "index": index, "id": id, "author": s.statement().author, "time": s.statement().time, "subject": subject, "text": body, "depth": depth }));
        }
        out.push(json!({ "root": t.root, "messages": messages }));
    }
    if out.is_empty() {
        text.push_str("No messages yet.\n");
    }
    print(a.node.json, &json!(out), text.trim_end());
    Ok(())
}

fn depth(g: &Group, id: &StatementId) -> usize {
    let mut d = 0;
    let mut cur = g.message(id).and_then(|m| m.parent);
    while let Some(p) = cur {
        d += 1;
        cur = g.message(&p).and_then(|m| m.parent);
    }
    d
}

pub fn show(a: ShowArgs) -> anyhow::Result<()> {
    let node = open_for_views(&a.node)?;
    let id = Digest::parse(&a.id).context("not a statement id")?;
    let (index, s) = statement(&node, &id)?;
    let st = s.statement();
    let key = node
        .group()?
        .member(&st.author)
        .map(|m| m.key.key_id())
        .unwrap_or_default();
    let opened = node.open_sealed(&s).map(|r| r.map_err(|e| e.to_string()));
    let value = json!({
        "id": id, "index": index, "verified": true, "author": st.author, "author_key_id": key,
        "statement": s.to_value()["statement"], "sealed_to": st.to, "opened": opened.clone().map(|r| r.unwrap_or_else(|e| json!({ "error": e }))),
    });
    let mut text = format!(
        "{} {}\n  log index {index}, verified: signed by {} (key {key}), in the log under a checkpoint this node verified\n  time (author's claim) {}\n",
        st.kind.as_str(),
        id,
        st.author,
        st.time
    );
    for r in &st.refs {
        let _ = writeln!(text, "  refs {r}");
    }
    if let Some(to) = &st.to {
        let _ = writeln!(
            text,
            "  to {}",
            to.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let _ = writeln!(
        text,
        "  body {}",
        serde_json::to_string_pretty(&st.body)?.replace('\n', "\n  ")
    );
    match opened {
        Some(Ok(v)) => {
            let _ = writeln!(
                text,
                "  sealed content (opened for {}): {}",
                node.member(),
                serde_json::to_string_pretty(&v)?.replace('\n', "\n  ")
            );
        }
        Some(Err(e)) => {
            let _ = writeln!(text, "  sealed content: cannot open: {e}");
        }
        None if st.sealed.is_some() => {
            text.push_str("  sealed content: not addressed to this member\n")
        }
        None => {}
    }
    print(a.node.json, &value, text.trim_end());
    Ok(())
}

pub fn proposals(a: NodeArgs) -> anyhow::Result<()> {
    let node = open_for_views(&a)?;
    let g = node.group()?;
    let mut text = String::new();
    let mut out = Vec::new();
    for p in g.proposals().values() {
        let _ = writeln!(
            text,
            "── {}",
            p.versions.last().map_or("", |v| v.title.as_str())
        );
        let mut versions = Vec::new();
        for v in &p.versions {
            let positions: Vec<Value> = g
                .positions_on(&v.said.id)
                .into_iter()
                .flatten()
                .filter_map(|(m, recs)| {
                    recs.last()
                        .map(|r| json!({ "member": m, "stance": r.stance, "comment": r.comment }))
                })
                .collect();
            let summary: Vec<String> = positions
                .iter()
                .map(|p| {
                    format!(
                        "{} {}",
                        p["member"].as_str().unwrap_or(""),
                        p["stance"].as_str().unwrap_or("")
                    )
                })
                .collect();
            let _ = writeln!(
                text,
                "  v{} {} by {} (text {}): {}",
                v.version,
                v.said.id,
                v.said.author,
                &v.text_sha256.to_hex()[..12],
                if summary.is_empty() {
                    "no positions yet".into()
                } else {
                    summary.join(", ")
                }
            );
            versions.push(json!({ "version": v.version, "id": v.said.id, "author": v.said.author, "title": v.title, "text_sha256": v.text_sha256, "positions": positions }));
        }
        out.push(json!({ "root": p.root, "versions": versions }));
    }
    if out.is_empty() {
        text.push_str("No proposals yet.\n");
    }
    print(a.json, &json!(out), text.trim_end());
    Ok(())
}

pub fn agreements(a: NodeArgs) -> anyhow::Result<()> {
    let node = open_for_views(&a)?;
    let mut text = String::new();
    let mut out = Vec::new();
    for (id, ag) in node.group()?.agreements() {
        let status = match ag.adopted_at {
            Some(i) => format!("ADOPTED at log index {i}"),
            None => format!("{} of {} signatures", ag.signed.len(), ag.signatories.len()),
        };
        let _ = writeln!(
            text,
            "── {} ({status})\n  {id}, text {}",
            ag.title, ag.text_sha256
        );
        for m in &ag.signatories {
            let _ = writeln!(
                text,
                "    {} {m}",
                if ag.signed.contains_key(m) {
                    "signed "
                } else {
                    "pending"
                }
            );
        }
        out.push(json!({ "id": id, "title": ag.title, "text_sha256": ag.text_sha256, "version": ag.version, "signatories": ag.signatories, "signed": ag.signed.keys().collect::<Vec<_>>(), "adopted_at": ag.adopted_at }));
    }
    if out.is_empty() {
        text.push_str("No agreements yet.\n");
    }
    print(a.json, &json!(out), text.trim_end());
    Ok(())
}

pub fn requests(a: NodeArgs) -> anyhow::Result<()> {
    let node = open_for_views(&a)?;
    let now = node::now();
    let mut text = String::new();
    let mut out = Vec::new();
    for (id, r) in node.group()?.requests() {
        let what = if r.check {
            "communication check"
        } else {
            "request"
        };
        let _ = writeln!(
            text,
            "── {what} {id} from {} at {}, due {}",
            r.said.author, r.said.time, r.due
        );
        let mut rows = Vec::new();
        for m in &r.recipients {
            let done = if r.check {
                r.receipts.get(m)
            } else {
                r.answers.get(m)
            };
            let status = match done {
                Some(s) if s.time <= r.due => format!("answered on time at {}", s.time),
                Some(s) => format!("answered LATE at {}", s.time),
                None if now > r.due => "OVERDUE".to_owned(),
                None => format!("open, {} min left", (r.due.unix() - now.unix()) / 60),
            };
            let _ = writeln!(text, "    {m}: {status}");
            rows.push(json!({ "member": m, "status": status }));
        }
        if r.recipients.is_empty() {
            text.push_str("    (to the whole group; no one in particular must answer)\n");
        }
        out.push(json!({ "id": id, "check": r.check, "author": r.said.author, "due": r.due, "recipients": rows }));
    }
    if out.is_empty() {
        text.push_str("No requests yet.\n");
    }
    print(a.json, &json!(out), text.trim_end());
    Ok(())
}

/// The standing table as text, with witnessed times where the log has them.
pub fn standing_table(node: &Node, now: &statement::Timestamp) -> anyhow::Result<(Value, String)> {
    let rows = node.standing(now)?;
    let mut text = format!(
        "{:<14} {:>9} {:>9} {:>8} {:>8} {:>11} {:>8} {:>10} {:>8}\n",
        "member",
        "requests",
        "answered",
        "on time",
        "overdue",
        "median",
        "checks",
        "receipts",
        "signed"
    );
    for r in &rows {
        let median = r
            .median_answer_seconds
            .map_or("-".to_owned(), |s| format!("{}m{:02}s", s / 60, s % 60));
        let flag = if r.evidence_against > 0 {
            format!("  ⚠ {} evidence of equivocation", r.evidence_against)
        } else {
            String::new()
        };
        let _ = writeln!(
            text,
            "{:<14} {:>9} {:>9} {:>8} {:>8} {:>11} {:>8} {:>10} {:>8}{flag}",
            r.member.as_str(),
            r.requests_received,
            r.answered,
            r.answered_on_time,
            r.overdue,
            median,
            r.checks_received,
            r.receipts_given,
            r.agreements_signed
        );
    }
    Ok((json!(rows), text))
}

pub fn standing(a: NodeArgs) -> anyhow::Result<()> {
    let node = open_for_views(&a)?;
    let (value, text) = standing_table(&node, &node::now())?;
    print(a.json, &value, text.trim_end());
    Ok(())
}
