//! Reports: the list with TLP badges, one report with its STIX 2.1 objects rendered
//! readably and the positions members took on it, and sharing a report (a pasted or
//! uploaded STIX bundle, or a short form that becomes one).

use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::{Value, json};
use statement::build::Draft;
use statement::{Kind, Tlp};

use super::act::{Built, addressee_boxes, position_form};
use super::auth::Session;
use super::error::ConsoleError;
use super::form::Fields;
use super::html::{Markup, clip, table_head, when};
use super::view::{content, get, link, names, parse_id, tlp_badge};
use super::{Console, layout};
use crate::Node;

/// `GET /reports`.
pub async fn list(State(c): State<Console>, session: Session) -> Result<Response, ConsoleError> {
    let node = c.shared().node().await;
    let mut b = Markup::new();
    b.push(&Markup::from_safe("<h1>Reports</h1><p>Incident reports and threat intelligence shared in the group, newest first. The colour badge says who may see it (Traffic Light Protocol).</p>".into()));
    let reports = node.group()?.reports();
    if reports.is_empty() {
        b.push(&Markup::from_safe("<p>No reports yet.</p>".into()));
    } else {
        b.push(&table_head(&["Title", "Marking", "Shared by", "When"]));
        for r in reports.iter().rev() {
            let (_, s) = get(&node, &r.said.id, "A report")?;
            let c = content(&node, &s);
            let title = c
                .field("title")
                .map(|t| clip(t, 120))
                .or(c.unreadable.clone())
                .unwrap_or_else(|| "Report".into());
            crate::h!(
                b,
                "<tr><td><a href=\"/reports/{}\">{}</a></td><td>",
                r.said.id,
                title
            );
            b.push(&tlp_badge(r.tlp));
            crate::h!(
                b,
                "</td><td>{}</td><td>{}</td></tr>",
                r.said.author,
                when(&r.said.time)
            );
        }
        b.push(&Markup::from_safe("</tbody></table>".into()));
    }
    if session.can_write() {
        b.push(&share_form(&node, &session));
    }
    Ok(layout::page("Reports", &session, "/reports", &b))
}

fn share_form(node: &Node, session: &Session) -> Markup {
    let mut m = Markup::new();
    m.push(&Markup::from_safe(
        "<h2>Share a report</h2><form method=\"post\" action=\"/act/report\" class=\"stack\" id=\"share-report\">\
         <label for=\"report-title\">Title</label><input id=\"report-title\" name=\"title\" required maxlength=\"256\">\
         <label for=\"report-tlp\">Who may see it (TLP)</label><select id=\"report-tlp\" name=\"tlp\">\
         <option value=\"CLEAR\">TLP:CLEAR — anyone</option><option value=\"GREEN\" selected>TLP:GREEN — the community</option>\
         <option value=\"AMBER\">TLP:AMBER — the chosen members' organisations (sealed)</option>\
         <option value=\"AMBER+STRICT\">TLP:AMBER+STRICT — the chosen members only (sealed)</option>\
         <option value=\"RED\">TLP:RED — the named people only (sealed)</option></select>\
         <fieldset><legend>Either a STIX 2.1 bundle</legend>\
         <label for=\"bundle-file\">Load a bundle file (fills the box below)</label><input type=\"file\" id=\"bundle-file\" accept=\".json,application/json\" data-into=\"bundle\">\
         <label for=\"bundle\">Or paste the bundle (JSON)</label><textarea id=\"bundle\" name=\"bundle\"></textarea></fieldset>\
         <fieldset><legend>Or describe one indicator</legend>\
         <label for=\"ind-name\">What it is</label><input id=\"ind-name\" name=\"indicator_name\" maxlength=\"256\">\
         <label for=\"ind-pattern\">STIX pattern, e.g. [ipv4-addr:value = '198.51.100.7']</label><input id=\"ind-pattern\" name=\"pattern\" maxlength=\"4096\">\
         <label for=\"ind-malware\">Malware it indicates (optional)</label><input id=\"ind-malware\" name=\"malware\" maxlength=\"256\">\
         <label for=\"ind-desc\">Description (optional)</label><textarea id=\"ind-desc\" name=\"description\"></textarea></fieldset>"
            .into(),
    ));
    m.push(&addressee_boxes(node));
    m.push(&session.form_end("Review before posting"));
    m
}

