//! Harness for the end-to-end tests: a temporary data directory and manifests directory, the
//! real `privet` binary started as a child process on a free port, and a blocking HTTP client.
//!
//! Every test file includes this module (`mod support;`) and uses only part of it.
#![allow(dead_code, unreachable_pub)]

use reqwest::blocking::{Client, RequestBuilder};
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tempfile::TempDir;

/// The binary under test, built once by cargo for all integration tests.
pub const PRIVET: &str = env!("CARGO_BIN_EXE_privet");

/// How long a server may take to become ready or to stop before the test fails.
const PATIENCE: Duration = Duration::from_secs(30);

/// The thermostat: household stream `climate`, member stream `presence` (consent only).
pub const THERMOSTAT: &str = "wren-thermostat-2";
/// The fridge: a `strict` product.
pub const FRIDGE: &str = "larder-fridge-5";

/// The example manifests shipped in the repository.
pub fn example_manifests() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/manifests")
}

/// A string no test could produce by accident: `tag` plus a per-process unique suffix.
pub fn marker(tag: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    format!("{tag}Zq{}x{nanos:08x}x{n}", std::process::id())
}

/// An RFC 3339 timestamp `secs` seconds before now.
pub fn ago(secs: i64) -> String {
    (jiff::Timestamp::now() - jiff::SignedDuration::from_secs(secs)).to_string()
}

/// An RFC 3339 timestamp `secs` seconds after now.
pub fn ahead(secs: i64) -> String {
    (jiff::Timestamp::now() + jiff::SignedDuration::from_secs(secs)).to_string()
}

/// An operator API key as `privet key create` made it.
#[derive(Clone, Debug)]
pub struct Key {
    /// The bearer secret printed on stdout.
    pub secret: String,
    /// The key's id, as named on stderr (`key_…`).
    pub id: String,
}

impl Key {
    /// The actor string audit entries and consent records carry.
    pub fn actor(&self) -> String {
        format!("key:{}", self.id)
    }
}

/// A PostgreSQL database made for one test, dropped at its end.
pub struct PgDatabase {
    /// Its URL.
    pub url: String,
    /// The server's URL it was made through.
    admin_url: String,
    /// Its name.
    name: String,
}

