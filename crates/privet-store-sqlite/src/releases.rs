//! Signed firmware releases as accepted.

use crate::codec::{conflict_or, from_ts, ts};
use privet_store::{Context, Result, StoredRelease};
use rusqlite::{Connection, params};

pub(crate) fn put(c: &Connection, r: &StoredRelease) -> Result<()> {
    c.execute(
        "INSERT INTO releases (product, version, signed, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![r.product, r.version, r.signed, ts(r.created_at)],
    )
    .map_err(|e| {
        conflict_or(
            e,
            "release",
            &format!("{}@{}", r.product, r.version),
            "store release",
        )
    })?;
    Ok(())
}

pub(crate) fn of_product(c: &Connection, product: &str) -> Result<Vec<StoredRelease>> {
    let mut stmt = c
        .prepare_cached("SELECT product, version, signed, created_at FROM releases WHERE product = ?1 ORDER BY created_at")
        .op("list releases")?;
    let rows = stmt
        .query_map([product], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
            ))
        })
        .op("list releases")?;
    let mut out = Vec::new();
    for row in rows {
        let (product, version, signed, at) = row.op("list releases")?;
        out.push(StoredRelease {
            product,
            version,
            signed,
            created_at: from_ts(at)?,
        });
    }
    Ok(out)
}
