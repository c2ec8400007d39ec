//! Every action that posts: `POST /act/{action}`.
//!
//! The first POST builds the statement and shows exactly what will be signed — the
//! statement as the node will sign it, with the author's next place in its chain, and the
//! content that will be sealed and to whom — with the same fields in a confirmation
//! form. Only the second POST, with `confirm=yes`, signs and posts it through the node
//! ([`crate::Node::post`]). Both pass [`Console::check_post`]: session, origin,
//! anti-forgery token, and a user allowed to post.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use statement::build::Draft;
use statement::{Kind, MemberId, Stance, StatementId, Tlp};

use super::auth::{CSRF_FIELD, Session};
use super::error::ConsoleError;
use super::form::Fields;
use super::html::Markup;
use super::view::{get, names, parse_id};
use super::{Console, layout, reports};
use crate::Node;

/// A statement ready to sign, and where to go once it is posted.
pub struct Built {
    /// The draft, not sealed yet.
    pub draft: Draft,
    /// Members to seal it to (the author is always added), if it is to be sealed.
    pub seal_to: Option<Vec<MemberId>>,
    /// Where to go afterwards: a console path, or `None` for the new statement's page.
    pub back: Option<String>,
    /// What it does, in plain words.
    pub summary: String,
}

/// `POST /act/{action}`.
pub async fn act(
    State(c): State<Console>,
    Path(action): Path<String>,
    headers: HeaderMap,
    fields: Fields,
) -> Result<Response, ConsoleError> {
    let session = c.check_post(&headers, &fields, true)?;
    let mut node = c.shared().node().await;
    let built = build(&node, &action, &fields)?;
    if fields.get("confirm") != Some("yes") {
        let preview = preview(&node, &built)?;
        return Ok(confirm_page(&session, &action, &fields, &built, &preview));
    }
    let draft = match &built.seal_to {
        Some(to) => node.seal(built.draft, to)?,
        None => built.draft,
    };
    let kind = draft.kind;
    let posted = node.post(draft).await?;
    drop(node);
    let to = built.back.unwrap_or_else(|| match kind {
        Kind::Message => format!("/thread/{}", posted.id),
        Kind::Report => format!("/reports/{}", posted.id),
        _ => format!("/statement/{}", posted.id),
    });
    Ok((StatusCode::SEE_OTHER, [(header::LOCATION, to)]).into_response())
}

fn text(fields: &Fields, name: &str, label: &str) -> Result<String, ConsoleError> {
    Ok(fields.required(name, label)?.replace("\r\n", "\n"))
}

fn id_field(fields: &Fields, name: &str) -> Result<StatementId, ConsoleError> {
    parse_id(fields.required(name, "statement")?)
}

/// Addressees chosen in the form (`to`), checked to be current members other than us.
fn addressees(node: &Node, fields: &Fields) -> Result<Option<Vec<MemberId>>, ConsoleError> {
    let mut to = Vec::new();
    for m in fields.all("to") {
        let id = MemberId::new(m)
            .map_err(|_| ConsoleError::BadInput(format!("“{m}” is not a member id.")))?;
        if node.rules().member(&id).is_none_or(|x| !x.active) {
            return Err(ConsoleError::BadInput(format!(
                "{id} is not a current member."
            )));
        }
        if id != *node.member() && !to.contains(&id) {
            to.push(id);
        }
    }
    Ok((!to.is_empty()).then_some(to))
}

/// A console path from the form's `back` field (never another site).
fn back(fields: &Fields) -> Option<String> {
    fields
        .text("back")
        .filter(|b| b.starts_with('/') && !b.starts_with("//") && !b.contains('\\'))
        .map(str::to_owned)
}

/// Builds the statement an action asks for.
pub fn build(node: &Node, action: &str, f: &Fields) -> Result<Built, ConsoleError> {
    match action {
        "thread" => thread(node, f),
        "reply" => reply(node, f),
        "report" => reports::build_report(node, f, back(f)),
        "position" => position(node, f),
        "answer" => answer(node, f),
        "receipt" => receipt(node, f),
        "version" => version(node, f),
        "sign" => sign(node, f),
        _ => Err(ConsoleError::NotFound {
            what: "That action",
        }),
    }
}

