//! Update status: per product (the console and `GET /v1/fleet`) and per household device (the
//! household pages and `GET /v1/households/{id}/devices`).

use crate::service::error::ServiceResult;
use crate::service::releases::{self, UpdateStatus};
use crate::state::AppState;
use jiff::Timestamp;
use jiff::civil::Date;
use privet_store::{Device, SubjectId};
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

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

/// Every product's fleet status.
pub async fn fleet_status(state: &AppState) -> ServiceResult<Vec<ProductFleet>> {
    let mut by_product: BTreeMap<String, Vec<Device>> = BTreeMap::new();
    for d in state.store().all_devices().await? {
        by_product.entry(d.product.clone()).or_default().push(d);
    }
    let today = state.clock().today_utc();
    let mut out = Vec::new();
    for m in state.products().iter() {
        let id = m.product.id.as_str();
        let newest = releases::newest(state, id).await?;
        let devices = by_product.remove(id).unwrap_or_default();
        let until = m.product.security_updates_until.as_ref().map(|d| d.value);
        let mut f = ProductFleet {
            product: id.to_owned(),
            newest: newest.as_ref().map(|r| r.metadata.version.clone()),
            devices: devices.len() as u64,
            up_to_date: 0,
            outdated: 0,
            unknown: 0,
            security_updates_until: until,
            past_support: until.is_some_and(|d| d < today),
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

/// Devices of a household with their update status.
pub async fn household_devices(
    state: &AppState,
    household: &SubjectId,
) -> ServiceResult<Vec<DeviceUpdate>> {
    let today = state.clock().today_utc();
    let mut out = Vec::new();
    let products = state.products();
    for d in state.store().devices_of(household).await? {
        let Some(m) = products.get(&d.product) else {
            continue;
        };
        let newest = releases::newest(state, &d.product).await?;
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
