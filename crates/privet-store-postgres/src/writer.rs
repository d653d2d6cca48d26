//! Group commit for record blocks: one task per store gathers the `append_blocks` calls that
//! arrive while it is busy and writes them in one transaction — every block by one binary
//! `COPY` into `blocks` (PostgreSQL routes each row to its chunk's partition), the devices'
//! "seen" updates in one statement — and answers each caller only after the commit. If a
//! group fails, its calls whose blocks are stored nonetheless (the answer to its `COMMIT` was
//! lost) are answered as stored, and the others are written again one by one, so one bad call
//! fails alone.
//!
//! The transaction first locks the rows of the chunks it writes to (`FOR KEY SHARE`): a chunk
//! another instance dropped since it was cached is found missing and created again, and a
//! chunk being dropped waits for the commit, so no acknowledged block lands in a chunk that is
//! already gone. It then checks, under row locks held to the commit, that each call's deliveries
//! are not recorded yet, and that its household is still at the version the call was admitted
//! under and its device still attached ([`admit`]): a duplicate, or a call admitted under
//! permissions another instance has changed since, fails alone, and the change's purge, which
//! runs after its commit, finds every block that did commit. The deliveries of the calls that
//! pass are recorded in the same transaction.

use crate::chunks::ChunkCache;
use crate::codec::{Pg, col};
use crate::devices::{self, Attachment};
use crate::subjects;
use deadpool_postgres::{Object, Pool, Transaction};
use privet_store::{DeliveryId, DeviceSeen, Error, NewBlock, Result};
use std::collections::{BTreeMap, BTreeSet};
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

/// What each call of a group is answered.
type Verdicts = Vec<Result<()>>;

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
        let e = match result {
            Ok(verdicts) => {
                for (call, verdict) in group.into_iter().zip(verdicts) {
                    let _ = call.reply.send(verdict);
                }
                continue;
            }
            Err(e) => e,
        };
        // The group failed, or only the answer to its COMMIT was lost: calls whose blocks are
        // stored are answered so, and the others are written again alone (or fail, alone). If
        // that cannot be told (the server is unreachable), every call fails as the group did:
        // writing again blind could store a committed batch a second time under a 200.
        let stored = match stored_calls(&pool, &calls).await {
            Ok(stored) => stored,
            Err(unknown) => {
                tracing::warn!(error = %unknown, "a failed group's outcome cannot be checked; its calls fail");
                let reason = e.to_string();
                for call in group {
                    let _ = call.reply.send(Err(privet_store::Error::backend(
                        "append blocks",
                        reason.clone(),
                    )));
                }
                continue;
            }
        };
        let stored = |i: usize| stored.get(i).copied().unwrap_or(false);
        if group.len() == 1 {
            if let Some(call) = group.pop() {
                let _ = call.reply.send(if stored(0) { Ok(()) } else { Err(e) });
            }
            continue;
        }
        // One call at a time, so the one that failed the group fails alone.
        for (i, call) in group.into_iter().enumerate() {
            let verdict = if stored(i) {
                Ok(())
            } else {
                let result = write(&pool, &schema, &mut cache, &[&call]).await;
                if result.is_err() {
                    cache.clear();
                }
                result.and_then(|v| v.into_iter().next().unwrap_or(Ok(())))
            };
            let _ = call.reply.send(verdict);
        }
    }
}

/// Writes `calls` in one transaction; answers each call (one whose household changed since
/// it was admitted fails alone, see [`admit`]), or fails as a whole.
async fn write(
    pool: &Pool,
    schema: &str,
    cache: &mut ChunkCache,
    calls: &[&Append],
) -> Result<Verdicts> {
    let op = "append blocks";
    let mut c = crate::pool::conn(pool, op).await?;
    for _ in 0..CHUNK_RETRIES {
        let mut chunk_of = Vec::new();
        for call in calls {
            for b in &call.blocks {
                chunk_of.push(cache.chunk_for(&mut c, schema, &b.window).await?);
            }
        }
        if let Some(verdicts) = commit(&mut c, calls, &chunk_of, cache).await? {
            return Ok(verdicts);
        }
    }
    Err(Error::backend(
        op,
        crate::codec::PgFailure::msg("the chunks kept being dropped while blocks were written"),
    ))
}

