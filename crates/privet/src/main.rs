//! The `privet` binary: wires the crates together behind one command line.

mod cli;
mod diagnostics;
mod manifest_cmd;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn run() -> anyhow::Result<ExitCode> {
    let cli = cli::Cli::parse();
    match cli.command {
        cli::Command::Manifest(cmd) => manifest_cmd::run(cmd),
    }
}
