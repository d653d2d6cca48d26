//! Signed security updates: releases accepted only when they verify against the maker's key
//! in the manifest (the server never holds that key), and the newest release for a device,
//! never a rollback.

use crate::service::audit::{self, Event};
use crate::service::error::{Conflict, Invalid, ServiceError, ServiceResult};
use crate::state::AppState;
use privet_crypto::{SignedRelease, compare_versions, verify_signed_release};
use privet_store::{Device, StoredRelease};
use serde::Serialize;
use std::cmp::Ordering;
use utoipa::ToSchema;

/// Verifies and stores a signed release; audited as `actor`'s.
pub async fn accept(
    state: &AppState,
    signed: SignedRelease,
    actor: &str,
) -> ServiceResult<SignedRelease> {
    let product = signed.metadata.product.clone();
    let products = state.products();
    let manifest = products
        .get(&product)
        .ok_or_else(|| Invalid::UnknownProduct(product.clone()))?;
    let key = manifest
        .product
        .update_public_key
        .as_ref()
        .ok_or_else(|| Invalid::NoUpdateKey(product.clone()))?;
    verify_signed_release(&signed, &key.value, state.clock().now())
        .map_err(|_| Invalid::ReleaseDoesNotVerify)?;
    let text = serde_json::to_string(&signed).map_err(|_| ServiceError::Corrupt("release"))?;
    state
        .store()
        .put_release(StoredRelease {
            product: product.clone(),
            version: signed.metadata.version.clone(),
            signed: text,
            created_at: state.clock().now(),
        })
        .await
        .map_err(|e| match e {
            privet_store::Error::Conflict { .. } => ServiceError::from(Conflict::Released {
                product: product.clone(),
                version: signed.metadata.version.clone(),
            }),
            other => other.into(),
        })?;
    audit::record(
        state,
        Event::new(
            actor,
            "release.accept",
            serde_json::json!({"product": product, "version": signed.metadata.version}),
        ),
    )
    .await?;
    crate::mqtt::updates::release_accepted(state, &product);
    Ok(signed)
}

/// A product's verified, unexpired releases, newest version first.
pub async fn releases(state: &AppState, product: &str) -> ServiceResult<Vec<SignedRelease>> {
    let now = state.clock().now();
    let mut out: Vec<SignedRelease> = state
        .store()
        .releases(product)
        .await?
        .into_iter()
        .filter_map(|r| serde_json::from_str::<SignedRelease>(&r.signed).ok())
        .filter(|r| r.metadata.expires > now)
        .collect();
    out.sort_by(|a, b| compare_versions(&b.metadata.version, &a.metadata.version));
    Ok(out)
}

/// A product's newest verified, unexpired release.
pub async fn newest(state: &AppState, product: &str) -> ServiceResult<Option<SignedRelease>> {
    Ok(releases(state, product).await?.into_iter().next())
}

/// The newest release for a device if it is newer than its firmware (never an older one).
pub async fn update_for(state: &AppState, device: &Device) -> ServiceResult<Option<SignedRelease>> {
    let newest = newest(state, &device.product).await?;
    Ok(newest.filter(|r| match &device.firmware {
        Some(current) => compare_versions(&r.metadata.version, current) == Ordering::Greater,
        None => true,
    }))
}

/// Update status of one device.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UpdateStatus {
    /// Runs the newest release.
    UpToDate,
    /// A newer release exists.
    Outdated,
    /// Has not reported its firmware.
    Unknown,
}

/// A device's status against the newest release.
pub fn status(device: &Device, newest: Option<&SignedRelease>) -> UpdateStatus {
    match (&device.firmware, newest) {
        (None, _) => UpdateStatus::Unknown,
        (Some(_), None) => UpdateStatus::UpToDate,
        (Some(fw), Some(r)) => {
            if compare_versions(&r.metadata.version, fw) == Ordering::Greater {
                UpdateStatus::Outdated
            } else {
                UpdateStatus::UpToDate
            }
        }
    }
}
