//! Privet's cryptography, pure: no I/O, and randomness is always a
//! parameter (`rng: &mut impl CryptoRng`; the server passes [`os_rng`]).
//!
//! - [`MasterKey`] — an instance master key (`master.key` / `PRIVET_MASTER_KEY`).
//!   It wraps each subject's [`DataKey`] for the keyring and derives, with
//!   HKDF-SHA256, the keys of the [`Pseudonymizer`] and [`FieldHasher`].
//! - [`MasterKeys`] — the master keys by epoch (`epoch:key` entries), so they
//!   can be rotated: wrapped keys and instance secrets name the epoch that
//!   wraps them; retiring an epoch puts every older keyring copy beyond use.
//! - [`InstanceRoot`] — the pseudonym, field-hash and secret-box keys, which
//!   outlive every epoch (kept in the keyring, sealed under the newest one).
//! - [`seal`] / [`open`] — per-subject record encryption (AES-256-GCM,
//!   versioned, AAD = [`RecordAad`]: record id, subject, stream);
//!   [`seal_profile`] / [`open_profile`] for a subject's name and e-mail.
//!   Destroying a subject's wrapped key crypto-shreds all of it.
//! - [`Pseudonym`] — how storage and audit name a subject.
//! - [`generate_token`], [`hash_token`], [`TokenHash`], [`Secret`],
//!   [`ct_eq`] — bearer tokens, stored only as hashes.
//! - [`chain_hash`] / [`AuditHash`] — the audit log's hash chain.
//! - [`SigningKey`] / [`verify_jws`] — Ed25519 JWS receipts and the JWKS.
//! - [`ReleaseKeyPair`] / [`verify_release`] — the maker's offline firmware key;
//!   [`sign_release`] / [`verify_signed_release`] — signed [`ReleaseMetadata`].
//! - [`hash_password`] / [`verify_password`] / [`dummy_verify`] — Argon2id.
//! - [`mosquitto_hash`] / [`verify_mosquitto_hash`] — a device token as a Mosquitto 2.x
//!   password-file entry (`$7$`, PBKDF2-HMAC-SHA512), for a static MQTT broker.
//! - [`TotpSecret`], [`verify_totp`], [`otpauth_uri`], [`qr_svg`] — two-step
//!   verification (RFC 6238); [`generate_recovery_codes`] /
//!   [`hash_recovery_code`] — its recovery codes.
//! - [`SecretBox`] — small secrets at rest (TOTP secrets), under a key
//!   derived from the master key.
//! - [`WebhookSecret`] — an endpoint's `whsec_…` key and its Standard
//!   Webhooks signature (HMAC-SHA256 over `id.timestamp.body`).
//!
//! Secret types redact their `Debug` output and wipe their memory on drop;
//! errors ([`Error`]) never carry key material or plaintext.
//!
//! ```
//! use privet_crypto::{DataKey, MasterKey, RecordAad, open, os_rng, seal};
//!
//! let mut rng = os_rng();
//! let master = MasterKey::generate(&mut rng);
//! let subject = master.pseudonymizer().pseudonym("member-42");
//!
//! // A new subject gets a data key; the keyring stores it wrapped.
//! let key = DataKey::generate(&mut rng);
//! let wrapped = master.wrap_data_key(&subject, &key, &mut rng);
//!
//! // Seal a record, bound to its id, subject and stream.
//! let aad = RecordAad::new([7; 16], subject, "climate");
//! let sealed = seal(&key, &aad, br#"{"temperature_c":20.5}"#, &mut rng)?;
//!
//! // Later: unwrap the subject's key and open the record.
//! let key = master.unwrap_data_key(&subject, &wrapped)?;
//! assert_eq!(open(&key, &aad, &sealed)?, br#"{"temperature_c":20.5}"#);
//!
//! // The same ciphertext under another stream does not open.
//! assert!(open(&key, &RecordAad::new([7; 16], subject, "presence"), &sealed).is_err());
//! # Ok::<(), privet_crypto::Error>(())
//! ```

mod audit;
mod broker_password;
mod encoding;
mod envelope;
mod epochs;
mod error;
mod fingerprint;
mod jws;
mod master;
mod password;
mod pseudonym;
mod record;
mod recovery;
mod release;
mod release_meta;
mod rng;
mod root;
mod secretbox;
mod signing;
mod token;
mod totp;
mod webhook;

pub use audit::{AuditHash, AuditKey, chain_hash};
pub use broker_password::{mosquitto_hash, verify_mosquitto_hash};
pub use epochs::MasterKeys;
pub use error::{Error, JwsError, MasterKeysProblem, Result};
pub use fingerprint::DeliveryKind;
pub use jws::{verify_jws, verify_jws_bytes, verify_jws_with_jwks};
pub use master::MasterKey;
pub use password::{
    ARGON2_M_COST_KIB, ARGON2_P_COST, ARGON2_T_COST, dummy_verify, hash_password, needs_rehash,
    verify_password,
};
pub use pseudonym::{FieldHasher, Pseudonym, Pseudonymizer};
pub use rand_core;
pub use record::{DataKey, RecordAad, SEAL_OVERHEAD, open, open_profile, seal, seal_profile};
pub use recovery::{RECOVERY_CODE_COUNT, generate_recovery_codes, hash_recovery_code};
pub use release::{ReleaseKeyPair, parse_public_key_string, verify_release};
pub use release_meta::{
    ReleaseMetadata, SignedRelease, compare_versions, sha256_hex, sign_release,
    verify_signed_release,
};
pub use rng::{CryptoRng, OsRng, Rng, os_rng};
pub use root::InstanceRoot;
pub use secretbox::SecretBox;
pub use signing::{SigningKey, VerifyingKey};
pub use token::{Secret, TOKEN_RANDOM_CHARS, TokenHash, ct_eq, generate_token, hash_token};
pub use totp::{
    TOTP_DIGITS, TOTP_STEP_SECS, TotpSecret, current_totp_code, otpauth_uri, qr_svg,
    totp_time_step, verify_totp,
};
pub use webhook::WebhookSecret;
