//! TLS for the end-to-end tests, on top of the shared harness in `support/`: certificates made
//! by the `openssl` CLI (a test CA signing a leaf for `localhost` and 127.0.0.1, of each key
//! type the server takes), and a blocking rustls client that trusts that CA and speaks
//! HTTP/1.1 on one kept-alive connection, so a test can hold a connection open across a
//! certificate reload and see which certificate each connection was served.
//!
//! Test files include it next to the harness: `mod support; mod tls_support;`.
#![allow(dead_code, unreachable_pub)]

use crate::support::{Instance, Server};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tempfile::TempDir;

/// How long any wait in these tests may take before it fails.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// Runs `openssl ARGS…`; panics with its message unless it succeeds.
pub fn openssl(args: &[&str]) -> String {
    let out = Command::new("openssl")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run openssl (the tests make their certificates with it)");
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The key types the server takes, as `openssl genpkey` makes them (PKCS#8).
#[derive(Clone, Copy, Debug)]
pub enum KeyKind {
    /// ECDSA on P-256.
    EcdsaP256,
    /// Ed25519.
    Ed25519,
    /// RSA, 2048 bits.
    Rsa2048,
}

impl KeyKind {
    /// Every kind.
    pub const ALL: [KeyKind; 3] = [KeyKind::EcdsaP256, KeyKind::Ed25519, KeyKind::Rsa2048];

    /// `openssl genpkey` arguments for a key of this kind.
    fn genpkey(self) -> &'static [&'static str] {
        match self {
            KeyKind::EcdsaP256 => &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
            KeyKind::Ed25519 => &["-algorithm", "ED25519"],
            KeyKind::Rsa2048 => &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
        }
    }
}

/// A certificate and its key, as files.
#[derive(Clone, Debug)]
pub struct Leaf {
    /// The certificate (PEM).
    pub cert: PathBuf,
    /// Its key (PEM, PKCS#8).
    pub key: PathBuf,
}

impl Leaf {
    /// The certificate's DER, as a server sends it.
    pub fn der(&self) -> Vec<u8> {
        CertificateDer::from_pem_file(&self.cert)
            .expect("a PEM certificate")
            .to_vec()
    }

    /// Its SHA-256 fingerprint as `openssl x509 -fingerprint -sha256` prints it (`AB:CD:…`).
    pub fn fingerprint(&self) -> String {
        let out = openssl(&[
            "x509",
            "-noout",
            "-fingerprint",
            "-sha256",
            "-in",
            path(&self.cert),
        ]);
        out.trim()
            .split_once('=')
            .map(|(_, f)| f.to_owned())
            .expect("openssl prints `sha256 Fingerprint=…`")
    }

    /// The `--tls-cert FILE --tls-key FILE` flags serving it.
    pub fn flags(&self) -> Vec<String> {
        vec![
            "--tls-cert".to_owned(),
            path(&self.cert).to_owned(),
            "--tls-key".to_owned(),
            path(&self.key).to_owned(),
        ]
    }

    /// Copies this certificate and key over `to`'s files, as an operator renewing would.
    pub fn copy_over(&self, to: &Leaf) {
        std::fs::copy(&self.cert, &to.cert).expect("copy certificate");
        std::fs::copy(&self.key, &to.key).expect("copy key");
    }
}

/// A test certificate authority in a temporary directory.
pub struct Pki {
    dir: TempDir,
    /// The CA's certificate, which clients trust.
    pub ca: PathBuf,
    ca_key: PathBuf,
}

impl Default for Pki {
    fn default() -> Self {
        Self::new()
    }
}

impl Pki {
    /// A fresh CA (ECDSA P-256).
    pub fn new() -> Pki {
        let dir = tempfile::Builder::new()
            .prefix("privet-tls-")
            .tempdir()
            .expect("temp dir");
        let ca = dir.path().join("ca.pem");
        let ca_key = dir.path().join("ca.key");
        openssl(&[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-noenc",
            "-keyout",
            path(&ca_key),
            "-out",
            path(&ca),
            "-days",
            "2",
            "-subj",
            "/CN=Privet test CA",
        ]);
        Pki { dir, ca, ca_key }
    }

    /// A path in the CA's directory.
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A new key of `kind` in `NAME.key` (PKCS#8).
    pub fn key(&self, name: &str, kind: KeyKind) -> PathBuf {
        let key = self.file(&format!("{name}.key"));
        let mut args = vec!["genpkey"];
        args.extend(kind.genpkey());
        args.extend(["-out", path(&key)]);
        openssl(&args);
        key
    }

    /// A leaf certificate for `localhost` and 127.0.0.1, signed by the CA, with a new key of
    /// `kind`: `NAME.pem` and `NAME.key`.
    pub fn leaf(&self, name: &str, kind: KeyKind) -> Leaf {
        let key = self.key(name, kind);
        let cert = self.file(&format!("{name}.pem"));
        self.sign(&key, &cert);
        Leaf { cert, key }
    }

    /// Writes to `cert` a certificate for `key`'s public key, signed by the CA.
    pub fn sign(&self, key: &Path, cert: &Path) {
        openssl(&[
            "req",
            "-new",
            "-x509",
            "-key",
            path(key),
            "-CA",
            path(&self.ca),
            "-CAkey",
            path(&self.ca_key),
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-addext",
            "basicConstraints=critical,CA:FALSE",
            "-addext",
            "keyUsage=critical,digitalSignature",
            "-addext",
            "extendedKeyUsage=serverAuth",
            "-out",
            path(cert),
        ]);
    }
}

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

/// A `GET path` request, closing nothing.
pub fn get(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n")
}

/// A `POST path` request with a JSON body.
pub fn post_json(path: &str, body: &serde_json::Value) -> String {
    let body = body.to_string();
    format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\ncontent-type: application/json\r\n\
         content-length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// An HTTP answer read off a TLS connection.
#[derive(Debug)]
pub struct Answer {
    /// Status code.
    pub status: u16,
    /// Header lines, names lowercased, in order.
    pub headers: Vec<(String, String)>,
    /// Body text.
    pub body: String,
}

impl Answer {
    /// The first value of a header ("" if absent).
    pub fn header(&self, name: &str) -> String {
        self.all(name).into_iter().next().unwrap_or_default()
    }

    /// Every value of a header.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.headers
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.body))
    }
}

