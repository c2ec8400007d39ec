//! A member's keys, kept in one owner-only file, and the public line others paste.
//!
//! The key file has two lines: the Ed25519 signer key as a C2SP signed-note signer key
//! string named with the member id (`PRIVATE+KEY+<member>+<hex id>+<base64>`), and the
//! age X25519 identity (`AGE-SECRET-KEY-1…`) that opens statements sealed to the member.
//! The public line is the member's genesis entry as one line of JSON
//! (`{"id", "name", "key", "seal", "contact"}`), ready to paste into a genesis draft or a
//! `member add`.

use std::path::Path;
use std::str::FromStr as _;

use ed25519_dalek::SigningKey;
use statement::kind::MemberEntry;
use statement::{MemberId, MemberKey, SealKey};
use tlog::note::{KeyName, Signer};

use crate::NodeError;

/// A member's secret keys.
pub struct MemberKeys {
    /// The member.
    pub member: MemberId,
    /// Signs statements.
    pub signing: SigningKey,
    /// Opens sealed statements.
    pub identity: age::x25519::Identity,
}

impl MemberKeys {
    /// New random keys for `member`.
    pub fn generate(member: MemberId) -> Result<MemberKeys, NodeError> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| NodeError::Keys(format!("no randomness: {e}")))?;
        Ok(MemberKeys {
            member,
            signing: SigningKey::from_bytes(&seed),
            identity: age::x25519::Identity::generate(),
        })
    }

    /// The key file's text.
    pub fn to_file_text(&self) -> Result<String, NodeError> {
        let name =
            KeyName::new(self.member.as_str()).map_err(|e| NodeError::Keys(e.to_string()))?;
        let signer = Signer::from_seed(name, &self.signing.to_bytes());
        use age::secrecy::ExposeSecret as _;
        Ok(format!(
            "{}\n{}\n",
            signer.to_skey(),
            self.identity.to_string().expose_secret()
        ))
    }

    /// Parses a key file's text.
    pub fn from_file_text(text: &str) -> Result<MemberKeys, NodeError> {
        let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
        let (Some(skey), Some(age_line), None) = (lines.next(), lines.next(), lines.next()) else {
            return Err(NodeError::Keys(
                "a key file has two lines: the signer key and the age identity".into(),
            ));
        };
        let signer =
            Signer::from_skey(skey).map_err(|e| NodeError::Keys(format!("signer key: {e}")))?;
        let member =
            MemberId::new(signer.name().as_ref()).map_err(|e| NodeError::Keys(e.to_string()))?;
        let identity = age::x25519::Identity::from_str(age_line)
            .map_err(|e| NodeError::Keys(format!("age identity: {e}")))?;
        Ok(MemberKeys {
            member,
            signing: SigningKey::from_bytes(&signer.seed()),
            identity,
        })
    }

    /// Reads a key file.
    pub fn load(path: &Path) -> Result<MemberKeys, NodeError> {
        let text = std::fs::read_to_string(path).map_err(|e| NodeError::io(path, e))?;
        MemberKeys::from_file_text(&text)
    }

    /// Writes the key file, owner-only, refusing to overwrite one.
    pub fn save(&self, path: &Path) -> Result<(), NodeError> {
        host::keys::write_private(path, self.to_file_text()?.trim_end().as_bytes())
            .map_err(|e| NodeError::Keys(e.to_string()))
    }

    /// The public part as a genesis member entry.
    pub fn entry(&self, name: &str, contact: Option<&str>) -> MemberEntry {
        MemberEntry {
            id: self.member.clone(),
            name: name.to_owned(),
            key: MemberKey::new(self.member.clone(), self.signing.verifying_key()),
            seal: SealKey::from(self.identity.to_public()),
            contact: contact.map(str::to_owned),
        }
    }

    /// The sealing key.
    pub fn seal_key(&self) -> SealKey {
        SealKey::from(self.identity.to_public())
    }
}
