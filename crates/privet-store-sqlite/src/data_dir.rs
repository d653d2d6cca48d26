//! The data directory of the embedded backend: `privet.db` and `keyring.db` side by side, the
//! lock a serving process holds, and putting a backup of `privet.db` in place.
//!
//! The instance's key files (`master.key`, `signing.key`) live in the same directory but are
//! not the backend's: the server reads and creates them.

use crate::{SqliteKeyring, SqliteStore};
use std::io::Read;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The data store's file name.
pub const STORE_FILE: &str = "privet.db";
/// The keyring's file name (kept out of data backups).
pub const KEYRING_FILE: &str = "keyring.db";
/// The lock file a serving process holds.
pub const LOCK_FILE: &str = "privet.lock";
/// The lock every opener of the store holds shared and a restore takes exclusively, so a
/// command without the serving lock (backup, key create, audit verify, retention run) never
/// has the store replaced under it.
pub const IN_USE_FILE: &str = "privet.inuse.lock";
/// Where a backup is staged before it replaces the store.
const STAGED_FILE: &str = "privet.db.restoring";
/// SQLite's files beside the store, which belong to the store being replaced.
const STORE_SIDE_FILES: [&str; 2] = ["privet.db-wal", "privet.db-shm"];

/// Why a data directory could not be opened, locked or restored into.
#[derive(Debug, thiserror::Error)]
pub enum SqliteDirError {
    /// The directory could not be created.
    #[error("cannot create {path}")]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The lock file could not be opened or locked.
    #[error("cannot lock {path}")]
    LockFile {
        /// The lock file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Another process holds the directory's lock.
    #[error("another privet process is serving {0}; stop it first")]
    Locked(PathBuf),
    /// A restore is replacing the store.
    #[error("a restore is replacing the store in {0}; try again when it has finished")]
    Restoring(PathBuf),
    /// Another command has the store open.
    #[error(
        "another privet command (a backup, key create, audit verify or retention run) has {0} open; wait for it to finish"
    )]
    InUse(PathBuf),
    /// The store or the keyring failed to open.
    #[error(transparent)]
    Store(#[from] privet_store::Error),
    /// A restore into a directory that has no keyring.
    #[error(
        "{0} has no keyring.db: a backup is only readable with the keyring of the instance it came from"
    )]
    NoKeyring(PathBuf),
    /// The backup file could not be opened.
    #[error("cannot open {path}")]
    OpenBackup {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a backup of a data store (a stray file, or a copy of a keyring).
    #[error("{0} is not a Privet data store backup")]
    NotABackup(PathBuf),
    /// The file is the directory's own live store.
    #[error("{0} is the live data store itself, not a backup of it")]
    LiveStore(PathBuf),
    /// Copying the backup beside the store failed (the store is untouched).
    #[error("cannot copy {path} into place")]
    Copy {
        /// The backup.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Writing a file durably failed.
    #[error("cannot write {path}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The replaced store's WAL or shared-memory file could not be removed.
    #[error("cannot remove {path}")]
    Remove {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The installation id could not be read or recorded.
    #[error("{path}: cannot read or record the installation: {message}")]
    Installation {
        /// The database file.
        path: PathBuf,
        /// SQLite's message.
        message: String,
    },
    /// The staged backup could not be moved over the store.
    #[error("cannot move the backup into {path}")]
    Rename {
        /// The store's path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// A data directory opened: its store and its keyring.
pub struct SqliteDir {
    /// The directory.
    pub path: PathBuf,
    /// `privet.db`.
    pub store: SqliteStore,
    /// `keyring.db`.
    pub keyring: SqliteKeyring,
}

impl SqliteDir {
    /// Opens the store and keyring in `dir`, creating the directory (mode 0700) and both
    /// databases (mode 0600) on first use.
    pub fn open(dir: &Path) -> Result<SqliteDir, SqliteDirError> {
        create_dir(dir)?;
        // Taken before the store is opened and kept with it (see [`IN_USE_FILE`]).
        let in_use = lock_file(&dir.join(IN_USE_FILE))?;
        match in_use.try_lock_shared() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(SqliteDirError::Restoring(dir.to_owned()));
            }
            Err(std::fs::TryLockError::Error(source)) => {
                return Err(SqliteDirError::LockFile {
                    path: dir.join(IN_USE_FILE),
                    source,
                });
            }
        }
        let mut store = SqliteStore::open(&dir.join(STORE_FILE))?;
        store.in_use = Some(in_use);
        let keyring = SqliteKeyring::open(&dir.join(KEYRING_FILE))?;
        crate::installation::ensure(&dir.join(STORE_FILE), &dir.join(KEYRING_FILE))?;
        Ok(SqliteDir {
            path: dir.to_owned(),
            store,
            keyring,
        })
    }

    /// Takes the directory's exclusive lock, held while serving; `Locked` if another process
    /// holds it. Restoring a backup needs it, so a store is never replaced under a server.
    /// Creates the directory (mode 0700) when missing, so it can be taken before `open`.
    pub fn lock(dir: &Path) -> Result<DirLock, SqliteDirError> {
        create_dir(dir)?;
        let path = dir.join(LOCK_FILE);
        let file = lock_file(&path)?;
        match file.try_lock() {
            Ok(()) => Ok(DirLock {
                dir: dir.to_owned(),
                _file: file,
            }),
            Err(std::fs::TryLockError::WouldBlock) => Err(SqliteDirError::Locked(dir.to_owned())),
            Err(std::fs::TryLockError::Error(source)) => {
                Err(SqliteDirError::LockFile { path, source })
            }
        }
    }
}

/// Opens (creating, mode 0600) a lock file.
fn lock_file(path: &Path) -> Result<std::fs::File, SqliteDirError> {
    std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(path)
        .map_err(|source| SqliteDirError::LockFile {
            path: path.to_owned(),
            source,
        })
}

/// Creates `dir` (mode 0700) unless it exists.
fn create_dir(dir: &Path) -> Result<(), SqliteDirError> {
    if dir.exists() {
        return Ok(());
    }
    let create = |source| SqliteDirError::CreateDir {
        path: dir.to_owned(),
        source,
    };
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(create)?;
    // The mode given to `create` is reduced by the umask; this one is not.
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(create)
}

/// The exclusive lock of a data directory, released when dropped.
#[derive(Debug)]
pub struct DirLock {
    dir: PathBuf,
    _file: std::fs::File,
}

impl DirLock {
    /// The locked directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Puts the backup `file` in place of the directory's store. Done under the lock, so no
    /// server has the store open; the caller opens the directory afterwards (and then deals
    /// with what the backup still holds of subjects erased since).
    ///
    /// Refuses a directory without a keyring (the backup would be unreadable), a file that is
    /// not a data store (a stray file, a copy of a keyring) and the live store itself. The
    /// backup is copied beside the store and made durable first, then renamed into place: a
    /// failed copy leaves the current store (and its WAL) untouched.
    ///
    /// Returns the directory with the store's "in use" lock still held exclusively: open it
    /// with [`InstalledBackup::open`] to deal with the backup before any other command can.
    pub fn install_backup(&self, file: &Path) -> Result<InstalledBackup, SqliteDirError> {
        self.install_backup_as(file, None)
    }

    /// [`DirLock::install_backup`], the restored store naming `installation` as its own when
    /// given (a backup of another installation restored here on purpose): written into the
    /// staged copy, so the store is never in place under the other installation's id.
    pub fn install_backup_as(
        &self,
        file: &Path,
        installation: Option<&str>,
    ) -> Result<InstalledBackup, SqliteDirError> {
        let dir = &self.dir;
        if !dir.join(KEYRING_FILE).exists() {
            return Err(SqliteDirError::NoKeyring(dir.clone()));
        }
        let db = dir.join(STORE_FILE);
        // Checked first, so the live store is not even opened.
        if same_file(file, &db) {
            return Err(SqliteDirError::LiveStore(file.to_owned()));
        }
        if !is_data_store_backup(file)? {
            return Err(SqliteDirError::NotABackup(file.to_owned()));
        }
        // Exclusive for the rest of the install: no other command has the store open, and
        // none opens it until the backup is in place.
        let in_use = lock_file(&dir.join(IN_USE_FILE))?;
        match in_use.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(SqliteDirError::InUse(dir.clone()));
            }
            Err(std::fs::TryLockError::Error(source)) => {
                return Err(SqliteDirError::LockFile {
                    path: dir.join(IN_USE_FILE),
                    source,
                });
            }
        }
        let staged = dir.join(STAGED_FILE);
        let write = |path: &Path| {
            let path = path.to_owned();
            move |source| SqliteDirError::Write { path, source }
        };
        std::fs::copy(file, &staged).map_err(|source| SqliteDirError::Copy {
            path: file.to_owned(),
            source,
        })?;
        // `copy` carries the backup's mode over; the store is the owner's only before it is
        // in place.
        std::fs::set_permissions(&staged, std::fs::Permissions::from_mode(0o600))
            .map_err(write(&staged))?;
        if let Some(id) = installation {
            crate::installation::set_store(&staged, id)?;
        }
        std::fs::File::open(&staged)
            .and_then(|f| f.sync_all())
            .map_err(write(&staged))?;
        // The old WAL would be replayed over the restored database: it goes first.
        for side in STORE_SIDE_FILES {
            let p = dir.join(side);
            match std::fs::remove_file(&p) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => return Err(SqliteDirError::Remove { path: p, source }),
            }
        }
        std::fs::rename(&staged, &db).map_err(|source| SqliteDirError::Rename {
            path: db.clone(),
            source,
        })?;
        // The rename is durable once the directory is.
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(write(dir))?;
        Ok(InstalledBackup {
            dir: dir.clone(),
            in_use,
        })
    }
}

