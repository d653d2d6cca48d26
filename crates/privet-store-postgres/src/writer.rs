//! Group commit for record blocks: one task per store gathers the `append_blocks` calls that
//! arrive while it is busy and writes them in one transaction — every block by one binary
//! `COPY` into `blocks` (PostgreSQL routes each row to its chunk's partition), the devices'
//! "seen" updates in one statement — and answers each caller only after the commit. If a
//! group fails, its calls are written again one by one, so one bad call fails alone.
//!
//! The transaction first locks the rows of the chunks it writes to (`FOR KEY SHARE`): a chunk
//! another instance dropped since it was cached is found missing and created again, and a
//! chunk being dropped waits for the commit, so no acknowledged block lands in a chunk that is
//! already gone.

use crate::chunks::ChunkCache;
use crate::codec::{Pg, col};
use crate::devices;
use deadpool_postgres::{Object, Pool};
use privet_store::{DeviceSeen, Error, NewBlock, Result};
use tokio::sync::{mpsc, oneshot};
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::Type;

/// Calls queued for the writer before callers wait for room.
const QUEUE: usize = 1024;
/// Blocks written in one transaction at most (a group may exceed it by its last call).
const GROUP_BLOCKS: usize = 20_000;
/// Times a group re-resolves its chunks when they keep disappearing under it.
const CHUNK_RETRIES: usize = 3;

const COPY: &str = "COPY blocks (chunk, id, subject, stream, product, device, class, t_min, \
    t_max, expires_max, n, payload) FROM STDIN (FORMAT binary)";

const COPY_TYPES: [Type; 12] = [
    Type::INT8,
    Type::BYTEA,
    Type::BYTEA,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::INT8,
    Type::INT8,
    Type::INT8,
    Type::INT8,
    Type::BYTEA,
];

/// One `append_blocks` call.
struct Append {
    blocks: Vec<NewBlock>,
    seen: Option<DeviceSeen>,
    reply: oneshot::Sender<Result<()>>,
}

/// The handle callers append through; the task stops when the last handle is dropped.
#[derive(Clone)]
pub(crate) struct Writer {
    queue: mpsc::Sender<Append>,
}

impl Writer {
    /// Starts the writer task for the data schema `schema`.
    pub(crate) fn start(pool: Pool, schema: String) -> Writer {
        let (queue, rx) = mpsc::channel(QUEUE);
        tokio::spawn(run(pool, schema, rx));
        Writer { queue }
    }

    /// Appends blocks and records the device seen; resolves once committed.
    pub(crate) async fn append(
        &self,
        blocks: Vec<NewBlock>,
        seen: Option<DeviceSeen>,
    ) -> Result<()> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Append {
                blocks,
                seen,
                reply,
            })
            .await
            .map_err(|_| Error::Closed)?;
        answer.await.map_err(|_| Error::Closed)?
    }
}

/// The writer task: takes what is queued, up to [`GROUP_BLOCKS`] blocks, writes it as one
/// group, answers, and again, until every handle is dropped.
async fn run(pool: Pool, schema: String, mut rx: mpsc::Receiver<Append>) {
    let mut cache = ChunkCache::default();
    while let Some(first) = rx.recv().await {
        let mut size = first.blocks.len();
        let mut group = vec![first];
        while size < GROUP_BLOCKS {
            match rx.try_recv() {
                Ok(next) => {
                    size += next.blocks.len();
                    group.push(next);
                }
                Err(_) => break,
            }
        }
        let calls: Vec<&Append> = group.iter().collect();
        let result = write(&pool, &schema, &mut cache, &calls).await;
        if result.is_err() {
            // What was cached may have been seen in a transaction that rolled back.
            cache.clear();
        }
        match result {
            Ok(()) => {
                for call in group {
                    let _ = call.reply.send(Ok(()));
                }
            }
            Err(e) if group.len() == 1 => {
                if let Some(call) = group.pop() {
                    let _ = call.reply.send(Err(e));
                }
            }
            Err(_) => {
                // One call at a time, so the one that failed the group fails alone.
                for call in group {
                    let result = write(&pool, &schema, &mut cache, &[&call]).await;
                    if result.is_err() {
                        cache.clear();
                    }
                    let _ = call.reply.send(result);
                }
            }
        }
    }
}

/// Writes `calls` in one transaction.
async fn write(pool: &Pool, schema: &str, cache: &mut ChunkCache, calls: &[&Append]) -> Result<()> {
    let op = "append blocks";
    let mut c = crate::pool::conn(pool, op).await?;
    for _ in 0..CHUNK_RETRIES {
        let mut chunk_of = Vec::new();
        for call in calls {
            for b in &call.blocks {
                chunk_of.push(cache.chunk_for(&mut c, schema, &b.window).await?);
            }
        }
        if commit(&mut c, calls, &chunk_of, cache).await? {
            return Ok(());
        }
    }
    Err(Error::backend(
        op,
        crate::codec::PgFailure::msg("the chunks kept being dropped while blocks were written"),
    ))
}

/// The transaction of one group; `false` if a chunk it would write to is gone (nothing is
/// written then, and the cache forgets the chunks that are gone).
async fn commit(
    c: &mut Object,
    calls: &[&Append],
    chunk_of: &[i64],
    cache: &mut ChunkCache,
) -> Result<bool> {
    let op = "append blocks";
    let tx = c.transaction().await.pg(op)?;
    let mut wanted = chunk_of.to_vec();
    wanted.sort_unstable();
    wanted.dedup();
    if !wanted.is_empty() {
        let live: Vec<i64> = crate::pool::query(
            &tx,
            "SELECT id FROM chunks WHERE id = ANY($1) ORDER BY id FOR KEY SHARE",
            &[&wanted],
            op,
        )
        .await?
        .iter()
        .map(|r| col(r, 0, op))
        .collect::<Result<_>>()?;
        if live.len() != wanted.len() {
            cache.keep_only(&live);
            // Rolled back when dropped.
            return Ok(false);
        }
        let sink = tx.copy_in(COPY).await.pg(op)?;
        let writer = BinaryCopyInWriter::new(sink, &COPY_TYPES);
        futures::pin_mut!(writer);
        let blocks = calls.iter().flat_map(|call| call.blocks.iter());
        for (b, chunk) in blocks.zip(chunk_of) {
            writer
                .as_mut()
                .write(&[
                    chunk,
                    &b.id.as_slice(),
                    &b.subject.as_bytes().as_slice(),
                    &b.stream,
                    &b.product,
                    &b.device.as_str(),
                    &b.retention.to_string(),
                    &b.t_min.as_microsecond(),
                    &b.t_max.as_microsecond(),
                    &b.expires_max.as_microsecond(),
                    &i64::from(b.count),
                    &b.payload,
                ])
                .await
                .pg(op)?;
        }
        writer.finish().await.pg(op)?;
    }
    let seen: Vec<&DeviceSeen> = calls.iter().filter_map(|call| call.seen.as_ref()).collect();
    if !seen.is_empty() {
        devices::touch_many(&tx, &seen).await?;
    }
    tx.commit().await.pg(op)?;
    Ok(true)
}