fn uuid4() -> Result<String, ConsoleError> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|e| crate::NodeError::Keys(format!("no randomness: {e}")))?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex_of(&b);
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    ))
}

fn hex_of(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A STIX 2.1 bundle of one indicator (and the malware it indicates, related).
fn bundle_from_form(f: &Fields) -> Result<Value, ConsoleError> {
    let name = f.required("indicator_name", "What it is")?;
    let pattern = f.required("pattern", "STIX pattern")?;
    if !(pattern.starts_with('[') && pattern.ends_with(']')) {
        return Err(ConsoleError::BadInput("A STIX pattern is written in square brackets, e.g. [ipv4-addr:value = '198.51.100.7'].".into()));
    }
    let t = crate::now();
    let stamp = t.as_str().replace('Z', ".000Z");
    let ind_id = format!("indicator--{}", uuid4()?);
    let mut indicator = json!({
        "type": "indicator", "spec_version": "2.1", "id": ind_id, "created": stamp, "modified": stamp,
        "name": name, "pattern": pattern, "pattern_type": "stix", "valid_from": stamp,
    });
    if let Some(d) = f.text("description") {
        indicator["description"] = json!(d.replace("\r\n", "\n"));
    }
    let mut objects = vec![indicator];
    if let Some(m) = f.text("malware") {
        let mal_id = format!("malware--{}", uuid4()?);
        objects.push(json!({"type": "malware", "spec_version": "2.1", "id": mal_id, "created": stamp, "modified": stamp, "name": m, "is_family": false}));
        objects.push(json!({"type": "relationship", "spec_version": "2.1", "id": format!("relationship--{}", uuid4()?), "created": stamp, "modified": stamp, "relationship_type": "indicates", "source_ref": ind_id, "target_ref": mal_id}));
    }
    Ok(json!({"type": "bundle", "id": format!("bundle--{}", uuid4()?), "objects": objects}))
}

/// Builds a `report` from the share form.
pub fn build_report(node: &Node, f: &Fields, back: Option<String>) -> Result<Built, ConsoleError> {
    let title = f.required("title", "Title")?;
    let tlp: Tlp = serde_json::from_value(json!(f.required("tlp", "Who may see it")?))
        .map_err(|_| ConsoleError::BadInput("Choose one of the TLP markings offered.".into()))?;
    let bundle = match f.text("bundle") {
        Some(text) => serde_json::from_str(text)
            .map_err(|_| ConsoleError::BadInput("The bundle is not valid JSON.".into()))?,
        None => bundle_from_form(f)?,
    };
    let mut to = Vec::new();
    for m in f.all("to") {
        let id = statement::MemberId::new(m)
            .map_err(|_| ConsoleError::BadInput(format!("“{m}” is not a member id.")))?;
        if id != *node.member() {
            to.push(id);
        }
    }
    if tlp.requires_seal() && to.is_empty() {
        return Err(ConsoleError::BadInput(format!(
            "{} content is sealed: tick the members who may read it.",
            tlp.label()
        )));
    }
    let summary = if to.is_empty() {
        format!("Share a {} report with the whole group.", tlp.label())
    } else {
        format!(
            "Share a {} report sealed to {} (and us).",
            tlp.label(),
            names(to.iter())
        )
    };
    Ok(Built {
        draft: Draft::report(tlp, title, bundle),
        seal_to: (!to.is_empty()).then_some(to),
        back,
        summary,
    })
}

/// `GET /reports/{id}`.
pub async fn one(
    State(c): State<Console>,
    session: Session,
    Path(id): Path<String>,
) -> Result<Response, ConsoleError> {
    let id = parse_id(&id)?;
    let node = c.shared().node().await;
    let g = node.group()?;
    let r = g
        .reports()
        .iter()
        .find(|r| r.said.id == id)
        .ok_or(ConsoleError::NotFound {
            what: "That report",
        })?;
    let (_, s) = get(&node, &id, "That report")?;
    let c = content(&node, &s);
    let mut b = Markup::new();
    crate::h!(
        b,
        "<h1>{} ",
        clip(c.field("title").unwrap_or("Report"), 200)
    );
    b.push(&tlp_badge(r.tlp));
    crate::h!(
        b,
        "</h1><p class=\"meta\">Shared by <strong>{}</strong> on {} · ",
        r.said.author,
        when(&r.said.time)
    );
    b.push(&link(&id));
    b.push(&Markup::from_safe("</p>".into()));
    match (&c.value, &c.unreadable) {
        (Some(v), _) => b.push(&stix(&v["bundle"])),
        (None, Some(u)) => crate::h!(b, "<p class=\"note\">{}</p>", u),
        _ => {}
    }
    b.push(&Markup::from_safe("<h2>Positions taken</h2>".into()));
    b.push(&positions(g.positions_on(&id)));
    b.push(&position_form(
        &session,
        &id,
        Kind::Report,
        &format!("/reports/{id}"),
    ));
    Ok(layout::page("Report", &session, "/reports", &b))
}

/// The latest position of each member, as a table.
pub fn positions(
    p: Option<
        &std::collections::BTreeMap<statement::MemberId, Vec<statement::group::PositionRecord>>,
    >,
) -> Markup {
    let mut b = Markup::new();
    let Some(p) = p.filter(|p| !p.is_empty()) else {
        b.push(&Markup::from_safe("<p>No positions yet.</p>".into()));
        return b;
    };
    b.push(&table_head(&["Member", "Position", "Explanation", "When"]));
    for (m, recs) in p {
        if let Some(r) = recs.last() {
            let stance = serde_json::to_value(r.stance)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            crate::h!(
                b,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                m,
                stance,
                clip(r.comment.as_deref().unwrap_or(""), 1000),
                when(&r.said.time)
            );
        }
    }
    b.push(&Markup::from_safe("</tbody></table>".into()));
    b
}

fn s<'a>(o: &'a Value, k: &str) -> &'a str {
    o.get(k).and_then(Value::as_str).unwrap_or("")
}

