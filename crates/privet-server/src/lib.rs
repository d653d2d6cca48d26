//! Privet's server: the axum HTTP API and web pages over the [`privet_store::Store`] trait,
//! background jobs (retention), accounts and sessions. It wires the pure crates together and
//! holds no privacy rule of its own: every decision is `privet-policy`'s, crypto is
//! `privet-crypto`'s, and time comes from one [`Clock`].
//!
//! Whoever starts a server opens its parts ([`Parts`]: the backend, the instance keys, the
//! products, the clock) and hands them to [`Server::bind`]; [`routes::router`] gives the bare
//! router for tests. With [`Config::tls`] the server speaks HTTPS itself ([`tls`]).
//!
//! ```no_run
//! # async fn demo(parts: privet_server::Parts) -> Result<(), Box<dyn std::error::Error>> {
//! use privet_server::{Config, Server};
//! let server = Server::bind(Config::default(), parts).await?;
//! println!("listening on {}", server.local_addr());
//! server.run_until(async { let _ = tokio::signal::ctrl_c().await; }).await?;
//! # Ok(()) }
//! ```

pub mod access;
pub mod client_cookie;
pub mod clock;
pub mod config;
pub mod error;
pub mod ids;
pub mod keys;
pub mod metrics;
pub mod mqtt;
pub mod pages;
pub mod products;
pub mod routes;
pub mod security_txt;
mod serve;
pub mod service;
pub mod session;
pub mod state;
pub mod tls;

pub use clock::Clock;
pub use config::Config;
pub use products::{Products, ProductsError};
pub use state::{AppState, Parts};

use std::future::Future;
use std::net::SocketAddr;
use tokio::net::TcpListener;

/// Why the server could not start (once serving, accept errors are waited out, never fatal).
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The TLS certificate or key cannot be served.
    #[error("cannot serve TLS")]
    Tls(#[from] tls::TlsError),
    /// The SIGHUP handler that reloads the certificate could not be installed.
    #[error("cannot handle SIGHUP (it reloads the TLS certificate)")]
    Hangup(#[source] std::io::Error),
    /// The listener failed.
    #[error("cannot listen on {addr}")]
    Listen {
        /// Address.
        addr: SocketAddr,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
}

/// A bound, ready server.
pub struct Server {
    listener: TcpListener,
    state: AppState,
    addr: SocketAddr,
    bridge: Option<mqtt::Bridge>,
    tls: Option<Tls>,
}

/// What serving HTTPS holds: the certificates, and the signal that reloads them.
struct Tls {
    certs: std::sync::Arc<tls::TlsCertificates>,
    acceptor: tokio_rustls::TlsAcceptor,
    hangup: tokio::signal::unix::Signal,
}

impl Server {
    /// Binds the listener with opened parts; with [`Config::tls`], reads the certificate and
    /// key, and from now on SIGHUP reloads them.
    pub async fn bind(config: Config, parts: Parts) -> Result<Server, ServeError> {
        let tls = match &config.tls {
            Some(files) => Some(Tls::load(files.clone())?),
            None => None,
        };
        let listener = serve::listen(config.listen).map_err(|source| ServeError::Listen {
            addr: config.listen,
            source,
        })?;
        let addr = listener.local_addr().map_err(|source| ServeError::Listen {
            addr: config.listen,
            source,
        })?;
        let state = AppState::new(config, parts);
        Ok(Server {
            listener,
            state,
            addr,
            bridge: None,
            tls,
        })
    }

    /// The certificates served, when serving HTTPS.
    pub fn tls(&self) -> Option<&tls::TlsCertificates> {
        self.tls.as_ref().map(|t| t.certs.as_ref())
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The shared state.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Connects the MQTT bridge before serving, so device registration already reaches the
    /// broker; fails if the broker cannot be reached or refuses.
    pub async fn start_mqtt(&mut self, cfg: &mqtt::MqttConfig) -> Result<(), mqtt::MqttError> {
        self.bridge = Some(mqtt::start(&self.state, cfg).await?);
        Ok(())
    }

    /// Serves until `shutdown` resolves, then stops accepting, closes idle connections and
    /// drains in-flight requests and, alongside, the bridge's messages in flight
    /// (acknowledged once committed). Every connection is held to the configured
    /// [`config::ConnectionLimits`].
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        let jobs = tokio::spawn(service::jobs::worker(self.state.clone()));
        let changes = tokio::spawn(service::changes::listen(self.state.clone()));
        let webhooks = tokio::spawn(service::webhooks::worker::run(self.state.clone()));
        let app = routes::router(self.state.clone());
        let (stopping, mut stop_rx) = tokio::sync::watch::channel(false);
        let bridge = self.bridge.map(|b| {
            tokio::spawn(async move {
                let _ = stop_rx.wait_for(|s| *s).await;
                b.shutdown().await;
            })
        });
        let signal = async move {
            shutdown.await;
            let _ = stopping.send(true);
        };
        let (acceptor, reloads) = match self.tls {
            Some(t) => (
                Some(t.acceptor),
                Some(tokio::spawn(tls::reload_on(t.hangup, t.certs))),
            ),
            None => (None, None),
        };
        serve::serve(
            self.listener,
            app,
            self.state.config().connections,
            self.state.metrics().clone(),
            acceptor,
            signal,
        )
        .await;
        if let Some(r) = reloads {
            r.abort();
        }
        if let Some(b) = bridge {
            let _ = b.await;
        }
        jobs.abort();
        changes.abort();
        webhooks.abort();
        Ok(())
    }
}

impl Tls {
    /// Reads the certificate and key, and installs the SIGHUP handler now: a SIGHUP before
    /// serving begins must not end the process (its default), nor be lost.
    fn load(files: config::TlsFiles) -> Result<Tls, ServeError> {
        use tokio::signal::unix::{SignalKind, signal};
        let certs = std::sync::Arc::new(tls::TlsCertificates::load(files)?);
        let acceptor = tokio_rustls::TlsAcceptor::from(certs.server_config()?);
        let hangup = signal(SignalKind::hangup()).map_err(ServeError::Hangup)?;
        Ok(Tls {
            certs,
            acceptor,
            hangup,
        })
    }
}

/// Resolves on SIGTERM or Ctrl-C. The handlers are installed when this is called, not when
/// the future is first polled: a signal arriving in between (say, just after "listening" is
/// printed) stops the server gracefully instead of killing it.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    use tokio::signal::unix::{SignalKind, signal};
    let term = signal(SignalKind::terminate()).ok();
    let int = signal(SignalKind::interrupt()).ok();
    async move {
        let wait = |s: Option<tokio::signal::unix::Signal>| async move {
            match s {
                Some(mut s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            () = wait(term) => {},
            () = wait(int) => {},
        }
    }
}