impl PgDatabase {
    /// A fresh database on `PRIVET_TEST_DATABASE_URL`'s server; `None` (after saying so) when
    /// the variable is unset, unless `PRIVET_REQUIRE_TOOLS=1` makes that a failure.
    pub fn create() -> Option<PgDatabase> {
        let Some(admin_url) = std::env::var("PRIVET_TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty())
        else {
            assert!(
                std::env::var("PRIVET_REQUIRE_TOOLS").as_deref() != Ok("1"),
                "PRIVET_TEST_DATABASE_URL is required (PRIVET_REQUIRE_TOOLS=1)"
            );
            eprintln!("skipped: PRIVET_TEST_DATABASE_URL is not set");
            return None;
        };
        static N: AtomicU64 = AtomicU64::new(0);
        let name = format!(
            "privet_e2e_{}_{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed),
            fastrand_suffix()
        );
        psql(&admin_url, &format!("CREATE DATABASE {name}"));
        let base = admin_url
            .rsplit_once('/')
            .map_or(admin_url.as_str(), |(b, _)| b);
        Some(PgDatabase {
            url: format!("{base}/{name}"),
            admin_url,
            name,
        })
    }

    /// Runs one SQL statement in this database; its output, unaligned, tuples only.
    pub fn sql(&self, statement: &str) -> String {
        psql(&self.url, statement)
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let _ = Command::new("psql")
            .args([&self.admin_url, "-qAtc"])
            .arg(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .output();
    }
}

/// A few random letters, so databases of test runs on one server never meet.
fn fastrand_suffix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{nanos:08x}")
}

/// `psql URL -qAtc STATEMENT`; panics with psql's message unless it succeeds.
pub fn psql(url: &str, statement: &str) -> String {
    let out = Command::new("psql")
        .args([url, "-v", "ON_ERROR_STOP=1", "-qAtc", statement])
        .output()
        .expect("run psql");
    assert!(
        out.status.success(),
        "psql failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// A data directory and a manifests directory in one temporary root.
pub struct Instance {
    root: TempDir,
    /// The PostgreSQL database instead of the data directory, when made with
    /// [`Instance::postgres`].
    pub pg: Option<PgDatabase>,
    /// The master key given to every command of a PostgreSQL instance.
    master_key: String,
    /// `--data`.
    pub data: PathBuf,
    /// `--manifests`.
    pub manifests: PathBuf,
    /// The time servers and commands started from now on run at (`PRIVET_TEST_NOW`, honoured
    /// by test builds only); `None`: the system clock.
    test_now: std::sync::Mutex<Option<String>>,
}

impl Default for Instance {
    fn default() -> Self {
        Self::new()
    }
}

impl Instance {
    /// A fresh root holding copies of every example manifest; the data directory does not
    /// exist yet (the binary creates it).
    pub fn new() -> Instance {
        let root = tempfile::Builder::new()
            .prefix("privet-e2e-")
            .tempdir()
            .expect("temp dir");
        let data = root.path().join("data");
        let manifests = root.path().join("manifests");
        std::fs::create_dir(&manifests).expect("manifests dir");
        for entry in std::fs::read_dir(example_manifests()).expect("example manifests") {
            let path = entry.expect("dir entry").path();
            if path.extension().is_some_and(|e| e == "toml") {
                std::fs::copy(&path, manifests.join(path.file_name().expect("name")))
                    .expect("copy manifest");
            }
        }
        Instance {
            root,
            pg: None,
            master_key: String::new(),
            data,
            manifests,
            test_now: std::sync::Mutex::new(None),
        }
    }

    /// Like [`Instance::new`], on a fresh PostgreSQL database (every server and command gets
    /// `--database-url` and the same master key); `None` when there is no database to test on.
    pub fn postgres() -> Option<Instance> {
        let pg = PgDatabase::create()?;
        let mut inst = Instance::new();
        let out = Command::new("openssl")
            .args(["rand", "-base64", "32"])
            .output()
            .expect("run openssl");
        inst.master_key = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        assert_eq!(inst.master_key.len(), 44, "a master key from openssl");
        inst.pg = Some(pg);
        Some(inst)
    }

    /// The flags naming this instance's backend.
    pub fn backend_args(&self) -> Vec<String> {
        match &self.pg {
            Some(pg) => vec!["--database-url".to_owned(), pg.url.clone()],
            None => vec![
                "--data".to_owned(),
                self.data.to_str().expect("utf-8 path").to_owned(),
            ],
        }
    }

    /// Sets the master key on `cmd` for PostgreSQL, or makes sure none is inherited.
    fn with_master_key<'c>(&self, cmd: &'c mut Command) -> &'c mut Command {
        if self.pg.is_some() {
            cmd.env("PRIVET_MASTER_KEY", &self.master_key)
        } else {
            cmd.env_remove("PRIVET_MASTER_KEY")
        }
    }

    /// Servers and commands started from now on run on a manual clock standing at `now`
    /// (RFC 3339), which `Server::advance_clock` moves.
    pub fn set_clock(&self, now: &str) {
        *self.test_now.lock().expect("clock") = Some(now.to_owned());
    }

    /// Sets `PRIVET_TEST_NOW` on `cmd` when a clock is set.
    fn with_clock<'c>(&self, cmd: &'c mut Command) -> &'c mut Command {
        match self.test_now.lock().expect("clock").as_deref() {
            Some(now) => cmd.env("PRIVET_TEST_NOW", now),
            None => cmd.env_remove("PRIVET_TEST_NOW"),
        }
    }

    /// The temporary root (logs live here, outside the data directory).
    pub fn root(&self) -> &Path {
        self.root.path()
    }

    /// Runs `privet ARGS…` to completion.
    pub fn privet(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new(PRIVET);
        self.with_master_key(self.with_clock(&mut cmd))
            .args(args)
            .env_remove("PRIVET_DATA")
            .env_remove("PRIVET_DATABASE_URL")
            .stdin(Stdio::null())
            .output()
            .expect("run privet")
    }

    /// `privet key create --data DIR --role ROLE [--purpose P]…`; panics unless it succeeds
    /// and prints exactly one line.
    pub fn key(&self, role: &str, purposes: &[&str]) -> Key {
        let backend = self.backend_args();
        let mut args = vec!["key", "create", &backend[0], &backend[1], "--role", role];
        for p in purposes {
            args.extend(["--purpose", p]);
        }
        let out = self.privet(&args);
        let stdout = String::from_utf8(out.stdout).expect("utf-8 stdout");
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "key create failed: {stderr}");
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(lines.len(), 1, "key create prints one line: {stdout:?}");
        let id = stderr
            .split_whitespace()
            .find(|w| w.starts_with("key_"))
            .unwrap_or_else(|| panic!("no key id on stderr: {stderr}"))
            .trim_end_matches(';')
            .to_owned();
        Key {
            secret: lines[0].trim().to_owned(),
            id,
        }
    }

    /// The admin and the support key most tests act with, in that order.
    pub fn operators(&self) -> (Key, Key) {
        (self.key("admin", &[]), self.key("support", &[]))
    }

    /// Replaces the first `from` in the manifest `file` with `to`; `from` must be there, so
    /// an edit never silently stops applying.
    pub fn edit_manifest(&self, file: &str, from: &str, to: &str) {
        let path = self.manifests.join(file);
        let text = std::fs::read_to_string(&path).expect("read manifest");
        assert!(text.contains(from), "`{from}` is not in {file}");
        std::fs::write(&path, text.replacen(from, to, 1)).expect("write manifest");
    }

    /// Makes the thermostat's `climate.heating_minutes` serve only the consent-based energy
    /// report, so a household's consent decides whether it is kept.
    pub fn make_heating_minutes_consent_only(&self) {
        self.edit_manifest(
            "thermostat.toml",
            "purposes = [\"heating_control\", \"energy_report\", \"supplier_tariff\"]",
            "purposes = [\"energy_report\"]",
        );
    }

    /// `privet audit verify --data DIR`: (exit code, stdout + stderr).
    pub fn audit_verify(&self) -> (i32, String) {
        let backend = self.backend_args();
        let out = self.privet(&["audit", "verify", &backend[0], &backend[1]]);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.code().unwrap_or(-1), text)
    }

    /// Starts `privet serve` on this instance with the default limits.
    pub fn serve(&self) -> Server {
        self.serve_with(&[])
    }

    /// Starts `privet serve` with extra flags, on a free port, and waits until `/healthz`
    /// answers. Retries on another port if the one picked was taken in between.
    pub fn serve_with(&self, extra: &[&str]) -> Server {
        let healthy = |server: &Server| {
            server
                .http
                .get(server.url("/healthz"))
                .timeout(Duration::from_secs(2))
                .send()
                .is_ok_and(|r| r.status().is_success())
        };
        self.serve_until(extra, "http", &healthy)
    }

    /// Starts `privet serve` with extra flags on a free port, its URLs under `scheme`, and
    /// waits until `ready` says it is. Retries on another port if the one picked was taken in
    /// between.
    pub fn serve_until(
        &self,
        extra: &[&str],
        scheme: &str,
        ready: &dyn Fn(&Server) -> bool,
    ) -> Server {
        for attempt in 0..5 {
            let port = free_port();
            match self.try_serve(port, extra, attempt, scheme, ready) {
                Ok(server) => return server,
                Err(log) if log.contains("cannot listen") => continue,
                Err(log) => panic!("privet serve exited before it was ready:\n{log}"),
            }
        }
        panic!("no free port after 5 attempts");
    }

    fn try_serve(
        &self,
        port: u16,
        extra: &[&str],
        attempt: u32,
        scheme: &str,
        ready: &dyn Fn(&Server) -> bool,
    ) -> Result<Server, String> {
        static STARTS: AtomicU64 = AtomicU64::new(0);
        let n = STARTS.fetch_add(1, Ordering::Relaxed);
        let log = self.root().join(format!("serve-{n}-{attempt}.log"));
        let log_file = std::fs::File::create(&log).expect("log file");
        let addr = format!("127.0.0.1:{port}");
        let mut cmd = Command::new(PRIVET);
        let child = self
            .with_master_key(self.with_clock(&mut cmd))
            .arg("serve")
            .args(self.backend_args())
            .args(
                (!extra.contains(&"--manifests"))
                    .then_some([
                        std::ffi::OsStr::new("--manifests"),
                        self.manifests.as_os_str(),
                    ])
                    .into_iter()
                    .flatten(),
            )
            .arg("--listen")
            .arg(&addr)
            .args(extra)
            .env_remove("PRIVET_DATA")
            .env_remove("PRIVET_DATABASE_URL")
            // Verbose for our own crates, so a value leaking into any log line is caught.
            .env(
                "PRIVET_LOG",
                "info,privet=debug,privet_server=debug,privet_store=debug",
            )
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("log file"))
            .stderr(log_file)
            .spawn()
            .expect("spawn privet serve");
        let mut server = Server {
            child: Some(child),
            base: format!("{scheme}://{addr}"),
            addr,
            log,
            http: client(),
        };
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = server.try_wait() {
                let log = server.log();
                server.child = None;
                return Err(format!("exit {status}\n{log}"));
            }
            if ready(&server) {
                return Ok(server);
            }
            assert!(
                Instant::now() < deadline,
                "server not ready in time:\n{}",
                server.log()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Every regular file under the data directory, recursively.
    pub fn data_files(&self) -> Vec<PathBuf> {
        fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
            for entry in std::fs::read_dir(dir).expect("read data dir") {
                let path = entry.expect("dir entry").path();
                if path.is_dir() {
                    walk(&path, out);
                } else {
                    out.push(path);
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.data, &mut out);
        out.sort();
        out
    }

    /// The files under the data directory whose bytes contain `needle`.
    pub fn files_containing(&self, needle: &str) -> Vec<PathBuf> {
        self.data_files()
            .into_iter()
            .filter(|p| {
                let bytes = std::fs::read(p).unwrap_or_default();
                contains(&bytes, needle.as_bytes())
            })
            .collect()
    }

    /// Asserts no file under the data directory holds `needle` (and that there are files).
    pub fn assert_not_on_disk(&self, needle: &str, what: &str) {
        let files = self.data_files();
        assert!(
            files.iter().any(|f| f.ends_with("privet.db")),
            "no privet.db in {files:?}"
        );
        let hits = self.files_containing(needle);
        assert!(
            hits.is_empty(),
            "{what} `{needle}` found on disk in {hits:?}"
        );
    }

    /// `privet.db` opened directly, as someone with file access would.
    pub fn db(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.data.join("privet.db")).expect("open privet.db")
    }
}

