//! The instance's Ed25519 signing key (`signing.key`), which signs erasure
//! and consent receipts as JWS (DESIGN principle 8), and its public half as
//! a JWK (RFC 8037) with an RFC 7638 thumbprint as key id.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

use crate::error::JwsError;
use crate::jws;
use crate::rng::CryptoRng;
use crate::{Error, Result};

/// The instance's receipt-signing key (Ed25519). `Debug` shows only the key id.
#[derive(Clone)]
pub struct SigningKey {
    pub(crate) inner: ed25519_dalek::SigningKey,
    public: VerifyingKey,
}

impl SigningKey {
    /// A fresh random key (first start of an instance).
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut seed = Zeroizing::new([0u8; 32]);
        rng.fill_bytes(seed.as_mut_slice());
        Self::from_seed_ref(&seed)
    }

    /// The key with this 32-byte Ed25519 seed (as read from `signing.key`).
    pub fn from_seed(seed: [u8; 32]) -> Self {
        Self::from_seed_ref(&Zeroizing::new(seed))
    }

    fn from_seed_ref(seed: &[u8; 32]) -> Self {
        let inner = ed25519_dalek::SigningKey::from_bytes(seed);
        let public = VerifyingKey::from_dalek(inner.verifying_key(), None);
        Self { inner, public }
    }

    /// The 32-byte seed. Only for writing `signing.key` when it is created.
    pub fn seed_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.inner.to_bytes())
    }

    /// The public half.
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.public
    }

    /// The key id: the RFC 7638 JWK thumbprint (base64url SHA-256 of the
    /// canonical public JWK), the `kid` of every JWS this key signs.
    pub fn key_id(&self) -> String {
        self.public.kid.clone()
    }

    /// The public key as a JWK:
    /// `{"kty":"OKP","crv":"Ed25519","x":…,"kid":…,"alg":"EdDSA","use":"sig"}`.
    pub fn public_jwk(&self) -> Value {
        self.public.jwk()
    }

    /// A JWK set holding the public key, for `/.well-known/jwks.json`.
    pub fn jwks(&self) -> Value {
        json!({ "keys": [self.public_jwk()] })
    }

    /// Signs `payload` as a JWS in compact serialisation (RFC 7515) with
    /// protected header `{"alg":"EdDSA","kid":…}`.
    pub fn sign_jws(&self, payload: &Value) -> String {
        self.sign_jws_bytes(payload.to_string().as_bytes())
    }

    /// Signs raw payload bytes as a compact JWS with header `{"alg":"EdDSA","kid":…}`.
    pub fn sign_jws_bytes(&self, payload: &[u8]) -> String {
        let header = json!({ "alg": "EdDSA", "kid": self.public.kid });
        jws::sign_compact(&self.inner, &header, payload)
    }
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.public.kid)
            .field("secret", &format_args!("**redacted**"))
            .finish()
    }
}

/// An Ed25519 public key for verifying JWS receipts.
#[derive(Clone, PartialEq, Eq)]
pub struct VerifyingKey {
    pub(crate) inner: ed25519_dalek::VerifyingKey,
    /// The JWK's `kid` if it had one, else the RFC 7638 thumbprint.
    pub(crate) kid: String,
}

impl VerifyingKey {
    fn from_dalek(inner: ed25519_dalek::VerifyingKey, kid: Option<String>) -> Self {
        let kid = kid.unwrap_or_else(|| thumbprint(inner.as_bytes()));
        Self { inner, kid }
    }

    /// A verifying key from its 32 raw bytes; rejects bytes that are not a
    /// valid Ed25519 point.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self> {
        let inner =
            ed25519_dalek::VerifyingKey::from_bytes(bytes).map_err(|_| Error::InvalidKey {
                what: "Ed25519 public key",
                reason: "not a valid curve point",
            })?;
        Ok(Self::from_dalek(inner, None))
    }

    /// A verifying key from a public JWK (`kty` `OKP`, `crv` `Ed25519`, `x`);
    /// its `kid`, if present, is what a JWS header must name.
    pub fn from_jwk(jwk: &Value) -> Result<Self> {
        let field = |name: &str| jwk.get(name).and_then(Value::as_str);
        if field("kty") != Some("OKP") || field("crv") != Some("Ed25519") {
            return Err(JwsError::InvalidJwk.into());
        }
        let x = field("x").ok_or(JwsError::InvalidJwk)?;
        let bytes: [u8; 32] = URL_SAFE_NO_PAD
            .decode(x)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or(JwsError::InvalidJwk)?;
        let inner =
            ed25519_dalek::VerifyingKey::from_bytes(&bytes).map_err(|_| JwsError::InvalidJwk)?;
        Ok(Self::from_dalek(inner, field("kid").map(str::to_owned)))
    }

    /// The 32 raw bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.inner.to_bytes()
    }

    /// The key id (see [`SigningKey::key_id`]).
    pub fn key_id(&self) -> &str {
        &self.kid
    }

    /// The RFC 7638 thumbprint of this key.
    pub fn thumbprint(&self) -> String {
        thumbprint(self.inner.as_bytes())
    }

    /// The public JWK (see [`SigningKey::public_jwk`]).
    pub fn jwk(&self) -> Value {
        json!({
            "kty": "OKP",
            "crv": "Ed25519",
            "x": URL_SAFE_NO_PAD.encode(self.inner.as_bytes()),
            "kid": self.kid,
            "alg": "EdDSA",
            "use": "sig",
        })
    }
}

