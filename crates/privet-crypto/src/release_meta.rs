//! Signed firmware release metadata, in the spirit of TUF: the maker signs
//! what a device should install (product, version, SHA-256 and length of
//! the image, an expiry, the oldest version allowed to update from) with the
//! offline release key ([`ReleaseKeyPair`]); the server only verifies, with
//! the public key from the product's manifest (`update_public_key`).
//!
//! The signature covers the metadata's canonical bytes:
//! `serde_json::to_vec(&metadata)`, whose field order is the declaration
//! order of [`ReleaseMetadata`] and whose timestamps are RFC 3339 in UTC, so
//! the verifier re-creates exactly the bytes the signer signed. Expiry stops
//! an attacker from replaying old (validly signed) metadata forever, and
//! [`compare_versions`] lets the server refuse rollbacks.

use std::cmp::Ordering;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::encoding::hex_encode;
use crate::{Error, ReleaseKeyPair, Result, parse_public_key_string, verify_release};

/// What the maker's release key signs about one firmware image.
///
/// The field order is part of the signed format: do not reorder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleaseMetadata {
    /// The manifest's product id.
    pub product: String,
    /// The firmware version, e.g. `2.4.1` (see [`compare_versions`]).
    pub version: String,
    /// SHA-256 of the firmware image, 64 lowercase hex digits.
    pub sha256: String,
    /// Length of the firmware image in bytes.
    pub length: u64,
    /// After this the metadata is no longer accepted.
    pub expires: Timestamp,
    /// Devices older than this must first update to an intermediate release.
    pub min_version: Option<String>,
    /// When the metadata was signed.
    pub signed_at: Timestamp,
}

impl ReleaseMetadata {
    /// The bytes the signature covers: the compact JSON of the struct.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        match serde_json::to_vec(self) {
            Ok(bytes) => bytes,
            // Only strings, integers and timestamps: serialising cannot fail.
            Err(_) => unreachable!("release metadata always serialises"),
        }
    }
}

/// Release metadata with the maker's signature, as `privet release sign`
/// prints it and `POST /v1/releases` accepts it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedRelease {
    /// What is signed.
    pub metadata: ReleaseMetadata,
    /// Standard base64 of the Ed25519 signature over
    /// [`ReleaseMetadata::canonical_bytes`].
    pub signature: String,
    /// The signing key, `ed25519:<base64>`: must be the product's
    /// `update_public_key`.
    pub key: String,
}

/// Signs `metadata` with the maker's release key.
pub fn sign_release(keypair: &ReleaseKeyPair, metadata: ReleaseMetadata) -> SignedRelease {
    let signature = keypair.sign(&metadata.canonical_bytes());
    SignedRelease {
        metadata,
        signature,
        key: keypair.public_key_string(),
    }
}

/// Checks `signed` against the product's `update_public_key`
/// (`expected_public_key`) at time `now`, and returns the metadata only if
/// all hold:
///
/// - `signed.key` is the expected key (compared as keys, so base64 padding
///   does not matter), else [`Error::InvalidKey`];
/// - the signature verifies over the canonical bytes, else
///   [`Error::BadSignature`];
/// - `sha256` is 64 hex digits, else [`Error::Parse`];
/// - `now` is before `expires`, else [`Error::Expired`].
pub fn verify_signed_release<'a>(
    signed: &'a SignedRelease,
    expected_public_key: &str,
    now: Timestamp,
) -> Result<&'a ReleaseMetadata> {
    let expected = parse_public_key_string(expected_public_key)?;
    let presented = parse_public_key_string(&signed.key)?;
    if !crate::ct_eq(&expected, &presented) {
        return Err(Error::InvalidKey {
            what: "release key",
            reason: "not the product's update_public_key",
        });
    }
    let metadata = &signed.metadata;
    verify_release(
        expected_public_key,
        &metadata.canonical_bytes(),
        &signed.signature,
    )?;
    if metadata.sha256.len() != 64 || !metadata.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::Parse {
            what: "release sha256",
            reason: "expected 64 hex digits",
        });
    }
    if now >= metadata.expires {
        return Err(Error::Expired {
            what: "release metadata",
            expires: metadata.expires,
        });
    }
    Ok(metadata)
}

/// Lowercase hex SHA-256 of `bytes` (a firmware image).
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex_encode(&Sha256::digest(bytes))
}