/// After a group failed, which of its calls' blocks are stored nonetheless, and so answered
/// as stored. The group did commit, but the answer to its `COMMIT` was lost (the connection
/// dropped after the server committed): written again, its blocks would break the unique
/// index on `(id, chunk)` and every call would fail although stored, and checked again a
/// household changed meanwhile would refuse a call whose blocks are in fact stored — either
/// way the device sends its events again and they are stored twice. Record ids are 128
/// random bits and payloads are sealed with random nonces, so a stored block with the id and
/// the payload of one of a call's is that very block, and the rest of the call (its other
/// blocks, its device seen) committed in the same transaction. (A call that sends a stored
/// block again, byte for byte, is answered the same way: what it asks for is stored.) A call
/// without blocks is written again; if its delivery did commit, it is answered as the
/// duplicate it now is, which tells its sender the same: the message is stored.
async fn stored_calls(pool: &Pool, calls: &[&Append]) -> Result<Vec<bool>> {
    let op = "append blocks";
    let ids: Vec<&[u8]> = calls
        .iter()
        .flat_map(|call| call.blocks.iter().map(|b| b.id.as_slice()))
        .collect();
    if ids.is_empty() {
        return Ok(vec![false; calls.len()]);
    }
    let c = crate::pool::conn(pool, op).await?;
    let rows = crate::pool::query(
        &c,
        "SELECT id, payload FROM blocks WHERE id = ANY($1)",
        &[&ids],
        op,
    )
    .await?;
    let mut found: BTreeSet<(&[u8], &[u8])> = BTreeSet::new();
    for r in &rows {
        found.insert((col(r, 0, op)?, col(r, 1, op)?));
    }
    Ok(calls
        .iter()
        .map(|call| {
            call.blocks
                .iter()
                .any(|b| found.contains(&(b.id.as_slice(), b.payload.as_slice())))
        })
        .collect())
}

/// The transaction of one group: each call's verdict, or `None` if a chunk it would write to
/// is gone (nothing is written then, and the cache forgets the chunks that are gone).
async fn commit(
    c: &mut Object,
    calls: &[&Append],
    chunk_of: &[i64],
    cache: &mut ChunkCache,
) -> Result<Option<Verdicts>> {
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
            return Ok(None);
        }
    }
    let verdicts = admit(&tx, calls).await?;
    let admitted = || {
        calls
            .iter()
            .zip(&verdicts)
            .filter(|(_, v)| v.is_ok())
            .map(|(call, _)| *call)
    };
    if admitted().any(|call| !call.blocks.is_empty()) {
        let sink = tx.copy_in(COPY).await.pg(op)?;
        let writer = BinaryCopyInWriter::new(sink, &COPY_TYPES);
        futures::pin_mut!(writer);
        let mut chunks = chunk_of.iter();
        for (call, verdict) in calls.iter().zip(&verdicts) {
            for (b, chunk) in call.blocks.iter().zip(chunks.by_ref()) {
                if verdict.is_err() {
                    continue;
                }
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
        }
        writer.finish().await.pg(op)?;
    }
    let seen: Vec<&DeviceSeen> = admitted().filter_map(|call| call.seen.as_ref()).collect();
    if !seen.is_empty() {
        record_deliveries(&tx, &seen).await?;
        devices::touch_many(&tx, &seen).await?;
    }
    tx.commit().await.pg(op)?;
    Ok(Some(verdicts))
}

/// Records the deliveries of the calls [`admit`] let through. A plain insert: their devices'
/// rows are locked, so no other writer records one of these meanwhile; if one did, the unique
/// key fails the group and its calls are written again one by one, each checked again.
async fn record_deliveries(tx: &Transaction<'_>, seen: &[&DeviceSeen]) -> Result<()> {
    let with: Vec<(&DeviceSeen, &DeliveryId)> = seen
        .iter()
        .flat_map(|s| s.deliveries.iter().map(move |d| (*s, d)))
        .collect();
    if with.is_empty() {
        return Ok(());
    }
    let devices: Vec<&str> = with.iter().map(|(s, _)| s.device.as_str()).collect();
    let fingerprints: Vec<&[u8]> = with.iter().map(|(_, d)| d.0.as_slice()).collect();
    let ats: Vec<i64> = with.iter().map(|(s, _)| s.at.as_microsecond()).collect();
    crate::pool::execute(
        tx,
        "INSERT INTO deliveries (device, fingerprint, at)
         SELECT * FROM unnest($1::text[], $2::bytea[], $3::int8[])",
        &[&devices, &fingerprints, &ats],
        "record deliveries",
    )
    .await?;
    Ok(())
}

