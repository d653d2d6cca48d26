//! The maker's release key (DESIGN principle 8): an Ed25519 key pair kept
//! offline that signs firmware metadata. The server and the manifest hold
//! only its public half, written `ed25519:<base64 of 32 bytes>` (the
//! manifest's `update_public_key`); the secret half lives in a `.key` file
//! as `ed25519-secret:<base64 of the 32-byte seed>`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::Signer as _;
use zeroize::Zeroizing;

use crate::encoding::base64_decode_array;
use crate::rng::CryptoRng;
use crate::{Error, Result, Secret};

const PUBLIC_PREFIX: &str = "ed25519:";
const SECRET_PREFIX: &str = "ed25519-secret:";

/// A maker's release signing key pair. `Debug` shows only the public key.
#[derive(Clone)]
pub struct ReleaseKeyPair {
    inner: ed25519_dalek::SigningKey,
}

impl ReleaseKeyPair {
    /// A fresh random key pair.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut seed = Zeroizing::new([0u8; 32]);
        rng.fill_bytes(seed.as_mut_slice());
        Self {
            inner: ed25519_dalek::SigningKey::from_bytes(&seed),
        }
    }

    /// The public key as `ed25519:<standard base64 of 32 bytes>`.
    pub fn public_key_string(&self) -> String {
        format!(
            "{PUBLIC_PREFIX}{}",
            STANDARD.encode(self.inner.verifying_key().as_bytes())
        )
    }

    /// The secret key as `ed25519-secret:<standard base64 of the seed>`,
    /// for writing the `.key` file once.
    pub fn secret_key_string(&self) -> Secret {
        let seed = Zeroizing::new(self.inner.to_bytes());
        let mut out = String::with_capacity(SECRET_PREFIX.len() + 44);
        out.push_str(SECRET_PREFIX);
        STANDARD.encode_string(seed.as_slice(), &mut out);
        Secret::new(out)
    }

    /// Reads a key pair written by [`ReleaseKeyPair::secret_key_string`]
    /// (surrounding whitespace ignored).
    pub fn from_secret_string(s: &str) -> Result<Self> {
        let invalid = Error::InvalidKey {
            what: "release secret key",
            reason: "expected ed25519-secret:<base64 of 32 bytes>",
        };
        let Some(encoded) = s.trim().strip_prefix(SECRET_PREFIX) else {
            return Err(invalid);
        };
        let seed = base64_decode_array::<32>(encoded).ok_or(invalid)?;
        Ok(Self {
            inner: ed25519_dalek::SigningKey::from_bytes(&seed),
        })
    }

    /// Signs `msg` (e.g. a firmware metadata document); the signature is
    /// standard base64 of the 64-byte Ed25519 signature.
    pub fn sign(&self, msg: &[u8]) -> String {
        STANDARD.encode(self.inner.sign(msg).to_bytes())
    }
}

impl std::fmt::Debug for ReleaseKeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReleaseKeyPair")
            .field("public", &self.public_key_string())
            .field("secret", &format_args!("**redacted**"))
            .finish()
    }
}

/// Parses `ed25519:<base64 of 32 bytes>` (any base64 alphabet or padding;
/// surrounding whitespace ignored) and checks it is a usable Ed25519 key.
pub fn parse_public_key_string(s: &str) -> Result<[u8; 32]> {
    verifying_key(s).map(|key| key.to_bytes())
}

fn verifying_key(s: &str) -> Result<ed25519_dalek::VerifyingKey> {
    let invalid = |reason| Error::InvalidKey {
        what: "release public key",
        reason,
    };
    let encoded = s
        .trim()
        .strip_prefix(PUBLIC_PREFIX)
        .ok_or(invalid("expected ed25519:<base64 of 32 bytes>"))?;
    let bytes = base64_decode_array::<32>(encoded)
        .ok_or(invalid("expected ed25519:<base64 of 32 bytes>"))?;
    let key = ed25519_dalek::VerifyingKey::from_bytes(&bytes)
        .map_err(|_| invalid("not a valid Ed25519 point"))?;
    if key.is_weak() {
        return Err(invalid("weak (small-order) key"));
    }
    Ok(key)
}