fn built(f: &Fields, draft: Draft, seal_to: Option<Vec<MemberId>>, summary: String) -> Built {
    Built {
        draft,
        seal_to,
        back: back(f),
        summary,
    }
}

/// A new conversation, sealed to the members ticked in `to`, if any.
fn thread(node: &Node, f: &Fields) -> Result<Built, ConsoleError> {
    let subject = text(f, "subject", "Subject")?;
    let to = addressees(node, f)?;
    let summary = match &to {
        Some(t) => format!(
            "Start a conversation sealed to {} (and us).",
            names(t.iter())
        ),
        None => "Start a conversation with the whole group.".into(),
    };
    let draft = Draft::thread(&subject, &text(f, "text", "Message")?);
    Ok(built(f, draft, to, summary))
}

/// A reply, sealed like the message it answers (to its addressees and author).
fn reply(node: &Node, f: &Fields) -> Result<Built, ConsoleError> {
    let parent = id_field(f, "reply_to")?;
    let (_, p) = get(node, &parent, "The message answered")?;
    let ps = p.statement();
    let seal_to = ps.sealed.as_ref().and(ps.to.as_ref()).map(|t| {
        t.iter()
            .chain(std::iter::once(&ps.author))
            .filter(|m| *m != node.member())
            .cloned()
            .collect::<Vec<_>>()
    });
    let summary = match &seal_to {
        Some(t) => format!(
            "Reply, sealed to {} like the message answered.",
            names(t.iter())
        ),
        None => "Reply in the conversation, for the whole group.".into(),
    };
    let draft = Draft::message(&text(f, "text", "Reply")?).refs(&[parent]);
    Ok(built(f, draft, seal_to, summary))
}

/// A position on a proposal version, report or membership change.
fn position(node: &Node, f: &Fields) -> Result<Built, ConsoleError> {
    let target = id_field(f, "target")?;
    let stance: Stance = serde_json::from_value(json!(f.required("stance", "Position")?))
        .map_err(|_| ConsoleError::BadInput("Choose one of the positions offered.".into()))?;
    let kind = node
        .group()?
        .logged(&target)
        .ok_or(ConsoleError::NotFound {
            what: "The statement",
        })?
        .kind;
    if stance == Stance::Sign || !stance.allowed_on(kind) {
        return Err(ConsoleError::BadInput(format!(
            "That position cannot be taken on a {}.",
            kind.as_str()
        )));
    }
    let comment = f.text("comment").map(|c| c.replace("\r\n", "\n"));
    let summary = format!(
        "Record our position “{}” on the {}.",
        f.get("stance").unwrap_or(""),
        kind.as_str()
    );
    let draft = Draft::position(target, stance, comment.as_deref());
    Ok(built(f, draft, None, summary))
}

/// An answer to a request: sealed to its author if the request was sealed, otherwise
/// addressed to it.
fn answer(node: &Node, f: &Fields) -> Result<Built, ConsoleError> {
    let req = id_field(f, "request")?;
    let r = node
        .group()?
        .requests()
        .get(&req)
        .ok_or(ConsoleError::NotFound {
            what: "The request",
        })?;
    let (_, rs) = get(node, &req, "The request")?;
    let seal_to = rs
        .statement()
        .sealed
        .is_some()
        .then(|| vec![r.said.author.clone()]);
    let summary = format!(
        "Answer {}'s request{}.",
        r.said.author,
        if seal_to.is_some() {
            ", sealed to it"
        } else {
            ""
        }
    );
    let mut d = Draft::message(&text(f, "text", "Answer")?).refs(&[req]);
    if seal_to.is_none() {
        d = d.to(std::slice::from_ref(&r.said.author));
    }
    Ok(built(f, d, seal_to, summary))
}

