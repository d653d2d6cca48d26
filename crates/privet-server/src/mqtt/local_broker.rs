//! A Mosquitto of our own, for `privet bench mqtt` and for tests: it listens on a free port of
//! 127.0.0.1 and keeps its config, data and log in a temporary directory removed on drop.
//!
//! The binary is `$PRIVET_MOSQUITTO`, else `mosquitto` on `PATH`, else `/usr/sbin/mosquitto`.
//! With [`LocalBrokerOptions::dynsec`] the broker authenticates through the dynamic-security
//! plugin (`$PRIVET_MOSQUITTO_DYNSEC`, else the Debian/Ubuntu path), its file made by
//! `mosquitto_ctrl dynsec init` (`$PRIVET_MOSQUITTO_CTRL`, else on `PATH`, else `/usr/bin`);
//! without it anyone may connect.

use crate::mqtt::MqttError;
use std::ffi::OsStr;
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;
use tokio::process::{Child, Command};

/// How long the broker may take to accept connections, or to exit after SIGTERM.
const READY_TIMEOUT: Duration = Duration::from_secs(10);
/// How often readiness is polled while waiting.
const POLL_EVERY: Duration = Duration::from_millis(25);
/// Start attempts: another process may take the free port between our probe and the bind.
const PORT_ATTEMPTS: usize = 5;
/// Where Debian and Ubuntu install the plugin.
const DYNSEC_PLUGIN_PATHS: &[&str] = &[
    "/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so",
    "/usr/lib/aarch64-linux-gnu/mosquitto_dynamic_security.so",
    "/usr/lib/mosquitto_dynamic_security.so",
    "/usr/local/lib/mosquitto_dynamic_security.so",
];

/// What the local broker is configured with.
#[derive(Clone, Default)]
pub struct LocalBrokerOptions {
    /// Authenticate through dynamic security, with this admin (user name, password); `None`:
    /// anonymous clients may do anything.
    pub dynsec: Option<(String, String)>,
    /// Keep sessions and queued messages in a database saved on a graceful stop.
    pub persistence: bool,
    /// `max_queued_messages` per client (Mosquitto's default, 1000, when `None`).
    pub max_queued_messages: Option<u64>,
    /// Lines appended to the generated `mosquitto.conf` as they are.
    pub extra_conf: String,
}

impl fmt::Debug for LocalBrokerOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalBrokerOptions")
            .field("dynsec_admin", &self.dynsec.as_ref().map(|(user, _)| user))
            .field("persistence", &self.persistence)
            .field("max_queued_messages", &self.max_queued_messages)
            .field("extra_conf", &self.extra_conf)
            .finish()
    }
}

/// A running Mosquitto child process; killed when dropped.
#[derive(Debug)]
pub struct LocalBroker {
    child: Option<Child>,
    /// A child killed by [`LocalBroker::kill`] and not yet reaped; a restart waits for it so
    /// the port is free.
    dying: Option<Child>,
    binary: PathBuf,
    port: u16,
    // Last field: removed after the child is killed.
    dir: tempfile::TempDir,
}