/// Where most tests start: a fresh instance with an admin and a support key, served, with one
/// home: `(inst, admin, support, server, home)`. Keep the instance bound (`_inst` when unused,
/// never `_`): dropping it deletes the data directory under the running server.
pub fn served_home() -> (Instance, Key, Key, Server, Home) {
    let inst = Instance::new();
    let (admin, support) = inst.operators();
    let server = inst.serve();
    let home = server.home(&admin);
    (inst, admin, support, server, home)
}

/// [`served_home`] with its member consenting to the energy report, which `presence.home`
/// needs to be kept.
pub fn consenting_home() -> (Instance, Key, Key, Server, Home) {
    let (inst, admin, support, server, home) = served_home();
    server.consent_ok(&support, &home.member, "energy_report", true);
    (inst, admin, support, server, home)
}

/// Whether `haystack` contains `needle`.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind port 0");
    l.local_addr().expect("local addr").port()
}

fn client() -> Client {
    Client::builder()
        .no_proxy()
        .timeout(PATIENCE)
        .build()
        .expect("http client")
}

/// An HTTP answer, read whole.
#[derive(Debug)]
pub struct Resp {
    /// Status code.
    pub status: u16,
    /// Headers.
    pub headers: HeaderMap,
    /// Body text.
    pub body: String,
}

