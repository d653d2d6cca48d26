//! Manifests published to the store, so every instance serves the same ones: immutable
//! versions of each product's manifest.

use crate::codec::{from_ts, ts};
use crate::rows;
use privet_store::{Context, Published, Result, StoredManifest};
use rusqlite::{Connection, params};

/// The columns a [`StoredManifest`] is read from, in [`decode`]'s order.
const COLUMNS: &str = "product, version, source, digest, published_at, published_by";

/// A row of [`COLUMNS`].
type Row = (String, String, String, String, i64, String);

fn decode((product, version, source, digest, at, published_by): Row) -> Result<StoredManifest> {
    Ok(StoredManifest {
        product,
        version,
        source,
        digest,
        published_at: from_ts(at)?,
        published_by,
    })
}

/// The product's first publication matching `filter` (`?1` the product, `?2` the value).
fn first(
    c: &Connection,
    filter: &str,
    product: &str,
    value: &str,
) -> Result<Option<StoredManifest>> {
    rows::decode_first(
        c,
        &format!(
            "SELECT {COLUMNS} FROM manifests WHERE product = ?1 AND {filter} ORDER BY seq LIMIT 1"
        ),
        [product, value],
        "read published manifests",
        decode,
    )
}

/// Appends the text unless the product ever had its digest (so an older text is never the
/// newest again) or has its version with another text. The reads and the insert run in one
/// write on the single writer, so two instances publishing one text store it once; the unique
/// index on (product, version) holds the rule for every version recorded.
pub(crate) fn publish(c: &Connection, m: &StoredManifest) -> Result<Published> {
    if let Some(earlier) = first(c, "digest = ?2", &m.product, &m.digest)? {
        return Ok(Published::AlreadyPublished(earlier));
    }
    if !m.version.is_empty()
        && let Some(taken) = first(c, "version = ?2", &m.product, &m.version)?
    {
        return Ok(Published::VersionTaken(taken));
    }
    c.prepare_cached(
        "INSERT INTO manifests (product, version, source, digest, published_at, published_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .and_then(|mut s| {
        s.execute(params![
            m.product,
            m.version,
            m.source,
            m.digest,
            ts(m.published_at),
            m.published_by
        ])
    })
    .op("publish manifest")?;
    Ok(Published::New)
}

/// The newest manifest of every product (the last published, whatever its time says), by
/// product id.
pub(crate) fn newest(c: &Connection) -> Result<Vec<StoredManifest>> {
    let mut stmt = c
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM manifests
             WHERE seq IN (SELECT max(seq) FROM manifests GROUP BY product)
             ORDER BY product"
        ))
        .op("list manifests")?;
    rows::decode_all(&mut stmt, [], "list manifests", decode)
}

/// Every published version of `product`, in publish order.
pub(crate) fn versions(c: &Connection, product: &str) -> Result<Vec<StoredManifest>> {
    let mut stmt = c
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM manifests WHERE product = ?1 ORDER BY seq"
        ))
        .op("list manifest versions")?;
    rows::decode_all(&mut stmt, [product], "list manifest versions", decode)
}
