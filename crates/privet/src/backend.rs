//! Where a command's data lives, and opening it: one place that knows every backend (Garage's
//! pattern). `--data DIR` is the embedded SQLite store; `--database-url` names a backend by URL:
//! `sqlite:DIR`, or `postgres://…` for the deployment backend that several instances share.
//! The server and the services see only the `Store` and `Keyring` traits.
//!
//! The master keys come from `--master-key-file` or `PRIVET_MASTER_KEY`; on the embedded store
//! only when neither is given, from `master.key` in the data directory (made on first start).
//! Keep them outside the directory where a copy of it matters: a copy that includes
//! `master.key` is readable with it, whatever rotation retired (docs/keyring-rotation.md).
//!
//! On PostgreSQL nothing secret is generated per instance: the master keys must be given
//! (the same epochs on every instance), and the
//! receipt signing key is made by the first instance and kept in the keyring, sealed under the
//! newest master-key epoch, so every instance signs with it and rotation re-seals it. On both
//! backends the instance root (pseudonyms, hashed fields, sealed secrets) is kept in the
//! keyring the same way (`instance_keys::root`).

use crate::cli::DataArgs;
use crate::instance_keys;
use anyhow::{Context, bail};
use privet_crypto::{InstanceRoot, MasterKey, MasterKeys, SigningKey, os_rng};
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
    Sqlite {
        /// The data directory.
        dir: PathBuf,
        /// A file holding the master keys, which wins over `PRIVET_MASTER_KEY` and the
        /// directory's `master.key`.
        master_key_file: Option<PathBuf>,
    },
    /// A PostgreSQL database that several instances may share.
    Postgres(Pg),
}

/// Where a PostgreSQL backend is, and where its instance keys come from.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Pg {
    /// The data database.
    pub(crate) url: String,
    /// Another database for the keyring; by default a schema of the data database.
    pub(crate) keyring_url: Option<String>,
    /// A file holding the master key, when `PRIVET_MASTER_KEY` does not.
    pub(crate) master_key_file: Option<PathBuf>,
    /// A throwaway installation (`privet demo`): its own schemas, emptied when opened, and a
    /// master key made for the run when none is given.
    pub(crate) demo: bool,
}

/// The demo's data schema on PostgreSQL (emptied on each run; never the deployment's).
pub(crate) const DEMO_SCHEMA: &str = "privet_demo";
/// The demo's keyring schema on PostgreSQL.
pub(crate) const DEMO_KEYRING_SCHEMA: &str = "privet_demo_keyring";

/// Never prints a password that a URL may carry.
impl std::fmt::Debug for Pg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pg")
            .field("url", &describe_url(&self.url))
            .field(
                "keyring_url",
                &self.keyring_url.as_deref().map(describe_url),
            )
            .field("master_key_file", &self.master_key_file)
            .field("demo", &self.demo)
            .finish()
    }
}

/// A database URL as messages show it: `postgres://user@host:port/dbname` from the parsed
/// URL, never its text, so never a password wherever the URL holds it.
pub(crate) fn describe_url(url: &str) -> String {
    privet_store_postgres::describe_url(url)
}

impl Location {
    /// From `--data` or `--database-url` when one is given (clap refuses both), else from
    /// `PRIVET_DATA` or `PRIVET_DATABASE_URL` (refused when both are set), else
    /// `./privet-data`.
    pub(crate) fn from_args(data: &DataArgs) -> anyhow::Result<Location> {
        let env = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        let location = Location::resolve(
            data,
            env("PRIVET_DATA").map(PathBuf::from),
            env("PRIVET_DATABASE_URL"),
        )?;
        location.with_keys(data)
    }

    /// The embedded store in `dir`, its master keys from `PRIVET_MASTER_KEY` or `master.key`.
    pub(crate) fn sqlite(dir: PathBuf) -> Location {
        Location::Sqlite {
            dir,
            master_key_file: None,
        }
    }

    /// Adds what `--keyring-url` and `--master-key-file` say. Both backends take a master-key
    /// file; only PostgreSQL a keyring URL (the embedded store keeps its keyring in its data
    /// directory).
    fn with_keys(self, data: &DataArgs) -> anyhow::Result<Location> {
        match self {
            Location::Postgres(pg) => Ok(Location::Postgres(Pg {
                keyring_url: data.keyring_url.clone(),
                master_key_file: data.master_key_file.clone(),
                ..pg
            })),
            Location::Sqlite { dir, .. } => {
                if data.keyring_url.is_some() {
                    bail!(
                        "--keyring-url is for PostgreSQL; the embedded store keeps its keyring in {}",
                        dir.join(privet_store_sqlite::KEYRING_FILE).display()
                    );
                }
                Ok(Location::Sqlite {
                    dir,
                    master_key_file: data.master_key_file.clone(),
                })
            }
        }
    }

