//! Signed firmware releases as accepted.

use crate::codec::{conflict_or, from_ts, ts};
use crate::rows;
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
    rows::decode_all(
        &mut stmt,
        [product],
        "list releases",
        |(product, version, signed, at): (String, String, String, i64)| {
            Ok(StoredRelease {
                product,
                version,
                signed,
                created_at: from_ts(at)?,
            })
        },
    )
}
