//! Logging in and out, sessions, and the checks every posting request passes.
//!
//! A session is the node user's `name:token` in an HttpOnly, SameSite=Strict cookie
//! ([`users::SESSION_COOKIE`]). Every form that posts carries an anti-forgery token
//! derived from the session's credentials and a secret that never leaves the node
//! (`console.secret`), and every POST must come from this console's own origin
//! (Origin, or Referer when a browser sends no Origin).

use std::path::Path;

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

use super::error::ConsoleError;
use super::form::Fields;
use super::html::Markup;
use super::{Console, layout};
use crate::serve::Principal;
use crate::serve::users::{self, SESSION_COOKIE, Users};

/// File in the node's directory holding the secret the anti-forgery tokens derive from.
pub const SECRET_FILE: &str = "console.secret";

/// The name of the anti-forgery field in every posting form.
pub const CSRF_FIELD: &str = "csrf";

/// Loads the node's console secret, creating it (owner-only) on first use. If it can be
/// neither read nor written, a fresh in-memory secret is used: sessions' forms then
/// need reloading after a restart, which is safe.
pub fn load_secret(data: &Path) -> [u8; 32] {
    let path = data.join(SECRET_FILE);
    if let Ok(bytes) = std::fs::read(&path)
        && let Ok(secret) = <[u8; 32]>::try_from(bytes.as_slice())
    {
        return secret;
    }
    let mut secret = [0u8; 32];
    if let Err(e) = getrandom::fill(&mut secret) {
        // Without randomness, a secret from the clock and the path still differs per
        // node and per start; tokens stay unguessable to another site only as long as
        // the session cookie is (it is HttpOnly and SameSite=Strict).
        tracing::error!(error = %e, "no randomness for the console secret");
        let seed = format!("{:?}{}", std::time::SystemTime::now(), data.display());
        secret = tlog::sha256(seed.as_bytes()).0;
    }
    if let Err(e) = host::keys::write_private(&path, &secret) {
        tracing::warn!(error = %e, "cannot store the console secret; using one for this run");
    }
    secret
}

/// A logged-in user of the console.
#[derive(Debug, Clone)]
pub struct Session {
    /// Who.
    pub principal: Principal,
    /// This session's anti-forgery token.
    pub csrf: String,
}

impl Session {
    /// Whether the user may post in the member's name.
    pub fn can_write(&self) -> bool {
        self.principal.can_write
    }

    /// The hidden anti-forgery field for a form.
    pub fn csrf_field(&self) -> Markup {
        let mut m = Markup::new();
        crate::h!(
            m,
            "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
            self.csrf
        );
        m
    }

    /// The end of a form: the anti-forgery field, a submit button labelled `label`, and
    /// `</form>`.
    pub fn form_end(&self, label: &str) -> Markup {
        let mut m = self.csrf_field();
        crate::h!(m, "<button type=\"submit\">{}</button></form>", label);
        m
    }
}

/// The `name:token` credentials a request presents (cookie, Basic or Bearer), unchecked.
fn credentials(headers: &HeaderMap) -> Option<String> {
    if let Some(v) = headers.get(header::AUTHORIZATION) {
        let (scheme, rest) = v.to_str().ok()?.split_once(' ')?;
        return match scheme.to_ascii_lowercase().as_str() {
            "basic" => String::from_utf8(STANDARD.decode(rest.trim()).ok()?).ok(),
            "bearer" => Some(rest.trim().to_owned()),
            _ => None,
        };
    }
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .and_then(|(_, v)| URL_SAFE_NO_PAD.decode(v).ok())
        .and_then(|b| String::from_utf8(b).ok())
}

fn csrf_token(secret: &[u8; 32], credentials: &str) -> String {
    let mut input = b"detente-console-csrf/v1\n".to_vec();
    input.extend_from_slice(secret);
    input.push(b'\n');
    input.extend_from_slice(tlog::sha256(credentials.as_bytes()).as_bytes());
    tlog::sha256(&input).to_hex()
}

impl Console {
    /// The session of a request, if it presents valid credentials.
    pub fn session(&self, headers: &HeaderMap) -> Result<Session, ConsoleError> {
        let principal = self
            .shared
            .authenticate(headers)
            .map_err(|_| ConsoleError::LoggedOut)?;
        let creds = credentials(headers).ok_or(ConsoleError::LoggedOut)?;
        Ok(Session {
            principal,
            csrf: csrf_token(&self.secret, &creds),
        })
    }

