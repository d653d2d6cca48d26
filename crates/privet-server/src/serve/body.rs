//! The request body's timeout: once a request's head has arrived, its whole body must follow
//! within [`ConnectionLimits::body_timeout`](crate::config::ConnectionLimits). A body still
//! short at the deadline fails whoever reads it, and the request is answered 408 (problem+json,
//! `Connection: close`) whatever the handler made of the failure.
//!
//! A middleware in the router rather than in the connection, so the answer carries the
//! headers every other answer does.

use crate::error::ApiError;
use crate::state::AppState;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body::{Frame, SizeHint};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use tokio::time::{Instant, Sleep, sleep_until};

/// Middleware: gives the request's body its deadline, and answers 408 if it passed.
pub(crate) async fn deadline(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let timeout = state.config().connections.body_timeout;
    let expired = Arc::new(AtomicBool::new(false));
    let req = req.map(|body| {
        Body::new(Deadline {
            body,
            // A timeout too long to add to the clock is no deadline at all.
            at: Instant::now().checked_add(timeout),
            timer: None,
            expired: expired.clone(),
        })
    });
    let resp = next.run(req).await;
    if expired.load(Ordering::Relaxed) {
        state.metrics().connection_closed("body_timeout");
        return ApiError::RequestTimeout {
            secs: timeout.as_secs(),
        }
        .into_response();
    }
    resp
}

/// The body did not arrive in time.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive in time")]
struct BodyTimedOut;

/// A request body that fails once its deadline has passed with data still to come.
struct Deadline {
    body: Body,
    at: Option<Instant>,
    /// Made only when the body first has to wait: most arrive with their head.
    timer: Option<Pin<Box<Sleep>>>,
    expired: Arc<AtomicBool>,
}

impl HttpBody for Deadline {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::BoxError>>> {
        let this = self.get_mut();
        // What has arrived is taken even past the deadline: only waiting is refused.
        if let Poll::Ready(frame) = Pin::new(&mut this.body).poll_frame(cx) {
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        let Some(at) = this.at else {
            return Poll::Pending;
        };
        let timer = this.timer.get_or_insert_with(|| Box::pin(sleep_until(at)));
        if timer.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        this.expired.store(true, Ordering::Relaxed);
        Poll::Ready(Some(Err(Box::new(BodyTimedOut))))
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