/// Orders two firmware versions.
///
/// When both are semantic versions (`MAJOR.MINOR.PATCH[-PRE][+BUILD]`) they
/// are ordered by SemVer precedence (`semver`'s `cmp_precedence`: build
/// metadata ignored, `2.0.0-rc.1 < 2.0.0`). Otherwise, e.g. `1.10` or
/// `2024.3.1.7`, the same rules are applied by hand: the part before the
/// first `-` is split at dots and compared component by component, numbers
/// by value (`1.10 > 1.9`) and a missing component counting as 0
/// (`1.2 == 1.2.0`); a number sorts below a non-number, non-numbers compare
/// as text; then a version with a pre-release (`-…`) sorts below the same
/// version without one, and pre-releases compare identifier by identifier.
/// Anything after `+` is ignored. Surrounding whitespace is ignored.
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.trim(), b.trim());
    if let (Ok(va), Ok(vb)) = (semver::Version::parse(a), semver::Version::parse(b)) {
        return va.cmp_precedence(&vb);
    }
    let (a_release, a_pre) = split_version(a);
    let (b_release, b_pre) = split_version(b);
    let a_parts: Vec<&str> = a_release.split('.').collect();
    let b_parts: Vec<&str> = b_release.split('.').collect();
    for i in 0..a_parts.len().max(b_parts.len()) {
        let x = a_parts.get(i).copied().unwrap_or("0");
        let y = b_parts.get(i).copied().unwrap_or("0");
        match cmp_identifier(x, y) {
            Ordering::Equal => {}
            other => return other,
        }
    }
    match (a_pre, b_pre) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(x), Some(y)) => {
            let (xs, ys): (Vec<&str>, Vec<&str>) = (x.split('.').collect(), y.split('.').collect());
            for (p, q) in xs.iter().zip(&ys) {
                match cmp_identifier(p, q) {
                    Ordering::Equal => {}
                    other => return other,
                }
            }
            xs.len().cmp(&ys.len())
        }
    }
}

/// `1.2.3-rc.1+build` → (`1.2.3`, `Some("rc.1")`).
fn split_version(v: &str) -> (&str, Option<&str>) {
    let v = v.split_once('+').map_or(v, |(core, _build)| core);
    match v.split_once('-') {
        Some((release, pre)) => (release, Some(pre)),
        None => (v, None),
    }
}

