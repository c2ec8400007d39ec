//! Requests: open, answered and overdue, with due times counting down; answering one
//! addressed to us, and acknowledging communication checks.

use axum::extract::State;
use axum::response::Response;
use statement::group::Request;
use statement::{StatementId, Timestamp};

use super::auth::Session;
use super::error::ConsoleError;
use super::html::{Markup, clip, duration, when};
use super::view::{content, get, link, names};
use super::{Console, layout, markdown};
use crate::Node;

/// Where a request stands for the group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Not yet answered by everyone expected, and not yet due.
    Open,
    /// Answered (or acknowledged) by everyone expected; or, sent to the whole group,
    /// answered by someone.
    Answered,
    /// Past due with someone expected still silent.
    Overdue,
}

/// A request's status at `now`.
pub fn status(r: &Request, now: &Timestamp) -> Status {
    let done = if r.check { &r.receipts } else { &r.answers };
    let complete = if r.recipients.is_empty() {
        !done.is_empty()
    } else {
        r.recipients.iter().all(|m| done.contains_key(m))
    };
    match (complete, *now > r.due) {
        (true, _) => Status::Answered,
        (false, true) => Status::Overdue,
        (false, false) => Status::Open,
    }
}

/// Whether we still owe an answer or a receipt.
pub fn owed_by(r: &Request, me: &statement::MemberId) -> bool {
    let done = if r.check { &r.receipts } else { &r.answers };
    r.recipients.contains(me) && !done.contains_key(me)
}

/// A countdown: rendered as text, updated live by the script.
pub fn countdown(due: &Timestamp, now: &Timestamp) -> Markup {
    let left = now.seconds_until(due);
    let mut m = Markup::new();
    let text = if left >= 0 {
        format!("due in {}", duration(left))
    } else {
        format!("overdue by {}", duration(left))
    };
    crate::h!(
        m,
        "<span data-due=\"{}\" class=\"{}\">{}</span>",
        due.unix(),
        if left < 0 { "overdue" } else { "" },
        text
    );
    m
}

/// `GET /requests`.
pub async fn list(State(c): State<Console>, session: Session) -> Result<Response, ConsoleError> {
    let node = c.shared().node().await;
    let now = crate::now();
    let mut b = Markup::new();
    b.push(&Markup::from_safe("<h1>Requests</h1><p>Requests for help or information, and communication checks (a check asks each member to confirm it is listening).</p>".into()));
    for (st, title) in [
        (Status::Overdue, "Overdue"),
        (Status::Open, "Open"),
        (Status::Answered, "Answered"),
    ] {
        crate::h!(b, "<h2>{}</h2>", title);
        let mut any = false;
        for (id, r) in node
            .group()?
            .requests()
            .iter()
            .rev()
            .filter(|(_, r)| status(r, &now) == st)
        {
            any = true;
            b.push(&one(&node, &session, id, r, &now)?);
        }
        if !any {
            b.push(&Markup::from_safe("<p class=\"muted\">None.</p>".into()));
        }
    }
    Ok(layout::page("Requests", &session, "/requests", &b))
}

fn one(
    node: &Node,
    session: &Session,
    id: &StatementId,
    r: &Request,
    now: &Timestamp,
) -> Result<Markup, ConsoleError> {
    let (_, s) = get(node, id, "A request")?;
    let c = content(node, &s);
    let mut b = Markup::new();
    let what = if r.check {
        "Communication check"
    } else {
        "Request"
    };
    crate::h!(
        b,
        "<section class=\"message\" id=\"r-{}\"><h3>{}: {}</h3><p class=\"meta\">From <strong>{}</strong> on {} · due {} · ",
        id,
        what,
        clip(c.field("subject").unwrap_or(""), 200),
        r.said.author,
        when(&r.said.time),
        when(&r.due)
    );
    b.push(&countdown(&r.due, now));
    b.push(&Markup::from_safe(" · ".into()));
    b.push(&link(id));
    b.push(&Markup::from_safe("</p>".into()));
    match (c.field("text"), &c.unreadable) {
        (Some(t), _) => b.push(&markdown::render(t)),
        (None, Some(u)) => crate::h!(b, "<p class=\"note\">{}</p>", u),
        _ => {}
    }
    if r.recipients.is_empty() {
        b.push(&Markup::from_safe(
            "<p>Sent to the whole group; no one in particular must answer.</p>".into(),
        ));
    } else {
        b.push(&Markup::from_safe("<ul>".into()));
        let done = if r.check { &r.receipts } else { &r.answers };
        for m in &r.recipients {
            match done.get(m) {
                Some(a) if a.time <= r.due => crate::h!(
                    b,
                    "<li>{}: <span class=\"ok\">answered on time</span> ({})</li>",
                    m,
                    when(&a.time)
                ),
                Some(a) => crate::h!(
                    b,
                    "<li>{}: <span class=\"late\">answered late</span> ({})</li>",
                    m,
                    when(&a.time)
                ),
                None if *now > r.due => crate::h!(
                    b,
                    "<li>{}: <span class=\"overdue\">no answer, overdue</span></li>",
                    m
                ),
                None => crate::h!(b, "<li>{}: waiting</li>", m),
            }
        }
        b.push(&Markup::from_safe("</ul>".into()));
    }
    if session.can_write() && owed_by(r, node.member()) {
        b.push(&answer_form(session, id, r));
    }
    if let Some(to) = &s.statement().to {
        crate::h!(
            b,
            "<p class=\"meta\">Addressed to {}.</p>",
            names(to.iter())
        );
    }
    b.push(&Markup::from_safe("</section>".into()));
    Ok(b)
}

fn answer_form(session: &Session, id: &StatementId, r: &Request) -> Markup {
    let mut b = Markup::new();
    if r.check {
        crate::h!(
            b,
            "<form method=\"post\" action=\"/act/receipt\"><input type=\"hidden\" name=\"request\" value=\"{}\"><input type=\"hidden\" name=\"back\" value=\"/requests\">",
            id
        );
        b.push(&session.form_end("Confirm we received it"));
    } else {
        crate::h!(
            b,
            "<form method=\"post\" action=\"/act/answer\" class=\"stack\"><input type=\"hidden\" name=\"request\" value=\"{}\"><input type=\"hidden\" name=\"back\" value=\"/requests\"><label for=\"answer-{}\">Our answer</label><textarea id=\"answer-{}\" name=\"text\" required></textarea>",
            id,
            id,
            id
        );
        b.push(&session.form_end("Review before posting"));
    }
    b
}
