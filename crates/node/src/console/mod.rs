//! The web console: the member's delegates and analysts work the group from a browser.

use axum::Router;

use crate::serve::Shared;

/// The console's routes.
pub fn router(_shared: Shared) -> Router {
    Router::new()
}
