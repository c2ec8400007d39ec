//! The page frame: navigation, who is logged in, the log-out button, and the static
//! stylesheet and script (served from the binary; no inline script or style anywhere, as
//! the Content-Security-Policy requires).

use axum::http::header;
use axum::response::{Html, IntoResponse, Response};

use super::auth::Session;
use super::html::Markup;

/// The stylesheet.
pub const CSS: &str = include_str!("static/console.css");
/// The one script: progressive enhancements only (countdowns, reading a file into a form).
pub const JS: &str = include_str!("static/console.js");

/// The console's sections, in navigation order: (path, label).
pub const SECTIONS: [(&str, &str); 7] = [
    ("/", "Overview"),
    ("/dialogue", "Dialogue"),
    ("/reports", "Reports"),
    ("/requests", "Requests"),
    ("/proposals", "Proposals"),
    ("/agreements", "Agreements"),
    ("/standing", "Standing"),
];

fn head(title: &str) -> Markup {
    let mut m = Markup::new();
    crate::h!(
        m,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} — Détente</title>\
         <link rel=\"stylesheet\" href=\"/static/console.css\">\
         <script src=\"/static/console.js\" defer></script></head><body>\
         <a class=\"skip\" href=\"#main\">Skip to the content</a>",
        title
    );
    m
}

/// A page for a logged-in user, with `active` the path of its section.
pub fn page(title: &str, session: &Session, active: &str, body: &Markup) -> Response {
    let mut m = head(title);
    m.push(&Markup::from_safe(
        "<header><nav aria-label=\"Sections\"><ul>".into(),
    ));
    for (path, label) in SECTIONS {
        if path == active {
            crate::h!(
                m,
                "<li><a href=\"{}\" aria-current=\"page\">{}</a></li>",
                path,
                label
            );
        } else {
            crate::h!(m, "<li><a href=\"{}\">{}</a></li>", path, label);
        }
    }
    crate::h!(
        m,
        "</ul></nav><div class=\"who\">Logged in as <strong>{}</strong>{}",
        session.principal.name,
        if session.can_write() {
            ""
        } else {
            " (read only)"
        }
    );
    m.push(&Markup::from_safe(
        "<form method=\"post\" action=\"/logout\" class=\"inline\">".into(),
    ));
    m.push(&session.csrf_field());
    m.push(&Markup::from_safe(
        "<button type=\"submit\">Log out</button></form></div></header><main id=\"main\">".into(),
    ));
    m.push(body);
    m.push(&Markup::from_safe("</main></body></html>".into()));
    Html(m.into_string()).into_response()
}

/// A page without navigation (login, errors).
pub fn bare(title: &str, body: &Markup) -> Response {
    let mut m = head(title);
    m.push(&Markup::from_safe("<main id=\"main\">".into()));
    m.push(body);
    m.push(&Markup::from_safe("</main></body></html>".into()));
    Html(m.into_string()).into_response()
}

/// `GET /static/console.css`.
pub async fn css() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], CSS).into_response()
}

/// `GET /static/console.js`.
pub async fn js() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        JS,
    )
        .into_response()
}
