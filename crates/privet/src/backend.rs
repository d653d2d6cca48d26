//! Where a command's data lives, and opening it: one place that knows every backend (Garage's
//! pattern). `--data DIR` is the embedded SQLite store; `--database-url` names a backend by URL
//! (`sqlite:DIR` today, `postgres://…` with the PostgreSQL backend). The server and the
//! services see only the `Store` and `Keyring` traits.

use crate::cli::DataArgs;
use crate::instance_keys;
use anyhow::{Context, bail};
use privet_crypto::{MasterKey, SigningKey};
use privet_store::{Keyring, Store};
use privet_store_sqlite::{DirLock, SqliteDir, SqliteStore};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A backend, by where it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Location {
    /// The embedded SQLite store in a data directory.
    Sqlite(PathBuf),
}

impl Location {
    /// From `--database-url` when given, else `--data`.
    pub(crate) fn from_args(data: &DataArgs) -> anyhow::Result<Location> {
        match &data.database_url {
            Some(url) => Location::parse(url),
            None => Ok(Location::Sqlite(data.dir.clone())),
        }
    }

    /// Parses a backend URL: `sqlite:DIR` (also `sqlite://DIR`).
    pub(crate) fn parse(url: &str) -> anyhow::Result<Location> {
        let url = url.trim();
        if let Some(rest) = url.strip_prefix("sqlite:") {
            let dir = rest.strip_prefix("//").unwrap_or(rest);
            if dir.is_empty() {
                bail!("--database-url sqlite:DIR needs the data directory after `sqlite:`");
            }
            return Ok(Location::Sqlite(PathBuf::from(dir)));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            bail!(
                "--database-url: the PostgreSQL backend is not part of this build yet; use the embedded SQLite store (--data DIR)"
            );
        }
        bail!("--database-url must start with sqlite: (a data directory) or postgres://")
    }

    /// The data directory, for what only the embedded store has (backup files, the lock).
    pub(crate) fn data_dir(&self) -> &Path {
        match self {
            Location::Sqlite(dir) => dir,
        }
    }
}

/// A backend opened, with the instance's keys.
pub(crate) struct Opened {
    /// The data store.
    pub(crate) store: Arc<dyn Store>,
    /// The keyring.
    pub(crate) keyring: Arc<dyn Keyring>,
    /// The SQLite store itself, for backups.
    pub(crate) sqlite: Arc<SqliteStore>,
    /// The instance master key.
    pub(crate) master: MasterKey,
    /// The instance signing key.
    pub(crate) signing: SigningKey,
}

impl Opened {
    /// The parts a server is made of, with these products and clock.
    pub(crate) fn into_parts(
        self,
        products: privet_server::Products,
        clock: privet_server::Clock,
    ) -> privet_server::Parts {
        privet_server::Parts {
            store: self.store,
            keyring: self.keyring,
            master: self.master,
            signing: self.signing,
            products,
            clock,
        }
    }
}

/// Opens the backend at `location` with the instance keys (`PRIVET_MASTER_KEY` or
/// `master.key`, and `signing.key`, created on first use).
pub(crate) fn open(location: &Location) -> anyhow::Result<Opened> {
    match location {
        Location::Sqlite(dir) => {
            // A malformed key in the environment is refused before the directory is created.
            instance_keys::master_from_env()?;
            let opened = SqliteDir::open(dir)
                .with_context(|| format!("cannot open data directory {}", dir.display()))?;
            let keys = instance_keys::load(dir)?;
            let store = Arc::new(opened.store);
            Ok(Opened {
                store: store.clone(),
                keyring: Arc::new(opened.keyring),
                sqlite: store,
                master: keys.master,
                signing: keys.signing,
            })
        }
    }
}

/// Takes the data directory's exclusive lock (held while serving, and by restore), creating
/// the directory when missing.
pub(crate) fn lock(location: &Location) -> anyhow::Result<DirLock> {
    Ok(SqliteDir::lock(location.data_dir())?)
}

/// Refuses a restore that could not succeed, before anything is locked or created: the
/// directory must hold the keyring the backup is readable with, and a key given in the
/// environment must be a key.
pub(crate) fn check_restore_target(location: &Location) -> anyhow::Result<()> {
    match location {
        Location::Sqlite(dir) => {
            if !dir.join(privet_store_sqlite::KEYRING_FILE).is_file() {
                return Err(privet_store_sqlite::SqliteDirError::NoKeyring(dir.clone()).into());
            }
        }
    }
    instance_keys::master_from_env()?;
    Ok(())
}
