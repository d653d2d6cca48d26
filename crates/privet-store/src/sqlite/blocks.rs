//! Record blocks in retention chunks: one table per (retention class, expiry window), so an
//! expired chunk is dropped whole and retention costs O(chunks), not O(rows).

use super::codec::{from_ts, pseudonym, record_id, ts};
use crate::error::{Context, Error, Result};
use crate::ids::DeviceId;
use crate::model::{Block, BlockQuery, NewBlock, RetentionReport};
use jiff::Timestamp;
use privet_crypto::Pseudonym;
use privet_manifest::Retention;
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Row, params, params_from_iter};

const HOUR: i64 = 3_600;
const DAY: i64 = 86_400;

/// The width of a chunk's expiry window for a retention class. Data leaves reads at its exact
/// expiry (readers filter per event) and leaves the disk when its window ends: at most an
/// hour late for short classes, a day for long ones.
pub(crate) fn window_secs(retention: Retention) -> i64 {
    if retention.approx_hours() < 7 * 24 {
        HOUR
    } else {
        DAY
    }
}

/// A chunk as listed in `chunks`.
#[derive(Clone, Debug)]
pub(crate) struct Chunk {
    pub(crate) id: i64,
    pub(crate) window_end: i64,
}

impl Chunk {
    fn table(&self) -> String {
        format!("rec_{}", self.id)
    }
}

/// Every chunk, oldest expiry first.
pub(crate) fn chunks(c: &Connection) -> Result<Vec<Chunk>> {
    let mut stmt = c
        .prepare_cached("SELECT id, window_end FROM chunks ORDER BY window_start, id")
        .op("list chunks")?;
    let rows = stmt
        .query_map([], |r| {
            Ok(Chunk {
                id: r.get(0)?,
                window_end: r.get(1)?,
            })
        })
        .op("list chunks")?;
    rows.collect::<rusqlite::Result<Vec<_>>>().op("list chunks")
}

fn chunk_for(c: &Connection, retention: Retention, expires_max: Timestamp) -> Result<Chunk> {
    let w = window_secs(retention);
    let start = expires_max.as_second().div_euclid(w) * w;
    let class = retention.to_string();
    let existing: Option<i64> = c
        .prepare_cached("SELECT id FROM chunks WHERE class = ?1 AND window_start = ?2")
        .and_then(|mut s| s.query_row(params![class, start], |r| r.get(0)).optional())
        .op("find chunk")?;
    if let Some(id) = existing {
        return Ok(Chunk {
            id,
            window_end: start + w,
        });
    }
    c.execute(
        "INSERT INTO chunks (class, window_start, window_end) VALUES (?1, ?2, ?3)",
        params![class, start, start + w],
    )
    .op("create chunk")?;
    let chunk = Chunk {
        id: c.last_insert_rowid(),
        window_end: start + w,
    };
    let t = chunk.table();
    c.execute_batch(&format!(
        "CREATE TABLE {t} (
            id BLOB NOT NULL UNIQUE,
            subject BLOB NOT NULL,
            stream TEXT NOT NULL,
            product TEXT NOT NULL,
            device TEXT NOT NULL,
            class TEXT NOT NULL,
            t_min INTEGER NOT NULL,
            t_max INTEGER NOT NULL,
            expires_max INTEGER NOT NULL,
            n INTEGER NOT NULL,
            payload BLOB NOT NULL
        ) STRICT;
        CREATE INDEX {t}_subject ON {t}(subject, stream, t_min);"
    ))
    .op("create chunk table")?;
    Ok(chunk)
}

