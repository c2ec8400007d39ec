//! The overview: alerts first (evidence of equivocation, a failed sync and its report,
//! requests to us due soon or overdue, communication checks awaiting our receipt), then
//! the group, its members with contacts and key fingerprints, and the log's health.

use axum::extract::State;
use axum::response::Response;
use tlog::checkpoint::Checkpoint;

use super::auth::Session;
use super::error::ConsoleError;
use super::html::{Markup, clip, duration, table_head, when};
use super::requests::{countdown, owed_by};
use super::{Console, layout};
use crate::Node;
use crate::serve::Health;
use statement::group::Accused;

/// Requests due within this many seconds are "due soon".
const DUE_SOON: i64 = 24 * 3600;

fn alerts(node: &Node, health: &Health) -> Result<Markup, ConsoleError> {
    let g = node.group()?;
    let now = crate::now();
    let mut m = Markup::new();
    for e in g.evidence() {
        let who = match &e.accused {
            Accused::Member(id) => format!(
                "member {id} signed two different statements in the same place of its chain"
            ),
            Accused::Host => "the host signed two different versions of the log".into(),
        };
        crate::h!(
            m,
            "<div class=\"alert\" role=\"alert\"><strong>Evidence of equivocation:</strong> {} (posted by {}, <a href=\"/statement/{}\">the evidence</a>).</div>",
            who,
            e.said.author,
            e.said.id
        );
    }
    if let Some(err) = &health.last_error {
        crate::h!(
            m,
            "<div class=\"alert\" role=\"alert\"><strong>The last update from the host failed.</strong> Nothing it sent was accepted. Reason: {}",
            clip(err, 2000)
        );
        if let Some(p) = &health.evidence {
            crate::h!(
                m,
                " A report of what the host did is in <code>{}</code>; check it with <code>detente verify-evidence</code>.",
                p.display()
            );
            m.push(&report(p));
        }
        m.push(&Markup::from_safe("</div>".into()));
    }
    for (id, r) in g.requests() {
        if !owed_by(r, node.member()) {
            continue;
        }
        let left = now.seconds_until(&r.due);
        if r.check {
            crate::h!(
                m,
                "<div class=\"alert warn\">A communication check from <strong>{}</strong> awaits our receipt (",
                r.said.author
            );
        } else if left < DUE_SOON {
            crate::h!(
                m,
                "<div class=\"alert{}\">A request from <strong>{}</strong> awaits our answer (",
                if left < 0 { "" } else { " warn" },
                r.said.author
            );
        } else {
            continue;
        }
        m.push(&countdown(&r.due, &now));
        crate::h!(m, "). <a href=\"/requests#r-{}\">Answer it</a>.</div>", id);
    }
    if m.as_str().is_empty() {
        m.push(&Markup::from_safe(
            "<p class=\"ok\">Nothing needs attention.</p>".into(),
        ));
    }
    Ok(m)
}

/// The evidence report a failed sync wrote: what the host did, in its own words, and the
/// whole report (bounded: it is our own file, but it quotes what the host sent).
fn report(path: &std::path::Path) -> Markup {
    let mut m = Markup::new();
    let Ok(bytes) = std::fs::read(path) else {
        return m;
    };
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return m;
    };
    crate::h!(
        m,
        "<details><summary>The report: {}</summary><pre>{}</pre></details>",
        clip(v["message"].as_str().unwrap_or(""), 500),
        clip(
            &serde_json::to_string_pretty(&v).unwrap_or_default(),
            20_000
        )
    );
    m
}

fn members(node: &Node) -> Markup {
    let mut m = Markup::new();
    m.push(&Markup::from_safe("<h2>Members</h2>".into()));
    m.push(&table_head(&[
        "Member",
        "Id",
        "Contact",
        "Signing key fingerprint",
        "Encryption key fingerprint",
    ]));
    for (id, x) in node.rules().members() {
        let seal_fp: String = tlog::sha256(x.seal.to_string().as_bytes())
            .to_hex()
            .chars()
            .take(16)
            .collect();
        crate::h!(
            m,
            "<tr><td>{}{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td><code>{}</code></td></tr>",
            x.name,
            if x.active { "" } else { " (removed)" },
            id,
            x.contact.as_deref().unwrap_or("—"),
            x.key.key_id(),
            seal_fp
        );
    }
    m.push(&Markup::from_safe("</tbody></table>".into()));
    m
}

fn health(node: &Node, h: &Health) -> Result<Markup, ConsoleError> {
    let mut m = Markup::new();
    m.push(&Markup::from_safe("<h2>The log</h2><dl>".into()));
    let Some(v) = node.verified()? else {
        m.push(&Markup::from_safe(
            "<dt>Status</dt><dd>Nothing verified yet.</dd></dl>".into(),
        ));
        return Ok(m);
    };
    crate::h!(
        m,
        "<dt>Entries verified</dt><dd>{}</dd><dt>Root of the verified tree</dt><dd><code>{}</code></dd>",
        v.size,
        v.root.to_base64()
    );
    if let Some((_, at)) = node.replica.checkpoint_times()?.last() {
        let ago = crate::now().unix() - at;
        crate::h!(
            m,
            "<dt>Last new checkpoint verified</dt><dd>{} ago</dd>",
            duration(ago)
        );
    }
    if let Some(t) = h.last_success {
        crate::h!(
            m,
            "<dt>Last check with the host</dt><dd>{} ago</dd>",
            duration(crate::now().unix() - t)
        );
    }
    let witnesses = match Checkpoint::open(&v.note, &node.origin, &node.known) {
        Ok(opened) => node
            .policy
            .witnesses
            .iter()
            .filter_map(|(name, _, w)| {
                opened
                    .cosignatures()
                    .iter()
                    .find(|c| c.name == *w.name() && c.key_id == w.key_id())
                    .map(|c| {
                        let at = c
                            .timestamp
                            .and_then(|t| statement::Timestamp::from_unix(i64::try_from(t).ok()?));
                        format!(
                            "{name}{}",
                            at.map(|t| format!(" (at {})", when(&t)))
                                .unwrap_or_default()
                        )
                    })
            })
            .collect::<Vec<_>>(),
        Err(_) => Vec::new(),
    };
    let cosigned = if node.policy.witnesses.is_empty() {
        "This group has no witnesses.".to_owned()
    } else if witnesses.is_empty() {
        "none".to_owned()
    } else {
        witnesses.join(", ")
    };
    crate::h!(
        m,
        "<dt>Witnesses that cosigned it ({} required)</dt><dd>{}</dd></dl>",
        node.policy.k,
        cosigned
    );
    Ok(m)
}

/// `GET /`.
pub async fn page(State(c): State<Console>, session: Session) -> Result<Response, ConsoleError> {
    let h = c.shared().health();
    let node = c.shared().node().await;
    let g = node.group()?;
    let mut b = Markup::new();
    let name = g.genesis().map(|x| x.name.as_str()).unwrap_or("");
    crate::h!(
        b,
        "<h1>{}</h1><p>You work for <strong>{}</strong> in this group.</p><h2>Needs attention</h2>",
        name,
        node.member()
    );
    b.push(&alerts(&node, &h)?);
    b.push(&members(&node));
    b.push(&health(&node, &h)?);
    Ok(layout::page("Overview", &session, "/", &b))
}
