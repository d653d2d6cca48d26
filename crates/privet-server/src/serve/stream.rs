//! A connection's byte stream: the accepted socket, or TLS over it once the handshake is done.
//!
//! The handshake is the first part of the first request: it has what the header timeout
//! leaves, counted from when the connection opened, so a client that connects and never sends
//! a ClientHello is closed as one that never sends a request line is.

use super::Shared;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// What hyper reads requests from and writes answers to.
pub(super) enum Stream {
    /// Plain HTTP.
    Plain(TcpStream),
    /// HTTPS (boxed: rustls's state is kilobytes, a socket a few words).
    Tls(Box<TlsStream<TcpStream>>),
}

impl Stream {
    /// Whether the connection is TLS.
    pub(super) fn is_tls(&self) -> bool {
        matches!(self, Stream::Tls(_))
    }

    /// Writes `bytes` as far as the socket takes them now, never waiting on a client that
    /// does not read; over TLS, then closes the TLS session (close_notify), also without
    /// waiting. For the answers given just before the connection is dropped.
    pub(super) fn write_once(&mut self, cx: &mut Context<'_>, bytes: &[u8]) {
        match self {
            Stream::Plain(s) => {
                let _ = s.try_write(bytes);
            }
            Stream::Tls(s) => {
                let mut s = Pin::new(&mut **s);
                let _ = s.as_mut().poll_write(cx, bytes);
                let _ = s.poll_shutdown(cx);
            }
        }
    }
}

/// Completes the TLS handshake on `socket` by `deadline` (`None`: none), counting one that
/// runs out of time as a header timeout. `None` when it fails or times out: the socket is
/// dropped, closing the connection.
pub(super) async fn handshake(
    acceptor: &TlsAcceptor,
    socket: TcpStream,
    deadline: Option<Instant>,
    shared: &Shared,
) -> Option<Stream> {
    let accepting = acceptor.accept(socket);
    let done = match deadline {
        Some(at) => match tokio::time::timeout_at(at, accepting).await {
            Ok(done) => done,
            Err(_) => {
                shared.metrics.connection_closed("header_timeout");
                tracing::debug!("TLS handshake did not complete within the header timeout");
                return None;
            }
        },
        None => accepting.await,
    };
    match done {
        Ok(tls) => Some(Stream::Tls(Box::new(tls))),
        // The client's doing, mostly (a CA it does not trust, a protocol it does not
        // speak): rustls has already sent the alert that tells it why.
        Err(e) => {
            tracing::debug!(error = %e, "TLS handshake failed");
            None
        }
    }
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(&mut **s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(&mut **s).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Stream::Tls(s) => Pin::new(&mut **s).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Stream::Plain(s) => s.is_write_vectored(),
            Stream::Tls(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(&mut **s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(&mut **s).poll_shutdown(cx),
        }
    }
}
