//! Small secrets kept at rest by the server itself — above all TOTP
//! secrets, which must be read back (unlike passwords and tokens, which are
//! stored only as hashes).
//!
//! A [`SecretBox`] is derived from the [`MasterKey`](crate::MasterKey) with
//! its own HKDF label ([`MasterKey::secret_box`](crate::MasterKey::secret_box)),
//! so it shares no key with the keyring or the pseudonyms. A sealed value
//! is `[format version = 1][12-byte random nonce][AES-256-GCM ciphertext]
//! [16-byte tag]`; the associated data is the format version and a purpose
//! label, so a value sealed for one purpose (or one account, when the label
//! names it) does not open under another.

use aes_gcm::Aes256Gcm;
use aes_gcm::aead::KeyInit as _;
use zeroize::Zeroizing;

use crate::Result;
use crate::envelope::{self, VERSION};
use crate::rng::CryptoRng;

/// Domain label at the start of the associated data.
const AAD_LABEL: &[u8] = b"privet/secret-box";

/// Authenticated encryption of small secrets under a key derived from the
/// master key. `Debug` prints `SecretBox(**redacted**)`.
#[derive(Clone)]
pub struct SecretBox {
    /// Keyed once; the key schedule is wiped on drop.
    cipher: Aes256Gcm,
}

impl SecretBox {
    /// The box with this 32-byte key (derived by the master key).
    pub(crate) fn new(key: &[u8; 32]) -> Self {
        Self {
            cipher: Aes256Gcm::new(key.into()),
        }
    }

    /// Encrypts `plaintext` for `purpose_label`, e.g.
    /// `"totp-secret:<account id>"`: naming the row's owner in the label
    /// means a sealed value copied to another account's row fails to open.
    pub fn seal<R: CryptoRng + ?Sized>(
        &self,
        purpose_label: &str,
        plaintext: &[u8],
        rng: &mut R,
    ) -> Result<Vec<u8>> {
        envelope::seal(&self.cipher, &aad(purpose_label), plaintext, rng, "secret")
    }

    /// Decrypts a value sealed by [`SecretBox::seal`] with the same label.
    /// The plaintext is wiped from memory when dropped.
    pub fn open(&self, purpose_label: &str, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        envelope::open(&self.cipher, &aad(purpose_label), sealed, "secret").map(Zeroizing::new)
    }
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(**redacted**)")
    }
}

/// `AAD_LABEL ‖ version ‖ purpose label`. The label comes last, so no
/// length prefix is needed for the encoding to be unambiguous.
fn aad(purpose_label: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(AAD_LABEL.len() + 1 + purpose_label.len());
    aad.extend_from_slice(AAD_LABEL);
    aad.push(VERSION);
    aad.extend_from_slice(purpose_label.as_bytes());
    aad
}

#[cfg(test)]
mod tests {
    use crate::{Error, MasterKey, SEAL_OVERHEAD, os_rng};

    const LABEL: &str = "totp-secret:acct-1";
    const SECRET: &[u8] = b"12345678901234567890";

    #[test]
    fn seal_then_open_round_trips() {
        let mut rng = os_rng();
        let boxed = MasterKey::generate(&mut rng).secret_box();
        let sealed = boxed.seal(LABEL, SECRET, &mut rng).unwrap();
        assert_eq!(sealed.len(), SECRET.len() + SEAL_OVERHEAD);
        assert_eq!(sealed[0], 1, "format version byte");
        assert!(!sealed.windows(SECRET.len()).any(|w| w == SECRET));
        assert_eq!(boxed.open(LABEL, &sealed).unwrap().as_slice(), SECRET);
        let again = boxed.seal(LABEL, SECRET, &mut rng).unwrap();
        assert_ne!(sealed, again, "fresh nonce each time");
    }

    #[test]
    fn the_same_master_key_derives_the_same_box() {
        let mut rng = os_rng();
        let master = MasterKey::generate(&mut rng);
        let sealed = master.secret_box().seal(LABEL, SECRET, &mut rng).unwrap();
        let reread = MasterKey::from_bytes(*master.to_bytes());
        assert_eq!(
            reread.secret_box().open(LABEL, &sealed).unwrap().as_slice(),
            SECRET
        );
    }

    #[test]
    fn any_tampering_is_detected() {
        let mut rng = os_rng();
        let boxed = MasterKey::generate(&mut rng).secret_box();
        let sealed = boxed.seal(LABEL, SECRET, &mut rng).unwrap();
        for i in 1..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 0x01;
            assert!(
                matches!(
                    boxed.open(LABEL, &bad),
                    Err(Error::Decrypt { what: "secret" })
                ),
                "byte {i}"
            );
        }
        for len in 0..sealed.len() {
            assert!(
                boxed.open(LABEL, &sealed[..len]).is_err(),
                "truncated to {len}"
            );
        }
        let mut bad = sealed.clone();
        bad[0] = 2;
        assert!(matches!(
            boxed.open(LABEL, &bad),
            Err(Error::UnknownFormat { version: 2, .. })
        ));
    }

    #[test]
    fn another_label_or_master_key_does_not_open() {
        let mut rng = os_rng();
        let master = MasterKey::generate(&mut rng);
        let sealed = master.secret_box().seal(LABEL, SECRET, &mut rng).unwrap();
        for label in ["totp-secret:acct-2", "totp-secret:acct-1 ", "", "recovery"] {
            assert!(
                master.secret_box().open(label, &sealed).is_err(),
                "{label:?}"
            );
        }
        let other = MasterKey::generate(&mut rng);
        assert!(other.secret_box().open(LABEL, &sealed).is_err());
    }

    #[test]
    fn the_box_key_is_not_the_keyring_key() {
        // A wrapped data key (sealed under the keyring sub-key with its own
        // AAD) must not open as a secret, nor a secret as a record.
        let mut rng = os_rng();
        let master = MasterKey::generate(&mut rng);
        let sealed = master.secret_box().seal("", &[0u8; 32], &mut rng).unwrap();
        let subject = crate::Pseudonym::from_bytes([1; 16]);
        assert!(master.unwrap_data_key(&subject, &sealed).is_err());
    }

    #[test]
    fn debug_is_redacted() {
        let boxed = MasterKey::generate(&mut os_rng()).secret_box();
        assert_eq!(format!("{boxed:?}"), "SecretBox(**redacted**)");
    }
}
