//! Scanning record blocks: a stream from one snapshot, read a page at a time by a task that
//! holds a pooled connection until the scan ends.
//!
//! # Bounds
//!
//! A scan's reader usually calls the store again for each block it meets (the subject, its
//! consents), each call on another pooled connection. Were every pooled connection held by a
//! scan, those calls would wait for one another: 16 concurrent reads on a 16-connection pool
//! wait out the pool's timeout, and ingest stalls behind them. So at most
//! [`scan_slots`]`(pool_size)` scans hold a connection at once — half the pool — and the rest
//! wait for a slot, without a connection, as they would for one (same timeout). The slot is
//! held by the scan's task and freed when its connection goes back to the pool.
//!
//! A reader that stops reading without dropping the stream (a stalled HTTP client) must not
//! hold a snapshot — which holds back vacuum — and `blocks`' lock — which holds back dropping
//! an expired chunk's partition — for ever. The scan's transaction sets
//! `idle_in_transaction_session_timeout` and `statement_timeout` ([`SCAN_IDLE`]), and the task
//! itself gives up when its reader has taken nothing for as long. A scan given up, or one whose
//! task ended any other way before its last block, ends its stream with an error, never
//! quietly: the stream's last item is the end marker or an error.

use crate::chunks::{self, Chunk};
use crate::codec::{Pg, PgFailure, col, from_ts, pseudonym, record_id, ts, u32_of};
use deadpool_postgres::{Object, Pool, Transaction};
use futures::StreamExt;
use privet_manifest::Retention;
use privet_policy::{ChunkWindow, DeviceId};
use privet_store::{Block, BlockQuery, BlockStream, Error, Result};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot};
use tokio_postgres::types::ToSql;
use tokio_postgres::{IsolationLevel, Row};

const OP: &str = "scan blocks";

const COLUMNS: &str =
    "id, subject, stream, product, device, class, t_min, t_max, expires_max, n, payload";

/// Blocks buffered between the reading task and the consumer of a scan.
const SCAN_BUFFER: usize = 32;
/// Rows fetched from the server at a time.
const SCAN_PAGE: i32 = 128;
/// How long a scan may wait on its reader (idle in its transaction), and how long one of its
/// statements may run, before it is given up. Five minutes: far longer than any reader that
/// is still there takes to accept 32 blocks, or than a page of 128 rows takes to fetch (a
/// chunk's first page may sort the partition's matching rows), and short enough that vacuum
/// and the retention sweep's partition drops are not held back for long.
pub(crate) const SCAN_IDLE: Duration = Duration::from_secs(5 * 60);
/// How long a scan waits for a slot before failing: as long as for a pooled connection.
const SLOT_WAIT: Duration = crate::pool::WAIT_TIMEOUT;

/// How many scans may hold a connection at once on a pool of `pool_size`: half, at least one,
/// so the readers' own store calls always find a connection.
pub(crate) fn scan_slots(pool_size: usize) -> usize {
    (pool_size / 2).max(1)
}

/// The slots scans take, shared by every clone of a store.
pub(crate) fn slots(pool_size: usize) -> Arc<Semaphore> {
    Arc::new(Semaphore::new(scan_slots(pool_size)))
}

/// What the scan's task sends its consumer.
enum Item {
    Block(Block),
    Failed(Error),
    /// The last item of a scan that sent every block.
    End,
}

/// Streams the blocks matching `query`, chunk by chunk (oldest window first), from one
/// snapshot taken before this returns: a REPEATABLE READ transaction that a task holds on a
/// pooled connection while it fetches rows a page at a time, a few blocks ahead of the
/// consumer. The transaction ends with the scan: at the last block, at an error, when the
/// consumer drops the stream, or when it stops reading for [`SCAN_IDLE`].
pub(crate) async fn stream(
    pool: Pool,
    slots: Arc<Semaphore>,
    query: BlockQuery,
) -> Result<BlockStream> {
    let slot = match tokio::time::timeout(SLOT_WAIT, slots.acquire_owned()).await {
        Ok(Ok(slot)) => slot,
        Ok(Err(_)) => return Err(Error::Closed),
        Err(_) => {
            return Err(Error::backend(
                OP,
                PgFailure::msg("no scan slot became free in time (too many scans running)"),
            ));
        }
    };
    let (out, rx) = mpsc::channel(SCAN_BUFFER);
    let (ready, started) = oneshot::channel();
    tokio::spawn(async move {
        let sent = scan(&pool, &query, ready, &out).await;
        // The connection is back in the pool (or closed): the slot goes with it, before the
        // last item waits on the consumer.
        drop::<OwnedSemaphorePermit>(slot);
        let item = match sent {
            Ok(Sent::All) => Item::End,
            // The consumer went away, or stalled: nobody to tell (a stalled consumer sees the
            // stream end without its end marker).
            Ok(Sent::Abandoned) => return,
            Err(e) => Item::Failed(e),
        };
        let _ = tokio::time::timeout(SCAN_IDLE, out.send(item)).await;
    });
    match started.await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(e),
        // The task ended before taking its snapshot: its error is in the channel.
        Err(_) => {}
    }
    Ok(blocks(rx))
}