/// One HTTPS connection to the server, trusting only the test CA.
pub struct Https {
    tls: StreamOwned<ClientConnection, TcpStream>,
    /// Bytes read past the last answer.
    pending: Vec<u8>,
}

impl Https {
    /// Connects and completes the handshake; panics if either fails.
    pub fn connect(addr: &str, ca: &Path) -> Https {
        Https::try_connect(addr, ca, PATIENCE)
            .unwrap_or_else(|e| panic!("TLS connection to {addr}: {e}"))
    }

    /// Connects and completes the handshake, each read waiting at most `patience`.
    pub fn try_connect(addr: &str, ca: &Path, patience: Duration) -> std::io::Result<Https> {
        let mut roots = RootCertStore::empty();
        for cert in CertificateDer::pem_file_iter(ca).map_err(std::io::Error::other)? {
            roots
                .add(cert.map_err(std::io::Error::other)?)
                .map_err(std::io::Error::other)?;
        }
        #[allow(deprecated)]
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(std::io::Error::other)?
            .with_root_certificates(roots)
            .with_no_client_auth();
        // Both offered: the server must pick the one it serves.
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        let name = ServerName::try_from("localhost").map_err(std::io::Error::other)?;
        let conn = ClientConnection::new(Arc::new(config), name).map_err(std::io::Error::other)?;
        let sock = TcpStream::connect(addr)?;
        sock.set_read_timeout(Some(patience))?;
        sock.set_write_timeout(Some(patience))?;
        let mut tls = StreamOwned::new(conn, sock);
        while tls.conn.is_handshaking() {
            tls.conn.complete_io(&mut tls.sock)?;
        }
        Ok(Https {
            tls,
            pending: Vec::new(),
        })
    }

    /// The DER of the certificate the server presented.
    pub fn served_cert(&self) -> Vec<u8> {
        self.tls
            .conn
            .peer_certificates()
            .and_then(|c| c.first())
            .map(|c| c.to_vec())
            .expect("the server presented a certificate")
    }

