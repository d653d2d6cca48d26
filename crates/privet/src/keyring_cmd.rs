//! `privet keyring rotate` and `privet keyring status`: master-key epochs from the operator's
//! side (docs/keyring-rotation.md). Both print counts and epoch numbers only — never a key,
//! a pseudonym or an id.

use crate::backend::{self, Location};
use crate::cli::{DataArgs, KeyringCmd, KeyringStatusArgs};
use privet_server::Clock;
use privet_server::service::rotation::{self, OlderCopies, RotationReport};
use std::collections::BTreeSet;
use std::process::ExitCode;

pub(crate) async fn run(cmd: KeyringCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        KeyringCmd::Rotate(data) => rotate(&data).await,
        KeyringCmd::Status(args) => status(&args).await,
    }
}

/// `n thing` or `n things`.
fn count(n: u64, thing: &str) -> String {
    if n == 1 {
        format!("1 {thing}")
    } else {
        format!("{n} {thing}s")
    }
}

async fn rotate(data: &DataArgs) -> anyhow::Result<ExitCode> {
    let opened = backend::open(&Location::from_args(data)?).await?;
    let report = rotation::rotate(
        opened.store.as_ref(),
        opened.keyring.as_ref(),
        &opened.epochs,
        Clock::from_env().now(),
        "cli",
    )
    .await
    // The error itself: the operator at the console needs the cause, not a problem title.
    .map_err(anyhow::Error::new)?;
    print_report(&report);
    Ok(if report.is_complete() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn print_report(r: &RotationReport) {
    let to = r.to_epoch;
    let from: Vec<String> = r
        .rewrapped
        .iter()
        .map(|(epoch, n)| format!("{n} from epoch {epoch}"))
        .collect();
    let from = if from.is_empty() {
        String::new()
    } else {
        format!(" ({})", from.join(", "))
    };
    println!(
        "re-wrapped {} under epoch {to}{from}",
        count(r.rewrapped_total(), "key")
    );
    println!(
        "already under epoch {to}: {}; erased while rotating (left erased): {}",
        count(r.current, "key"),
        count(r.erased_meanwhile, "key")
    );
    if !r.secrets_rewrapped.is_empty() {
        println!(
            "re-sealed {} under epoch {to}: {}",
            count(r.secrets_rewrapped.len() as u64, "instance secret"),
            r.secrets_rewrapped.join(", ")
        );
    }
    if r.is_complete() {
        println!(
            "rotation complete: everything in the keyring is under epoch {to}. Check `privet keyring status`, then remove the older epochs from every instance and destroy every copy of their keys."
        );
        return;
    }
    for (epoch, n) in &r.unreadable {
        println!(
            "NOT re-wrapped: {} under epoch {epoch}, which is not configured here or does not open them",
            count(*n, "key")
        );
    }
    if r.unrecognised > 0 {
        println!(
            "NOT re-wrapped: {} in no known format",
            count(r.unrecognised, "key")
        );
    }
    if !r.secrets_unreadable.is_empty() {
        println!(
            "NOT re-sealed: {} (its epoch is not configured here)",
            r.secrets_unreadable.join(", ")
        );
    }
    println!(
        "rotation incomplete: do not retire any epoch yet; configure every epoch the keyring still uses and run it again"
    );
}

async fn status(args: &KeyringStatusArgs) -> anyhow::Result<ExitCode> {
    let opened = backend::open(&Location::from_args(&args.data)?).await?;
    let s = rotation::status(opened.keyring.as_ref(), &opened.epochs)
        .await
        .map_err(anyhow::Error::new)?;
    let configured: Vec<String> = s.configured.iter().map(u32::to_string).collect();
    println!(
        "configured epochs: {} (newest: {})",
        configured.join(", "),
        s.newest
    );
    let epochs: BTreeSet<u32> = s.keys.keys().chain(s.secrets.keys()).copied().collect();
    for epoch in epochs {
        let keys = s.keys.get(&epoch).copied().unwrap_or(0);
        let secrets = s.secrets.get(&epoch).map(Vec::as_slice).unwrap_or(&[]);
        let secrets = if secrets.is_empty() {
            "0 secrets".to_owned()
        } else {
            format!(
                "{} ({})",
                count(secrets.len() as u64, "secret"),
                secrets.join(", ")
            )
        };
        let note = if !s.configured.contains(&epoch) {
            " (NOT CONFIGURED here: these cannot be read)"
        } else if epoch == s.newest {
            " (newest)"
        } else if s.can_retire(epoch) {
            " (can be retired)"
        } else {
            " (still in use: run `privet keyring rotate`)"
        };
        println!("epoch {epoch}: {}, {secrets}{note}", count(keys, "key"));
    }
    if s.unrecognised > 0 {
        println!("in no known format: {}", s.unrecognised);
    }
    match s.last_rotation {
        Some(last) => {
            println!("last rotation: to epoch {} at {}", last.epoch, last.since);
            let now = Clock::from_env().now();
            match rotation::older_copies_unreadable_by(last.since, args.rotation.period(), now) {
                OlderCopies::UnreadableBy(due) => println!(
                    "next rotation due by: {due} (every {} days)",
                    args.rotation.days
                ),
                OlderCopies::Overdue => println!(
                    "next rotation OVERDUE (every {} days): erasure receipts cannot promise when older keyring copies become unreadable",
                    args.rotation.days
                ),
            }
        }
        None => println!("last rotation: none recorded"),
    }
    Ok(ExitCode::SUCCESS)
}
