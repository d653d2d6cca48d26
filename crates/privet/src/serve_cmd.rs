//! `privet serve`: the server, refusing to start on a manifest with errors.

use crate::cli::ServeArgs;
use crate::diagnostics::Renderer;
use anyhow::bail;
use privet_server::{Config, ProductsError, Server, shutdown_signal};
use std::process::ExitCode;
use std::time::Duration;

/// Prints every manifest error the way `privet manifest check` does.
pub(crate) fn print_manifest_errors(err: &ProductsError) {
    if let ProductsError::Invalid { files, .. } = err {
        let r = Renderer::new();
        for f in files {
            let name = f.path.display().to_string();
            for finding in f
                .findings
                .iter()
                .filter(|x| x.severity() == privet_manifest::Severity::Error)
            {
                eprint!("{}", r.render(&name, &f.source, finding));
            }
        }
    }
}

pub(crate) async fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    if args.database_url.is_some() {
        bail!(
            "--database-url: the PostgreSQL backend is not part of this build yet; serve with the embedded SQLite store (--data)"
        );
    }
    if args.mqtt.is_some() {
        bail!(
            "--mqtt: the MQTT bridge is not part of this build yet; devices can send to POST /v1/ingest"
        );
    }
    let mut config = Config::new(args.data.dir, args.manifests);
    config.listen = args.listen;
    config.max_body_bytes = args.max_body_bytes;
    config.max_batch_events = args.max_batch_events;
    config.device_requests_per_second = args.device_rate;
    config.device_burst = args.device_burst;
    config.max_clock_skew = Duration::from_secs(args.max_clock_skew_secs);
    config.retention_interval = Duration::from_secs(args.retention_interval_secs.max(1));
    config.master_key = std::env::var("PRIVET_MASTER_KEY").ok();
    let server = match Server::start(config).await {
        Ok(s) => s,
        Err(privet_server::ServeError::Products(e)) => {
            print_manifest_errors(&e);
            bail!("not starting: {e}");
        }
        Err(e) => return Err(e.into()),
    };
    let addr = server.local_addr();
    tracing::info!(%addr, products = server.state().products().iter().count(), "privet listening");
    eprintln!("privet listening on http://{addr}");
    server.run_until(shutdown_signal()).await?;
    eprintln!("privet stopped");
    Ok(ExitCode::SUCCESS)
}