    /// The application protocol the server chose.
    pub fn alpn(&self) -> Option<String> {
        self.tls
            .conn
            .alpn_protocol()
            .map(|p| String::from_utf8_lossy(p).into_owned())
    }

    /// Sets how long each read may wait.
    pub fn set_patience(&mut self, patience: Duration) {
        self.tls
            .sock
            .set_read_timeout(Some(patience))
            .expect("read timeout");
    }

    /// Writes raw bytes.
    pub fn write(&mut self, bytes: &[u8]) {
        self.tls.write_all(bytes).expect("write");
        self.tls.flush().expect("flush");
    }

    /// Sends `request` (raw HTTP/1.1) and reads the answer; panics on failure.
    pub fn send(&mut self, request: &str) -> Answer {
        self.try_send(request).expect("HTTPS request")
    }

    /// Sends `request` and reads the answer.
    pub fn try_send(&mut self, request: &str) -> std::io::Result<Answer> {
        self.tls.write_all(request.as_bytes())?;
        self.tls.flush()?;
        self.read_answer()
    }

    /// Reads one answer: its head, then a body of `content-length` or chunked.
    pub fn read_answer(&mut self) -> std::io::Result<Answer> {
        let head_end = loop {
            if let Some(i) = find(&self.pending, b"\r\n\r\n") {
                break i;
            }
            self.fill()?;
        };
        let head = String::from_utf8_lossy(&self.pending[..head_end]).into_owned();
        self.pending.drain(..head_end + 4);
        let mut lines = head.split("\r\n");
        let status = lines
            .next()
            .and_then(|l| l.split(' ').nth(1))
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("no status line: {head}")))?;
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_lowercase(), v.trim().to_owned()))
            .collect();
        let header = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
        };
        let body = if header("transfer-encoding").is_some_and(|t| t.contains("chunked")) {
            self.read_chunked()?
        } else {
            let len: usize = header("content-length")
                .and_then(|l| l.parse().ok())
                .unwrap_or(0);
            self.take(len)?
        };
        Ok(Answer {
            status,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    }

    /// Reads until the server closes the connection, or `patience` passes: what came, and
    /// whether it closed (a close without close_notify counts).
    pub fn read_until_closed(&mut self, patience: Duration) -> (Vec<u8>, bool) {
        let deadline = Instant::now() + patience;
        let mut got = std::mem::take(&mut self.pending);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            self.set_patience(left.max(Duration::from_millis(10)));
            let mut buf = [0u8; 4096];
            match self.tls.read(&mut buf) {
                Ok(0) => return (got, true),
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    return (got, false);
                }
                Err(_) => return (got, true),
            }
        }
    }

    fn fill(&mut self) -> std::io::Result<()> {
        let mut buf = [0u8; 4096];
        let n = self.tls.read(&mut buf)?;
        if n == 0 {
            return Err(std::io::Error::new(
                ErrorKind::UnexpectedEof,
                "the server closed the connection",
            ));
        }
        self.pending.extend_from_slice(&buf[..n]);
        Ok(())
    }

    fn take(&mut self, n: usize) -> std::io::Result<Vec<u8>> {
        while self.pending.len() < n {
            self.fill()?;
        }
        Ok(self.pending.drain(..n).collect())
    }

    fn read_chunked(&mut self) -> std::io::Result<Vec<u8>> {
        let mut body = Vec::new();
        loop {
            let line_end = loop {
                if let Some(i) = find(&self.pending, b"\r\n") {
                    break i;
                }
                self.fill()?;
            };
            let size = String::from_utf8_lossy(&self.pending[..line_end]).into_owned();
            self.pending.drain(..line_end + 2);
            let size = usize::from_str_radix(size.split(';').next().unwrap_or("").trim(), 16)
                .map_err(std::io::Error::other)?;
            let chunk = self.take(size + 2)?;
            if size == 0 {
                return Ok(body);
            }
            body.extend_from_slice(&chunk[..size]);
        }
    }
}

/// Where `needle` first occurs in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
