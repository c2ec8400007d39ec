use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT, EIGHT_TORSION};
use curve25519_dalek::edwards::EdwardsPoint;
use curve25519_dalek::scalar::Scalar;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use proptest::prelude::*;
use sha2::{Digest as _, Sha512};

use super::*;

fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

fn hex32(s: &str) -> [u8; 32] {
    hex::decode(s).unwrap().try_into().unwrap()
}

fn hex64(s: &str) -> [u8; 64] {
    hex::decode(s).unwrap().try_into().unwrap()
}

/// RFC 8032 §7.1, TEST 1 to TEST 3: public key, message, signature.
const RFC8032: [(&str, &str, &str); 3] = [
    (
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ),
    (
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    ),
    (
        "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
        "af82",
        "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
    ),
];

#[test]
fn rfc8032_vectors_verify_alone_and_together() {
    let parsed: Vec<(VerifyingKey, Vec<u8>, Signature)> = RFC8032
        .iter()
        .map(|(k, m, s)| {
            let key = VerifyingKey::from_bytes(&hex32(k)).unwrap();
            (
                key,
                hex::decode(m).unwrap(),
                Signature::from_bytes(&hex64(s)),
            )
        })
        .collect();
    let claims: Vec<Claim<'_>> = parsed
        .iter()
        .map(|(key, message, signature)| Claim {
            key,
            message,
            signature,
        })
        .collect();
    for c in &claims {
        assert!(verify(c.key, c.message, c.signature));
        assert!(c.key.verify_strict(c.message, c.signature).is_ok());
    }
    assert!(verify_batch(&claims));
    // Each signature under another vector's message fails, alone and in the batch.
    let swapped = Claim {
        message: claims[2].message,
        ..claims[1]
    };
    assert!(!verify(swapped.key, swapped.message, swapped.signature));
    assert!(!verify_batch(&[claims[0], swapped, claims[2]]));
}

/// A signature made with the secret scalar directly, with `R = [r]B + extra`: an honest
/// one when `extra` is the identity.
fn sign_with(
    a: Scalar,
    r: Scalar,
    extra: EdwardsPoint,
    message: &[u8],
) -> (VerifyingKey, Signature) {
    let a_point = ED25519_BASEPOINT_POINT * a;
    let key = VerifyingKey::from(a_point);
    let r_point = (ED25519_BASEPOINT_POINT * r + extra).compress();
    let mut h = Sha512::new();
    h.update(r_point.as_bytes());
    h.update(key.as_bytes());
    h.update(message);
    let k = Scalar::from_bytes_mod_order_wide(&h.finalize().into());
    let s = r + k * a;
    let mut bytes = [0u8; 64];
    bytes[..32].copy_from_slice(r_point.as_bytes());
    bytes[32..].copy_from_slice(s.as_bytes());
    (key, Signature::from_bytes(&bytes))
}

#[test]
fn the_rule_accepts_a_torsion_component_in_r_alone_and_in_batches_alike() {
    let (a, r) = (Scalar::from(12345u64), Scalar::from(67890u64));
    let (honest_key, honest) = sign_with(a, r, EdwardsPoint::default(), b"m");
    assert!(verify(&honest_key, b"m", &honest));
    assert!(honest_key.verify_strict(b"m", &honest).is_ok());
    // R with an order-8 component: the cofactored equation holds, the cofactorless one
    // (verify_strict) does not. The rule of this module accepts it, one by one and in
    // every batch, so the host's batches and a node's single checks agree.
    let (key, mixed) = sign_with(a, r, EIGHT_TORSION[1], b"m");
    assert!(key.verify_strict(b"m", &mixed).is_err());
    assert!(verify(&key, b"m", &mixed));
    let (key2, mixed2) = sign_with(a, r + Scalar::ONE, -EIGHT_TORSION[1], b"n");
    assert!(verify(&key2, b"n", &mixed2));
    let pair = [
        Claim {
            key: &key,
            message: b"m",
            signature: &mixed,
        },
        Claim {
            key: &key2,
            message: b"n",
            signature: &mixed2,
        },
    ];
    assert!(verify_batch(&pair));
    assert_eq!(verify_each(&pair, 64), vec![true, true]);
}

#[test]
fn small_order_keys_and_r_and_bad_encodings_are_refused() {
    let message = b"anything";
    // The identity as key and as R with S = 0 satisfies every verification equation.
    let identity = EdwardsPoint::default().compress().to_bytes();
    let weak_key = VerifyingKey::from_bytes(&identity).unwrap();
    let mut sig = [0u8; 64];
    sig[..32].copy_from_slice(&identity);
    let forged = Signature::from_bytes(&sig);
    assert!(!verify(&weak_key, message, &forged));
    // A small-order R under a good key.
    let (a, r) = (Scalar::from(7u64), Scalar::from(9u64));
    let (key, good) = sign_with(a, r, EdwardsPoint::default(), message);
    let mut small_r = good.to_bytes();
    small_r[..32].copy_from_slice(&EIGHT_TORSION[3].compress().to_bytes());
    assert!(!verify(&key, message, &Signature::from_bytes(&small_r)));
    // S + ℓ: the same point equation, but S is not canonical.
    let s = Scalar::from_canonical_bytes(*good.s_bytes()).unwrap();
    let mut wide = s.as_bytes().to_vec();
    add_ell(&mut wide);
    let mut non_canonical_s = good.to_bytes();
    non_canonical_s[32..].copy_from_slice(&wide);
    assert!(!verify(
        &key,
        message,
        &Signature::from_bytes(&non_canonical_s)
    ));
    // y ≥ p in R's encoding.
    assert!(!canonical_y(&hex32(
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"
    )));
    assert!(canonical_y(&hex32(
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"
    )));
    assert!(canonical_y(&hex32(
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
    )));
    assert!(!canonical_y(&hex32(
        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
    )));
    let batch = [
        Claim {
            key: &key,
            message,
            signature: &good,
        },
        Claim {
            key: &weak_key,
            message,
            signature: &forged,
        },
    ];
    assert!(!verify_batch(&batch));
    assert_eq!(verify_each(&batch, 64), vec![true, false]);
}

