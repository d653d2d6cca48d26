//! Retention chunks: a row in `chunks` per retention class and window, and a partition
//! `blocks_<id>` of `blocks` holding its records, so an expired chunk is dropped whole and
//! retention costs O(chunks), not O(rows). Which window a block belongs in and when a chunk
//! has expired are `privet_policy`'s to decide; this module only stores and drops.
//!
//! A chunk exists while its row does: every read and delete of blocks looks only at chunks
//! listed in `chunks`. Dropping deletes the row (the blocks are gone for every reader at that
//! commit) and then drops the partition. Dropping a partition needs an exclusive lock on
//! `blocks`, which a running scan's snapshot holds off; rather than wait for the scan, the
//! drop gives up after [`DROP_LOCK_TIMEOUT`] and the partition, listed nowhere, is dropped by a
//! later [`drop`] or [`reap`] (the next retention sweep).
//!
//! Partitions are created with `CREATE TABLE … (LIKE blocks)` and `ATTACH PARTITION`, which
//! take a lock on `blocks` that neither scans nor ingest conflict with (`CREATE TABLE …
//! PARTITION OF` would wait for every running scan). Instances creating the same chunk at once
//! are serialised by an advisory lock, so one creates it and the other finds it.

use crate::codec::{Pg, col, count, from_ts, ts};
use crate::locks;
use crate::pool::{execute, query, query_one, query_opt};
use deadpool_postgres::{GenericClient, Object};
use privet_manifest::Retention;
use privet_policy::{ChunkId, ChunkInfo, ChunkWindow};
use privet_store::{Error, Result, RetentionReport};
use std::collections::HashMap;
use tokio_postgres::error::SqlState;

/// How long dropping a partition waits for the lock on `blocks` before leaving it for later.
const DROP_LOCK_TIMEOUT: &str = "250ms";

/// A chunk as listed in `chunks`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Chunk {
    /// Its row id, which names its partition.
    pub(crate) id: i64,
    /// Its class and window, as stored.
    pub(crate) window: ChunkWindow,
}

/// The partition holding a chunk's blocks.
pub(crate) fn partition(id: i64) -> String {
    format!("blocks_{id}")
}

/// The window of a `chunks` row.
fn window(class: &str, start: i64, end: i64) -> Result<ChunkWindow> {
    Ok(ChunkWindow {
        class: Retention::parse(class).map_err(|_| Error::Corrupt {
            what: "retention class",
        })?,
        start: from_ts(start)?,
        end: from_ts(end)?,
    })
}

/// Every chunk, oldest window first.
pub(crate) async fn list(c: &impl GenericClient) -> Result<Vec<Chunk>> {
    let op = "list chunks";
    query(
        c,
        "SELECT id, class, window_start, window_end FROM chunks ORDER BY window_start, id",
        &[],
        op,
    )
    .await?
    .iter()
    .map(|r| {
        Ok(Chunk {
            id: col(r, 0, op)?,
            window: window(col(r, 1, op)?, col(r, 2, op)?, col(r, 3, op)?)?,
        })
    })
    .collect()
}

/// Every chunk as the policy sees it.
pub(crate) async fn infos(c: &impl GenericClient) -> Result<Vec<ChunkInfo>> {
    Ok(list(c)
        .await?
        .into_iter()
        .map(|ch| ChunkInfo {
            id: ChunkId(ch.id),
            window: ch.window,
        })
        .collect())
}

/// The chunk of `window`, if it exists.
async fn find(c: &impl GenericClient, w: &ChunkWindow) -> Result<Option<i64>> {
    query_opt(
        c,
        "SELECT id FROM chunks WHERE class = $1 AND window_start = $2",
        &[&w.class.to_string(), &ts(w.start)],
        "find chunk",
    )
    .await?
    .map(|r| col(&r, 0, "find chunk"))
    .transpose()
}

/// The writer's memory of which chunk holds each (class, window start), so appending a block
/// does not look its chunk up each time. An entry may outlive its chunk (another instance
/// dropped it); the writer checks the chunks it writes to in its transaction and forgets
/// those that are gone.
#[derive(Debug, Default)]
pub(crate) struct ChunkCache {
    ids: HashMap<(Retention, i64), i64>,
}

impl ChunkCache {
    /// Forgets every chunk.
    pub(crate) fn clear(&mut self) {
        self.ids.clear();
    }

    /// Forgets the chunks whose ids are not in `live`.
    pub(crate) fn keep_only(&mut self, live: &[i64]) {
        self.ids.retain(|_, id| live.contains(id));
    }

