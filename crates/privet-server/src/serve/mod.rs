//! The accept loop: HTTP/1.1 connections served by hyper, each within the
//! [`ConnectionLimits`] — a deadline for a request's head ([`io`]) and body ([`body`]), an idle
//! timeout, and a cap on open connections that sheds the one idle longest ([`slots`]) — so
//! slow or idle clients cannot hold every file descriptor and starve everyone else. With TLS,
//! each connection's handshake comes first ([`stream`]), within the same limits.
//!
//! It replaces `axum::serve`, which has none of these; the shutdown is the same: stop
//! accepting, let requests in flight finish, and wait for their connections to close.

pub(crate) mod body;
mod conn;
mod io;
mod service;
mod slots;
mod stream;

use crate::config::ConnectionLimits;
use crate::error::ApiError;
use crate::metrics::Metrics;
use axum::Router;
use conn::Conn;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use slots::{Admission, Slots};
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use stream::Stream;
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;

/// What every connection of one server shares.
struct Shared {
    limits: ConnectionLimits,
    slots: Slots,
    metrics: Arc<Metrics>,
    http: http1::Builder,
    /// Every connection's TLS handshake, when serving HTTPS.
    tls: Option<TlsAcceptor>,
    /// The answer to a request whose head ran out of time, written by hand: hyper has no
    /// request to answer yet.
    head_timeout_answer: Vec<u8>,
    /// The answer to a connection refused because every slot has a request in flight.
    overloaded_answer: Vec<u8>,
}

/// Connections the kernel completes and queues before they are accepted. The usual 128
/// overflows in a burst of connections (each client whose handshake is dropped waits a second
/// to retry); the kernel caps it at `net.core.somaxconn`.
const LISTEN_BACKLOG: u32 = 1024;

/// Binds a listener on `addr` with room for [`LISTEN_BACKLOG`] connections not yet accepted.
pub(crate) fn listen(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    // As `TcpListener::bind` does: a restart binds while the last run's connections linger.
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// Serves `app` on `listener` — over TLS with `tls` — until `shutdown` resolves, then stops
/// accepting, closes idle connections, lets requests in flight finish and returns once every
/// connection is closed. Accept errors (out of file descriptors, say) are waited out, never
/// fatal.
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    metrics: Arc<Metrics>,
    tls: Option<TlsAcceptor>,
    shutdown: impl Future<Output = ()>,
) {
    let mut http = http1::Builder::new();
    // hyper's own header timeout is left off (and so needs no timer): `io` keeps it instead.
    http.header_read_timeout(None);
    let https = tls.is_some();
    let shared = Arc::new(Shared {
        limits,
        slots: Slots::new(limits.max_connections),
        metrics,
        http,
        tls,
        head_timeout_answer: raw_problem(
            &ApiError::RequestTimeout {
                secs: limits.header_timeout.as_secs(),
            },
            https,
        ),
        overloaded_answer: raw_problem(&ApiError::Overloaded, false),
    });
    let (stop, stopping) = watch::channel(false);
    // Every connection task holds a sender; `recv` ends once all are gone.
    let (alive, mut all_closed) = mpsc::channel::<Infallible>(1);
    let mut backoff = Backoff::default();
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, peer)) => {
                backoff.reset();
                admit(stream, peer, &app, &shared, &stopping, &alive);
            }
            // The client gave up before it was accepted: nothing of ours went wrong.
            Err(e) if is_connection_error(&e) => {}
            Err(e) => {
                // Out of file descriptors or memory: free one from the connection idle
                // longest, and wait a little rather than spin on an error that persists.
                let shed = shared.slots.shed_one();
                if shed {
                    shared.metrics.connection_closed("shed");
                }
                let wait = backoff.next();
                tracing::warn!(error = %e, shed, ?wait, "accept error");
                tokio::select! {
                    () = &mut shutdown => break,
                    () = tokio::time::sleep(wait) => {}
                }
            }
        }
    }
    drop(listener);
    let _ = stop.send(true);
    drop(alive);
    let _ = all_closed.recv().await;
}

/// Gives an accepted connection a slot and its task, or refuses it with a 503.
fn admit(
    stream: TcpStream,
    peer: SocketAddr,
    app: &Router,
    shared: &Arc<Shared>,
    stopping: &watch::Receiver<bool>,
    alive: &mpsc::Sender<Infallible>,
) {
    match shared.slots.admit(Instant::now()) {
        Admission::Full => {
            shared.metrics.connection_closed("refused");
            // One attempt: the socket is new, its send buffer empty. A TLS client is closed
            // without a word: a handshake to say 503 would cost what refusing saves.
            if shared.tls.is_none() {
                let _ = stream.try_write(&shared.overloaded_answer);
            }
        }
        Admission::Admitted { conn, shed } => {
            if shed {
                shared.metrics.connection_closed("shed");
            }
            tokio::spawn(connection(
                stream,
                peer,
                conn,
                app.clone(),
                shared.clone(),
                stopping.clone(),
                alive.clone(),
            ));
        }
    }
}

