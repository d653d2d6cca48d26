//! `privet serve`: the server, refusing to start on a manifest with errors.

use crate::backend::{self, Location};
use crate::cli::ServeArgs;
use crate::diagnostics::Renderer;
use anyhow::{Context, bail};
use privet_server::config::TlsFiles;
use privet_server::mqtt::{BrokerUrl, MqttConfig, TlsSettings};
use privet_server::security_txt::SecurityTxt;
use privet_server::service::manifests;
use privet_server::tls::TlsCertificates;
use privet_server::{Clock, Config, Products, ProductsError, Server, shutdown_signal};
use std::path::Path;
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

/// Whether an instance whose manifests directory failed to load with `err` may serve what is
/// published instead: only on PostgreSQL (where others publish), and only when the directory
/// holds no manifest or does not exist. Any other failure to read it (no permission, not a
/// directory, a file that cannot be read) stops the start, as on SQLite: a directory that is
/// there but unreadable is a mistake to report, not one to paper over with older manifests.
fn serves_published(err: &ProductsError, dir: &Path, location: &Location) -> bool {
    if !matches!(location, Location::Postgres(_)) {
        return false;
    }
    match err {
        ProductsError::Empty(_) => true,
        ProductsError::Io { path, source } => {
            source.kind() == std::io::ErrorKind::NotFound && path == dir
        }
        _ => false,
    }
}

pub(crate) async fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    // Checked before anything is opened: a malformed URL is a typo to report at once.
    let mut mqtt = mqtt_config(&args.mqtt)?;
    let tls = tls_files(&args.tls);
    if let Some(files) = &tls {
        // Read here as well as by the server: a bad file is reported before the store is
        // opened (or, on a first start, made).
        TlsCertificates::load(files.clone()).context("not starting: --tls-cert/--tls-key")?;
    }
    // From here on a SIGHUP (a certificate renewed while the store opens) must not end the
    // process, its default: tokio's handler, once installed, stays for the process, and the
    // server reads the files again when it binds, so an early one loses nothing.
    let _early_hangup = match &tls {
        Some(_) => Some(
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
                .context("cannot handle SIGHUP (it reloads the TLS certificate)")?,
        ),
        None => None,
    };
    let location = Location::from_args(&args.data)?;
    let clock = Clock::from_env();
    // Checked before the store is opened: a contact that sends reporters nowhere is a typo to
    // report at once.
    let security_txt = SecurityTxt::from_settings(&args.security_txt.settings(), clock.now())
        .context("not starting")?;
    let cx = privet_manifest::LintContext {
        today: clock.today_utc(),
    };
    // Checked before the store is touched: a manifest with errors is never published.
    let local = match Products::load_dir(&args.manifests, &cx) {
        Ok((p, _)) => Some(p),
        // With none here, the instance serves what others published.
        Err(e) if serves_published(&e, &args.manifests, &location) => None,
        Err(e) => {
            print_manifest_errors(&e);
            bail!("not starting: {e}");
        }
    };
    // Taken before opening and held while serving: a second server or a restore is refused
    // before it touches the store.
    let _lock = backend::lock(&location)?;
    let opened = backend::open(&location).await?;
    // One period for every instance, kept in the keyring: a different flag is refused.
    let key_rotation_period =
        crate::instance_keys::rotation_period(opened.keyring.as_ref(), args.rotation.days).await?;
    let products = match local {
        Some(local) => {
            manifests::publish(
                opened.store.as_ref(),
                opened.keyring.as_ref(),
                &opened.audit_chain().await?,
                &local,
                &cx,
                "serve",
                clock.now(),
            )
            .await
        }
        None => manifests::load(opened.store.as_ref(), &cx).await,
    };
    let products = match products {
        Ok(p) => p,
        Err(manifests::ManifestsError::Products(e)) => {
            print_manifest_errors(&e);
            bail!("not starting: {e}");
        }
        Err(e) => bail!("not starting: {e}"),
    };
    let config = Config {
        listen: args.listen,
        max_body_bytes: args.max_body_bytes,
        max_batch_events: args.max_batch_events,
        device_requests_per_second: args.device_rate,
        device_burst: args.device_burst,
        max_clock_skew: Duration::from_secs(args.max_clock_skew_secs),
        retention_interval: Duration::from_secs(args.retention_interval_secs.max(1)),
        trusted_proxies: args.trusted_proxies,
        // `None` without the flag: the default rule (`Config::cookie_secure`) decides.
        secure_cookies: args.tls.secure_cookies.then_some(true),
        tls,
        key_rotation_period,
        connections: crate::connection_limits::limits(Some(&args.connections)),
        security_txt,
    };
    let mut server = Server::bind(config, opened.into_parts(products, clock))
        .await
        .context("not starting")?;
    if let Some(cfg) = &mut mqtt {
        if cfg.client_id.is_empty() {
            // From the port actually bound (`--listen …:0` included).
            cfg.client_id = default_client_id(server.local_addr());
        }
        server
            .start_mqtt(cfg)
            .await
            .map_err(|e| anyhow::anyhow!("not starting: --mqtt: {e}"))?;
        eprintln!(
            "privet bridging MQTT from {} as client `{}`{}",
            cfg.url.redacted(),
            cfg.client_id,
            if cfg.dynsec {
                " (managing device clients by dynamic security)"
            } else {
                ""
            }
        );
    }
    // Before "listening" is printed: whoever reads it may signal at once.
    let stop = shutdown_signal();
    let addr = server.local_addr();
    let scheme = match server.tls() {
        Some(certs) => {
            tracing::info!(
                cert = %certs.files().cert.display(),
                sha256 = %certs.fingerprint(),
                "serving HTTPS; SIGHUP reloads the certificate and key"
            );
            "https"
        }
        None => "http",
    };
    tracing::info!(%addr, products = server.state().products().iter().count(), "privet listening");
    eprintln!("privet listening on {scheme}://{addr}");
    server.run_until(stop).await?;
    eprintln!("privet stopped");
    Ok(ExitCode::SUCCESS)
}