/// The deliveries among `seen` that their devices have recorded. Run it after the devices'
/// rows are locked: in this transaction's isolation (read committed) the statement then sees
/// every delivery another writer of theirs committed, and none can commit before this one.
async fn recorded_deliveries(
    tx: &Transaction<'_>,
    seen: &[&DeviceSeen],
) -> Result<BTreeSet<(String, Vec<u8>)>> {
    let op = "check deliveries";
    let (devices, fingerprints): (Vec<&str>, Vec<&[u8]>) = seen
        .iter()
        .flat_map(|s| {
            s.deliveries
                .iter()
                .map(|d| (s.device.as_str(), d.0.as_slice()))
        })
        .unzip();
    if devices.is_empty() {
        return Ok(BTreeSet::new());
    }
    crate::pool::query(
        tx,
        "SELECT d.device, d.fingerprint FROM deliveries d
         JOIN unnest($1::text[], $2::bytea[]) AS w(device, fingerprint)
           ON d.device = w.device AND d.fingerprint = w.fingerprint",
        &[&devices, &fingerprints],
        op,
    )
    .await?
    .iter()
    .map(|r| Ok((col(r, 0, op)?, col(r, 1, op)?)))
    .collect()
}

/// Which calls may commit, decided inside the group's transaction. The rows of the
/// households calls were admitted under are locked `FOR SHARE` (a version bump, an `UPDATE`,
/// waits for this commit; a bump in progress is waited for and its version read), then the
/// devices' rows `FOR UPDATE`, each set in id order (the lock order every change follows:
/// household, then devices). A call fails alone, writing nothing: `NotFound` if its device
/// does not exist; `Conflict` on `delivery` if its device has one of its deliveries recorded (or an
/// earlier call of the group that passes records it); on `household` if its household's
/// version is not the one it was admitted under (or the household is gone), on `device` if
/// its device left the household or was revoked.
async fn admit(tx: &Transaction<'_>, calls: &[&Append]) -> Result<Verdicts> {
    let seen = || calls.iter().filter_map(|call| call.seen.as_ref());
    // Sorted and unique: the order the rows are locked in.
    let households: Vec<&str> = seen()
        .filter_map(|s| s.admitted_under.as_ref())
        .map(|u| u.household.as_str())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let devices: Vec<&str> = seen()
        .map(|s| s.device.as_str())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let versions = if households.is_empty() {
        BTreeMap::new()
    } else {
        subjects::versions_for_share(tx, &households).await?
    };
    let attached = if devices.is_empty() {
        BTreeMap::new()
    } else {
        devices::lock_seen(tx, &devices).await?
    };
    let all_seen: Vec<&DeviceSeen> = seen().collect();
    let mut recorded = recorded_deliveries(tx, &all_seen).await?;
    Ok(calls
        .iter()
        .map(|call| {
            let verdict = verdict(call.seen.as_ref(), &versions, &attached, &recorded);
            // A call that passes records its deliveries: a later call of the group carrying
            // one is the duplicate. One that fails records nothing, so it claims nothing.
            if verdict.is_ok()
                && let Some(s) = &call.seen
            {
                for d in &s.deliveries {
                    recorded.insert((s.device.as_str().to_owned(), d.0.to_vec()));
                }
            }
            verdict
        })
        .collect())
}

/// One call's verdict from what [`admit`] read.
fn verdict(
    seen: Option<&DeviceSeen>,
    versions: &BTreeMap<String, u64>,
    attached: &BTreeMap<String, Attachment>,
    recorded: &BTreeSet<(String, Vec<u8>)>,
) -> Result<()> {
    let Some(seen) = seen else {
        return Ok(());
    };
    let Some(device) = attached.get(seen.device.as_str()) else {
        return Err(Error::not_found("device", seen.device.as_str()));
    };
    // Before the household: a message stored once is a duplicate even if its household
    // changed since.
    let mut named = BTreeSet::new();
    if seen.deliveries.iter().any(|d| {
        !named.insert(d.0) || recorded.contains(&(seen.device.as_str().to_owned(), d.0.to_vec()))
    }) {
        return Err(Error::conflict("delivery", seen.device.as_str()));
    }
    let Some(under) = &seen.admitted_under else {
        return Ok(());
    };
    if versions.get(under.household.as_str()) != Some(&under.version) {
        return Err(Error::conflict("household", under.household.as_str()));
    }
    if device.revoked || device.household.as_deref() != Some(under.household.as_str()) {
        return Err(Error::conflict("device", seen.device.as_str()));
    }
    Ok(())
}
