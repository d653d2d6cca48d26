//! The connection as hyper sees it: reads note when a request begins, and a read that would
//! wait past the connection's deadline (the header or the idle timeout) fails instead — after
//! a 408 if part of a request came — which ends the connection. Over TLS it wraps the
//! decrypted stream, so what counts as a request's bytes is what hyper reads.
//!
//! hyper has a header timeout of its own, but it restarts whenever a kept-alive connection
//! goes idle, so an idle timeout longer than it could never apply; this keeps both.

use super::Shared;
use super::conn::{Conn, Expiry, Wait};
use super::stream::Stream;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep, sleep_until};

/// A connection's stream with its header and idle deadlines.
pub(super) struct TimedIo {
    stream: Stream,
    conn: Arc<Conn>,
    shared: Arc<Shared>,
    /// Armed while hyper waits on the client with no request in flight.
    timer: Option<Pin<Box<Sleep>>>,
}

impl TimedIo {
    /// Wraps an accepted connection's stream.
    pub(super) fn new(stream: Stream, conn: Arc<Conn>, shared: Arc<Shared>) -> TimedIo {
        TimedIo {
            stream,
            conn,
            shared,
            timer: None,
        }
    }

    /// The deadline passed: answers 408 if a request had begun (one attempt, never waiting
    /// on a client that does not read), counts the closing, and gives hyper the error that
    /// ends the connection.
    fn expire(&mut self, cx: &mut Context<'_>, expiry: Expiry) -> io::Error {
        if expiry.answer {
            self.stream.write_once(cx, &self.shared.head_timeout_answer);
        }
        let (reason, what) = match expiry.wait {
            Wait::Head => ("header_timeout", "the request head did not arrive in time"),
            Wait::Idle => ("idle_timeout", "no request on a kept-alive connection"),
        };
        self.shared.metrics.connection_closed(reason);
        io::Error::new(io::ErrorKind::TimedOut, what)
    }
}

impl AsyncRead for TimedIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        if let Poll::Ready(read) = Pin::new(&mut this.stream).poll_read(cx, buf) {
            if read.is_ok() && buf.filled().len() > before {
                this.conn.on_bytes(Instant::now());
            }
            return Poll::Ready(read);
        }
        // Nothing to read: whether the connection may wait on its client is its deadline's
        // say, recomputed each time, since a request beginning or ending moves it.
        let Some(expiry) = this.conn.expiry(&this.shared.limits, cx.waker()) else {
            this.timer = None;
            return Poll::Pending;
        };
        let timer = this
            .timer
            .get_or_insert_with(|| Box::pin(sleep_until(expiry.at)));
        if timer.deadline() != expiry.at {
            timer.as_mut().reset(expiry.at);
        }
        if timer.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        this.timer = None;
        Poll::Ready(Err(this.expire(cx, expiry)))
    }
}

impl AsyncWrite for TimedIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}
