//! Rights on `/v1/subjects/{id}`: export, erasure, rectification, restriction, objection.

use crate::access::{Caller, authorize_subject};
use crate::error::ApiResult;
use crate::service::erasure::{self, Receipt};
use crate::service::export::{self, Download, Format};
use crate::service::subjects::{self, Correction};
use crate::service::{objections, requests};
use crate::state::AppState;
use axum::Json;
use axum::body::Body;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use privet_policy::SubjectAction;
use privet_store::{RequestKind, SubjectId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Query of the export.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ExportParams {
    /// `json` (default) or `csv` (a zip with one CSV per stream and `about.json`).
    #[param(pattern = "^(json|csv)$")]
    pub format: Option<String>,
}

/// Body of `PATCH /v1/subjects/{id}`: the profile fields to correct.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rectification {
    /// Corrected name.
    pub name: Option<String>,
    /// Corrected e-mail; `""` removes it.
    pub email: Option<String>,
}

/// Body of `PUT /v1/subjects/{id}/restriction`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RestrictionBody {
    /// Restrict (`true`) or lift the restriction (`false`).
    pub restricted: bool,
}

/// Body of `POST /v1/subjects/{id}/objections`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ObjectionBody {
    /// Purposes objected to; empty or absent: every legitimate-interests purpose.
    #[serde(default)]
    pub purposes: Vec<String>,
}

/// What an objection changed.
#[derive(Debug, Serialize, ToSchema)]
pub struct ObjectionOutcome {
    /// `product/purpose` pairs that no longer apply to the subject.
    pub objected: Vec<String>,
}

/// Never shows the values.
impl std::fmt::Debug for Rectification {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rectification").finish_non_exhaustive()
    }
}

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(export_subject))
        .routes(routes!(erase_subject, rectify_subject))
        .routes(routes!(restrict_subject))
        .routes(routes!(object_subject))
}

/// An export streams as its body, offered as a download.
impl IntoResponse for Download {
    fn into_response(self) -> Response {
        let mut rx = self.body;
        let stream = futures::stream::poll_fn(move |cx| rx.poll_recv(cx));
        let mut resp = Body::from_stream(stream).into_response();
        let h = resp.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(self.content_type),
        );
        if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{}\"", self.filename))
        {
            h.insert(header::CONTENT_DISPOSITION, v);
        }
        resp
    }
}

/// Everything held about a subject: profile, every record, consents and their history,
/// purposes, lawful bases, categories, retention, recipients, origins, and who accessed it.
#[utoipa::path(get, path = "/v1/subjects/{id}/export", tag = "rights",
    params(("id" = String, Path, description = "Member or household id"), ExportParams),
    responses((status = 200, description = "JSON document, or a zip of CSVs with `format=csv`"), (status = 401), (status = 403), (status = 404)),
    security(("api_key" = []), ("session" = [])))]
async fn export_subject(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    params: Result<Query<ExportParams>, QueryRejection>,
) -> ApiResult<Response> {
    let cap = authorize_subject(&state, &caller, &SubjectId::new(id), SubjectAction::Read).await?;
    let Query(p) = params?;
    let format = Format::parse(p.format.as_deref())?;
    let download = export::start(
        &state,
        &cap.subject.id,
        format,
        &cap.actor,
        cap.sees_children,
    )
    .await?;
    requests::note_self_service(&state, &cap, RequestKind::Access).await;
    Ok(download.into_response())
}

/// Erases a member, or a household with its members: keys destroyed first (crypto-shredding),
/// then the pseudonym mapping, then the records. Answers with a signed receipt (JWS, EdDSA).
#[utoipa::path(delete, path = "/v1/subjects/{id}", tag = "rights",
    params(("id" = String, Path, description = "Member or household id")),
    responses((status = 200, body = Receipt), (status = 401), (status = 403), (status = 404)),
    security(("api_key" = []), ("session" = [])))]
async fn erase_subject(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Receipt>> {
    let cap =
        authorize_subject(&state, &caller, &SubjectId::new(id), SubjectAction::Manage).await?;
    let receipt = erasure::erase(&state, &cap.subject.id, &cap.actor).await?;
    requests::note_self_service(&state, &cap, RequestKind::Erasure).await;
    Ok(Json(receipt))
}

/// Corrects a subject's profile (name, e-mail).
#[utoipa::path(patch, path = "/v1/subjects/{id}", tag = "rights",
    params(("id" = String, Path, description = "Member or household id")),
    request_body = Rectification,
    responses((status = 204), (status = 401), (status = 403), (status = 404), (status = 422)),
    security(("api_key" = []), ("session" = [])))]
async fn rectify_subject(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Result<Json<Rectification>, JsonRejection>,
) -> ApiResult<StatusCode> {
    let cap =
        authorize_subject(&state, &caller, &SubjectId::new(id), SubjectAction::Manage).await?;
    let Json(body) = body?;
    let correction = Correction {
        name: body.name,
        email: body.email,
    };
    subjects::rectify(&state, &cap.subject, correction, &cap.actor).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Restricts processing (UK GDPR Art. 18): nothing new is stored and no purpose-bound read
/// returns the subject's data; export still works. Or lifts the restriction.
#[utoipa::path(put, path = "/v1/subjects/{id}/restriction", tag = "rights",
    params(("id" = String, Path, description = "Member or household id")),
    request_body = RestrictionBody,
    responses((status = 204), (status = 401), (status = 403), (status = 404)),
    security(("api_key" = []), ("session" = [])))]
async fn restrict_subject(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Result<Json<RestrictionBody>, JsonRejection>,
) -> ApiResult<StatusCode> {
    let cap =
        authorize_subject(&state, &caller, &SubjectId::new(id), SubjectAction::Manage).await?;
    let Json(body) = body?;
    subjects::restrict(&state, &cap.subject, body.restricted, &cap.actor).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Objects to legitimate-interests purposes (UK GDPR Art. 21): they stop applying to the
/// subject at once, and data only they justified is purged.
#[utoipa::path(post, path = "/v1/subjects/{id}/objections", tag = "rights",
    params(("id" = String, Path, description = "Member or household id")),
    request_body = ObjectionBody,
    responses((status = 200, body = ObjectionOutcome), (status = 401), (status = 403), (status = 404), (status = 422)),
    security(("api_key" = []), ("session" = [])))]
async fn object_subject(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Result<Json<ObjectionBody>, JsonRejection>,
) -> ApiResult<Json<ObjectionOutcome>> {
    let cap =
        authorize_subject(&state, &caller, &SubjectId::new(id), SubjectAction::Manage).await?;
    let Json(body) = body?;
    let objected = objections::object(&state, &cap.subject, &body.purposes, &cap.actor).await?;
    Ok(Json(ObjectionOutcome { objected }))
}
