//! Signed statements of a Détente group and the rules that fold a log of them into the
//! group's state (DESIGN.md, "The statement", "Kinds", "Standing").
//!
//! What it does:
//! - RFC 8785 canonical JSON ([`jcs`]), on which every id and signature rests;
//! - the signed envelope ([`envelope`]): ids, Ed25519 signatures, the 65,535-byte leaf limit;
//! - the signature rule ([`signature`]): cofactored Ed25519, one at a time or in batches;
//! - every kind with a typed, strictly checked body ([`kind`]);
//! - sealing confidential content with age to its addressees ([`seal`]);
//! - the group fold ([`group`]): membership with quorum, author chains, threads, requests,
//!   proposals, positions, agreements, evidence, and standing.
//!
//! What it does not do: I/O, clocks (times come in as arguments) or networking. The one
//! source of randomness is age's, when sealing.

pub mod build;
pub mod envelope;
pub mod group;
pub mod ids;
pub mod jcs;
pub mod keys;
pub mod kind;
pub mod seal;
pub mod signature;

pub use envelope::{FormatError, Signed, Statement};
pub use group::{Applied, Group, Rejection};
pub use ids::{Digest, MemberId, StatementId, Timestamp};
pub use keys::{MemberKey, SealKey};
pub use kind::{Body, Kind, Stance, Tlp};
