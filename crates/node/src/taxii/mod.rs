//! TAXII 2.1 (OASIS Standard, 10 June 2021) for the member's own tools: what they POST
//! becomes `report` statements signed with the member's key; what the group shared comes
//! back as verified STIX 2.1 objects.
//!
//! | TAXII 2.1 | here |
//! |---|---|
//! | §4.1 discovery | `GET /taxii2/` |
//! | §4.2 API root, §4.3 status | `GET /taxii2/api/`, `GET /taxii2/api/status/{id}/` |
//! | §5.1–5.2 collections | `GET /taxii2/api/collections/`, `…/collections/{id}/` |
//! | §5.3 manifest | `GET …/collections/{id}/manifest/` |
//! | §5.4–5.5 objects | `GET`, `POST …/collections/{id}/objects/` |
//! | §5.6–5.7 one object | `GET`, `DELETE …/objects/{object-id}/` |
//! | §5.8 versions | `GET …/objects/{object-id}/versions/` |
//!
//! Collections ([`collections`]) are views of the verified replica: one per TLP 2.0 level,
//! and one per thread or request on demand. Objects come only from `report` statements of
//! the verified log ([`index`]); sealed reports show only when sealed to this member. Each
//! object carries its provenance (author, statement, log index) in a property extension
//! ([`EXTENSION_ID`]). A POSTed envelope is validated object by object ([`validate`]),
//! packed into as few reports as the entry size allows (an object too large for an entry
//! alone travels as a blob on the host, named by its hash and sealed like its report),
//! sealed as its TLP requires, signed, submitted, and reported `complete` only once the
//! node verified a checkpoint that includes it ([`write`]).
//!
//! Status resources are kept 24 hours, across restarts ([`status`]).

mod collections;
mod config;
mod error;
mod handlers;
mod index;
mod media;
mod pack;
mod query;
mod status;
mod validate;
mod write;

use std::sync::Arc;

use axum::Router;
use axum::routing::get;

use crate::serve::Shared;

pub use config::{CONFIG_FILE, TaxiiConfig};
pub use error::TaxiiError;

/// The TAXII media type this server speaks (TAXII 2.1 §1.6.8).
pub const MEDIA_TYPE: &str = "application/taxii+json;version=2.1";
/// The media type of the STIX objects in every collection (TAXII 2.1 §5.2).
pub const STIX_MEDIA_TYPE: &str = "application/stix+json;version=2.1";
/// The API root's path (the discovery resource lists it).
pub const API_ROOT: &str = "/taxii2/api/";
/// The STIX 2.1 extension-definition id of the Détente provenance extension carried by
/// every object this server returns (STIX 2.1 §7.3, property extension). Its properties:
/// `extension_type` (`property-extension`), `author` (member id), `statement` (hex
/// statement id), `log_index`, `tlp` (`TLP:…`) and `sealed` (bool).
pub const EXTENSION_ID: &str = "extension-definition--5d0a3f0e-3c1b-5c6e-9a5f-2f6c1d7e8a90";

/// What every TAXII handler holds.
#[derive(Clone)]
pub(crate) struct Taxii {
    shared: Shared,
    config: Arc<TaxiiConfig>,
    statuses: status::Statuses,
    index: Arc<tokio::sync::Mutex<index::Index>>,
    selections: Arc<query::Selections>,
}

/// The TAXII routes, under `/taxii2/`. The configuration is read from the node's
/// [`CONFIG_FILE`] (defaults when it is absent); a file that does not parse leaves the
/// TAXII routes answering 500 with the reason in the log, and the rest of the server up.
pub fn router(shared: Shared) -> Router {
    let config = match TaxiiConfig::load(shared.data()) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "TAXII disabled: its configuration is not valid");
            return Router::new().route(
                "/taxii2/{*rest}",
                get(|| async { TaxiiError::Internal.into_response_body() }),
            );
        }
    };
    let statuses = status::Statuses::open(shared.data());
    let state = Taxii {
        shared,
        config: Arc::new(config),
        statuses,
        index: Arc::new(tokio::sync::Mutex::new(index::Index::default())),
        selections: Arc::default(),
    };
    handlers::routes(state)
}

/// A random (version 4) UUID, RFC 9562 §5.4.
pub(crate) fn uuid_v4() -> Result<String, TaxiiError> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|e| {
        tracing::error!(error = %e, "no randomness");
        TaxiiError::Internal
    })?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    Ok(format_uuid(&b))
}

/// A stable name-based UUID: the first 16 bytes of SHA-256 of `name`, with the version
/// (8, RFC 9562 §5.8 "custom") and variant bits set.
pub(crate) fn uuid_of(name: &str) -> String {
    let h = tlog::sha256(name.as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&h.as_bytes()[..16]);
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    format_uuid(&b)
}

fn format_uuid(b: &[u8; 16]) -> String {
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_have_their_version_and_variant() {
        let a = uuid_of("tlp-green");
        assert_eq!(a, uuid_of("tlp-green"));
        assert_ne!(a, uuid_of("tlp-red"));
        assert_eq!(&a[14..15], "8");
        assert!("89ab".contains(&a[19..20]));
        let r = uuid_v4().unwrap();
        assert_eq!(&r[14..15], "4");
        assert_eq!(r.len(), 36);
    }
}
