//! Failed attempts (sign-ins, claim codes) counted per throttle key, for throttling.

use crate::codec::{changed, from_ts, ts};
use crate::rows;
use jiff::Timestamp;
use privet_store::columns::count_u32 as count;
use privet_store::{Context, Result};
use rusqlite::{Connection, params};

/// One statement, so the count read and the count written are the same row state: two
/// failures at once add two. A count whose last failure is older than `forget_before` is
/// stale and starts again at one. The last failure never moves back, whatever order
/// concurrent attempts land in.
pub(crate) fn add(
    c: &Connection,
    key: &[u8],
    at: Timestamp,
    forget_before: Timestamp,
) -> Result<u32> {
    c.prepare_cached(
        "INSERT INTO failures (key, count, last) VALUES (?1, 1, ?2)
         ON CONFLICT (key) DO UPDATE SET
             count = CASE WHEN failures.last < ?3 THEN 1 ELSE failures.count + 1 END,
             last = max(failures.last, excluded.last)
         RETURNING count",
    )
    .and_then(|mut s| s.query_row(params![key, ts(at), ts(forget_before)], |r| r.get(0)))
    .map(count)
    .op("record failure")
}

/// The count of a key and its last failure.
pub(crate) fn get(c: &Connection, key: &[u8]) -> Result<Option<(u32, Timestamp)>> {
    rows::decode_first(
        c,
        "SELECT count, last FROM failures WHERE key = ?1",
        [key],
        "read failures",
        |(n, last): (i64, i64)| Ok((count(n), from_ts(last)?)),
    )
}

/// Forgets a key.
pub(crate) fn clear(c: &Connection, key: &[u8]) -> Result<()> {
    c.execute("DELETE FROM failures WHERE key = ?1", [key])
        .op("clear failures")?;
    Ok(())
}

/// Forgets keys whose last failure is before `before`.
pub(crate) fn prune(c: &Connection, before: Timestamp) -> Result<u64> {
    c.execute("DELETE FROM failures WHERE last < ?1", [ts(before)])
        .map(changed)
        .op("prune failures")
}
