//! Command-line definitions (clap).

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Privet: the privacy-by-design data backend for smart home products.
#[derive(Debug, Parser)]
#[command(name = "privet", version, about, long_about = None)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Check, explain and export privacy manifests.
    #[command(subcommand)]
    Manifest(ManifestCmd),
}

#[derive(Debug, Subcommand)]
pub(crate) enum ManifestCmd {
    /// Lint manifests against the guidance; exit 0 clean or warnings only, 1 errors, 2 unreadable.
    Check(CheckArgs),
}

#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    /// Manifest files to check.
    #[arg(required = true, value_name = "FILE")]
    pub(crate) files: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    pub(crate) format: CheckFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum CheckFormat {
    /// rustc-style diagnostics with the offending line underlined.
    Text,
    /// One JSON array of findings: code, rule, severity, file, line, column, message, help.
    Json,
}
