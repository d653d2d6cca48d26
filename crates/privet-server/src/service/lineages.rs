//! Each served product's published versions, read from the store and diffed, so ingest,
//! the pages and `GET /v1/subjects/{id}/changes` apply one rule for consent across versions
//! ([`privet_policy::Lineage`]).

use crate::products::Products;
use privet_manifest::Manifest;
use privet_policy::Lineage;
use privet_store::Store;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The lineage of every product in `products`, from the versions the store holds.
///
/// A version that no longer parses (it cannot: it parsed when published) is left out, and
/// said so, rather than keeping the product from being served.
pub async fn load(
    store: &dyn Store,
    products: &Products,
) -> Result<BTreeMap<String, Arc<Lineage>>, privet_store::Error> {
    let mut lineages = BTreeMap::new();
    for m in products.iter() {
        let id = m.product.id.as_str();
        let mut history: Vec<(String, jiff::Timestamp, Manifest)> = Vec::new();
        for stored in store.manifest_versions(id).await? {
            match privet_manifest::parse(&stored.source) {
                Ok(parsed) => {
                    let version = crate::service::publish::version_of(&stored);
                    history.push((version, stored.published_at, parsed.manifest));
                }
                Err(_) => tracing::warn!(
                    product = %id,
                    digest = %stored.digest.get(..12).unwrap_or(&stored.digest),
                    "a published version does not parse; left out of the product's history"
                ),
            }
        }
        let lineage = Lineage::new(history.iter().map(|(v, t, m)| (v.as_str(), *t, m)));
        lineages.insert(id.to_owned(), Arc::new(lineage));
    }
    Ok(lineages)
}

/// Material changes to one purpose of a product that a subject has not answered (see
/// [`privet_policy::pending_changes`]), for the API and the pages alike.
#[derive(Clone, Debug)]
pub struct Pending {
    /// Product id.
    pub product: String,
    /// The product's current version.
    pub version: String,
    /// Purpose key.
    pub purpose: String,
    /// The purpose in plain words.
    pub description: String,
    /// What the subject is asked to do.
    pub action: privet_policy::ChangeAction,
    /// For a consent to renew: the version it was given under.
    pub consented_under: Option<String>,
    /// The changes, oldest first.
    pub changes: Vec<privet_policy::VersionedChange>,
}

/// What changed in `manifests` (the subject's household's products) that `subject` has not
/// answered, by product and purpose.
pub async fn pending(
    state: &crate::state::AppState,
    subject: &privet_store::Subject,
    manifests: &[Arc<Manifest>],
) -> crate::service::error::ServiceResult<Vec<Pending>> {
    let allowed = crate::service::permissions::of_subject(state, subject).await?;
    let products = state.products();
    let mut pending = Vec::new();
    for m in manifests {
        let product = m.product.id.as_str();
        let Some(lineage) = products.lineage(product) else {
            continue;
        };
        for p in
            privet_policy::pending_changes(m, lineage, &allowed, subject.kind, subject.created_at)
        {
            pending.push(Pending {
                product: product.to_owned(),
                version: m.product.version().to_owned(),
                purpose: p.purpose.id.as_str().to_owned(),
                description: p.purpose.description.value.clone(),
                action: p.action,
                consented_under: p.consented_under.map(str::to_owned),
                changes: p.changes.into_iter().cloned().collect(),
            });
        }
    }
    Ok(pending)
}
