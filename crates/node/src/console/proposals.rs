//! Proposals: the versions side by side with a line diff, the matrix of members ×
//! versions with each position, taking a position and tabling a new version.

use axum::extract::{Path, State};
use axum::response::Response;
use statement::Kind;
use statement::group::Proposal;

use super::act::position_form;
use super::auth::Session;
use super::error::ConsoleError;
use super::html::{Markup, clip, short, table_head, when};
use super::view::{get, link, parse_id};
use super::{Console, layout, markdown};
use crate::Node;

/// One line of a diff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Line<'a> {
    /// In both.
    Same(&'a str),
    /// Only in the old text.
    Removed(&'a str),
    /// Only in the new text.
    Added(&'a str),
}

/// Longest texts diffed line by line (in lines); longer ones are shown whole.
const MAX_DIFF_LINES: usize = 2000;

/// A line diff of `old` and `new` (longest common subsequence).
pub fn diff<'a>(old: &'a str, new: &'a str) -> Vec<Line<'a>> {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    if a.len() > MAX_DIFF_LINES || b.len() > MAX_DIFF_LINES {
        return a
            .into_iter()
            .map(Line::Removed)
            .chain(b.into_iter().map(Line::Added))
            .collect();
    }
    let mut l = vec![vec![0u32; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            l[i][j] = if a[i] == b[j] {
                l[i + 1][j + 1] + 1
            } else {
                l[i + 1][j].max(l[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < a.len() && j < b.len() {
        if a[i] == b[j] {
            out.push(Line::Same(a[i]));
            i += 1;
            j += 1;
        } else if l[i + 1][j] >= l[i][j + 1] {
            out.push(Line::Removed(a[i]));
            i += 1;
        } else {
            out.push(Line::Added(b[j]));
            j += 1;
        }
    }
    out.extend(a[i..].iter().map(|x| Line::Removed(x)));
    out.extend(b[j..].iter().map(|x| Line::Added(x)));
    out
}

fn diff_table(old: &str, new: &str) -> Markup {
    let mut m = Markup::new();
    m.push(&Markup::from_safe("<table class=\"diff\"><thead><tr><th scope=\"col\">Before</th><th scope=\"col\">After</th></tr></thead><tbody>".into()));
    for line in diff(old, new) {
        match line {
            Line::Same(t) => crate::h!(m, "<tr><td>{}</td><td>{}</td></tr>", t, t),
            Line::Removed(t) => crate::h!(
                m,
                "<tr><td class=\"diff-del\"><span class=\"muted\">removed: </span>{}</td><td></td></tr>",
                t
            ),
            Line::Added(t) => crate::h!(
                m,
                "<tr><td></td><td class=\"diff-add\"><span class=\"muted\">added: </span>{}</td></tr>",
                t
            ),
        }
    }
    m.push(&Markup::from_safe("</tbody></table>".into()));
    m
}

/// `GET /proposals`.
pub async fn list(State(c): State<Console>, session: Session) -> Result<Response, ConsoleError> {
    let node = c.shared().node().await;
    let mut b = Markup::new();
    b.push(&Markup::from_safe("<h1>Proposals</h1><p>Draft norms, agreements and working rules, with every version and every member's position.</p>".into()));
    let ps = node.group()?.proposals();
    if ps.is_empty() {
        b.push(&Markup::from_safe("<p>No proposals yet.</p>".into()));
    } else {
        b.push(&table_head(&["Title", "Versions", "Latest by", "When"]));
        for p in ps.values() {
            if let Some(v) = p.versions.last() {
                crate::h!(
                    b,
                    "<tr><td><a href=\"/proposals/{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    p.root,
                    clip(&v.title, 200),
                    p.versions.len(),
                    v.said.author,
                    when(&v.said.time)
                );
            }
        }
        b.push(&Markup::from_safe("</tbody></table>".into()));
    }
    Ok(layout::page("Proposals", &session, "/proposals", &b))
}

fn texts(node: &Node, p: &Proposal) -> Result<Vec<String>, ConsoleError> {
    p.versions
        .iter()
        .map(|v| {
            let (_, s) = get(node, &v.said.id, "A proposal version")?;
            Ok(s.statement()
                .body
                .get("text")
                .and_then(|t| t.as_str())
                .unwrap_or("")
                .to_owned())
        })
        .collect()
}

fn matrix(node: &Node, p: &Proposal) -> Result<Markup, ConsoleError> {
    let g = node.group()?;
    let mut m = Markup::new();
    m.push(&Markup::from_safe(
        "<h2>Who stands where</h2><table id=\"matrix\"><thead><tr><th scope=\"col\">Member</th>"
            .into(),
    ));
    for v in &p.versions {
        crate::h!(m, "<th scope=\"col\">Version {}</th>", v.version);
    }
    m.push(&Markup::from_safe("</tr></thead><tbody>".into()));
    for (id, member) in g.members().iter().filter(|(_, x)| x.active) {
        crate::h!(m, "<tr><th scope=\"row\">{}</th>", member.name);
        let _ = id;
        for v in &p.versions {
            let rec = g
                .positions_on(&v.said.id)
                .and_then(|ps| ps.get(id))
                .and_then(|r| r.last());
            match rec {
                Some(r) => {
                    let stance = serde_json::to_value(r.stance)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default();
                    crate::h!(
                        m,
                        "<td>{}{}</td>",
                        stance,
                        r.comment
                            .as_deref()
                            .map(|c| format!(": {}", clip(c, 200)))
                            .unwrap_or_default()
                    );
                }
                None => m.push(&Markup::from_safe(
                    "<td class=\"muted\">no position</td>".into(),
                )),
            }
        }
        m.push(&Markup::from_safe("</tr>".into()));
    }
    m.push(&Markup::from_safe("</tbody></table>".into()));
    Ok(m)
}

/// `GET /proposals/{id}` (the id of any version).
pub async fn one(
    State(c): State<Console>,
    session: Session,
    Path(id): Path<String>,
) -> Result<Response, ConsoleError> {
    let id = parse_id(&id)?;
    let node = c.shared().node().await;
    let g = node.group()?;
    let (p, _) = g.version(&id).ok_or(ConsoleError::NotFound {
        what: "That proposal",
    })?;
    let texts = texts(&node, p)?;
    let latest = p.versions.last().ok_or(ConsoleError::NotFound {
        what: "That proposal",
    })?;
    let mut b = Markup::new();
    crate::h!(
        b,
        "<h1>{}</h1><p class=\"meta\">{} versions; the latest by <strong>{}</strong> on {}.</p>",
        clip(&latest.title, 200),
        p.versions.len(),
        latest.said.author,
        when(&latest.said.time)
    );
    b.push(&matrix(&node, p)?);
    for (i, v) in p.versions.iter().enumerate().rev() {
        crate::h!(
            b,
            "<section class=\"message\" id=\"v{}\"><h2>Version {}: {}</h2><p class=\"meta\">By {} on {} · text SHA-256 <code>{}</code> · ",
            v.version,
            v.version,
            clip(&v.title, 200),
            v.said.author,
            when(&v.said.time),
            short(&v.text_sha256)
        );
        b.push(&link(&v.said.id));
        b.push(&Markup::from_safe("</p>".into()));
        if i > 0 {
            crate::h!(
                b,
                "<details open><summary>Changes from version {}</summary>",
                p.versions[i - 1].version
            );
            b.push(&diff_table(&texts[i - 1], &texts[i]));
            b.push(&Markup::from_safe(
                "</details><details><summary>Full text</summary>".into(),
            ));
            b.push(&markdown::render(&texts[i]));
            b.push(&Markup::from_safe("</details>".into()));
        } else {
            b.push(&markdown::render(&texts[i]));
        }
        for (aid, a) in g
            .agreements()
            .iter()
            .filter(|(_, a)| a.version == v.said.id)
        {
            crate::h!(
                b,
                "<p>This text is the agreement <a href=\"/agreements/{}\">{}</a>.</p>",
                aid,
                clip(&a.title, 200)
            );
        }
        b.push(&Markup::from_safe("</section>".into()));
    }
    let back = format!("/proposals/{}", p.root);
    crate::h!(b, "<h2>Our position on version {}</h2>", latest.version);
    b.push(&position_form(
        &session,
        &latest.said.id,
        Kind::Proposal,
        &back,
    ));
    if session.can_write() {
        crate::h!(
            b,
            "<h2>Table a new version</h2><form method=\"post\" action=\"/act/version\" class=\"stack\" id=\"new-version\"><input type=\"hidden\" name=\"amends\" value=\"{}\"><input type=\"hidden\" name=\"back\" value=\"{}\"><label for=\"v-title\">Title</label><input id=\"v-title\" name=\"title\" value=\"{}\" required maxlength=\"256\"><label for=\"v-text\">Full text of the new version</label><textarea id=\"v-text\" name=\"text\" required>{}</textarea>",
            latest.said.id,
            back,
            latest.title,
            texts.last().map(String::as_str).unwrap_or("")
        );
        b.push(&session.form_end("Review before posting"));
    }
    Ok(layout::page("Proposal", &session, "/proposals", &b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_finds_the_changed_line() {
        let d = diff("a\nb\nc", "a\nB\nc\nd");
        assert_eq!(
            d,
            vec![
                Line::Same("a"),
                Line::Removed("b"),
                Line::Added("B"),
                Line::Same("c"),
                Line::Added("d")
            ]
        );
    }
}