/// The consumer's side: blocks until the end marker; an error ends the stream, and so does a
/// channel closed without the marker (the task gave up or stopped), as an error.
fn blocks(rx: mpsc::Receiver<Item>) -> BlockStream {
    futures::stream::unfold(Some(rx), |rx| async move {
        let mut rx = rx?;
        match rx.recv().await {
            Some(Item::Block(b)) => Some((Ok(b), Some(rx))),
            Some(Item::Failed(e)) => Some((Err(e), None)),
            Some(Item::End) => None,
            None => Some((Err(ended_early()), None)),
        }
    })
    .boxed()
}

/// The error a stream ends with when its task stopped before the last block.
fn ended_early() -> Error {
    Error::backend(
        OP,
        PgFailure::msg(format!(
            "the scan ended before its last block (its reader took nothing for {} s, or the \
             scan's task stopped)",
            SCAN_IDLE.as_secs()
        )),
    )
}

/// How a scan's sending ended.
enum Sent {
    /// Every matching block was sent.
    All,
    /// The consumer dropped the stream, or took nothing for [`SCAN_IDLE`].
    Abandoned,
}

/// The scan task: takes the snapshot, says so through `ready`, then sends every block.
async fn scan(
    pool: &Pool,
    q: &BlockQuery,
    ready: oneshot::Sender<Result<()>>,
    out: &mpsc::Sender<Item>,
) -> Result<Sent> {
    let mut c = match crate::pool::conn(pool, OP).await {
        Ok(c) => c,
        Err(e) => {
            let _ = ready.send(Err(e));
            return Ok(Sent::Abandoned);
        }
    };
    let (tx, chunks) = match begin(&mut c).await {
        Ok(started) => started,
        Err(e) => {
            let _ = ready.send(Err(e));
            return Ok(Sent::Abandoned);
        }
    };
    let _ = ready.send(Ok(()));
    let sent = send_all(&tx, q, &chunks, out).await?;
    if let Sent::All = sent {
        tx.commit().await.pg(OP)?;
    }
    // Otherwise dropped here: the transaction rolls back.
    Ok(sent)
}

/// Starts the scan's snapshot, bounded by [`SCAN_IDLE`], and lists the chunks in it.
async fn begin(c: &mut Object) -> Result<(Transaction<'_>, Vec<Chunk>)> {
    let tx = c
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await
        .pg(OP)?;
    // SET LOCAL: for this transaction only; the pooled connection goes back unchanged. Neither
    // takes the snapshot (only a query does).
    let idle = format!("'{}s'", SCAN_IDLE.as_secs());
    tx.batch_execute(&format!(
        "SET LOCAL idle_in_transaction_session_timeout = {idle}; \
         SET LOCAL statement_timeout = {idle}"
    ))
    .await
    .pg(OP)?;
    // Before the snapshot is taken (by the first query): while the scan holds this lock no
    // chunk's partition can be dropped, so every chunk of the snapshot stays readable.
    tx.batch_execute("LOCK TABLE blocks IN ACCESS SHARE MODE")
        .await
        .pg(OP)?;
    let chunks = chunks::list(&tx).await?;
    Ok((tx, chunks))
}

