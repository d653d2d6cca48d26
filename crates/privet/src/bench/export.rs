//! `privet bench export`: records per second exporting a member holding `--records` records
//! through `GET /v1/subjects/{id}/export` from a store built through the real pipeline, and in
//! the same run a raw `SELECT` of the same subject's rows from a one-row-per-event SQLite table
//! holding the same events, each row serialised to JSON with serde_json. The client counts the
//! records in the streamed export as it reads, holding one chunk at a time; the server's peak
//! resident memory during the export shows whether it streams in constant memory. With
//! `--database-url` both run on PostgreSQL: the server in the run's own schemas, the raw table
//! on the same server.

use super::ExportArgs;
use super::output::{exit_code, print_ratio, rate_target, verdict};
use super::pg::{self, PgRun};
use super::procfs::{Proc, RssSampler, mib};
use super::raw_pg;
use super::rights::{self, Built, Layout, RawStore, median, median_f64};
use super::workspace::{Workspace, db_bytes};
use crate::simulate::{human, thousands};
use anyhow::{Context, bail, ensure};
use rusqlite::Connection;
use serde::Serialize;
use std::io::Write;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Issue 4: the export must reach this many records per second…
const TARGET_RATE: f64 = 300_000.0;
/// …and at least the raw `SELECT`-to-JSON rate of the same run.
const TARGET_RATIO: f64 = 1.0;
/// The raw baseline writes its JSON out in chunks of this size, as the server does.
pub(super) const CHUNK: usize = 64 * 1024;
/// Longest wait for the server to finish background work before measuring.
const SETTLE_MAX: Duration = Duration::from_secs(60);

/// Counts the records of a streamed export, `{"about":{…},"records":[{…},…]}`, chunk by
/// chunk without keeping the document: the objects directly inside the top-level
/// `"records"` array. Strings (with escapes) are skipped, so braces inside values don't count.
#[derive(Debug, Default)]
pub(super) struct RecordCounter {
    depth: u32,
    in_string: bool,
    escaped: bool,
    /// Capturing a string at depth 1 (a top-level key).
    capturing: bool,
    key: Vec<u8>,
    in_records: bool,
    records_closed: bool,
    records: u64,
    done: bool,
}

