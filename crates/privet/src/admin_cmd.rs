//! Commands that work on a backend directly, without a server: `key create`, `audit verify`,
//! `retention run`, `backup`, `restore`.

use crate::backend::{self, Location, Opened};
use crate::cli::{
    AuditCmd, BackupArgs, DataArgs, KeyCmd, KeyCreateArgs, RestoreArgs, RetentionCmd, RoleArg,
};
use anyhow::Context as _;
use privet_server::Clock;
use privet_store::Role;
use std::process::ExitCode;

async fn open(data: &DataArgs) -> anyhow::Result<Opened> {
    backend::open(&Location::from_args(data)?).await
}

/// The time commands act at: the system clock (in test builds, `PRIVET_TEST_NOW` when set).
fn now() -> jiff::Timestamp {
    Clock::from_env().now()
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
    let dir = open(&args.data).await?;
    let (id, secret) = privet_server::service::api_keys::create(
        dir.store.as_ref(),
        dir.keyring.as_ref(),
        &dir.audit_chain().await?,
        now(),
        "cli",
        role,
        args.purposes,
        args.label,
    )
    .await
    // The error itself, not its HTTP problem: an operator at the console sees a store
    // failure's cause rather than "internal error".
    .map_err(anyhow::Error::new)?;
    eprintln!(
        "created {} key {id}; it is shown once, store it now",
        role.as_str()
    );
    println!("{}", secret.expose());
    Ok(ExitCode::SUCCESS)
}

