//! `GET /v1/events?purpose=P`: purpose-bound reads, JSON or streamed NDJSON.

use crate::access::Operator;
use crate::error::{ApiError, ApiResult};
use crate::service::error::Invalid;
use crate::service::reads::{self, EventQuery, EventRecord, ReadItem};
use crate::state::AppState;
use axum::Json;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use privet_store::SubjectId;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Default and maximum records in a JSON (non-streamed) answer; stream NDJSON for more.
const JSON_DEFAULT_LIMIT: usize = 1_000;
const JSON_MAX_LIMIT: usize = 10_000;

/// Query of `GET /v1/events`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EventsParams {
    /// The purpose the data is read for; the API key must hold it.
    pub purpose: String,
    /// Only this stream.
    pub stream: Option<String>,
    /// Only this subject (member or household id).
    pub subject: Option<String>,
    /// Only this product.
    pub product: Option<String>,
    /// Events at or after (RFC 3339).
    pub since: Option<Timestamp>,
    /// Events at or before (RFC 3339).
    pub until: Option<Timestamp>,
    /// Most records in a JSON answer (default 1000, at most 10000); NDJSON is unlimited.
    #[param(minimum = 1, maximum = 10000)]
    pub limit: Option<usize>,
}

/// A JSON answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventsPage {
    /// The purpose read for.
    pub purpose: String,
    /// The records.
    pub records: Vec<EventRecord>,
    /// Whether more records matched than `limit`.
    pub truncated: bool,
}

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(read_events))
}

fn wants_ndjson(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/x-ndjson") || a.contains("application/ndjson"))
}

/// Reads events for one purpose: only the fields declared for it, only subjects who consented
/// (for consent-based purposes), never restricted or erased subjects. Every read is audited.
#[utoipa::path(get, path = "/v1/events", tag = "events", params(EventsParams),
    responses((status = 200, body = EventsPage, description = "JSON, or NDJSON of records with `Accept: application/x-ndjson`"),
        (status = 400), (status = 401), (status = 403), (status = 404)),
    security(("api_key" = [])))]
async fn read_events(
    State(state): State<AppState>,
    op: Operator,
    headers: HeaderMap,
    params: Result<Query<EventsParams>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(p) = params?;
    let cap = op.read_purpose(&p.purpose)?;
    // Refused before the read starts, so a read that could return nothing is not audited.
    match p.limit {
        Some(0) => return Err(Invalid::ZeroLimit.into()),
        Some(n) if n > JSON_MAX_LIMIT => return Err(Invalid::LimitTooLarge(JSON_MAX_LIMIT).into()),
        _ => {}
    }
    let ndjson = wants_ndjson(&headers);
    let limit = if ndjson {
        None
    } else {
        Some(p.limit.unwrap_or(JSON_DEFAULT_LIMIT).min(JSON_MAX_LIMIT))
    };
    let query = EventQuery {
        stream: p.stream,
        subject: p.subject.map(SubjectId::new),
        product: p.product,
        since: p.since,
        until: p.until,
        limit,
    };
    let purpose = cap.purpose.clone();
    let mut rx = reads::start(&state, cap, query).await?;
    if ndjson {
        let stream =
            futures::stream::poll_fn(move |cx| rx.poll_recv(cx)).filter_map(|item| async move {
                match item {
                    ReadItem::Record(r) => {
                        let mut line = serde_json::to_vec(&r).unwrap_or_default();
                        line.push(b'\n');
                        Some(Ok::<_, std::io::Error>(bytes::Bytes::from(line)))
                    }
                    ReadItem::Failed(e) => {
                        ApiError::from(e).log_if_internal("read failed part-way");
                        Some(Err(std::io::Error::other("read failed")))
                    }
                    ReadItem::Done(_) => None,
                }
            });
        let mut resp = Body::from_stream(stream).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-ndjson"),
        );
        return Ok(resp);
    }
    let mut records = Vec::new();
    let mut truncated = false;
    while let Some(item) = rx.recv().await {
        match item {
            ReadItem::Record(r) => records.push(r),
            ReadItem::Failed(e) => return Err(e.into()),
            ReadItem::Done(s) => {
                truncated = s.truncated;
                break;
            }
        }
    }
    Ok(Json(EventsPage {
        purpose,
        records,
        truncated,
    })
    .into_response())
}

use futures::StreamExt;