    /// [`Location::from_args`] with the environment given.
    fn resolve(
        data: &DataArgs,
        env_dir: Option<PathBuf>,
        env_url: Option<std::ffi::OsString>,
    ) -> anyhow::Result<Location> {
        if let Some(dir) = &data.dir {
            return Ok(Location::sqlite(dir.clone()));
        }
        if let Some(url) = &data.database_url {
            return Location::parse(url);
        }
        match (env_dir, env_url) {
            (Some(_), Some(_)) => bail!(
                "both PRIVET_DATA and PRIVET_DATABASE_URL are set; unset one, or name the backend with --data or --database-url"
            ),
            (Some(dir), None) => Ok(Location::sqlite(dir)),
            (None, Some(url)) => match url.to_str() {
                Some(url) => Location::parse(url),
                None => bail!("PRIVET_DATABASE_URL is not valid UTF-8"),
            },
            (None, None) => Ok(Location::sqlite(PathBuf::from(DEFAULT_DATA_DIR))),
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
            return Ok(Location::sqlite(PathBuf::from(dir)));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Location::Postgres(Pg {
                url: url.to_owned(),
                keyring_url: None,
                master_key_file: None,
                demo: false,
            }));
        }
        bail!("--database-url must start with sqlite: (a data directory) or postgres://")
    }

    /// The data directory, for what only the embedded store has (backup files, the lock).
    pub(crate) fn data_dir(&self) -> anyhow::Result<&Path> {
        match self {
            Location::Sqlite { dir, .. } => Ok(dir),
            Location::Postgres(_) => {
                bail!("this needs the embedded store's data directory (--data DIR)")
            }
        }
    }
}

/// A backend opened, with the instance's keys.
pub(crate) struct Opened {
    /// The data store.
    pub(crate) store: Arc<dyn Store>,
    /// The keyring.
    pub(crate) keyring: Arc<dyn Keyring>,
    /// The SQLite store itself, for backups; `None` on PostgreSQL.
    pub(crate) sqlite: Option<Arc<SqliteStore>>,
    /// The keys of pseudonyms, hashed fields and sealed secrets (from the keyring).
    pub(crate) root: InstanceRoot,
    /// The master keys by epoch.
    pub(crate) epochs: MasterKeys,
    /// The instance signing key.
    pub(crate) signing: SigningKey,
}

impl Opened {
    /// How this installation's audit chain is linked (recorded in the keyring on first use).
    pub(crate) async fn audit_chain(&self) -> anyhow::Result<privet_store::AuditChain> {
        Ok(privet_server::service::instance_secrets::audit_chain(
            self.store.as_ref(),
            self.keyring.as_ref(),
            &self.epochs,
            &self.root,
        )
        .await?)
    }

    /// The audit chain as recorded, changing nothing (for verifying).
    pub(crate) async fn recorded_audit_chain(&self) -> anyhow::Result<privet_store::AuditChain> {
        Ok(
            privet_server::service::instance_secrets::recorded_audit_chain(
                self.keyring.as_ref(),
                &self.epochs,
            )
            .await?,
        )
    }

    /// The parts a server is made of, with these products and clock.
    pub(crate) fn into_parts(
        self,
        products: privet_server::Products,
        clock: privet_server::Clock,
    ) -> privet_server::Parts {
        privet_server::Parts {
            store: self.store,
            keyring: self.keyring,
            root: self.root,
            epochs: self.epochs,
            signing: self.signing,
            products,
            clock,
        }
    }
}

/// Opens the backend at `location` with the instance keys: for SQLite, the master-key file,
/// `PRIVET_MASTER_KEY` or `master.key`, and `signing.key`, created on first use; for
/// PostgreSQL, see the module doc.
pub(crate) async fn open(location: &Location) -> anyhow::Result<Opened> {
    match location {
        Location::Sqlite {
            dir,
            master_key_file,
        } => {
            // Malformed master keys are refused before the directory is created.
            instance_keys::master_given(master_key_file.as_deref())?;
            let opened = SqliteDir::open(dir)
                .with_context(|| format!("cannot open data directory {}", dir.display()))?;
            with_keys(opened, master_key_file.as_deref()).await
        }
        Location::Postgres(pg) => open_postgres(pg).await,
    }
}