/// A receipt for a communication check.
fn receipt(node: &Node, f: &Fields) -> Result<Built, ConsoleError> {
    let req = id_field(f, "request")?;
    let r = node
        .group()?
        .requests()
        .get(&req)
        .ok_or(ConsoleError::NotFound { what: "The check" })?;
    let summary = format!(
        "Confirm to {} that we received its communication check.",
        r.said.author
    );
    Ok(built(f, Draft::receipt(&[req]), None, summary))
}

/// The next version of a proposal, amending its latest.
fn version(node: &Node, f: &Fields) -> Result<Built, ConsoleError> {
    let amends = id_field(f, "amends")?;
    let (p, _) = node
        .group()?
        .version(&amends)
        .ok_or(ConsoleError::NotFound {
            what: "The proposal version",
        })?;
    if p.versions.last().map(|v| v.said.id) != Some(amends) {
        return Err(ConsoleError::BadInput(
            "A new version must amend the latest one.".into(),
        ));
    }
    let next = u32::try_from(p.versions.len())
        .unwrap_or(u32::MAX)
        .saturating_add(1);
    let draft = Draft::amendment(
        &text(f, "title", "Title")?,
        &text(f, "text", "Text")?,
        next,
        amends,
    );
    Ok(built(
        f,
        draft,
        None,
        format!("Table version {next} of the proposal."),
    ))
}

/// Signing an agreement's exact text.
fn sign(node: &Node, f: &Fields) -> Result<Built, ConsoleError> {
    let a = id_field(f, "agreement")?;
    let ag = node
        .group()?
        .agreements()
        .get(&a)
        .ok_or(ConsoleError::NotFound {
            what: "The agreement",
        })?;
    let summary = format!(
        "Sign the agreement “{}”: its text with SHA-256 {}.",
        ag.title, ag.text_sha256
    );
    Ok(built(f, Draft::sign(a, ag.text_sha256), None, summary))
}

