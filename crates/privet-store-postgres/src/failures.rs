//! Failed attempts (sign-ins, claim codes) counted per throttle key, for throttling, shared by
//! every instance.

use crate::codec::{col, from_ts, ts};
use crate::pool::{execute, query_one, query_opt};
use deadpool_postgres::GenericClient;
use jiff::Timestamp;
use privet_store::Result;
use privet_store::columns::count_u32 as count;

/// One upsert, so the count read and the count written are the same row state even across
/// instances: two failures at once add two. A count whose last failure is older than
/// `forget_before` is stale and starts again at one. The last failure never moves back,
/// whatever order concurrent attempts land in.
pub(crate) async fn add(
    c: &impl GenericClient,
    key: &[u8],
    at: Timestamp,
    forget_before: Timestamp,
) -> Result<u32> {
    let op = "record failure";
    let row = query_one(
        c,
        "INSERT INTO failures AS f (key, count, last) VALUES ($1, 1, $2)
         ON CONFLICT (key) DO UPDATE SET
             count = CASE WHEN f.last < $3 THEN 1 ELSE f.count + 1 END,
             last = greatest(f.last, excluded.last)
         RETURNING count",
        &[&key, &ts(at), &ts(forget_before)],
        op,
    )
    .await?;
    Ok(count(col(&row, 0, op)?))
}

/// The count of a key and its last failure.
pub(crate) async fn get(c: &impl GenericClient, key: &[u8]) -> Result<Option<(u32, Timestamp)>> {
    let op = "read failures";
    query_opt(
        c,
        "SELECT count, last FROM failures WHERE key = $1",
        &[&key],
        op,
    )
    .await?
    .map(|r| Ok((count(col(&r, 0, op)?), from_ts(col(&r, 1, op)?)?)))
    .transpose()
}

/// Forgets a key.
pub(crate) async fn clear(c: &impl GenericClient, key: &[u8]) -> Result<()> {
    execute(
        c,
        "DELETE FROM failures WHERE key = $1",
        &[&key],
        "clear failures",
    )
    .await?;
    Ok(())
}

/// Forgets keys whose last failure is before `before`.
pub(crate) async fn prune(c: &impl GenericClient, before: Timestamp) -> Result<u64> {
    execute(
        c,
        "DELETE FROM failures WHERE last < $1",
        &[&ts(before)],
        "prune failures",
    )
    .await
}
