//! Commands that work on a data directory directly: `key create`, `audit verify`, `retention run`.

use crate::cli::{
    AuditCmd, BackupArgs, DataArgs, KeyCmd, KeyCreateArgs, RestoreArgs, RetentionCmd, RoleArg,
};
use anyhow::Context;
use privet_server::DataDir;
use privet_store::{Keyring, Role, Store};
use std::process::ExitCode;

fn open(data: &DataArgs) -> anyhow::Result<DataDir> {
    let master = std::env::var("PRIVET_MASTER_KEY").ok();
    DataDir::open(&data.dir, master.as_deref())
        .with_context(|| format!("cannot open data directory {}", data.dir.display()))
}

pub(crate) async fn key(cmd: KeyCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        KeyCmd::Create(args) => key_create(args).await,
    }
}

async fn key_create(args: KeyCreateArgs) -> anyhow::Result<ExitCode> {
    let role = match args.role {
        RoleArg::Admin => Role::Admin,
        RoleArg::Analyst => Role::Analyst,
        RoleArg::Support => Role::Support,
        RoleArg::Dpo => Role::Dpo,
    };
    let dir = open(&args.data)?;
    let (id, secret) = privet_server::service::api_keys::create(
        &dir.store,
        &dir.keyring,
        "cli",
        role,
        args.purposes,
        args.label,
    )
    .await
    .map_err(|e| anyhow::anyhow!("{}", e.problem().detail))?;
    eprintln!(
        "created {} key {id}; it is shown once, store it now",
        role.as_str()
    );
    println!("{}", secret.expose());
    Ok(ExitCode::SUCCESS)
}

pub(crate) async fn audit(cmd: AuditCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        AuditCmd::Verify(data) => {
            let dir = open(&data)?;
            let anchor = dir.keyring.audit_anchor().await?;
            let verdict = dir.store.verify_audit(anchor).await?;
            match verdict.first_broken {
                None => {
                    println!("audit log intact: {} entries verified", verdict.entries);
                    Ok(ExitCode::SUCCESS)
                }
                Some(b) => {
                    println!(
                        "audit log BROKEN at entry {}: {} ({} entries before it verified)",
                        b.seq, b.reason, verdict.entries
                    );
                    Ok(ExitCode::from(1))
                }
            }
        }
    }
}

pub(crate) async fn retention(cmd: RetentionCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        RetentionCmd::Run(data) => {
            let dir = open(&data)?;
            let r = dir.store.drop_expired(jiff::Timestamp::now()).await?;
            println!(
                "retention: dropped {} chunks ({} blocks, {} events)",
                r.chunks_dropped, r.blocks_dropped, r.events_dropped
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

pub(crate) async fn backup(args: BackupArgs) -> anyhow::Result<ExitCode> {
    if args.out.exists() {
        anyhow::bail!("{} exists; choose a new file", args.out.display());
    }
    let dir = open(&args.data)?;
    dir.store.backup_to(&args.out).await?;
    let size = std::fs::metadata(&args.out).map(|m| m.len()).unwrap_or(0);
    println!(
        "backed up {} to {} ({size} bytes); the keyring is not included, so erasures made later also apply to this backup",
        dir.store.path().display(),
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}

pub(crate) async fn restore(args: RestoreArgs) -> anyhow::Result<ExitCode> {
    use std::os::unix::fs::PermissionsExt;
    let data = &args.data.dir;
    if !data.join("keyring.db").exists() {
        anyhow::bail!(
            "{} has no keyring.db: a backup is only readable with the keyring of the instance it came from",
            data.display()
        );
    }
    // Refuse while a server holds the directory: replacing its database under it would corrupt it.
    let lock = privet_server::lock_data_dir(data).map_err(|e| anyhow::anyhow!("{e}"))?;
    if !is_data_store_backup(&args.file)? {
        anyhow::bail!("{} is not a Privet data store backup", args.file.display());
    }
    let db = data.join("privet.db");
    if same_file(&args.file, &db) {
        anyhow::bail!(
            "{} is the live data store itself, not a backup of it",
            args.file.display()
        );
    }
    // Copied beside the store and made durable first, then renamed into place: a failed copy
    // leaves the current store (and its WAL) untouched.
    let staged = data.join("privet.db.restoring");
    std::fs::copy(&args.file, &staged)
        .with_context(|| format!("cannot copy {} into place", args.file.display()))?;
    std::fs::File::open(&staged)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("cannot write {}", staged.display()))?;
    for f in ["privet.db-wal", "privet.db-shm"] {
        let p = data.join(f);
        if p.exists() {
            std::fs::remove_file(&p).with_context(|| format!("cannot remove {}", p.display()))?;
        }
    }
    std::fs::rename(&staged, &db)
        .with_context(|| format!("cannot move the backup into {}", db.display()))?;
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o600))?;
    let dir = open(&args.data)?;
    let purged = privet_server::service::backup::purge_unkeyed(&dir.store, &dir.keyring).await?;
    // The backup's audit log ends earlier than the anchor: record the restore and re-anchor.
    let previous = dir.keyring.audit_anchor().await?;
    let entry = dir
        .store
        .append_audit(privet_store::NewAuditEntry {
            at: jiff::Timestamp::now(),
            actor: "cli".to_owned(),
            action: "backup.restore".to_owned(),
            purpose: None,
            subjects: Vec::new(),
            count: purged.blocks,
            detail: serde_json::json!({
                "purged_subjects": purged.subjects,
                "purged_blocks": purged.blocks,
                "previous_anchor_seq": previous.map(|(s, _)| s),
                "previous_anchor_hash": previous.map(|(_, h)| h.to_string()),
            }),
        })
        .await?;
    dir.keyring
        .reset_audit_anchor(entry.seq, entry.hash)
        .await?;
    drop(lock);
    println!(
        "restored {}; purged {} subject(s) and {} record block(s) erased since the backup",
        args.file.display(),
        purged.subjects,
        purged.blocks
    );
    Ok(ExitCode::SUCCESS)
}

/// Whether a file is a Privet data store (a `privet.db` as `privet backup` writes it): an
/// SQLite file with the data store's first migration and no keyring table, so neither a
/// stray file nor a copy of `keyring.db` is put in its place.
fn is_data_store_backup(path: &std::path::Path) -> anyhow::Result<bool> {
    let mut header = [0u8; 16];
    let mut f =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    use std::io::Read;
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

/// Whether two paths name the same file (false when either cannot be resolved).
fn same_file(a: &std::path::Path, b: &std::path::Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}
