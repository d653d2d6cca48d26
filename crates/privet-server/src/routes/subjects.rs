//! Rights on `/v1/subjects/{id}`: export, erasure, rectification, restriction, objection.

use crate::access::{Caller, SubjectAction, authorize_subject};
use crate::error::{ApiError, ApiResult};
use crate::service::erasure::{self, Receipt};
use crate::service::subjects::{self as subject_svc};
use crate::service::{audit, export, export_csv, requests};
use crate::state::AppState;
use axum::Json;
use axum::body::Body;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use privet_crypto::{os_rng, seal_profile};
use privet_store::SubjectId;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Query of the export.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ExportParams {
    /// `json` (default) or `csv` (a zip with one CSV per stream and `about.json`).
    pub format: Option<String>,
}

/// Body of `PATCH /v1/subjects/{id}`: the profile fields to correct.
#[derive(Debug, Deserialize, ToSchema)]
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

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(export_subject))
        .routes(routes!(erase_subject, rectify_subject))
        .routes(routes!(restrict_subject))
        .routes(routes!(object_subject))
}

/// Starts an export response (JSON or zip) for `id`; shared with rights requests.
pub(crate) async fn export_response(
    state: &AppState,
    id: &SubjectId,
    format: Option<&str>,
    actor: &str,
    with_children: bool,
) -> ApiResult<Response> {
    let zip = match format.unwrap_or("json") {
        "json" => false,
        "csv" => true,
        other => {
            return Err(ApiError::BadRequest(format!(
                "`format` must be json or csv, not `{}`",
                other.chars().take(16).collect::<String>()
            )));
        }
    };
    let plan = export::plan(state, id, with_children).await?;
    let pseudonyms: Vec<_> = plan.subjects().map(|i| i.subject.pseudonym).collect();
    audit::record(
        state,
        actor,
        "subject.export",
        None,
        pseudonyms,
        0,
        serde_json::json!({"format": if zip { "csv" } else { "json" }}),
    )
    .await?;
    let (tx, rx) = tokio::sync::mpsc::channel(8);
    let st = state.clone();
    if zip {
        tokio::spawn(export_csv::write_zip(st, plan, tx));
    } else {
        tokio::spawn(export::write_json(st, plan, tx));
    }
    let body = Body::from_stream(tokio_stream_from(rx));
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    let (ct, ext) = if zip {
        ("application/zip", "zip")
    } else {
        ("application/json", "json")
    };
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"privet-export-{id}.{ext}\""
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}

fn tokio_stream_from<T: Send + 'static>(
    mut rx: tokio::sync::mpsc::Receiver<T>,
) -> impl futures::Stream<Item = T> + Send {
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

/// Everything held about a subject: profile, every record, consents and their history,
/// purposes, lawful bases, categories, retention, recipients, origins, and who accessed it.
#[utoipa::path(get, path = "/v1/subjects/{id}/export", tag = "rights",
    params(("id" = String, Path, description = "Member or household id"), ExportParams),
    responses((status = 200, description = "JSON document, or a zip of CSVs with `format=csv`"), (status = 401), (status = 403), (status = 404)),
    security(("api_key" = [])))]
async fn export_subject(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    params: Result<Query<ExportParams>, QueryRejection>,
) -> ApiResult<Response> {
    let cap = authorize_subject(
        &state,
        &caller,
        &SubjectId::new(id.clone()),
        SubjectAction::Read,
    )
    .await?;
    let Query(p) = params?;
    export_response(
        &state,
        &cap.subject.id,
        p.format.as_deref(),
        &cap.actor,
        cap.sees_children,
    )
    .await
}

/// Erases a member, or a household with its members: keys destroyed first (crypto-shredding),
/// then the pseudonym mapping, then the records. Answers with a signed receipt (JWS, EdDSA).
#[utoipa::path(delete, path = "/v1/subjects/{id}", tag = "rights",
    params(("id" = String, Path, description = "Member or household id")),
    responses((status = 200, body = Receipt), (status = 401), (status = 403), (status = 404)),
    security(("api_key" = [])))]
async fn erase_subject(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Receipt>> {
    let cap = authorize_subject(
        &state,
        &caller,
        &SubjectId::new(id.clone()),
        SubjectAction::Manage,
    )
    .await?;
    Ok(Json(
        erasure::erase(&state, &SubjectId::new(id), &cap.actor).await?,
    ))
}

/// Corrects a subject's profile (name, e-mail).
#[utoipa::path(patch, path = "/v1/subjects/{id}", tag = "rights",
    params(("id" = String, Path, description = "Member or household id")),
    request_body = Rectification,
    responses((status = 204), (status = 401), (status = 403), (status = 404), (status = 422)),
    security(("api_key" = [])))]