pub(crate) fn append(c: &Connection, blocks: &[NewBlock]) -> Result<()> {
    for b in blocks {
        let chunk = chunk_for(c, b.retention, b.expires_max)?;
        let mut stmt = c
            .prepare_cached(&format!(
                "INSERT INTO {} (id, subject, stream, product, device, class, t_min, t_max, expires_max, n, payload)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                chunk.table()
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

fn decode(r: &Row<'_>) -> Result<Block> {
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

/// Whether an error says a chunk table was dropped while we were reading (it expired).
fn is_dropped(e: &rusqlite::Error) -> bool {
    e.to_string().contains("no such table")
}

/// Calls `each` for every matching block, chunk by chunk; stops early when it returns false.
pub(crate) fn scan(
    c: &Connection,
    q: &BlockQuery,
    mut each: impl FnMut(Block) -> bool,
) -> Result<()> {
    let (cond, vals) = where_clause(q);
    for chunk in chunks(c)? {
        let sql = format!(
            "SELECT {BLOCK_COLUMNS} FROM {} {cond} ORDER BY t_min, rowid",
            chunk.table()
        );
        let mut stmt = match c.prepare(&sql) {
            Ok(s) => s,
            Err(e) if is_dropped(&e) => continue,
            Err(e) => return Err(Error::backend("scan blocks", e)),
        };
        let mut rows = stmt
            .query(params_from_iter(vals.iter()))
            .op("scan blocks")?;
        while let Some(row) = rows.next().op("scan blocks")? {
            if !each(decode(row)?) {
                return Ok(());
            }
        }
    }
    Ok(())
}

/// Runs `sql` (with `{t}` for the table) on every chunk and sums the changed rows.
fn each_chunk(c: &Connection, sql: &str, p: &[Value], op: &'static str) -> Result<u64> {
    let mut total = 0u64;
    for chunk in chunks(c)? {
        let stmt = sql.replace("{t}", &chunk.table());
        total += c.execute(&stmt, params_from_iter(p.iter())).op(op)? as u64;
    }
    Ok(total)
}

pub(crate) fn rewrite(c: &Connection, id: [u8; 16], payload: &[u8], count: u32) -> Result<()> {
    let n = each_chunk(
        c,
        "UPDATE {t} SET payload = ?2, n = ?3 WHERE id = ?1",
        &[
            Value::Blob(id.to_vec()),
            Value::Blob(payload.to_vec()),
            Value::Integer(i64::from(count)),
        ],
        "rewrite block",
    )?;
    if n == 0 {
        return Err(Error::NotFound {
            entity: "record",
            id: "(block)".to_owned(),
        });
    }
    Ok(())
}

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

pub(crate) fn delete_device(c: &Connection, device: &DeviceId) -> Result<u64> {
    each_chunk(
        c,
        "DELETE FROM {t} WHERE device = ?1",
        &[Value::Text(device.as_str().to_owned())],
        "delete device records",
    )
}

/// Drops every chunk whose expiry window ended at or before `now`.
pub(crate) fn drop_expired(c: &Connection, now: Timestamp) -> Result<RetentionReport> {
    let mut report = RetentionReport::default();
    for chunk in chunks(c)? {
        if chunk.window_end > now.as_second() {
            continue;
        }
        let t = chunk.table();
        let (blocks, events): (i64, Option<i64>) = c
            .query_row(&format!("SELECT count(*), sum(n) FROM {t}"), [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .op("count expired chunk")?;
        c.execute_batch(&format!("DROP TABLE {t}"))
            .op("drop chunk")?;
        c.execute("DELETE FROM chunks WHERE id = ?1", [chunk.id])
            .op("drop chunk")?;
        report.chunks_dropped += 1;
        report.blocks_dropped += blocks as u64;
        report.events_dropped += events.unwrap_or(0) as u64;
    }
    Ok(report)
}

pub(crate) fn counts(c: &Connection) -> Result<(u64, u64)> {
    let (mut blocks, mut events) = (0u64, 0u64);
    for chunk in chunks(c)? {
        let (b, e): (i64, Option<i64>) = match c.query_row(
            &format!("SELECT count(*), sum(n) FROM {}", chunk.table()),
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        ) {
            Ok(v) => v,
            Err(e) if is_dropped(&e) => continue,
            Err(e) => return Err(Error::backend("count records", e)),
        };
        blocks += b as u64;
        events += e.unwrap_or(0) as u64;
    }
    Ok((blocks, events))
}

/// Distinct subjects with blocks, across chunks.
pub(crate) fn subjects(c: &Connection) -> Result<Vec<Pseudonym>> {
    let mut seen = std::collections::BTreeSet::new();
    for chunk in chunks(c)? {
        let mut stmt = match c.prepare(&format!("SELECT DISTINCT subject FROM {}", chunk.table())) {
            Ok(s) => s,
            Err(e) if is_dropped(&e) => continue,
            Err(e) => return Err(Error::backend("list record subjects", e)),
        };
        let rows = stmt
            .query_map([], |r| r.get::<_, Vec<u8>>(0))
            .op("list record subjects")?;
        for r in rows {
            seen.insert(pseudonym(&r.op("list record subjects")?)?);
        }
    }
    Ok(seen.into_iter().collect())
}

/// Blocks and events of one subject, across chunks (an index range per chunk).
pub(crate) fn subject_counts(c: &Connection, subject: &Pseudonym) -> Result<(u64, u64)> {
    let (mut blocks, mut events) = (0u64, 0u64);
    for chunk in chunks(c)? {
        let row: rusqlite::Result<(i64, Option<i64>)> = c.query_row(
            &format!(
                "SELECT count(*), sum(n) FROM {} WHERE subject = ?1",
                chunk.table()
            ),
            [subject.as_bytes().as_slice()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        );
        match row {
            Ok((b, e)) => {
                blocks += b as u64;
                events += e.unwrap_or(0) as u64;
            }
            Err(e) if is_dropped(&e) => continue,
            Err(e) => return Err(Error::backend("count subject records", e)),
        }
    }
    Ok((blocks, events))
}
