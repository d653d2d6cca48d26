//! `privet bench`: benchmarks (being written).

use clap::Subcommand;
use std::process::ExitCode;

/// Benchmarks.
#[derive(Debug, Subcommand)]
pub(crate) enum BenchCmd {
    /// Ingest.
    Ingest,
}

pub(crate) async fn run(_cmd: BenchCmd) -> anyhow::Result<ExitCode> {
    anyhow::bail!("bench is being written")
}