async fn rectify_subject(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Result<Json<Rectification>, JsonRejection>,
) -> ApiResult<axum::http::StatusCode> {
    let cap = authorize_subject(
        &state,
        &caller,
        &SubjectId::new(id.clone()),
        SubjectAction::Manage,
    )
    .await?;
    let Json(body) = body?;
    rectify(&state, &SubjectId::new(id), body, &cap.actor).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// Applies a rectification; shared with rights requests.
pub(crate) async fn rectify(
    state: &AppState,
    id: &SubjectId,
    body: Rectification,
    actor: &str,
) -> ApiResult<()> {
    let subject = state.store().subject(id).await?;
    let mut profile = subject_svc::profile(state, &subject).await?;
    let mut changed = Vec::new();
    if let Some(name) = body.name {
        subject_svc::check_name(&name)?;
        profile.name = name.trim().to_owned();
        changed.push("name");
    }
    if let Some(email) = body.email {
        let email = email.trim().to_owned();
        if !email.is_empty()
            && (email.len() > 254 || !email.contains('@') || email.chars().any(char::is_whitespace))
        {
            return Err(ApiError::Unprocessable(
                "`email` is not an e-mail address".to_owned(),
            ));
        }
        profile.email = (!email.is_empty()).then_some(email);
        changed.push("email");
    }
    if changed.is_empty() {
        return Err(ApiError::Unprocessable(
            "give `name` and/or `email` to correct".to_owned(),
        ));
    }
    let key = state.keys().get(&subject.pseudonym).await?;
    let plain = serde_json::to_vec(&profile).map_err(|e| ApiError::Internal(e.to_string()))?;
    let sealed = seal_profile(&key, &subject.pseudonym, &plain, &mut os_rng())?;
    state.store().update_profile(&subject.id, sealed).await?;
    audit::record(
        state,
        actor,
        "subject.rectify",
        None,
        vec![subject.pseudonym],
        0,
        serde_json::json!({"fields": changed}),
    )
    .await?;
    Ok(())
}

/// Restricts processing (UK GDPR Art. 18): nothing new is stored and no purpose-bound read
/// returns the subject's data; export still works. Or lifts the restriction.
#[utoipa::path(put, path = "/v1/subjects/{id}/restriction", tag = "rights",
    params(("id" = String, Path, description = "Member or household id")),
    request_body = RestrictionBody,
    responses((status = 204), (status = 401), (status = 403), (status = 404)),
    security(("api_key" = [])))]
async fn restrict_subject(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Result<Json<RestrictionBody>, JsonRejection>,
) -> ApiResult<axum::http::StatusCode> {
    let cap = authorize_subject(
        &state,
        &caller,
        &SubjectId::new(id.clone()),
        SubjectAction::Manage,
    )
    .await?;
    let Json(body) = body?;
    restrict(&state, &SubjectId::new(id), body.restricted, &cap.actor).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// Sets a restriction; shared with rights requests.
pub(crate) async fn restrict(
    state: &AppState,
    id: &SubjectId,
    restricted: bool,
    actor: &str,
) -> ApiResult<()> {
    let subject = state.store().subject(id).await?;
    state.store().set_restricted(id, restricted).await?;
    let action = if restricted {
        "subject.restrict"
    } else {
        "subject.unrestrict"
    };
    audit::record(
        state,
        actor,
        action,
        None,
        vec![subject.pseudonym],
        0,
        serde_json::json!({}),
    )
    .await?;
    Ok(())
}

/// Objects to legitimate-interests purposes (UK GDPR Art. 21): they stop applying to the
/// subject at once, and data only they justified is purged.
#[utoipa::path(post, path = "/v1/subjects/{id}/objections", tag = "rights",
    params(("id" = String, Path, description = "Member or household id")),
    request_body = ObjectionBody,
    responses((status = 200, body = ObjectionOutcome), (status = 401), (status = 403), (status = 404), (status = 422)),
    security(("api_key" = [])))]
async fn object_subject(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Result<Json<ObjectionBody>, JsonRejection>,
) -> ApiResult<Json<ObjectionOutcome>> {
    let cap = authorize_subject(
        &state,
        &caller,
        &SubjectId::new(id.clone()),
        SubjectAction::Manage,
    )
    .await?;
    let Json(body) = body?;
    let id = SubjectId::new(id);
    let objected = requests::object(&state, &id, &body.purposes, &cap.actor).await?;
    let subject = state.store().subject(&id).await?;
    audit::record(
        &state,
        &cap.actor,
        "subject.object",
        None,
        vec![subject.pseudonym],
        0,
        serde_json::json!({"purposes": objected}),
    )
    .await?;
    Ok(Json(ObjectionOutcome { objected }))
}
