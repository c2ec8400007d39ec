//! Form fields of a POST (`application/x-www-form-urlencoded`), repeated names kept.

use axum::extract::{Form, FromRequest, Request};

use super::error::ConsoleError;

/// The fields of a submitted form, in order.
#[derive(Debug, Clone, Default)]
pub struct Fields(pub Vec<(String, String)>);

impl Fields {
    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first value of `name`, trimmed, if not empty.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.get(name).map(str::trim).filter(|v| !v.is_empty())
    }

    /// The first value of `name`, or a plain-language error naming `label`.
    pub fn required(&self, name: &str, label: &str) -> Result<&str, ConsoleError> {
        self.text(name)
            .ok_or_else(|| ConsoleError::BadInput(format!("Please fill in “{label}”.")))
    }

    /// Every non-empty value of `name`.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, v)| k == name && !v.trim().is_empty())
            .map(|(_, v)| v.trim())
            .collect()
    }
}

impl<S: Send + Sync> FromRequest<S> for Fields {
    type Rejection = ConsoleError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let Form(v) = Form::<Vec<(String, String)>>::from_request(req, state)
            .await
            .map_err(|_| ConsoleError::BadInput("The form could not be read.".into()))?;
        Ok(Fields(v))
    }
}
