//! The web console: the member's delegates and analysts work the group from a browser.
//!
//! Server-rendered HTML from the node's verified replica, with one small script for
//! progressive enhancements; every page works without it. What the console guarantees:
//!
//! - only the node's users get in ([`auth`]); read-only users see no posting forms and
//!   get 403 on every POST;
//! - every POST carries the session's anti-forgery token and comes from this origin;
//! - every action that posts first shows the exact statement that will be signed and
//!   asks for confirmation ([`act`]);
//! - everything from the log is escaped ([`html`]), markdown is a small safe subset
//!   ([`markdown`]), and the Content-Security-Policy allows no inline script;
//! - pages are `no-store`: decrypted content goes only to the logged-in user's browser.

pub mod act;
pub mod agreements;
pub mod auth;
pub mod bundle;
pub mod dialogue;
pub mod error;
pub mod form;
pub mod html;
pub mod layout;
pub mod markdown;
pub mod overview;
pub mod proposals;
pub mod reports;
pub mod requests;
pub mod standing;
pub mod view;

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use axum::routing::{get, post};

use crate::serve::Shared;

/// The Content-Security-Policy of every console response.
pub const CSP: &str = "default-src 'self'; script-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// What the console's handlers hold: the shared node and the anti-forgery secret.
#[derive(Clone)]
pub struct Console {
    shared: Shared,
    secret: Arc<[u8; 32]>,
}

impl Console {
    /// The shared node.
    pub fn shared(&self) -> &Shared {
        &self.shared
    }
}

/// The console's routes.
pub fn router(shared: Shared) -> Router {
    let secret = Arc::new(auth::load_secret(shared.data()));
    let console = Console { shared, secret };
    Router::new()
        .route("/", get(overview::page))
        .route("/login", get(auth::login_page).post(auth::login))
        .route("/logout", post(auth::logout))
        .route("/static/console.css", get(layout::css))
        .route("/static/console.js", get(layout::js))
        .route("/dialogue", get(dialogue::list))
        .route("/thread/{id}", get(dialogue::thread))
        .route("/reports", get(reports::list))
        .route("/reports/{id}", get(reports::one))
        .route("/requests", get(requests::list))
        .route("/proposals", get(proposals::list))
        .route("/proposals/{id}", get(proposals::one))
        .route("/agreements", get(agreements::list))
        .route("/agreements/{id}", get(agreements::one))
        .route("/agreements/{id}/evidence.json", get(agreements::evidence))
        .route("/standing", get(standing::page))
        .route("/statement/{id}", get(view::statement))
        .route("/act/{action}", post(act::act))
        .with_state(console)
        .layer(axum::middleware::map_response(security_headers))
}

/// Headers on every console response: CSP, no sniffing, no framing, no caching (pages
/// may hold content decrypted for the logged-in user), no referrer to other sites.
async fn security_headers(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    r
}
