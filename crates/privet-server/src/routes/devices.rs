//! `POST /v1/devices`, `GET /v1/devices/{id}`.

use crate::access::Operator;
use crate::error::ApiResult;
use crate::service::devices::{self, Registered};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use jiff::Timestamp;
use privet_policy::Action;
use privet_store::{DeviceId, SubjectId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Body of `POST /v1/devices`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDeviceBody {
    /// The product id (its manifest must be loaded).
    pub product: String,
    /// The household it belongs to; omit for a device to be claimed later.
    #[serde(default)]
    pub household: Option<String>,
    /// The member it belongs to (personal devices such as a fitness tracker).
    #[serde(default)]
    pub member: Option<String>,
}

/// A created device with its credentials, shown once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedDevice {
    /// Device id.
    pub id: String,
    /// The device's own bearer token; only its hash is stored.
    pub token: String,
    /// Single-use code a household uses to claim the device; only its hash is stored.
    pub claim_code: String,
}

/// A device as an operator sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeviceView {
    /// Device id.
    pub id: String,
    /// Product id.
    pub product: String,
    /// Household id, if attached.
    pub household: Option<String>,
    /// Member id, if personal.
    pub member: Option<String>,
    /// Last reported firmware.
    pub firmware: Option<String>,
    /// Last time it sent data.
    pub last_seen: Option<Timestamp>,
    /// Whether its token was revoked.
    pub revoked: bool,
}

/// A reset device's new credentials, shown once.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResetDevice {
    /// Device id.
    pub id: String,
    /// The new token to provision into the device; the old one no longer works.
    pub token: String,
    /// The new single-use claim code for the next owner.
    pub claim_code: String,
    /// Record blocks erased (everything the device had sent).
    pub blocks_erased: u64,
    /// The signed receipt naming the device: a compact JWS (RFC 7515, EdDSA).
    pub receipt: String,
    /// Where the key that verifies the receipt is published.
    pub jwks_uri: String,
}

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_device))
        .routes(routes!(get_device))
        .routes(routes!(reset_device))
}

/// Registers a device with its own unique credential (never a shared default).
#[utoipa::path(post, path = "/v1/devices", tag = "devices",
    request_body = NewDeviceBody,
    responses((status = 201, body = CreatedDevice), (status = 401), (status = 403), (status = 404), (status = 422)),
    security(("api_key" = [])))]
async fn create_device(
    State(state): State<AppState>,
    op: Operator,
    body: Result<Json<NewDeviceBody>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<(StatusCode, Json<CreatedDevice>)> {
    let permit = op.permit(Action::ManageFleet)?;
    let Json(body) = body?;
    let household = body.household.map(SubjectId::new);
    let member = body.member.map(SubjectId::new);
    let Registered {
        id,
        token,
        claim_code,
    } = devices::register(
        &state,
        &body.product,
        household.as_ref(),
        member.as_ref(),
        &permit.actor,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedDevice {
            id: id.to_string(),
            token: token.expose().to_owned(),
            claim_code: claim_code.expose().to_owned(),
        }),
    ))
}

/// One device.
#[utoipa::path(get, path = "/v1/devices/{id}", tag = "devices",
    params(("id" = String, Path, description = "Device id")),
    responses((status = 200, body = DeviceView), (status = 401), (status = 403), (status = 404)),
    security(("api_key" = [])))]
async fn get_device(
    State(state): State<AppState>,
    op: Operator,
    Path(id): Path<String>,
) -> ApiResult<Json<DeviceView>> {
    op.permit(Action::ManageFleet)?;
    let d = state.store().device(&DeviceId::new(id)).await?;
    Ok(Json(DeviceView {
        id: d.id.to_string(),
        product: d.product,
        household: d.household.map(|h| h.to_string()),
        member: d.member.map(|m| m.to_string()),
        firmware: d.firmware,
        last_seen: d.last_seen,
        revoked: d.revoked_at.is_some(),
    }))
}

/// Resets a device before it is sold or given away: the token is revoked (a new one is
/// issued for re-provisioning), it leaves its household, and the data it sent is erased.
#[utoipa::path(post, path = "/v1/devices/{id}/reset", tag = "devices",
    params(("id" = String, Path, description = "Device id")),
    responses((status = 200, body = ResetDevice), (status = 401), (status = 403), (status = 404)),
    security(("api_key" = [])))]
async fn reset_device(
    State(state): State<AppState>,
    op: Operator,
    Path(id): Path<String>,
) -> ApiResult<Json<ResetDevice>> {
    let permit = op.permit(Action::ManageFleet)?;
    let id = DeviceId::new(id);
    let reset = devices::reset(&state, &id, &permit.actor).await?;
    Ok(Json(ResetDevice {
        id: id.to_string(),
        token: reset.token.expose().to_owned(),
        claim_code: reset.claim_code.expose().to_owned(),
        blocks_erased: reset.records,
        receipt: reset.receipt,
        jwks_uri: "/.well-known/jwks.json".to_owned(),
    }))
}
