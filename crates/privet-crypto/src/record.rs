//! Per-subject encryption of stored data (DESIGN principle 4).
//!
//! Every subject has a [`DataKey`]; it seals the subject's event records and
//! profile. The keyring keeps it wrapped by the master key
//! ([`MasterKey::wrap_data_key`](crate::MasterKey::wrap_data_key)); erasing a
//! subject destroys the wrapped key first, which makes every sealed record
//! and profile of that subject unreadable at once, backups included.
//!
//! A sealed payload is `[format version = 1][12-byte random nonce]
//! [AES-256-GCM ciphertext][16-byte tag]`. The associated data binds a record
//! to its id, subject and stream, so a ciphertext moved to another row,
//! subject or stream fails to open.

use aes_gcm::Aes256Gcm;
use aes_gcm::aead::KeyInit as _;
use zeroize::Zeroizing;

use crate::envelope::{self, VERSION};
use crate::rng::{CryptoRng, random_key};
use crate::{Pseudonym, Result};

const RECORD_AAD_LABEL: &[u8] = b"privet/record";
const PROFILE_AAD_LABEL: &[u8] = b"privet/profile";

/// Bytes a sealed payload adds to its plaintext (version, nonce, tag).
pub const SEAL_OVERHEAD: usize = envelope::sealed_len(0);

/// A subject's 32-byte data key, wiped from memory on drop.
///
/// `Debug` prints `DataKey(**redacted**)`. The raw bytes never leave this
/// crate except wrapped by the master key.
#[derive(Clone)]
pub struct DataKey {
    bytes: Zeroizing<[u8; 32]>,
    /// Keyed once: sealing many records reuses the AES key schedule.
    cipher: Aes256Gcm,
}

impl DataKey {
    /// Length of a data key in bytes.
    pub const LEN: usize = 32;

    /// A fresh random data key for a new subject.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        Self::from_zeroizing(random_key(rng))
    }

    /// The data key with these bytes (tests and known-answer checks; the
    /// keyring goes through [`MasterKey::unwrap_data_key`](crate::MasterKey::unwrap_data_key)).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self::from_zeroizing(Zeroizing::new(bytes))
    }

    fn from_zeroizing(bytes: Zeroizing<[u8; 32]>) -> Self {
        let cipher = Aes256Gcm::new((&*bytes).into());
        Self { bytes, cipher }
    }

    pub(crate) fn as_bytes(&self) -> &[u8; 32] {
        &self.bytes
    }
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(**redacted**)")
    }
}

/// What a sealed record is bound to: opening it under any other record id,
/// subject or stream fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordAad<'a> {
    /// The record's id (16 bytes, e.g. a UUID).
    pub record_id: [u8; 16],
    /// The subject the record belongs to.
    pub subject: Pseudonym,
    /// The manifest stream the record's events came from.
    pub stream: &'a str,
}

impl<'a> RecordAad<'a> {
    /// Associated data for a record.
    pub const fn new(record_id: [u8; 16], subject: Pseudonym, stream: &'a str) -> Self {
        Self {
            record_id,
            subject,
            stream,
        }
    }

    /// `"privet/record" || version || record id || subject || u64 BE len(stream) || stream`.
    /// Fixed-size fields plus a length-prefixed stream make the encoding
    /// unambiguous.
    fn encode(&self) -> Vec<u8> {
        let mut aad = Vec::with_capacity(
            RECORD_AAD_LABEL.len() + 1 + 16 + Pseudonym::LEN + 8 + self.stream.len(),
        );
        aad.extend_from_slice(RECORD_AAD_LABEL);
        aad.push(VERSION);
        aad.extend_from_slice(&self.record_id);
        aad.extend_from_slice(self.subject.as_bytes());
        aad.extend_from_slice(&(self.stream.len() as u64).to_be_bytes());
        aad.extend_from_slice(self.stream.as_bytes());
        aad
    }
}

/// Encrypts a record's payload under the subject's key with a fresh random
/// nonce. Fails only for payloads over 64 GiB ([`Error::TooLong`](crate::Error::TooLong)).
pub fn seal<R: CryptoRng + ?Sized>(
    key: &DataKey,
    aad: &RecordAad<'_>,
    plaintext: &[u8],
    rng: &mut R,
) -> Result<Vec<u8>> {
    envelope::seal(&key.cipher, &aad.encode(), plaintext, rng, "record")
}

