//! The instance's own keys: the master keys by epoch (`--master-key-file`, `PRIVET_MASTER_KEY`
//! or `master.key`, in that order) that wrap subject keys, the instance root kept in the
//! keyring under them (pseudonyms, hashed fields, sealed secrets), and the signing key of
//! receipts (`signing.key`, or on PostgreSQL one shared through the keyring). Files are created
//! on first use with mode 0600; `master.key` only when no master keys are given otherwise.
//!
//! On the embedded store, rotating the master key only protects copies of the data directory
//! when the master keys are kept outside it (`--master-key-file` or `PRIVET_MASTER_KEY`): a
//! copy that includes `master.key` holds the retired key beside the keyring.
//!
//! Master keys are one bare key (epoch 1: what every installation had before epochs) or
//! `epoch:key` entries separated by commas, whitespace or newlines, `#` comments allowed
//! (docs/keyring-rotation.md). A `master.key` of exactly 32 bytes is the raw key written on
//! first start: epoch 1. Errors name the entry at fault, never its text.

use anyhow::{Context, bail};
use privet_crypto::{
    Error as CryptoError, InstanceRoot, MasterKey, MasterKeys, SigningKey, os_rng,
};
use privet_server::Clock;
use privet_server::service::error::ServiceError;
use privet_server::service::instance_secrets;
use privet_store::Keyring;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::Duration;

/// The rotation period when neither the keyring nor `--key-rotation-days` gives one: 30 days.
pub(crate) const DEFAULT_ROTATION_DAYS: u32 = {
    let days = privet_server::config::DEFAULT_KEY_ROTATION_PERIOD.as_secs() / (24 * 60 * 60);
    // A handful of days: always fits.
    days as u32
};
const DAY_SECS: u64 = 24 * 60 * 60;

/// The keys of one instance kept outside the keyring.
pub(crate) struct InstanceKeys {
    /// Wrap subject keys and the instance secrets, by epoch.
    pub(crate) epochs: MasterKeys,
    /// Signs receipts.
    pub(crate) signing: SigningKey,
}