/// Refuses a data directory that holds no store yet, for commands that only look at or act on
/// an existing one (`keyring`, `audit verify`): opening it would make a new store with a fresh
/// master key in a mistyped directory.
pub(crate) fn require_existing(location: &Location) -> anyhow::Result<()> {
    let Location::Sqlite { dir, .. } = location else {
        return Ok(());
    };
    for file in [
        privet_store_sqlite::STORE_FILE,
        privet_store_sqlite::KEYRING_FILE,
    ] {
        if !dir.join(file).is_file() {
            bail!(
                "{} is not a Privet data directory (it has no {file}); check --data, this command never creates one",
                dir.display()
            );
        }
    }
    Ok(())
}

/// Opens PostgreSQL: the master keys must be given, and the signing key is shared.
async fn open_postgres(pg: &Pg) -> anyhow::Result<Opened> {
    let epochs = match instance_keys::master_given(pg.master_key_file.as_deref())? {
        Some(epochs) => epochs,
        // The demo's schemas are emptied on every run: a key for this run is enough.
        None if pg.demo => MasterKeys::single(MasterKey::generate(&mut os_rng())),
        None => anyhow::bail!(
            "PostgreSQL needs the master key, the same on every instance: set PRIVET_MASTER_KEY or --master-key-file FILE (make one with `openssl rand -base64 32`)"
        ),
    };
    let mut options = privet_store_postgres::PgOptions::new(pg.url.clone());
    options.keyring_url = pg.keyring_url.clone();
    if pg.demo {
        options.schema = DEMO_SCHEMA.to_owned();
        options.keyring_schema = DEMO_KEYRING_SCHEMA.to_owned();
        privet_store_postgres::drop_schemas(&options)
            .await
            .with_context(|| {
                format!("cannot empty the demo schemas in {}", describe_url(&pg.url))
            })?;
    }
    open_postgres_with(&options, epochs).await
}

/// Opens PostgreSQL as `options` say, with these master keys: the instance root and the
/// shared signing key come from the keyring (made by the first instance to start).
pub(crate) async fn open_postgres_with(
    options: &privet_store_postgres::PgOptions,
    epochs: MasterKeys,
) -> anyhow::Result<Opened> {
    let (store, keyring) = privet_store_postgres::open(options)
        .await
        .with_context(|| format!("cannot open {}", describe_url(&options.url)))?;
    let root = instance_keys::root(&keyring, &epochs).await?;
    let signing = instance_keys::shared_signing_key(&keyring, &epochs).await?;
    Ok(Opened {
        store: Arc::new(store),
        keyring: Arc::new(keyring),
        sqlite: None,
        root,
        epochs,
        signing,
    })
}

/// Puts the backup `file` in place under `lock` and opens the directory, no other command
/// able to open it until the returned backend is dropped; the master keys as `location` says.
pub(crate) async fn install_and_open(
    lock: &DirLock,
    file: &Path,
    location: &Location,
    adopt: Option<&str>,
) -> anyhow::Result<Opened> {
    let master_key_file = match location {
        Location::Sqlite {
            master_key_file, ..
        } => master_key_file.as_deref(),
        Location::Postgres(_) => None,
    };
    let installed = lock.install_backup_as(file, adopt)?;
    let dir = lock.dir().to_owned();
    let opened = installed
        .open()
        .with_context(|| format!("cannot open data directory {}", dir.display()))?;
    with_keys(opened, master_key_file).await
}

/// A data directory opened, with the instance's keys (the root from its keyring).
async fn with_keys(opened: SqliteDir, master_key_file: Option<&Path>) -> anyhow::Result<Opened> {
    let keys = instance_keys::load(&opened.path, master_key_file)?;
    let root = instance_keys::root(&opened.keyring, &keys.epochs).await?;
    let store = Arc::new(opened.store);
    Ok(Opened {
        store: store.clone(),
        keyring: Arc::new(opened.keyring),
        sqlite: Some(store),
        root,
        epochs: keys.epochs,
        signing: keys.signing,
    })
}

/// Takes the data directory's exclusive lock (held while serving, and by restore), creating
/// the directory when missing; PostgreSQL has none: instances share the database.
pub(crate) fn lock(location: &Location) -> anyhow::Result<Option<DirLock>> {
    match location {
        Location::Sqlite {
            dir,
            master_key_file,
        } => {
            // Malformed master keys are refused before the directory is created.
            instance_keys::master_given(master_key_file.as_deref())?;
            Ok(Some(SqliteDir::lock(dir)?))
        }
        Location::Postgres(_) => {
            instance_keys::master_from_env()?;
            Ok(None)
        }
    }
}

