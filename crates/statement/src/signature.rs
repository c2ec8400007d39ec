//! The signature rule of statements: Ed25519 (RFC 8032) checked with the cofactored
//! equation, one signature at a time or many at once, with the same answer either way.
//!
//! A signature `(R, S)` by key `A` over message `M` is valid when:
//! - `S` is canonical (`S < ℓ`, RFC 8032 §5.1.7 step 1);
//! - `R` and `A` are canonical encodings (`y < p`) of curve points (§5.1.3);
//! - neither `R` nor `A` has small order (as dalek's `verify_strict`: a small-order key
//!   signs every message, a small-order `R` is never made by an honest signer);
//! - `[8][S]B = [8]R + [8][k]A` with `k = SHA-512(R ‖ A ‖ M) mod ℓ` (§5.1.7 step 3).
//!
//! Why the cofactored equation: it is the one RFC 8032 states, and the only one for which
//! checking many signatures at once ([`verify_batch`]) gives exactly the answer of
//! checking each ([`verify`]), so the host (which checks in batches) and every node
//! (which may check one by one) can never disagree over a statement. The cofactorless
//! equation of `verify_strict` differs only for signatures whose `R` carries a torsion
//! component, which no honest signer makes; with it, a batch check could pass a signature
//! that the single check refuses (see "Taming the many EdDSAs", Chalkias et al., 2020).
//!
//! Batches draw their 128-bit weights from SHA-512 over everything in the batch, so a
//! signer cannot choose weights that hide a bad signature: a batch containing one passes
//! with probability about 2^-128.

use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{IsIdentity, VartimeMultiscalarMul};
use ed25519_dalek::{Signature, VerifyingKey};
use sha2::{Digest as _, Sha512};

use crate::Signed;

/// One signature to check: the signer's key, the signed bytes and the signature.
#[derive(Clone, Copy, Debug)]
pub struct Claim<'a> {
    /// The key the signature should verify under.
    pub key: &'a VerifyingKey,
    /// The signed bytes.
    pub message: &'a [u8],
    /// The signature.
    pub signature: &'a Signature,
}

/// Checks one signature under the rule of this module.
pub fn verify(key: &VerifyingKey, message: &[u8], signature: &Signature) -> bool {
    let Some(p) = Prepared::of(&Claim {
        key,
        message,
        signature,
    }) else {
        return false;
    };
    let sb_minus_ka = EdwardsPoint::vartime_double_scalar_mul_basepoint(&p.k, &-p.a, &p.s);
    (sb_minus_ka - p.r).mul_by_cofactor().is_identity()
}

