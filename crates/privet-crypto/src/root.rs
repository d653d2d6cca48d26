//! The instance root: the keys that must stay the same across master-key rotations — the
//! [`Pseudonymizer`]'s, the [`FieldHasher`]'s and the [`SecretBox`]'s.
//!
//! Rotating the master key must not change a subject's pseudonym, a hashed field or a sealed
//! TOTP secret, so these keys cannot derive from whichever epoch is newest. They are kept in
//! the keyring as an instance secret, sealed under the newest epoch
//! ([`MasterKeys::seal_secret`](crate::MasterKeys::seal_secret)), and re-sealed by rotation.
//!
//! The root holds the three *derived* sub-keys, never a master key: an installation from
//! before epochs takes its root from epoch 1 ([`InstanceRoot::derive`]), so its pseudonyms
//! stay the same, and if the root held epoch 1's key itself, anyone able to read the live
//! keyring could re-derive epoch 1's wrapping key and unwrap the keyring copies that retiring
//! epoch 1 is meant to put beyond use. HKDF's outputs do not reveal its input, so the root
//! says nothing about any epoch's wrapping key.
//!
//! Encoded form: `[format version = 1][pseudonym key][field-hash key][secret-box key]`, or
//! version 2 with the audit chain's first keyed entry after them (8 bytes, big-endian): kept in
//! the root because the root cannot be deleted or swapped without losing every pseudonym, so
//! where keying began cannot be removed to pass a re-linked unkeyed log off as an old one.

use zeroize::Zeroizing;

use crate::master::{
    INFO_AUDIT_CHAIN, INFO_FIELD_HASH, INFO_PSEUDONYM, INFO_SECRET_BOX, derive_subkey,
};
use crate::rng::CryptoRng;
use crate::{
    AuditKey, Error, FieldHasher, MasterKey, MasterKeys, Pseudonymizer, Result, SecretBox,
};

/// The encoded root's format without where the keyed audit chain begins.
const VERSION: u8 = 1;
/// The encoded root's format with where the keyed audit chain begins.
const VERSION_AUDIT: u8 = 2;

/// The keys that outlive every master-key epoch. `Debug` prints `InstanceRoot(**redacted**)`.
#[derive(Clone)]
pub struct InstanceRoot {
    pseudonym: Zeroizing<[u8; 32]>,
    field_hash: Zeroizing<[u8; 32]>,
    secret_box: Zeroizing<[u8; 32]>,
    /// The first audit entry linked under [`InstanceRoot::audit_key`], once recorded.
    audit_keyed_from: Option<i64>,
}

impl InstanceRoot {
    /// Length of [`InstanceRoot::to_bytes`]'s output without the audit record.
    pub const ENCODED_LEN: usize = 1 + 3 * 32;

    /// The root whose keys are those `master` derives: the same pseudonyms, field hashes and
    /// sealed secrets as `master.pseudonymizer()` and the rest.
    pub fn derive(master: &MasterKey) -> Self {
        Self {
            pseudonym: master.subkey(INFO_PSEUDONYM),
            field_hash: master.subkey(INFO_FIELD_HASH),
            secret_box: master.subkey(INFO_SECRET_BOX),
            audit_keyed_from: None,
        }
    }

