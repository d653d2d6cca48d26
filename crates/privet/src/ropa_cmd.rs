//! `privet ropa FILE… --format csv|html|xlsx [--out F]`: the records of processing (UK GDPR
//! Art. 30) of the products, a row per product and purpose (privet_manifest::ropa).

use crate::manifest_cmd::{lint_context, load};
use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use privet_manifest::ropa::{self, Ropa};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Arguments of `privet ropa`.
#[derive(Debug, Args)]
pub(crate) struct RopaArgs {
    /// Manifest files, one per product.
    #[arg(required = true, value_name = "FILE")]
    pub(crate) files: Vec<PathBuf>,
    /// Output format: CSV (RFC 4180), a standalone HTML page, or an Excel workbook.
    #[arg(long, value_enum, default_value_t = RopaFormat::Csv)]
    pub(crate) format: RopaFormat,
    /// Write to this file instead of standard output (required for xlsx).
    #[arg(long, value_name = "F")]
    pub(crate) out: Option<PathBuf>,
    /// Who keeps this record, shown above the table, e.g. "Acme Ltd, DPO: dpo@acme.example".
    #[arg(long, value_name = "TEXT")]
    pub(crate) kept_by: Option<String>,
}

/// The formats of `privet ropa`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum RopaFormat {
    /// CSV (RFC 4180, UTF-8) with a header row.
    Csv,
    /// A complete HTML page.
    Html,
    /// An Excel workbook (written to --out).
    Xlsx,
}

pub(crate) fn run(args: RopaArgs) -> anyhow::Result<ExitCode> {
    // Refused before any manifest is read: a workbook is binary, not for a terminal.
    if args.format == RopaFormat::Xlsx && args.out.is_none() {
        bail!(
            "--format xlsx writes a binary workbook: name the file with --out, e.g. --out records-of-processing.xlsx"
        );
    }
    let manifests = args
        .files
        .iter()
        .map(|f| load(f))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let record = Ropa::from_manifests(&manifests, args.kept_by, lint_context().today);
    let bytes = match args.format {
        RopaFormat::Csv => ropa::csv(&record)?.into_bytes(),
        RopaFormat::Html => ropa::html(&record)?.into_bytes(),
        RopaFormat::Xlsx => ropa::xlsx(&record)?,
    };
    match &args.out {
        Some(path) => write(path, &bytes)?,
        None => std::io::stdout()
            .lock()
            .write_all(&bytes)
            .context("cannot write to standard output")?,
    }
    Ok(ExitCode::SUCCESS)
}

fn write(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}