/// The statement as it will be signed (the time is stamped at confirmation; sealed
/// content is shown in clear beside it), and the sealed content.
pub fn preview(node: &Node, b: &Built) -> Result<(Value, Option<Value>), ConsoleError> {
    let g = node.group()?;
    let (seq, prev) = g
        .member(node.member())
        .map_or((0, None), |m| (m.last_seq, m.last_id));
    let (draft, content) = match &b.seal_to {
        Some(to) => {
            let sealed = node.seal(b.draft.clone(), to)?;
            let content: serde_json::Map<String, Value> = b
                .draft
                .body
                .iter()
                .filter(|(k, _)| !sealed.body.contains_key(*k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            (sealed, Some(Value::Object(content)))
        }
        None => (b.draft.clone(), None),
    };
    let mut v = json!({
        "v": statement::envelope::FORMAT_VERSION,
        "group": g.origin().unwrap_or_default(),
        "author": node.member(),
        "seq": seq + 1,
        "prev": prev,
        "time": "(the time you confirm, in UTC)",
        "kind": draft.kind,
        "refs": draft.refs,
        "body": draft.body,
    });
    if let Some(to) = &draft.to {
        v["to"] = json!(to);
    }
    if draft.sealed.is_some() {
        v["sealed"] = json!("(the content below, encrypted to the addressees and us)");
    }
    Ok((v, content))
}

fn confirm_page(
    session: &Session,
    action: &str,
    fields: &Fields,
    b: &Built,
    (statement, sealed): &(Value, Option<Value>),
) -> Response {
    let mut m = Markup::new();
    crate::h!(
        m,
        "<h1>Check and confirm</h1><p><strong>{}</strong></p>",
        b.summary
    );
    m.push(&Markup::from_safe(
        "<p>Your node will sign exactly this statement with your organisation's key and send it to the group's log. \
         Once in the log it cannot be changed or withdrawn, and every member can see that you said it.</p>"
            .into(),
    ));
    let pretty = serde_json::to_string_pretty(statement).unwrap_or_default();
    crate::h!(
        m,
        "<h2>The statement to sign</h2><pre class=\"signed-json\" id=\"to-sign\">{}</pre>",
        pretty
    );
    if let Some(s) = sealed {
        let pretty = serde_json::to_string_pretty(s).unwrap_or_default();
        crate::h!(
            m,
            "<h2>Sealed content (only the addressees and we can read it)</h2><pre>{}</pre>",
            pretty
        );
    }
    crate::h!(m, "<form method=\"post\" action=\"/act/{}\">", action);
    for (k, v) in &fields.0 {
        if k != CSRF_FIELD && k != "confirm" {
            crate::h!(m, "<input type=\"hidden\" name=\"{}\" value=\"{}\">", k, v);
        }
    }
    m.push(&session.csrf_field());
    m.push(&Markup::from_safe(
        "<input type=\"hidden\" name=\"confirm\" value=\"yes\">\
         <button type=\"submit\" id=\"confirm\">Sign and post</button></form>"
            .into(),
    ));
    crate::h!(
        m,
        "<p><a href=\"{}\">Cancel: go back without posting</a></p>",
        back(fields).unwrap_or_else(|| "/".into())
    );
    layout::page("Check and confirm", session, "", &m)
}

/// The positions a member may take on a statement of `kind`, as (value, label).
pub fn stances(kind: Kind) -> Vec<(&'static str, &'static str)> {
    let all = [
        (Stance::Support, "support", "We support it"),
        (Stance::Oppose, "oppose", "We oppose it"),
        (Stance::Abstain, "abstain", "We abstain"),
        (Stance::StronglyAgree, "strongly-agree", "Strongly agree"),
        (Stance::Agree, "agree", "Agree"),
        (Stance::Neutral, "neutral", "Neutral"),
        (Stance::Disagree, "disagree", "Disagree"),
        (
            Stance::StronglyDisagree,
            "strongly-disagree",
            "Strongly disagree",
        ),
        (Stance::Comment, "comment", "Comment only, no side taken"),
    ];
    all.into_iter()
        .filter(|(s, _, _)| s.allowed_on(kind))
        .map(|(_, v, l)| (v, l))
        .collect()
}

/// A position form for `target` of `kind`, returning to `back`.
pub fn position_form(session: &Session, target: &StatementId, kind: Kind, back: &str) -> Markup {
    let mut m = Markup::new();
    if !session.can_write() {
        return m;
    }
    crate::h!(
        m,
        "<form method=\"post\" action=\"/act/position\" class=\"stack\" id=\"position-form\"><fieldset><legend>Take a position</legend>\
         <input type=\"hidden\" name=\"target\" value=\"{}\"><input type=\"hidden\" name=\"back\" value=\"{}\">",
        target,
        back
    );
    m.push(&session.csrf_field());
    for (i, (v, l)) in stances(kind).into_iter().enumerate() {
        crate::h!(
            m,
            "<div><input type=\"radio\" name=\"stance\" id=\"stance-{}\" value=\"{}\" required> <label for=\"stance-{}\">{}</label></div>",
            i,
            v,
            i,
            l
        );
    }
    m.push(&Markup::from_safe(
        "<label for=\"position-comment\">Explanation (optional)</label>\
         <textarea id=\"position-comment\" name=\"comment\" maxlength=\"4096\"></textarea>\
         <button type=\"submit\">Review before posting</button></fieldset></form>"
            .into(),
    ));
    m
}

/// Options to seal to members: a checkbox per current member other than us.
pub fn addressee_boxes(node: &Node) -> Markup {
    let mut m = Markup::new();
    m.push(&Markup::from_safe(
        "<fieldset><legend>Seal it to some members only (leave all unticked for the whole group)</legend>".into(),
    ));
    for (id, member) in node.rules().members() {
        if member.active && id != node.member() {
            crate::h!(
                m,
                "<div><input type=\"checkbox\" name=\"to\" value=\"{}\" id=\"to-{}\"> <label for=\"to-{}\">{} ({})</label></div>",
                id,
                id,
                id,
                member.name,
                id
            );
        }
    }
    m.push(&Markup::from_safe("</fieldset>".into()));
    m
}

/// Whether a TLP marking needs addressees.
pub fn needs_addressees(tlp: Tlp) -> bool {
    tlp.requires_seal()
}
