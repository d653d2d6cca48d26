//! Security updates: `POST /v1/releases`, device check-in and update, fleet status, and the
//! household's view of its devices' update status.

use crate::access::{Caller, DeviceCaller, Operator, authorize_subject};
use crate::error::ApiResult;
use crate::service::fleet::{self, DeviceUpdate, ProductFleet};
use crate::service::{devices, releases};
use crate::state::AppState;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use privet_crypto::SignedRelease;
use privet_policy::{Action, SubjectAction};
use privet_store::SubjectId;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Body of `POST /v1/devices/{id}/checkin`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Checkin {
    /// The firmware version the device runs.
    pub firmware: String,
}

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(post_release))
        .routes(routes!(checkin))
        .routes(routes!(update))
        .routes(routes!(fleet))
        .routes(routes!(household_devices))
}

/// Accepts signed release metadata (from `privet release sign`) only if it verifies against the
/// product's `update_public_key`; the server never holds the maker's release key.
#[utoipa::path(post, path = "/v1/releases", tag = "updates", request_body(content = Object, description = "Signed release metadata"),
    responses((status = 201), (status = 401), (status = 403), (status = 409), (status = 422)),
    security(("api_key" = [])))]
async fn post_release(
    State(state): State<AppState>,
    op: Operator,
    body: Result<Json<SignedRelease>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<SignedRelease>)> {
    let permit = op.permit(Action::ManageFleet)?;
    let Json(signed) = body?;
    let accepted = releases::accept(&state, signed, &permit.actor).await?;
    Ok((StatusCode::CREATED, Json(accepted)))
}

/// A device reports the firmware it runs.
#[utoipa::path(post, path = "/v1/devices/{id}/checkin", tag = "updates",
    params(("id" = String, Path, description = "Device id")), request_body = Checkin,
    responses((status = 204), (status = 401), (status = 403), (status = 422)),
    security(("device_token" = [])))]
async fn checkin(
    State(state): State<AppState>,
    caller: DeviceCaller,
    Path(id): Path<String>,
    body: Result<Json<Checkin>, JsonRejection>,
) -> ApiResult<StatusCode> {
    caller.only_for(&id)?;
    let Json(b) = body?;
    devices::check_in(&state, &caller.device, &b.firmware).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The newest signed release for the device, if newer than what it runs (never a rollback).
#[utoipa::path(get, path = "/v1/devices/{id}/update", tag = "updates",
    params(("id" = String, Path, description = "Device id")),
    responses((status = 200, description = "Signed release metadata"), (status = 204, description = "Up to date"), (status = 401), (status = 403)),
    security(("device_token" = [])))]
async fn update(
    State(state): State<AppState>,
    caller: DeviceCaller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    caller.only_for(&id)?;
    Ok(match releases::update_for(&state, &caller.device).await? {
        Some(r) => Json(r).into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    })
}

/// Per product: devices up to date, outdated, unknown, and whether security updates have ended.
#[utoipa::path(get, path = "/v1/fleet", tag = "updates",
    responses((status = 200, body = Vec<ProductFleet>), (status = 401), (status = 403)),
    security(("api_key" = [])))]
async fn fleet(State(state): State<AppState>, op: Operator) -> ApiResult<Json<Vec<ProductFleet>>> {
    op.permit(Action::SeeFleet)?;
    Ok(Json(fleet::fleet_status(&state).await?))
}

/// The household's devices with their update status and end of security updates.
#[utoipa::path(get, path = "/v1/households/{id}/devices", tag = "updates",
    params(("id" = String, Path, description = "Household id")),
    responses((status = 200, body = Vec<DeviceUpdate>), (status = 401), (status = 403), (status = 404)),
    security(("api_key" = []), ("session" = [])))]
async fn household_devices(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<DeviceUpdate>>> {
    let cap = authorize_subject(&state, &caller, &SubjectId::new(id), SubjectAction::Read).await?;
    Ok(Json(
        fleet::household_devices(&state, &cap.subject.id).await?,
    ))
}
