//! Prometheus metrics: events accepted, fields dropped by reason, records stored, request latency,
//! connections open and closed by the server.

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Instant;

/// Labels of a dropped-fields count.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DropLabels {
    /// `undeclared`, `no_consent`, `reconsent`, `expired` or `restricted`.
    pub reason: &'static str,
}

/// Labels of an MQTT message count.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct MqttOutcomeLabels {
    /// `stored`, `duplicate`, a refusal (`invalid`, `too_large`, `unknown_device`, `revoked`,
    /// `device_changed`, `other`), `ignored` or `abandoned` (left for redelivery at a stop).
    pub outcome: &'static str,
}

/// Labels of a count of connections the server closed.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CloseLabels {
    /// `header_timeout`, `body_timeout`, `idle_timeout`, `shed` (to admit a newer one at the
    /// cap) or `refused` (at the cap with none idle).
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
    /// MQTT messages by outcome.
    pub mqtt_messages: Family<MqttOutcomeLabels, Counter>,
    /// Times the MQTT connection was lost.
    pub mqtt_reconnects: Counter,
    /// 1 while the bridge is connected.
    pub mqtt_connected: Gauge,
    /// MQTT messages taken and not yet acknowledged.
    pub mqtt_in_flight: Gauge,
    /// Age of the oldest MQTT message in flight, in seconds.
    pub mqtt_lag_seconds: Gauge<f64, AtomicU64>,
    /// Time from taking an MQTT message to acknowledging it.
    pub mqtt_commit_seconds: Histogram,
    /// Groups of one device's MQTT messages stored together (messages over groups is how
    /// many a commit merged).
    pub mqtt_groups: Counter,
    /// HTTP connections open.
    pub connections_open: Gauge,
    /// HTTP connections the server closed (or refused), by reason.
    pub connections_closed: Family<CloseLabels, Counter>,
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
        let mqtt_messages = Family::<MqttOutcomeLabels, Counter>::default();
        let mqtt_reconnects = Counter::default();
        let mqtt_connected = Gauge::default();
        let mqtt_in_flight = Gauge::default();
        let mqtt_lag_seconds = Gauge::<f64, AtomicU64>::default();
        let mqtt_commit_seconds = latency_histogram();
        let mqtt_groups = Counter::default();
        registry.register(
            "mqtt_groups",
            "Groups of one device's MQTT messages stored together; privet_mqtt_messages_total over this is how many a group holds on average",
            mqtt_groups.clone(),
        );
        registry.register(
            "mqtt_messages",
            "MQTT messages from devices, by outcome",
            mqtt_messages.clone(),
        );
        registry.register(
            "mqtt_reconnects",
            "Times the MQTT bridge lost its broker connection",
            mqtt_reconnects.clone(),
        );
        registry.register(
            "mqtt_connected",
            "1 while the MQTT bridge is connected",
            mqtt_connected.clone(),
        );
        registry.register(
            "mqtt_in_flight",
            "MQTT messages taken and not yet acknowledged",
            mqtt_in_flight.clone(),
        );
        registry.register(
            "mqtt_lag_seconds",
            "Age of the oldest MQTT message not yet acknowledged",
            mqtt_lag_seconds.clone(),
        );
        registry.register(
            "mqtt_commit_seconds",
            "Time from taking an MQTT message to acknowledging it",
            mqtt_commit_seconds.clone(),
        );
        let connections_open = Gauge::default();
        let connections_closed = Family::<CloseLabels, Counter>::default();
        registry.register(
            "http_connections_open",
            "HTTP connections open",
            connections_open.clone(),
        );
        registry.register(
            "http_connections_closed",
            "HTTP connections the server closed or refused, by reason (timeouts and the cap)",
            connections_closed.clone(),
        );
        Arc::new(Metrics {
            registry,
            connections_open,
            connections_closed,
            mqtt_messages,
            mqtt_reconnects,
            mqtt_connected,
            mqtt_in_flight,
            mqtt_lag_seconds,
            mqtt_commit_seconds,
            mqtt_groups,
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

    /// Counts a connection the server closed or refused.
    pub fn connection_closed(&self, reason: &'static str) {
        self.connections_closed
            .get_or_create(&CloseLabels { reason })
            .inc();
    }

    /// Counts an MQTT message by outcome.
    pub fn mqtt_message(&self, outcome: &'static str) {
        self.mqtt_messages
            .get_or_create(&MqttOutcomeLabels { outcome })
            .inc();
    }

    /// Copies the bridge's live state into its gauges (at each scrape).
    pub fn sync_mqtt(&self, status: &crate::mqtt::BridgeStatus) {
        let connected = status.state() == crate::mqtt::LinkState::Connected;
        self.mqtt_connected.set(i64::from(connected));
        self.mqtt_in_flight
            .set(i64::try_from(status.in_flight()).unwrap_or(i64::MAX));
        self.mqtt_lag_seconds.set(status.lag_seconds());
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