impl RecordCounter {
    /// Feeds the next bytes of the document.
    pub(super) fn feed(&mut self, bytes: &[u8]) -> anyhow::Result<()> {
        for &b in bytes {
            if self.in_string {
                if self.escaped {
                    self.escaped = false;
                } else if b == b'\\' {
                    self.escaped = true;
                } else if b == b'"' {
                    self.in_string = false;
                    self.capturing = false;
                    continue;
                }
                if self.capturing && self.key.len() < 16 {
                    self.key.push(b);
                }
                continue;
            }
            match b {
                b'"' => {
                    self.in_string = true;
                    if self.depth == 1 {
                        self.capturing = true;
                        self.key.clear();
                    }
                }
                b'{' | b'[' => {
                    ensure!(!self.done, "data after the end of the export");
                    if self.depth == 1 && b == b'[' && self.key == b"records" {
                        self.in_records = true;
                    } else if self.depth == 2 && self.in_records && b == b'{' {
                        self.records += 1;
                    }
                    self.depth += 1;
                }
                b'}' | b']' => {
                    self.depth = self
                        .depth
                        .checked_sub(1)
                        .context("the export closes more than it opens")?;
                    if self.depth == 1 && self.in_records {
                        self.in_records = false;
                        self.records_closed = true;
                    }
                    if self.depth == 0 {
                        self.done = true;
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The records counted, once the document is complete.
    pub(super) fn finish(&self) -> anyhow::Result<u64> {
        ensure!(
            self.done && self.records_closed && !self.in_string,
            "the export ended early (after {} records)",
            self.records
        );
        Ok(self.records)
    }
}

/// One export through the server.
struct ExportRun {
    records: u64,
    bytes: u64,
    elapsed: Duration,
    first_byte: Duration,
    peak_rss: u64,
}

impl ExportRun {
    fn rate(&self) -> f64 {
        self.records as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// One raw `SELECT` to JSON.
pub(super) struct RawRun {
    pub(super) rows: u64,
    pub(super) bytes: u64,
    pub(super) elapsed: Duration,
}

impl RawRun {
    fn rate(&self) -> f64 {
        self.rows as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

fn layout(args: &ExportArgs) -> anyhow::Result<Layout> {
    ensure!(args.records > 0, "--records must be at least 1");
    ensure!(args.repeat > 0, "--repeat must be at least 1");
    let others = args.other_subjects;
    let (records, rest) = (args.records, args.other_records);
    Ok(Layout::new(others + 1, &args.store, |i| match i {
        0 => records,
        i => rights::share(rest, others, i - 1),
    }))
}

pub(super) async fn run(args: ExportArgs) -> anyhow::Result<ExitCode> {
    let layout = layout(&args)?;
    match args.store.database_url.clone() {
        None => run_on(&args, &layout, None).await,
        Some(url) => pg::with_run(&url, async |pg| run_on(&args, &layout, Some(pg)).await).await,
    }
}

/// The run, on SQLite or on the run's PostgreSQL schemas.
async fn run_on(
    args: &ExportArgs,
    layout: &Layout,
    pg: Option<&PgRun>,
) -> anyhow::Result<ExitCode> {
    let ws = Workspace::new(args.store.data.as_deref())?;
    let load_before = rights::load_average();
    eprintln!(
        "privet bench export: a member with {} records among {} records of {} members; files in {}",
        thousands(args.records),
        thousands(layout.records()),
        thousands(layout.subjects() as u64),
        ws.root.display()
    );
    let built = rights::build(&ws, layout, pg).await?;
    let (raw_build, mut raw_table) = rights::build_raw(&ws, &built.corpus, pg).await?;
    let server = Proc::Pid(built.server.pid());
    let subject = built.member(0, 0)?.to_owned();
    built.warm_up().await?;
    rights::sync().await;
    rights::settle_all(server, pg, SETTLE_MAX).await;
    let idle_rss = server.rss();

    let load_start = rights::load_average();
    let mut exports = Vec::with_capacity(args.repeat);
    let mut raws = Vec::with_capacity(args.repeat);
    for _ in 0..args.repeat {
        rights::settle_all(server, pg, SETTLE_MAX).await;
        exports.push(export_once(&built, &subject, server).await?);
        raws.push(raw_select(&mut raw_table, subject.clone()).await?);
    }
    let load_end = rights::load_average();
    let pipeline_db = match pg {
        Some(pg) => pg.schema_bytes(&pg.data).await + pg.schema_bytes(&pg.keys).await,
        None => db_bytes(&ws.server_data().join("privet.db")),
    };
    let on = pg::on(pg).await;
    let raw_how = match raw_table {
        RawStore::Postgres(_) => format!(" ({})", raw_table.describe()),
        RawStore::Sqlite(_) => String::new(),
    };
    let load = built.stop().await?;

    let s = &load.summary;
    let rate = median_f64(&exports.iter().map(ExportRun::rate).collect::<Vec<_>>());
    let raw_rate = median_f64(&raws.iter().map(RawRun::rate).collect::<Vec<_>>());
    let ratio = rate / raw_rate.max(1e-9);
    let peak = exports.iter().map(|e| e.peak_rss).max().unwrap_or(0);
    let bytes = exports.first().map_or(0, |e| e.bytes);
    let runs = |xs: Vec<f64>| {
        xs.iter()
            .map(|r| thousands(r.round() as u64))
            .collect::<Vec<_>>()
            .join(", ")
    };
    println!(
        "privet bench export — a member with {} records, among {} records of {} members in {} households (one `{}` each, stream `{}`), over {} days, {} cores{on}; load {} (measuring began at {}, ended at {})",
        thousands(args.records),
        thousands(layout.records()),
        thousands(layout.subjects() as u64),
        layout.households.len(),
        rights::PRODUCT,
        rights::STREAM,
        args.store.days,
        std::thread::available_parallelism().map_or(0, usize::from),
        load_before,
        load_start,
        load_end,
    );
    println!(
        "store     pipeline: {} events in {:.1} s ({} events/s, batches of {}), database {}; raw: {} rows in {:.1} s, database {}",
        thousands(s.sent),
        s.elapsed.as_secs_f64(),
        thousands(load.rate().round() as u64),
        args.store.batch,
        mib(pipeline_db),
        thousands(raw_build.rows),
        raw_build.elapsed.as_secs_f64(),
        mib(raw_build.file_bytes),
    );
    println!(
        "pipeline  GET /v1/subjects/{{id}}/export: median {} records/s ({} records, {} of JSON, in {}; first byte after {}); runs: {}",
        thousands(rate.round() as u64),
        thousands(exports.first().map_or(0, |e| e.records)),
        mib(bytes),
        human(median(
            &exports.iter().map(|e| e.elapsed).collect::<Vec<_>>()
        )),
        human(median(
            &exports.iter().map(|e| e.first_byte).collect::<Vec<_>>()
        )),
        runs(exports.iter().map(ExportRun::rate).collect()),
    );
    println!(
        "          server peak RSS during the export {} (idle before {})",
        mib(peak),
        idle_rss.map_or_else(|| "unknown".to_owned(), mib)
    );
    println!(
        "raw       SELECT subject, device, ts, payload FROM events WHERE subject = ? ORDER BY ts{raw_how}, one JSON object per row (serde_json): median {} rows/s ({} rows, {} of JSON, in {}); runs: {}",
        thousands(raw_rate.round() as u64),
        thousands(raws.first().map_or(0, |r| r.rows)),
        mib(raws.first().map_or(0, |r| r.bytes)),
        human(median(&raws.iter().map(|r| r.elapsed).collect::<Vec<_>>())),
        runs(raws.iter().map(RawRun::rate).collect()),
    );
    print_ratio("export / raw", ratio, 2);
    println!(
        "targets   {}; ≥ raw SELECT-to-JSON: {}",
        rate_target(rate, TARGET_RATE, "records"),
        verdict(ratio >= TARGET_RATIO),
    );
    let ok = exports.iter().all(|e| e.records == args.records)
        && raws.iter().all(|r| r.rows == args.records);
    if !ok {
        println!(
            "checks    MISMATCH: expected {} records; the export counted {:?}, the raw SELECT {:?}",
            args.records,
            exports.iter().map(|e| e.records).collect::<Vec<_>>(),
            raws.iter().map(|r| r.rows).collect::<Vec<_>>()
        );
    }
    Ok(exit_code(ok))
}

/// One export of `subject`, timed from the request to the last byte, counting records as
/// they arrive; the server's peak RSS meanwhile.
async fn export_once(built: &Built, subject: &str, server: Proc) -> anyhow::Result<ExportRun> {
    let url = format!("{}/v1/subjects/{subject}/export", built.server.url());
    let reset = server.reset_peak_rss();
    let sampler = RssSampler::start(server, Duration::from_millis(10));
    let started = Instant::now();
    let mut resp = built
        .http
        .get(&url)
        .bearer_auth(&built.key)
        .send()
        .await
        .with_context(|| format!("GET {url}: no answer"))?;
    let status = resp.status();
    if status != reqwest::StatusCode::OK {
        let body = resp.text().await.unwrap_or_default();
        bail!("GET {url}: HTTP {status}: {body}");
    }
    let mut counter = RecordCounter::default();
    let mut first_byte = None;
    let mut bytes = 0u64;
    while let Some(chunk) = resp
        .chunk()
        .await
        .with_context(|| format!("GET {url}: the export broke off"))?
    {
        first_byte.get_or_insert_with(|| started.elapsed());
        bytes += chunk.len() as u64;
        counter.feed(&chunk)?;
    }
    let elapsed = started.elapsed();
    let peak = sampler.stop().await;
    let records = counter.finish()?;
    let hwm = if reset { server.peak_rss() } else { None };
    Ok(ExportRun {
        records,
        bytes,
        elapsed,
        first_byte: first_byte.unwrap_or(elapsed),
        peak_rss: peak.max(hwm.unwrap_or(0)),
    })
}

/// A row as the raw baseline writes it.
#[derive(Serialize)]
pub(super) struct RawRecord<'a> {
    pub(super) subject: &'a str,
    pub(super) device: &'a str,
    pub(super) ts: i64,
    /// The event's JSON as stored (a string: a plain `SELECT` does not parse it).
    pub(super) payload: &'a str,
}

/// The baseline's `SELECT` to JSON of `subject`'s rows, wherever the raw table is.
async fn raw_select(raw: &mut RawStore<'_>, subject: String) -> anyhow::Result<RawRun> {
    match raw {
        RawStore::Sqlite(t) => t.run(move |c| raw_export(c, &subject)).await,
        RawStore::Postgres(pg) => raw_pg::export(pg, &subject).await,
    }
}

/// The baseline: the subject's rows by the (subject, ts) index, each serialised to a JSON
/// object, written out 64 KiB at a time.
fn raw_export(conn: &Connection, subject: &str) -> anyhow::Result<RawRun> {
    let started = Instant::now();
    let mut stmt = conn
        .prepare_cached(
            "SELECT subject, device, ts, payload FROM events WHERE subject = ?1 ORDER BY ts",
        )
        .context("raw SELECT")?;
    let mut rows = stmt.query([subject]).context("raw SELECT")?;
    let mut json = JsonRows::new();
    while let Some(row) = rows.next().context("raw SELECT")? {
        json.push(&RawRecord {
            subject: row.get_ref(0)?.as_str()?,
            device: row.get_ref(1)?.as_str()?,
            ts: row.get(2)?,
            payload: row.get_ref(3)?.as_str()?,
        })?;
    }
    json.finish(started)
}

/// The baseline's serialisation: rows as one JSON array, written out [`CHUNK`] bytes at a
/// time (to a sink: the raw side has no client to send to), counting rows and bytes.
pub(super) struct JsonRows {
    buf: Vec<u8>,
    rows: u64,
    bytes: u64,
}

impl JsonRows {
    /// An empty array.
    pub(super) fn new() -> JsonRows {
        let mut buf = Vec::with_capacity(2 * CHUNK);
        buf.push(b'[');
        JsonRows {
            buf,
            rows: 0,
            bytes: 0,
        }
    }

    /// Adds one row.
    pub(super) fn push(&mut self, record: &RawRecord<'_>) -> anyhow::Result<()> {
        if self.rows > 0 {
            self.buf.push(b',');
        }
        serde_json::to_writer(&mut self.buf, record)?;
        self.rows += 1;
        if self.buf.len() >= CHUNK {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> anyhow::Result<()> {
        self.bytes += self.buf.len() as u64;
        std::io::sink().write_all(&self.buf)?;
        self.buf.clear();
        Ok(())
    }

    /// Closes the array; the run's figures, timed from `started`.
    pub(super) fn finish(mut self, started: Instant) -> anyhow::Result<RawRun> {
        self.buf.push(b']');
        self.flush()?;
        Ok(RawRun {
            rows: self.rows,
            bytes: self.bytes,
            elapsed: started.elapsed(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = r#"{"about":{"subjects":[{"id":"mem_1","name":"A \"quoted\" {name}"}],"records":[{"x":1}]},"records":[{"subject":"mem_1","data":{"feature":"music","note":"a ] and a } and a \\"}},{"subject":"mem_1","data":{"nested":{"deep":[{"a":1}]}}},{"subject":"mem_1","data":{}}]}"#;

    #[test]
    fn records_are_counted_whichever_way_the_document_is_split() {
        for split in 0..=DOC.len() {
            let mut c = RecordCounter::default();
            c.feed(&DOC.as_bytes()[..split]).unwrap();
            c.feed(&DOC.as_bytes()[split..]).unwrap();
            assert_eq!(c.finish().unwrap(), 3, "split at {split}");
        }
        let mut c = RecordCounter::default();
        for b in DOC.as_bytes() {
            c.feed(std::slice::from_ref(b)).unwrap();
        }
        assert_eq!(c.finish().unwrap(), 3);
    }

    #[test]
    fn a_truncated_or_empty_export_is_an_error() {
        let mut c = RecordCounter::default();
        c.feed(&DOC.as_bytes()[..DOC.len() - 1]).unwrap();
        assert!(c.finish().is_err());
        let mut c = RecordCounter::default();
        c.feed(br#"{"about":{},"records":[]}"#).unwrap();
        assert_eq!(c.finish().unwrap(), 0);
        assert!(RecordCounter::default().feed(b"}").is_err());
    }
}
