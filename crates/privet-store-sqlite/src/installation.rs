//! Which installation a data directory belongs to: a random id kept both in `privet.db`
//! (`meta` row `installation`) and in `keyring.db`, so `privet restore` can tell a backup of
//! this installation from one of another, whose subjects have no keys here.

use crate::data_dir::SqliteDirError;
use privet_crypto::Rng;
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use std::path::Path;

/// The `meta` key of the data store's copy.
const META_KEY: &str = "installation";

fn open(path: &Path, read_only: bool) -> Result<Connection, SqliteDirError> {
    let flags = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX
    };
    let c = Connection::open_with_flags(path, flags).map_err(|e| installation_error(path, e))?;
    c.busy_timeout(std::time::Duration::from_secs(10))
        .map_err(|e| installation_error(path, e))?;
    Ok(c)
}

fn installation_error(path: &Path, e: rusqlite::Error) -> SqliteDirError {
    SqliteDirError::Installation {
        path: path.to_owned(),
        message: e.to_string(),
    }
}

/// The installation a data store file (a `privet.db`, or a backup of one) names; `None` for
/// one made before installations were recorded.
pub fn of_store(path: &Path) -> Result<Option<String>, SqliteDirError> {
    let c = open(path, true)?;
    c.query_row("SELECT value FROM meta WHERE key = ?1", [META_KEY], |r| {
        r.get(0)
    })
    .optional()
    .map_err(|e| installation_error(path, e))
}

/// The installation a keyring names; `None` before it was recorded.
pub fn of_keyring(path: &Path) -> Result<Option<String>, SqliteDirError> {
    let c = open(path, true)?;
    c.query_row("SELECT value FROM installation WHERE id = 1", [], |r| {
        r.get(0)
    })
    .optional()
    .map_err(|e| installation_error(path, e))
}

/// Records `id` as the installation of the data store at `path` (a restored backup adopted
/// by this installation).
pub fn set_store(path: &Path, id: &str) -> Result<(), SqliteDirError> {
    let c = open(path, false)?;
    c.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [META_KEY, id],
    )
    .map_err(|e| installation_error(path, e))?;
    Ok(())
}

fn set_keyring(path: &Path, id: &str) -> Result<(), SqliteDirError> {
    let c = open(path, false)?;
    c.execute(
        "INSERT INTO installation (id, value) VALUES (1, ?1) ON CONFLICT (id) DO NOTHING",
        [id],
    )
    .map_err(|e| installation_error(path, e))?;
    Ok(())
}

/// Makes both files name one installation: a new id when neither does (a new directory, or
/// one from before ids were recorded), the other's when one does. Two different ids are
/// left as they are: only a restore decides what to do about a foreign store.
pub(crate) fn ensure(store: &Path, keyring: &Path) -> Result<(), SqliteDirError> {
    match (of_store(store)?, of_keyring(keyring)?) {
        (Some(a), Some(b)) if a != b => {
            // Only a store put in place by hand gets here (a restore adopts what it restores).
            tracing::warn!(
                "privet.db names another installation than keyring.db: it was put in place without `privet restore`; restore backups with `privet restore`"
            );
            Ok(())
        }
        (Some(_), Some(_)) => Ok(()),
        (Some(id), None) => set_keyring(keyring, &id),
        (None, Some(id)) => set_store(store, &id),
        (None, None) => {
            let mut bytes = [0u8; 16];
            privet_crypto::os_rng().fill_bytes(&mut bytes);
            let id = hex::encode(bytes);
            set_keyring(keyring, &id)?;
            // The keyring's may have been set by a racing open: the store takes whichever won.
            let id = of_keyring(keyring)?.unwrap_or(id);
            set_store(store, &id)
        }
    }
}
