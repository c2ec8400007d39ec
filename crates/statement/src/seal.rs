//! Sealing: the confidential content of a statement, encrypted with age
//! (age-encryption.org/v1, X25519 recipients) to its addressees and its author.
//!
//! The plaintext is JCS(content), where the content is the kind's confidential fields
//! ([`crate::kind::MessageContent`], [`crate::kind::ReportContent`]). `sealed` is the
//! standard base64 of the binary age file. The statement's signature covers the
//! ciphertext, so anyone can check who sealed what and when; only the addressees read it.
//!
//! This is the one place in the crate that draws randomness: age generates the file key
//! and the ephemeral X25519 share from the operating system.

use std::io::Write as _;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::jcs;
use crate::keys::SealKey;

/// Largest plaintext accepted when unsealing (the leaf limit bounds real ones far below).
pub const MAX_PLAINTEXT: usize = 1 << 20;

/// Why sealing or unsealing failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    /// No recipients were given.
    #[error("nobody to seal to")]
    NoRecipients,
    /// `sealed` is not base64.
    #[error("`sealed` is not standard base64")]
    Base64,
    /// age refused to encrypt (our own failure).
    #[error("age encryption failed: {0}")]
    Encrypt(String),
    /// The identity is not among the recipients, or the file is corrupt.
    #[error("cannot unseal: {0}")]
    Decrypt(String),
    /// The plaintext is not valid content.
    #[error("sealed content is not valid: {0}")]
    Content(String),
}

/// Encrypts JCS(`content`) to every key in `recipients`, returning the value of `sealed`.
pub fn seal<T: Serialize>(content: &T, recipients: &[&SealKey]) -> Result<String, SealError> {
    if recipients.is_empty() {
        return Err(SealError::NoRecipients);
    }
    let plaintext = jcs::to_canonical(content).map_err(|e| SealError::Content(e.to_string()))?;
    let encryptor = age::Encryptor::with_recipients(
        recipients
            .iter()
            .map(|k| k.recipient() as &dyn age::Recipient),
    )
    .map_err(|e| SealError::Encrypt(e.to_string()))?;
    let mut out = Vec::with_capacity(plaintext.len() + 256 * recipients.len());
    let mut writer = encryptor
        .wrap_output(&mut out)
        .map_err(|e| SealError::Encrypt(e.to_string()))?;
    writer
        .write_all(&plaintext)
        .map_err(|e| SealError::Encrypt(e.to_string()))?;
    writer
        .finish()
        .map_err(|e| SealError::Encrypt(e.to_string()))?;
    Ok(STANDARD.encode(out))
}

/// Decrypts `sealed` with `identity` and reads the content as `T` (strict I-JSON).
pub fn unseal<T: DeserializeOwned>(
    sealed: &str,
    identity: &age::x25519::Identity,
) -> Result<T, SealError> {
    let ciphertext = STANDARD.decode(sealed).map_err(|_| SealError::Base64)?;
    let plaintext =
        age::decrypt(identity, &ciphertext).map_err(|e| SealError::Decrypt(e.to_string()))?;
    let value =
        jcs::parse(&plaintext, MAX_PLAINTEXT).map_err(|e| SealError::Content(e.to_string()))?;
    serde_json::from_value(value).map_err(|e| SealError::Content(e.to_string()))
}
