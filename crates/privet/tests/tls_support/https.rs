//! A blocking rustls client that trusts only the test CA and speaks HTTP/1.1 on one kept-alive
//! connection: which certificate it was served, and raw requests and answers.

use super::PATIENCE;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

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