    /// A fresh random root.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        Self::derive(&MasterKey::generate(rng))
    }

    /// The root of an instance whose keyring has none yet: derived from epoch 1 when it is
    /// configured (so an installation from before epochs keeps its pseudonyms), else fresh —
    /// but only for a keyring that holds no subject key yet (`keyring_holds_keys` false). A
    /// keyring with keys and no root was written before epochs, by epoch 1: a fresh root would
    /// change every pseudonym, sealed TOTP secret and e-mail for good, so without epoch 1 it
    /// is [`Error::RootNeedsEpoch1`].
    pub fn first<R: CryptoRng + ?Sized>(
        epochs: &MasterKeys,
        keyring_holds_keys: bool,
        rng: &mut R,
    ) -> Result<Self> {
        match epochs.get(1) {
            Some(epoch_1) => Ok(Self::derive(epoch_1)),
            None if keyring_holds_keys => Err(Error::RootNeedsEpoch1),
            None => Ok(Self::generate(rng)),
        }
    }

    /// The encoded root, for sealing into the keyring; wiped from memory when dropped.
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(Self::ENCODED_LEN + 8));
        out.push(match self.audit_keyed_from {
            None => VERSION,
            Some(_) => VERSION_AUDIT,
        });
        out.extend_from_slice(self.pseudonym.as_slice());
        out.extend_from_slice(self.field_hash.as_slice());
        out.extend_from_slice(self.secret_box.as_slice());
        if let Some(seq) = self.audit_keyed_from {
            out.extend_from_slice(&seq.to_be_bytes());
        }
        out
    }

    /// Decodes [`InstanceRoot::to_bytes`]'s output.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let invalid = |reason| Error::InvalidKey {
            what: "instance root",
            reason,
        };
        let Some((&version, keys)) = bytes.split_first() else {
            return Err(invalid("empty"));
        };
        let (keys, audit_keyed_from) = match version {
            VERSION => (keys, None),
            VERSION_AUDIT if keys.len() == 3 * 32 + 8 => {
                let (keys, seq) = keys.split_at(3 * 32);
                let seq = <[u8; 8]>::try_from(seq)
                    .map(i64::from_be_bytes)
                    .map_err(|_| invalid("not 3 keys of 32 bytes and a sequence number"))?;
                (keys, Some(seq))
            }
            VERSION_AUDIT => {
                return Err(invalid("not 3 keys of 32 bytes and a sequence number"));
            }
            _ => {
                return Err(Error::UnknownFormat {
                    what: "instance root",
                    version,
                });
            }
        };
        let key = |i: usize| -> Result<Zeroizing<[u8; 32]>> {
            keys.get(i * 32..(i + 1) * 32)
                .and_then(|k| <[u8; 32]>::try_from(k).ok())
                .map(Zeroizing::new)
                .ok_or_else(|| invalid("not 3 keys of 32 bytes"))
        };
        if keys.len() != 3 * 32 {
            return Err(invalid("not 3 keys of 32 bytes"));
        }
        Ok(Self {
            pseudonym: key(0)?,
            field_hash: key(1)?,
            secret_box: key(2)?,
            audit_keyed_from,
        })
    }

    /// The first audit entry linked under [`InstanceRoot::audit_key`], if recorded (a root
    /// from before the chain was keyed has none until its first open records it).
    pub fn audit_keyed_from(&self) -> Option<i64> {
        self.audit_keyed_from
    }

    /// This root with the keyed audit chain beginning at entry `seq`.
    pub fn with_audit_keyed_from(&self, seq: i64) -> Self {
        Self {
            audit_keyed_from: Some(seq),
            ..self.clone()
        }
    }

    /// The instance's subject pseudonymizer.
    pub fn pseudonymizer(&self) -> Pseudonymizer {
        Pseudonymizer::new(&self.pseudonym)
    }

    /// The instance's hasher for the manifest's `hash` transform.
    pub fn field_hasher(&self) -> FieldHasher {
        FieldHasher::new(&self.field_hash)
    }

    /// The instance's box for small secrets at rest (TOTP secrets).
    pub fn secret_box(&self) -> SecretBox {
        SecretBox::new(&self.secret_box)
    }

    /// The audit chain's key: expanded from the pseudonym key under its own label (HKDF), so
    /// it outlives master-key rotation like the pseudonyms, and a root from before it was
    /// keyed needs no new format.
    pub fn audit_key(&self) -> AuditKey {
        AuditKey::new(&derive_subkey(&self.pseudonym, INFO_AUDIT_CHAIN))
    }
}

