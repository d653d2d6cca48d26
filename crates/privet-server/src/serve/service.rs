//! The hyper service of one connection: the router, given the peer's address (what
//! `into_make_service_with_connect_info` gave it under `axum::serve`), with each request
//! counted in flight from its head until its response is written whole, and each answer on a
//! TLS connection marked `Strict-Transport-Security`.

use super::Shared;
use super::conn::Conn;
use axum::Router;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::ConnectInfo;
use axum::http::{HeaderValue, Request, Response, header};
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::time::Instant;
use tower::ServiceExt;

/// The router as one connection's hyper service.
#[derive(Clone)]
pub(super) struct ConnService {
    app: Router,
    peer: SocketAddr,
    conn: Arc<Conn>,
    shared: Arc<Shared>,
    /// Whether the connection is TLS.
    tls: bool,
}

impl ConnService {
    /// Serves `app` to the client at `peer` on `conn`, over TLS if `tls`.
    pub(super) fn new(
        app: Router,
        peer: SocketAddr,
        conn: Arc<Conn>,
        shared: Arc<Shared>,
        tls: bool,
    ) -> ConnService {
        ConnService {
            app,
            peer,
            conn,
            shared,
            tls,
        }
    }
}

type Answer = Pin<Box<dyn Future<Output = Result<Response<Tracked>, Infallible>> + Send>>;

impl hyper::service::Service<Request<Incoming>> for ConnService {
    type Response = Response<Tracked>;
    type Error = Infallible;
    type Future = Answer;

    fn call(&self, req: Request<Incoming>) -> Self::Future {
        let in_flight = InFlight::begin(&self.conn, &self.shared);
        let mut req = req.map(Body::new);
        req.extensions_mut().insert(ConnectInfo(self.peer));
        let app = self.app.clone();
        let tls = self.tls;
        Box::pin(async move {
            let mut resp = app.oneshot(req).await?;
            if tls {
                // Here, not in the router: only the connection knows it is TLS.
                resp.headers_mut().insert(
                    header::STRICT_TRANSPORT_SECURITY,
                    HeaderValue::from_static(crate::tls::STRICT_TRANSPORT_SECURITY),
                );
            }
            Ok(resp.map(|body| Tracked {
                body,
                _in_flight: in_flight,
            }))
        })
    }
}

/// A request in flight on its connection, from its head to the end of its response; once
/// the last one ends, the connection is queued to be shed first among the idle.
struct InFlight {
    conn: Arc<Conn>,
    shared: Arc<Shared>,
}

impl InFlight {
    fn begin(conn: &Arc<Conn>, shared: &Arc<Shared>) -> InFlight {
        conn.begin();
        InFlight {
            conn: conn.clone(),
            shared: shared.clone(),
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Some(since) = self.conn.end(Instant::now()) {
            self.shared.slots.went_idle(self.conn.id(), since);
        }
    }
}

/// A response body that keeps its request in flight until hyper drops it: written whole, or
/// the connection gone. A long download is never taken for an idle connection.
pub(super) struct Tracked {
    body: Body,
    _in_flight: InFlight,
}

impl HttpBody for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
