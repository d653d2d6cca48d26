//! `POST /v1/ingest`: device events, JSON array or NDJSON; 200 only once durable.

use crate::access::DeviceCaller;
use crate::error::{ApiError, ApiResult};
use crate::service::error::ServiceError;
use crate::service::ingest::{self, IngestOutcome};
use crate::state::AppState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode, header};
use privet_policy::BodyFormat;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// A JSON body: an array of events, or one event. Only the document uses this type.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
enum IngestBody {
    /// Several events.
    #[schema(title = "Events")]
    Many(Vec<IngestEvent>),
    /// One event.
    #[schema(title = "Event")]
    One(IngestEvent),
}

/// One event as a device sends it. Only the document uses this type: the body is decoded by
/// `privet_policy::decode_batch`, which also takes NDJSON.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct IngestEvent {
    /// A stream the device's product declares.
    stream: String,
    /// When it happened (RFC 3339).
    #[schema(value_type = String, format = DateTime)]
    ts: String,
    /// The fields; those the manifest does not declare are dropped and counted.
    #[schema(value_type = Object)]
    data: serde_json::Value,
    /// The member it is about, on a personal stream of a household device.
    member: Option<String>,
    /// The firmware version that sent it.
    firmware: Option<String>,
}

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(ingest_events))
}

fn format_of(headers: &HeaderMap) -> ApiResult<BodyFormat> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json");
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "application/json" | "" => Ok(BodyFormat::Json),
        "application/x-ndjson" | "application/ndjson" | "application/jsonl" => {
            Ok(BodyFormat::Ndjson)
        }
        _ => Err(ApiError::UnsupportedMediaType(
            "send `Content-Type: application/json` (an array of events) or `application/x-ndjson`",
        )),
    }
}

/// Stores a device's events as its product's manifest allows. Undeclared fields are dropped
/// and counted (or, for a strict product, the batch is rejected); consent-only fields are kept
/// only with consent. Answers only after the batch is durable.
#[utoipa::path(post, path = "/v1/ingest", tag = "ingest",
    request_body(
        content(
            (IngestBody = "application/json"),
            (String = "application/x-ndjson"),
        ),
        description = "A JSON array of events (or one event object), or NDJSON: one event object per line"),
    responses((status = 200, body = IngestOutcome), (status = 401), (status = 413), (status = 415),
        (status = 422), (status = 429)),
    security(("device_token" = [])))]
async fn ingest_events(
    State(state): State<AppState>,
    caller: DeviceCaller,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<IngestOutcome>)> {
    if let Err(wait) = state.check_device_rate(caller.device.id.as_str()) {
        return Err(ServiceError::RateLimited {
            retry_after: crate::service::throttle::retry_after_secs(wait),
        }
        .into());
    }
    let format = format_of(&headers)?;
    let body = body.map_err(|e| ApiError::unreadable_body(&e, state.config().max_body_bytes))?;
    let outcome = ingest::ingest(&state, &caller.device, &body, format).await?;
    Ok((StatusCode::OK, Json(outcome)))
}