impl std::fmt::Debug for InstanceRoot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InstanceRoot(**redacted**)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DataKey, Pseudonym, os_rng};

    #[test]
    fn a_root_derived_from_a_master_key_keeps_its_pseudonyms_hashes_and_secrets() {
        let mut rng = os_rng();
        let master = MasterKey::generate(&mut rng);
        let root = InstanceRoot::derive(&master);
        assert_eq!(
            root.pseudonymizer().pseudonym("member-1"),
            master.pseudonymizer().pseudonym("member-1")
        );
        assert_eq!(
            root.field_hasher().hash("p", "v"),
            master.field_hasher().hash("p", "v")
        );
        let sealed = master
            .secret_box()
            .seal("totp", b"secret", &mut rng)
            .unwrap();
        assert_eq!(
            root.secret_box().open("totp", &sealed).unwrap().as_slice(),
            b"secret"
        );
    }

    #[test]
    fn where_the_keyed_audit_chain_begins_is_kept_in_the_encoded_root() {
        let root = InstanceRoot::generate(&mut os_rng());
        let old = root.to_bytes();
        assert_eq!(old.len(), InstanceRoot::ENCODED_LEN);
        assert_eq!(
            InstanceRoot::from_bytes(&old).unwrap().audit_keyed_from(),
            None
        );
        let keyed = root.with_audit_keyed_from(42);
        let new = keyed.to_bytes();
        assert_eq!(new[0], 2);
        let back = InstanceRoot::from_bytes(&new).unwrap();
        assert_eq!(back.audit_keyed_from(), Some(42));
        assert_eq!(
            back.pseudonymizer().pseudonym("s"),
            root.pseudonymizer().pseudonym("s"),
            "the same keys"
        );
        assert!(InstanceRoot::from_bytes(&new[..new.len() - 1]).is_err());
        assert!(InstanceRoot::from_bytes(&old[..old.len() - 1]).is_err());
    }

    #[test]
    fn the_first_root_comes_from_epoch_1_when_configured() {
        let mut rng = os_rng();
        let one = MasterKey::generate(&mut rng);
        let two = MasterKey::generate(&mut rng);
        let with_1 = MasterKeys::from_epochs([(1, one.clone()), (2, two.clone())]).unwrap();
        for keyring_holds_keys in [false, true] {
            assert_eq!(
                InstanceRoot::first(&with_1, keyring_holds_keys, &mut rng)
                    .unwrap()
                    .pseudonymizer()
                    .pseudonym("s"),
                one.pseudonymizer().pseudonym("s")
            );
        }
        let without_1 = MasterKeys::from_epochs([(2, two.clone())]).unwrap();
        let fresh = InstanceRoot::first(&without_1, false, &mut rng).unwrap();
        let p = fresh.pseudonymizer().pseudonym("s");
        assert_ne!(p, one.pseudonymizer().pseudonym("s"));
        assert_ne!(
            p,
            two.pseudonymizer().pseudonym("s"),
            "not the newest epoch's either"
        );
    }

    #[test]
    fn no_fresh_root_for_a_keyring_that_already_holds_keys() {
        // A keyring from before epochs, first opened with only `2:<the old key>`: its keys
        // exist, its root must come from epoch 1, and a fresh one would silently change every
        // pseudonym. Refused, with a message naming no key.
        let mut rng = os_rng();
        let only_2 = MasterKeys::from_epochs([(2, MasterKey::generate(&mut rng))]).unwrap();
        let err = InstanceRoot::first(&only_2, true, &mut rng).unwrap_err();
        assert!(matches!(err, Error::RootNeedsEpoch1), "{err:?}");
        assert!(err.to_string().contains("configure epoch 1"), "{err}");
        assert!(!err.to_string().contains('\n'), "one line");
    }

    #[test]
    fn encoding_round_trips_and_rejects_bad_input() {
        let root = InstanceRoot::generate(&mut os_rng());
        let bytes = root.to_bytes();
        assert_eq!(bytes.len(), InstanceRoot::ENCODED_LEN);
        let back = InstanceRoot::from_bytes(&bytes).unwrap();
        assert_eq!(
            back.pseudonymizer().pseudonym("x"),
            root.pseudonymizer().pseudonym("x")
        );
        assert_eq!(
            back.field_hasher().hash("p", "v"),
            root.field_hasher().hash("p", "v")
        );
        for len in 0..bytes.len() {
            assert!(InstanceRoot::from_bytes(&bytes[..len]).is_err(), "{len}");
        }
        let mut longer = bytes.to_vec();
        longer.push(0);
        assert!(InstanceRoot::from_bytes(&longer).is_err());
        let mut other_version = bytes.to_vec();
        other_version[0] = 3;
        assert!(matches!(
            InstanceRoot::from_bytes(&other_version),
            Err(Error::UnknownFormat { version: 3, .. })
        ));
    }

    #[test]
    fn the_root_never_holds_a_master_key_that_unwraps_the_keyring() {
        // Epoch 1's key wrapped subjects' keys before a rotation; its root lives on in the
        // keyring after epoch 1 is retired. No part of the root may serve as epoch 1's key —
        // neither as a master key (re-derived by HKDF) nor as the wrapping sub-key itself,
        // used directly as the AES-256-GCM key — for wrapped keys or for sealed secrets.
        let mut rng = os_rng();
        let epoch_1 = MasterKey::generate(&mut rng);
        let subject = Pseudonym::from_bytes([4; 16]);
        let wrapped = epoch_1.wrap_data_key(&subject, &DataKey::generate(&mut rng), &mut rng);
        let epochs = MasterKeys::single(epoch_1.clone());
        let tagged = epochs.wrap_data_key(&subject, &DataKey::generate(&mut rng), &mut rng);
        let sealed = epochs.seal_secret("root-key", b"secret", &mut rng).unwrap();
        let root = InstanceRoot::derive(&epoch_1).to_bytes();
        let master = epoch_1.to_bytes();
        let wrap_key = epoch_1.wrap_subkey();
        assert!(!root.windows(32).any(|w| w == master.as_slice()));
        assert!(!root.windows(32).any(|w| w == wrap_key.as_slice()));

        // The direct attempt can succeed: with the real wrapping sub-key it opens everything.
        let direct = MasterKey::with_wrap_key(&wrap_key);
        assert!(direct.unwrap_data_key(&subject, &wrapped).is_ok());
        let direct_epochs = MasterKeys::single(direct);
        assert!(direct_epochs.unwrap_data_key(&subject, &tagged).is_ok());
        assert!(direct_epochs.open_secret("root-key", &sealed).is_ok());

        let mut tried = 0;
        for window in root.windows(32) {
            let Ok(candidate) = <[u8; 32]>::try_from(window) else {
                continue;
            };
            for as_key in [
                MasterKey::from_bytes(candidate),
                MasterKey::with_wrap_key(&candidate),
            ] {
                assert!(as_key.unwrap_data_key(&subject, &wrapped).is_err());
                let as_epoch = MasterKeys::single(as_key);
                assert!(as_epoch.unwrap_data_key(&subject, &tagged).is_err());
                assert!(as_epoch.open_secret("root-key", &sealed).is_err());
            }
            tried += 1;
        }
        assert_eq!(
            tried,
            InstanceRoot::ENCODED_LEN - 31,
            "every 32-byte window"
        );
    }

    #[test]
    fn debug_is_redacted() {
        let root = InstanceRoot::generate(&mut os_rng());
        assert_eq!(format!("{root:?}"), "InstanceRoot(**redacted**)");
    }
}