/// Refuses a restore that could not succeed, before anything is locked or created: the
/// directory must hold the keyring the backup is readable with, and a key given in the
/// environment must be a key.
pub(crate) fn check_restore_target(location: &Location) -> anyhow::Result<()> {
    match location {
        Location::Sqlite {
            dir,
            master_key_file,
        } => {
            if !dir.join(privet_store_sqlite::KEYRING_FILE).is_file() {
                return Err(privet_store_sqlite::SqliteDirError::NoKeyring(dir.clone()).into());
            }
            instance_keys::master_given(master_key_file.as_deref())?;
        }
        Location::Postgres(_) => bail!(
            "restore works on the embedded store; restore PostgreSQL with pg_restore (docs/deploy.md)"
        ),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(dir: Option<&str>, url: Option<&str>) -> DataArgs {
        DataArgs {
            dir: dir.map(PathBuf::from),
            database_url: url.map(str::to_owned),
            keyring_url: None,
            master_key_file: None,
        }
    }

    fn sqlite(dir: &str) -> Location {
        Location::sqlite(PathBuf::from(dir))
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
        assert!(matches!(
            Location::parse("postgres://u:pw@h:5433/db"),
            Ok(Location::Postgres(Pg { ref url, .. })) if url == "postgres://u:pw@h:5433/db"
        ));
        assert!(matches!(
            Location::parse("postgresql://h/db"),
            Ok(Location::Postgres(_))
        ));
        assert!(parse("mysql://h").is_err());
    }

    #[test]
    fn passwords_never_reach_a_message() {
        for (url, shown) in [
            ("postgres://u:secret@h:5432/db", "postgres://u@h:5432/db"),
            ("postgres://u@h/db", "postgres://u@h:5432/db"),
            (
                "postgres://postgres:Ab/cd+ef@127.0.0.1:1/privet",
                "postgres://postgres@127.0.0.1:1/privet",
            ),
            (
                "postgres://postgres@127.0.0.1:1?password=s3cret",
                "postgres://postgres@127.0.0.1:1",
            ),
            (
                "postgres://h/db?sslmode=disable&PASSWORD=secret",
                privet_store_postgres::UNPARSEABLE,
            ),
        ] {
            assert_eq!(describe_url(url), shown, "{url}");
            let pg = Location::parse(url).map(|l| format!("{l:?}"));
            assert!(
                pg.as_ref().is_ok_and(|d| !d.contains("secret")
                    && !d.contains("s3cret")
                    && !d.contains("Ab/cd")),
                "{pg:?}"
            );
        }
    }

    #[test]
    fn a_master_key_file_is_taken_by_both_backends_a_keyring_url_by_postgres_only() {
        let with = |url: &str| DataArgs {
            dir: None,
            database_url: Some(url.to_owned()),
            keyring_url: Some("postgres://h/keys".to_owned()),
            master_key_file: Some(PathBuf::from("/k")),
        };
        let pg = Location::resolve(&with("postgres://h/db"), None, None)
            .and_then(|l| l.with_keys(&with("postgres://h/db")));
        assert!(matches!(
            pg,
            Ok(Location::Postgres(Pg {
                keyring_url: Some(_),
                master_key_file: Some(_),
                ..
            }))
        ));
        let sqlite = Location::resolve(&with("sqlite:d"), None, None)
            .and_then(|l| l.with_keys(&with("sqlite:d")));
        assert!(sqlite.is_err_and(|e| e.to_string().contains("--keyring-url is for PostgreSQL")));
        let file_only = DataArgs {
            keyring_url: None,
            ..with("sqlite:d")
        };
        let sqlite =
            Location::resolve(&file_only, None, None).and_then(|l| l.with_keys(&file_only));
        assert!(
            matches!(
                &sqlite,
                Ok(Location::Sqlite { dir, master_key_file: Some(f) })
                    if dir == Path::new("d") && f == Path::new("/k")
            ),
            "{sqlite:?}"
        );
    }

    #[test]
    fn commands_that_need_a_store_refuse_a_directory_without_one() {
        let root = tempfile::tempdir().unwrap();
        let typo = root.path().join("typo");
        let err = require_existing(&Location::sqlite(typo.clone())).unwrap_err();
        assert!(
            err.to_string().contains("is not a Privet data directory"),
            "{err}"
        );
        assert!(!typo.exists(), "nothing created");
        std::fs::write(root.path().join(privet_store_sqlite::STORE_FILE), b"").unwrap();
        assert!(require_existing(&Location::sqlite(root.path().to_owned())).is_err());
        std::fs::write(root.path().join(privet_store_sqlite::KEYRING_FILE), b"").unwrap();
        assert!(require_existing(&Location::sqlite(root.path().to_owned())).is_ok());
        assert!(require_existing(&Location::parse("postgres://h/db").unwrap()).is_ok());
    }
}
