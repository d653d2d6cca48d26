//! `privet bench pg-server` (hidden): the server under test of a PostgreSQL bench run, started
//! by the bench as its own process (see `bench/server.rs`). It is `privet serve` on the schemas
//! the bench made for the run rather than the operator's `privet` ones, with a master key it
//! generates for itself: the key lives in this process only, is never printed nor written,
//! and dies with the run's schemas. It creates an admin API key for the bench and prints it as
//! its first line on stdout, then serves until SIGTERM.

use super::server::PG_URL_ENV;
use clap::Args;
use privet_crypto::{MasterKey, MasterKeys, os_rng};
use privet_server::service::{api_keys, manifests};
use privet_server::{Clock, Config, Products, Server, shutdown_signal};
use privet_store::Role;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Arguments of the hidden `privet bench pg-server`.
#[derive(Debug, Args)]
pub(crate) struct PgServerArgs {
    /// The database, from the environment so that `ps` never shows a password.
    #[arg(long, env = PG_URL_ENV, hide_env_values = true, value_name = "URL")]
    database_url: String,
    /// The data schema (made by the bench).
    #[arg(long)]
    schema: String,
    /// The keyring schema (made by the bench).
    #[arg(long)]
    keyring_schema: String,
    /// Directory of product manifests.
    #[arg(long, value_name = "DIR")]
    manifests: PathBuf,
    /// Address to listen on.
    #[arg(long)]
    listen: SocketAddr,
    /// Most events in one ingest batch.
    #[arg(long)]
    max_batch_events: usize,
    /// Sustained ingest requests per second per device.
    #[arg(long)]
    device_rate: u32,
    /// Burst of ingest requests per device.
    #[arg(long)]
    device_burst: u32,
    /// Seconds between retention sweeps.
    #[arg(long)]
    retention_interval_secs: u64,
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("PRIVET_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

pub(super) async fn run(args: PgServerArgs) -> anyhow::Result<ExitCode> {
    init_tracing();
    let clock = Clock::from_env();
    let cx = privet_manifest::LintContext {
        today: clock.today_utc(),
    };
    let (local, _) = Products::load_dir(&args.manifests, &cx)
        .map_err(|e| anyhow::anyhow!("not starting: {e}"))?;
    // For this run only: whatever the schemas hold is dropped with them afterwards.
    let epochs = MasterKeys::single(MasterKey::generate(&mut os_rng()));
    let mut options = privet_store_postgres::PgOptions::new(args.database_url.clone());
    options.schema = args.schema;
    options.keyring_schema = args.keyring_schema;
    let opened = crate::backend::open_postgres_with(&options, epochs).await?;
    let (_, secret) = api_keys::create(
        opened.store.as_ref(),
        opened.keyring.as_ref(),
        &opened.audit_chain().await?,
        clock.now(),
        "bench",
        Role::Admin,
        Vec::new(),
        "bench".to_owned(),
    )
    .await
    .map_err(anyhow::Error::new)?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", secret.expose())?;
        out.flush()?;
    }
    let products = manifests::publish(
        opened.store.as_ref(),
        opened.keyring.as_ref(),
        &opened.audit_chain().await?,
        &local,
        &cx,
        "bench",
        clock.now(),
    )
    .await
    .map_err(|e| anyhow::anyhow!("not starting: {e}"))?;
    let config = Config {
        listen: args.listen,
        max_batch_events: args.max_batch_events,
        device_requests_per_second: args.device_rate,
        device_burst: args.device_burst,
        retention_interval: Duration::from_secs(args.retention_interval_secs.max(1)),
        ..Config::default()
    };
    let server = Server::bind(config, opened.into_parts(products, clock)).await?;
    eprintln!("privet listening on http://{}", server.local_addr());
    server.run_until(shutdown_signal()).await?;
    Ok(ExitCode::SUCCESS)
}
