//! Signed firmware releases as accepted.

use crate::codec::{col, from_ts, ts};
use crate::pool::{insert, query};
use deadpool_postgres::GenericClient;
use privet_store::{Result, StoredRelease};

pub(crate) async fn put(c: &impl GenericClient, r: &StoredRelease) -> Result<()> {
    insert(
        c,
        "INSERT INTO releases (product, version, signed, created_at) VALUES ($1, $2, $3, $4)",
        &[&r.product, &r.version, &r.signed, &ts(r.created_at)],
        ("release", &format!("{}@{}", r.product, r.version)),
        "store release",
    )
    .await?;
    Ok(())
}

pub(crate) async fn of_product(
    c: &impl GenericClient,
    product: &str,
) -> Result<Vec<StoredRelease>> {
    let op = "list releases";
    query(
        c,
        "SELECT product, version, signed, created_at FROM releases
         WHERE product = $1 ORDER BY created_at",
        &[&product],
        op,
    )
    .await?
    .iter()
    .map(|r| {
        Ok(StoredRelease {
            product: col(r, 0, op)?,
            version: col(r, 1, op)?,
            signed: col(r, 2, op)?,
            created_at: from_ts(col(r, 3, op)?)?,
        })
    })
    .collect()
}
