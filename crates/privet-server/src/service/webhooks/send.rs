//! One attempt at a delivery: an HTTP/1.1 POST of the payload with its Standard Webhooks
//! headers, by hyper's client connection over a fresh TCP (and, for `https`, rustls)
//! connection, held to a timeout. Plain `http://` and loopback or private addresses are
//! allowed: receivers run on the operator's own network.
//!
//! What a failure records says what happened to the connection or which status came back,
//! never what the receiver answered in its body.

use hyper::Request;
use hyper::header::{CONTENT_TYPE, HOST, USER_AGENT};
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

/// How long an attempt may take, connecting included, before it counts as failed.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// The headers of one attempt.
#[derive(Debug)]
pub struct Signed<'a> {
    /// `webhook-id`.
    pub id: &'a str,
    /// `webhook-timestamp`, Unix seconds.
    pub timestamp: i64,
    /// `webhook-signature`.
    pub signature: &'a str,
}

/// Why an attempt failed before a status came back.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The endpoint's URL cannot be sent to (checked at registration; a stored one is odd).
    #[error("the endpoint's URL cannot be used")]
    Url,
    /// No TCP connection.
    #[error("could not connect ({0})")]
    Connect(std::io::ErrorKind),
    /// The TLS handshake failed (untrusted certificate, wrong name, no common version).
    #[error("TLS handshake failed")]
    Tls,
    /// No root certificates to trust an `https` endpoint with.
    #[error("no CA certificates to trust https endpoints with")]
    NoRoots,
    /// The HTTP exchange failed (connection closed, malformed answer).
    #[error("HTTP exchange failed")]
    Http,
    /// No answer within [`TIMEOUT`].
    #[error("no answer within {} s", TIMEOUT.as_secs())]
    Timeout,
}

/// POSTs `body` to `url` with the signed headers; the status the endpoint answered with.
pub async fn post(url: &str, signed: &Signed<'_>, body: String) -> Result<u16, SendError> {
    match tokio::time::timeout(TIMEOUT, exchange(url, signed, body)).await {
        Ok(result) => result,
        Err(_) => Err(SendError::Timeout),
    }
}

async fn exchange(url: &str, signed: &Signed<'_>, body: String) -> Result<u16, SendError> {
    let url = url::Url::parse(url).map_err(|_| SendError::Url)?;
    let host = url.host_str().ok_or(SendError::Url)?.to_owned();
    let port = url.port_or_known_default().ok_or(SendError::Url)?;
    // `[::1]` in a URL is `::1` to connect to.
    let connect_host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let tcp = TcpStream::connect((connect_host.as_str(), port))
        .await
        .map_err(|e| SendError::Connect(e.kind()))?;
    let _ = tcp.set_nodelay(true);
    let authority = match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.clone(),
    };
    let target = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    };
    let request = Request::post(target)
        .header(HOST, authority)
        .header(CONTENT_TYPE, "application/json")
        .header(USER_AGENT, concat!("privet/", env!("CARGO_PKG_VERSION")))
        .header("webhook-id", signed.id)
        .header("webhook-timestamp", signed.timestamp.to_string())
        .header("webhook-signature", signed.signature)
        .body(body)
        .map_err(|_| SendError::Url)?;
    match url.scheme() {
        "https" => {
            let name = ServerName::try_from(connect_host).map_err(|_| SendError::Url)?;
            let tls = tokio_rustls::TlsConnector::from(client_config()?)
                .connect(name, tcp)
                .await
                .map_err(|_| SendError::Tls)?;
            send(tls, request).await
        }
        "http" => send(tcp, request).await,
        _ => Err(SendError::Url),
    }
}

async fn send<S>(io: S, request: Request<String>) -> Result<u16, SendError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .map_err(|_| SendError::Http)?;
    // The connection is driven alongside the request; it ends when the answer is read (or
    // the attempt times out and this future is dropped with it).
    let driver = tokio::spawn(conn);
    let answer = sender.send_request(request).await;
    driver.abort();
    answer
        .map(|r| r.status().as_u16())
        .map_err(|_| SendError::Http)
}

/// The TLS client configuration: the system's roots, rustls on ring (as the MQTT bridge),
/// built once.
fn client_config() -> Result<Arc<rustls::ClientConfig>, SendError> {
    static CONFIG: OnceLock<Option<Arc<rustls::ClientConfig>>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let mut roots = rustls::RootCertStore::empty();
            for cert in rustls_native_certs::load_native_certs().certs {
                // A system store may hold certificates rustls cannot use; the rest serve.
                let _ = roots.add(cert);
            }
            if roots.is_empty() {
                return None;
            }
            #[allow(deprecated)]
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .ok()
                .map(|b| Arc::new(b.with_root_certificates(roots).with_no_client_auth()))
        })
        .clone()
        .ok_or(SendError::NoRoots)
}
