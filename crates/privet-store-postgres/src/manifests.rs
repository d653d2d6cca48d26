//! Manifests published to the store, so every instance serves the same ones: immutable
//! versions of each product's manifest.

use crate::codec::{Pg, col, from_ts, ts};
use crate::locks;
use crate::pool::{execute, query, query_opt};
use deadpool_postgres::Object;
use privet_store::{Published, Result, StoredManifest};
use tokio_postgres::Row;

/// The columns a [`StoredManifest`] is read from, in [`decode`]'s order.
const COLUMNS: &str = "product, version, source, digest, published_at, published_by";

fn decode(r: &Row, op: &'static str) -> Result<StoredManifest> {
    Ok(StoredManifest {
        product: col(r, 0, op)?,
        version: col(r, 1, op)?,
        source: col(r, 2, op)?,
        digest: col(r, 3, op)?,
        published_at: from_ts(col(r, 4, op)?)?,
        published_by: col(r, 5, op)?,
    })
}

/// Appends the text unless the product ever had its digest (so an older text is never the
/// newest again) or has its version with another text. The reads and the insert run in one
/// transaction holding the product's advisory lock, so two instances publishing one text
/// store it once; the unique index on (product, version) holds the rule for every version
/// recorded.
pub(crate) async fn publish(c: &mut Object, schema: &str, m: &StoredManifest) -> Result<Published> {
    let op = "publish manifest";
    let read = "read published manifests";
    let tx = c.transaction().await.pg(op)?;
    let key = format!("{schema}/{}", m.product);
    execute(&tx, locks::XACT_LOCK, &[&locks::MANIFEST, &key], op).await?;
    let by_digest = format!(
        "SELECT {COLUMNS} FROM manifests WHERE product = $1 AND digest = $2 ORDER BY seq LIMIT 1"
    );
    if let Some(r) = query_opt(&tx, &by_digest, &[&m.product, &m.digest], read).await? {
        return Ok(Published::AlreadyPublished(decode(&r, read)?));
    }
    if !m.version.is_empty() {
        let by_version =
            format!("SELECT {COLUMNS} FROM manifests WHERE product = $1 AND version = $2 LIMIT 1");
        if let Some(r) = query_opt(&tx, &by_version, &[&m.product, &m.version], read).await? {
            return Ok(Published::VersionTaken(decode(&r, read)?));
        }
    }
    execute(
        &tx,
        "INSERT INTO manifests (product, version, source, digest, published_at, published_by)
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            &m.product,
            &m.version,
            &m.source,
            &m.digest,
            &ts(m.published_at),
            &m.published_by,
        ],
        op,
    )
    .await?;
    tx.commit().await.pg(op)?;
    Ok(Published::New)
}

/// The newest manifest of every product (the last published, whatever its time says), by
/// product id.
pub(crate) async fn newest(c: &Object) -> Result<Vec<StoredManifest>> {
    let op = "list manifests";
    query(
        c,
        &format!(
            "SELECT DISTINCT ON (product) {COLUMNS} FROM manifests ORDER BY product, seq DESC"
        ),
        &[],
        op,
    )
    .await?
    .iter()
    .map(|r| decode(r, op))
    .collect()
}

/// Every published version of `product`, in publish order.
pub(crate) async fn versions(c: &Object, product: &str) -> Result<Vec<StoredManifest>> {
    let op = "list manifest versions";
    query(
        c,
        &format!("SELECT {COLUMNS} FROM manifests WHERE product = $1 ORDER BY seq"),
        &[&product],
        op,
    )
    .await?
    .iter()
    .map(|r| decode(r, op))
    .collect()
}
