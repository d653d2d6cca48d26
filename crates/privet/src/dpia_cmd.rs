//! `privet dpia FILE [--format md|json]`: the DPIA screening and a draft DPIA, and the loader
//! the DPO documents share.

use crate::cli::{DpiaArgs, DpiaFormat};
use crate::diagnostics::Renderer;
use crate::manifest_cmd::lint_context;
use anyhow::{Context, bail};
use privet_manifest::dpia::{self, DraftContext};
use privet_manifest::{Manifest, Severity};
use std::path::Path;
use std::process::ExitCode;

/// Reads a manifest for a DPO document: a file that is not a manifest (unreadable, invalid
/// TOML, or the parser's own errors) fails with the diagnostics `privet manifest check`
/// prints; lint errors are printed too but do not stop it, since the documents describe the
/// manifest as written and a DPO may draft them while it is being fixed.
pub(crate) fn read_manifest(path: &Path) -> anyhow::Result<(String, Manifest)> {
    let file = path.display().to_string();
    let source = std::fs::read_to_string(path).with_context(|| format!("cannot read {file}"))?;
    let renderer = Renderer::new();
    let parsed = match privet_manifest::parse(&source) {
        Ok(p) => p,
        Err(err) => {
            eprint!("{}", renderer.render_syntax(&file, &source, &err));
            bail!("{file} is not valid TOML");
        }
    };
    let parse_errors: Vec<_> = parsed
        .findings
        .iter()
        .filter(|f| f.severity() == Severity::Error)
        .collect();
    if !parse_errors.is_empty() {
        for f in parse_errors {
            eprint!("{}", renderer.render(&file, &source, f));
        }
        bail!("{file} is not a usable manifest; fix it first (privet manifest check {file})");
    }
    let lint_errors: Vec<_> = privet_manifest::lint::lint(&parsed.manifest, &lint_context())
        .into_iter()
        .filter(|f| f.severity() == Severity::Error)
        .collect();
    for f in &lint_errors {
        eprint!("{}", renderer.render(&file, &source, f));
    }
    if !lint_errors.is_empty() {
        eprintln!(
            "{file}: {} lint error(s); the document describes the manifest as written",
            lint_errors.len()
        );
    }
    Ok((source, parsed.manifest))
}

pub(crate) fn run(args: &DpiaArgs) -> anyhow::Result<ExitCode> {
    let (source, m) = read_manifest(&args.file)?;
    match args.format {
        DpiaFormat::Md => print!(
            "{}",
            dpia::markdown(
                &m,
                &source,
                &DraftContext {
                    today: lint_context().today,
                },
            )
        ),
        DpiaFormat::Json => {
            let report = dpia::screen(&m).report(&m, &source);
            println!("{}", serde_json::to_string_pretty(&report)?);
        }
    }
    Ok(ExitCode::SUCCESS)
}
