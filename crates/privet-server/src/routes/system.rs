//! `/healthz`, `/metrics`, `/.well-known/jwks.json`.

use crate::error::ApiResult;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Health.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: &'static str,
    /// Products loaded.
    pub products: usize,
    /// The MQTT bridge, when this instance runs one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mqtt: Option<MqttHealth>,
}

/// The MQTT bridge's health.
#[derive(Debug, Serialize, ToSchema)]
pub struct MqttHealth {
    /// Connection state.
    pub state: crate::mqtt::LinkState,
    /// Messages taken and not yet acknowledged.
    pub in_flight: usize,
    /// Age of the oldest of them, in seconds.
    pub lag_seconds: f64,
    /// Times the connection was lost since the start.
    pub reconnects: u64,
}

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(metrics))
        .routes(routes!(jwks))
}

/// Liveness and readiness: the store answers and manifests are loaded.
#[utoipa::path(get, path = "/healthz", tag = "system", responses((status = 200, body = Health), (status = 503)))]
async fn healthz(State(state): State<AppState>) -> ApiResult<Json<Health>> {
    state.store().api_keys().await?;
    Ok(Json(Health {
        status: "ok",
        products: state.products().iter().count(),
        mqtt: state.mqtt().map(|m| MqttHealth {
            state: m.status.state(),
            in_flight: m.status.in_flight(),
            lag_seconds: m.status.lag_seconds(),
            reconnects: m
                .status
                .reconnects
                .load(std::sync::atomic::Ordering::Relaxed),
        }),
    }))
}

/// Prometheus metrics (OpenMetrics text).
#[utoipa::path(get, path = "/metrics", tag = "system", responses((status = 200, description = "The metrics", body = String, content_type = "application/openmetrics-text")))]
async fn metrics(State(state): State<AppState>) -> Response {
    if let Some(m) = state.mqtt() {
        state.metrics().sync_mqtt(&m.status);
    }
    let mut resp = state.metrics().render().into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    resp
}

/// The instance's public signing key as a JWK set, to verify receipts.
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "system", responses((status = 200, content_type = "application/json")))]
async fn jwks(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(state.signing().jwks())
}