/// Adds ℓ = 2^252 + 27742317777372353535851937790883648493 to a 32-byte little-endian number.
fn add_ell(n: &mut [u8]) {
    let ell = hex32("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010");
    let mut carry = 0u16;
    for (x, y) in n.iter_mut().zip(ell) {
        let sum = u16::from(*x) + u16::from(y) + carry;
        *x = sum as u8;
        carry = sum >> 8;
    }
}

#[test]
fn an_empty_batch_passes_and_one_claim_is_checked_alone() {
    assert!(verify_batch(&[]));
    let k = key(1);
    let sig = k.sign(b"x");
    let vk = k.verifying_key();
    let one = [Claim {
        key: &vk,
        message: b"x",
        signature: &sig,
    }];
    assert!(verify_batch(&one));
    assert_eq!(verify_each(&one, 1), vec![true]);
}

/// What each way of checking said about a list of claims.
struct Outcome {
    alone: Vec<bool>,
    strict: Vec<bool>,
    together: bool,
    each: Vec<bool>,
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Honest signatures by a few keys verify alone, together and chunked; flipping any
    /// one bit of one signature or message makes exactly that claim fail, alone and in
    /// every batch holding it, and the rule agrees with `verify_strict` on all of them.
    #[test]
    fn one_flipped_bit_fails_exactly_its_claim(
        messages in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..200), 1..40),
        victim in any::<prop::sample::Index>(),
        bit in 0usize..(64 * 8 + 8),
        chunk in 1usize..70,
    ) {
        let keys: Vec<SigningKey> = (0..3).map(key).collect();
        let verifying: Vec<VerifyingKey> = keys.iter().map(|k| k.verifying_key()).collect();
        let mut messages = messages;
        let mut sigs: Vec<Signature> = messages
            .iter()
            .enumerate()
            .map(|(i, m)| keys[i % 3].sign(m))
            .collect();
        let claims = |messages: &[Vec<u8>], sigs: &[Signature]| -> Vec<(usize, Vec<u8>, Signature)> {
            messages.iter().zip(sigs).enumerate().map(|(i, (m, s))| (i % 3, m.clone(), *s)).collect()
        };
        let check = |all: &[(usize, Vec<u8>, Signature)]| -> Outcome {
            let c: Vec<Claim<'_>> = all
                .iter()
                .map(|(k, m, s)| Claim { key: &verifying[*k], message: m, signature: s })
                .collect();
            Outcome {
                alone: c.iter().map(|c| verify(c.key, c.message, c.signature)).collect(),
                strict: c.iter().map(|c| c.key.verify_strict(c.message, c.signature).is_ok()).collect(),
                together: verify_batch(&c),
                each: verify_each(&c, chunk),
            }
        };
        let before = check(&claims(&messages, &sigs));
        prop_assert!(before.alone.iter().all(|&ok| ok));
        prop_assert!(before.together);
        prop_assert_eq!(&before.each, &before.alone);
        prop_assert_eq!(&before.strict, &before.alone);

        let v = victim.index(messages.len());
        if bit < 64 * 8 {
            let mut bytes = sigs[v].to_bytes();
            bytes[bit / 8] ^= 1 << (bit % 8);
            sigs[v] = Signature::from_bytes(&bytes);
        } else if messages[v].is_empty() {
            messages[v].push(1 << (bit % 8));
        } else {
            messages[v][0] ^= 1 << (bit % 8);
        }
        let after = check(&claims(&messages, &sigs));
        let expected: Vec<bool> = (0..messages.len()).map(|i| i != v).collect();
        prop_assert_eq!(&after.alone, &expected);
        prop_assert_eq!(&after.strict, &expected);
        prop_assert!(!after.together);
        prop_assert_eq!(&after.each, &expected);
    }
}

#[test]
fn errors_that_cancel_out_in_an_unweighted_sum_still_fail_the_batch() {
    // S1 + δ and S2 − δ: both signatures are wrong, yet their plain sum is right. Only
    // the weights make the batch see it.
    let k = key(9);
    let vk = k.verifying_key();
    let (m1, m2) = (b"first".as_slice(), b"second".as_slice());
    let shift = |sig: Signature, delta: Scalar| {
        let s = Scalar::from_canonical_bytes(*sig.s_bytes()).unwrap() + delta;
        let mut bytes = sig.to_bytes();
        bytes[32..].copy_from_slice(s.as_bytes());
        Signature::from_bytes(&bytes)
    };
    let delta = Scalar::from(5u8);
    let (s1, s2) = (shift(k.sign(m1), delta), shift(k.sign(m2), -delta));
    let pair = [
        Claim {
            key: &vk,
            message: m1,
            signature: &s1,
        },
        Claim {
            key: &vk,
            message: m2,
            signature: &s2,
        },
    ];
    assert!(!verify(&vk, m1, &s1) && !verify(&vk, m2, &s2));
    assert!(!verify_batch(&pair));
    assert_eq!(verify_each(&pair, 2), vec![false, false]);
}
