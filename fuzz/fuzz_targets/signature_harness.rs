//! The body of the `signature` fuzz target.
//!
//! Included with `#[path]` both by the fuzz target and by
//! `crates/statement/tests/fuzz_corpus.rs`, which replays the seed corpus under
//! `fuzz/corpus/signature/` through exactly this code on every `cargo test`.
//!
//! The property: the statements' signature rule gives one answer for a claim however it
//! is checked — alone, as a batch of one, inside a batch of honest claims, and through
//! `verify_each` with any chunk size — and nothing panics. The first byte picks how the
//! claim is built from the rest of the input:
//! - 0: key (32 bytes), signature (64) and message taken as they are;
//! - 1: an honest signature over the message, XORed with the next 64 bytes;
//! - 2: a signature made with a secret scalar and nonce from the input, whose key and `R`
//!   carry torsion components picked by the input (mixed and small orders), and whose
//!   `S` is shifted by an input byte (0: a correct signature).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT, EIGHT_TORSION};
use curve25519_dalek::scalar::Scalar;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest as _, Sha512};
use statement::signature::{Claim, verify, verify_batch, verify_each};

/// Runs the property on one input.
pub fn signature(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let Some((key, sig, message)) = (match mode % 3 {
        0 => raw(rest),
        1 => flipped(rest),
        _ => torsion(rest),
    }) else {
        return;
    };
    check(&key, &sig, message);
}

fn raw(rest: &[u8]) -> Option<(VerifyingKey, Signature, &[u8])> {
    let key = VerifyingKey::from_bytes(rest.get(..32)?.try_into().ok()?).ok()?;
    let sig = Signature::from_bytes(rest.get(32..96)?.try_into().ok()?);
    Some((key, sig, &rest[96..]))
}

fn flipped(rest: &[u8]) -> Option<(VerifyingKey, Signature, &[u8])> {
    let mask = rest.get(..64)?;
    let message = &rest[64..];
    let signer = SigningKey::from_bytes(&[3; 32]);
    let mut bytes = signer.sign(message).to_bytes();
    bytes.iter_mut().zip(mask).for_each(|(b, m)| *b ^= m);
    Some((
        signer.verifying_key(),
        Signature::from_bytes(&bytes),
        message,
    ))
}

fn torsion(rest: &[u8]) -> Option<(VerifyingKey, Signature, &[u8])> {
    let a = Scalar::from_bytes_mod_order(rest.get(..32)?.try_into().ok()?);
    let r = Scalar::from_bytes_mod_order(rest.get(32..64)?.try_into().ok()?);
    let (picks, shift) = (*rest.get(64)?, *rest.get(65)?);
    let message = &rest[66..];
    let key_point = ED25519_BASEPOINT_POINT * a + EIGHT_TORSION[usize::from(picks % 8)];
    let r_point = ED25519_BASEPOINT_POINT * r + EIGHT_TORSION[usize::from(picks / 8 % 8)];
    let key = VerifyingKey::from(key_point);
    let r_bytes = r_point.compress().to_bytes();
    let mut h = Sha512::new();
    h.update(r_bytes);
    h.update(key.as_bytes());
    h.update(message);
    let k = Scalar::from_bytes_mod_order_wide(&h.finalize().into());
    let s = r + k * a + Scalar::from(shift);
    let mut bytes = [0u8; 64];
    bytes[..32].copy_from_slice(&r_bytes);
    bytes[32..].copy_from_slice(s.as_bytes());
    Some((key, Signature::from_bytes(&bytes), message))
}

/// Every way of checking the claim gives the answer of checking it alone.
fn check(key: &VerifyingKey, sig: &Signature, message: &[u8]) {
    let alone = verify(key, message, sig);
    let claim = Claim {
        key,
        message,
        signature: sig,
    };
    assert_eq!(verify_batch(&[claim]), alone, "a batch of one disagrees");
    let honest_key = SigningKey::from_bytes(&[5; 32]);
    let (m1, m2) = (b"honest one".as_slice(), b"honest two".as_slice());
    let (s1, s2) = (honest_key.sign(m1), honest_key.sign(m2));
    let vk = honest_key.verifying_key();
    let claims = [
        Claim {
            key: &vk,
            message: m1,
            signature: &s1,
        },
        claim,
        Claim {
            key: &vk,
            message: m2,
            signature: &s2,
        },
    ];
    assert_eq!(
        verify_batch(&claims),
        alone,
        "a batch with honest claims disagrees"
    );
    for chunk in [1, 2, 64] {
        assert_eq!(
            verify_each(&claims, chunk),
            [true, alone, true],
            "verify_each in chunks of {chunk} disagrees"
        );
    }
}
