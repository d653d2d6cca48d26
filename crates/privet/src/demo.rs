//! `privet demo`: serve the example products on the embedded store with a demo household and
//! simulated devices.

use crate::cli::DemoArgs;
use anyhow::Context;
use std::process::ExitCode;

pub(crate) async fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    let _ = args;
    Err(anyhow::anyhow!("demo is being written")).context("demo")
}
