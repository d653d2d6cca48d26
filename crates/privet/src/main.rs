//! The `privet` binary: wires the crates together behind one command line.

mod admin_cmd;
mod backend;
mod bench;
mod cli;
mod connection_limits;
mod demo;
mod diagnostics;
mod dpia_cmd;
mod instance_keys;
mod keyring_cmd;
mod label_cmd;
mod manifest_cmd;
mod manifest_diff;
mod mqtt_cmd;
mod pg_dump;
mod psti_cmd;
mod publish_cmd;
mod release_cmd;
mod ropa_cmd;
mod serve_cmd;
mod simulate;

use clap::Parser;
use std::process::ExitCode;

/// The notices the embedded third-party data's licences ask to ship with the binary.
const NOTICES: &str = include_str!("../../../NOTICE");

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("PRIVET_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

fn run() -> anyhow::Result<ExitCode> {
    let cli = cli::Cli::parse();
    match cli.command {
        cli::Command::Manifest(cmd) => manifest_cmd::run(cmd),
        cli::Command::Label(args) => label_cmd::run(args),
        cli::Command::Dpia(args) => dpia_cmd::run(&args),
        cli::Command::Psti(args) => psti_cmd::run(&args),
        cli::Command::Ropa(args) => ropa_cmd::run(args),
        cli::Command::Serve(args) => {
            init_tracing();
            runtime()?.block_on(serve_cmd::run(*args))
        }
        cli::Command::Demo(args) => {
            init_tracing();
            runtime()?.block_on(demo::run(args))
        }
        cli::Command::Key(cmd) => runtime()?.block_on(admin_cmd::key(cmd)),
        cli::Command::Audit(cmd) => runtime()?.block_on(admin_cmd::audit(cmd)),
        cli::Command::Retention(cmd) => runtime()?.block_on(admin_cmd::retention(cmd)),
        cli::Command::Release(cmd) => release_cmd::run(cmd),
        cli::Command::Backup(args) => runtime()?.block_on(admin_cmd::backup(args)),
        cli::Command::Restore(args) => runtime()?.block_on(admin_cmd::restore(args)),
        cli::Command::Keyring(cmd) => runtime()?.block_on(keyring_cmd::run(cmd)),
        cli::Command::Mqtt(cmd) => runtime()?.block_on(mqtt_cmd::run(cmd)),
        cli::Command::Simulate(args) => runtime()?.block_on(simulate::run(args)),
        cli::Command::Bench(cmd) => runtime()?.block_on(bench::run(cmd)),
        cli::Command::Notices => {
            print!("{NOTICES}");
            Ok(ExitCode::SUCCESS)
        }
    }
}
