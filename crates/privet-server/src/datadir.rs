//! The data directory: opening or creating `privet.db`, `keyring.db`, `master.key` and
//! `signing.key`, every file readable by its owner only.

use privet_crypto::{MasterKey, SigningKey, os_rng};
use privet_store::sqlite::{SqliteKeyring, SqliteStore};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Why the data directory could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum DataDirError {
    /// A file could not be created or read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A key file or `PRIVET_MASTER_KEY` is malformed.
    #[error("{what} is not a valid key")]
    BadKey {
        /// Which key.
        what: String,
    },
    /// The store failed to open.
    #[error(transparent)]
    Store(#[from] privet_store::Error),
}

/// Everything opened from a data directory.
pub struct DataDir {
    /// The directory.
    pub path: PathBuf,
    /// `privet.db`.
    pub store: SqliteStore,
    /// `keyring.db`.
    pub keyring: SqliteKeyring,
    /// The instance master key.
    pub master: MasterKey,
    /// The instance signing key (receipts).
    pub signing: SigningKey,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> DataDirError + '_ {
    move |source| DataDirError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Reads a 32-byte key file, or creates it with fresh random bytes (mode 0600).
fn key_file(path: &Path, create: impl FnOnce() -> [u8; 32]) -> Result<[u8; 32], DataDirError> {
    match std::fs::read(path) {
        Ok(bytes) => bytes
            .as_slice()
            .try_into()
            .map_err(|_| DataDirError::BadKey {
                what: path.display().to_string(),
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = create();
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
                .map_err(io(path))?;
            f.write_all(&key).map_err(io(path))?;
            f.sync_all().map_err(io(path))?;
            Ok(key)
        }
        Err(e) => Err(io(path)(e)),
    }
}

impl DataDir {
    /// Opens `path`, creating it and its files on first use. `master_key` (from
    /// `PRIVET_MASTER_KEY`) replaces `master.key` when given.
    pub fn open(path: &Path, master_key: Option<&str>) -> Result<DataDir, DataDirError> {
        if !path.exists() {
            std::fs::create_dir_all(path).map_err(io(path))?;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))
                .map_err(io(path))?;
        }
        let master = match master_key {
            Some(encoded) => {
                MasterKey::from_encoded(encoded).map_err(|_| DataDirError::BadKey {
                    what: "PRIVET_MASTER_KEY".to_owned(),
                })?
            }
            None => MasterKey::from_bytes(key_file(&path.join("master.key"), || {
                *MasterKey::generate(&mut os_rng()).to_bytes()
            })?),
        };
        let signing = SigningKey::from_seed(key_file(&path.join("signing.key"), || {
            *SigningKey::generate(&mut os_rng()).seed_bytes()
        })?);
        let store = SqliteStore::open(&path.join("privet.db"))?;
        let keyring = SqliteKeyring::open(&path.join("keyring.db"))?;
        Ok(DataDir {
            path: path.to_owned(),
            store,
            keyring,
            master,
            signing,
        })
    }
}
