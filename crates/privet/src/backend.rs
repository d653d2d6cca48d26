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

/// The data directory when neither a flag nor the environment names one.
const DEFAULT_DATA_DIR: &str = "privet-data";

/// A backend, by where it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Location {
    /// The embedded SQLite store in a data directory.
    Sqlite(PathBuf),
}

impl Location {
    /// From `--data` or `--database-url` when one is given (clap refuses both), else from
    /// `PRIVET_DATA` or `PRIVET_DATABASE_URL` (refused when both are set), else
    /// `./privet-data`.
    pub(crate) fn from_args(data: &DataArgs) -> anyhow::Result<Location> {
        let env = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        Location::resolve(
            data,
            env("PRIVET_DATA").map(PathBuf::from),
            env("PRIVET_DATABASE_URL"),
        )
    }

    /// [`Location::from_args`] with the environment given.
    fn resolve(
        data: &DataArgs,
        env_dir: Option<PathBuf>,
        env_url: Option<std::ffi::OsString>,
    ) -> anyhow::Result<Location> {
        if let Some(dir) = &data.dir {
            return Ok(Location::Sqlite(dir.clone()));
        }
        if let Some(url) = &data.database_url {
            return Location::parse(url);
        }
        match (env_dir, env_url) {
            (Some(_), Some(_)) => bail!(
                "both PRIVET_DATA and PRIVET_DATABASE_URL are set; unset one, or name the backend with --data or --database-url"
            ),
            (Some(dir), None) => Ok(Location::Sqlite(dir)),
            (None, Some(url)) => match url.to_str() {
                Some(url) => Location::parse(url),
                None => bail!("PRIVET_DATABASE_URL is not valid UTF-8"),
            },
            (None, None) => Ok(Location::Sqlite(PathBuf::from(DEFAULT_DATA_DIR))),
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
            // Other tools' SQLite URLs carry options and in-memory names; here the part after
            // `sqlite:` is a directory, so those are refused rather than made into one.
            if dir.contains(['?', '#']) || dir == ":memory:" {
                bail!(
                    "--database-url sqlite:DIR names a data directory; query strings, fragments and :memory: are not supported"
                );
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
            with_keys(opened)
        }
    }
}

/// Puts the backup `file` in place under `lock` and opens the directory, no other command
/// able to open it until the returned backend is dropped.
pub(crate) fn install_and_open(lock: &DirLock, file: &Path) -> anyhow::Result<Opened> {
    let installed = lock.install_backup(file)?;
    let dir = lock.dir().to_owned();
    let opened = installed
        .open()
        .with_context(|| format!("cannot open data directory {}", dir.display()))?;
    with_keys(opened)
}

/// A data directory opened, with the instance's keys.
fn with_keys(opened: SqliteDir) -> anyhow::Result<Opened> {
    let keys = instance_keys::load(&opened.path)?;
    let store = Arc::new(opened.store);
    Ok(Opened {
        store: store.clone(),
        keyring: Arc::new(opened.keyring),
        sqlite: store,
        master: keys.master,
        signing: keys.signing,
    })
}

/// Takes the data directory's exclusive lock (held while serving, and by restore), creating
/// the directory when missing.
pub(crate) fn lock(location: &Location) -> anyhow::Result<DirLock> {
    // A malformed key in the environment is refused before the directory is created.
    instance_keys::master_from_env()?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn args(dir: Option<&str>, url: Option<&str>) -> DataArgs {
        DataArgs {
            dir: dir.map(PathBuf::from),
            database_url: url.map(str::to_owned),
        }
    }

    fn sqlite(dir: &str) -> Location {
        Location::Sqlite(PathBuf::from(dir))
    }

    #[test]
    fn a_flag_overrides_either_variable_and_two_variables_are_refused() {
        let env_dir = || Some(PathBuf::from("env-dir"));
        let env_url = || Some(std::ffi::OsString::from("sqlite:env-url"));
        let at = |a: DataArgs, d, u| Location::resolve(&a, d, u).map_err(|e| e.to_string());
        assert_eq!(at(args(None, None), None, None), Ok(sqlite("privet-data")));
        assert_eq!(at(args(None, None), env_dir(), None), Ok(sqlite("env-dir")));
        assert_eq!(at(args(None, None), None, env_url()), Ok(sqlite("env-url")));
        assert_eq!(
            at(args(Some("flag"), None), None, env_url()),
            Ok(sqlite("flag"))
        );
        assert_eq!(
            at(args(None, Some("sqlite:flag-url")), env_dir(), None),
            Ok(sqlite("flag-url"))
        );
        let both = at(args(None, None), env_dir(), env_url());
        assert!(
            both.as_ref().is_err_and(|e| e.contains("both PRIVET_DATA")),
            "{both:?}"
        );
    }

    #[test]
    fn urls_name_a_directory_or_are_refused() {
        let parse = |u: &str| Location::parse(u).map_err(|e| e.to_string());
        assert_eq!(parse("sqlite:d"), Ok(sqlite("d")));
        assert_eq!(parse("sqlite:///abs/d"), Ok(sqlite("/abs/d")));
        assert!(parse("sqlite:").is_err());
        assert!(parse("sqlite::memory:").is_err());
        assert!(parse("sqlite:///x?mode=rwc").is_err());
        assert!(parse("postgres://h/db").is_err_and(|e| e.contains("not part of this build")));
        assert!(parse("mysql://h").is_err());
    }
}
