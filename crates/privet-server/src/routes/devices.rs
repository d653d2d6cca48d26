//! `POST /v1/devices`, `GET /v1/devices/{id}`.

use crate::access::{DEVICE_TOKEN_PREFIX, Operator};
use crate::error::{ApiError, ApiResult};
use crate::ids::new_id;
use crate::service::audit;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use jiff::Timestamp;
use privet_crypto::{generate_token, hash_token, os_rng};
use privet_store::{DeviceId, NewDevice, SubjectId, SubjectKind};
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

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_device))
        .routes(routes!(get_device))
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
    let cap = op.manage_fleet()?;
    let Json(body) = body?;
    if state.products().get(&body.product).is_none() {
        return Err(ApiError::Unprocessable(format!(
            "unknown product `{}`",
            body.product
        )));
    }
    let household = match &body.household {
        Some(h) => {
            let s = state.store().subject(&SubjectId::new(h.clone())).await?;
            if s.kind != SubjectKind::Household {
                return Err(ApiError::NotFound("household".to_owned()));
            }
            Some(s.id)
        }
        None => None,
    };
    let member = match &body.member {
        Some(m) => {
            let s = state.store().subject(&SubjectId::new(m.clone())).await?;
            if s.kind != SubjectKind::Member || s.household.is_none() || s.household != household {
                return Err(ApiError::Unprocessable(
                    "`member` must be a member of `household`".to_owned(),
                ));
            }
            Some(s.id)
        }
        None => None,
    };
    let id = DeviceId::new(new_id("dev"));
    let token = generate_token(DEVICE_TOKEN_PREFIX, &mut os_rng());
    let claim = generate_token("pvc", &mut os_rng());
    state
        .store()
        .create_device(NewDevice {
            id: id.clone(),
            product: body.product.clone(),
            household: household.clone(),
            member,
            token_hash: hash_token(token.expose()),
            claim_hash: Some(hash_token(claim.expose())),
            created_at: Timestamp::now(),
        })
        .await?;
    audit::record(
        &state,
        &cap.actor,
        "device.create",
        None,
        Vec::new(),
        0,
        serde_json::json!({"device": id, "product": body.product, "household": household}),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedDevice {
            id: id.to_string(),
            token: token.expose().to_owned(),
            claim_code: claim.expose().to_owned(),
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
    op.manage_fleet()?;
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