impl Resp {
    fn from(r: reqwest::blocking::Response) -> Resp {
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let body = r.text().expect("read body");
        Resp {
            status,
            headers,
            body,
        }
    }

    /// A header's value ("" if absent).
    pub fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    }

    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.body))
    }

    /// Asserts the status, returning the JSON body.
    pub fn expect(&self, status: u16) -> Value {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.body
        );
        self.json()
    }

    /// Asserts an RFC 9457 problem with this status: `application/problem+json` with `type`,
    /// `title`, `status` and a non-empty `detail`. Returns the problem.
    pub fn problem(&self, status: u16) -> Value {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.body
        );
        assert_problem_shape(self)
    }
}

/// Asserts the body is a problem document whose `status` matches the HTTP status.
pub fn assert_problem_shape(r: &Resp) -> Value {
    let ct = r.header("content-type");
    assert!(
        ct.starts_with("application/problem+json"),
        "status {} content type `{ct}`; body: {}",
        r.status,
        r.body
    );
    let p = r.json();
    for k in ["type", "title", "detail"] {
        assert!(
            p[k].as_str().is_some_and(|s| !s.is_empty()),
            "problem lacks `{k}`: {p}"
        );
    }
    assert_eq!(p["status"], json!(r.status), "problem status: {p}");
    p
}

