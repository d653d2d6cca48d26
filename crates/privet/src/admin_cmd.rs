//! Commands that work on a data directory directly: `key create`, `audit verify`, `retention run`.

use crate::cli::{AuditCmd, DataArgs, KeyCmd, KeyCreateArgs, RetentionCmd, RoleArg};
use anyhow::{Context, bail};
use privet_crypto::{generate_token, hash_token, os_rng};
use privet_server::DataDir;
use privet_store::{ApiKeyId, Keyring, NewApiKey, Role, Store};
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
    if role == Role::Analyst && args.purposes.is_empty() {
        bail!("an analyst key must hold at least one purpose: add --purpose P");
    }
    for p in &args.purposes {
        if !privet_manifest::ids::is_valid_key(p) {
            bail!("`{p}` is not a purpose key (lowercase letters, digits, `_`, `-`)");
        }
    }
    let dir = open(&args.data)?;
    let id = ApiKeyId::new(privet_server::ids::new_id("key"));
    let secret = generate_token(privet_server::access::API_KEY_PREFIX, &mut os_rng());
    dir.store
        .create_api_key(NewApiKey {
            id: id.clone(),
            role,
            purposes: args.purposes.clone(),
            hash: hash_token(secret.expose()),
            label: args.label,
            created_at: jiff::Timestamp::now(),
        })
        .await?;
    let entry = dir
        .store
        .append_audit(privet_store::NewAuditEntry {
            at: jiff::Timestamp::now(),
            actor: "cli".to_owned(),
            action: "key.create".to_owned(),
            purpose: None,
            subjects: Vec::new(),
            count: 0,
            detail: serde_json::json!({"key": id, "role": role.as_str(), "purposes": args.purposes}),
        })
        .await?;
    dir.keyring.set_audit_anchor(entry.seq, entry.hash).await?;
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
