//! `/v1/requests`: rights requests received by e-mail or phone, with their deadlines.

use crate::access::Operator;
use crate::error::ApiResult;
use crate::service::requests::{
    self, About, Completed, Completion, Delivery, acknowledge_by, parse_status, status,
};
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
use privet_store::{RequestKind, RightsRequest, SubjectId, VisitorScope};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Body of `POST /v1/requests`: about a member or household (`subject`), or about a person
/// without an account (`visitor`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRequest {
    /// `access`, `erasure`, `rectification`, `restriction`, `objection`, `portability` or
    /// `complaint`.
    #[serde(rename = "type")]
    #[schema(
        value_type = String,
        pattern = "^(access|erasure|rectification|restriction|objection|portability|complaint)$"
    )]
    pub kind: RequestKind,
    /// The member or household the request is about.
    pub subject: Option<String>,
    /// A person without an account, found by what one device recorded in a time range (at
    /// most 31 days): access or erasure of just those records.
    pub visitor: Option<VisitorBody>,
    /// When it was received; the deadline runs from its date in the UK. Defaults to now.
    pub received_at: Option<Timestamp>,
}

/// Where a visitor's data is: a device and a time range.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VisitorBody {
    /// The device that recorded them (e.g. the doorbell).
    pub device: String,
    /// The first moment of the range.
    pub from: Timestamp,
    /// The last moment of the range (inclusive).
    pub until: Timestamp,
}

/// A visitor's device and time range, as returned.
#[derive(Debug, Serialize, ToSchema)]
pub struct VisitorView {
    /// The device.
    pub device: String,
    /// The first moment of the range.
    pub from: Timestamp,
    /// The last moment of the range.
    pub until: Timestamp,
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
    /// Subject id (for a visitor: the household whose device recorded them).
    pub subject: String,
    /// For a visitor: the device and time range.
    pub visitor: Option<VisitorView>,
    /// When received.
    pub received_at: Timestamp,
    /// One calendar month from the UK date of receipt, moved by every day the request was
    /// paused.
    #[schema(value_type = String, format = Date)]
    pub due: Date,
    /// The deadline after the one extension, if extended, moved by the days paused too.
    #[schema(value_type = Option<String>, format = Date)]
    pub extended_due: Option<Date>,
    /// The deadline in force: `extended_due` when extended, else `due`.
    #[schema(value_type = String, format = Date)]
    pub deadline: Date,
    /// Why it was extended.
    pub extension_reason: Option<String>,
    /// Complaints: the date to acknowledge it by (30 days from receipt).
    #[schema(value_type = Option<String>, format = Date)]
    pub acknowledge_by: Option<Date>,
    /// `open`, `overdue`, `awaiting_identity`, `awaiting_clarification` or `done`.
    #[schema(
        value_type = String,
        pattern = "^(open|overdue|awaiting_identity|awaiting_clarification|done)$"
    )]
    pub status: &'static str,
    /// While paused: since when.
    pub paused_since: Option<Timestamp>,
    /// Whole days the clock stood still in pauses that ended.
    pub paused_days: u32,
    /// `staff` (logged by staff) or `self_service` (the person did it themselves).
    #[schema(value_type = String, pattern = "^(staff|self_service)$")]
    pub source: &'static str,
    /// When completed.
    pub completed_at: Option<Timestamp>,
}

fn view(r: RightsRequest, today: Date) -> RequestView {
    let (deadline, st) = status(&r, today);
    let clock = r.clock();
    RequestView {
        acknowledge_by: acknowledge_by(&r),
        id: r.id,
        kind: r.kind,
        subject: r.subject.to_string(),
        visitor: r.visitor.map(|v| VisitorView {
            device: v.device,
            from: v.from,
            until: v.until,
        }),
        received_at: r.received_at,
        due: clock.moved(r.due, today),
        extended_due: r.extended_due.map(|d| clock.moved(d, today)),
        deadline,
        extension_reason: r.extension_reason,
        status: st.as_str(),
        paused_since: r.pause.map(|p| p.since),
        paused_days: r.paused_days,
        source: r.source.as_str(),
        completed_at: r.completed_at,
    }
}

