//! `privet keyring rotate` and `privet keyring status`: master-key epochs from the operator's
//! side (docs/keyring-rotation.md). Both print counts and epoch numbers only — never a key,
//! a pseudonym or an id. Both refuse a data directory that holds no store (a mistyped
//! `--data` would otherwise become a new one with a fresh master key), and an instance whose
//! key for an epoch is not the keyring's.

use crate::backend::{self, Location, Opened};
use crate::cli::{DataArgs, KeyringCmd, KeyringRotateArgs};
use crate::instance_keys::{self, in_days};
use privet_server::Clock;
use privet_server::service::instance_secrets;
use privet_server::service::rotation::{self, RotationReport};
use std::collections::BTreeSet;
use std::process::ExitCode;

pub(crate) async fn run(cmd: KeyringCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        KeyringCmd::Rotate(args) => rotate(&args).await,
        KeyringCmd::Status(data) => status(&data).await,
    }
}

/// Opens an existing backend; never makes a data directory.
async fn open_existing(data: &DataArgs) -> anyhow::Result<Opened> {
    let location = Location::from_args(data)?;
    backend::require_existing(&location)?;
    backend::open(&location).await
}

/// `n thing` or `n things`.
fn count(n: u64, thing: &str) -> String {
    if n == 1 {
        format!("1 {thing}")
    } else {
        format!("{n} {thing}s")
    }
}

async fn rotate(args: &KeyringRotateArgs) -> anyhow::Result<ExitCode> {
    let opened = open_existing(&args.data).await?;
    let report = rotation::rotate(
        opened.store.as_ref(),
        opened.keyring.as_ref(),
        &opened.audit_chain().await?,
        &opened.epochs,
        Clock::from_env().now(),
        "cli",
    )
    .await
    // The error itself: the operator at the console needs the cause, not a problem title.
    .map_err(anyhow::Error::new)?;
    print_report(&report);
    if !report.is_complete() {
        if args.every_days.is_some() {
            println!("rotation period NOT changed: the rotation is incomplete");
        }
        return Ok(ExitCode::from(1));
    }
    if let Some(n) = args.every_days {
        let was =
            instance_secrets::set_rotation_period(opened.keyring.as_ref(), instance_keys::days(n))
                .await
                .map_err(anyhow::Error::new)?;
        match was {
            Some(was) => println!(
                "rotation period: every {n} days for every instance, counted from the last rotation (was {} days)",
                in_days(was)
            ),
            None => println!(
                "rotation period: every {n} days for every instance, counted from the last rotation"
            ),
        }
    }
    Ok(ExitCode::SUCCESS)
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
            "rotation complete: everything in the keyring is under epoch {to} (checked by a last pass). Check `privet keyring status`, then remove the older epochs from every instance and destroy every copy of their keys."
        );
        return;
    }
    for (epoch, n) in &r.unreadable {
        if *epoch == to {
            println!(
                "NOT readable: {} labelled epoch {to} that epoch {to}'s key here does not open: an instance has a different key for epoch {to}",
                count(*n, "key")
            );
        } else {
            println!(
                "NOT re-wrapped: {} under epoch {epoch}, which is not configured here or does not open them",
                count(*n, "key")
            );
        }
    }
    for (epoch, n) in &r.left_behind {
        println!(
            "STILL MOVING after {} passes: {} made under epoch {epoch} during the rotation: an instance without epoch {to} is still running; give every instance epoch {to}, restart them, and run it again",
            r.passes,
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

async fn status(data: &DataArgs) -> anyhow::Result<ExitCode> {
    let opened = open_existing(data).await?;
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
    let period = match s.period {
        Some(period) => {
            println!(
                "rotation period: every {} days (kept in the keyring, for every instance)",
                in_days(period)
            );
            period
        }
        None => {
            println!(
                "rotation period: none kept yet ({} days unless the first `privet serve` says otherwise)",
                instance_keys::DEFAULT_ROTATION_DAYS
            );
            instance_keys::days(instance_keys::DEFAULT_ROTATION_DAYS)
        }
    };
    match s.last_rotation {
        Some(last) => {
            println!("last rotation: to epoch {} at {}", last.epoch, last.since);
            let due = rotation::next_rotation_due(last, period);
            if due > Clock::from_env().now() {
                println!("next rotation due by: {due}");
            } else {
                println!(
                    "next rotation OVERDUE since {due}: erasure receipts cannot promise when older keyring copies become unreadable"
                );
            }
            if s.newest > last.epoch {
                println!(
                    "epoch {} was added after the last rotation: keyring copies taken since hold keys under it, which only the rotation after the next one retires; run `privet keyring rotate`",
                    s.newest
                );
            }
        }
        None => println!("last rotation: none recorded"),
    }
    Ok(ExitCode::SUCCESS)
}
