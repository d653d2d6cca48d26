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
                    let manifest = parsed.manifest;
                    // Texts published before versions were recorded carry theirs in the text.
                    let version = if stored.version.is_empty() {
                        manifest.product.version().to_owned()
                    } else {
                        stored.version
                    };
                    history.push((version, stored.published_at, manifest));
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