/// Query of `GET /v1/requests`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// `open` (every request still to answer), `overdue`, `awaiting_identity`,
    /// `awaiting_clarification` or `done`; all when absent.
    #[param(pattern = "^(open|overdue|awaiting_identity|awaiting_clarification|done)$")]
    pub status: Option<String>,
}

/// Body of `POST /v1/requests/{id}/extend`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtendBody {
    /// Why more time is needed (complexity or number of requests).
    pub reason: String,
}

/// Body of `POST /v1/requests/{id}/pause`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PauseBody {
    /// `identity` (waiting for proof of who they are) or `clarification` (waiting for them to
    /// say what they ask for).
    #[schema(pattern = "^(identity|clarification)$")]
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
        .routes(routes!(pause_request))
        .routes(routes!(resume_request))
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
    let about = match (body.subject, body.visitor) {
        (Some(subject), None) => About::Subject(SubjectId::new(subject)),
        (None, Some(v)) => About::Visitor(VisitorScope {
            device: v.device,
            from: v.from,
            until: v.until,
        }),
        _ => return Err(crate::service::error::Invalid::SubjectOrVisitor.into()),
    };
    let r = requests::create(&state, body.kind, about, body.received_at, &permit.actor).await?;
    Ok((StatusCode::CREATED, Json(view(r, state.clock().today_uk()))))
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
    let wanted = p.status.as_deref().map(parse_status).transpose()?;
    let today = state.clock().today_uk();
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
    Ok(Json(view(r, state.clock().today_uk())))
}

/// Stops a request's clock while waiting for proof of identity or a clarification: its status
/// becomes `awaiting_identity` or `awaiting_clarification`, and the days it stays paused move
/// its deadline.
#[utoipa::path(post, path = "/v1/requests/{id}/pause", tag = "requests",
    params(("id" = String, Path, description = "Request id")), request_body = PauseBody,
    responses((status = 200, body = RequestView), (status = 401), (status = 403), (status = 404), (status = 409), (status = 422)),
    security(("api_key" = [])))]
async fn pause_request(
    State(state): State<AppState>,
    op: Operator,
    Path(id): Path<String>,
    body: Result<Json<PauseBody>, JsonRejection>,
) -> ApiResult<Json<RequestView>> {
    let permit = op.permit(Action::ActOnSubjects)?;
    let Json(body) = body?;
    let r = requests::pause(&state, &id, &body.reason, &permit.actor).await?;
    Ok(Json(view(r, state.clock().today_uk())))
}

/// Restarts a paused request's clock once the person has answered: it is open again, due
/// later by the whole days it was paused.
#[utoipa::path(post, path = "/v1/requests/{id}/resume", tag = "requests",
    params(("id" = String, Path, description = "Request id")),
    responses((status = 200, body = RequestView), (status = 401), (status = 403), (status = 404), (status = 409)),
    security(("api_key" = [])))]
async fn resume_request(
    State(state): State<AppState>,
    op: Operator,
    Path(id): Path<String>,
) -> ApiResult<Json<RequestView>> {
    let permit = op.permit(Action::ActOnSubjects)?;
    let r = requests::resume(&state, &id, &permit.actor).await?;
    Ok(Json(view(r, state.clock().today_uk())))
}

/// Completes a request by running what self-service runs: access and portability answer with
/// the export, erasure with the signed receipt; restriction, objection and rectification apply
/// and answer with the request, as does an answered complaint. A visitor's access answers with
/// what the device recorded in the range; a visitor's erasure deletes those records and
/// answers with a signed receipt saying so. A paused request cannot be completed (409).
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
        Completed::Done(r) => Json(view(*r, state.clock().today_uk())).into_response(),
        Completed::VisitorExport(export) => Json(*export).into_response(),
        Completed::VisitorReceipt(receipt) => Json(*receipt).into_response(),
    })
}
