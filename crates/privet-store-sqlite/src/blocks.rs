//! Record blocks inside their retention chunks: appending, scanning, rewriting and deleting.
//!
//! Reads that span chunks run inside one read transaction (see `pool::snapshot`), so a chunk
//! dropped meanwhile is still whole in the snapshot they read.

use crate::chunks::{self, Chunk, ChunkCache, table};
use crate::codec::{changed, count, from_ts, pseudonym, record_id, ts};
use crate::pool::{ReadPool, snapshot};
use privet_crypto::Pseudonym;
use privet_manifest::Retention;
use privet_policy::{ChunkWindow, DeviceId};
use privet_store::{Block, BlockQuery, BlockStream, Context, Error, NewBlock, Result};
use rusqlite::types::Value;
use rusqlite::{Connection, Row, params, params_from_iter};

/// Appends blocks, each into the chunk its window names.
pub(crate) fn append(c: &Connection, cache: &mut ChunkCache, blocks: &[NewBlock]) -> Result<()> {
    cache.revalidate(c)?;
    for b in blocks {
        let id = cache.chunk_for(c, &b.window)?;
        let mut stmt = c
            .prepare_cached(&format!(
                "INSERT INTO {} (id, subject, stream, product, device, class, t_min, t_max, expires_max, n, payload)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                table(id)
            ))
            .op("insert block")?;
        stmt.execute(params![
            b.id.as_slice(),
            b.subject.as_bytes().as_slice(),
            b.stream,
            b.product,
            b.device.as_str(),
            b.retention.to_string(),
            ts(b.t_min),
            ts(b.t_max),
            ts(b.expires_max),
            b.count,
            b.payload
        ])
        .op("insert block")?;
    }
    Ok(())
}

const BLOCK_COLUMNS: &str =
    "id, subject, stream, product, device, class, t_min, t_max, expires_max, n, payload";

fn decode(r: &Row<'_>, window: ChunkWindow) -> Result<Block> {
    let get = |e: rusqlite::Error| Error::backend("read block", e);
    let id: Vec<u8> = r.get(0).map_err(get)?;
    let subject: Vec<u8> = r.get(1).map_err(get)?;
    let class: String = r.get(5).map_err(get)?;
    Ok(Block {
        id: record_id(&id)?,
        subject: pseudonym(&subject)?,
        stream: r.get(2).map_err(get)?,
        product: r.get(3).map_err(get)?,
        device: DeviceId::new(r.get::<_, String>(4).map_err(get)?),
        retention: Retention::parse(&class).map_err(|_| Error::Corrupt {
            what: "retention class",
        })?,
        window,
        t_min: from_ts(r.get(6).map_err(get)?)?,
        t_max: from_ts(r.get(7).map_err(get)?)?,
        expires_max: from_ts(r.get(8).map_err(get)?)?,
        count: r.get(9).map_err(get)?,
        payload: r.get(10).map_err(get)?,
    })
}

fn where_clause(q: &BlockQuery) -> (String, Vec<Value>) {
    let mut conds: Vec<String> = Vec::new();
    let mut vals: Vec<Value> = Vec::new();
    if let Some(s) = &q.subject {
        vals.push(Value::Blob(s.as_bytes().to_vec()));
        conds.push(format!("subject = ?{}", vals.len()));
    }
    if !q.streams.is_empty() {
        let mut marks = Vec::new();
        for s in &q.streams {
            vals.push(Value::Text(s.clone()));
            marks.push(format!("?{}", vals.len()));
        }
        conds.push(format!("stream IN ({})", marks.join(", ")));
    }
    if let Some(p) = &q.product {
        vals.push(Value::Text(p.clone()));
        conds.push(format!("product = ?{}", vals.len()));
    }
    if let Some(d) = &q.device {
        vals.push(Value::Text(d.as_str().to_owned()));
        conds.push(format!("device = ?{}", vals.len()));
    }
    if let Some(t) = q.since {
        vals.push(Value::Integer(ts(t)));
        conds.push(format!("t_max >= ?{}", vals.len()));
    }
    if let Some(t) = q.until {
        vals.push(Value::Integer(ts(t)));
        conds.push(format!("t_min <= ?{}", vals.len()));
    }
    let sql = if conds.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conds.join(" AND "))
    };
    (sql, vals)
}

/// Blocks buffered between the reading thread and the consumer of a scan.
const SCAN_BUFFER: usize = 32;

/// Streams the blocks matching `query` from one snapshot, read on a blocking thread a few
/// blocks ahead of the consumer.
pub(crate) fn stream(pool: ReadPool, query: BlockQuery) -> BlockStream {
    let (tx, rx) = tokio::sync::mpsc::channel(SCAN_BUFFER);
    tokio::task::spawn_blocking(move || {
        let c = match pool.take() {
            Ok(c) => c,
            Err(e) => {
                let _ = tx.blocking_send(Err(e));
                return;
            }
        };
        // The snapshot ends when the scan does: at the last chunk, at an error, or when the
        // consumer has gone (a send fails).
        let out = snapshot(&c, |c| scan(c, &query, |b| tx.blocking_send(Ok(b)).is_ok()));
        if let Err(e) = out {
            let _ = tx.blocking_send(Err(e));
        }
        pool.give(c);
    });
    Box::pin(tokio_stream::wrappers::ReceiverStream::new(rx))
}