/// Decrypts a payload written by [`seal`] with the same key and associated
/// data. An unknown version byte is [`Error::UnknownFormat`](crate::Error::UnknownFormat);
/// any other mismatch or tampering is [`Error::Decrypt`](crate::Error::Decrypt).
pub fn open(key: &DataKey, aad: &RecordAad<'_>, sealed: &[u8]) -> Result<Vec<u8>> {
    envelope::open(&key.cipher, &aad.encode(), sealed, "record")
}

fn profile_aad(subject: &Pseudonym) -> Vec<u8> {
    let mut aad = Vec::with_capacity(PROFILE_AAD_LABEL.len() + 1 + Pseudonym::LEN);
    aad.extend_from_slice(PROFILE_AAD_LABEL);
    aad.push(VERSION);
    aad.extend_from_slice(subject.as_bytes());
    aad
}

/// Encrypts a subject's profile (name, e-mail) under their data key, so
/// erasure shreds it together with their records.
pub fn seal_profile<R: CryptoRng + ?Sized>(
    key: &DataKey,
    subject: &Pseudonym,
    plaintext: &[u8],
    rng: &mut R,
) -> Result<Vec<u8>> {
    envelope::seal(
        &key.cipher,
        &profile_aad(subject),
        plaintext,
        rng,
        "profile",
    )
}