/// Runs one connection until it ends, is shed, or the server stops; the last two close it at
/// once when idle, or after the request in flight.
async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    conn: Arc<Conn>,
    app: Router,
    shared: Arc<Shared>,
    mut stopping: watch::Receiver<bool>,
    _alive: mpsc::Sender<Infallible>,
) {
    let _slot = Slot::taken(&shared, conn.id());
    let stream = match &shared.tls {
        None => Stream::Plain(stream),
        Some(acceptor) => {
            let deadline = conn.opened().checked_add(shared.limits.header_timeout);
            tokio::select! {
                done = stream::handshake(acceptor, stream, deadline, &shared) => match done {
                    Some(tls) => tls,
                    None => return,
                },
                // Nothing is in flight yet: dropping the socket closes it.
                () = conn.shed_requested() => return,
                _ = stopping.wait_for(|stop| *stop) => return,
            }
        }
    };
    let tls = stream.is_tls();
    let io = TokioIo::new(io::TimedIo::new(stream, conn.clone(), shared.clone()));
    let http = shared.http.serve_connection(
        io,
        service::ConnService::new(app, peer, conn.clone(), shared.clone(), tls),
    );
    tokio::pin!(http);
    tokio::select! {
        ended = http.as_mut() => {
            if let Err(e) = ended {
                tracing::debug!(error = %e, "connection ended");
            }
            return;
        }
        () = conn.shed_requested() => {}
        _ = stopping.wait_for(|stop| *stop) => {}
    }
    if conn.is_idle() {
        // Dropping the connection closes the socket: nothing is in flight on it.
        return;
    }
    http.as_mut().graceful_shutdown();
    if let Err(e) = http.await {
        tracing::debug!(error = %e, "connection ended while closing");
    }
}

/// A connection's slot and its place in the open-connections gauge, held by its task.
struct Slot {
    shared: Arc<Shared>,
    id: u64,
}

impl Slot {
    fn taken(shared: &Arc<Shared>, id: u64) -> Slot {
        shared.metrics.connections_open.inc();
        Slot {
            shared: shared.clone(),
            id,
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.shared.slots.release(self.id);
        self.shared.metrics.connections_open.dec();
    }
}

/// Whether an accept error is the client's doing (it reset or aborted before the accept).
fn is_connection_error(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    )
}

/// Waits between failed accepts: 10 ms, doubling to 1 s, back to 10 ms after a success.
#[derive(Debug, Default)]
struct Backoff {
    failures: u32,
}

impl Backoff {
    fn next(&mut self) -> Duration {
        let wait = Duration::from_millis(10).saturating_mul(1 << self.failures.min(7));
        self.failures = self.failures.saturating_add(1);
        wait.min(Duration::from_secs(1))
    }

    fn reset(&mut self) {
        self.failures = 0;
    }
}

/// An error's problem+json answer as raw HTTP/1.1, closing the connection, for the answers
/// given outside hyper; over TLS (`https`) marked `Strict-Transport-Security` as hyper's are.
fn raw_problem(error: &ApiError, https: bool) -> Vec<u8> {
    let problem = error.problem();
    let body = serde_json::to_vec(&problem).unwrap_or_default();
    let status = axum::http::StatusCode::from_u16(problem.status)
        .unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
    let retry_after = if matches!(error, ApiError::Overloaded) {
        "retry-after: 1\r\n"
    } else {
        ""
    };
    let hsts = if https {
        format!(
            "strict-transport-security: {}\r\n",
            crate::tls::STRICT_TRANSPORT_SECURITY
        )
    } else {
        String::new()
    };
    let mut out = format!(
        "HTTP/1.1 {} {}\r\ncontent-type: application/problem+json\r\ncontent-length: {}\r\n\
         connection: close\r\ncache-control: no-store\r\nx-content-type-options: nosniff\r\n\
         {retry_after}{hsts}\r\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or(""),
        body.len(),
    )
    .into_bytes();
    out.extend_from_slice(&body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_backoff_doubles_to_a_second_and_resets() {
        let mut b = Backoff::default();
        let waits: Vec<u64> = (0..9)
            .map(|_| u64::try_from(b.next().as_millis()).unwrap_or(u64::MAX))
            .collect();
        assert_eq!(waits, [10, 20, 40, 80, 160, 320, 640, 1000, 1000]);
        b.reset();
        assert_eq!(b.next(), Duration::from_millis(10));
    }

    #[test]
    fn raw_answers_are_problem_json_that_close_the_connection() {
        let raw = raw_problem(&ApiError::RequestTimeout { secs: 30 }, false);
        let text = String::from_utf8_lossy(&raw);
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or_default();
        assert!(
            head.starts_with("HTTP/1.1 408 Request Timeout\r\n"),
            "{head}"
        );
        assert!(head.contains("content-type: application/problem+json"));
        assert!(head.contains("connection: close"));
        assert!(head.contains(&format!("content-length: {}", body.len())));
        let problem: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
        assert_eq!(problem["status"], 408);
        assert!(!head.contains("strict-transport-security"), "plain HTTP");
        let overloaded = raw_problem(&ApiError::Overloaded, false);
        let text = String::from_utf8_lossy(&overloaded);
        assert!(text.starts_with("HTTP/1.1 503 Service Unavailable\r\n"));
        assert!(text.contains("retry-after: 1\r\n"));
        let https = raw_problem(&ApiError::RequestTimeout { secs: 30 }, true);
        let text = String::from_utf8_lossy(&https);
        let (head, _) = text.split_once("\r\n\r\n").unwrap_or_default();
        assert!(
            head.contains("\r\nstrict-transport-security: max-age=31536000"),
            "{head}"
        );
    }
}