/// Sends the matching blocks of every chunk, a page of rows at a time; stops early when the
/// consumer has gone or stalled.
async fn send_all(
    tx: &Transaction<'_>,
    q: &BlockQuery,
    chunks: &[Chunk],
    out: &mpsc::Sender<Item>,
) -> Result<Sent> {
    let (cond, vals) = filter(q);
    let sql = format!("SELECT {COLUMNS} FROM blocks WHERE chunk = $1{cond} ORDER BY t_min, id");
    let stmt = tx.prepare(&sql).await.pg(OP)?;
    for chunk in chunks {
        let mut params: Vec<&(dyn ToSql + Sync)> = Vec::with_capacity(vals.len() + 1);
        params.push(&chunk.id);
        params.extend(vals.iter().map(|v| &**v as &(dyn ToSql + Sync)));
        let portal = tx.bind(&stmt, &params).await.pg(OP)?;
        loop {
            let rows = tx.query_portal(&portal, SCAN_PAGE).await.pg(OP)?;
            for r in &rows {
                let block = Item::Block(decode(r, chunk.window)?);
                match tokio::time::timeout(SCAN_IDLE, out.send(block)).await {
                    Ok(Ok(())) => {}
                    Ok(Err(_)) | Err(_) => return Ok(Sent::Abandoned),
                }
            }
            if rows.len() < SCAN_PAGE as usize {
                break;
            }
        }
    }
    Ok(Sent::All)
}

fn decode(r: &Row, window: ChunkWindow) -> Result<Block> {
    let op = "read block";
    let class: &str = col(r, 5, op)?;
    Ok(Block {
        id: record_id(col(r, 0, op)?)?,
        subject: pseudonym(col(r, 1, op)?)?,
        stream: col(r, 2, op)?,
        product: col(r, 3, op)?,
        device: DeviceId::new(col::<String>(r, 4, op)?),
        retention: Retention::parse(class).map_err(|_| Error::Corrupt {
            what: "retention class",
        })?,
        window,
        t_min: from_ts(col(r, 6, op)?)?,
        t_max: from_ts(col(r, 7, op)?)?,
        expires_max: from_ts(col(r, 8, op)?)?,
        count: u32_of(col(r, 9, op)?, "block event count")?,
        payload: col(r, 10, op)?,
    })
}

/// The filter of a query, as SQL conditions after `chunk = $1` and their parameters.
fn filter(q: &BlockQuery) -> (String, Vec<Box<dyn ToSql + Sync + Send>>) {
    let mut sql = String::new();
    let mut vals: Vec<Box<dyn ToSql + Sync + Send>> = Vec::new();
    let cond = |sql: &mut String, c: &str, n: usize| {
        sql.push_str(&format!(" AND {c} ${}", n + 2));
    };
    if let Some(s) = &q.subject {
        cond(&mut sql, "subject =", vals.len());
        vals.push(Box::new(s.as_bytes().to_vec()));
    }
    if !q.streams.is_empty() {
        sql.push_str(&format!(" AND stream = ANY(${})", vals.len() + 2));
        vals.push(Box::new(q.streams.clone()));
    }
    if let Some(p) = &q.product {
        cond(&mut sql, "product =", vals.len());
        vals.push(Box::new(p.clone()));
    }
    if let Some(d) = &q.device {
        cond(&mut sql, "device =", vals.len());
        vals.push(Box::new(d.as_str().to_owned()));
    }
    if let Some(t) = q.since {
        cond(&mut sql, "t_max >=", vals.len());
        vals.push(Box::new(ts(t)));
    }
    if let Some(t) = q.until {
        cond(&mut sql, "t_min <=", vals.len());
        vals.push(Box::new(ts(t)));
    }
    (sql, vals)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scans_take_at_most_half_the_pool_and_always_one() {
        assert_eq!(scan_slots(16), 8);
        assert_eq!(scan_slots(8), 4);
        assert_eq!(scan_slots(3), 1);
        assert_eq!(scan_slots(1), 1);
        assert_eq!(scan_slots(0), 1);
    }

    /// What the consumer sees after the task sent `items` and went away.
    async fn seen(items: Vec<Item>) -> Vec<std::result::Result<(), String>> {
        let (tx, rx) = mpsc::channel(4);
        for item in items {
            let _ = tx.send(item).await;
        }
        drop(tx);
        blocks(rx)
            .map(|r| r.map(|_| ()).map_err(|e| e.to_string()))
            .collect()
            .await
    }

    #[tokio::test]
    async fn a_scan_ends_at_its_end_marker_and_never_quietly_otherwise() {
        assert_eq!(seen(vec![Item::End]).await, []);
        let given_up = seen(vec![]).await;
        assert!(matches!(&given_up[..], [Err(_)]), "{given_up:?}");
        let failed = seen(vec![
            Item::Failed(Error::Corrupt { what: "block" }),
            Item::End,
        ])
        .await;
        assert_eq!(failed.len(), 1, "an error ends the stream: {failed:?}");
        assert!(failed[0].is_err());
    }
}
