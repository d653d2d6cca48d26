//! `privet manifest publish FILE…`: lints each manifest as `serve` does and publishes it to
//! the store as a new version of its product (audited as `cli`'s). On PostgreSQL every running
//! instance hears of it and serves it at once; on SQLite the one server of the data directory
//! serves it from its next start (it has no one to hear it from).

use crate::backend::{self, Location};
use crate::cli::PublishArgs;
use crate::diagnostics::Renderer;
use privet_manifest::{LintContext, Severity};
use privet_server::Clock;
use privet_server::service::error::ServiceError;
use privet_server::service::publish::{Publication, publish_one, short};
use std::process::ExitCode;

/// Outcome of one file, ordered by how bad it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Outcome {
    Published,
    Refused,
    Unreadable,
}

/// A file that passed the lint, waiting for the store.
struct Ready {
    file: String,
    text: String,
}

pub(crate) async fn run(args: PublishArgs) -> anyhow::Result<ExitCode> {
    let clock = Clock::from_env();
    let cx = LintContext {
        today: clock.today_utc(),
    };
    let mut worst = Outcome::Published;
    let mut ready = Vec::new();
    for path in &args.files {
        match lint(path, &cx) {
            Ok(r) => ready.push(r),
            Err(outcome) => worst = worst.max(outcome),
        }
    }
    if !ready.is_empty() {
        let location = Location::from_args(&args.data)?;
        let opened = backend::open(&location).await?;
        let chain = opened.audit_chain().await?;
        let mut new = 0;
        for r in ready {
            let published = publish_one(
                opened.store.as_ref(),
                opened.keyring.as_ref(),
                &chain,
                &r.text,
                "cli",
                &cx,
                clock.now(),
            )
            .await;
            match published {
                Ok(Publication::New(m)) => {
                    new += 1;
                    println!(
                        "published {}@{} (sha256 {}…)",
                        m.product,
                        m.version,
                        short(&m.digest)
                    );
                }
                Ok(Publication::AlreadyPublished(m)) => println!(
                    "already published {}@{} (sha256 {}…, on {})",
                    m.product,
                    m.version,
                    short(&m.digest),
                    m.published_at
                ),
                Err(e @ (ServiceError::Conflict(_) | ServiceError::Invalid(_))) => {
                    eprintln!("error: {}: {e}", r.file);
                    worst = worst.max(Outcome::Refused);
                }
                // The error itself: the operator sees a store failure's cause.
                Err(e) => return Err(anyhow::Error::new(e)),
            }
        }
        if new > 0 && matches!(location, Location::Sqlite { .. }) {
            eprintln!(
                "note: a server already running on this data directory serves the new version once restarted (POST /v1/products publishes to a running one)"
            );
        }
    }
    Ok(ExitCode::from(match worst {
        Outcome::Published => 0,
        Outcome::Refused => 1,
        Outcome::Unreadable => 2,
    }))
}

/// Reads and lints one file, printing its error findings as `manifest check` does; the file
/// when it may be published, else how it failed.
fn lint(path: &std::path::Path, cx: &LintContext) -> Result<Ready, Outcome> {
    let file = path.display().to_string();
    let renderer = Renderer::new();
    let text = std::fs::read_to_string(path).map_err(|err| {
        eprintln!("error[PV000]: cannot read {file}: {err}");
        Outcome::Unreadable
    })?;
    let checked = privet_manifest::check(&text, cx).map_err(|err| {
        eprint!("{}", renderer.render_syntax(&file, &text, &err));
        eprintln!("{file}: not published: it is not valid TOML");
        Outcome::Unreadable
    })?;
    if checked.has_errors() {
        for f in checked
            .findings
            .iter()
            .filter(|f| f.severity() == Severity::Error)
        {
            eprint!("{}", renderer.render(&file, &text, f));
        }
        let n = checked.count(Severity::Error);
        eprintln!(
            "{file}: not published: {n} error{}; a manifest with errors is never published",
            if n == 1 { "" } else { "s" }
        );
        return Err(Outcome::Refused);
    }
    Ok(Ready { file, text })
}
