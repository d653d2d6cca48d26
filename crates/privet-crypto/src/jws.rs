//! JWS compact serialisation (RFC 7515) with EdDSA / Ed25519 (RFC 8037):
//! how receipts are signed and how clients and tests verify them.
//!
//! Only `{"alg":"EdDSA"}` is accepted, so there is no algorithm confusion
//! (`none`, HMAC with the public key); a header with `crit` is rejected
//! because we honour no extensions; signatures are checked with
//! `verify_strict` (no malleable or small-order-key signatures).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::Signer as _;
use serde_json::Value;

use crate::Result;
use crate::error::JwsError;
use crate::signing::VerifyingKey;

/// `BASE64URL(header) "." BASE64URL(payload) "." BASE64URL(signature)`.
pub(crate) fn sign_compact(
    key: &ed25519_dalek::SigningKey,
    header: &Value,
    payload: &[u8],
) -> String {
    let mut out = String::new();
    URL_SAFE_NO_PAD.encode_string(header.to_string(), &mut out);
    out.push('.');
    URL_SAFE_NO_PAD.encode_string(payload, &mut out);
    let signature = key.sign(out.as_bytes());
    out.push('.');
    URL_SAFE_NO_PAD.encode_string(signature.to_bytes(), &mut out);
    out
}

/// A JWS split into its parts, header decoded and checked.
struct Parsed<'a> {
    signing_input: &'a str,
    header: serde_json::Map<String, Value>,
    payload_b64: &'a str,
    signature: ed25519_dalek::Signature,
}

fn malformed(part: &'static str) -> JwsError {
    JwsError::Malformed { part }
}

fn parse(jws: &str) -> Result<Parsed<'_>, JwsError> {
    let (signing_input, signature_b64) = jws
        .rsplit_once('.')
        .ok_or(malformed("compact serialisation"))?;
    let (header_b64, payload_b64) = signing_input
        .split_once('.')
        .ok_or(malformed("compact serialisation"))?;
    if payload_b64.contains('.') {
        return Err(malformed("compact serialisation"));
    }

    let header_bytes = URL_SAFE_NO_PAD
        .decode(header_b64)
        .map_err(|_| malformed("header"))?;
    let header = match serde_json::from_slice(&header_bytes) {
        Ok(Value::Object(map)) => map,
        _ => return Err(malformed("header")),
    };
    if header.get("alg").and_then(Value::as_str) != Some("EdDSA") || header.contains_key("crit") {
        return Err(JwsError::UnsupportedHeader);
    }

    let signature: [u8; 64] = URL_SAFE_NO_PAD
        .decode(signature_b64)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or(malformed("signature"))?;

    Ok(Parsed {
        signing_input,
        header,
        payload_b64,
        signature: ed25519_dalek::Signature::from_bytes(&signature),
    })
}

impl Parsed<'_> {
    fn kid(&self) -> Option<&str> {
        self.header.get("kid").and_then(Value::as_str)
    }

    fn verify(&self, key: &VerifyingKey) -> Result<Vec<u8>, JwsError> {
        if let Some(kid) = self.kid()
            && kid != key.kid
            && kid != key.thumbprint()
        {
            return Err(JwsError::KeyIdMismatch);
        }
        key.inner
            .verify_strict(self.signing_input.as_bytes(), &self.signature)
            .map_err(|_| JwsError::BadSignature)?;
        URL_SAFE_NO_PAD
            .decode(self.payload_b64)
            .map_err(|_| malformed("payload"))
    }
}

fn json_payload(bytes: &[u8]) -> Result<Value> {
    Ok(serde_json::from_slice(bytes).map_err(|_| malformed("payload"))?)
}

/// Verifies a compact JWS signed by `key` and returns its payload bytes.
pub fn verify_jws_bytes(key: &VerifyingKey, jws: &str) -> Result<Vec<u8>> {
    Ok(parse(jws)?.verify(key)?)
}

/// Verifies a compact JWS signed by `key` and returns its JSON payload.
///
/// Fails if the header is not `EdDSA`, names another key id, the signature
/// does not verify, or the payload is not JSON.
pub fn verify_jws(key: &VerifyingKey, jws: &str) -> Result<Value> {
    json_payload(&verify_jws_bytes(key, jws)?)
}

