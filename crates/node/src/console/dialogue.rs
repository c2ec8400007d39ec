//! Dialogue: threads (newest activity first), one thread, replying, and starting a
//! thread, optionally sealed to chosen members.

use axum::extract::{Path, State};
use axum::response::Response;
use statement::StatementId;
use statement::group::Group;

use super::act::addressee_boxes;
use super::auth::Session;
use super::error::ConsoleError;
use super::html::{Markup, clip, short, table_head, when};
use super::view::{content, get, link, names, parse_id};
use super::{Console, layout, markdown};

fn depth(g: &Group, id: &StatementId) -> usize {
    let mut d = 0;
    let mut cur = g.message(id).and_then(|m| m.parent);
    while let Some(p) = cur {
        d += 1;
        cur = g.message(&p).and_then(|m| m.parent);
    }
    d
}

/// `GET /dialogue`.
pub async fn list(State(c): State<Console>, session: Session) -> Result<Response, ConsoleError> {
    let node = c.shared().node().await;
    let g = node.group()?;
    let mut threads: Vec<_> = g.threads().values().collect();
    threads.sort_by_key(|t| std::cmp::Reverse(t.last_index));
    let mut b = Markup::new();
    b.push(&Markup::from_safe(
        "<h1>Dialogue</h1><p>Conversations between the members, the most recently active first.</p>".into(),
    ));
    if threads.is_empty() {
        b.push(&Markup::from_safe("<p>No conversations yet.</p>".into()));
    } else {
        b.push(&table_head(&[
            "Subject",
            "Started by",
            "Messages",
            "Last activity",
        ]));
        for t in threads {
            let (_, root) = get(&node, &t.root, "A thread's first message")?;
            let c = content(&node, &root);
            let subject = c
                .field("subject")
                .map(|s| clip(s, 120))
                .or(c.unreadable.clone())
                .unwrap_or_else(|| "(no subject)".into());
            let last = t.messages.last().and_then(|id| g.message(id));
            crate::h!(
                b,
                "<tr><td><a href=\"/thread/{}\">{}</a>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                t.root,
                subject,
                if root.statement().sealed.is_some() {
                    " 🔒"
                } else {
                    ""
                },
                root.statement().author,
                t.messages.len(),
                last.map(|m| when(&m.said.time)).unwrap_or_default()
            );
        }
        b.push(&Markup::from_safe("</tbody></table>".into()));
    }
    if session.can_write() {
        b.push(&Markup::from_safe(
            "<h2>Start a conversation</h2><form method=\"post\" action=\"/act/thread\" class=\"stack\" id=\"new-thread\">\
             <label for=\"subject\">Subject</label><input id=\"subject\" name=\"subject\" required maxlength=\"256\">\
             <label for=\"thread-text\">Message (simple formatting: **bold**, *italic*, `code`, lists, links)</label>\
             <textarea id=\"thread-text\" name=\"text\" required></textarea>"
                .into(),
        ));
        b.push(&addressee_boxes(&node));
        b.push(&session.form_end("Review before posting"));
    }
    Ok(layout::page("Dialogue", &session, "/dialogue", &b))
}

/// `GET /thread/{id}`.
pub async fn thread(
    State(c): State<Console>,
    session: Session,
    Path(id): Path<String>,
) -> Result<Response, ConsoleError> {
    let id = parse_id(&id)?;
    let node = c.shared().node().await;
    let g = node.group()?;
    let root = g
        .message(&id)
        .map(|m| m.root)
        .ok_or(ConsoleError::NotFound {
            what: "That conversation",
        })?;
    let t = g.threads().get(&root).ok_or(ConsoleError::NotFound {
        what: "That conversation",
    })?;
    let (_, first) = get(&node, &root, "The thread's first message")?;
    let fc = content(&node, &first);
    let subject = fc
        .field("subject")
        .map(|s| clip(s, 200))
        .unwrap_or_else(|| "(no subject)".into());
    let mut b = Markup::new();
    crate::h!(b, "<h1>{}</h1>", subject);
    if let Some(to) = &first.statement().to {
        crate::h!(
            b,
            "<p class=\"note\">Sealed: only {} and {} can read it.</p>",
            names(to.iter()),
            first.statement().author
        );
    }
    for mid in &t.messages {
        let (index, s) = get(&node, mid, "A message")?;
        let c = content(&node, &s);
        crate::h!(
            b,
            "<article class=\"message depth-{}\" id=\"m-{}\"><p class=\"meta\"><strong>{}</strong> · {} · entry {} · ",
            depth(g, mid).min(3),
            short(mid),
            s.statement().author,
            when(&s.statement().time),
            index
        );
        b.push(&link(mid));
        b.push(&Markup::from_safe("</p>".into()));
        match (c.field("text"), &c.unreadable) {
            (Some(text), _) => b.push(&markdown::render(text)),
            (None, Some(u)) => crate::h!(b, "<p class=\"note\">{}</p>", u),
            _ => {}
        }
        b.push(&Markup::from_safe("</article>".into()));
    }
    if session.can_write() {
        b.push(&Markup::from_safe(
            "<h2>Reply</h2><form method=\"post\" action=\"/act/reply\" class=\"stack\" id=\"reply\">\
             <label for=\"reply-to\">In reply to</label><select id=\"reply-to\" name=\"reply_to\">"
                .into(),
        ));
        for mid in t.messages.iter().rev() {
            let author = g
                .message(mid)
                .map(|m| m.said.author.to_string())
                .unwrap_or_default();
            crate::h!(
                b,
                "<option value=\"{}\">{} — {}</option>",
                mid,
                author,
                short(mid)
            );
        }
        crate::h!(
            b,
            "</select><label for=\"reply-text\">Your reply</label><textarea id=\"reply-text\" name=\"text\" required></textarea>\
             <input type=\"hidden\" name=\"back\" value=\"/thread/{}\">",
            root
        );
        b.push(&session.form_end("Review before posting"));
    }
    Ok(layout::page("Conversation", &session, "/dialogue", &b))
}
