//! TLS for the end-to-end tests, on top of the shared harness in `support/`: certificates made
//! by the `openssl` CLI (a test CA signing a leaf for `localhost` and 127.0.0.1, of each key
//! type the server takes), and a blocking rustls client that trusts that CA and speaks
//! HTTP/1.1 on one kept-alive connection, so a test can hold a connection open across a
//! certificate reload and see which certificate each connection was served.
//!
//! Test files include it next to the harness: `mod support; mod tls_support;`.
#![allow(dead_code, unreachable_pub)]

mod https;
mod pki;

pub use https::*;
pub use pki::*;

use crate::support::{Instance, Server};
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// How long any wait in these tests may take before it fails.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// A path as a `&str` (the temporary directories are ASCII).
pub fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Starts `privet serve` with `leaf` and `extra` flags, and waits until `/healthz` answers
/// over HTTPS with `ca` trusted.
pub fn serve_tls(inst: &Instance, leaf: &Leaf, ca: &Path, extra: &[&str]) -> Server {
    let mut args = leaf.flags();
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let ready = |server: &Server| {
        Https::try_connect(&server.addr, ca, Duration::from_secs(2))
            .and_then(|mut c| c.try_send(&get("/healthz")))
            .is_ok_and(|a| a.status == 200)
    };
    inst.serve_until(&args, "https", &ready)
}

/// Runs `privet serve` with `extra` flags where it must refuse to start: its exit status and
/// what it printed. Panics if it is still running after [`PATIENCE`].
pub fn serve_refused(inst: &Instance, extra: &[&str]) -> (ExitStatus, String) {
    let log = tempfile::NamedTempFile::new_in(inst.root()).expect("log file");
    let mut child = Command::new(crate::support::PRIVET)
        .arg("serve")
        .args(["--data", path(&inst.data)])
        .args(["--manifests", path(&inst.manifests)])
        .args(["--listen", "127.0.0.1:0"])
        .args(extra)
        .env_remove("PRIVET_DATA")
        .env_remove("PRIVET_DATABASE_URL")
        .env_remove("PRIVET_MASTER_KEY")
        .env_remove("PRIVET_TLS_CERT")
        .env_remove("PRIVET_TLS_KEY")
        .stdin(Stdio::null())
        .stdout(log.reopen().expect("log file"))
        .stderr(log.reopen().expect("log file"))
        .spawn()
        .expect("spawn privet serve");
    let deadline = Instant::now() + PATIENCE;
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "privet serve {extra:?} did not refuse to start:\n{}",
                std::fs::read_to_string(log.path()).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    (
        status,
        std::fs::read_to_string(log.path()).expect("read log"),
    )
}

/// Sends SIGHUP to the server.
pub fn sighup(server: &Server) {
    let status = Command::new("kill")
        .args(["-HUP", &server.pid().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -HUP failed");
}

/// Polls `ready` until it holds; panics saying `what` after [`PATIENCE`].
pub fn wait_until(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !ready() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}
