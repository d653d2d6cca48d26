//! `privet simulate`: a fleet of simulated devices for the example products, sending realistic
//! events generated from each product's manifest (undeclared fields included, as real firmware
//! sends) at a given rate, with a progress bar and a closing summary.
//!
//! [`run_fleet`] is the part `privet demo` reuses with devices it set up itself.

mod admin_api;
mod events;
mod fleet;
mod latency;
pub(crate) mod manifests;
mod provision;
mod summary;
mod values;
#[cfg(test)]
mod values_tests;

pub(crate) use admin_api::{AdminApi, http_client};
pub(crate) use events::{EventGen, EventSubject};
pub(crate) use fleet::{FleetOptions, SimDevice, run_fleet, run_fleet_with};
pub(crate) use latency::human;
pub(crate) use provision::{FleetPlan, Provisioned, provision};
pub(crate) use summary::{IngestReply, Summary, thousands};

use anyhow::Context;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Arguments of `privet simulate`.
#[derive(Debug, Args)]
pub(crate) struct SimulateArgs {
    /// Server URL, e.g. http://127.0.0.1:8080.
    #[arg(long)]
    pub(crate) url: String,
    /// How many devices, spread over the products (a household has one to three).
    #[arg(long, default_value_t = 10)]
    pub(crate) devices: usize,
    /// Events per second over the whole fleet.
    #[arg(long, default_value_t = 50.0, value_name = "EVENTS_PER_S")]
    pub(crate) rate: f64,
    /// How long to run, in seconds; until Ctrl-C when omitted.
    #[arg(long, value_name = "S")]
    pub(crate) duration: Option<f64>,
    /// An admin API key (`privet key create --role admin`) to set up households and devices.
    #[arg(
        long,
        env = "PRIVET_API_KEY",
        hide_env_values = true,
        value_name = "ADMIN_KEY"
    )]
    pub(crate) key: String,
    /// Directory of product manifests (`*.toml`); the built-in example products when omitted.
    #[arg(long, value_name = "DIR")]
    pub(crate) manifests: Option<PathBuf>,
    /// Most events in one request; a device batches at most a second of its events.
    #[arg(long, default_value_t = fleet::DEFAULT_MAX_BATCH, value_name = "B")]
    pub(crate) batch: usize,
    /// Share (0–1) of the consent-based purposes granted, per subject.
    #[arg(long, default_value_t = 0.5)]
    pub(crate) consent_share: f64,
    /// Seed for the fleet and its values (random when omitted).
    #[arg(long)]
    pub(crate) seed: Option<u64>,
}

pub(crate) async fn run(args: SimulateArgs) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(args.devices > 0, "--devices must be at least 1");
    anyhow::ensure!(args.batch > 0, "--batch must be at least 1");
    let duration = match args.duration {
        Some(s) if s > 0.0 => match Duration::try_from_secs_f64(s) {
            Ok(d) => Some(d),
            Err(_) => anyhow::bail!("--duration must be a positive number of seconds"),
        },
        Some(_) => anyhow::bail!("--duration must be a positive number of seconds"),
        None => None,
    };
    let manifests = manifests::load(args.manifests.as_deref())?;
    let seed = args.seed.unwrap_or_else(|| fastrand::u64(..));
    let api = AdminApi::new(&args.url, args.key)?;
    eprintln!(
        "setting up {} devices over {} products on {}…",
        args.devices,
        manifests.len(),
        args.url
    );
    let devices = provision(
        &api,
        &manifests,
        &FleetPlan {
            devices: args.devices,
            consent_share: args.consent_share.clamp(0.0, 1.0),
            seed,
        },
    )
    .await
    .context("setting up the fleet")?;
    let households = {
        let mut h: Vec<&str> = devices.iter().map(|d| d.household.as_str()).collect();
        h.sort_unstable();
        h.dedup();
        h.len()
    };
    eprintln!(
        "{} devices in {households} households; sending {} events/s{}",
        devices.len(),
        args.rate,
        duration.map_or_else(
            || " until Ctrl-C".to_owned(),
            |d| format!(" for {}", human(d))
        )
    );
    let options = FleetOptions {
        rate: args.rate,
        duration,
        progress: true,
        max_batch: args.batch,
        seed,
    };
    let sims = devices.into_iter().map(|d| d.sim).collect();
    // Ctrl-C stops the fleet early; the summary then covers what was sent.
    let stop = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let summary = run_fleet_with(&args.url, sims, &options, stop).await?;
    println!("{summary}");
    Ok(if summary.errors() == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
