//! Opening SQLite connections with Privet's settings, and applying migrations.

use privet_store::{Context, Result};
use rusqlite::{Connection, OpenFlags};
use std::path::Path;

/// Data store migrations, in order. Append only.
pub(crate) const DATA_MIGRATIONS: &[(&str, &str)] = &[
    ("0001_init", include_str!("../migrations/0001_init.sql")),
    ("0002_rights", include_str!("../migrations/0002_rights.sql")),
    (
        "0003_accounts",
        include_str!("../migrations/0003_accounts.sql"),
    ),
    (
        "0004_failures_jobs_manifests",
        include_str!("../migrations/0004_failures_jobs_manifests.sql"),
    ),
    (
        "0005_household_versions",
        include_str!("../migrations/0005_household_versions.sql"),
    ),
    ("0006_mqtt", include_str!("../migrations/0006_mqtt.sql")),
    (
        "0007_manifest_versions",
        include_str!("../migrations/0007_manifest_versions.sql"),
    ),
    (
        "0008_webhooks",
        include_str!("../migrations/0008_webhooks.sql"),
    ),
    (
        "0009_request_workflow",
        include_str!("../migrations/0009_request_workflow.sql"),
    ),
];

/// Keyring migrations, in order. Append only.
pub(crate) const KEYRING_MIGRATIONS: &[(&str, &str)] = &[
    (
        "keyring_0001_init",
        include_str!("../migrations/keyring_0001_init.sql"),
    ),
    (
        "keyring_0002_secrets",
        include_str!("../migrations/keyring_0002_secrets.sql"),
    ),
    (
        "keyring_0003_installation",
        include_str!("../migrations/keyring_0003_installation.sql"),
    ),
];

/// Creates `path` with mode 0600 if it does not exist, so the database (and the WAL and
/// shared-memory files SQLite derives from it) are readable by the owner only.
pub(crate) fn create_private(path: &Path) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e).op("create database file"),
    }
}

/// Bytes the WAL file is truncated to when it restarts (64 MiB).
const WAL_SIZE_LIMIT: i64 = 64 * 1024 * 1024;

/// Opens a connection with WAL, full synchronous commits and secure deletion.
pub(crate) fn open(path: &Path, read_only: bool) -> Result<Connection> {
    let flags = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
    };
    let conn = Connection::open_with_flags(path, flags).op("open database")?;
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .op("set busy timeout")?;
    if !read_only {
        conn.pragma_update(None, "journal_mode", "WAL")
            .op("enable WAL")?;
        // Under sustained ingest the WAL grows past what the background checkpoint can reset;
        // once it does reset, give the disk back rather than keep a file of the peak size.
        conn.pragma_update(None, "journal_size_limit", WAL_SIZE_LIMIT)
            .op("set journal size limit")?;
    }
    // FULL: every commit fsyncs the WAL, so an acknowledged write survives power loss, not
    // only a crash. Group commit in the writer amortises the fsync across requests.
    conn.pragma_update(None, "synchronous", "FULL")
        .op("set synchronous")?;
    // Deleted content (erased keys, dropped chunks, rewritten blocks) is zeroed on disk.
    conn.pragma_update(None, "secure_delete", "ON")
        .op("set secure_delete")?;
    conn.pragma_update(None, "foreign_keys", "OFF")
        .op("set foreign_keys")?;
    // Statement journals (each grouped write's savepoint) and temporary indices stay in
    // memory: no temporary file per commit, and none holding rows on disk.
    conn.pragma_update(None, "temp_store", "MEMORY")
        .op("set temp_store")?;
    Ok(conn)
}

/// Checkpoints and truncates whatever WAL an earlier process left (say, one that stopped
/// while an erasure's truncation was still owed), so deleted rows leave every file on open.
/// Best effort: a reader in another process holding it off is waited for only briefly, and
/// the store's checkpointer (or the next erasure) gets there later.
pub(crate) fn settle_wal(conn: &Connection) -> Result<()> {
    conn.busy_timeout(std::time::Duration::from_millis(200))
        .op("set busy timeout")?;
    let settled = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
        r.get::<_, i64>(0)
    });
    if !matches!(settled, Ok(0)) {
        tracing::info!("a leftover WAL could not be truncated on open; it will be later");
    }
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .op("set busy timeout")
}

/// Applies the migrations not yet recorded in `schema_migrations`.
pub(crate) fn migrate(conn: &mut Connection, migrations: &[(&str, &str)]) -> Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL) STRICT;",
    )
    .op("create migrations table")?;
    for (name, sql) in migrations {
        let done: bool = conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE name = ?1)",
                [name],
                |r| r.get(0),
            )
            .op("read migrations")?;
        if done {
            continue;
        }
        let tx = conn.transaction().op("begin migration")?;
        tx.execute_batch(sql).op("apply migration")?;
        tx.execute(
            "INSERT INTO schema_migrations (name, applied_at) VALUES (?1, unixepoch())",
            [name],
        )
        .op("record migration")?;
        tx.commit().op("commit migration")?;
    }
    Ok(())
}
