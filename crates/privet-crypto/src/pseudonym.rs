//! Keyed pseudonyms (DESIGN principle 6): storage and audit name a subject
//! by [`Pseudonym`], never by its id, e-mail or name; the manifest's `hash`
//! transform replaces a field value by [`FieldHasher::hash`].
//!
//! Both are HMAC-SHA256 under a key derived from the master key, so they are
//! stable within one instance, differ between instances, and cannot be
//! reversed or recomputed without the master key.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit as _, Mac as _};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::encoding::hex_newtype;
use crate::{Error, Result};

type HmacSha256 = Hmac<Sha256>;

/// Builds an HMAC-SHA256 state keyed with a 32-byte key.
///
/// HMAC (RFC 2104) zero-pads keys shorter than the hash's 64-byte block, so
/// keying with the padded block is the same MAC as keying with the 32 bytes,
/// and goes through the infallible `KeyInit::new`.
pub(crate) fn keyed_hmac(key: &[u8; 32]) -> HmacSha256 {
    let mut block = Zeroizing::new([0u8; 64]);
    block[..32].copy_from_slice(key);
    HmacSha256::new((&*block).into())
}

/// A subject's pseudonym: the first 128 bits of
/// HMAC-SHA256(pseudonym key, `"subject:" || subject id`).
///
/// 128 bits suffice: pseudonyms need only be collision-free among this
/// instance's subjects (they are keyed, so nobody can search for
/// collisions offline). For n subjects the chance of any collision is about
/// n² / 2^129, i.e. below 2^-49 even for 2^40 (a trillion) subjects.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pseudonym([u8; 16]);

hex_newtype!(Pseudonym, 16, "pseudonym");

impl Pseudonym {
    /// Length in bytes.
    pub const LEN: usize = 16;

    /// Wraps raw pseudonym bytes (as read back from storage).
    pub const fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    /// Reads a pseudonym from a 16-byte slice (e.g. a database blob).
    pub fn from_slice(bytes: &[u8]) -> Result<Self> {
        <[u8; 16]>::try_from(bytes)
            .map(Self)
            .map_err(|_| Error::Parse {
                what: "pseudonym",
                reason: "expected 16 bytes",
            })
    }

    /// The raw bytes.
    pub const fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

/// Computes subject pseudonyms. Holds a pre-keyed HMAC state that is cloned
/// per call, which saves re-deriving the inner and outer pads (BASELINES.md:
/// 9.4 M vs 5.5 M HMACs/s).
#[derive(Clone)]
pub struct Pseudonymizer {
    mac: HmacSha256,
}

impl Pseudonymizer {
    pub(crate) fn new(key: &[u8; 32]) -> Self {
        Self {
            mac: keyed_hmac(key),
        }
    }

    /// The pseudonym of `subject_id` in this instance.
    pub fn pseudonym(&self, subject_id: &str) -> Pseudonym {
        let mut mac = self.mac.clone();
        mac.update(b"subject:");
        mac.update(subject_id.as_bytes());
        let digest = mac.finalize().into_bytes();
        let mut out = [0u8; 16];
        out.copy_from_slice(&digest[..16]);
        Pseudonym(out)
    }
}

impl std::fmt::Debug for Pseudonymizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pseudonymizer(**redacted**)")
    }
}

/// The manifest's `hash` transform: a keyed pseudonym of a field value.
///
/// `hash(product, value)` is the first 128 bits of
/// HMAC-SHA256(field key, `"field:" || len(product) || product || value`),
/// base64url without padding (22 characters). It is stable per instance and
/// product, so equal values can still be counted or joined, but the value
/// cannot be recovered or guessed by hashing candidates without the master
/// key; two products never share a hash for the same value.
#[derive(Clone)]
pub struct FieldHasher {
    mac: HmacSha256,
}

impl FieldHasher {
    /// Length of [`FieldHasher::hash`]'s output in characters.
    pub const HASH_LEN: usize = 22;

    pub(crate) fn new(key: &[u8; 32]) -> Self {
        Self {
            mac: keyed_hmac(key),
        }
    }

