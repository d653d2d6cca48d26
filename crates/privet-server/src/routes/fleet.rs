//! Security updates: `POST /v1/releases`, device check-in and update, fleet status, and the
//! household's view of its devices' update status.

use crate::access::{Caller, DeviceCaller, Operator};
use crate::error::{ApiError, ApiResult};
use crate::service::audit;
use crate::service::releases::{self, UpdateStatus};
use crate::state::AppState;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use jiff::civil::Date;
use privet_crypto::SignedRelease;
use privet_store::{Device, SubjectId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
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

/// Fleet status of one product.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProductFleet {
    /// Product id.
    pub product: String,
    /// Newest released version.
    pub newest: Option<String>,
    /// Devices registered.
    pub devices: u64,
    /// On the newest release.
    pub up_to_date: u64,
    /// On an older release.
    pub outdated: u64,
    /// Firmware not reported.
    pub unknown: u64,
    /// The last day security updates are promised.
    #[schema(value_type = Option<String>, format = Date)]
    pub security_updates_until: Option<Date>,
    /// Whether that day has passed: these devices no longer get security updates.
    pub past_support: bool,
}

/// A device's update status as its household sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeviceUpdate {
    /// Device id.
    pub id: String,
    /// Product id.
    pub product: String,
    /// Product name.
    pub product_name: String,
    /// Firmware it runs.
    pub firmware: Option<String>,
    /// Newest release.
    pub newest: Option<String>,
    /// `up_to_date`, `outdated` or `unknown`.
    pub status: UpdateStatus,
    /// Last day of security updates.
    #[schema(value_type = Option<String>, format = Date)]
    pub security_updates_until: Option<Date>,
    /// Whether security updates have ended.
    pub past_support: bool,
    /// Last time it sent data.
    pub last_seen: Option<Timestamp>,
}

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(post_release))
        .routes(routes!(checkin))
        .routes(routes!(update))
        .routes(routes!(fleet))
        .routes(routes!(household_devices))
}

fn today() -> Date {
    privet_policy::utc_date(Timestamp::now())
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
    let cap = op.manage_fleet()?;
    let Json(signed) = body?;
    let accepted = releases::accept(&state, signed).await?;
    audit::record(&state, &cap.actor, "release.accept", None, Vec::new(), 0, serde_json::json!({"product": accepted.metadata.product, "version": accepted.metadata.version})).await?;
    Ok((StatusCode::CREATED, Json(accepted)))
}

fn own_device(caller: &DeviceCaller, id: &str) -> ApiResult<()> {
    if caller.device.id.as_str() == id {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "a device may only act for itself".to_owned(),
        ))
    }
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
    own_device(&caller, &id)?;
    let Json(b) = body?;
    let fw = b.firmware.trim();
    if fw.is_empty() || fw.len() > 64 || fw.chars().any(char::is_control) {
        return Err(ApiError::Unprocessable(
            "`firmware` must be a version of at most 64 characters".to_owned(),
        ));
    }
    state
        .store()
        .touch_device(&caller.device.id, Timestamp::now(), Some(fw.to_owned()))
        .await?;
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
    own_device(&caller, &id)?;
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
    op.manage_fleet()?;
    fleet_status(&state).await.map(Json)
}

/// The fleet status, for the API and the console.
pub(crate) async fn fleet_status(state: &AppState) -> ApiResult<Vec<ProductFleet>> {
    let mut by_product: BTreeMap<String, Vec<Device>> = BTreeMap::new();
    for d in state.store().all_devices().await? {
        by_product.entry(d.product.clone()).or_default().push(d);
    }
    let today = today();
    let mut out = Vec::new();
    for m in state.products().iter() {
        let id = m.product.id.as_str();
        let newest = releases::releases(state, id).await?.into_iter().next();
        let devices = by_product.remove(id).unwrap_or_default();
        let mut f = ProductFleet {
            product: id.to_owned(),
            newest: newest.as_ref().map(|r| r.metadata.version.clone()),
            devices: devices.len() as u64,
            up_to_date: 0,
            outdated: 0,
            unknown: 0,
            security_updates_until: m.product.security_updates_until.as_ref().map(|d| d.value),
            past_support: m
                .product
                .security_updates_until
                .as_ref()
                .is_some_and(|d| d.value < today),
        };
        for d in &devices {
            match releases::status(d, newest.as_ref()) {
                UpdateStatus::UpToDate => f.up_to_date += 1,
                UpdateStatus::Outdated => f.outdated += 1,
                UpdateStatus::Unknown => f.unknown += 1,
            }
        }
        out.push(f);
    }
    Ok(out)
}

/// The household's devices with their update status and end of security updates.
#[utoipa::path(get, path = "/v1/households/{id}/devices", tag = "updates",
    params(("id" = String, Path, description = "Household id")),
    responses((status = 200, body = Vec<DeviceUpdate>), (status = 401), (status = 403), (status = 404)))]
async fn household_devices(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<DeviceUpdate>>> {
    let cap = crate::access::authorize_subject(
        &state,
        &caller,
        &SubjectId::new(id),
        crate::access::SubjectAction::Read,
    )
    .await?;
    household_device_status(&state, &cap.subject.id)
        .await
        .map(Json)
}

/// Devices of a household with their update status, for the API and the pages.
pub(crate) async fn household_device_status(
    state: &AppState,
    household: &SubjectId,
) -> ApiResult<Vec<DeviceUpdate>> {
    let today = today();
    let mut out = Vec::new();
    for d in state.store().devices_of(household).await? {
        let Some(m) = state.products().get(&d.product) else {
            continue;
        };
        let newest = releases::releases(state, &d.product)
            .await?
            .into_iter()
            .next();
        let until = m.product.security_updates_until.as_ref().map(|d| d.value);
        out.push(DeviceUpdate {
            id: d.id.to_string(),
            product: d.product.clone(),
            product_name: m.product.name.value.clone(),
            status: releases::status(&d, newest.as_ref()),
            firmware: d.firmware.clone(),
            newest: newest.map(|r| r.metadata.version),
            security_updates_until: until,
            past_support: until.is_some_and(|u| u < today),
            last_seen: d.last_seen,
        });
    }
    Ok(out)
}
