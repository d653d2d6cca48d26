//! `privet bench`: benchmarks that measure their own baseline in the same run and print the
//! ratio, so a figure means the same on any machine.

mod corpus;
mod ingest;
mod load;
mod procfs;
mod raw;
mod server;

use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// Benchmarks.
#[derive(Debug, Subcommand)]
pub(crate) enum BenchCmd {
    /// Events through the full pipeline over HTTP, against one row per event in SQLite.
    Ingest(IngestArgs),
    /// Subject export against a plain query (arrives with the rights issue, issue 4).
    Export,
    /// Subject erasure against a plain DELETE (arrives with the rights issue, issue 4).
    Erase,
}

/// Arguments of `privet bench ingest`.
#[derive(Debug, Args)]
pub(crate) struct IngestArgs {
    /// Events to send (and to insert in the baseline).
    #[arg(long, default_value_t = 1_000_000)]
    pub(crate) events: usize,
    /// Events per ingest request.
    #[arg(long, default_value_t = 1_000)]
    pub(crate) batch: usize,
    /// Concurrent HTTP clients.
    #[arg(long, default_value_t = 8)]
    pub(crate) clients: usize,
    /// Simulated devices the events come from (about two per household).
    #[arg(long, default_value_t = 100)]
    pub(crate) devices: usize,
    /// Rows per transaction in the raw baseline.
    #[arg(long, default_value_t = 10_000)]
    pub(crate) raw_batch: usize,
    /// Where to put the server's data directory and the baseline's database (must not hold
    /// either yet); a temporary directory, removed afterwards, when omitted.
    #[arg(long = "data", value_name = "DIR")]
    pub(crate) data: Option<PathBuf>,
    /// Directory of product manifests; the built-in example products when omitted.
    #[arg(long, value_name = "DIR")]
    pub(crate) manifests: Option<PathBuf>,
    /// Seed for the generated events.
    #[arg(long, default_value_t = 2026)]
    pub(crate) seed: u64,
}

pub(crate) async fn run(cmd: BenchCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        BenchCmd::Ingest(args) => ingest::run(args).await,
        BenchCmd::Export => anyhow::bail!(
            "`privet bench export` arrives with the rights issue (issue 4): the subject export endpoint it measures does not exist yet"
        ),
        BenchCmd::Erase => anyhow::bail!(
            "`privet bench erase` arrives with the rights issue (issue 4): the erasure endpoint it measures does not exist yet"
        ),
    }
}