/// Writes a new key file with mode 0600; refuses to replace one.
fn create_key_file(path: &Path, key: &[u8; 32]) -> anyhow::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    f.write_all(key)
        .and_then(|()| f.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Reads a 32-byte key file, or creates it with fresh random bytes (mode 0600).
fn key_file(path: &Path, create: impl FnOnce() -> [u8; 32]) -> anyhow::Result<[u8; 32]> {
    match std::fs::read(path) {
        Ok(bytes) => match <[u8; 32]>::try_from(bytes.as_slice()) {
            Ok(key) => Ok(key),
            Err(_) => bail!("{} is not a valid key (32 bytes)", path.display()),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = create();
            create_key_file(path, &key)?;
            Ok(key)
        }
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// The master keys in a file's bytes: exactly 32 bytes are a raw key (epoch 1, as `master.key`
/// is written on first start), anything else is the text form.
fn parse_master_file(path: &Path, bytes: &[u8]) -> anyhow::Result<MasterKeys> {
    if let Ok(raw) = <[u8; 32]>::try_from(bytes) {
        return Ok(MasterKeys::single(MasterKey::from_bytes(raw)));
    }
    let Ok(text) = std::str::from_utf8(bytes) else {
        bail!(
            "{} holds neither a 32-byte key nor master keys as text (`epoch:key` entries)",
            path.display()
        );
    };
    MasterKeys::parse(text).with_context(|| format!("{}", path.display()))
}

/// `master.key` in the data directory, created with one fresh key (epoch 1) when missing.
fn master_key_file(path: &Path) -> anyhow::Result<MasterKeys> {
    match std::fs::read(path) {
        Ok(bytes) => parse_master_file(path, &bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = MasterKey::generate(&mut os_rng());
            create_key_file(path, &key.to_bytes())?;
            Ok(MasterKeys::single(key))
        }
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// The master keys given in `PRIVET_MASTER_KEY`, if any; an error when it is set but not
/// master keys, so commands can refuse before they touch the data directory.
pub(crate) fn master_from_env() -> anyhow::Result<Option<MasterKeys>> {
    match std::env::var("PRIVET_MASTER_KEY") {
        Ok(text) => MasterKeys::parse(&text)
            .map(Some)
            .context("PRIVET_MASTER_KEY"),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => {
            bail!("PRIVET_MASTER_KEY is not valid master keys (not UTF-8)")
        }
    }
}

/// The master keys from `file` when given, else from `PRIVET_MASTER_KEY`; `None` when neither
/// is set. Never generated: instances sharing a database must all have the same ones.
pub(crate) fn master_given(file: Option<&Path>) -> anyhow::Result<Option<MasterKeys>> {
    let Some(file) = file else {
        return master_from_env();
    };
    let bytes = std::fs::read(file)
        .with_context(|| format!("cannot read the master key file {}", file.display()))?;
    parse_master_file(file, &bytes).map(Some)
}

/// The keys of the instance in `dir`: the master keys from `master_file` when given, else
/// from `PRIVET_MASTER_KEY` when set, else from `master.key` in `dir` (made when missing).
pub(crate) fn load(dir: &Path, master_file: Option<&Path>) -> anyhow::Result<InstanceKeys> {
    let in_dir = dir.join("master.key");
    let epochs = match master_given(master_file)? {
        Some(keys) => {
            if in_dir.exists() {
                // Not read, but still there: every copy of the directory holds it.
                eprintln!(
                    "warning: {} is not used (the master keys are given elsewhere) but is still in the data directory, so every copy of the directory holds it: once its key is in your key file, delete it",
                    in_dir.display()
                );
            }
            keys
        }
        None => master_key_file(&in_dir)?,
    };
    let signing = SigningKey::from_seed(key_file(&dir.join("signing.key"), || {
        *SigningKey::generate(&mut os_rng()).seed_bytes()
    })?);
    Ok(InstanceKeys { epochs, signing })
}

/// The instance root from the keyring, made there on its first open, once every configured
/// epoch's key is checked against the keyring (an instance with a different key for an epoch
/// is refused, the epoch named).
pub(crate) async fn root(
    keyring: &dyn Keyring,
    epochs: &MasterKeys,
) -> anyhow::Result<InstanceRoot> {
    match instance_secrets::root(keyring, epochs, Clock::from_env().now()).await {
        Ok(root) => Ok(root),
        // These say what is wrong and what to do, in one line of their own.
        Err(
            e @ ServiceError::Crypto(
                CryptoError::WrongEpochKey { .. } | CryptoError::RootNeedsEpoch1,
            ),
        ) => Err(anyhow::Error::new(e)),
        Err(e) => Err(anyhow::Error::new(e)).with_context(|| {
            format!(
                "cannot open the keyring's root key with the configured master-key epochs {:?}: every instance needs the epochs the keyring is wrapped under (docs/keyring-rotation.md)",
                epochs.epochs()
            )
        }),
    }
}

/// Days as a duration.
pub(crate) fn days(n: u32) -> Duration {
    Duration::from_secs(u64::from(n) * DAY_SECS)
}

/// A period in days, for people (rounded up: a period is never shown shorter than it is).
pub(crate) fn in_days(period: Duration) -> u64 {
    period.as_secs().div_ceil(DAY_SECS)
}

/// The rotation period this instance signs receipts with: the keyring's, kept there by the
/// first instance to start. `requested_days` (`--key-rotation-days`) sets it when the keyring
/// keeps none yet; a different one is refused, so that no two instances promise different
/// dates (change it with `privet keyring rotate --every-days N`).
pub(crate) async fn rotation_period(
    keyring: &dyn Keyring,
    requested_days: Option<u32>,
) -> anyhow::Result<Duration> {
    let otherwise = days(requested_days.unwrap_or(DEFAULT_ROTATION_DAYS));
    let kept = instance_secrets::rotation_period(keyring, otherwise)
        .await
        .context("cannot read the rotation period kept in the keyring")?;
    if let Some(n) = requested_days
        && kept != days(n)
    {
        bail!(
            "--key-rotation-days {n} differs from the rotation period every instance uses, kept in the keyring: {} days; start without it, or change it for all with `privet keyring rotate --every-days {n}`",
            in_days(kept)
        );
    }
    Ok(kept)
}

/// The receipt signing key that instances sharing the keyring all use (made by the first).
pub(crate) async fn shared_signing_key(
    keyring: &dyn Keyring,
    epochs: &MasterKeys,
) -> anyhow::Result<SigningKey> {
    instance_secrets::shared_signing_key(keyring, epochs)
        .await
        .context("cannot open the keyring's signing key with the configured master-key epochs: every instance must have the same master keys")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(n: u8) -> [u8; 32] {
        [n; 32]
    }

    #[test]
    fn a_32_byte_master_key_file_is_epoch_1_and_text_may_hold_epochs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        std::fs::write(&path, raw(7)).unwrap();
        let keys = master_key_file(&path).unwrap();
        assert_eq!(keys.epochs(), vec![1]);

        let hex = |n: u8| format!("{n:02x}").repeat(32);
        std::fs::write(&path, format!("# rotated\n1:{}\n2:{}\n", hex(7), hex(8))).unwrap();
        let keys = master_key_file(&path).unwrap();
        assert_eq!(keys.epochs(), vec![1, 2]);
        assert_eq!(keys.newest_epoch(), 2);
    }

    #[test]
    fn a_bad_master_key_file_names_the_entry_not_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        let good = "ab".repeat(32);
        std::fs::write(&path, format!("1:{good}\n2:{}\n", &good[..60])).unwrap();
        let err = format!("{:#}", master_key_file(&path).err().unwrap());
        assert!(err.contains("entry 2 is not a key"), "{err}");
        assert!(!err.contains(&good[..16]), "{err}");
    }

    #[test]
    fn a_missing_master_key_file_is_made_once_with_mode_0600() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        let made = master_key_file(&path).unwrap();
        let mode = std::fs::metadata(&path)
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or(0);
        assert_eq!(mode, 0o600);
        assert_eq!(std::fs::read(&path).map(|b| b.len()).unwrap_or(0), 32);
        let again = master_key_file(&path).unwrap();
        let p = |k: &MasterKeys| k.get(1).map(|m| m.pseudonymizer().pseudonym("s"));
        assert_eq!(p(&made), p(&again));
    }
}
