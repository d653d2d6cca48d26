//! A product's published manifest versions, as the API and the pages list them: newest first,
//! the newest marked current (it is what every instance serves).

use crate::service::error::{Missing, ServiceResult};
use crate::service::publish::version_of;
use crate::state::AppState;
use privet_store::StoredManifest;

/// One published version of a product's manifest.
#[derive(Clone, Debug)]
pub struct PublishedVersion {
    /// As published (its version read from the text when it was published without one).
    pub manifest: StoredManifest,
    /// The newest published: the version every instance serves.
    pub current: bool,
}

/// Every published version of `product`, newest first. `NotFound` for a product neither
/// published nor served; a product served but never published (built in) has none.
pub async fn of_product(state: &AppState, product: &str) -> ServiceResult<Vec<PublishedVersion>> {
    let stored = state.store().manifest_versions(product).await?;
    if stored.is_empty() && state.products().get(product).is_none() {
        return Err(Missing::Product.into());
    }
    let newest = stored.len().saturating_sub(1);
    Ok(stored
        .into_iter()
        .enumerate()
        .rev()
        .map(|(i, mut manifest)| {
            manifest.version = version_of(&manifest);
            PublishedVersion {
                manifest,
                current: i == newest,
            }
        })
        .collect())
}

/// The published text of `product`'s `version`; `NotFound` when there is none.
pub async fn one(
    state: &AppState,
    product: &str,
    version: &str,
) -> ServiceResult<PublishedVersion> {
    of_product(state, product)
        .await?
        .into_iter()
        .find(|v| v.manifest.version == version)
        .ok_or_else(|| Missing::ManifestVersion.into())
}
