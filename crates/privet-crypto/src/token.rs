//! Bearer tokens (API keys, device tokens, claim codes, session ids), the
//! [`Secret`] wrapper that keeps them out of logs, their stored hash, and
//! the one constant-time comparison helper.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;
use zeroize::Zeroizing;

use crate::encoding::hex_newtype;
use crate::rng::CryptoRng;

/// Random bytes in a token: 256 bits, far beyond guessing or enumeration.
const TOKEN_BYTES: usize = 32;
/// Length of the random part of a token: base64url of 32 bytes, unpadded.
pub const TOKEN_RANDOM_CHARS: usize = 43;

/// A secret string (token, password, encoded key): `Debug` prints
/// `Secret(**redacted**)`, the memory is wiped on drop, and the value is
/// reached only through [`Secret::expose`].
#[derive(Clone)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// Wraps a secret string.
    pub fn new(value: String) -> Self {
        Self(Zeroizing::new(value))
    }

    /// The secret value. Call it where the value is used, not earlier.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(**redacted**)")
    }
}

/// A new token: `prefix`, `_`, then 43 base64url characters of 32 random
/// bytes, e.g. `generate_token("pvk", rng)` → `pvk_Q2h…`. The prefix names
/// the kind of token (so leaked tokens can be recognised by scanners); a
/// trailing `_` in `prefix` is not doubled.
pub fn generate_token<R: CryptoRng + ?Sized>(prefix: &str, rng: &mut R) -> Secret {
    let prefix = prefix.strip_suffix('_').unwrap_or(prefix);
    let mut random = Zeroizing::new([0u8; TOKEN_BYTES]);
    rng.fill_bytes(random.as_mut_slice());
    // Reserve the full length first so no partial copy is left behind by a
    // reallocation.
    let mut token = String::with_capacity(prefix.len() + 1 + TOKEN_RANDOM_CHARS);
    token.push_str(prefix);
    token.push('_');
    URL_SAFE_NO_PAD.encode_string(random.as_slice(), &mut token);
    Secret::new(token)
}

/// SHA-256 of a token, the form in which tokens are stored.
///
/// A plain hash is enough here, unlike for passwords: a token carries 256
/// random bits, so the hash cannot be reversed by guessing, and a slow hash
/// (Argon2) would only cost time on every request.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenHash([u8; 32]);

hex_newtype!(TokenHash, 32, "token hash");

impl TokenHash {
    /// Wraps stored hash bytes.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The raw hash bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Whether `token` hashes to this value, compared in constant time.
    pub fn matches(&self, token: &str) -> bool {
        ct_eq(&hash_token(token).0, &self.0)
    }
}

/// The stored hash of `token`.
pub fn hash_token(token: &str) -> TokenHash {
    TokenHash(Sha256::digest(token.as_bytes()).into())
}

/// Compares two secrets in time independent of their contents (only of
/// their lengths). Every comparison of secret values goes through here.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::os_rng;

    #[test]
    fn tokens_have_the_prefix_and_43_base64url_chars() {
        let mut rng = os_rng();
        for prefix in ["pvk", "pvk_"] {
            let token = generate_token(prefix, &mut rng);
            let (p, random) = token.expose().split_at(4);
            assert_eq!(p, "pvk_");
            assert_eq!(random.len(), TOKEN_RANDOM_CHARS);
            assert!(
                random
                    .bytes()
                    .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
            );
        }
        let a = generate_token("dev", &mut rng);
        let b = generate_token("dev", &mut rng);
        assert!(!ct_eq(a.expose().as_bytes(), b.expose().as_bytes()));
    }

    #[test]
    fn secret_debug_is_redacted() {
        let token = generate_token("pvk", &mut os_rng());
        let debug = format!("{token:?}");
        assert_eq!(debug, "Secret(**redacted**)");
        assert!(!debug.contains(&token.expose()[4..]));
    }

    #[test]
    fn token_hash_is_sha256_and_round_trips_as_hex() {
        // SHA-256("abc"), FIPS 180-2 appendix B.1.
        let h = hash_token("abc");
        assert_eq!(
            h.to_hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(h.to_string().parse::<TokenHash>().unwrap(), h);
        let json = serde_json::to_string(&h).unwrap();
        assert_eq!(serde_json::from_str::<TokenHash>(&json).unwrap(), h);
        assert!(h.matches("abc"));
        assert!(!h.matches("abd"));
        assert_eq!(TokenHash::from_bytes(*h.as_bytes()), h);
    }

    #[test]
    fn ct_eq_compares_contents_and_lengths() {
        assert!(ct_eq(b"same", b"same"));
        assert!(!ct_eq(b"same", b"samE"));
        assert!(!ct_eq(b"same", b"same "));
        assert!(ct_eq(b"", b""));
    }
}