/// Calls `each` for every matching block, chunk by chunk; stops early when it returns false.
/// Run it inside a snapshot.
pub(crate) fn scan(
    c: &Connection,
    q: &BlockQuery,
    mut each: impl FnMut(Block) -> bool,
) -> Result<()> {
    let (cond, vals) = where_clause(q);
    for Chunk { id, window } in chunks::list(c)? {
        let sql = format!(
            "SELECT {BLOCK_COLUMNS} FROM {} {cond} ORDER BY t_min, rowid",
            table(id)
        );
        let mut stmt = c.prepare(&sql).op("scan blocks")?;
        let mut rows = stmt
            .query(params_from_iter(vals.iter()))
            .op("scan blocks")?;
        while let Some(row) = rows.next().op("scan blocks")? {
            if !each(decode(row, window)?) {
                return Ok(());
            }
        }
    }
    Ok(())
}

/// Runs `sql` (with `{t}` for the table) on every chunk and sums the changed rows.
fn each_chunk(c: &Connection, sql: &str, p: &[Value], op: &'static str) -> Result<u64> {
    let mut total = 0u64;
    for chunk in chunks::list(c)? {
        let stmt = sql.replace("{t}", &table(chunk.id));
        total += changed(c.execute(&stmt, params_from_iter(p.iter())).op(op)?);
    }
    Ok(total)
}

/// Replaces a block's payload and count if its payload is still `old`: `NotFound` if the
/// block is gone, `Conflict` if it was rewritten meanwhile.
pub(crate) fn rewrite(
    c: &Connection,
    id: [u8; 16],
    old: &[u8],
    payload: &[u8],
    n: u32,
) -> Result<()> {
    let changed = each_chunk(
        c,
        "UPDATE {t} SET payload = ?2, n = ?3 WHERE id = ?1 AND payload = ?4",
        &[
            Value::Blob(id.to_vec()),
            Value::Blob(payload.to_vec()),
            Value::Integer(i64::from(n)),
            Value::Blob(old.to_vec()),
        ],
        "rewrite block",
    )?;
    if changed > 0 {
        return Ok(());
    }
    for chunk in chunks::list(c)? {
        let held: bool = c
            .query_row(
                &format!(
                    "SELECT EXISTS (SELECT 1 FROM {} WHERE id = ?1)",
                    table(chunk.id)
                ),
                [id.as_slice()],
                |r| r.get(0),
            )
            .op("rewrite block")?;
        if held {
            return Err(Error::conflict("record", "(block)"));
        }
    }
    Err(Error::not_found("record", "(block)"))
}

/// Deletes blocks by id.
pub(crate) fn delete_ids(c: &Connection, ids: &[[u8; 16]]) -> Result<u64> {
    let mut total = 0;
    for id in ids {
        total += each_chunk(
            c,
            "DELETE FROM {t} WHERE id = ?1",
            &[Value::Blob(id.to_vec())],
            "delete block",
        )?;
    }
    Ok(total)
}

/// Deletes at most `limit` of the subject's blocks from each chunk; 0 once none are left.
pub(crate) fn delete_subject_slice(c: &Connection, subject: &Pseudonym, limit: i64) -> Result<u64> {
    each_chunk(
        c,
        "DELETE FROM {t} WHERE rowid IN (SELECT rowid FROM {t} WHERE subject = ?1 LIMIT ?2)",
        &[
            Value::Blob(subject.as_bytes().to_vec()),
            Value::Integer(limit),
        ],
        "delete subject records",
    )
}

/// Deletes every block a device sent.
pub(crate) fn delete_device(c: &Connection, device: &DeviceId) -> Result<u64> {
    each_chunk(
        c,
        "DELETE FROM {t} WHERE device = ?1",
        &[Value::Text(device.as_str().to_owned())],
        "delete device records",
    )
}

/// Blocks and events held, summed over chunks. Run it inside a snapshot.
fn sum_counts(c: &Connection, filter: &str, p: &[Value], op: &'static str) -> Result<(u64, u64)> {
    let (mut blocks, mut events) = (0u64, 0u64);
    for chunk in chunks::list(c)? {
        let (b, e): (i64, Option<i64>) = c
            .query_row(
                &format!("SELECT count(*), sum(n) FROM {} {filter}", table(chunk.id)),
                params_from_iter(p.iter()),
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .op(op)?;
        blocks += count(b);
        events += count(e.unwrap_or(0));
    }
    Ok((blocks, events))
}

/// Blocks and events in the store. Run it inside a snapshot.
pub(crate) fn counts(c: &Connection) -> Result<(u64, u64)> {
    sum_counts(c, "", &[], "count records")
}

/// Blocks and events of one subject (an index range per chunk). Run it inside a snapshot.
pub(crate) fn subject_counts(c: &Connection, subject: &Pseudonym) -> Result<(u64, u64)> {
    sum_counts(
        c,
        "WHERE subject = ?1",
        &[Value::Blob(subject.as_bytes().to_vec())],
        "count subject records",
    )
}

/// Distinct subjects with blocks, across chunks. Run it inside a snapshot.
pub(crate) fn subjects(c: &Connection) -> Result<Vec<Pseudonym>> {
    let mut seen = std::collections::BTreeSet::new();
    for chunk in chunks::list(c)? {
        let mut stmt = c
            .prepare(&format!("SELECT DISTINCT subject FROM {}", table(chunk.id)))
            .op("list record subjects")?;
        let rows = stmt
            .query_map([], |r| r.get::<_, Vec<u8>>(0))
            .op("list record subjects")?;
        for r in rows {
            seen.insert(pseudonym(&r.op("list record subjects")?)?);
        }
    }
    Ok(seen.into_iter().collect())
}
