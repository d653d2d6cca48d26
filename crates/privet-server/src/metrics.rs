//! Prometheus metrics: events accepted, fields dropped by reason, records stored, request latency.

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::Arc;
use std::time::Instant;

/// Labels of a dropped-fields count.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DropLabels {
    /// `undeclared`, `no_consent`, `expired` or `restricted`.
    pub reason: &'static str,
}

/// Labels of a request latency observation.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    /// The route template (`/v1/subjects/{id}`), never the concrete path with ids.
    pub route: String,
    /// HTTP method.
    pub method: String,
    /// Status class, e.g. `2xx`.
    pub status: String,
}

type HistogramFamily = Family<RouteLabels, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    // 0.25 ms to ~8 s.
    Histogram::new(exponential_buckets(0.000_25, 2.0, 16))
}

/// Every metric the server exports.
pub struct Metrics {
    registry: Registry,
    /// Events stored.
    pub events_accepted: Counter,
    /// Fields dropped, by reason.
    pub fields_dropped: Family<DropLabels, Counter>,
    /// Batches rejected (4xx on ingest).
    pub batches_rejected: Counter,
    /// Sealed record blocks written.
    pub blocks_stored: Counter,
    /// Request latency per route.
    pub request_seconds: HistogramFamily,
}

impl Metrics {
    /// A fresh registry with every metric registered.
    pub fn new() -> Arc<Metrics> {
        let mut registry = Registry::with_prefix("privet");
        let events_accepted = Counter::default();
        let fields_dropped = Family::<DropLabels, Counter>::default();
        let batches_rejected = Counter::default();
        let blocks_stored = Counter::default();
        let request_seconds: HistogramFamily = Family::new_with_constructor(latency_histogram);
        registry.register(
            "events_accepted",
            "Events stored after policy checks",
            events_accepted.clone(),
        );
        registry.register(
            "fields_dropped",
            "Fields dropped before storage, by reason (values are never logged)",
            fields_dropped.clone(),
        );
        registry.register(
            "batches_rejected",
            "Ingest batches rejected as invalid",
            batches_rejected.clone(),
        );
        registry.register(
            "records_stored",
            "Encrypted record blocks written",
            blocks_stored.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency",
            request_seconds.clone(),
        );
        Arc::new(Metrics {
            registry,
            events_accepted,
            fields_dropped,
            batches_rejected,
            blocks_stored,
            request_seconds,
        })
    }

    /// Counts dropped fields.
    pub fn dropped(&self, reason: &'static str, n: u64) {
        if n > 0 {
            self.fields_dropped
                .get_or_create(&DropLabels { reason })
                .inc_by(n);
        }
    }

    /// The OpenMetrics text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

/// Middleware recording each request's latency under its route template.
pub async fn track(State(metrics): State<Arc<Metrics>>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned());
    let method = req.method().to_string();
    let resp = next.run(req).await;
    let status = format!("{}xx", resp.status().as_u16() / 100);
    metrics
        .request_seconds
        .get_or_create(&RouteLabels {
            route,
            method,
            status,
        })
        .observe(start.elapsed().as_secs_f64());
    resp
}
