//! The console's errors and their one status table.
//!
//! 4xx pages say precisely what was wrong (in plain words, escaped); 5xx pages are
//! generic and the detail goes to the node's log.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::html::Markup;
use crate::NodeError;

/// Why a console request failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConsoleError {
    /// No valid session: the browser is sent to the login page.
    #[error("not logged in")]
    LoggedOut,
    /// The user may read but not post.
    #[error("this user may read but not post")]
    ReadOnly,
    /// The form's anti-forgery token is missing or wrong.
    #[error("the form's security token is missing or out of date")]
    Csrf,
    /// The request came from another site (Origin / Referer).
    #[error("the request did not come from this console")]
    CrossOrigin,
    /// Nothing by that name in the verified log.
    #[error("{what} was not found in the verified log")]
    NotFound {
        /// What was looked for.
        what: &'static str,
    },
    /// The form or URL is not valid; the message is the console's own wording.
    #[error("{0}")]
    BadInput(String),
    /// The node failed (storage, network, host misbehaviour).
    #[error("node: {0}")]
    Node(#[from] NodeError),
}

impl ConsoleError {
    /// The HTTP status of each error.
    pub fn status(&self) -> StatusCode {
        match self {
            ConsoleError::LoggedOut => StatusCode::SEE_OTHER,
            ConsoleError::ReadOnly | ConsoleError::Csrf | ConsoleError::CrossOrigin => {
                StatusCode::FORBIDDEN
            }
            ConsoleError::NotFound { .. } => StatusCode::NOT_FOUND,
            ConsoleError::BadInput(_) => StatusCode::BAD_REQUEST,
            ConsoleError::Node(NodeError::Refused { .. }) => StatusCode::UNPROCESSABLE_ENTITY,
            ConsoleError::Node(NodeError::Network(_) | NodeError::Unwitnessed { .. }) => {
                StatusCode::BAD_GATEWAY
            }
            ConsoleError::Node(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// What the page says: our own wording for 4xx, a generic line for 5xx.
    fn public_message(&self) -> String {
        match self {
            ConsoleError::Node(NodeError::Refused { code, message, .. }) => {
                format!("The host refused the statement ({code}): {message}")
            }
            ConsoleError::Node(NodeError::Network(_) | NodeError::Unwitnessed { .. }) => {
                "The host or its witnesses could not be reached; nothing was posted. Try again in a moment.".into()
            }
            ConsoleError::Node(_) => {
                "The node could not do this; the reason is in the node's log.".into()
            }
            other => {
                let s = other.to_string();
                let mut c = s.chars();
                c.next()
                    .map(|f| f.to_uppercase().chain(c).collect())
                    .unwrap_or_default()
            }
        }
    }
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        if let ConsoleError::LoggedOut = self {
            return (StatusCode::SEE_OTHER, [(header::LOCATION, "/login")]).into_response();
        }
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = %self, "console request failed");
        }
        let mut body = Markup::new();
        crate::h!(
            body,
            "<h1>{}</h1><p class=\"error\" role=\"alert\">{}</p><p><a href=\"/\">Back to the overview</a></p>",
            status.canonical_reason().unwrap_or("Error"),
            self.public_message()
        );
        let page = super::layout::bare("Something went wrong", &body);
        (status, page).into_response()
    }
}
