//! The raw baselines on PostgreSQL (`--database-url`), in the run's own `…_raw` schema on the
//! same server as the pipeline: the same events as `bench/raw.rs` puts in SQLite, one row per
//! event (subject, device, ts, the event's JSON as sent) with an index on (subject, ts),
//! written by binary `COPY`, `--raw-batch` rows a COPY, each COPY its own committed
//! transaction at the server's `synchronous_commit` (the pipeline's durability: a 200 means
//! committed); no policy, no encryption. Then a plain indexed `DELETE` of one subject's rows
//! (`bench erase`) and a plain `SELECT` of them serialised to JSON (`bench export`), as the
//! SQLite versions do.
//!
//! The table has no id column: PostgreSQL's heap needs none, where SQLite's rowid *is* its
//! table, so adding a serial key here would give the baseline a second index to maintain.

use super::corpus::Corpus;
use super::export::{JsonRows, RawRecord, RawRun};
use super::pg::PgRun;
use super::raw::RawResult;
use anyhow::Context;
use futures::{StreamExt, pin_mut};
use indicatif::ProgressBar;
use std::time::{Duration, Instant};
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};

const COPY_TYPES: [Type; 4] = [Type::TEXT, Type::TEXT, Type::INT8, Type::TEXT];

/// Creates `<raw>.events` and COPYs every event of `corpus` into it, `batch` rows a COPY,
/// each committed.
pub(super) async fn load(
    pg: &PgRun,
    corpus: &Corpus,
    batch: usize,
    bar: &ProgressBar,
) -> anyhow::Result<RawResult> {
    let (c, raw) = (pg.client(), &pg.raw);
    c.batch_execute(&format!(
        "CREATE TABLE {raw}.events (
             subject text NOT NULL,
             device  text NOT NULL,
             ts      bigint NOT NULL,
             payload text NOT NULL
         );
         CREATE INDEX events_subject_ts ON {raw}.events (subject, ts);"
    ))
    .await
    .context("cannot create the raw table")?;
    let copy = c
        .prepare(&format!(
            "COPY {raw}.events (subject, device, ts, payload) FROM STDIN (FORMAT binary)"
        ))
        .await
        .context("raw COPY")?;
    let wal_before = pg.wal_position().await;
    let started = Instant::now();
    for chunk in corpus.rows.chunks(batch.max(1)) {
        // Outside a transaction block, each COPY commits on its own.
        let sink = c.copy_in(&copy).await.context("raw COPY")?;
        let writer = BinaryCopyInWriter::new(sink, &COPY_TYPES);
        pin_mut!(writer);
        for row in chunk {
            let subject = corpus.subjects[row.subject as usize].as_str();
            let device = corpus.device_ids[row.device as usize].as_str();
            let payload = corpus.payload(row)?;
            let values: [&(dyn ToSql + Sync); 4] = [&subject, &device, &row.ts, &payload];
            writer.as_mut().write(&values).await.context("raw COPY")?;
        }
        writer.as_mut().finish().await.context("raw COPY")?;
        bar.inc(chunk.len() as u64);
    }
    let elapsed = started.elapsed();
    let written = match (wal_before, pg.wal_position().await) {
        (Some(a), Some(b)) => Some(b.saturating_sub(a)),
        _ => None,
    };
    // Untimed: statistics, as a table in use has, for the erase and export baselines' plans.
    c.batch_execute(&format!("ANALYZE {raw}.events"))
        .await
        .context("raw ANALYZE")?;
    Ok(RawResult {
        rows: corpus.events(),
        elapsed,
        written,
        file_bytes: pg.schema_bytes(raw).await,
    })
}

/// The erase baseline: a plain indexed `DELETE` of one subject's rows, committed
/// (autocommit).
pub(super) async fn delete(pg: &PgRun, subject: &str) -> anyhow::Result<(Duration, usize)> {
    let sql = format!("DELETE FROM {}.events WHERE subject = $1", pg.raw);
    let started = Instant::now();
    let n = pg
        .client()
        .execute(&sql, &[&subject])
        .await
        .context("raw DELETE")?;
    Ok((started.elapsed(), usize::try_from(n).unwrap_or(usize::MAX)))
}

/// The export baseline: the subject's rows by the (subject, ts) index, streamed from the
/// server, each serialised to a JSON object, written out 64 KiB at a time.
pub(super) async fn export(pg: &PgRun, subject: &str) -> anyhow::Result<RawRun> {
    let sql = format!(
        "SELECT subject, device, ts, payload FROM {}.events WHERE subject = $1 ORDER BY ts",
        pg.raw
    );
    let started = Instant::now();
    let rows = pg
        .client()
        .query_raw(&sql, [subject])
        .await
        .context("raw SELECT")?;
    pin_mut!(rows);
    let mut json = JsonRows::new();
    while let Some(row) = rows.next().await {
        let row = row.context("raw SELECT")?;
        json.push(&RawRecord {
            subject: row.try_get(0)?,
            device: row.try_get(1)?,
            ts: row.try_get(2)?,
            payload: row.try_get(3)?,
        })?;
    }
    json.finish(started)
}
