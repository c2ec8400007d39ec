//! TAXII errors and their one status table (TAXII 2.1 §3.6.1 error message, §3.6 status
//! codes). 4xx bodies say precisely what the client did wrong; 5xx bodies are generic and
//! the detail goes to the log.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::MEDIA_TYPE;

/// Why a TAXII request was not served.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TaxiiError {
    /// No credentials, or wrong ones (401, with a Basic challenge).
    #[error("authentication required")]
    Unauthenticated,
    /// The user may not do this here (403): `why` says what is missing.
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// No such collection, object or status (404).
    #[error("not found: {0}")]
    NotFound(&'static str),
    /// A query parameter is malformed (400): which, and why.
    #[error("bad parameter {param}: {reason}")]
    BadParameter {
        /// The parameter.
        param: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// `Accept` names no media type this server produces (406).
    #[error("not acceptable")]
    NotAcceptable,
    /// The body is larger than `max_content_length` (413).
    #[error("body of {size} bytes over the limit of {max}")]
    TooLarge {
        /// The body's size (or its announced length).
        size: u64,
        /// The API root's `max_content_length`.
        max: u64,
    },
    /// The POST's `Content-Type` is not a TAXII 2.1 envelope (415).
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// The body is not a TAXII envelope of STIX 2.1 objects (422): why.
    #[error("unprocessable: {0}")]
    Unprocessable(String),
    /// Our own failure (500); the detail is in the log, never in the answer.
    #[error("internal error")]
    Internal,
}

impl TaxiiError {
    /// The HTTP status of the error.
    pub fn status(&self) -> StatusCode {
        match self {
            TaxiiError::Unauthenticated => StatusCode::UNAUTHORIZED,
            TaxiiError::Forbidden(_) => StatusCode::FORBIDDEN,
            TaxiiError::NotFound(_) => StatusCode::NOT_FOUND,
            TaxiiError::BadParameter { .. } => StatusCode::BAD_REQUEST,
            TaxiiError::NotAcceptable => StatusCode::NOT_ACCEPTABLE,
            TaxiiError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            TaxiiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            TaxiiError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            TaxiiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// (title, description, error_code) of the error resource.
    fn text(&self) -> (&'static str, String, &'static str) {
        match self {
            TaxiiError::Unauthenticated => (
                "Authentication required",
                "Send HTTP Basic credentials `user:token` from `detente node user add`.".into(),
                "unauthenticated",
            ),
            TaxiiError::Forbidden(why) => ("Forbidden", (*why).into(), "forbidden"),
            TaxiiError::NotFound(what) => ("Not found", format!("No such {what}."), "not-found"),
            TaxiiError::BadParameter { param, reason } => (
                "Bad request",
                format!("Query parameter `{param}`: {reason}."),
                "bad-parameter",
            ),
            TaxiiError::NotAcceptable => (
                "Not acceptable",
                format!("This server answers with `{MEDIA_TYPE}`; send it in Accept."),
                "not-acceptable",
            ),
            TaxiiError::TooLarge { size, max } => (
                "Request too large",
                format!("The body is {size} bytes; this API root accepts at most {max}."),
                "too-large",
            ),
            TaxiiError::UnsupportedMediaType => (
                "Unsupported media type",
                format!("POST a TAXII envelope with Content-Type `{MEDIA_TYPE}`."),
                "unsupported-media-type",
            ),
            TaxiiError::Unprocessable(why) => ("Unprocessable", why.clone(), "unprocessable"),
            TaxiiError::Internal => (
                "Internal error",
                "The node failed; its log says why.".into(),
                "internal",
            ),
        }
    }

    /// The error as a response (also usable where a plain handler is needed).
    pub fn into_response_body(self) -> Response {
        self.into_response()
    }
}

impl IntoResponse for TaxiiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let (title, description, code) = self.text();
        let body = json!({
            "title": title,
            "description": description,
            "error_code": code,
            "http_status": status.as_u16().to_string(),
        });
        let mut r = (status, body.to_string()).into_response();
        let h = r.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(MEDIA_TYPE));
        if self == TaxiiError::Unauthenticated {
            h.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"detente-taxii\", charset=\"UTF-8\""),
            );
        }
        r
    }
}

impl From<crate::NodeError> for TaxiiError {
    fn from(e: crate::NodeError) -> TaxiiError {
        tracing::error!(error = %e, "TAXII: the node failed");
        TaxiiError::Internal
    }
}