/// Decrypts a profile written by [`seal_profile`] for `subject`.
pub fn open_profile(key: &DataKey, subject: &Pseudonym, sealed: &[u8]) -> Result<Vec<u8>> {
    envelope::open(&key.cipher, &profile_aad(subject), sealed, "profile")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Error, os_rng};

    const PLAINTEXT: &[u8] = br#"{"temperature_c":20.5}"#;

    fn aad(stream: &str) -> RecordAad<'_> {
        RecordAad::new([1; 16], Pseudonym::from_bytes([2; 16]), stream)
    }

    #[test]
    fn seal_then_open_round_trips() {
        let mut rng = os_rng();
        let key = DataKey::generate(&mut rng);
        let sealed = seal(&key, &aad("climate"), PLAINTEXT, &mut rng).unwrap();
        assert_eq!(sealed.len(), PLAINTEXT.len() + SEAL_OVERHEAD);
        assert_eq!(sealed[0], 1);
        assert_eq!(open(&key, &aad("climate"), &sealed).unwrap(), PLAINTEXT);
        let empty = seal(&key, &aad("climate"), b"", &mut rng).unwrap();
        assert_eq!(open(&key, &aad("climate"), &empty).unwrap(), b"");
    }

    #[test]
    fn nonces_are_fresh_per_seal() {
        let mut rng = os_rng();
        let key = DataKey::generate(&mut rng);
        let a = seal(&key, &aad("climate"), PLAINTEXT, &mut rng).unwrap();
        let b = seal(&key, &aad("climate"), PLAINTEXT, &mut rng).unwrap();
        assert_ne!(a[1..13], b[1..13]);
        assert_ne!(a, b);
    }

    #[test]
    fn tampering_with_any_byte_fails_to_open() {
        let mut rng = os_rng();
        let key = DataKey::generate(&mut rng);
        let sealed = seal(&key, &aad("climate"), PLAINTEXT, &mut rng).unwrap();
        for i in 0..sealed.len() {
            for bit in [0x01, 0x80] {
                let mut bad = sealed.clone();
                bad[i] ^= bit;
                assert!(open(&key, &aad("climate"), &bad).is_err(), "byte {i}");
            }
        }
        for len in 0..sealed.len() {
            assert!(
                open(&key, &aad("climate"), &sealed[..len]).is_err(),
                "len {len}"
            );
        }
    }

    #[test]
    fn another_record_id_subject_or_stream_fails_to_open() {
        let mut rng = os_rng();
        let key = DataKey::generate(&mut rng);
        let good = aad("climate");
        let sealed = seal(&key, &good, PLAINTEXT, &mut rng).unwrap();
        let others = [
            RecordAad {
                record_id: [9; 16],
                ..good
            },
            RecordAad {
                subject: Pseudonym::from_bytes([9; 16]),
                ..good
            },
            RecordAad {
                stream: "presence",
                ..good
            },
            RecordAad {
                stream: "climat",
                ..good
            },
            RecordAad {
                stream: "climatee",
                ..good
            },
        ];
        for other in others {
            let err = open(&key, &other, &sealed).unwrap_err();
            assert!(
                matches!(err, Error::Decrypt { what: "record" }),
                "{other:?}"
            );
        }
    }

    #[test]
    fn another_key_fails_to_open() {
        let mut rng = os_rng();
        let sealed = seal(
            &DataKey::generate(&mut rng),
            &aad("climate"),
            PLAINTEXT,
            &mut rng,
        )
        .unwrap();
        let other = DataKey::generate(&mut rng);
        assert!(open(&other, &aad("climate"), &sealed).is_err());
    }

    #[test]
    fn unknown_version_byte_is_unknown_format() {
        let mut rng = os_rng();
        let key = DataKey::generate(&mut rng);
        let mut sealed = seal(&key, &aad("climate"), PLAINTEXT, &mut rng).unwrap();
        for version in [0u8, 2, 255] {
            sealed[0] = version;
            let err = open(&key, &aad("climate"), &sealed).unwrap_err();
            assert!(
                matches!(err, Error::UnknownFormat { what: "record", version: v } if v == version),
                "{err:?}"
            );
        }
        assert!(matches!(
            open(&key, &aad("climate"), &[]),
            Err(Error::Decrypt { .. })
        ));
    }

    #[test]
    fn data_key_debug_never_shows_the_key() {
        let key = DataKey::generate(&mut os_rng());
        let debug = format!("{key:?}");
        assert_eq!(debug, "DataKey(**redacted**)");
        let bytes = key.as_bytes();
        assert!(!debug.contains(&crate::encoding::hex_encode(bytes)));
        assert!(!debug.contains(&format!("{:?}", bytes.as_slice())));
    }

    #[test]
    fn profile_round_trips_and_is_bound_to_its_subject() {
        let mut rng = os_rng();
        let key = DataKey::generate(&mut rng);
        let alice = Pseudonym::from_bytes([3; 16]);
        let bob = Pseudonym::from_bytes([4; 16]);
        let profile = br#"{"name":"Alice","email":"alice@example.org"}"#;
        let sealed = seal_profile(&key, &alice, profile, &mut rng).unwrap();
        assert_eq!(open_profile(&key, &alice, &sealed).unwrap(), profile);
        assert!(open_profile(&key, &bob, &sealed).is_err());
    }

    #[test]
    fn profiles_and_records_cannot_be_swapped() {
        let mut rng = os_rng();
        let key = DataKey::generate(&mut rng);
        let subject = Pseudonym::from_bytes([2; 16]);
        let profile = seal_profile(&key, &subject, PLAINTEXT, &mut rng).unwrap();
        assert!(open(&key, &aad(""), &profile).is_err());
        let record = seal(&key, &aad(""), PLAINTEXT, &mut rng).unwrap();
        assert!(open_profile(&key, &subject, &record).is_err());
    }

    #[test]
    fn known_key_and_nonce_give_a_stable_layout() {
        // A fixed "rng" makes the layout checkable: version, nonce, then
        // ciphertext and tag; re-opening needs nothing but key and AAD.
        struct Fixed;
        impl rand_core::TryRng for Fixed {
            type Error = core::convert::Infallible;
            fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
                Ok(0x0707_0707)
            }
            fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
                Ok(0x0707_0707_0707_0707)
            }
            fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
                dst.fill(7);
                Ok(())
            }
        }
        impl rand_core::TryCryptoRng for Fixed {}

        let key = DataKey::from_bytes([5; 32]);
        let a = seal(&key, &aad("climate"), PLAINTEXT, &mut Fixed).unwrap();
        let b = seal(&key, &aad("climate"), PLAINTEXT, &mut Fixed).unwrap();
        assert_eq!(
            a, b,
            "randomness is a parameter: same rng output, same bytes"
        );
        assert_eq!(a[1..13], [7; 12]);
        assert_eq!(open(&key, &aad("climate"), &a).unwrap(), PLAINTEXT);
    }
}