impl LocalBroker {
    /// Writes the config (and the dynamic-security file), starts Mosquitto on a free port and
    /// waits until it accepts TCP connections.
    pub async fn start(opts: LocalBrokerOptions) -> Result<LocalBroker, MqttError> {
        let binary = find_binary("PRIVET_MOSQUITTO", "mosquitto", "/usr/sbin/mosquitto")?;
        let dir = tempfile::Builder::new()
            .prefix("privet-mosquitto-")
            .tempdir()
            .map_err(|e| local(format!("cannot make a temporary directory: {e}")))?;
        if dir.path().to_string_lossy().contains(char::is_whitespace) {
            // mosquitto.conf has no quoting: a path with a space would be cut short.
            return Err(local(format!(
                "the temporary directory {} has white space in its path",
                dir.path().display()
            )));
        }
        std::fs::create_dir(dir.path().join("data"))
            .map_err(|e| local(format!("cannot make the data directory: {e}")))?;
        let plugin = match &opts.dynsec {
            Some((user, password)) => Some(init_dynsec(dir.path(), user, password).await?),
            None => None,
        };
        let mut broker = LocalBroker {
            child: None,
            dying: None,
            binary,
            port: 0,
            dir,
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            broker.port = free_port()?;
            std::fs::write(
                broker.dir.path().join("mosquitto.conf"),
                config(broker.dir.path(), broker.port, &opts, plugin.as_deref()),
            )
            .map_err(|e| local(format!("cannot write mosquitto.conf: {e}")))?;
            match broker.spawn_and_wait().await {
                Ok(()) => return Ok(broker),
                Err(_)
                    if attempt < PORT_ATTEMPTS
                        && broker.log_tail().contains("Address already in use") => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// The port it listens on (127.0.0.1 only).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `mqtt://USER:PASS@127.0.0.1:PORT` (credentials percent-encoded), or without credentials.
    pub fn url(&self, user: Option<(&str, &str)>) -> String {
        broker_url(self.port, user)
    }

    /// The running broker's process id (for its CPU time and memory); `None` when stopped.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().and_then(Child::id)
    }

    /// The directory holding `mosquitto.conf`, `data/`, `dynsec.json` and the logs.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The last lines of Mosquitto's log and of what it wrote to stderr, for error messages.
    pub fn log_tail(&self) -> String {
        let mut out = String::new();
        for name in ["mosquitto.log", "stderr.log"] {
            let text = std::fs::read(self.dir.path().join(name)).unwrap_or_default();
            let text = String::from_utf8_lossy(&text);
            let lines: Vec<&str> = text.lines().collect();
            for line in &lines[lines.len().saturating_sub(12)..] {
                out.push_str(line);
                out.push('\n');
            }
        }
        out
    }

    /// Stops the broker with SIGTERM and waits for it to exit (Mosquitto saves its persistence
    /// database then). Stopping a stopped broker does nothing.
    pub async fn stop_graceful(&mut self) -> Result<(), MqttError> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        let Some(pid) = child.id() else {
            // Already reaped: nothing to stop.
            return Ok(());
        };
        // `kill` the command: sending a signal ourselves would need unsafe code or a new crate.
        let sent = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .await;
        if !matches!(sent, Ok(s) if s.success()) {
            self.dying = Some(child);
            return Err(local(format!("cannot send SIGTERM to mosquitto ({pid})")));
        }
        match tokio::time::timeout(READY_TIMEOUT, child.wait()).await {
            Ok(Ok(status)) if status.success() => Ok(()),
            Ok(Ok(status)) => Err(self.failure(&format!("mosquitto exited with {status}"))),
            Ok(Err(e)) => Err(local(format!("cannot wait for mosquitto: {e}"))),
            Err(_) => {
                let _ = child.start_kill();
                self.dying = Some(child);
                Err(self.failure("mosquitto did not exit within 10 s of SIGTERM; killed"))
            }
        }
    }

    /// Starts the broker again on the same port with the same config and data (stopping it
    /// gracefully first if it runs).
    pub async fn restart(&mut self) -> Result<(), MqttError> {
        self.stop_graceful().await?;
        if let Some(mut dying) = self.dying.take() {
            // A killed process still holds the port until it is gone.
            let _ = tokio::time::timeout(READY_TIMEOUT, dying.wait()).await;
        }
        self.spawn_and_wait().await
    }

    /// Kills the broker with SIGKILL at once: nothing is saved (crash tests).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.start_kill();
            self.dying = Some(child);
        }
    }

    async fn spawn_and_wait(&mut self) -> Result<(), MqttError> {
        let dir = self.dir.path();
        // Fresh logs per start so a tail describes this run only.
        let _ = std::fs::remove_file(dir.join("mosquitto.log"));
        let stderr = std::fs::File::create(dir.join("stderr.log"))
            .map_err(|e| local(format!("cannot create stderr.log: {e}")))?;
        let child = Command::new(&self.binary)
            .arg("-c")
            .arg(dir.join("mosquitto.conf"))
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| local(format!("cannot run {}: {e}", self.binary.display())))?;
        self.child = Some(child);
        let deadline = tokio::time::Instant::now() + READY_TIMEOUT;
        loop {
            if let Some(status) = self.exited()? {
                self.child = None;
                return Err(self.failure(&format!("mosquitto exited at start with {status}")));
            }
            let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
            if tokio::net::TcpStream::connect(addr).await.is_ok() {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                self.kill();
                return Err(self.failure("mosquitto did not accept connections within 10 s"));
            }
            tokio::time::sleep(POLL_EVERY).await;
        }
    }

    fn exited(&mut self) -> Result<Option<ExitStatus>, MqttError> {
        match &mut self.child {
            Some(child) => child
                .try_wait()
                .map_err(|e| local(format!("cannot check on mosquitto: {e}"))),
            None => Ok(None),
        }
    }

    fn failure(&self, what: &str) -> MqttError {
        local(format!("{what}; its log ends:\n{}", self.log_tail()))
    }
}

