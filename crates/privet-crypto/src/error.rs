//! The crate's one error type.
//!
//! No variant ever carries key material, plaintext or a token: errors end up
//! in logs and problem+json bodies.

/// Everything that can go wrong in `privet-crypto`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Authenticated decryption failed: wrong key, wrong associated data
    /// (another record, subject or stream), tampered or truncated input.
    #[error("cannot decrypt {what}: wrong key or associated data, or tampered or truncated data")]
    Decrypt {
        /// What was being decrypted ("record", "profile", "wrapped data key").
        what: &'static str,
    },
    /// The leading format version byte is not one this build understands.
    #[error("unknown {what} format version {version}")]
    UnknownFormat {
        /// What was being decoded.
        what: &'static str,
        /// The version byte found.
        version: u8,
    },
    /// The input is longer than the cipher can encrypt under one nonce.
    #[error("{what} too long to encrypt ({len} bytes)")]
    TooLong {
        /// What was being encrypted.
        what: &'static str,
        /// Its length in bytes.
        len: usize,
    },
    /// A key could not be parsed or has the wrong length.
    #[error("invalid {what}: {reason}")]
    InvalidKey {
        /// Which key ("master key", "release public key", …).
        what: &'static str,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// The master-key configuration (`PRIVET_MASTER_KEY`, a key file) is not valid. Says
    /// which entry, never what it holds: the text is key material.
    #[error("invalid master keys: {0}")]
    MasterKeys(#[from] MasterKeysProblem),
    /// A wrapped key or instance secret names a master-key epoch this instance is not
    /// configured with (retired, or not yet added here).
    #[error("{what} is wrapped under master-key epoch {epoch}, which is not configured")]
    EpochNotConfigured {
        /// What was being unwrapped ("wrapped data key", "instance secret").
        what: &'static str,
        /// The epoch the blob names.
        epoch: u32,
    },
    /// This instance's key for a master-key epoch is not the key that epoch was first used
    /// with in the keyring (its check value, or something the keyring holds under it, does not
    /// open): a paste error, or another instance's different key. Names the epoch, never a key.
    #[error(
        "the key configured for master-key epoch {epoch} is not the one the keyring's epoch {epoch} was made with: every instance needs the same key for each epoch (docs/keyring-rotation.md)"
    )]
    WrongEpochKey {
        /// The epoch whose key differs.
        epoch: u32,
    },
    /// The keyring holds subjects' keys but no instance root, and epoch 1 is not configured:
    /// the keyring was written before epochs, so its root must derive from epoch 1 (a fresh
    /// one would change every pseudonym, sealed TOTP secret and e-mail for good).
    #[error(
        "the keyring holds keys but no instance root (it was written before master-key epochs): configure epoch 1, the master key it was first written with, so its pseudonyms and sealed secrets stay the same"
    )]
    RootNeedsEpoch1,
    /// A non-secret value (pseudonym, hash) could not be parsed.
    #[error("invalid {what}: {reason}")]
    Parse {
        /// Which value ("pseudonym", "token hash", "audit hash").
        what: &'static str,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// A signature did not verify.
    #[error("{what} signature does not verify")]
    BadSignature {
        /// What was signed ("release").
        what: &'static str,
    },
    /// A JWS could not be parsed or verified.
    #[error("invalid JWS: {0}")]
    Jws(#[from] JwsError),
    /// Argon2 could not hash or verify a password: it refused the stored
    /// hash's parameters or could not allocate its memory. Never says
    /// anything about the password.
    #[error("password hashing failed: {reason}")]
    PasswordHash {
        /// Why it failed.
        reason: &'static str,
    },
    /// Signed data (e.g. release metadata) is past its expiry time.
    #[error("{what} expired at {expires}")]
    Expired {
        /// What expired ("release metadata").
        what: &'static str,
        /// When it expired.
        expires: jiff::Timestamp,
    },
}

/// What is wrong with a master-key configuration. Entries are counted from 1 in the order
/// written; no variant carries any of the text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MasterKeysProblem {
    /// Nothing but whitespace and comments.
    #[error("no master key given")]
    Empty,
    /// An entry's key is not 32 bytes as base64 or 64 hex digits.
    #[error("entry {entry} is not a key (32 bytes as base64 or 64 hex digits)")]
    NotAKey {
        /// Which entry.
        entry: usize,
    },
    /// Several entries, and this one has no `epoch:` prefix.
    #[error("entry {entry} has no epoch: with several keys, write each as `epoch:key`")]
    NoEpoch {
        /// Which entry.
        entry: usize,
    },
    /// The epoch before `:` is not a whole number from 1 to 4294967295.
    #[error("entry {entry}: the epoch before `:` must be a whole number from 1 to 4294967295")]
    BadEpoch {
        /// Which entry.
        entry: usize,
    },
    /// Two entries name the same epoch.
    #[error("epoch {epoch} is given twice")]
    DuplicateEpoch {
        /// The epoch.
        epoch: u32,
    },
    /// Two epochs have the same key: retiring one would retire nothing.
    #[error("epochs {first} and {second} have the same key; each epoch needs a key of its own")]
    SameKey {
        /// The older epoch.
        first: u32,
        /// The newer epoch.
        second: u32,
    },
}

/// Why a JWS (compact serialisation) was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JwsError {
    /// Not three base64url parts, or a part is not valid base64url / JSON.
    #[error("malformed {part}")]
    Malformed {
        /// Which part ("compact serialisation", "header", "payload", "signature").
        part: &'static str,
    },
    /// The protected header names an algorithm other than `EdDSA`, or
    /// carries a `crit` member we cannot honour.
    #[error("unsupported header: only {{\"alg\":\"EdDSA\"}} without \"crit\" is accepted")]
    UnsupportedHeader,
    /// The header's `kid` is not the verifying key's thumbprint.
    #[error("key id does not match the verifying key")]
    KeyIdMismatch,
    /// No key in the JWKS has the header's `kid`.
    #[error("no key with the header's key id in the key set")]
    UnknownKeyId,
    /// The signature does not verify.
    #[error("signature does not verify")]
    BadSignature,
    /// The JWK is not an Ed25519 public key (`kty` `OKP`, `crv` `Ed25519`, 32-byte `x`).
    #[error("not an Ed25519 public JWK")]
    InvalidJwk,
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