/// Checks every claim at once: `true` exactly when [`verify`] accepts each of them (up to
/// a chance of about 2^-128 of passing a batch that holds a bad signature). An empty batch
/// passes. Claims that share a key cost one point of the multi-scalar multiplication
/// between them; 64 claims of 8 keys check about 2.7 times as fast as one by one (`cargo
/// bench -p statement --bench fold`).
pub fn verify_batch(claims: &[Claim<'_>]) -> bool {
    let mut prepared = Vec::with_capacity(claims.len());
    for c in claims {
        match Prepared::of(c) {
            Some(p) => prepared.push(p),
            None => return false,
        }
    }
    if prepared.is_empty() {
        return true;
    }
    let weights = weights(&prepared);
    // Σ z·S·B − Σ z·R − Σ_A (Σ z·k)·A, times the cofactor, must be the identity.
    let mut scalars = Vec::with_capacity(prepared.len() * 2 + 1);
    let mut points = Vec::with_capacity(prepared.len() * 2 + 1);
    scalars.push(prepared.iter().zip(&weights).map(|(p, z)| z * p.s).sum());
    points.push(ED25519_BASEPOINT_POINT);
    for (p, z) in prepared.iter().zip(&weights) {
        scalars.push(-z);
        points.push(p.r);
    }
    for (a, zk) in per_key(&prepared, &weights) {
        scalars.push(-zk);
        points.push(a);
    }
    EdwardsPoint::vartime_multiscalar_mul(&scalars, &points)
        .mul_by_cofactor()
        .is_identity()
}

/// Checks each claim and says which verify, batching for speed: chunks of up to `chunk`
/// claims are checked at once, and only a chunk that fails is checked one by one. The
/// answer is always that of [`verify`] for each claim.
pub fn verify_each(claims: &[Claim<'_>], chunk: usize) -> Vec<bool> {
    let mut out = Vec::with_capacity(claims.len());
    for part in claims.chunks(chunk.max(1)) {
        if part.len() > 1 && verify_batch(part) {
            out.extend(std::iter::repeat_n(true, part.len()));
        } else {
            out.extend(part.iter().map(|c| verify(c.key, c.message, c.signature)));
        }
    }
    out
}

/// Claims checked together by [`keep_verified`]. At 64 the batch check is about 2.7 times
/// as fast as one by one (`bench fold`); bigger chunks gain little more per signature (by
/// one author, in one run: 32 66.7k/s, 64 70.6k/s, 128 70.4k/s, 256 74.9k/s), but one bad
/// signature makes its whole chunk be checked again one by one (about 1.4 times the work
/// of checking it one by one in the first place).
pub const CHUNK: usize = 64;

/// Checks statements against the keys they should verify under, in batches of [`CHUNK`]:
/// afterwards an item keeps its key only if its signature verifies under it. Items that
/// are errors or have no key are left as they are.
pub fn keep_verified<E>(items: &mut [Result<(Signed, Option<VerifyingKey>), E>]) {
    let claims: Vec<Claim<'_>> = items
        .iter()
        .filter_map(|item| match item {
            Ok((signed, Some(key))) => Some(signed.claim(key)),
            _ => None,
        })
        .collect();
    let mut verdicts = verify_each(&claims, CHUNK).into_iter();
    for item in items.iter_mut() {
        if let Ok((_, key @ Some(_))) = item
            && verdicts.next() != Some(true)
        {
            *key = None;
        }
    }
}

/// A claim decoded and hashed: the points, `S`, `k`, and the bytes the weights cover.
struct Prepared {
    r: EdwardsPoint,
    r_bytes: [u8; 32],
    a: EdwardsPoint,
    a_bytes: [u8; 32],
    s: Scalar,
    k: Scalar,
    hram: [u8; 64],
}

impl Prepared {
    /// Decodes a claim, or `None` where an encoding or a small order already refuses it.
    fn of(c: &Claim<'_>) -> Option<Prepared> {
        let s = Option::<Scalar>::from(Scalar::from_canonical_bytes(*c.signature.s_bytes()))?;
        let r_bytes = *c.signature.r_bytes();
        let r = point(&r_bytes)?;
        let a_bytes = c.key.to_bytes();
        // The key holds its point already decoded; only its encoding and order are checked.
        let a = c.key.to_edwards();
        if !canonical_y(&a_bytes) || a.is_small_order() {
            return None;
        }
        let mut h = Sha512::new();
        h.update(r_bytes);
        h.update(a_bytes);
        h.update(c.message);
        let hram: [u8; 64] = h.finalize().into();
        Some(Prepared {
            r,
            r_bytes,
            a,
            a_bytes,
            s,
            k: Scalar::from_bytes_mod_order_wide(&hram),
            hram,
        })
    }
}

/// Decodes a canonical encoding of a point that is not of small order.
fn point(bytes: &[u8; 32]) -> Option<EdwardsPoint> {
    if !canonical_y(bytes) {
        return None;
    }
    let p = CompressedEdwardsY(*bytes).decompress()?;
    (!p.is_small_order()).then_some(p)
}

/// Whether the y coordinate in `bytes` (the low 255 bits) is below p = 2^255 − 19.
fn canonical_y(bytes: &[u8; 32]) -> bool {
    // y ≥ p only when the top 250 bits of y are all ones and the low byte is ≥ 0xed.
    let all_ones = bytes[1..31].iter().all(|&b| b == 0xff) && bytes[31] & 0x7f == 0x7f;
    !(all_ones && bytes[0] >= 0xed)
}

/// One nonzero 128-bit weight per claim, from SHA-512 over every claim's `R`, key, `S`
/// and `SHA-512(R ‖ A ‖ M)`: fixed by the batch, unpredictable before it is fixed.
fn weights(prepared: &[Prepared]) -> Vec<Scalar> {
    let mut seed = Sha512::new();
    seed.update(b"detente statement signature batch v1");
    seed.update((prepared.len() as u64).to_le_bytes());
    for p in prepared {
        seed.update(p.r_bytes);
        seed.update(p.a_bytes);
        // `S` is canonical, so these are the signature's own bytes.
        seed.update(p.s.as_bytes());
        seed.update(p.hram);
    }
    let seed: [u8; 64] = seed.finalize().into();
    (0..prepared.len() as u64)
        .map(|i| {
            let mut h = Sha512::new();
            h.update(seed);
            h.update(i.to_le_bytes());
            let out: [u8; 64] = h.finalize().into();
            let mut z = [0u8; 16];
            z.copy_from_slice(&out[..16]);
            // Zero would drop the claim from the sum; 1 keeps it.
            Scalar::from(u128::from_le_bytes(z).max(1))
        })
        .collect()
}

/// Sums `z·k` per distinct key, so that a key signing many claims is one point.
fn per_key(prepared: &[Prepared], weights: &[Scalar]) -> Vec<(EdwardsPoint, Scalar)> {
    let mut order: Vec<usize> = (0..prepared.len()).collect();
    order.sort_unstable_by_key(|&i| prepared[i].a_bytes);
    let mut out: Vec<([u8; 32], EdwardsPoint, Scalar)> = Vec::new();
    for i in order {
        let p = &prepared[i];
        let zk = weights[i] * p.k;
        match out.last_mut() {
            Some((bytes, _, sum)) if *bytes == p.a_bytes => *sum += zk,
            _ => out.push((p.a_bytes, p.a, zk)),
        }
    }
    out.into_iter().map(|(_, a, s)| (a, s)).collect()
}

#[cfg(test)]
#[path = "signature_tests.rs"]
mod tests;