impl Drop for LocalBroker {
    fn drop(&mut self) {
        for child in [self.child.as_mut(), self.dying.as_mut()]
            .into_iter()
            .flatten()
        {
            let _ = child.start_kill();
        }
    }
}

fn local(message: String) -> MqttError {
    MqttError::LocalBroker(message)
}

fn broker_url(port: u16, user: Option<(&str, &str)>) -> String {
    use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
    // RFC 3986 userinfo: everything but the unreserved characters is encoded.
    const USERINFO: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    match user {
        Some((name, password)) => format!(
            "mqtt://{}:{}@127.0.0.1:{port}",
            utf8_percent_encode(name, USERINFO),
            utf8_percent_encode(password, USERINFO)
        ),
        None => format!("mqtt://127.0.0.1:{port}"),
    }
}

/// A port that was free a moment ago: bound to port 0, then released for Mosquitto.
fn free_port() -> Result<u16, MqttError> {
    let socket = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .map_err(|e| local(format!("cannot find a free port: {e}")))?;
    socket
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| local(format!("cannot find a free port: {e}")))
}

/// Whether a broker can be started here: the `mosquitto` binary is found.
pub fn available() -> bool {
    find_binary("PRIVET_MOSQUITTO", "mosquitto", "/usr/sbin/mosquitto").is_ok()
}

fn find_binary(env: &str, name: &str, fallback: &str) -> Result<PathBuf, MqttError> {
    if let Some(path) = std::env::var_os(env).filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(path));
    }
    let on_path = std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .map(|dir| dir.join(name))
        .find(|p| p.is_file());
    on_path
        .or_else(|| Some(PathBuf::from(fallback)).filter(|p| p.is_file()))
        .ok_or_else(|| {
            local(format!(
                "{name} not found (set {env}, or install it on PATH)"
            ))
        })
}

fn find_dynsec_plugin() -> Result<PathBuf, MqttError> {
    if let Some(path) = std::env::var_os("PRIVET_MOSQUITTO_DYNSEC").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(path));
    }
    DYNSEC_PLUGIN_PATHS
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .ok_or_else(|| {
            local(
                "mosquitto_dynamic_security.so not found (set PRIVET_MOSQUITTO_DYNSEC)".to_owned(),
            )
        })
}

