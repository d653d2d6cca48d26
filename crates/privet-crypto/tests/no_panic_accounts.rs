//! Property tests for the account and release primitives: codes, stored
//! hashes, secrets, versions and signed metadata from outside never cause a
//! panic, and the invariants hold for arbitrary input.

use std::cmp::Ordering;

use privet_crypto::{
    MasterKey, ReleaseKeyPair, SignedRelease, TotpSecret, compare_versions, current_totp_code,
    hash_recovery_code, needs_rehash, os_rng, verify_password, verify_signed_release, verify_totp,
};
use proptest::prelude::*;

fn rfc_secret() -> TotpSecret {
    TotpSecret::from_bytes(*b"12345678901234567890")
}

proptest! {
    #[test]
    fn stored_hash_and_secret_parsers_never_panic(s in "\\PC{0,120}") {
        // Arbitrary text is never a valid Argon2id PHC string here.
        prop_assert!(verify_password("password", &s).is_err());
        prop_assert!(needs_rehash(&s));
        let _ = TotpSecret::from_base32(&s);
        let _ = hash_recovery_code(&s);
    }

    #[test]
    fn phc_shaped_garbage_never_panics(params in "[a-z=,0-9]{0,40}", salt in "[A-Za-z0-9+/]{0,30}", hash in "[A-Za-z0-9+/]{0,50}") {
        let phc = format!("$argon2id$v=19${params}${salt}${hash}");
        // Only with a tiny memory cost, so a lucky valid string stays cheap
        // (without `m=` Argon2's default of 19 MiB would apply).
        if params.starts_with("m=8,") && params.matches("m=").count() == 1 {
            let _ = verify_password("password", &phc);
        }
        let _ = needs_rehash(&phc);
    }

    #[test]
    fn totp_verify_never_panics_and_accepts_only_six_digits(code in "\\PC{0,12}", now in any::<u64>(), last in proptest::option::of(any::<u64>())) {
        let secret = rfc_secret();
        if let Some(step) = verify_totp(&secret, &code, now, last) {
            let digits: String = code.chars().filter(|c| !c.is_whitespace()).collect();
            prop_assert_eq!(digits.len(), 6);
            prop_assert!(last.is_none_or(|l| step > l));
            prop_assert!(step.abs_diff(now / 30) <= 1);
        }
    }

    #[test]
    fn the_current_code_is_accepted_once(now in 0u64..=u64::MAX / 2) {
        let secret = rfc_secret();
        let code = current_totp_code(&secret, now);
        let step = verify_totp(&secret, &code, now, None);
        prop_assert_eq!(step, Some(now / 30));
        prop_assert_eq!(verify_totp(&secret, &code, now, step), None);
    }

    #[test]
    fn version_comparison_is_a_consistent_order(a in "[0-9a-z.+-]{0,16}", b in "[0-9a-z.+-]{0,16}") {
        let ab = compare_versions(&a, &b);
        prop_assert_eq!(compare_versions(&b, &a), ab.reverse());
        prop_assert_eq!(compare_versions(&a, &a), Ordering::Equal);
    }

    #[test]
    fn numeric_versions_compare_like_tuples(x in proptest::collection::vec(0u32..1000, 1..5), y in proptest::collection::vec(0u32..1000, 1..5)) {
        let a = x.iter().map(u32::to_string).collect::<Vec<_>>().join(".");
        let b = y.iter().map(u32::to_string).collect::<Vec<_>>().join(".");
        let pad = |v: &[u32]| { let mut v = v.to_vec(); v.resize(5, 0); v };
        prop_assert_eq!(compare_versions(&a, &b), pad(&x).cmp(&pad(&y)), "{} vs {}", a, b);
    }

    #[test]
    fn signed_release_json_never_panics(s in "\\PC{0,200}") {
        let key = ReleaseKeyPair::from_secret_string(
            "ed25519-secret:BQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQU=",
        ).unwrap();
        if let Ok(signed) = serde_json::from_str::<SignedRelease>(&s) {
            let now = "2026-01-01T00:00:00Z".parse().unwrap();
            prop_assert!(verify_signed_release(&signed, &key.public_key_string(), now).is_err());
        }
    }

    #[test]
    fn secret_box_open_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..128), label in "\\PC{0,20}") {
        let boxed = MasterKey::from_bytes([9; 32]).secret_box();
        prop_assert!(boxed.open(&label, &bytes).is_err());
        let sealed = boxed.seal(&label, &bytes, &mut os_rng()).unwrap();
        let opened = boxed.open(&label, &sealed).unwrap();
        prop_assert_eq!(opened.as_slice(), bytes.as_slice());
    }
}