    /// The id of the chunk for `window`, created (row and partition) if it does not exist.
    /// Runs outside the writer's transaction: a new chunk is committed at once, whatever
    /// becomes of the blocks that asked for it.
    pub(crate) async fn chunk_for(
        &mut self,
        c: &mut Object,
        schema: &str,
        w: &ChunkWindow,
    ) -> Result<i64> {
        let key = (w.class, ts(w.start));
        if let Some(&id) = self.ids.get(&key) {
            return Ok(id);
        }
        let id = match find(&*c, w).await? {
            Some(id) => id,
            None => create(c, schema, w).await?,
        };
        self.ids.insert(key, id);
        Ok(id)
    }
}

/// Creates the chunk of `window` and its partition, unless another instance just did.
async fn create(c: &mut Object, schema: &str, w: &ChunkWindow) -> Result<i64> {
    let op = "create chunk";
    let tx = c.transaction().await.pg(op)?;
    execute(&tx, locks::XACT_LOCK, &[&locks::CHUNK, &schema], op).await?;
    if let Some(id) = find(&tx, w).await? {
        tx.commit().await.pg(op)?;
        return Ok(id);
    }
    let row = query_one(
        &tx,
        "INSERT INTO chunks (class, window_start, window_end) VALUES ($1, $2, $3) RETURNING id",
        &[&w.class.to_string(), &ts(w.start), &ts(w.end)],
        op,
    )
    .await?;
    let id: i64 = col(&row, 0, op)?;
    let t = partition(id);
    tx.batch_execute(&format!(
        "CREATE TABLE {t} (LIKE blocks);
         ALTER TABLE {t} ADD CONSTRAINT {t}_chunk CHECK (chunk = {id});
         ALTER TABLE blocks ATTACH PARTITION {t} FOR VALUES IN ({id});"
    ))
    .await
    .pg("create chunk partition")?;
    tx.commit().await.pg(op)?;
    Ok(id)
}

/// Drops these chunks (those that still exist) and counts what they held: their rows go in
/// one transaction, then their partitions (see the module's note on locks).
pub(crate) async fn drop(c: &mut Object, ids: &[ChunkId]) -> Result<RetentionReport> {
    let op = "drop chunks";
    let mut report = RetentionReport::default();
    // In id order, as the writer locks the chunks it writes to, so the two never deadlock.
    let mut ids: Vec<i64> = ids.iter().map(|&ChunkId(id)| id).collect();
    ids.sort_unstable();
    ids.dedup();
    let tx = c.transaction().await.pg(op)?;
    for id in ids {
        // Waits for a writer holding the chunk (it locks the rows of the chunks it writes
        // to), so the count below includes what that writer committed.
        let gone = execute(&tx, "DELETE FROM chunks WHERE id = $1", &[&id], op).await?;
        if gone == 0 {
            continue;
        }
        let held = query_one(
            &tx,
            "SELECT count(*), coalesce(sum(n), 0)::bigint FROM blocks WHERE chunk = $1",
            &[&id],
            "count chunk",
        )
        .await?;
        report.chunks_dropped += 1;
        report.blocks_dropped += count(col(&held, 0, "count chunk")?);
        report.events_dropped += count(col(&held, 1, "count chunk")?);
    }
    tx.commit().await.pg(op)?;
    // The chunks are gone for every reader; their partitions may wait for the next sweep.
    if let Err(e) = reap(c).await {
        tracing::warn!(error = %e, "dropping chunk partitions failed; retried at the next sweep");
    }
    Ok(report)
}

/// Drops every partition whose chunk is gone (left by a drop that could not get its lock),
/// each in its own short transaction; one still held off is left for the next call. Returns
/// how many are left.
pub(crate) async fn reap(c: &mut Object) -> Result<usize> {
    let op = "drop chunk partitions";
    let orphans: Vec<String> = query(
        &*c,
        "SELECT p.relname::text FROM pg_inherits i
         JOIN pg_class p ON p.oid = i.inhrelid
         WHERE i.inhparent = 'blocks'::regclass
           AND NOT EXISTS (
               SELECT 1 FROM chunks WHERE 'blocks_' || chunks.id::text = p.relname::text
           )
         ORDER BY p.relname",
        &[],
        op,
    )
    .await?
    .iter()
    .map(|r| col(r, 0, op))
    .collect::<Result<_>>()?;
    let mut left = 0;
    for t in orphans {
        let tx = c.transaction().await.pg(op)?;
        let dropped = tx
            .batch_execute(&format!(
                "SET LOCAL lock_timeout = '{DROP_LOCK_TIMEOUT}'; DROP TABLE IF EXISTS {t};"
            ))
            .await;
        match dropped {
            Ok(()) => tx.commit().await.pg(op)?,
            Err(e) if e.code() == Some(&SqlState::LOCK_NOT_AVAILABLE) => {
                tracing::debug!(partition = %t, "a scan holds the records; dropped later");
                left += 1;
            }
            Err(e) => return Err(e).pg(op),
        }
    }
    Ok(left)
}
