//! `privet manifest …`: check, notice and export (publish is in `publish_cmd`, diff in
//! `manifest_diff`).

use crate::cli::{
    CheckArgs, CheckFormat, ExportArgs, ExportFormat, ManifestCmd, NoticeArgs, NoticeFormat,
};
use crate::diagnostics::Renderer;
use anyhow::{Context, bail};
use privet_manifest::{FindingRecord, LineIndex, LintContext, Manifest, Severity};
use std::path::Path;
use std::process::ExitCode;

pub(crate) fn run(cmd: ManifestCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        ManifestCmd::Check(args) => check(&args),
        ManifestCmd::Notice(args) => notice(&args),
        ManifestCmd::Export(args) => export(&args),
        // Works on the store, so it runs async.
        ManifestCmd::Publish(args) => crate::runtime()?.block_on(crate::publish_cmd::run(args)),
        ManifestCmd::Diff(args) => crate::manifest_diff::run(&args),
    }
}

/// Reads and checks a manifest; fails (printing the diagnostics) if it has errors.
pub(crate) fn load(path: &Path) -> anyhow::Result<Manifest> {
    let file = path.display().to_string();
    let source = std::fs::read_to_string(path).with_context(|| format!("cannot read {file}"))?;
    let renderer = Renderer::new();
    let checked = match privet_manifest::check(&source, &lint_context()) {
        Ok(c) => c,
        Err(err) => {
            eprint!("{}", renderer.render_syntax(&file, &source, &err));
            bail!("{file} is not valid TOML");
        }
    };
    if checked.has_errors() {
        for f in checked
            .findings
            .iter()
            .filter(|f| f.severity() == Severity::Error)
        {
            eprint!("{}", renderer.render(&file, &source, f));
        }
        bail!("{file} has errors; fix them first (privet manifest check {file})");
    }
    checked
        .usable()
        .with_context(|| format!("{file} cannot be used"))
}

fn notice(args: &NoticeArgs) -> anyhow::Result<ExitCode> {
    let m = load(&args.file)?;
    match args.format {
        NoticeFormat::Md => print!("{}", privet_manifest::notice::markdown(&m)),
        NoticeFormat::Html => print!("{}", privet_manifest::notice::html(&m)?),
    }
    Ok(ExitCode::SUCCESS)
}

fn export(args: &ExportArgs) -> anyhow::Result<ExitCode> {
    let m = load(&args.file)?;
    match args.format {
        ExportFormat::Fideslang => print!("{}", privet_manifest::fideslang::export(&m)?),
    }
    Ok(ExitCode::SUCCESS)
}

/// Today in UTC, for date rules such as an ended security update period.
pub(crate) fn lint_context() -> LintContext {
    LintContext {
        today: jiff::Timestamp::now()
            .to_zoned_datetime(jiff::tz::TimeZone::UTC)
            .date(),
    }
}

/// Outcome of checking one file, ordered by how bad it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Outcome {
    Clean,
    Errors,
    Unreadable,
}

fn check(args: &CheckArgs) -> anyhow::Result<ExitCode> {
    let cx = lint_context();
    let renderer = Renderer::new();
    let mut worst = Outcome::Clean;
    let mut records: Vec<FindingRecord> = Vec::new();
    let (mut errors, mut warnings) = (0usize, 0usize);

    for path in &args.files {
        let file = path.display().to_string();
        let source = match std::fs::read_to_string(path) {
            Ok(s) => s,
            Err(err) => {
                worst = worst.max(Outcome::Unreadable);
                match args.format {
                    CheckFormat::Text => eprintln!("error[PV000]: cannot read {file}: {err}"),
                    CheckFormat::Json => records.push(FindingRecord {
                        code: "PV000",
                        rule: "unreadable-file",
                        severity: Severity::Error,
                        file: file.clone(),
                        line: 0,
                        column: 0,
                        message: format!("cannot read the file: {err}"),
                        help: "check the path and the file's permissions".to_owned(),
                    }),
                }
                continue;
            }
        };
        let index = LineIndex::new(&source);
        let checked = match privet_manifest::check(&source, &cx) {
            Ok(c) => c,
            Err(err) => {
                worst = worst.max(Outcome::Unreadable);
                match args.format {
                    CheckFormat::Text => {
                        eprint!("{}", renderer.render_syntax(&file, &source, &err))
                    }
                    CheckFormat::Json => {
                        let pos = index.line_col(&source, err.span.map_or(0, |s| s.start));
                        records.push(FindingRecord {
                            code: "PV000",
                            rule: "invalid-toml",
                            severity: Severity::Error,
                            file: file.clone(),
                            line: pos.line,
                            column: pos.column,
                            message: format!("invalid TOML: {}", err.message.trim()),
                            help: "fix the TOML syntax at this position; see https://toml.io"
                                .to_owned(),
                        });
                    }
                }
                continue;
            }
        };
        let (e, w) = (
            checked.count(Severity::Error),
            checked.count(Severity::Warning),
        );
        errors += e;
        warnings += w;
        if e > 0 {
            worst = worst.max(Outcome::Errors);
        }
        match args.format {
            CheckFormat::Text => {
                for f in &checked.findings {
                    eprint!("{}", renderer.render(&file, &source, f));
                }
                eprintln!("{file}: {}", summary(e, w));
            }
            CheckFormat::Json => records.extend(
                checked
                    .findings
                    .iter()
                    .map(|f| f.to_record(&file, &source, &index)),
            ),
        }
    }

    match args.format {
        CheckFormat::Text if args.files.len() > 1 => {
            eprintln!(
                "total: {} in {} files",
                summary(errors, warnings),
                args.files.len()
            );
        }
        CheckFormat::Text => {}
        CheckFormat::Json => println!("{}", serde_json::to_string_pretty(&records)?),
    }
    Ok(ExitCode::from(match worst {
        Outcome::Clean => 0,
        Outcome::Errors => 1,
        Outcome::Unreadable => 2,
    }))
}

fn summary(errors: usize, warnings: usize) -> String {
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    if errors == 0 && warnings == 0 {
        "ok, no findings".to_owned()
    } else {
        format!(
            "{}, {}",
            plural(errors, "error"),
            plural(warnings, "warning")
        )
    }
}
