//! Manifests live in the store, so every instance sharing it serves the same ones: `serve
//! --manifests DIR` publishes what is new in the directory, then every instance serves the
//! newest published manifest of each product. Publishing announces it, and every running
//! instance loads the published manifests again ([`reload`]).

use crate::products::{Products, ProductsError};
use crate::state::AppState;
use jiff::Timestamp;
use privet_manifest::LintContext;
use privet_store::{Change, Store, StoredManifest};
use std::path::PathBuf;

/// Why the published manifests could not be served.
#[derive(Debug, thiserror::Error)]
pub enum ManifestsError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] privet_store::Error),
    /// A published manifest no longer loads (its findings depend on today's date).
    #[error("published manifests: {0}")]
    Products(#[from] ProductsError),
    /// Nothing is published and no directory was given.
    #[error("no manifests are published in this database; start one instance with --manifests DIR")]
    None,
}

/// Publishes each of `local`'s manifests whose text is new, then serves what is published.
pub async fn publish(
    store: &dyn Store,
    local: &Products,
    cx: &LintContext,
    now: Timestamp,
) -> Result<Products, ManifestsError> {
    let mut published = 0;
    for manifest in local.iter() {
        let id = manifest.product.id.value.to_string();
        let Some(source) = local.source(&id) else {
            continue;
        };
        let new = store
            .publish_manifest(StoredManifest {
                digest: privet_crypto::sha256_hex(source.text.as_bytes()),
                product: id,
                source: source.text.clone(),
                published_at: now,
            })
            .await?;
        published += usize::from(new);
    }
    let products = load(store, cx).await?;
    if published > 0 {
        tracing::info!(published, "published new manifests");
        // The running instances serve them too; if they are not told, they do at restart.
        if let Err(e) = store.announce(Change::Manifests).await {
            tracing::warn!(error = %e, "announcing new manifests failed");
        }
    }
    Ok(products)
}

/// The newest published manifest of every product.
pub async fn load(store: &dyn Store, cx: &LintContext) -> Result<Products, ManifestsError> {
    let stored = store.manifests().await?;
    if stored.is_empty() {
        return Err(ManifestsError::None);
    }
    let sources = stored
        .into_iter()
        .map(|m| {
            (
                PathBuf::from(format!(
                    "published:{}@{}",
                    m.product,
                    m.digest.get(..12).unwrap_or(&m.digest)
                )),
                m.source,
            )
        })
        .collect();
    Ok(Products::from_sources(sources, cx)?.0)
}

/// Serves what is published now (another instance published new manifests). On failure the
/// instance keeps serving what it had, and says why.
pub async fn reload(state: &AppState) {
    let cx = LintContext {
        today: state.clock().today_utc(),
    };
    match load(state.store().as_ref(), &cx).await {
        Ok(products) => {
            tracing::info!(
                products = products.iter().count(),
                "serving newly published manifests"
            );
            state.set_products(products);
        }
        Err(e) => tracing::warn!(error = %e, "newly published manifests not served"),
    }
}