    /// What every posting request must pass: a session, this console's origin, the
    /// session's anti-forgery token, and (if `write`) a user allowed to post.
    pub fn check_post(
        &self,
        headers: &HeaderMap,
        fields: &Fields,
        write: bool,
    ) -> Result<Session, ConsoleError> {
        let session = self.session(headers)?;
        same_origin(headers)?;
        let sent = fields.get(CSRF_FIELD).unwrap_or("");
        // Compare digests so the time taken says nothing about the token.
        if tlog::sha256(sent.as_bytes()) != tlog::sha256(session.csrf.as_bytes()) {
            return Err(ConsoleError::Csrf);
        }
        if write && !session.can_write() {
            return Err(ConsoleError::ReadOnly);
        }
        Ok(session)
    }
}

/// Refuses a request whose Origin (or, without one, Referer) is not this console.
pub fn same_origin(headers: &HeaderMap) -> Result<(), ConsoleError> {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .ok_or(ConsoleError::CrossOrigin)?;
    let ok =
        |origin: &str| origin == format!("http://{host}") || origin == format!("https://{host}");
    if let Some(o) = headers.get(header::ORIGIN) {
        return match o.to_str() {
            Ok(o) if ok(o) => Ok(()),
            _ => Err(ConsoleError::CrossOrigin),
        };
    }
    let referer = headers
        .get(header::REFERER)
        .and_then(|r| r.to_str().ok())
        .ok_or(ConsoleError::CrossOrigin)?;
    let origin: String = referer.splitn(4, '/').take(3).collect::<Vec<_>>().join("/");
    if ok(&origin) {
        Ok(())
    } else {
        Err(ConsoleError::CrossOrigin)
    }
}

/// An extractor for pages: the session, or a redirect to the login page.
impl FromRequestParts<Console> for Session {
    type Rejection = ConsoleError;

    async fn from_request_parts(parts: &mut Parts, c: &Console) -> Result<Self, Self::Rejection> {
        c.session(&parts.headers)
    }
}

/// `GET /login`.
pub async fn login_page() -> Response {
    login_form(None, StatusCode::OK)
}

fn login_form(problem: Option<&str>, status: StatusCode) -> Response {
    let mut body = Markup::new();
    body.push(&Markup::from_safe("<h1>Log in to the console</h1>".into()));
    if let Some(p) = problem {
        crate::h!(body, "<p class=\"error\" role=\"alert\">{}</p>", p);
    }
    body.push(&Markup::from_safe(
        "<p>Use the name and token you were given with <code>detente node user add</code>.</p>\
         <form method=\"post\" action=\"/login\" class=\"stack\">\
         <label for=\"name\">User name</label>\
         <input id=\"name\" name=\"name\" autocomplete=\"username\" required>\
         <label for=\"token\">Token</label>\
         <input id=\"token\" name=\"token\" type=\"password\" autocomplete=\"current-password\" required>\
         <button type=\"submit\">Log in</button></form>"
            .into(),
    ));
    (status, layout::bare("Log in", &body)).into_response()
}

/// `POST /login`: checks the name and token, then sets the session cookie.
pub async fn login(State(c): State<Console>, headers: HeaderMap, fields: Fields) -> Response {
    if same_origin(&headers).is_err() {
        return ConsoleError::CrossOrigin.into_response();
    }
    let name = fields.get("name").unwrap_or("").trim();
    let token = fields.get("token").unwrap_or("").trim();
    let creds = format!("{name}:{token}");
    let checked = Users::load(c.shared.data())
        .map_err(|e| tracing::error!(error = %e, "cannot read the node's users"))
        .ok()
        .and_then(|u| u.check(&creds).ok());
    if checked.is_none() {
        return login_form(
            Some("That name and token do not match a user of this node."),
            StatusCode::UNAUTHORIZED,
        );
    }
    let cookie = format!(
        "{SESSION_COOKIE}={}; HttpOnly; SameSite=Strict; Path=/",
        users::session_cookie_value(&creds)
    );
    (
        StatusCode::SEE_OTHER,
        [(header::SET_COOKIE, cookie), (header::LOCATION, "/".into())],
    )
        .into_response()
}

/// `POST /logout`: clears the session cookie.
pub async fn logout(State(c): State<Console>, headers: HeaderMap, fields: Fields) -> Response {
    if let Err(e) = c.check_post(&headers, &fields, false) {
        return e.into_response();
    }
    let cookie = format!("{SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
    (
        StatusCode::SEE_OTHER,
        [
            (header::SET_COOKIE, cookie),
            (header::LOCATION, "/login".into()),
        ],
    )
        .into_response()
}