/// A backup just put in place, with the store's "in use" lock held exclusively, so no other
/// command opens the store before the restore has dealt with what the backup holds.
#[derive(Debug)]
pub struct InstalledBackup {
    dir: PathBuf,
    in_use: std::fs::File,
}

impl InstalledBackup {
    /// Opens the directory, the store keeping the exclusive lock for its life.
    pub fn open(self) -> Result<SqliteDir, SqliteDirError> {
        let dir = self.dir;
        let mut store = SqliteStore::open(&dir.join(STORE_FILE))?;
        store.in_use = Some(self.in_use);
        Ok(SqliteDir {
            keyring: SqliteKeyring::open(&dir.join(KEYRING_FILE))?,
            path: dir,
            store,
        })
    }
}

/// Whether a file is a Privet data store (a `privet.db` as a backup writes it): an SQLite file
/// with the data store's first migration and no keyring table, so neither a stray file nor a
/// copy of `keyring.db` is put in its place.
pub fn is_data_store_backup(path: &Path) -> Result<bool, SqliteDirError> {
    let mut header = [0u8; 16];
    let mut f = std::fs::File::open(path).map_err(|source| SqliteDirError::OpenBackup {
        path: path.to_owned(),
        source,
    })?;
    if f.read_exact(&mut header).is_err() || &header != b"SQLite format 3\0" {
        return Ok(false);
    }
    let flags =
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let Ok(c) = rusqlite::Connection::open_with_flags(path, flags) else {
        return Ok(false);
    };
    let table = |name: &str| -> bool {
        c.query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
            [name],
            |r| r.get::<_, i64>(0),
        )
        .is_ok_and(|n| n > 0)
    };
    let migrated = table("schema_migrations")
        && c.query_row(
            "SELECT count(*) FROM schema_migrations WHERE name = '0001_init'",
            [],
            |r| r.get::<_, i64>(0),
        )
        .is_ok_and(|n| n > 0);
    Ok(migrated && !table("keys"))
}

/// Whether two paths name the same file, by device and inode, so neither another spelling of
/// the path nor a hard link hides it (false when either cannot be read).
fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(a), Ok(b)) => (a.dev(), a.ino()) == (b.dev(), b.ino()),
        _ => false,
    }
}
