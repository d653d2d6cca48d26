//! The instance master key (`master.key` or `PRIVET_MASTER_KEY`) and the
//! sub-keys derived from it.
//!
//! The master key itself encrypts nothing. HKDF-SHA256 derives one sub-key
//! per use, each under its own `info` label, so compromising one use does
//! not weaken another:
//!
//! | label | sub-key for |
//! |---|---|
//! | `privet/v1/keyring-wrap` | wrapping subjects' data keys (AES-256-GCM) |
//! | `privet/v1/pseudonym` | [`Pseudonymizer`] (HMAC-SHA256) |
//! | `privet/v1/field-hash` | [`FieldHasher`] (HMAC-SHA256) |
//! | `privet/v1/secret-box` | [`SecretBox`] (AES-256-GCM): TOTP secrets at rest |

use aes_gcm::Aes256Gcm;
use aes_gcm::aead::KeyInit as _;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::encoding::{base64_decode_array, hex_decode_into};
use crate::envelope;
use crate::record::DataKey;
use crate::rng::{CryptoRng, random_key};
use crate::{Error, FieldHasher, Pseudonym, Pseudonymizer, Result, Secret, SecretBox};

/// HKDF salt: fixed, so every sub-key is a pure function of the master key.
const HKDF_SALT: &[u8] = b"privet/master-key/v1";
const INFO_WRAP: &[u8] = b"privet/v1/keyring-wrap";
pub(crate) const INFO_PSEUDONYM: &[u8] = b"privet/v1/pseudonym";
pub(crate) const INFO_FIELD_HASH: &[u8] = b"privet/v1/field-hash";
pub(crate) const INFO_SECRET_BOX: &[u8] = b"privet/v1/secret-box";
/// The audit chain key's label, expanded from the instance root's pseudonym key.
pub(crate) const INFO_AUDIT_CHAIN: &[u8] = b"privet/v1/audit-chain";
/// Domain label at the start of a wrapped key's associated data.
const WRAP_AAD_LABEL: &[u8] = b"privet/wrapped-data-key";

/// The instance master key: 32 random bytes, wiped from memory on drop.
///
/// `Debug` prints `MasterKey(**redacted**)`.
#[derive(Clone)]
pub struct MasterKey {
    bytes: Zeroizing<[u8; 32]>,
    /// The keyring wrapping cipher, keyed once (its key schedule is wiped on drop).
    wrap: Aes256Gcm,
}

impl MasterKey {
    /// Length of a master key in bytes.
    pub const LEN: usize = 32;
    /// Length of [`MasterKey::wrap_data_key`]'s output.
    pub const WRAPPED_KEY_LEN: usize = envelope::sealed_len(DataKey::LEN);

