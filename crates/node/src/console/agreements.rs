//! Agreements: the text, the signatories and the status of their signatures, signing,
//! and the download of an offline-verifiable evidence bundle ([`super::bundle`]).

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::auth::Session;
use super::bundle;
use super::error::ConsoleError;
use super::html::{Markup, clip, short, table_head, when};
use super::view::{get, link, parse_id, signature_ok};
use super::{Console, layout, markdown};

/// `GET /agreements`.
pub async fn list(State(c): State<Console>, session: Session) -> Result<Response, ConsoleError> {
    let node = c.shared().node().await;
    let mut b = Markup::new();
    b.push(&Markup::from_safe("<h1>Agreements</h1><p>Texts the members agreed to sign. An agreement is adopted when every named signatory has signed its exact text.</p>".into()));
    let ags = node.group()?.agreements();
    if ags.is_empty() {
        b.push(&Markup::from_safe("<p>No agreements yet.</p>".into()));
    } else {
        b.push(&table_head(&["Title", "Status", "Tabled by"]));
        for (id, a) in ags {
            let status = match a.adopted_at {
                Some(_) => "Adopted".to_owned(),
                None => format!("{} of {} signatures", a.signed.len(), a.signatories.len()),
            };
            crate::h!(
                b,
                "<tr><td><a href=\"/agreements/{}\">{}</a></td><td>{}</td><td>{}</td></tr>",
                id,
                clip(&a.title, 200),
                status,
                a.said.author
            );
        }
        b.push(&Markup::from_safe("</tbody></table>".into()));
    }
    Ok(layout::page("Agreements", &session, "/agreements", &b))
}

/// `GET /agreements/{id}`.
pub async fn one(
    State(c): State<Console>,
    session: Session,
    Path(id): Path<String>,
) -> Result<Response, ConsoleError> {
    let id = parse_id(&id)?;
    let node = c.shared().node().await;
    let g = node.group()?;
    let a = g.agreements().get(&id).ok_or(ConsoleError::NotFound {
        what: "That agreement",
    })?;
    let (_, version) = get(&node, &a.version, "The agreed text")?;
    let text = version
        .statement()
        .body
        .get("text")
        .and_then(|t| t.as_str())
        .unwrap_or("");
    let mut b = Markup::new();
    crate::h!(
        b,
        "<h1>{}</h1><p class=\"meta\">Tabled by <strong>{}</strong> on {} · ",
        clip(&a.title, 200),
        a.said.author,
        when(&a.said.time)
    );
    b.push(&link(&id));
    match a.adopted_at {
        Some(i) => crate::h!(
            b,
            "</p><p><strong class=\"ok\">Adopted</strong>: the last signature is log entry {}.</p>",
            i
        ),
        None => crate::h!(
            b,
            "</p><p><strong>Not adopted yet</strong>: {} of {} signatures.</p>",
            a.signed.len(),
            a.signatories.len()
        ),
    }
    crate::h!(
        b,
        "<h2>Signatures</h2><table id=\"signatures\"><thead><tr><th scope=\"col\">Signatory</th><th scope=\"col\">Status</th></tr></thead><tbody>"
    );
    for m in &a.signatories {
        match a.signed.get(m) {
            Some(said) => {
                let valid = get(&node, &said.id, "A signature")
                    .map(|(_, s)| signature_ok(&node, &s))
                    .unwrap_or(false);
                crate::h!(
                    b,
                    "<tr><td>{}</td><td>{} on {} (log entry {}) ",
                    m,
                    if valid {
                        "Signed, signature valid"
                    } else {
                        "Signed, signature NOT valid"
                    },
                    when(&said.time),
                    said.index
                );
                b.push(&link(&said.id));
                b.push(&Markup::from_safe("</td></tr>".into()));
            }
            None => crate::h!(
                b,
                "<tr><td>{}</td><td class=\"muted\">not signed yet</td></tr>",
                m
            ),
        }
    }
    crate::h!(
        b,
        "</tbody></table><h2>The text</h2><p class=\"meta\">SHA-256 of the text: <code>{}</code> (version {} of <a href=\"/proposals/{}\">the proposal</a>)</p>",
        a.text_sha256,
        short(&a.version),
        a.version
    );
    b.push(&markdown::render(text));
    crate::h!(
        b,
        "<h2>Evidence</h2><p>A file anyone can check offline with <code>detente verify-evidence FILE --genesis genesis.json</code>: the agreement, its text and the signatures, each with its proof of being in the log, and a checkpoint signed by the log and its witnesses.</p><p><a href=\"/agreements/{}/evidence.json\" download id=\"evidence-download\">Download the evidence bundle</a></p>",
        id
    );
    let me = node.member();
    if session.can_write() && a.signatories.contains(me) && !a.signed.contains_key(me) {
        crate::h!(
            b,
            "<h2>Sign</h2><form method=\"post\" action=\"/act/sign\"><input type=\"hidden\" name=\"agreement\" value=\"{}\"><input type=\"hidden\" name=\"back\" value=\"/agreements/{}\">",
            id,
            id
        );
        b.push(&session.form_end("Review signing this text"));
    }
    Ok(layout::page("Agreement", &session, "/agreements", &b))
}

/// `GET /agreements/{id}/evidence.json`.
pub async fn evidence(
    State(c): State<Console>,
    _session: Session,
    Path(id): Path<String>,
) -> Result<Response, ConsoleError> {
    let id = parse_id(&id)?;
    let node = c.shared().node().await;
    let bundle = bundle::make(&node, &id)?.ok_or(ConsoleError::NotFound {
        what: "That agreement",
    })?;
    let body = serde_json::to_vec_pretty(&bundle).unwrap_or_default();
    let disposition = format!(
        "attachment; filename=\"agreement-{}.evidence.json\"",
        short(&id)
    );
    Ok((
        [
            (header::CONTENT_TYPE, "application/json".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}
