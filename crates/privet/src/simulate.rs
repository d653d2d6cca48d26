//! `privet simulate`: a fleet of simulated devices (being written).

use clap::Args;
use std::process::ExitCode;

/// Arguments of `privet simulate`.
#[derive(Debug, Args)]
pub(crate) struct SimulateArgs {
    /// Server URL.
    #[arg(long)]
    pub(crate) url: String,
}

pub(crate) async fn run(_args: SimulateArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("simulate is being written")
}