/// The STIX objects of a bundle, readably: indicators with their patterns, malware,
/// attack patterns, relationships in words, and anything else by type and name.
pub fn stix(bundle: &Value) -> Markup {
    let mut b = Markup::new();
    let objects = bundle
        .get("objects")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let name_of = |id: &str| {
        objects
            .iter()
            .find(|o| s(o, "id") == id)
            .map(|o| {
                let n = s(o, "name");
                if n.is_empty() {
                    id.to_owned()
                } else {
                    format!("{n} ({})", s(o, "type"))
                }
            })
            .unwrap_or_else(|| id.to_owned())
    };
    crate::h!(b, "<h2>Contents ({} objects)</h2>", objects.len());
    for o in objects.iter().take(500) {
        let ty = s(o, "type");
        match ty {
            "indicator" => {
                crate::h!(
                    b,
                    "<section class=\"message\"><h3>Indicator: {}</h3><p>Pattern:</p><pre>{}</pre>",
                    clip(s(o, "name"), 300),
                    clip(s(o, "pattern"), 4000)
                );
                if !s(o, "valid_from").is_empty() {
                    crate::h!(b, "<p class=\"meta\">Valid from {}</p>", s(o, "valid_from"));
                }
            }
            "malware" => crate::h!(
                b,
                "<section class=\"message\"><h3>Malware: {}</h3>",
                clip(s(o, "name"), 300)
            ),
            "attack-pattern" => {
                let ext: Vec<String> = o
                    .get("external_references")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|r| {
                        r.get("external_id")
                            .and_then(Value::as_str)
                            .map(str::to_owned)
                    })
                    .collect();
                crate::h!(
                    b,
                    "<section class=\"message\"><h3>Attack technique: {}</h3><p>{}</p>",
                    clip(s(o, "name"), 300),
                    ext.join(", ")
                );
            }
            "relationship" => crate::h!(
                b,
                "<section class=\"message\"><h3>Relationship</h3><p>{} <strong>{}</strong> {}</p>",
                clip(&name_of(s(o, "source_ref")), 300),
                s(o, "relationship_type"),
                clip(&name_of(s(o, "target_ref")), 300)
            ),
            _ => crate::h!(
                b,
                "<section class=\"message\"><h3>{}: {}</h3>",
                clip(ty, 64),
                clip(
                    if s(o, "name").is_empty() {
                        s(o, "id")
                    } else {
                        s(o, "name")
                    },
                    300
                )
            ),
        }
        if !s(o, "description").is_empty() {
            crate::h!(b, "<p>{}</p>", clip(s(o, "description"), 4000));
        }
        b.push(&Markup::from_safe("</section>".into()));
    }
    if objects.len() > 500 {
        b.push(&Markup::from_safe("<p class=\"note\">Only the first 500 objects are shown; the full bundle is on the statement's page.</p>".into()));
    }
    b
}
