//! Manifests published to the store, so every instance serves the same ones.

use crate::codec::{from_ts, ts};
use crate::rows;
use privet_store::{Context, Result, StoredManifest};
use rusqlite::{Connection, params};

/// Appends the text unless the product ever had its digest (so an older text is never the
/// newest again). Read and insert run in one write on the single writer, so two instances
/// publishing one text store it once.
pub(crate) fn publish(c: &Connection, m: &StoredManifest) -> Result<bool> {
    let published: Option<i64> = rows::decode_first(
        c,
        "SELECT 1 FROM manifests WHERE product = ?1 AND digest = ?2 LIMIT 1",
        [&m.product, &m.digest],
        "read published manifests",
        |(one,): (i64,)| Ok(one),
    )?;
    if published.is_some() {
        return Ok(false);
    }
    c.prepare_cached(
        "INSERT INTO manifests (product, source, digest, published_at) VALUES (?1, ?2, ?3, ?4)",
    )
    .and_then(|mut s| s.execute(params![m.product, m.source, m.digest, ts(m.published_at)]))
    .op("publish manifest")?;
    Ok(true)
}

/// The newest manifest of every product (the last published, whatever its time says), by
/// product id.
pub(crate) fn newest(c: &Connection) -> Result<Vec<StoredManifest>> {
    let mut stmt = c
        .prepare_cached(
            "SELECT product, source, digest, published_at FROM manifests
             WHERE seq IN (SELECT max(seq) FROM manifests GROUP BY product)
             ORDER BY product",
        )
        .op("list manifests")?;
    rows::decode_all(
        &mut stmt,
        [],
        "list manifests",
        |(product, source, digest, at): (String, String, String, i64)| {
            Ok(StoredManifest {
                product,
                source,
                digest,
                published_at: from_ts(at)?,
            })
        },
    )
}
