//! Member-only reads: each read request carries its member's signature.
//!
//! Header: `Authorization: Detente <member> <unix seconds> <base64 Ed25519 signature>`;
//! the signature covers `detente-read/v1\n<METHOD>\n<path and query>\n<unix seconds>\n`.
//! The host checks the member is current, the time is within the allowed skew of its own
//! clock, and the signature. A captured header is only good for that one request line for
//! a few minutes, and reveals nothing the member could not read anyway.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use statement::MemberId;

/// The authorization scheme name.
pub const SCHEME: &str = "Detente";

/// The bytes a member signs to read `method path_and_query` at `unix`.
pub fn read_message(method: &str, path_and_query: &str, unix: u64) -> Vec<u8> {
    format!("detente-read/v1\n{method}\n{path_and_query}\n{unix}\n").into_bytes()
}

/// The `Authorization` header value for a read by `member`.
pub fn authorization(
    member: &MemberId,
    key: &SigningKey,
    method: &str,
    path_and_query: &str,
    unix: u64,
) -> String {
    let sig = key.sign(&read_message(method, path_and_query, unix));
    format!(
        "{SCHEME} {member} {unix} {}",
        STANDARD.encode(sig.to_bytes())
    )
}

/// Why a read was refused (each answered 401 with this text).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// No `Authorization` header.
    #[error(
        "reads are for members only: sign the request (Authorization: Detente <member> <time> <signature>)"
    )]
    Missing,
    /// The header is not of the expected form.
    #[error("the Authorization header is not 'Detente <member> <unix time> <base64 signature>'")]
    Malformed,
    /// The member is not a current member.
    #[error("{0} is not a current member of this group")]
    NotAMember(String),
    /// The time is too far from the host's clock.
    #[error("the request time is {0} seconds away from the host's clock; the limit is {1}")]
    Skew(u64, u64),
    /// The signature does not verify.
    #[error("the request signature is not {0}'s")]
    BadSignature(String),
}

/// A parsed `Authorization` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadAuth {
    /// Who claims to read.
    pub member: MemberId,
    /// When, by the member's clock.
    pub unix: u64,
    sig: Signature,
}

impl ReadAuth {
    /// Parses the header value.
    pub fn parse(header: &str) -> Result<ReadAuth, AuthError> {
        let mut parts = header.split(' ');
        let (Some(SCHEME), Some(member), Some(unix), Some(sig), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(AuthError::Malformed);
        };
        let member = MemberId::new(member).map_err(|_| AuthError::Malformed)?;
        let unix = unix.parse().map_err(|_| AuthError::Malformed)?;
        let bytes: [u8; 64] = STANDARD
            .decode(sig)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or(AuthError::Malformed)?;
        Ok(ReadAuth {
            member,
            unix,
            sig: Signature::from_bytes(&bytes),
        })
    }

    /// Checks time and signature for `method path_and_query` against `key` at `now`.
    pub fn check(
        &self,
        key: &VerifyingKey,
        method: &str,
        path_and_query: &str,
        now: u64,
        skew: u64,
    ) -> Result<(), AuthError> {
        let off = now.abs_diff(self.unix);
        if off > skew {
            return Err(AuthError::Skew(off, skew));
        }
        key.verify_strict(&read_message(method, path_and_query, self.unix), &self.sig)
            .map_err(|_| AuthError::BadSignature(self.member.to_string()))
    }
}