/// Makes `dynsec.json` with the admin client and returns the plugin's path.
async fn init_dynsec(dir: &Path, user: &str, password: &str) -> Result<PathBuf, MqttError> {
    let plugin = find_dynsec_plugin()?;
    let ctrl = find_binary(
        "PRIVET_MOSQUITTO_CTRL",
        "mosquitto_ctrl",
        "/usr/bin/mosquitto_ctrl",
    )?;
    let file = dir.join("dynsec.json");
    // The password is an argument for a moment: without it mosquitto_ctrl asks on a terminal.
    // This broker is local and throwaway, its admin password made for the run.
    let out = Command::new(&ctrl)
        .args([OsStr::new("dynsec"), OsStr::new("init"), file.as_os_str()])
        .args([user, password])
        .stdin(Stdio::null())
        .output()
        .await
        .map_err(|e| local(format!("cannot run {}: {e}", ctrl.display())))?;
    // mosquitto_ctrl 2.0.11 exits 0 even when it refuses (file exists): check the file.
    if !out.status.success() || !file.is_file() {
        return Err(local(format!(
            "mosquitto_ctrl dynsec init failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(plugin)
}

fn config(dir: &Path, port: u16, opts: &LocalBrokerOptions, dynsec: Option<&Path>) -> String {
    let dir = dir.display();
    let mut c = String::new();
    // Run as whoever runs us: as root Mosquitto would otherwise switch to the `mosquitto` user,
    // who cannot write our private temporary directory. Ignored when not root.
    c.push_str("user root\n");
    c.push_str("per_listener_settings false\n");
    c.push_str(&format!("log_dest file {dir}/mosquitto.log\n"));
    c.push_str("log_timestamp_format %Y-%m-%dT%H:%M:%S\n");
    c.push_str("connection_messages true\n");
    if opts.persistence {
        c.push_str("persistence true\n");
        c.push_str(&format!("persistence_location {dir}/data/\n"));
    } else {
        c.push_str("persistence false\n");
    }
    if let Some(n) = opts.max_queued_messages {
        c.push_str(&format!("max_queued_messages {n}\n"));
    }
    c.push_str(&format!("listener {port} 127.0.0.1\n"));
    match dynsec {
        Some(plugin) => {
            c.push_str("allow_anonymous false\n");
            c.push_str(&format!("plugin {}\n", plugin.display()));
            c.push_str(&format!("plugin_opt_config_file {dir}/dynsec.json\n"));
        }
        None => c.push_str("allow_anonymous true\n"),
    }
    if !opts.extra_conf.is_empty() {
        c.push_str(&opts.extra_conf);
        c.push('\n');
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_percent_encodes_credentials_and_parses_back() {
        let url = broker_url(1884, Some(("dev a", "p@ss:w/rd%")));
        assert_eq!(url, "mqtt://dev%20a:p%40ss%3Aw%2Frd%25@127.0.0.1:1884");
        let parsed = crate::mqtt::BrokerUrl::parse(&url).unwrap();
        assert_eq!(parsed.username.as_deref(), Some("dev a"));
        assert_eq!(parsed.port, 1884);
        assert_eq!(broker_url(1, None), "mqtt://127.0.0.1:1");
    }

    #[test]
    fn options_debug_hides_the_admin_password() {
        let opts = LocalBrokerOptions {
            dynsec: Some(("admin".into(), "hunter2".into())),
            ..LocalBrokerOptions::default()
        };
        let shown = format!("{opts:?}");
        assert!(
            shown.contains("admin") && !shown.contains("hunter2"),
            "{shown}"
        );
    }

    #[tokio::test]
    async fn a_broker_that_cannot_start_reports_its_log() {
        if !available() {
            assert!(std::env::var("PRIVET_REQUIRE_TOOLS").as_deref() != Ok("1"));
            return;
        }
        let err = LocalBroker::start(LocalBrokerOptions {
            extra_conf: "no_such_option_privet 1".into(),
            ..LocalBrokerOptions::default()
        })
        .await
        .unwrap_err()
        .to_string();
        assert!(err.contains("no_such_option_privet"), "{err}");
    }

    #[tokio::test]
    async fn starts_accepts_connections_stops_and_restarts_on_the_same_port() {
        if !available() {
            assert!(std::env::var("PRIVET_REQUIRE_TOOLS").as_deref() != Ok("1"));
            return;
        }
        let mut broker = LocalBroker::start(LocalBrokerOptions::default())
            .await
            .unwrap();
        let port = broker.port();
        assert!(broker.pid().is_some());
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        tokio::net::TcpStream::connect(addr).await.unwrap();
        broker.stop_graceful().await.unwrap();
        assert_eq!(broker.pid(), None);
        assert!(tokio::net::TcpStream::connect(addr).await.is_err());
        broker.restart().await.unwrap();
        assert_eq!(broker.port(), port);
        tokio::net::TcpStream::connect(addr).await.unwrap();
        broker.kill();
        broker.restart().await.unwrap();
        tokio::net::TcpStream::connect(addr).await.unwrap();
    }
}