/// Numbers by value (any length), numbers before words, words as text.
fn cmp_identifier(a: &str, b: &str) -> Ordering {
    let numeric = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
    match (numeric(a), numeric(b)) {
        (true, true) => {
            let a = a.trim_start_matches('0');
            let b = b.trim_start_matches('0');
            a.len().cmp(&b.len()).then_with(|| a.cmp(b))
        }
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => a.cmp(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::os_rng;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn metadata() -> ReleaseMetadata {
        ReleaseMetadata {
            product: "acme-thermostat-2".to_owned(),
            version: "2.4.1".to_owned(),
            sha256: sha256_hex(b"firmware image"),
            length: 14,
            expires: ts("2027-01-01T00:00:00Z"),
            min_version: Some("2.0.0".to_owned()),
            signed_at: ts("2026-11-28T10:00:00Z"),
        }
    }

    const NOW: &str = "2026-12-01T00:00:00Z";

    #[test]
    fn canonical_bytes_have_a_fixed_field_order() {
        let json = String::from_utf8(metadata().canonical_bytes()).unwrap();
        assert_eq!(
            json,
            format!(
                r#"{{"product":"acme-thermostat-2","version":"2.4.1","sha256":"{}","length":14,"expires":"2027-01-01T00:00:00Z","min_version":"2.0.0","signed_at":"2026-11-28T10:00:00Z"}}"#,
                sha256_hex(b"firmware image")
            )
        );
    }

    #[test]
    fn signed_release_verifies_and_survives_a_json_round_trip() {
        let pair = ReleaseKeyPair::generate(&mut os_rng());
        let signed = sign_release(&pair, metadata());
        assert_eq!(signed.key, pair.public_key_string());
        let json = serde_json::to_string_pretty(&signed).unwrap();
        let back: SignedRelease = serde_json::from_str(&json).unwrap();
        let verified = verify_signed_release(&back, &pair.public_key_string(), ts(NOW)).unwrap();
        assert_eq!(verified, &metadata());
    }

    #[test]
    fn a_release_signed_with_another_key_is_rejected() {
        let mut rng = os_rng();
        let maker = ReleaseKeyPair::generate(&mut rng);
        let attacker = ReleaseKeyPair::generate(&mut rng);
        let forged = sign_release(&attacker, metadata());
        // Presenting its own key: not the product's key.
        assert!(matches!(
            verify_signed_release(&forged, &maker.public_key_string(), ts(NOW)),
            Err(Error::InvalidKey {
                what: "release key",
                ..
            })
        ));
        // Claiming the maker's key: the signature does not verify.
        let mut claimed = forged.clone();
        claimed.key = maker.public_key_string();
        assert!(matches!(
            verify_signed_release(&claimed, &maker.public_key_string(), ts(NOW)),
            Err(Error::BadSignature { what: "release" })
        ));
    }

    #[test]
    fn any_change_to_signed_metadata_is_rejected() {
        let pair = ReleaseKeyPair::generate(&mut os_rng());
        let public = pair.public_key_string();
        let signed = sign_release(&pair, metadata());
        let changes: [fn(&mut ReleaseMetadata); 7] = [
            |m| m.product.push('x'),
            |m| m.version = "2.4.2".to_owned(),
            |m| m.sha256 = sha256_hex(b"evil image"),
            |m| m.length += 1,
            |m| m.expires = ts("2099-01-01T00:00:00Z"),
            |m| m.min_version = None,
            |m| m.signed_at = ts("2026-11-28T10:00:01Z"),
        ];
        for change in changes {
            let mut tampered = signed.clone();
            change(&mut tampered.metadata);
            assert!(matches!(
                verify_signed_release(&tampered, &public, ts(NOW)),
                Err(Error::BadSignature { .. })
            ));
        }
    }

    #[test]
    fn expired_metadata_is_rejected() {
        let pair = ReleaseKeyPair::generate(&mut os_rng());
        let signed = sign_release(&pair, metadata());
        let public = pair.public_key_string();
        assert!(verify_signed_release(&signed, &public, ts("2026-12-31T23:59:59Z")).is_ok());
        for now in ["2027-01-01T00:00:00Z", "2030-01-01T00:00:00Z"] {
            let err = verify_signed_release(&signed, &public, ts(now)).unwrap_err();
            assert!(matches!(err, Error::Expired { .. }), "{err:?}");
            assert_eq!(
                err.to_string(),
                "release metadata expired at 2027-01-01T00:00:00Z"
            );
        }
    }

    #[test]
    fn a_malformed_digest_is_rejected_even_when_signed() {
        let pair = ReleaseKeyPair::generate(&mut os_rng());
        let mut m = metadata();
        m.sha256 = "not-a-digest".to_owned();
        let signed = sign_release(&pair, m);
        assert!(matches!(
            verify_signed_release(&signed, &pair.public_key_string(), ts(NOW)),
            Err(Error::Parse {
                what: "release sha256",
                ..
            })
        ));
    }

    #[test]
    fn malformed_keys_and_unknown_fields_are_rejected() {
        let pair = ReleaseKeyPair::generate(&mut os_rng());
        let signed = sign_release(&pair, metadata());
        assert!(verify_signed_release(&signed, "ed25519:AAAA", ts(NOW)).is_err());
        let mut bad = signed.clone();
        bad.key = "rsa:abc".to_owned();
        assert!(verify_signed_release(&bad, &pair.public_key_string(), ts(NOW)).is_err());
        let mut json = serde_json::to_value(&signed).unwrap();
        json["metadata"]["channel"] = "beta".into();
        assert!(serde_json::from_value::<SignedRelease>(json).is_err());
    }

    #[test]
    fn sha256_hex_matches_the_fips_vector() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn versions_compare_numerically_with_pre_releases_first() {
        use Ordering::*;
        let cases = [
            ("1.10.0", "1.9.3", Greater),
            ("2.0.0-rc.1", "2.0.0", Less),
            ("2.0.0-alpha", "2.0.0-alpha.1", Less),
            ("2.0.0-alpha.1", "2.0.0-beta", Less),
            ("2.0.0-rc.2", "2.0.0-rc.10", Less),
            ("1.0.0+build.5", "1.0.0+build.7", Equal),
            ("1.2.3", "1.2.3", Equal),
            // Not SemVer: compared by hand with the same rules.
            ("1.10", "1.9.3", Greater),
            ("1.2", "1.2.0", Equal),
            ("1.2", "1.2.0.1", Less),
            ("2024.3.1.7", "2024.3.1.10", Less),
            ("1.0-rc1", "1.0", Less),
            ("1.0-rc.2", "1.0-rc.10", Less),
            ("01.2", "1.2", Equal),
            (
                "1.99999999999999999999999",
                "1.100000000000000000000000",
                Less,
            ),
            ("1.2.x", "1.2.9", Greater),
            (" 1.2.3 ", "1.2.3", Equal),
        ];
        for (a, b, expected) in cases {
            assert_eq!(compare_versions(a, b), expected, "{a} vs {b}");
            assert_eq!(compare_versions(b, a), expected.reverse(), "{b} vs {a}");
        }
    }
}
