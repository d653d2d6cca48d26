//! JWS receipts and the JWK set: verification of untrusted tokens and keys.
//!
//! Erasure and consent receipts are compact JWS (EdDSA) that people keep and hand back: the
//! household pages verify a pasted receipt ([`verify_jws`]) before serving it as a file, and
//! clients verify against the instance's JWK set ([`verify_jws_with_jwks`],
//! [`VerifyingKey::from_jwk`]). The key here is fixed, so a crash reproduces.
//!
//! The first byte of an input picks what the rest is (`b % 3`; the seeds start with the
//! digit):
//! - `0`: a JWS to verify with the key and its JWK set. Whatever verifies must be encoded the
//!   one canonical way (no second encoding of a signed receipt passes), both entry points must
//!   agree, and a receipt is read as the household pages read it.
//! - `1`: a payload to sign and verify: it must come back byte for byte (and as JSON exactly
//!   when it is JSON), and the token with one character changed must not verify.
//! - `2`: JSON taken as a JWK and as a JWK set: a key that parses must round-trip through its
//!   JWK, and a set must verify the fixed receipt only if it holds the signing key.

#![no_main]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use libfuzzer_sys::fuzz_target;
use privet_crypto::{
    Error, JwsError, SigningKey, VerifyingKey, verify_jws, verify_jws_bytes, verify_jws_with_jwks,
};
use serde_json::{Value, json};
use std::sync::OnceLock;

/// The receipt seed, `0` and then a receipt signed by [`key`] (see [`receipt`]).
const RECEIPT_SEED: &str = include_str!("../corpus/jws/verify-receipt.jws");

struct Fixture {
    key: SigningKey,
    jwks: Value,
    receipt: String,
    claims: Value,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let key = SigningKey::from_seed(*b"privet fuzz receipt signing key!");
        // Shaped like the claims the server signs for an erasure (service/erasure.rs).
        let claims = json!({
            "typ": "privet-erasure-receipt",
            "jti": "rcpt_0123456789abcdef",
            "iss": "privet",
            "sub": "sub_0123456789abcdef",
            "kind": "member",
            "iat": 1_795_860_000,
            "erased_at": "2026-11-28T10:00:00Z",
            "counts": {"records": 12, "consents": 2},
            "key_destroyed_at": "2026-11-28T10:00:00Z",
            "older_copies_unreadable_by": "2027-02-26T10:00:00Z",
            "rotation_overdue": false,
        });
        let receipt = key.sign_jws(&claims);
        // Signing is deterministic: if the signing code changes, the committed seed must too,
        // or the fuzzer would never reach a signature that verifies.
        assert_eq!(
            RECEIPT_SEED.trim_end(),
            format!("0{receipt}"),
            "fuzz/corpus/jws/verify-receipt.jws is stale: write the right-hand side to it"
        );
        Fixture {
            jwks: key.jwks(),
            key,
            receipt,
            claims,
        }
    })
}

/// Whether each part of a compact JWS is the canonical base64url of what it decodes to.
fn canonical(jws: &str) -> bool {
    jws.split('.').all(|part| {
        URL_SAFE_NO_PAD
            .decode(part)
            .is_ok_and(|bytes| URL_SAFE_NO_PAD.encode(bytes) == part)
    })
}

fn verify(f: &Fixture, jws: &str) {
    let public = f.key.verifying_key();
    let bytes = verify_jws_bytes(public, jws);
    let json = verify_jws(public, jws);
    let via_jwks = verify_jws_with_jwks(&f.jwks, jws);

    if let Ok(payload) = &bytes {
        assert!(canonical(jws), "a non-canonical encoding verified");
        // The header is signed too, so a token with this key's own header must be exactly
        // what this key signs for the payload (Ed25519 is deterministic).
        let ours = f.key.sign_jws_bytes(payload);
        if jws.split('.').next() == ours.split('.').next() {
            assert_eq!(jws, ours, "a second signature of the same message verified");
        }
    }
    match (&bytes, &json) {
        (Ok(payload), Ok(value)) => {
            let parsed: Value = serde_json::from_slice(payload).expect("verify_jws took JSON");
            assert_eq!(&parsed, value);
        }
        (Err(_), Ok(_)) => panic!("verify_jws accepted what verify_jws_bytes refused"),
        _ => {}
    }
    match (&json, &via_jwks) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "the key and its JWK set disagree"),
        (Err(_), Ok(_)) => panic!("the JWK set verified what the key refused"),
        // A token without `kid` names no key of a set.
        (Ok(_), Err(e)) => assert!(
            matches!(e, Error::Jws(JwsError::UnknownKeyId)),
            "the JWK set refused what the key verified: {e}"
        ),
        (Err(_), Err(_)) => {}
    }

    // As the household pages accept a pasted receipt (pages/household/erase.rs).
    if let Ok(claims) = &json
        && claims["typ"] == "privet-erasure-receipt"
    {
        let _ = claims["jti"].as_str().unwrap_or("receipt");
    }
}

fn sign(f: &Fixture, payload: &[u8]) {
    let public = f.key.verifying_key();
    let jws = f.key.sign_jws_bytes(payload);
    assert!(canonical(&jws));
    assert_eq!(
        verify_jws_bytes(public, &jws).expect("own signature verifies"),
        payload
    );
    let as_json = serde_json::from_slice::<Value>(payload).ok();
    assert_eq!(
        verify_jws(public, &jws).ok(),
        as_json,
        "JSON payload mismatch"
    );
    assert_eq!(
        verify_jws_with_jwks(&f.jwks, &jws).ok(),
        as_json,
        "JWK set payload mismatch"
    );

    // Any one character changed (chosen by the input) must break the token.
    let at = payload.first().map_or(0, |&b| usize::from(b)) * 31 % jws.len();
    let mut tampered = jws.into_bytes();
    tampered[at] = if tampered[at] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).expect("ASCII stays UTF-8");
    assert!(
        verify_jws_bytes(public, &tampered).is_err(),
        "a tampered token verified (character {at})"
    );
}

fn keys(f: &Fixture, text: &[u8]) {
    let Ok(value) = serde_json::from_slice::<Value>(text) else {
        return;
    };
    if let Ok(key) = VerifyingKey::from_jwk(&value) {
        let again = VerifyingKey::from_jwk(&key.jwk()).expect("a parsed key's JWK parses");
        assert_eq!(again, key, "JWK round trip changed the key");
        let raw = VerifyingKey::from_bytes(&key.to_bytes()).expect("a parsed key's bytes parse");
        assert_eq!(raw.thumbprint(), key.thumbprint());
    }

    // The value as a set, and as the only key of one.
    let ours = f.key.verifying_key().to_bytes();
    for set in [value.clone(), json!({ "keys": [value] })] {
        if let Ok(claims) = verify_jws_with_jwks(&set, &f.receipt) {
            assert_eq!(claims, f.claims);
            let holds_ours = set["keys"].as_array().is_some_and(|keys| {
                keys.iter()
                    .any(|jwk| VerifyingKey::from_jwk(jwk).is_ok_and(|k| k.to_bytes() == ours))
            });
            assert!(holds_ours, "a JWK set without the signing key verified");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 3 {
        0 => {
            if let Ok(jws) = std::str::from_utf8(rest) {
                verify(f, jws);
            }
        }
        1 => sign(f, rest),
        _ => keys(f, rest),
    }
});
