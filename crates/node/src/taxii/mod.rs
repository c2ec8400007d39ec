//! TAXII 2.1 (OASIS, sections 4 and 5) for the member's own tools: what they POST becomes
//! `report` statements signed with the member's key; what the group shared comes back as
//! verified STIX 2.1 objects.

use axum::Router;

use crate::serve::Shared;

/// The TAXII routes, under `/taxii2/`.
pub fn router(_shared: Shared) -> Router {
    Router::new()
}