/// A running `privet serve`; killed (SIGKILL) on drop if still running.
pub struct Server {
    child: Option<Child>,
    /// `http://127.0.0.1:PORT` (`https://` when served with TLS).
    pub base: String,
    /// `127.0.0.1:PORT`.
    pub addr: String,
    log: PathBuf,
    http: Client,
}

impl Server {
    /// The time the server's manual clock reads, in seconds since the Unix epoch.
    pub fn clock_secs(&self) -> f64 {
        let now: jiff::Timestamp = self.advance_clock(0).parse().expect("a time");
        now.as_millisecond() as f64 / 1000.0
    }

    /// Moves the server's manual clock (see `Instance::set_clock`) forward by `secs`; returns
    /// the time it now reads.
    pub fn advance_clock(&self, secs: i64) -> String {
        let r = self
            .http
            .post(self.url("/__test/clock"))
            .json(&json!({ "advance_secs": secs }))
            .send()
            .expect("move the clock");
        let status = r.status().as_u16();
        let body: Value = r.json().expect("clock answer");
        assert_eq!(status, 200, "the server has no manual clock: {body}");
        body["now"].as_str().expect("now").to_owned()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A household with one member and a thermostat attached to the household.
#[derive(Clone, Debug)]
pub struct Home {
    /// Household id.
    pub household: String,
    /// Member id.
    pub member: String,
    /// Device id.
    pub device: String,
    /// The device's token.
    pub token: String,
}

impl Server {
    /// An absolute URL for `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// Everything the server wrote to stdout and stderr so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn try_wait(&mut self) -> Option<ExitStatus> {
        self.child
            .as_mut()
            .and_then(|c| c.try_wait().expect("try_wait"))
    }

    /// Waits for the process to exit by itself.
    pub fn wait_exit(&mut self) -> ExitStatus {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = self.try_wait() {
                self.child = None;
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "server did not exit in time:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Sends SIGTERM (without waiting).
    pub fn sigterm(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM failed");
    }

    /// Graceful stop: SIGTERM, then the exit status.
    pub fn stop(&mut self) -> ExitStatus {
        self.sigterm();
        self.wait_exit()
    }

    /// Graceful stop that must exit 0.
    pub fn stop_ok(&mut self) {
        let status = self.stop();
        assert!(
            status.success(),
            "server exited {status} on SIGTERM:\n{}",
            self.log()
        );
    }

    /// SIGKILL, as a crash or power cut would.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().expect("SIGKILL");
            c.wait().expect("wait");
        }
    }

    /// A request with an optional bearer token.
    pub fn req(&self, method: reqwest::Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let r = self.http.request(method, self.url(path));
        match token {
            Some(t) => r.bearer_auth(t),
            None => r,
        }
    }

    /// Sends a request and reads the whole answer.
    pub fn send(&self, r: RequestBuilder) -> Resp {
        Resp::from(r.send().expect("HTTP request"))
    }

    /// `GET path`.
    pub fn get(&self, path: &str, token: Option<&str>) -> Resp {
        self.send(self.req(reqwest::Method::GET, path, token))
    }

    /// `POST path` with a JSON body.
    pub fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Resp {
        self.send(
            self.req(reqwest::Method::POST, path, token)
                .header("content-type", "application/json")
                .body(body.to_string()),
        )
    }

    /// `PUT path` with a JSON body.
    pub fn put(&self, path: &str, token: Option<&str>, body: &Value) -> Resp {
        self.send(
            self.req(reqwest::Method::PUT, path, token)
                .header("content-type", "application/json")
                .body(body.to_string()),
        )
    }

    /// `POST path` with raw bytes of a content type.
    pub fn post_raw(
        &self,
        path: &str,
        token: Option<&str>,
        content_type: &str,
        body: impl Into<Vec<u8>>,
    ) -> Resp {
        self.send(
            self.req(reqwest::Method::POST, path, token)
                .header("content-type", content_type)
                .body(body.into()),
        )
    }

    /// Creates a household, returning its id.
    pub fn household(&self, admin: &Key, name: &str) -> String {
        let r = self.post(
            "/v1/households",
            Some(&admin.secret),
            &json!({ "name": name }),
        );
        id_of(&r.expect(201))
    }

    /// Adds a member, returning their id.
    pub fn member(&self, admin: &Key, household: &str, name: &str, child: bool) -> String {
        let r = self.post(
            &format!("/v1/households/{household}/members"),
            Some(&admin.secret),
            &json!({ "name": name, "child": child }),
        );
        id_of(&r.expect(201))
    }

    /// Registers a device, returning (id, token).
    pub fn device(
        &self,
        admin: &Key,
        product: &str,
        household: Option<&str>,
        member: Option<&str>,
    ) -> (String, String) {
        let r = self.post(
            "/v1/devices",
            Some(&admin.secret),
            &json!({ "product": product, "household": household, "member": member }),
        );
        let v = r.expect(201);
        (
            v["id"].as_str().expect("device id").to_owned(),
            v["token"].as_str().expect("device token").to_owned(),
        )
    }

    /// Registers a device attached to nobody yet, as made at the factory; returns the answer
    /// with its `id`, `token` and single-use `claim_code`.
    pub fn unclaimed_device(&self, admin: &Key, product: &str) -> Value {
        self.post(
            "/v1/devices",
            Some(&admin.secret),
            &json!({ "product": product }),
        )
        .expect(201)
    }

    /// A household with one (adult) member and a thermostat.
    pub fn home(&self, admin: &Key) -> Home {
        let household = self.household(admin, &marker("Household"));
        let member = self.member(admin, &household, &marker("Member"), false);
        let (device, token) = self.device(admin, THERMOSTAT, Some(&household), None);
        Home {
            household,
            member,
            device,
            token,
        }
    }

    /// `POST /v1/ingest` with a JSON array of events.
    pub fn ingest(&self, token: &str, events: &Value) -> Resp {
        self.post_raw(
            "/v1/ingest",
            Some(token),
            "application/json",
            events.to_string(),
        )
    }

    /// `POST /v1/ingest` that must answer 200; returns the outcome.
    pub fn ingest_ok(&self, token: &str, events: &Value) -> Value {
        self.ingest(token, events).expect(200)
    }

    /// `POST /v1/ingest` with NDJSON, one event per line.
    pub fn ingest_ndjson(&self, token: &str, events: &[Value]) -> Resp {
        let body: String = events.iter().map(|e| format!("{e}\n")).collect();
        self.post_raw("/v1/ingest", Some(token), "application/x-ndjson", body)
    }

    /// `PUT /v1/subjects/{id}/consents/{purpose}`.
    pub fn consent(&self, key: &Key, subject: &str, purpose: &str, granted: bool) -> Resp {
        self.put(
            &format!("/v1/subjects/{subject}/consents/{purpose}"),
            Some(&key.secret),
            &json!({ "granted": granted }),
        )
    }

    /// `PUT /v1/subjects/{id}/consents/{purpose}` that must answer 200; returns the consent.
    pub fn consent_ok(&self, key: &Key, subject: &str, purpose: &str, granted: bool) -> Value {
        self.consent(key, subject, purpose, granted).expect(200)
    }

    /// `GET /v1/events` with query pairs.
    pub fn events(&self, key: &Key, query: &[(&str, &str)]) -> Resp {
        self.get(
            &format!("/v1/events?{}", query_string(query)),
            Some(&key.secret),
        )
    }

    /// `GET /v1/events` that must answer 200; returns the records.
    pub fn records(&self, key: &Key, query: &[(&str, &str)]) -> Vec<Value> {
        let v = self.events(key, query).expect(200);
        v["records"].as_array().expect("records array").clone()
    }

    /// `GET /v1/audit` entries.
    pub fn audit(&self, key: &Key) -> Vec<Value> {
        let v = self
            .get("/v1/audit?limit=10000", Some(&key.secret))
            .expect(200);
        v.as_array().expect("audit array").clone()
    }

    /// The current value of one series, named exactly as exported: `privet_events_accepted_total`
    /// or `privet_fields_dropped_total{reason="undeclared"}`.
    pub fn metric(&self, series: &str) -> Option<f64> {
        let text = self.get("/metrics", None).body;
        text.lines().filter(|l| !l.starts_with('#')).find_map(|l| {
            let (name, value) = l.rsplit_once(' ')?;
            (name == series).then(|| value.parse().ok()).flatten()
        })
    }
}

/// `a=b&c=d`, percent-encoding everything but unreserved characters.
pub fn query_string(pairs: &[(&str, &str)]) -> String {
    fn enc(s: &str) -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect()
    }
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// `id` of a `201 {"id"}` answer.
pub fn id_of(v: &Value) -> String {
    v["id"].as_str().expect("id").to_owned()
}

/// A climate event (household stream of the thermostat) with its two 400-day fields.
///
/// `humidity_pct` is left out on purpose: it has another retention (30 days), so it is stored
/// in another chunk and read back as a separate record of the same event.
pub fn climate(ts: &str, temperature: f64, minutes: i64) -> Value {
    json!({
        "stream": "climate",
        "ts": ts,
        "data": { "temperature_c": temperature, "heating_minutes": minutes }
    })
}

/// A presence event (member stream of the thermostat; `home` needs consent to `energy_report`).
pub fn presence(ts: &str, member: &str, home: bool) -> Value {
    json!({ "stream": "presence", "ts": ts, "member": member, "data": { "home": home } })
}

/// A raw HTTP/1.1 exchange on a fresh TCP connection, for cases a client library hides.
pub struct RawConn {
    /// The connection.
    pub stream: TcpStream,
}

impl RawConn {
    /// Connects to the server.
    pub fn open(server: &Server) -> RawConn {
        let stream = TcpStream::connect(&server.addr).expect("connect");
        stream
            .set_read_timeout(Some(PATIENCE))
            .expect("read timeout");
        RawConn { stream }
    }

