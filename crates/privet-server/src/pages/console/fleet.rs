//! `/console/fleet`: per product, how many devices are up to date and whether security
//! updates have ended; then every device.

use super::staff::{Area, ConsoleNav, Staff};
use crate::pages::{PageContext, PageError, render};
use crate::service::fleet::fleet_status;
use crate::service::releases::{self, UpdateStatus};
use crate::state::AppState;
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use jiff::Timestamp;
use std::collections::BTreeMap;

/// Most devices listed on the page; the counts above cover all of them.
const MAX_DEVICES: usize = 500;

/// One product's fleet.
#[derive(Debug)]
struct ProductRow {
    id: String,
    name: String,
    devices: u64,
    last_seen: String,
    newest: String,
    up_to_date: u64,
    outdated: u64,
    unknown: u64,
    updates_until: String,
    past_support: bool,
}

/// One device.
#[derive(Debug)]
struct DeviceRow {
    id: String,
    product: String,
    attached: bool,
    last_seen: String,
    firmware: String,
    status: &'static str,
    outdated: bool,
}

#[derive(Template)]
#[template(path = "pages/console/fleet.html")]
struct FleetPage {
    page: PageContext,
    nav: ConsoleNav,
    products: Vec<ProductRow>,
    devices: Vec<DeviceRow>,
    total_devices: usize,
}

/// `GET /console/fleet`.
pub(super) async fn show(
    State(state): State<AppState>,
    staff: Staff,
) -> Result<Response, PageError> {
    staff.require(Area::Fleet)?;
    let mut all = state.store().all_devices().await?;
    let mut last_seen: BTreeMap<&str, Timestamp> = BTreeMap::new();
    for d in &all {
        if let Some(at) = d.last_seen {
            let e = last_seen.entry(d.product.as_str()).or_insert(at);
            *e = (*e).max(at);
        }
    }
    let products = fleet_status(&state)
        .await?
        .into_iter()
        .map(|f| ProductRow {
            name: state
                .products()
                .get(&f.product)
                .map_or_else(|| f.product.clone(), |m| m.product.name.value.clone()),
            last_seen: super::when_opt(last_seen.get(f.product.as_str()).copied()),
            newest: f.newest.unwrap_or_else(|| "No release yet".to_owned()),
            devices: f.devices,
            up_to_date: f.up_to_date,
            outdated: f.outdated,
            unknown: f.unknown,
            updates_until: f
                .security_updates_until
                .map_or_else(|| "Not stated".to_owned(), |d| d.to_string()),
            past_support: f.past_support,
            id: f.product,
        })
        .collect();

    let total_devices = all.len();
    // Most recently seen first; never-seen devices last.
    all.sort_by(|a, b| b.last_seen.cmp(&a.last_seen).then(a.id.cmp(&b.id)));
    all.truncate(MAX_DEVICES);
    let mut newest = BTreeMap::new();
    let mut devices = Vec::with_capacity(all.len());
    for d in all {
        if !newest.contains_key(&d.product) {
            let r = releases::releases(&state, &d.product)
                .await?
                .into_iter()
                .next();
            newest.insert(d.product.clone(), r);
        }
        let newest_release = newest.get(&d.product).and_then(Option::as_ref);
        let (status, outdated) = if d.revoked_at.is_some() {
            ("Token revoked", false)
        } else {
            match releases::status(&d, newest_release) {
                UpdateStatus::UpToDate if newest_release.is_none() => {
                    ("No release published yet", false)
                }
                UpdateStatus::UpToDate => ("Up to date", false),
                UpdateStatus::Outdated => ("Outdated", true),
                UpdateStatus::Unknown => ("Firmware not reported", false),
            }
        };
        devices.push(DeviceRow {
            id: d.id.to_string(),
            attached: d.household.is_some(),
            last_seen: super::when_opt(d.last_seen),
            firmware: d
                .firmware
                .clone()
                .unwrap_or_else(|| "Not reported".to_owned()),
            status,
            outdated,
            product: d.product,
        });
    }
    render(&FleetPage {
        page: staff.page(&state).await?,
        nav: ConsoleNav::new(&staff, Area::Fleet),
        products,
        devices,
        total_devices,
    })
}
