//! The raw baseline of issue 3's targets: the same events inserted straight into a fresh
//! SQLite file, one row per event with an index on (subject, ts), 10,000 rows a transaction,
//! WAL with `synchronous=FULL` (the pipeline's durability); no policy, no encryption.

use super::corpus::Corpus;
use super::procfs::Proc;
use anyhow::Context;
use indicatif::ProgressBar;
use rusqlite::{Connection, params};
use std::path::Path;
use std::time::{Duration, Instant};

/// What the baseline measured.
pub(crate) struct RawResult {
    /// Rows inserted.
    pub(crate) rows: u64,
    /// Time from the first insert to the last durable commit.
    pub(crate) elapsed: Duration,
    /// Bytes written to storage meanwhile, if Linux tells.
    pub(crate) written: Option<u64>,
    /// Size of the database and its WAL afterwards.
    pub(crate) file_bytes: u64,
}

impl RawResult {
    /// Rows per second.
    pub(crate) fn rate(&self) -> f64 {
        self.rows as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

const SCHEMA: &str = "
    CREATE TABLE events (
        id      INTEGER PRIMARY KEY,
        subject TEXT NOT NULL,
        device  TEXT NOT NULL,
        ts      INTEGER NOT NULL,
        payload TEXT NOT NULL
    );
    CREATE INDEX events_subject_ts ON events(subject, ts);
";

/// Inserts every event of `corpus` into a new database at `path`, `batch` rows a transaction.
/// Blocking: run it off the async runtime.
pub(crate) fn run(
    path: &Path,
    corpus: &Corpus,
    batch: usize,
    bar: &ProgressBar,
) -> anyhow::Result<RawResult> {
    anyhow::ensure!(!path.exists(), "{} already exists", path.display());
    let mut conn =
        Connection::open(path).with_context(|| format!("cannot create {}", path.display()))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // The same durability as the pipeline: every commit fsyncs the WAL.
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.execute_batch(SCHEMA)?;

    let written_before = Proc::SelfProcess.written();
    let started = Instant::now();
    for chunk in corpus.rows.chunks(batch.max(1)) {
        let tx = conn.transaction()?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO events (subject, device, ts, payload) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for row in chunk {
                insert.execute(params![
                    corpus.subjects[row.subject as usize],
                    corpus.device_ids[row.device as usize],
                    row.ts,
                    corpus.payload(row)?,
                ])?;
            }
        }
        tx.commit()?;
        bar.inc(chunk.len() as u64);
    }
    let elapsed = started.elapsed();
    let written = match (written_before, Proc::SelfProcess.written()) {
        (Some(a), Some(b)) => Some(b.saturating_sub(a)),
        _ => None,
    };
    drop(conn);
    let file_bytes = ["", "-wal"]
        .iter()
        .filter_map(|suffix| {
            let mut p = path.as_os_str().to_owned();
            p.push(suffix);
            std::fs::metadata(p).ok().map(|m| m.len())
        })
        .sum();
    Ok(RawResult {
        rows: corpus.events(),
        elapsed,
        written,
        file_bytes,
    })
}