impl std::fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// RFC 7638 thumbprint of an Ed25519 public key: base64url(SHA-256) of the
/// required members in lexicographic order without whitespace (RFC 8037 §2).
/// `x` is base64url, which needs no JSON escaping.
fn thumbprint(public: &[u8; 32]) -> String {
    let canonical = format!(
        r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#,
        URL_SAFE_NO_PAD.encode(public)
    );
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::{os_rng, verify_jws};

    /// RFC 8037 appendix A.1.
    pub(crate) const RFC8037_D: &str = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
    const RFC8037_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";

    pub(crate) fn rfc8037_key() -> SigningKey {
        let seed: [u8; 32] = URL_SAFE_NO_PAD
            .decode(RFC8037_D)
            .unwrap()
            .try_into()
            .unwrap();
        SigningKey::from_seed(seed)
    }

    #[test]
    fn rfc8037_public_key_and_thumbprint_known_answer() {
        let key = rfc8037_key();
        let jwk = key.public_jwk();
        assert_eq!(jwk["x"], RFC8037_X);
        // RFC 8037 appendix A.3.
        assert_eq!(key.key_id(), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
        assert_eq!(jwk["kid"], key.key_id());
        assert_eq!(jwk["kty"], "OKP");
        assert_eq!(jwk["crv"], "Ed25519");
        assert_eq!(jwk["alg"], "EdDSA");
        assert_eq!(jwk["use"], "sig");
        assert_eq!(key.jwks()["keys"][0], jwk);
    }

    #[test]
    fn seed_round_trips() {
        let key = SigningKey::generate(&mut os_rng());
        let again = SigningKey::from_seed(*key.seed_bytes());
        assert_eq!(again.key_id(), key.key_id());
        assert_eq!(again.verifying_key(), key.verifying_key());
    }

    #[test]
    fn jwk_round_trips_to_a_verifying_key() {
        let key = SigningKey::generate(&mut os_rng());
        let public = VerifyingKey::from_jwk(&key.public_jwk()).unwrap();
        assert_eq!(&public, key.verifying_key());
        assert_eq!(public.thumbprint(), key.key_id());
        let jws = key.sign_jws(&json!({"receipt": "erasure"}));
        assert_eq!(verify_jws(&public, &jws).unwrap()["receipt"], "erasure");
    }

    #[test]
    fn from_jwk_rejects_other_key_types() {
        let x = RFC8037_X;
        for jwk in [
            json!({"kty": "EC", "crv": "Ed25519", "x": x}),
            json!({"kty": "OKP", "crv": "X25519", "x": x}),
            json!({"kty": "OKP", "crv": "Ed25519"}),
            json!({"kty": "OKP", "crv": "Ed25519", "x": "AAAA"}),
            json!({"kty": "OKP", "crv": "Ed25519", "x": format!("{x}=")}),
            json!("not an object"),
        ] {
            assert!(VerifyingKey::from_jwk(&jwk).is_err(), "{jwk}");
        }
    }

    #[test]
    fn debug_shows_the_key_id_but_never_the_seed() {
        let key = SigningKey::generate(&mut os_rng());
        let seed = key.seed_bytes();
        let debug = format!("{key:?}");
        assert!(debug.contains(&key.key_id()));
        assert!(debug.contains("**redacted**"));
        assert!(!debug.contains(&crate::encoding::hex_encode(seed.as_slice())));
        assert!(!debug.contains(&URL_SAFE_NO_PAD.encode(seed.as_slice())));
        assert!(!debug.contains(&format!("{:?}", seed.as_slice())));
    }
}