pub(crate) async fn audit(cmd: AuditCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        AuditCmd::Verify(args) => {
            // Verifying never makes a store: a mistyped directory is refused, not created.
            let location = Location::from_args(&args.data)?;
            backend::require_existing(&location)?;
            let kept = match &args.head {
                Some(file) => Some((
                    file,
                    std::fs::read_to_string(file)
                        .with_context(|| format!("cannot read the head {}", file.display()))?,
                )),
                None => None,
            };
            let dir = backend::open(&location).await?;
            let head = match kept {
                Some((file, jws)) => Some(
                    privet_server::service::audit::open_head(&dir.signing, &jws)
                        .with_context(|| format!("cannot check against {}", file.display()))?,
                ),
                None => None,
            };
            let verdict = privet_server::service::audit::verify(
                dir.store.as_ref(),
                dir.keyring.as_ref(),
                &dir.recorded_audit_chain().await?,
                head.as_ref(),
            )
            .await?;
            match verdict.first_broken {
                None => {
                    println!("audit log intact: {} entries verified", verdict.entries);
                    if let Some(h) = head {
                        println!(
                            "it reaches and extends the signed head of entry {} (signed {})",
                            h.seq, h.signed_at
                        );
                    }
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
            let dir = open(&data).await?;
            let r = privet_server::service::retention::run_at(dir.store.as_ref(), now()).await?;
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
    let location = Location::from_args(&args.data)?;
    if let Location::Postgres(pg) = &location {
        // Opened first: a URL that does not reach a Privet database fails as every command's.
        drop(backend::open(&location).await?);
        crate::pg_dump::dump(&pg.url, &args.out)?;
        let size = std::fs::metadata(&args.out).map(|m| m.len()).unwrap_or(0);
        println!(
            "backed up the data schema of {} to {} ({size} bytes, pg_dump custom format: restore with pg_restore); the keyring is not included, so erasures made later also apply to this backup",
            backend::describe_url(&pg.url),
            args.out.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let dir = backend::open(&location).await?;
    let Some(sqlite) = &dir.sqlite else {
        anyhow::bail!("backup: the embedded store did not open as one");
    };
    sqlite.backup_to(&args.out).await?;
    let size = std::fs::metadata(&args.out).map(|m| m.len()).unwrap_or(0);
    println!(
        "backed up {} to {} ({size} bytes); the keyring is not included, so erasures made later also apply to this backup",
        sqlite.path().display(),
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Refuses a backup made by another installation than the directory's (told by the id both
/// `privet.db` and `keyring.db` carry) unless `--force`: none of its subjects has a key here,
/// so restoring it would purge them all as erased since the backup. With `--force`, returns
/// this installation's id, which the restored store then takes. A backup from before ids
/// were recorded cannot be told apart and is restored.
fn foreign_installation(
    lock: &privet_store_sqlite::DirLock,
    args: &RestoreArgs,
) -> anyhow::Result<Option<String>> {
    use privet_store_sqlite::installation;
    // A file that is not a data store is refused by the install, with its own message.
    if !privet_store_sqlite::is_data_store_backup(&args.file)? {
        return Ok(None);
    }
    let keyring = lock.dir().join(privet_store_sqlite::KEYRING_FILE);
    let (Some(theirs), Some(ours)) = (
        installation::of_store(&args.file)?,
        installation::of_keyring(&keyring)?,
    ) else {
        return Ok(None);
    };
    if theirs == ours {
        return Ok(None);
    }
    let short = |id: &str| id.get(..8).unwrap_or(id).to_owned();
    anyhow::ensure!(
        args.force,
        "{} is a backup of another Privet installation ({}) than the one in {} ({}): none of its subjects has a key in this keyring, so restoring it would purge them all as erased since the backup. Restore it into its own installation's data directory, or pass --force to restore it here anyway",
        args.file.display(),
        short(&theirs),
        lock.dir().display(),
        short(&ours)
    );
    Ok(Some(ours))
}

pub(crate) async fn restore(args: RestoreArgs) -> anyhow::Result<ExitCode> {
    let location = Location::from_args(&args.data)?;
    backend::check_restore_target(&location)?;
    // Refuse while a server holds the directory: replacing its database under it would corrupt it.
    let Some(lock) = backend::lock(&location)? else {
        anyhow::bail!("restore works on the embedded store only");
    };
    // Opened once first, so a directory last used by an older Privet is migrated and carries
    // its installation id before the backup is compared with it.
    drop(privet_store_sqlite::SqliteDir::open(lock.dir())?);
    let adopt = foreign_installation(&lock, &args)?;
    // Opened with the store's "in use" lock still exclusive: no other command sees the
    // backup before what was erased since is purged and the log re-anchored. A foreign
    // backup restored on purpose is this installation's from the moment it is in place.
    let dir = backend::install_and_open(&lock, &args.file, &location, adopt.as_deref()).await?;
    let at = now();
    let purged =
        privet_server::service::backup::purge_unkeyed(dir.store.as_ref(), dir.keyring.as_ref(), at)
            .await?;
    // The backup's audit log ends earlier than the anchor: record the restore and re-anchor.
    let previous = dir.keyring.audit_anchor().await?;
    let entry = dir
        .store
        .append_audit(
            privet_store::NewAuditEntry {
                at,
                actor: "cli".to_owned(),
                action: "backup.restore".to_owned(),
                purpose: None,
                subjects: Vec::new(),
                count: purged.blocks,
                detail: serde_json::json!({
                    "purged_subjects": purged.subjects,
                    "purged_blocks": purged.blocks,
                    "foreign_installation": adopt.is_some(),
                    "previous_anchor_seq": previous.map(|(s, _)| s),
                    "previous_anchor_hash": previous.map(|(_, h)| h.to_string()),
                }),
            },
            &privet_server::service::instance_secrets::audit_chain_after_restore(
                dir.store.as_ref(),
                dir.keyring.as_ref(),
                &dir.epochs,
            )
            .await?,
        )
        .await?;
    dir.keyring
        .reset_audit_anchor(entry.seq, entry.hash)
        .await?;
    drop(dir);
    drop(lock);
    println!(
        "restored {}; purged {} subject(s) and {} record block(s) erased since the backup",
        args.file.display(),
        purged.subjects,
        purged.blocks
    );
    Ok(ExitCode::SUCCESS)
}