/// Where the certificate and key are, from the flags (clap has made sure both or neither came).
fn tls_files(args: &crate::cli::TlsArgs) -> Option<TlsFiles> {
    Some(TlsFiles {
        cert: args.tls_cert.clone()?,
        key: args.tls_key.clone()?,
    })
}

/// The bridge's settings from the flags; `None` without `--mqtt`.
fn mqtt_config(args: &crate::cli::MqttArgs) -> anyhow::Result<Option<MqttConfig>> {
    let Some(url) = &args.url else {
        return Ok(None);
    };
    let url = BrokerUrl::parse(url).map_err(|e| anyhow::anyhow!("--mqtt: {e}"))?;
    if args.ca_file.is_some() && !url.tls {
        // A CA file says TLS was meant; the credentials would otherwise cross in clear.
        bail!("--mqtt-ca-file is for mqtts:// URLs; --mqtt is mqtt:// (no TLS)");
    }
    let client_id = match &args.client_id {
        Some(id) if !id.trim().is_empty() => id.trim().to_owned(),
        // Filled in once the listener is bound.
        _ => String::new(),
    };
    let mut cfg = MqttConfig::new(url, client_id);
    cfg.dynsec = args.dynsec;
    cfg.tls = TlsSettings {
        ca_file: args.ca_file.clone(),
    };
    cfg.receive_maximum = args.receive_maximum;
    if !privet_server::mqtt::topics::valid_share_group(&args.share_group) {
        bail!(
            "--mqtt-share-group: one topic level without `/`, `+` or `#`, at most 64 characters (or empty: a plain subscription, for a single instance)"
        );
    }
    cfg.share_group = args.share_group.clone();
    Ok(Some(cfg))
}

/// `privet-<host name>-<port>`: stable across restarts of one instance, different for two
/// instances on one host.
fn default_client_id(listen: std::net::SocketAddr) -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".to_owned());
    let host: String = host
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '-'
            }
        })
        .take(40)
        .collect();
    format!("privet-{host}-{}", listen.port())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Error, ErrorKind};
    use std::path::PathBuf;

    fn io(path: &str, kind: ErrorKind) -> ProductsError {
        ProductsError::Io {
            path: PathBuf::from(path),
            source: Error::from(kind),
        }
    }

    #[test]
    fn only_a_missing_or_empty_directory_falls_back_to_the_published_manifests() {
        let dir = Path::new("/etc/privet/manifests");
        let pg = Location::parse("postgres://h/db").unwrap_or_else(|e| panic!("{e}"));
        let missing = io("/etc/privet/manifests", ErrorKind::NotFound);
        assert!(serves_published(&missing, dir, &pg));
        assert!(serves_published(
            &ProductsError::Empty(dir.to_owned()),
            dir,
            &pg
        ));
        for refused in [
            io("/etc/privet/manifests", ErrorKind::PermissionDenied),
            io("/etc/privet/manifests", ErrorKind::NotADirectory),
            io("/etc/privet/manifests/plug.toml", ErrorKind::NotFound),
            io(
                "/etc/privet/manifests/plug.toml",
                ErrorKind::PermissionDenied,
            ),
        ] {
            assert!(!serves_published(&refused, dir, &pg), "{refused:?}");
        }
        let sqlite = Location::parse("sqlite:d").unwrap_or_else(|e| panic!("{e}"));
        assert!(
            !serves_published(&missing, dir, &sqlite),
            "SQLite has no one else"
        );
    }
}
