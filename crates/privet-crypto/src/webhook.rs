//! Webhook signatures as the Standard Webhooks convention has them
//! (<https://www.standardwebhooks.com>): a delivery carries `webhook-id`,
//! `webhook-timestamp` (Unix seconds) and `webhook-signature: v1,<sig>`, where
//! `sig` is the standard base64 of HMAC-SHA256 over `id.timestamp.body` keyed
//! with the endpoint's secret. The secret is shown to the operator as
//! `whsec_` + the standard base64 of the key, which is what the reference
//! libraries take.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit as _, Mac as _};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::rng::CryptoRng;
use crate::token::Secret;

/// The prefix of a secret as shown.
const PREFIX: &str = "whsec_";
/// Key bytes: 256 bits, within the 24 to 64 the convention allows.
const KEY_BYTES: usize = 32;

/// An endpoint's signing key. `Debug` prints `WebhookSecret(**redacted**)`;
/// the key is wiped on drop.
#[derive(Clone)]
pub struct WebhookSecret(Zeroizing<Vec<u8>>);

impl WebhookSecret {
    /// A new random key.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> WebhookSecret {
        let mut key = Zeroizing::new(vec![0u8; KEY_BYTES]);
        rng.fill_bytes(key.as_mut_slice());
        WebhookSecret(key)
    }

    /// The key from its raw bytes (as stored, once opened); `None` if empty.
    pub fn from_bytes(bytes: &[u8]) -> Option<WebhookSecret> {
        (!bytes.is_empty()).then(|| WebhookSecret(Zeroizing::new(bytes.to_vec())))
    }

    /// The raw key, to be sealed for storage.
    pub fn expose_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The key as shown to the operator once: `whsec_` + standard base64.
    pub fn to_whsec(&self) -> Secret {
        Secret::new(format!("{PREFIX}{}", STANDARD.encode(self.0.as_slice())))
    }

    /// Parses `whsec_…` (or the bare base64); `None` if it is not base64 of a key.
    pub fn from_whsec(s: &str) -> Option<WebhookSecret> {
        let b64 = s.strip_prefix(PREFIX).unwrap_or(s);
        let key = STANDARD.decode(b64).ok()?;
        WebhookSecret::from_bytes(&key)
    }

    /// The `webhook-signature` header value for a delivery: `v1,` + base64 of
    /// HMAC-SHA256(key, `id.timestamp.body`).
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let mut mac = match Hmac::<Sha256>::new_from_slice(&self.0) {
            Ok(mac) => mac,
            // HMAC takes keys of any length; unreachable, but never a panic.
            Err(_) => return String::from("v1,"),
        };
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
    }
}

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(**redacted**)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::os_rng;

    #[test]
    fn signs_the_standard_webhooks_test_vector() {
        // From the Standard Webhooks reference libraries' tests.
        let secret = WebhookSecret::from_whsec("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(
            secret.sign(
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1_614_265_330,
                br#"{"test": 2432232314}"#
            ),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn the_shown_secret_round_trips_and_another_key_signs_otherwise() {
        let a = WebhookSecret::generate(&mut os_rng());
        let shown = a.to_whsec();
        assert!(shown.expose().starts_with("whsec_"));
        let back = WebhookSecret::from_whsec(shown.expose()).unwrap();
        assert_eq!(back.expose_bytes(), a.expose_bytes());
        assert_eq!(a.expose_bytes().len(), 32);
        let b = WebhookSecret::generate(&mut os_rng());
        assert_ne!(a.sign("msg_1", 1, b"{}"), b.sign("msg_1", 1, b"{}"));
        assert_ne!(a.sign("msg_1", 1, b"{}"), a.sign("msg_1", 2, b"{}"));
        assert_ne!(a.sign("msg_1", 1, b"{}"), a.sign("msg_2", 1, b"{}"));
    }

    #[test]
    fn debug_never_shows_the_key_and_bad_text_is_refused() {
        let a = WebhookSecret::generate(&mut os_rng());
        assert_eq!(format!("{a:?}"), "WebhookSecret(**redacted**)");
        assert!(WebhookSecret::from_whsec("whsec_not base64!").is_none());
        assert!(WebhookSecret::from_whsec("whsec_").is_none());
    }
}
