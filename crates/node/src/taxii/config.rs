//! The TAXII server's configuration: the optional `taxii.toml` in the node's directory.
//!
//! ```toml
//! title = "CERT North's Détente node"   # discovery and API root title
//! max_content_length = 4194304          # largest POST body, bytes (default 4 MiB)
//! max_page_size = 1000                  # most objects per page (default 1000)
//! threads = ["<statement id>"]          # thread collections to list (others: on demand)
//! requests = ["<statement id>"]         # request collections to list
//!
//! [seal_to]                             # who TLP:AMBER, AMBER+STRICT, RED posts are sealed to
//! amber = ["csirt-east"]                # default: every other current member
//! amber_strict = ["csirt-east"]         # default: every other current member
//! red = ["csirt-east"]                  # no default: tlp-red is read-only until set
//! ```
//!
//! Unknown keys are refused, so a misspelt option is an error rather than a default.

use std::path::Path;

use serde::Deserialize;
use statement::{MemberId, StatementId, Tlp};

use crate::NodeError;

/// File name of the TAXII configuration in the node's directory.
pub const CONFIG_FILE: &str = "taxii.toml";

/// Default largest POST body: 4 MiB, so that even sealed (base64, so 4/3 larger) the
/// statements fit in the host's 8 MiB request limit.
pub const DEFAULT_MAX_CONTENT_LENGTH: u64 = 4 << 20;
/// Default and largest page size.
pub const DEFAULT_MAX_PAGE_SIZE: usize = 1000;

/// Who posts under each sealed TLP level are sealed to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealTo {
    /// TLP:AMBER (default: every other current member).
    #[serde(default)]
    pub amber: Option<Vec<MemberId>>,
    /// TLP:AMBER+STRICT (default: every other current member).
    #[serde(default)]
    pub amber_strict: Option<Vec<MemberId>>,
    /// TLP:RED (no default: the collection is read-only until it is set).
    #[serde(default)]
    pub red: Option<Vec<MemberId>>,
}

/// The TAXII configuration.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaxiiConfig {
    /// Title of the discovery resource and the API root.
    #[serde(default = "default_title")]
    pub title: String,
    /// Largest POST body in bytes (TAXII 2.1 §4.2 `max_content_length`).
    #[serde(default = "default_max_content_length")]
    pub max_content_length: u64,
    /// Most objects (or manifest records, or versions) per page.
    #[serde(default = "default_max_page_size")]
    pub max_page_size: usize,
    /// Thread collections listed in the collections resource, by root message id.
    #[serde(default)]
    pub threads: Vec<StatementId>,
    /// Request collections listed in the collections resource, by request id.
    #[serde(default)]
    pub requests: Vec<StatementId>,
    /// Addressees of sealed posts per TLP level.
    #[serde(default)]
    pub seal_to: SealTo,
}

fn default_title() -> String {
    "Détente node".to_owned()
}
fn default_max_content_length() -> u64 {
    DEFAULT_MAX_CONTENT_LENGTH
}
fn default_max_page_size() -> usize {
    DEFAULT_MAX_PAGE_SIZE
}

impl Default for TaxiiConfig {
    fn default() -> TaxiiConfig {
        TaxiiConfig {
            title: default_title(),
            max_content_length: DEFAULT_MAX_CONTENT_LENGTH,
            max_page_size: DEFAULT_MAX_PAGE_SIZE,
            threads: Vec::new(),
            requests: Vec::new(),
            seal_to: SealTo::default(),
        }
    }
}

impl TaxiiConfig {
    /// Reads `taxii.toml` from the node's directory; the defaults if there is none.
    pub fn load(data: &Path) -> Result<TaxiiConfig, NodeError> {
        let path = data.join(CONFIG_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(TaxiiConfig::default());
            }
            Err(e) => return Err(NodeError::io(&path, e)),
        };
        let c: TaxiiConfig = toml::from_str(&text).map_err(|e| {
            NodeError::Setup(format!(
                "{}: {e} (see the README, TAXII 2.1)",
                path.display()
            ))
        })?;
        if c.max_page_size == 0 || c.max_content_length == 0 {
            return Err(NodeError::Setup(format!(
                "{}: max_page_size and max_content_length must be positive",
                path.display()
            )));
        }
        Ok(c)
    }

    /// Who a post under `tlp` is sealed to.
    pub fn sealing(&self, tlp: Tlp) -> Sealing {
        let list = |l: &Option<Vec<MemberId>>| match l {
            Some(l) => Sealing::To(l.clone()),
            None => Sealing::AllOthers,
        };
        match tlp {
            Tlp::Clear | Tlp::Green => Sealing::Clear,
            Tlp::Amber => list(&self.seal_to.amber),
            Tlp::AmberStrict => list(&self.seal_to.amber_strict),
            Tlp::Red => match &self.seal_to.red {
                Some(l) => Sealing::To(l.clone()),
                None => Sealing::NotConfigured,
            },
        }
    }
}

/// How posts under one TLP level are sealed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sealing {
    /// Not sealed (CLEAR, GREEN).
    Clear,
    /// Sealed to every other current member.
    AllOthers,
    /// Sealed to these members.
    To(Vec<MemberId>),
    /// Sealing is required but nobody is configured: the collection is read-only.
    NotConfigured,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_unknown_keys() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            TaxiiConfig::load(dir.path()).unwrap(),
            TaxiiConfig::default()
        );
        std::fs::write(dir.path().join(CONFIG_FILE), "max_page_sise = 3\n").unwrap();
        assert!(TaxiiConfig::load(dir.path()).is_err());
        std::fs::write(
            dir.path().join(CONFIG_FILE),
            "max_page_size = 3\n[seal_to]\nred = [\"bob\"]\n",
        )
        .unwrap();
        let c = TaxiiConfig::load(dir.path()).unwrap();
        assert_eq!(c.max_page_size, 3);
        assert_eq!(
            c.sealing(Tlp::Red),
            Sealing::To(vec![MemberId::new("bob").unwrap()])
        );
        assert_eq!(c.sealing(Tlp::Green), Sealing::Clear);
        assert_eq!(
            TaxiiConfig::default().sealing(Tlp::Red),
            Sealing::NotConfigured
        );
    }
}