    /// A fresh random master key (first start of an instance).
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        Self::from_zeroizing(random_key(rng))
    }

    /// The master key with these bytes (as read from `master.key`).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self::from_zeroizing(Zeroizing::new(bytes))
    }

    fn from_zeroizing(bytes: Zeroizing<[u8; 32]>) -> Self {
        let wrap_key = derive_subkey(&bytes, INFO_WRAP);
        let wrap = Aes256Gcm::new((&*wrap_key).into());
        Self { bytes, wrap }
    }

    /// Parses a master key written as text, as in `PRIVET_MASTER_KEY`:
    /// 64 hex digits, or base64 of 32 bytes (standard or URL-safe alphabet,
    /// padded or not). Surrounding whitespace is ignored.
    pub fn from_encoded(s: &str) -> Result<Self> {
        let s = s.trim();
        // 64 hex digits are also valid base64 (of 48 bytes), so try hex first.
        if s.len() == 64 && s.bytes().all(|c| c.is_ascii_hexdigit()) {
            let mut bytes = Zeroizing::new([0u8; 32]);
            hex_decode_into(s, bytes.as_mut_slice()).map_err(|reason| Error::InvalidKey {
                what: "master key",
                reason,
            })?;
            return Ok(Self::from_zeroizing(bytes));
        }
        base64_decode_array::<32>(s)
            .map(Self::from_zeroizing)
            .ok_or(Error::InvalidKey {
                what: "master key",
                reason: "expected 32 bytes as base64 or 64 hex digits",
            })
    }

    /// The raw key bytes. Only for writing `master.key` when it is created.
    pub fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
        self.bytes.clone()
    }

    /// The key as standard padded base64 (the form [`MasterKey::from_encoded`]
    /// accepts), e.g. to print once for `PRIVET_MASTER_KEY`.
    pub fn to_encoded(&self) -> Secret {
        Secret::new(STANDARD.encode(self.bytes.as_slice()))
    }

    /// Encrypts `key` for the keyring. The subject's pseudonym is the
    /// associated data, so a wrapped key copied to another subject's row
    /// does not unwrap. Output: [`MasterKey::WRAPPED_KEY_LEN`] bytes, in the
    /// sealed-record layout (version byte, random nonce, ciphertext, tag).
    pub fn wrap_data_key<R: CryptoRng + ?Sized>(
        &self,
        subject: &Pseudonym,
        key: &DataKey,
        rng: &mut R,
    ) -> Vec<u8> {
        let sealed = envelope::seal(
            &self.wrap,
            &wrap_aad(subject),
            key.as_bytes(),
            rng,
            "wrapped data key",
        );
        match sealed {
            Ok(wrapped) => wrapped,
            // AES-GCM refuses only plaintexts over 64 GiB; a key is 32 bytes.
            Err(_) => unreachable!("AES-256-GCM always seals a 32-byte key"),
        }
    }

    /// Decrypts a key written by [`MasterKey::wrap_data_key`] for `subject`.
    pub fn unwrap_data_key(&self, subject: &Pseudonym, wrapped: &[u8]) -> Result<DataKey> {
        let plain = Zeroizing::new(envelope::open(
            &self.wrap,
            &wrap_aad(subject),
            wrapped,
            "wrapped data key",
        )?);
        let bytes = <[u8; 32]>::try_from(plain.as_slice()).map_err(|_| Error::InvalidKey {
            what: "wrapped data key",
            reason: "not 32 bytes",
        })?;
        Ok(DataKey::from_bytes(bytes))
    }

    /// The keyring wrapping cipher, for instance secrets sealed under this key's epoch
    /// ([`crate::MasterKeys::seal_secret`]).
    pub(crate) fn wrap_cipher(&self) -> &Aes256Gcm {
        &self.wrap
    }

    /// The keyring wrapping sub-key itself, for tests that look for it elsewhere.
    #[cfg(test)]
    pub(crate) fn wrap_subkey(&self) -> Zeroizing<[u8; 32]> {
        derive_subkey(&self.bytes, INFO_WRAP)
    }

    /// A master key whose wrapping cipher is keyed with `wrap_key` as it is, not with its
    /// HKDF output: for tests that try a candidate directly as the AES-256-GCM key.
    #[cfg(test)]
    pub(crate) fn with_wrap_key(wrap_key: &[u8; 32]) -> Self {
        Self {
            bytes: Zeroizing::new([0; 32]),
            wrap: Aes256Gcm::new(wrap_key.into()),
        }
    }

    /// The sub-key for `info` (one of the `INFO_*` labels).
    pub(crate) fn subkey(&self, info: &[u8]) -> Zeroizing<[u8; 32]> {
        derive_subkey(&self.bytes, info)
    }

    /// The instance's subject pseudonymizer.
    pub fn pseudonymizer(&self) -> Pseudonymizer {
        Pseudonymizer::new(&derive_subkey(&self.bytes, INFO_PSEUDONYM))
    }

    /// The instance's hasher for the manifest's `hash` transform.
    pub fn field_hasher(&self) -> FieldHasher {
        FieldHasher::new(&derive_subkey(&self.bytes, INFO_FIELD_HASH))
    }

    /// The instance's box for small secrets at rest (TOTP secrets).
    pub fn secret_box(&self) -> SecretBox {
        SecretBox::new(&derive_subkey(&self.bytes, INFO_SECRET_BOX))
    }
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(**redacted**)")
    }
}

fn wrap_aad(subject: &Pseudonym) -> Vec<u8> {
    let mut aad = Vec::with_capacity(WRAP_AAD_LABEL.len() + 1 + Pseudonym::LEN);
    aad.extend_from_slice(WRAP_AAD_LABEL);
    aad.push(envelope::VERSION);
    aad.extend_from_slice(subject.as_bytes());
    aad
}

