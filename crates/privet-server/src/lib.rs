//! Privet's server: the axum HTTP API over the [`privet_store::Store`] trait, background
//! jobs (retention), and the data directory. It wires the pure crates together and holds no
//! privacy rule of its own: policy lives in `privet-policy`, crypto in `privet-crypto`.
//!
//! Start one with [`Server::start`]; [`routes::router`] gives the bare router for tests.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use privet_server::{Config, Server};
//! let config = Config::new("privet-data".into(), "manifests".into());
//! let server = Server::start(config).await?;
//! println!("listening on {}", server.local_addr());
//! server.run_until(async { let _ = tokio::signal::ctrl_c().await; }).await?;
//! # Ok(()) }
//! ```

pub mod access;
pub mod config;
pub mod datadir;
pub mod error;
pub mod ids;
pub mod keys;
pub mod metrics;
pub mod pages;
pub mod products;
pub mod routes;
pub mod service;
pub mod session;
pub mod state;

pub use config::Config;
pub use datadir::{DataDir, DataDirError};
pub use products::{Products, ProductsError};
pub use state::AppState;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Manifests failed to load.
    #[error(transparent)]
    Products(#[from] ProductsError),
    /// The data directory failed to open.
    #[error(transparent)]
    DataDir(#[from] DataDirError),
    /// The listener failed.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// Address.
        addr: SocketAddr,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// Serving failed.
    #[error("server error: {0}")]
    Serve(#[source] std::io::Error),
    /// The lock file could not be opened.
    #[error("{path}: {source}")]
    LockFile {
        /// The lock file.
        path: std::path::PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// Another server holds the data directory.
    #[error("another privet process is serving {0}; stop it first")]
    Locked(std::path::PathBuf),
}

/// The name of the lock file a serving process holds in its data directory.
pub const LOCK_FILE: &str = "privet.lock";

/// Takes the data directory's exclusive lock, held while serving (restore refuses to run
/// under a live server).
pub fn lock_data_dir(dir: &std::path::Path) -> Result<std::fs::File, ServeError> {
    use std::os::unix::fs::OpenOptionsExt;
    let path = dir.join(LOCK_FILE);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(&path)
        .map_err(|source| ServeError::LockFile {
            path: path.clone(),
            source,
        })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(_) => Err(ServeError::Locked(dir.to_owned())),
    }
}

/// A bound, ready server.
pub struct Server {
    listener: TcpListener,
    state: AppState,
    addr: SocketAddr,
    _lock: std::fs::File,
}

impl Server {
    /// Loads manifests, opens the data directory and binds the listener.
    pub async fn start(config: Config) -> Result<Server, ServeError> {
        let today = jiff::Timestamp::now()
            .to_zoned_datetime(jiff::tz::TimeZone::UTC)
            .date();
        let (products, _) = Products::load_dir(
            &config.manifests_dir,
            &privet_manifest::LintContext { today },
        )?;
        let dir = DataDir::open(&config.data_dir, config.master_key.as_deref())?;
        Server::with_parts(config, dir, products).await
    }

    /// Binds with already-opened parts.
    pub async fn with_parts(
        config: Config,
        dir: DataDir,
        products: Products,
    ) -> Result<Server, ServeError> {
        let lock = lock_data_dir(&dir.path)?;
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| ServeError::Listen {
                    addr: config.listen,
                    source,
                })?;
        let addr = listener.local_addr().map_err(|source| ServeError::Listen {
            addr: config.listen,
            source,
        })?;
        let state = AppState::new(
            config,
            Arc::new(dir.store),
            Arc::new(dir.keyring),
            dir.master,
            dir.signing,
            products,
        );
        Ok(Server {
            listener,
            state,
            addr,
            _lock: lock,
        })
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The shared state.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` resolves, then stops accepting and drains in-flight requests.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        let sweeper = tokio::spawn(service::retention::sweep(self.state.clone()));
        let app = routes::router(self.state.clone());
        let out = axum::serve(
            self.listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(ServeError::Serve);
        sweeper.abort();
        out
    }
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
