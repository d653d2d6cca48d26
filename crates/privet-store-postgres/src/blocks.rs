//! Record blocks inside their chunks' partitions: scanning, rewriting, deleting and counting.
//! Appending is the writer's ([`crate::writer`]).
//!
//! Only blocks of chunks listed in `chunks` exist for these functions (see [`crate::chunks`]):
//! a dropped chunk whose partition is still waiting to be dropped is neither read, counted
//! nor changed.

use crate::chunks::{self, Chunk};
use crate::codec::{Pg, col, count, from_ts, pseudonym, record_id, ts, u32_of};
use crate::pool::{execute, query, query_one};
use deadpool_postgres::{GenericClient, Object, Pool, Transaction};
use futures::StreamExt;
use privet_crypto::Pseudonym;
use privet_manifest::Retention;
use privet_policy::{ChunkWindow, DeviceId};
use privet_store::{Block, BlockQuery, BlockStream, Error, Result};
use tokio::sync::{mpsc, oneshot};
use tokio_postgres::types::ToSql;
use tokio_postgres::{IsolationLevel, Row};

/// Blocks in a live chunk.
const LIVE: &str = "chunk IN (SELECT id FROM chunks)";

const COLUMNS: &str =
    "id, subject, stream, product, device, class, t_min, t_max, expires_max, n, payload";

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

/// Blocks buffered between the reading task and the consumer of a scan.
const SCAN_BUFFER: usize = 32;
/// Rows fetched from the server at a time.
const SCAN_PAGE: i32 = 128;

/// Streams the blocks matching `query`, chunk by chunk (oldest window first), from one
/// snapshot taken before this returns: a REPEATABLE READ transaction that a task holds on a
/// pooled connection while it fetches rows a page at a time, a few blocks ahead of the
/// consumer. The transaction ends with the scan: at the last block, at an error, or when the
/// consumer drops the stream.
pub(crate) async fn stream(pool: Pool, query: BlockQuery) -> Result<BlockStream> {
    let (out, rx) = mpsc::channel(SCAN_BUFFER);
    let (ready, started) = oneshot::channel();
    tokio::spawn(async move {
        if let Err(e) = scan(&pool, &query, ready, &out).await {
            // Nobody listening any more is fine: the consumer went away.
            let _ = out.send(Err(e)).await;
        }
    });
    match started.await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(e),
        // The task ended before taking its snapshot: its error is in the channel.
        Err(_) => {}
    }
    Ok(
        futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|b| (b, rx)) })
            .boxed(),
    )
}

/// The scan task: takes the snapshot, says so through `ready`, then sends every block.
async fn scan(
    pool: &Pool,
    q: &BlockQuery,
    ready: oneshot::Sender<Result<()>>,
    out: &mpsc::Sender<Result<Block>>,
) -> Result<()> {
    let mut c = match crate::pool::conn(pool, "scan blocks").await {
        Ok(c) => c,
        Err(e) => {
            let _ = ready.send(Err(e));
            return Ok(());
        }
    };
    let (tx, chunks) = match begin(&mut c).await {
        Ok(started) => started,
        Err(e) => {
            let _ = ready.send(Err(e));
            return Ok(());
        }
    };
    let _ = ready.send(Ok(()));
    send_all(&tx, q, &chunks, out).await?;
    // Dropped early (the consumer went away, or an error), the transaction rolls back.
    tx.commit().await.pg("scan blocks")
}

/// Starts the scan's snapshot and lists the chunks in it.
async fn begin(c: &mut Object) -> Result<(Transaction<'_>, Vec<Chunk>)> {
    let op = "scan blocks";
    let tx = c
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await
        .pg(op)?;
    // Before the snapshot is taken (by the first query): while the scan holds this lock no
    // chunk's partition can be dropped, so every chunk of the snapshot stays readable.
    tx.batch_execute("LOCK TABLE blocks IN ACCESS SHARE MODE")
        .await
        .pg(op)?;
    let chunks = chunks::list(&tx).await?;
    Ok((tx, chunks))
}

/// Sends the matching blocks of every chunk, a page of rows at a time; stops early when the
/// consumer has gone.
async fn send_all(
    tx: &Transaction<'_>,
    q: &BlockQuery,
    chunks: &[Chunk],
    out: &mpsc::Sender<Result<Block>>,
) -> Result<()> {
    let op = "scan blocks";
    let (cond, vals) = filter(q);
    let sql = format!("SELECT {COLUMNS} FROM blocks WHERE chunk = $1{cond} ORDER BY t_min, id");
    let stmt = tx.prepare(&sql).await.pg(op)?;
    for chunk in chunks {
        let mut params: Vec<&(dyn ToSql + Sync)> = Vec::with_capacity(vals.len() + 1);
        params.push(&chunk.id);
        params.extend(vals.iter().map(|v| &**v as &(dyn ToSql + Sync)));
        let portal = tx.bind(&stmt, &params).await.pg(op)?;
        loop {
            let rows = tx.query_portal(&portal, SCAN_PAGE).await.pg(op)?;
            for r in &rows {
                if out.send(Ok(decode(r, chunk.window)?)).await.is_err() {
                    return Ok(());
                }
            }
            if rows.len() < SCAN_PAGE as usize {
                break;
            }
        }
    }
    Ok(())
}

/// Replaces a block's payload and count.
pub(crate) async fn rewrite(
    c: &impl GenericClient,
    id: [u8; 16],
    payload: &[u8],
    n: u32,
) -> Result<()> {
    let changed = execute(
        c,
        &format!("UPDATE blocks SET payload = $2, n = $3 WHERE id = $1 AND {LIVE}"),
        &[&id.as_slice(), &payload, &i64::from(n)],
        "rewrite block",
    )
    .await?;
    if changed == 0 {
        return Err(Error::not_found("record", "(block)"));
    }
    Ok(())
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