/// Checks a release signature made by [`ReleaseKeyPair::sign`] over `msg`
/// against the public key string from the manifest.
pub fn verify_release(public_key_string: &str, msg: &[u8], signature_b64: &str) -> Result<()> {
    let key = verifying_key(public_key_string)?;
    let signature = base64_decode_array::<64>(signature_b64.trim()).ok_or(Error::Parse {
        what: "release signature",
        reason: "expected base64 of 64 bytes",
    })?;
    key.verify_strict(msg, &ed25519_dalek::Signature::from_bytes(&signature))
        .map_err(|_| Error::BadSignature { what: "release" })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::os_rng;

    const MSG: &[u8] = br#"{"product":"acme-thermostat-2","version":"2.4.1","sha256":"00"}"#;

    #[test]
    fn signature_verifies_with_the_public_key_string() {
        let pair = ReleaseKeyPair::generate(&mut os_rng());
        let public = pair.public_key_string();
        assert!(public.starts_with("ed25519:"));
        assert_eq!(public.len(), "ed25519:".len() + 44);
        let sig = pair.sign(MSG);
        verify_release(&public, MSG, &sig).unwrap();
    }

    #[test]
    fn wrong_key_or_message_or_signature_fails() {
        let mut rng = os_rng();
        let pair = ReleaseKeyPair::generate(&mut rng);
        let other = ReleaseKeyPair::generate(&mut rng);
        let sig = pair.sign(MSG);
        assert!(matches!(
            verify_release(&other.public_key_string(), MSG, &sig),
            Err(Error::BadSignature { what: "release" })
        ));
        assert!(verify_release(&pair.public_key_string(), b"other", &sig).is_err());
        let mut raw = STANDARD.decode(&sig).unwrap();
        raw[10] ^= 1;
        assert!(verify_release(&pair.public_key_string(), MSG, &STANDARD.encode(raw)).is_err());
        assert!(verify_release(&pair.public_key_string(), MSG, "not base64!").is_err());
    }

    #[test]
    fn secret_string_round_trips() {
        let pair = ReleaseKeyPair::generate(&mut os_rng());
        let secret = pair.secret_key_string();
        assert!(secret.expose().starts_with("ed25519-secret:"));
        let again = ReleaseKeyPair::from_secret_string(&format!("{}\n", secret.expose())).unwrap();
        assert_eq!(again.public_key_string(), pair.public_key_string());
        assert!(ReleaseKeyPair::from_secret_string(&pair.public_key_string()).is_err());
        assert!(ReleaseKeyPair::from_secret_string("ed25519-secret:AAAA").is_err());
    }

    #[test]
    fn public_key_strings_are_parsed_strictly() {
        let pair = ReleaseKeyPair::generate(&mut os_rng());
        let public = pair.public_key_string();
        let bytes = parse_public_key_string(&public).unwrap();
        assert_eq!(format!("ed25519:{}", STANDARD.encode(bytes)), public);
        for bad in [
            "",
            "ed25519:",
            "ed25519:AAAA",
            &public["ed25519:".len()..],
            &public.replace("ed25519:", "ed448:"),
            // The identity point: valid encoding, small order.
            "ed25519:AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        ] {
            assert!(parse_public_key_string(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn debug_never_shows_the_seed() {
        let pair = ReleaseKeyPair::generate(&mut os_rng());
        let secret = pair.secret_key_string();
        let seed_b64 = &secret.expose()["ed25519-secret:".len()..];
        let seed = STANDARD.decode(seed_b64).unwrap();
        let debug = format!("{pair:?}");
        assert!(debug.contains(&pair.public_key_string()));
        assert!(!debug.contains(seed_b64));
        assert!(!debug.contains(&crate::encoding::hex_encode(&seed)));
    }
}
