//! Manifests live in the store, so every instance sharing it serves the same ones: `serve
//! --manifests DIR` publishes the texts in the directory never published before (through
//! [`publish_one`], as every entry point does), then every instance serves the newest published
//! manifest of each product. Publishing announces it, and every running instance loads the
//! published manifests again ([`reload`]), as it does whenever its change listener
//! (re)subscribes.

use crate::products::{Products, ProductsError};
use crate::service::error::{Conflict, ServiceError};
use crate::service::publish::{Publication, publish_one, short};
use crate::state::AppState;
use jiff::Timestamp;
use privet_manifest::LintContext;
use privet_store::{Keyring, Store, StoredManifest};
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
    /// A local manifest names a version the store holds with another text.
    #[error(
        "{}: {product} version {version} is already published with other content, and a published version is never replaced; give the changed manifest a new product.version (or put back the published text)",
        file.display()
    )]
    VersionTaken {
        /// The local file.
        file: PathBuf,
        /// Its product id.
        product: String,
        /// Its version.
        version: String,
    },
    /// A local manifest could not be published.
    #[error("{}: {source}", file.display())]
    Publish {
        /// The local file.
        file: PathBuf,
        /// Why.
        #[source]
        source: ServiceError,
    },
}

/// Publishes each of `local`'s manifests whose text was never published for its product (as
/// `actor`'s: `serve`, `demo`), then serves what is published: the newest text of each
/// product.
///
/// A text published before is not published again, even when a newer one has been since: an
/// instance restarted with an older manifests directory must not roll every instance back.
/// When a local text differs from the product's newest published one, this says so (product id
/// and digests only) and serves the published one. A local text whose version is published
/// with another text stops the start ([`ManifestsError::VersionTaken`]): that is an edit
/// without a new version, which would otherwise be served nowhere, silently.
pub async fn publish(
    store: &dyn Store,
    keyring: &dyn Keyring,
    chain: &privet_policy::AuditChain,
    local: &Products,
    cx: &LintContext,
    actor: &str,
    now: Timestamp,
) -> Result<Products, ManifestsError> {
    let mut published = 0;
    let mut local_digests = Vec::new();
    for manifest in local.iter() {
        let id = manifest.product.id.value.to_string();
        let Some(source) = local.source(&id) else {
            continue;
        };
        let outcome = publish_one(store, keyring, chain, &source.text, actor, cx, now)
            .await
            .map_err(|e| match e {
                ServiceError::Conflict(Conflict::VersionTaken { product, version }) => {
                    ManifestsError::VersionTaken {
                        file: source.path.clone(),
                        product,
                        version,
                    }
                }
                ServiceError::Store(e) => ManifestsError::Store(e),
                other => ManifestsError::Publish {
                    file: source.path.clone(),
                    source: other,
                },
            })?;
        published += usize::from(matches!(outcome, Publication::New(_)));
        local_digests.push((id, outcome.manifest().digest.clone()));
    }
    let stored = store.manifests().await?;
    for (product, digest) in &local_digests {
        if let Some(newest) = stored.iter().find(|m| &m.product == product)
            && &newest.digest != digest
        {
            tracing::warn!(
                product = %product,
                local = %short(digest),
                published = %short(&newest.digest),
                "the local manifest is not the newest published one, which is served; a text published before is never published again"
            );
        }
    }
    if published > 0 {
        tracing::info!(published, "published new manifests");
    }
    with_lineages(store, from_stored(stored, cx)?).await
}

/// The newest published manifest of every product.
pub async fn load(store: &dyn Store, cx: &LintContext) -> Result<Products, ManifestsError> {
    with_lineages(store, from_stored(store.manifests().await?, cx)?).await
}

/// The products with each one's published versions, which consent follows.
async fn with_lineages(store: &dyn Store, products: Products) -> Result<Products, ManifestsError> {
    let lineages = crate::service::lineages::load(store, &products).await?;
    Ok(products.with_lineages(lineages))
}

/// Products from the newest published manifests.
fn from_stored(stored: Vec<StoredManifest>, cx: &LintContext) -> Result<Products, ManifestsError> {
    if stored.is_empty() {
        return Err(ManifestsError::None);
    }
    let sources = stored
        .into_iter()
        .map(|m| {
            (
                PathBuf::from(format!("published:{}@{}", m.product, short(&m.digest))),
                m.source,
            )
        })
        .collect();
    Ok(Products::from_sources(sources, cx)?.0)
}

/// Serves what is published now (another instance published new manifests, or the change
/// listener (re)subscribed and may have missed that). On failure the instance keeps serving
/// what it had, and says why.
///
/// Reloads run one at a time, each reading the store inside the lock: one started later
/// reads no older manifests than one before it, so an older load never replaces a newer one.
pub async fn reload(state: &AppState) {
    let _one_at_a_time = state.manifests_reloading().lock().await;
    let cx = LintContext {
        today: state.clock().today_utc(),
    };
    match load(state.store().as_ref(), &cx).await {
        Ok(products) => {
            if !same_sources(&state.products(), &products) {
                tracing::info!(
                    products = products.iter().count(),
                    "serving newly published manifests"
                );
            }
            state.set_products(products);
        }
        Err(e) => tracing::warn!(error = %e, "newly published manifests not served"),
    }
}

/// Whether two sets of products were loaded from the same texts.
fn same_sources(a: &Products, b: &Products) -> bool {
    texts(a) == texts(b)
}

/// Each product's id and the text it was loaded from.
fn texts(p: &Products) -> Vec<(String, Option<&str>)> {
    p.iter()
        .map(|m| {
            let id = m.product.id.value.to_string();
            let text = p.source(&id).map(|s| s.text.as_str());
            (id, text)
        })
        .collect()
}