    /// Writes bytes.
    pub fn write(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write");
        self.stream.flush().expect("flush");
    }

    /// Reads one response head (up to the blank line).
    pub fn read_head(&mut self) -> String {
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            let n = self.stream.read(&mut byte).expect("read head");
            assert!(n == 1, "connection closed mid-head: {head:?}");
            head.push(byte[0]);
        }
        String::from_utf8_lossy(&head).into_owned()
    }

    /// Reads until the server closes the connection.
    pub fn read_to_close(&mut self) -> String {
        let mut rest = Vec::new();
        self.stream.read_to_end(&mut rest).expect("read to close");
        String::from_utf8_lossy(&rest).into_owned()
    }
}

/// Asserts `path`'s permission bits are exactly `mode`.
pub fn assert_mode(path: &Path, mode: u32) {
    let actual = std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(
        actual,
        mode,
        "{} has mode {actual:o}, expected {mode:o}",
        path.display()
    );
}

// Signed releases: the maker's side, by the real CLI.

/// `privet release keygen --out DIR/NAME`: (the secret key file, the manifest line).
pub fn keygen(inst: &Instance, name: &str) -> (PathBuf, String) {
    let prefix = inst.root().join(name);
    let out = inst.privet(&["release", "keygen", "--out", prefix.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "keygen failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(
        line.starts_with("update_public_key = \"ed25519:") && line.ends_with('"'),
        "{line}"
    );
    // PREFIX.key and PREFIX.pub, even when the prefix has a dot of its own.
    let key = PathBuf::from(format!("{}.key", prefix.display()));
    assert_mode(&key, 0o600);
    let public = std::fs::read_to_string(format!("{}.pub", prefix.display())).unwrap();
    assert!(line.contains(public.trim()), "{line} vs {public}");
    (key, line)
}

/// Puts `line` in place of the thermostat manifest's `update_public_key`.
pub fn use_release_key(inst: &Instance, line: &str) {
    let path = inst.manifests.join("thermostat.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut replaced = 0;
    let new: Vec<String> = text
        .lines()
        .map(|l| {
            if l.trim_start().starts_with("update_public_key") {
                replaced += 1;
                line.to_owned()
            } else {
                l.to_owned()
            }
        })
        .collect();
    assert_eq!(
        replaced, 1,
        "the thermostat manifest has one update_public_key"
    );
    std::fs::write(&path, new.join("\n") + "\n").unwrap();
}

/// `privet release sign`: the signed metadata JSON.
pub fn sign(inst: &Instance, key: &Path, version: &str, firmware: &Path, extra: &[&str]) -> Value {
    let mut args = vec![
        "release",
        "sign",
        "--key",
        key.to_str().unwrap(),
        "--product",
        THERMOSTAT,
        "--version",
        version,
    ];
    args.extend(extra);
    args.push(firmware.to_str().unwrap());
    let out = inst.privet(&args);
    assert!(
        out.status.success(),
        "sign failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("signed metadata is JSON")
}

/// A firmware image file for `version`.
pub fn firmware(inst: &Instance, version: &str) -> PathBuf {
    let path = inst.root().join(format!("firmware-{version}.bin"));
    std::fs::write(&path, format!("wren firmware {version}\n").repeat(1000)).unwrap();
    path
}

/// The `heating_minutes` of every climate record `key` reads for `heating_control`, in order,
/// repeats kept (so a test can tell a lost event from one stored twice).
pub fn climate_minutes(server: &Server, key: &Key) -> Vec<i64> {
    let r = server.send(
        server
            .req(
                reqwest::Method::GET,
                "/v1/events?purpose=heating_control&stream=climate",
                Some(&key.secret),
            )
            .header("accept", "application/x-ndjson"),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("an NDJSON record");
            v["data"]["heating_minutes"]
                .as_i64()
                .expect("heating minutes")
        })
        .collect()
}
