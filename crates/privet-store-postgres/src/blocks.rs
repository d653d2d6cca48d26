//! Record blocks inside their chunks' partitions: rewriting, deleting and counting. Appending
//! is the writer's ([`crate::writer`]), scanning [`crate::scan`]'s.
//!
//! Only blocks of chunks listed in `chunks` exist for these functions (see [`crate::chunks`]):
//! a dropped chunk whose partition is still waiting to be dropped is neither read, counted
//! nor changed.

use crate::codec::{col, count, pseudonym};
use crate::pool::{execute, query, query_one};
use deadpool_postgres::GenericClient;
use privet_crypto::Pseudonym;
use privet_policy::DeviceId;
use privet_store::{Error, Result};
use tokio_postgres::types::ToSql;

/// Blocks in a live chunk.
const LIVE: &str = "chunk IN (SELECT id FROM chunks)";

/// Replaces a block's payload and count if its payload is still `old` (one statement: the
/// row's lock makes a concurrent rewrite wait, then re-check the condition against what it
/// wrote): `NotFound` if the block is gone, `Conflict` if it was rewritten meanwhile.
pub(crate) async fn rewrite(
    c: &impl GenericClient,
    id: [u8; 16],
    old: &[u8],
    payload: &[u8],
    n: u32,
) -> Result<()> {
    let op = "rewrite block";
    let changed = execute(
        c,
        &format!(
            "UPDATE blocks SET payload = $2, n = $3 WHERE id = $1 AND payload = $4 AND {LIVE}"
        ),
        &[&id.as_slice(), &payload, &i64::from(n), &old],
        op,
    )
    .await?;
    if changed > 0 {
        return Ok(());
    }
    let held: bool = col(
        &query_one(
            c,
            &format!("SELECT EXISTS (SELECT 1 FROM blocks WHERE id = $1 AND {LIVE})"),
            &[&id.as_slice()],
            op,
        )
        .await?,
        0,
        op,
    )?;
    if held {
        Err(Error::conflict("record", "(block)"))
    } else {
        Err(Error::not_found("record", "(block)"))
    }
}

/// Deletes blocks by id.
pub(crate) async fn delete_ids(c: &impl GenericClient, ids: &[[u8; 16]]) -> Result<u64> {
    let ids: Vec<&[u8]> = ids.iter().map(|i| i.as_slice()).collect();
    execute(
        c,
        &format!("DELETE FROM blocks WHERE id = ANY($1) AND {LIVE}"),
        &[&ids],
        "delete block",
    )
    .await
}

/// Deletes every block of a subject (an index range per partition).
pub(crate) async fn delete_subject(c: &impl GenericClient, subject: &Pseudonym) -> Result<u64> {
    execute(
        c,
        &format!("DELETE FROM blocks WHERE subject = $1 AND {LIVE}"),
        &[&subject.as_bytes().as_slice()],
        "delete subject records",
    )
    .await
}

/// Deletes every block a device sent.
pub(crate) async fn delete_device(c: &impl GenericClient, device: &DeviceId) -> Result<u64> {
    execute(
        c,
        &format!("DELETE FROM blocks WHERE device = $1 AND {LIVE}"),
        &[&device.as_str()],
        "delete device records",
    )
    .await
}

/// Blocks and events held by the blocks `filter` selects (one statement: one snapshot).
async fn sum_counts(
    c: &impl GenericClient,
    filter: &str,
    p: &[&(dyn ToSql + Sync)],
    op: &'static str,
) -> Result<(u64, u64)> {
    let row = query_one(
        c,
        &format!("SELECT count(*), coalesce(sum(n), 0)::bigint FROM blocks WHERE {LIVE}{filter}"),
        p,
        op,
    )
    .await?;
    Ok((count(col(&row, 0, op)?), count(col(&row, 1, op)?)))
}

/// Blocks and events in the store.
pub(crate) async fn counts(c: &impl GenericClient) -> Result<(u64, u64)> {
    sum_counts(c, "", &[], "count records").await
}

/// Blocks and events of one subject.
pub(crate) async fn subject_counts(
    c: &impl GenericClient,
    subject: &Pseudonym,
) -> Result<(u64, u64)> {
    sum_counts(
        c,
        " AND subject = $1",
        &[&subject.as_bytes().as_slice()],
        "count subject records",
    )
    .await
}

/// Distinct subjects with blocks, in pseudonym order.
pub(crate) async fn subjects(c: &impl GenericClient) -> Result<Vec<Pseudonym>> {
    let op = "list record subjects";
    query(
        c,
        &format!("SELECT DISTINCT subject FROM blocks WHERE {LIVE} ORDER BY subject"),
        &[],
        op,
    )
    .await?
    .iter()
    .map(|r| pseudonym(col(r, 0, op)?))
    .collect()
}
