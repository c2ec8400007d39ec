//! The people allowed to use a node's local server (TAXII clients, the web console).
//!
//! Each user has a name and a random token; the node keeps only the token's SHA-256 in
//! `users.json` (owner-only), so a copy of the file does not let anyone in. A user
//! presents `name:token` as HTTP Basic credentials (what TAXII clients send), as a
//! `Bearer name:token`, or in the console's session cookie.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};

use crate::NodeError;

/// File name of the user list in the node's directory.
pub const USERS_FILE: &str = "users.json";

/// Name of the console's session cookie (it holds `name:token`).
pub const SESSION_COOKIE: &str = "detente_session";

/// One user's entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Hex SHA-256 of the token.
    pub token_sha256: String,
    /// Whether the user may post in the member's name (TAXII writes, console actions).
    pub can_write: bool,
}

/// A user who presented valid credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The user's name.
    pub name: String,
    /// Whether the user may post.
    pub can_write: bool,
}

/// Why credentials were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// None were presented.
    #[error("no credentials: send HTTP Basic `user:token` (from `detente node user add`)")]
    Missing,
    /// They are not in the form `name:token`.
    #[error("malformed credentials: expected `user:token`")]
    Malformed,
    /// No such user, or the wrong token.
    #[error("unknown user or wrong token")]
    Wrong,
}

/// The node's users.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Users {
    users: BTreeMap<String, User>,
}

fn path(data: &Path) -> PathBuf {
    data.join(USERS_FILE)
}

impl Users {
    /// Loads the users of the node in `data` (none if the file does not exist).
    pub fn load(data: &Path) -> Result<Users, NodeError> {
        let p = path(data);
        match std::fs::read(&p) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| NodeError::Setup(format!("{} is not valid: {e}", p.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Users::default()),
            Err(e) => Err(NodeError::io(&p, e)),
        }
    }

    /// Writes the users back, owner-only, atomically.
    pub fn save(&self, data: &Path) -> Result<(), NodeError> {
        let p = path(data);
        let tmp = data.join(format!("{USERS_FILE}.tmp"));
        let bytes = serde_json::to_vec_pretty(self)
            .map_err(|e| NodeError::Setup(format!("cannot encode users: {e}")))?;
        let _ = std::fs::remove_file(&tmp);
        host::keys::write_private(&tmp, &bytes).map_err(|e| NodeError::Keys(e.to_string()))?;
        std::fs::rename(&tmp, &p).map_err(|e| NodeError::io(&p, e))
    }

    /// Adds (or replaces) `name` with a fresh token, returned once as `name:token`.
    pub fn add(&mut self, name: &str, can_write: bool) -> Result<String, NodeError> {
        if name.is_empty()
            || name.len() > 64
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.@".contains(c))
        {
            return Err(NodeError::Setup(format!(
                "{name:?} is not a user name: 1 to 64 of A-Z a-z 0-9 - _ . @"
            )));
        }
        let mut secret = [0u8; 24];
        getrandom::fill(&mut secret).map_err(|e| NodeError::Keys(format!("no randomness: {e}")))?;
        let token = URL_SAFE_NO_PAD.encode(secret);
        self.users.insert(
            name.to_owned(),
            User {
                token_sha256: tlog::sha256(token.as_bytes()).to_hex(),
                can_write,
            },
        );
        Ok(format!("{name}:{token}"))
    }

    /// Removes `name`; false if there was no such user.
    pub fn remove(&mut self, name: &str) -> bool {
        self.users.remove(name).is_some()
    }

    /// The users, by name.
    pub fn list(&self) -> impl Iterator<Item = (&str, &User)> {
        self.users.iter().map(|(n, u)| (n.as_str(), u))
    }

    /// Checks `name:token` credentials.
    pub fn check(&self, credentials: &str) -> Result<Principal, AuthError> {
        let (name, token) = credentials.split_once(':').ok_or(AuthError::Malformed)?;
        let user = self.users.get(name).ok_or(AuthError::Wrong)?;
        let presented = tlog::sha256(token.as_bytes()).to_hex();
        // Compare digests, not tokens: the time taken says nothing about the token.
        if presented != user.token_sha256 {
            return Err(AuthError::Wrong);
        }
        Ok(Principal {
            name: name.to_owned(),
            can_write: user.can_write,
        })
    }

    /// Finds the credentials in request headers: `Authorization: Basic` / `Bearer`, or the
    /// session cookie, and checks them.
    pub fn authenticate(&self, headers: &axum::http::HeaderMap) -> Result<Principal, AuthError> {
        if let Some(value) = headers.get(axum::http::header::AUTHORIZATION) {
            let value = value.to_str().map_err(|_| AuthError::Malformed)?;
            let (scheme, rest) = value.split_once(' ').ok_or(AuthError::Malformed)?;
            let rest = rest.trim();
            return match scheme.to_ascii_lowercase().as_str() {
                "basic" => {
                    let decoded = STANDARD.decode(rest).map_err(|_| AuthError::Malformed)?;
                    let text = String::from_utf8(decoded).map_err(|_| AuthError::Malformed)?;
                    self.check(&text)
                }
                "bearer" => self.check(rest),
                _ => Err(AuthError::Malformed),
            };
        }
        for value in headers.get_all(axum::http::header::COOKIE) {
            let Ok(value) = value.to_str() else { continue };
            for pair in value.split(';') {
                if let Some((k, v)) = pair.trim().split_once('=')
                    && k == SESSION_COOKIE
                {
                    let v = URL_SAFE_NO_PAD
                        .decode(v)
                        .ok()
                        .and_then(|b| String::from_utf8(b).ok())
                        .ok_or(AuthError::Malformed)?;
                    return self.check(&v);
                }
            }
        }
        Err(AuthError::Missing)
    }
}

/// The session cookie's value for `name:token` (base64url, so it is a valid cookie value).
pub fn session_cookie_value(credentials: &str) -> String {
    URL_SAFE_NO_PAD.encode(credentials.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderMap, HeaderValue, header};

    #[test]
    fn tokens_check_and_wrong_ones_do_not() {
        let mut users = Users::default();
        let cred = users.add("analyst", true).unwrap();
        assert_eq!(users.check(&cred).unwrap().name, "analyst");
        assert_eq!(users.check("analyst:nope"), Err(AuthError::Wrong));
        assert_eq!(users.check("nobody:x"), Err(AuthError::Wrong));
        assert_eq!(users.check("no-colon"), Err(AuthError::Malformed));
        assert!(users.add("bad name", false).is_err());
    }

    #[test]
    fn basic_bearer_and_cookie_are_accepted() {
        let mut users = Users::default();
        let cred = users.add("reader", false).unwrap();
        let mut h = HeaderMap::new();
        assert_eq!(users.authenticate(&h), Err(AuthError::Missing));
        let basic = format!("Basic {}", STANDARD.encode(&cred));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&basic).unwrap(),
        );
        assert!(!users.authenticate(&h).unwrap().can_write);
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Bearer {cred}")).unwrap(),
        );
        assert!(users.authenticate(&h).is_ok());
        let mut c = HeaderMap::new();
        let cookie = format!("a=b; {SESSION_COOKIE}={}", session_cookie_value(&cred));
        c.insert(header::COOKIE, HeaderValue::from_str(&cookie).unwrap());
        assert_eq!(users.authenticate(&c).unwrap().name, "reader");
    }
}
