//! The server under test as a child process (`privet serve` of this same binary, or on
//! PostgreSQL the hidden `privet bench pg-server`), so its memory is measured alone, apart from
//! the bench's own client buffers.

use anyhow::{Context, bail};
use std::collections::VecDeque;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Lines of the server's stderr kept to explain a failure.
const LOG_LINES: usize = 20;

/// Where the server under test keeps its data.
#[derive(Clone)]
pub(crate) enum Backend {
    /// A fresh data directory (the embedded SQLite store).
    Sqlite(PathBuf),
    /// Fresh schemas of a PostgreSQL database (see `bench/pg.rs`).
    Postgres {
        url: String,
        schema: String,
        keyring_schema: String,
    },
}

/// The environment variable the database URL reaches the PostgreSQL server child in (not its
/// command line, where `ps` would show a password).
pub(crate) const PG_URL_ENV: &str = "PRIVET_BENCH_DATABASE_URL";

/// A running `privet serve` child; killed when dropped if not stopped before.
pub(crate) struct ServerProcess {
    child: Option<Child>,
    addr: SocketAddr,
    log: Arc<Mutex<VecDeque<String>>>,
}

/// Runs `privet key create --role admin` on `data` and returns the key.
pub(crate) fn create_admin_key(data: &Path) -> anyhow::Result<String> {
    let exe = std::env::current_exe().context("cannot find the privet binary")?;
    let out = Command::new(exe)
        .args([
            "key", "create", "--role", "admin", "--label", "bench", "--data",
        ])
        .arg(data)
        .env_remove("PRIVET_DATABASE_URL")
        .stdin(Stdio::null())
        .output()
        .context("cannot run `privet key create`")?;
    if !out.status.success() {
        bail!(
            "`privet key create` failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let key = String::from_utf8(out.stdout)
        .context("`privet key create` printed something other than a key")?
        .trim()
        .to_owned();
    anyhow::ensure!(!key.is_empty(), "`privet key create` printed no key");
    Ok(key)
}

impl ServerProcess {
    /// Creates an admin key, then starts the server (see [`Self::spawn`]); both on a blocking
    /// thread. On PostgreSQL the server child creates the key itself (it alone holds the
    /// master key) and prints it first. Returns the key and the running server.
    pub(crate) async fn start_with_admin_key(
        backend: Backend,
        manifests: PathBuf,
        max_batch: usize,
    ) -> anyhow::Result<(String, ServerProcess)> {
        tokio::task::spawn_blocking(move || {
            let key = match &backend {
                Backend::Sqlite(data) => Some(create_admin_key(data)?),
                Backend::Postgres { .. } => None,
            };
            let (server, printed) = ServerProcess::spawn(&backend, &manifests, max_batch)?;
            let key = key.or(printed).context("the server printed no admin key")?;
            Ok((key, server))
        })
        .await?
    }

    /// Starts the server on `backend` with `manifests` on a free loopback port, with the
    /// per-device rate limit raised out of the way, and waits until it listens; returns it
    /// with the first line it printed on stdout (the admin key, on PostgreSQL).
    pub(crate) fn spawn(
        backend: &Backend,
        manifests: &Path,
        max_batch: usize,
    ) -> anyhow::Result<(Self, Option<String>)> {
        let exe = std::env::current_exe().context("cannot find the privet binary")?;
        let mut cmd = Command::new(exe);
        match backend {
            Backend::Sqlite(data) => {
                cmd.arg("serve")
                    .arg("--data")
                    .arg(data)
                    .stdout(Stdio::null());
            }
            Backend::Postgres {
                url,
                schema,
                keyring_schema,
            } => {
                cmd.args(["bench", "pg-server", "--schema", schema])
                    .args(["--keyring-schema", keyring_schema])
                    .env(PG_URL_ENV, url)
                    .env_remove("PRIVET_MASTER_KEY")
                    .stdout(Stdio::piped());
            }
        }
        let mut child = cmd
            .arg("--manifests")
            .arg(manifests)
            .args(["--listen", "127.0.0.1:0"])
            .args(["--device-rate", "1000000", "--device-burst", "1000000"])
            .arg("--max-batch-events")
            .arg(max_batch.max(10_000).to_string())
            .args(["--retention-interval-secs", "3600"])
            .env("PRIVET_LOG", "warn")
            .env_remove("PRIVET_DATABASE_URL")
            .env_remove("PRIVET_MQTT")
            .env_remove("PRIVET_LISTEN")
            .stdin(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .context("cannot start the server under test")?;
        let printed = child.stdout.take().map(|stdout| {
            let (tx, rx) = mpsc::channel();
            // Reads the first line, then drains the rest so the child never blocks on it.
            std::thread::spawn(move || {
                let mut lines = BufReader::new(stdout).lines().map_while(Result::ok);
                let _ = tx.send(lines.next());
                lines.for_each(drop);
            });
            rx
        });
        let log = Arc::new(Mutex::new(VecDeque::new()));
        let (tx, rx) = mpsc::channel();
        if let Some(stderr) = child.stderr.take() {
            let log = log.clone();
            // Drains stderr for the server's whole life, so it never blocks on a full pipe.
            std::thread::spawn(move || {
                let mut tx = Some(tx);
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    if let Some(addr) = line
                        .split_once("listening on http://")
                        .and_then(|(_, rest)| rest.trim().parse::<SocketAddr>().ok())
                        && let Some(tx) = tx.take()
                    {
                        let _ = tx.send(addr);
                    }
                    if let Ok(mut l) = log.lock() {
                        if l.len() == LOG_LINES {
                            l.pop_front();
                        }
                        l.push_back(line);
                    }
                }
            });
        }
        let mut server = ServerProcess {
            child: Some(child),
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            log,
        };
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(addr) => server.addr = addr,
            Err(_) => bail!(
                "the server under test did not start listening:\n{}",
                server.recent_log()
            ),
        }
        // Printed before it listens, so it is there by now.
        let printed = printed.and_then(|rx| rx.recv_timeout(Duration::from_secs(5)).ok().flatten());
        Ok((server, printed))
    }

    /// The server's process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// `http://addr`.
    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The last lines the server wrote to stderr.
    pub(crate) fn recent_log(&self) -> String {
        self.log
            .lock()
            .map(|l| l.iter().cloned().collect::<Vec<_>>().join("\n"))
            .unwrap_or_default()
    }

    /// Asks the server to shut down gracefully (SIGTERM), waiting up to `grace` before killing.
    pub(crate) fn stop(mut self, grace: Duration) -> anyhow::Result<()> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        // Only this child, by its id.
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let until = Instant::now() + grace;
        while Instant::now() < until {
            if child.try_wait()?.is_some() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        bail!("`privet serve` did not stop within {grace:?} of SIGTERM; killed it")
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
