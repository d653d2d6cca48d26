//! The instance's own keys: the master key (`PRIVET_MASTER_KEY`, or `master.key`) that wraps
//! subject keys and derives pseudonyms, and the signing key (`signing.key`) of receipts. Files
//! are created on first use with mode 0600.

use anyhow::{Context, bail};
use privet_crypto::{MasterKey, SigningKey, os_rng};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// The keys of one instance.
pub(crate) struct InstanceKeys {
    /// Wraps subject keys; derives pseudonyms.
    pub(crate) master: MasterKey,
    /// Signs receipts.
    pub(crate) signing: SigningKey,
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
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
                .with_context(|| format!("cannot create {}", path.display()))?;
            f.write_all(&key)
                .and_then(|()| f.sync_all())
                .with_context(|| format!("cannot write {}", path.display()))?;
            Ok(key)
        }
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// The master key given in `PRIVET_MASTER_KEY`, if any; an error when it is set but not a key,
/// so commands can refuse before they touch the data directory.
pub(crate) fn master_from_env() -> anyhow::Result<Option<MasterKey>> {
    match std::env::var("PRIVET_MASTER_KEY") {
        Ok(encoded) => MasterKey::from_encoded(&encoded)
            .map(Some)
            .map_err(|_| anyhow::anyhow!("PRIVET_MASTER_KEY is not a valid key")),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => bail!("PRIVET_MASTER_KEY is not a valid key"),
    }
}

/// The keys kept in `dir` (the master key from `PRIVET_MASTER_KEY` when set).
pub(crate) fn load(dir: &Path) -> anyhow::Result<InstanceKeys> {
    let master = match master_from_env()? {
        Some(key) => key,
        None => MasterKey::from_bytes(key_file(&dir.join("master.key"), || {
            *MasterKey::generate(&mut os_rng()).to_bytes()
        })?),
    };
    let signing = SigningKey::from_seed(key_file(&dir.join("signing.key"), || {
        *SigningKey::generate(&mut os_rng()).seed_bytes()
    })?);
    Ok(InstanceKeys { master, signing })
}
