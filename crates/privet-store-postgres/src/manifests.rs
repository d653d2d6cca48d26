//! Manifests published to the store, so every instance serves the same ones.

use crate::codec::{Pg, col, from_ts, ts};
use crate::locks;
use crate::pool::{execute, query, query_opt};
use deadpool_postgres::Object;
use privet_store::{Result, StoredManifest};

/// Appends the text unless the product ever had its digest (so an older text is never the
/// newest again). The read and the insert run in one transaction holding the product's
/// advisory lock, so two instances publishing one text store it once.
pub(crate) async fn publish(c: &mut Object, schema: &str, m: &StoredManifest) -> Result<bool> {
    let op = "publish manifest";
    let tx = c.transaction().await.pg(op)?;
    let key = format!("{schema}/{}", m.product);
    execute(&tx, locks::XACT_LOCK, &[&locks::MANIFEST, &key], op).await?;
    let published = query_opt(
        &tx,
        "SELECT 1 FROM manifests WHERE product = $1 AND digest = $2 LIMIT 1",
        &[&m.product, &m.digest],
        "read published manifests",
    )
    .await?;
    if published.is_some() {
        return Ok(false);
    }
    execute(
        &tx,
        "INSERT INTO manifests (product, source, digest, published_at) VALUES ($1, $2, $3, $4)",
        &[&m.product, &m.source, &m.digest, &ts(m.published_at)],
        op,
    )
    .await?;
    tx.commit().await.pg(op)?;
    Ok(true)
}

/// The newest manifest of every product (the last published, whatever its time says), by
/// product id.
pub(crate) async fn newest(c: &Object) -> Result<Vec<StoredManifest>> {
    let op = "list manifests";
    query(
        c,
        "SELECT DISTINCT ON (product) product, source, digest, published_at
         FROM manifests ORDER BY product, seq DESC",
        &[],
        op,
    )
    .await?
    .iter()
    .map(|r| {
        Ok(StoredManifest {
            product: col(r, 0, op)?,
            source: col(r, 1, op)?,
            digest: col(r, 2, op)?,
            published_at: from_ts(col(r, 3, op)?)?,
        })
    })
    .collect()
}