    /// The pseudonym of `value` for fields of `product`.
    pub fn hash(&self, product: &str, value: &str) -> String {
        let mut mac = self.mac.clone();
        mac.update(b"field:");
        // Length-prefix the product so ("ab", "c") and ("a", "bc") differ.
        mac.update(&(product.len() as u64).to_be_bytes());
        mac.update(product.as_bytes());
        mac.update(value.as_bytes());
        let digest = mac.finalize().into_bytes();
        URL_SAFE_NO_PAD.encode(&digest[..16])
    }

    /// A message's delivery fingerprint: what recognises an MQTT message handed over again,
    /// keyed (HMAC-SHA256 under this instance's key, its own domain), so the stored
    /// fingerprint of a payload confirms nothing about its values to someone who reads the
    /// database. Parts are length-prefixed so no two different inputs hash the same bytes.
    pub fn delivery(&self, device: &str, kind: crate::DeliveryKind, bytes: &[u8]) -> [u8; 32] {
        let mut mac = self.mac.clone();
        mac.update(b"delivery:");
        for part in [device.as_bytes(), kind.tag(), bytes] {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        mac.finalize().into_bytes().into()
    }
}

impl std::fmt::Debug for FieldHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FieldHasher(**redacted**)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MasterKey;

    #[test]
    fn pseudonyms_are_deterministic_per_master_key() {
        let a = MasterKey::from_bytes([1; 32]).pseudonymizer();
        let b = MasterKey::from_bytes([1; 32]).pseudonymizer();
        assert_eq!(a.pseudonym("member-1"), b.pseudonym("member-1"));
        assert_ne!(a.pseudonym("member-1"), a.pseudonym("member-2"));
    }

    #[test]
    fn pseudonyms_differ_across_master_keys() {
        let a = MasterKey::from_bytes([1; 32]).pseudonymizer();
        let b = MasterKey::from_bytes([2; 32]).pseudonymizer();
        assert_ne!(a.pseudonym("member-1"), b.pseudonym("member-1"));
    }

    #[test]
    fn pseudonym_is_the_truncated_keyed_hmac() {
        let key = [9u8; 32];
        let mut mac = HmacSha256::new_from_slice(&key).unwrap();
        mac.update(b"subject:member-1");
        let full = mac.finalize().into_bytes();
        let p = Pseudonymizer::new(&key).pseudonym("member-1");
        assert_eq!(p.as_bytes(), &full[..16]);
    }

    #[test]
    fn pseudonym_hex_display_parse_and_serde_round_trip() {
        let p = MasterKey::from_bytes([3; 32])
            .pseudonymizer()
            .pseudonym("household-7");
        let hex = p.to_string();
        assert_eq!(hex.len(), 32);
        assert_eq!(hex, hex.to_lowercase());
        assert_eq!(hex.parse::<Pseudonym>().unwrap(), p);
        assert_eq!(hex.to_uppercase().parse::<Pseudonym>().unwrap(), p);
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(json, format!("\"{hex}\""));
        assert_eq!(serde_json::from_str::<Pseudonym>(&json).unwrap(), p);
        assert_eq!(Pseudonym::from_slice(p.as_bytes()).unwrap(), p);
        assert!(Pseudonym::from_slice(&[0; 15]).is_err());
        assert!("zz".parse::<Pseudonym>().is_err());
        assert!(serde_json::from_str::<Pseudonym>("\"abc\"").is_err());
    }

    #[test]
    fn field_hash_is_22_chars_stable_and_product_bound() {
        let h = MasterKey::from_bytes([4; 32]).field_hasher();
        let x = h.hash("acme-thermostat-2", "SW1A 1AA");
        assert_eq!(x.len(), FieldHasher::HASH_LEN);
        assert!(
            x.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
        assert_eq!(x, h.hash("acme-thermostat-2", "SW1A 1AA"));
        assert_ne!(x, h.hash("acme-doorbell", "SW1A 1AA"));
        assert_ne!(h.hash("ab", "c"), h.hash("a", "bc"));
        let other = MasterKey::from_bytes([5; 32]).field_hasher();
        assert_ne!(x, other.hash("acme-thermostat-2", "SW1A 1AA"));
    }

    #[test]
    fn field_hash_and_pseudonym_keys_are_separate() {
        let master = MasterKey::from_bytes([6; 32]);
        let p = master.pseudonymizer().pseudonym("x");
        let f = master.field_hasher().hash("", "x");
        assert_ne!(URL_SAFE_NO_PAD.encode(p.as_bytes()), f);
    }
}