/// Verifies a compact JWS against a JWK set (`{"keys":[…]}`, as served by
/// the instance), choosing the key named by the header's `kid`.
pub fn verify_jws_with_jwks(jwks: &Value, jws: &str) -> Result<Value> {
    let parsed = parse(jws)?;
    let kid = parsed.kid().ok_or(JwsError::UnknownKeyId)?;
    let key = jwks
        .get("keys")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|jwk| VerifyingKey::from_jwk(jwk).ok())
        .find(|key| key.kid == kid || key.thumbprint() == kid)
        .ok_or(JwsError::UnknownKeyId)?;
    json_payload(&parsed.verify(&key)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signing::tests::rfc8037_key;
    use crate::{Error, SigningKey, os_rng};
    use serde_json::json;

    /// RFC 8037 appendix A.4.
    const RFC8037_JWS: &str = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";

    #[test]
    fn rfc8037_a4_signature_known_answer() {
        let key = rfc8037_key();
        let jws = sign_compact(
            &key.inner,
            &json!({"alg": "EdDSA"}),
            b"Example of Ed25519 signing",
        );
        assert_eq!(jws, RFC8037_JWS);
    }

    #[test]
    fn rfc8037_a5_verification_known_answer() {
        let key = rfc8037_key();
        let payload = verify_jws_bytes(key.verifying_key(), RFC8037_JWS).unwrap();
        assert_eq!(payload, b"Example of Ed25519 signing");
        // Not JSON, so the JSON form refuses it.
        assert!(verify_jws(key.verifying_key(), RFC8037_JWS).is_err());
    }

    #[test]
    fn signed_receipt_verifies_with_its_jwk_and_jwks() {
        let key = SigningKey::generate(&mut os_rng());
        let payload = json!({"type": "erasure", "subject": "ab12", "at": "2026-11-28T10:00:00Z"});
        let jws = key.sign_jws(&payload);
        let public = VerifyingKey::from_jwk(&key.public_jwk()).unwrap();
        assert_eq!(verify_jws(&public, &jws).unwrap(), payload);
        assert_eq!(verify_jws_with_jwks(&key.jwks(), &jws).unwrap(), payload);

        let header: Value = serde_json::from_slice(
            &URL_SAFE_NO_PAD
                .decode(jws.split('.').next().unwrap())
                .unwrap(),
        )
        .unwrap();
        assert_eq!(header, json!({"alg": "EdDSA", "kid": key.key_id()}));
    }

    #[test]
    fn flipping_any_payload_character_fails() {
        let key = SigningKey::generate(&mut os_rng());
        let jws = key.sign_jws(&json!({"type": "consent", "granted": true}));
        let start = jws.find('.').unwrap() + 1;
        let end = jws.rfind('.').unwrap();
        for i in start..end {
            let mut bytes = jws.clone().into_bytes();
            bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
            let tampered = String::from_utf8(bytes).unwrap();
            assert!(
                verify_jws(key.verifying_key(), &tampered).is_err(),
                "char {i}"
            );
        }
    }

    #[test]
    fn another_key_or_kid_fails() {
        let mut rng = os_rng();
        let key = SigningKey::generate(&mut rng);
        let other = SigningKey::generate(&mut rng);
        let jws = key.sign_jws(&json!({}));
        assert!(matches!(
            verify_jws(other.verifying_key(), &jws),
            Err(Error::Jws(JwsError::KeyIdMismatch))
        ));
        assert!(matches!(
            verify_jws_with_jwks(&other.jwks(), &jws),
            Err(Error::Jws(JwsError::UnknownKeyId))
        ));
        // Same kid claimed, different key: the signature check catches it.
        let unsigned_kid = sign_compact(
            &other.inner,
            &json!({"alg": "EdDSA", "kid": key.key_id()}),
            b"{}",
        );
        assert!(matches!(
            verify_jws(key.verifying_key(), &unsigned_kid),
            Err(Error::Jws(JwsError::BadSignature))
        ));
    }

    #[test]
    fn other_algorithms_crit_and_malformed_input_are_rejected() {
        let key = SigningKey::generate(&mut os_rng());
        let inner = &key.inner;
        for header in [
            json!({"alg": "none"}),
            json!({"alg": "HS256"}),
            json!({"alg": "EdDSA", "crit": ["b64"], "b64": false}),
            json!({}),
        ] {
            let jws = sign_compact(inner, &header, b"{}");
            assert!(
                matches!(
                    verify_jws(key.verifying_key(), &jws),
                    Err(Error::Jws(JwsError::UnsupportedHeader))
                ),
                "{header}"
            );
        }
        let good = key.sign_jws(&json!({}));
        for bad in [
            String::new(),
            "a.b".to_owned(),
            format!("{good}.x"),
            format!("{good}="),
            good.replacen('.', "..", 1),
            "W10.e30.AAAA".to_owned(),
        ] {
            assert!(verify_jws(key.verifying_key(), &bad).is_err(), "{bad}");
        }
    }
}
