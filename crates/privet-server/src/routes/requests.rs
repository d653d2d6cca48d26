//! `/v1/requests`: rights requests received by e-mail or phone, with their deadlines.

use crate::access::Operator;
use crate::error::ApiResult;
use crate::service::requests::{self, Completed, Completion, Delivery, Status, status};
use crate::service::subjects::Correction;
use crate::state::AppState;
use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use jiff::civil::Date;
use privet_policy::Action;
use privet_store::{RequestKind, RightsRequest, SubjectId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Body of `POST /v1/requests`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRequest {
    /// `access`, `erasure`, `rectification`, `restriction`, `objection` or `portability`.
    #[serde(rename = "type")]
    #[schema(
        value_type = String,
        pattern = "^(access|erasure|rectification|restriction|objection|portability)$"
    )]
    pub kind: RequestKind,
    /// The member or household the request is about.
    pub subject: String,
    /// When it was received; the deadline runs from then. Defaults to now.
    pub received_at: Option<Timestamp>,
}

/// A request as returned.
#[derive(Debug, Serialize, ToSchema)]
pub struct RequestView {
    /// Id.
    pub id: String,
    /// Kind.
    #[serde(rename = "type")]
    #[schema(value_type = String)]
    pub kind: RequestKind,
    /// Subject id.
    pub subject: String,
    /// When received.
    pub received_at: Timestamp,
    /// The original deadline: one calendar month from receipt.
    #[schema(value_type = String, format = Date)]
    pub due: Date,
    /// The deadline after the one extension, if extended.
    #[schema(value_type = Option<String>, format = Date)]
    pub extended_due: Option<Date>,
    /// Why it was extended.
    pub extension_reason: Option<String>,
    /// `open`, `overdue` or `done`.
    pub status: Status,
    /// When completed.
    pub completed_at: Option<Timestamp>,
}

fn view(r: RightsRequest, today: Date) -> RequestView {
    let (_, st) = status(&r, today);
    RequestView {
        id: r.id,
        kind: r.kind,
        subject: r.subject.to_string(),
        received_at: r.received_at,
        due: r.due,
        extended_due: r.extended_due,
        extension_reason: r.extension_reason,
        status: st,
        completed_at: r.completed_at,
    }
}

/// Query of `GET /v1/requests`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// `open`, `overdue` or `done`; all when absent.
    #[param(pattern = "^(open|overdue|done)$")]
    pub status: Option<String>,
}

/// Body of `POST /v1/requests/{id}/extend`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtendBody {
    /// Why more time is needed (complexity or number of requests).
    pub reason: String,
}

/// Body of `POST /v1/requests/{id}/complete`: what the kind of request needs.
#[derive(Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteBody {
    /// Rectification: corrected name.
    pub name: Option<String>,
    /// Rectification: corrected e-mail.
    pub email: Option<String>,
    /// Objection: purposes objected to (default every legitimate-interests purpose).
    #[serde(default)]
    pub purposes: Vec<String>,
    /// Access and portability: `json` or `csv`.
    pub format: Option<String>,
}

/// Never shows the corrected values.
impl std::fmt::Debug for CompleteBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompleteBody")
            .field("purposes", &self.purposes)
            .field("format", &self.format)
            .finish_non_exhaustive()
    }
}

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_request, list_requests))
        .routes(routes!(extend_request))
        .routes(routes!(complete_request))
}

/// Logs a rights request; its deadline is one calendar month from receipt.
#[utoipa::path(post, path = "/v1/requests", tag = "requests", request_body = NewRequest,
    responses((status = 201, body = RequestView), (status = 401), (status = 403), (status = 404), (status = 422)),
    security(("api_key" = [])))]
async fn create_request(
    State(state): State<AppState>,
    op: Operator,
    body: Result<Json<NewRequest>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<RequestView>)> {
    let permit = op.permit(Action::ActOnSubjects)?;
    let Json(body) = body?;
    let subject = SubjectId::new(body.subject);
    let r = requests::create(&state, body.kind, &subject, body.received_at, &permit.actor).await?;
    Ok((
        StatusCode::CREATED,
        Json(view(r, state.clock().today_utc())),
    ))
}

/// Rights requests, by deadline; filter by status.
#[utoipa::path(get, path = "/v1/requests", tag = "requests", params(ListParams),
    responses((status = 200, body = Vec<RequestView>), (status = 400), (status = 401), (status = 403)),
    security(("api_key" = [])))]
async fn list_requests(
    State(state): State<AppState>,
    op: Operator,
    params: Result<Query<ListParams>, QueryRejection>,
) -> ApiResult<Json<Vec<RequestView>>> {
    op.permit(Action::ReadRequests)?;
    let Query(p) = params?;
    let wanted = p.status.as_deref().map(Status::parse).transpose()?;
    let today = state.clock().today_utc();
    Ok(Json(
        requests::list(&state, wanted)
            .await?
            .into_iter()
            .map(|r| view(r, today))
            .collect(),
    ))
}

/// Extends a request once by two further months, with the reason.
#[utoipa::path(post, path = "/v1/requests/{id}/extend", tag = "requests",
    params(("id" = String, Path, description = "Request id")), request_body = ExtendBody,
    responses((status = 200, body = RequestView), (status = 401), (status = 403), (status = 404), (status = 409), (status = 422)),
    security(("api_key" = [])))]
async fn extend_request(
    State(state): State<AppState>,
    op: Operator,
    Path(id): Path<String>,
    body: Result<Json<ExtendBody>, JsonRejection>,
) -> ApiResult<Json<RequestView>> {
    let permit = op.permit(Action::ActOnSubjects)?;
    let Json(body) = body?;
    let r = requests::extend(&state, &id, &body.reason, &permit.actor).await?;
    Ok(Json(view(r, state.clock().today_utc())))
}

/// Completes a request by running what self-service runs: access and portability answer with
/// the export, erasure with the signed receipt; restriction, objection and rectification apply
/// and answer with the request.
#[utoipa::path(post, path = "/v1/requests/{id}/complete", tag = "requests",
    params(("id" = String, Path, description = "Request id")), request_body = CompleteBody,
    responses((status = 200, description = "The export, the receipt, or the request"), (status = 401), (status = 403), (status = 404), (status = 409), (status = 422)),
    security(("api_key" = [])))]
async fn complete_request(
    State(state): State<AppState>,
    op: Operator,
    Path(id): Path<String>,
    body: Result<Option<Json<CompleteBody>>, JsonRejection>,
) -> ApiResult<Response> {
    let permit = op.permit(Action::ActOnSubjects)?;
    // Through `ApiError`, so a malformed body is a problem+json that never echoes its values.
    let body = body?.map(|Json(b)| b).unwrap_or_default();
    let completion = Completion {
        format: body.format,
        purposes: body.purposes,
        correction: Correction {
            name: body.name,
            email: body.email,
        },
        // The call itself is the operator's confirmation.
        erasure_confirmed: true,
    };
    let done =
        requests::complete(&state, &id, completion, Delivery::ThisAnswer, &permit.actor).await?;
    Ok(match done {
        Completed::Export(download) => download.into_response(),
        Completed::Receipt(receipt) => Json(*receipt).into_response(),
        Completed::Done(r) => Json(view(*r, state.clock().today_utc())).into_response(),
    })
}