/// HKDF-SHA256(salt = [`HKDF_SALT`], ikm = master key, info = `info`), 32 bytes.
pub(crate) fn derive_subkey(master: &[u8; 32], info: &[u8]) -> Zeroizing<[u8; 32]> {
    let hkdf = Hkdf::<Sha256>::new(Some(HKDF_SALT), master);
    let mut okm = Zeroizing::new([0u8; 32]);
    // HKDF-Expand refuses only outputs longer than 255 × 32 bytes; 32 bytes
    // is always accepted, so this branch cannot run.
    if hkdf.expand(info, okm.as_mut_slice()).is_err() {
        unreachable!("HKDF-SHA256 always expands to 32 bytes");
    }
    okm
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::os_rng;
    use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};

    fn subject(n: u8) -> Pseudonym {
        Pseudonym::from_bytes([n; 16])
    }

    #[test]
    fn wrap_then_unwrap_returns_the_same_data_key() {
        let mut rng = os_rng();
        let master = MasterKey::generate(&mut rng);
        let key = DataKey::generate(&mut rng);
        let wrapped = master.wrap_data_key(&subject(1), &key, &mut rng);
        assert_eq!(wrapped.len(), MasterKey::WRAPPED_KEY_LEN);
        assert_eq!(wrapped[0], 1);
        let back = master.unwrap_data_key(&subject(1), &wrapped).unwrap();
        assert_eq!(back.as_bytes(), key.as_bytes());
    }

    #[test]
    fn unwrap_for_another_subject_fails() {
        let mut rng = os_rng();
        let master = MasterKey::generate(&mut rng);
        let key = DataKey::generate(&mut rng);
        let wrapped = master.wrap_data_key(&subject(1), &key, &mut rng);
        let err = master.unwrap_data_key(&subject(2), &wrapped).unwrap_err();
        assert!(matches!(err, Error::Decrypt { .. }), "{err:?}");
    }

    #[test]
    fn unwrap_with_another_master_key_fails() {
        let mut rng = os_rng();
        let key = DataKey::generate(&mut rng);
        let wrapped = MasterKey::generate(&mut rng).wrap_data_key(&subject(1), &key, &mut rng);
        let other = MasterKey::generate(&mut rng);
        assert!(other.unwrap_data_key(&subject(1), &wrapped).is_err());
    }

    #[test]
    fn unwrap_rejects_tampering_and_unknown_versions() {
        let mut rng = os_rng();
        let master = MasterKey::generate(&mut rng);
        let key = DataKey::generate(&mut rng);
        let wrapped = master.wrap_data_key(&subject(1), &key, &mut rng);
        for i in 1..wrapped.len() {
            let mut bad = wrapped.clone();
            bad[i] ^= 0x01;
            assert!(
                master.unwrap_data_key(&subject(1), &bad).is_err(),
                "byte {i}"
            );
        }
        let mut bad = wrapped.clone();
        bad[0] = 2;
        assert!(matches!(
            master.unwrap_data_key(&subject(1), &bad),
            Err(Error::UnknownFormat { version: 2, .. })
        ));
    }

    #[test]
    fn from_encoded_accepts_hex_and_every_base64_flavour() {
        let bytes: [u8; 32] = std::array::from_fn(|i| (i as u8).wrapping_mul(37) ^ 0xfb);
        let expected = MasterKey::from_bytes(bytes).pseudonymizer().pseudonym("s");
        let hex = crate::encoding::hex_encode(&bytes);
        let encodings = [
            hex.clone(),
            hex.to_uppercase(),
            format!("  {hex}\n"),
            STANDARD.encode(bytes),
            STANDARD_NO_PAD.encode(bytes),
            URL_SAFE.encode(bytes),
            URL_SAFE_NO_PAD.encode(bytes),
            format!("{}\n", STANDARD.encode(bytes)),
        ];
        for s in encodings {
            let key = MasterKey::from_encoded(&s).unwrap_or_else(|e| panic!("{s:?}: {e}"));
            assert_eq!(key.pseudonymizer().pseudonym("s"), expected, "{s:?}");
            assert_eq!(*key.to_bytes(), bytes);
        }
        let round = MasterKey::from_encoded(MasterKey::from_bytes(bytes).to_encoded().expose());
        assert_eq!(*round.unwrap().to_bytes(), bytes);
    }

    #[test]
    fn from_encoded_rejects_wrong_lengths_and_garbage() {
        for s in [
            String::new(),
            "00".repeat(31),
            "00".repeat(33),
            format!("{}g", "0".repeat(63)),
            STANDARD.encode([7u8; 31]),
            STANDARD.encode([7u8; 33]),
            "not a key at all!".to_owned(),
        ] {
            let err = MasterKey::from_encoded(&s).unwrap_err();
            assert!(matches!(err, Error::InvalidKey { .. }), "{s:?}: {err:?}");
        }
    }

    #[test]
    fn debug_never_shows_the_key() {
        let master = MasterKey::generate(&mut os_rng());
        let bytes = master.to_bytes();
        let debug = format!("{master:?}");
        assert_eq!(debug, "MasterKey(**redacted**)");
        for encoded in [
            crate::encoding::hex_encode(bytes.as_slice()),
            STANDARD.encode(bytes.as_slice()),
            URL_SAFE_NO_PAD.encode(bytes.as_slice()),
            format!("{:?}", bytes.as_slice()),
        ] {
            assert!(!debug.contains(&encoded));
            assert!(!format!("{:?}", master.pseudonymizer()).contains(&encoded));
            assert!(!format!("{:?}", master.field_hasher()).contains(&encoded));
        }
        assert_eq!(format!("{:?}", master.to_encoded()), "Secret(**redacted**)");
    }

    #[test]
    fn sub_keys_are_distinct_from_each_other_and_the_master_key() {
        let master = [8u8; 32];
        let keys = [
            *derive_subkey(&master, INFO_WRAP),
            *derive_subkey(&master, INFO_PSEUDONYM),
            *derive_subkey(&master, INFO_FIELD_HASH),
        ];
        assert_ne!(keys[0], keys[1]);
        assert_ne!(keys[1], keys[2]);
        assert_ne!(keys[0], keys[2]);
        assert!(keys.iter().all(|k| *k != master));
    }
}
