//! `privet bench erase`: the time from `DELETE /v1/subjects/{id}` to the signed receipt for
//! subjects holding `--target-records` records in a store of `--records` records of
//! `--subjects` members, built through the real pipeline; and in the same run the time a plain
//! indexed SQL `DELETE` of the same subject's rows takes in a raw one-row-per-event SQLite
//! table holding the same events. Subjects of `--small-records` records are erased too, to
//! show whether the receipt time grows with the record count. With `--database-url` both run
//! on PostgreSQL: the server in the run's own schemas, the raw table on the same server.

use super::EraseArgs;
use super::output::{exit_code, print_ratio, verdict};
use super::pg::{self, PgRun};
use super::procfs::Proc;
use super::raw::RawResult;
use super::raw_pg;
use super::rights::{self, Built, Layout, MEMBERS_PER_HOUSEHOLD, RawStore, median};
use super::workspace::{Workspace, db_bytes};
use crate::simulate::{human, thousands};
use anyhow::{Context, ensure};
use rusqlite::Connection;
use serde::Deserialize;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Issue 4: the receipt within this long for a subject of the target size…
const TARGET_RECEIPT: Duration = Duration::from_millis(50);
/// …and flat in the record count: the target-size median at most this multiple of the
/// small-size one (or within [`FLAT_SLACK`] of it, below which timer noise dominates).
const FLAT_RATIO: f64 = 1.5;
const FLAT_SLACK: Duration = Duration::from_millis(5);
/// Longest wait for the server to finish background work between erasures.
const SETTLE_MAX: Duration = Duration::from_secs(60);

/// The parts of the receipt the bench checks.
#[derive(Deserialize)]
struct ReceiptReply {
    counts: ReceiptCounts,
    receipt: String,
}

#[derive(Deserialize)]
struct ReceiptCounts {
    records: u64,
}

/// One subject erased both ways.
struct Erasure {
    /// Records the subject held.
    records: u64,
    /// `DELETE /v1/subjects/{id}` to the receipt, at the client.
    receipt: Duration,
    /// Records the receipt says were erased.
    receipt_records: u64,
    /// How long the server kept working after the receipt (to within ~200 ms).
    background: Duration,
    /// The raw `DELETE` of the same subject's rows.
    raw: Duration,
    /// Rows it deleted.
    raw_rows: usize,
}

/// Erased subjects of one size: (household, records), member 0 of each household.
type Targets = Vec<(usize, u64)>;

/// Which members are erased: the target-size ones, then the small ones.
fn targets(args: &EraseArgs) -> (Targets, Targets) {
    let big = (0..args.erasures)
        .map(|h| (h, args.target_records))
        .collect();
    let small = (args.erasures..2 * args.erasures)
        .map(|h| (h, args.small_records))
        .collect();
    (big, small)
}

fn layout(args: &EraseArgs) -> anyhow::Result<Layout> {
    ensure!(args.erasures > 0, "--erasures must be at least 1");
    let households = args.subjects.div_ceil(MEMBERS_PER_HOUSEHOLD);
    ensure!(
        households >= 2 * args.erasures && args.subjects > 2 * args.erasures,
        "--subjects {} is too few for {} erasures of each size (members come {MEMBERS_PER_HOUSEHOLD} to a household, each erased subject in its own)",
        args.subjects,
        args.erasures
    );
    let erased = args.erasures as u64 * (args.target_records + args.small_records);
    ensure!(
        args.records >= erased,
        "--records {} is fewer than the {} records of the erased subjects",
        args.records,
        erased
    );
    let others = args.subjects - 2 * args.erasures;
    let rest = args.records - erased;
    let mut counts = Vec::with_capacity(args.subjects);
    let mut other = 0;
    for i in 0..args.subjects {
        let (h, m) = (i / MEMBERS_PER_HOUSEHOLD, i % MEMBERS_PER_HOUSEHOLD);
        counts.push(match (m, h) {
            (0, h) if h < args.erasures => args.target_records,
            (0, h) if h < 2 * args.erasures => args.small_records,
            _ => {
                other += 1;
                rights::share(rest, others, other - 1)
            }
        });
    }
    Ok(Layout::new(args.subjects, &args.store, |i| {
        counts.get(i).copied().unwrap_or(0)
    }))
}

pub(super) async fn run(args: EraseArgs) -> anyhow::Result<ExitCode> {
    let layout = layout(&args)?;
    match args.store.database_url.clone() {
        None => run_on(&args, &layout, None).await,
        Some(url) => pg::with_run(&url, async |pg| run_on(&args, &layout, Some(pg)).await).await,
    }
}

/// The run, on SQLite or on the run's PostgreSQL schemas.
async fn run_on(args: &EraseArgs, layout: &Layout, pg: Option<&PgRun>) -> anyhow::Result<ExitCode> {
    let ws = Workspace::new(args.store.data.as_deref())?;
    let load_before = rights::load_average();
    eprintln!(
        "privet bench erase: {} records of {} members; erasing {} subjects of {} and {} of {} records; files in {}",
        thousands(layout.records()),
        thousands(layout.subjects() as u64),
        args.erasures,
        thousands(args.target_records),
        args.erasures,
        thousands(args.small_records),
        ws.root.display()
    );
    let built = rights::build(&ws, layout, pg).await?;
    let (raw_build, mut raw_table) = rights::build_raw(&ws, &built.corpus, pg).await?;
    let server = Proc::Pid(built.server.pid());
    let (pipeline_db, raw_db) = match pg {
        Some(pg) => (
            pg.schema_bytes(&pg.data).await + pg.schema_bytes(&pg.keys).await,
            raw_build.file_bytes,
        ),
        None => (
            db_bytes(&ws.server_data().join("privet.db")),
            db_bytes(&ws.raw_db()),
        ),
    };
    // Open the connection the erasures are sent on before timing any.
    built.warm_up().await?;

    let (big, small) = targets(args);
    let mut erased: Vec<Erasure> = Vec::new();
    let load_start = rights::load_average();
    for (s, b) in small.iter().zip(&big) {
        for &(h, records) in [s, b] {
            let id = built.member(h, 0)?.to_owned();
            rights::sync().await;
            rights::settle_all(server, pg, SETTLE_MAX).await;
            let (receipt, receipt_records) = erase(&built, &id).await?;
            let background = rights::settle_all(server, pg, SETTLE_MAX).await;
            rights::sync().await;
            let (raw, raw_rows) = raw_erase(&mut raw_table, id).await?;
            erased.push(Erasure {
                records,
                receipt,
                receipt_records,
                background,
                raw,
                raw_rows,
            });
        }
    }
    let load_end = rights::load_average();
    let gone = export_status(&built, built.member(0, 0)?).await?;
    let log = built.server.recent_log();
    let load = built.stop().await?;

    report(
        args,
        &Report {
            layout,
            raw_how: raw_table.describe(),
            on: pg::on(pg).await,
            load: &load,
            raw_build: &raw_build,
            pipeline_db,
            raw_db,
            erased: &erased,
            gone,
            loads: [load_before, load_start, load_end],
        },
    );
    let ok = gone == 404
        && erased
            .iter()
            .all(|e| e.receipt_records == e.records && e.raw_rows as u64 == e.records);
    if !ok {
        eprintln!("server log (last lines):\n{log}");
    }
    Ok(exit_code(ok))
}

/// `DELETE /v1/subjects/{id}`: the time to the whole receipt, and the records it counts.
async fn erase(built: &Built, id: &str) -> anyhow::Result<(Duration, u64)> {
    let url = format!("{}/v1/subjects/{id}", built.server.url());
    let started = Instant::now();
    let resp = built
        .http
        .delete(&url)
        .bearer_auth(&built.key)
        .send()
        .await
        .with_context(|| format!("DELETE {url}: no answer"))?;
    let status = resp.status();
    let body = resp.bytes().await?;
    let elapsed = started.elapsed();
    ensure!(
        status == reqwest::StatusCode::OK,
        "DELETE {url}: HTTP {status}: {}",
        String::from_utf8_lossy(&body)
    );
    let reply: ReceiptReply =
        serde_json::from_slice(&body).with_context(|| format!("DELETE {url}: not a receipt"))?;
    ensure!(
        reply.receipt.split('.').count() == 3,
        "DELETE {url}: the receipt is not a compact JWS"
    );
    Ok((elapsed, reply.counts.records))
}

/// The status of an export of an erased subject (404 expected).
async fn export_status(built: &Built, id: &str) -> anyhow::Result<u16> {
    let resp = built
        .http
        .get(format!("{}/v1/subjects/{id}/export", built.server.url()))
        .bearer_auth(&built.key)
        .send()
        .await
        .context("export after erasure: no answer")?;
    Ok(resp.status().as_u16())
}

/// The baseline's `DELETE` of `subject`'s rows, wherever the raw table is.
async fn raw_erase(raw: &mut RawStore<'_>, subject: String) -> anyhow::Result<(Duration, usize)> {
    match raw {
        RawStore::Sqlite(t) => t.run(move |c| raw_delete(c, &subject)).await,
        RawStore::Postgres(pg) => raw_pg::delete(pg, &subject).await,
    }
}

/// The baseline: a plain indexed `DELETE` of one subject's rows, committed (autocommit) at
/// `synchronous=FULL`.
fn raw_delete(conn: &Connection, subject: &str) -> anyhow::Result<(Duration, usize)> {
    let started = Instant::now();
    let n = conn
        .execute("DELETE FROM events WHERE subject = ?1", [subject])
        .context("raw DELETE")?;
    Ok((started.elapsed(), n))
}

struct Report<'a> {
    layout: &'a Layout,
    /// How the raw table is kept.
    raw_how: &'static str,
    /// `; on PostgreSQL …`, or nothing on SQLite.
    on: String,
    load: &'a super::load::LoadResult,
    raw_build: &'a RawResult,
    pipeline_db: u64,
    raw_db: u64,
    erased: &'a [Erasure],
    gone: u16,
    /// 1-minute load average: at the start, when the erasures began, after them.
    loads: [String; 3],
}

fn times(erased: &[Erasure], records: u64, f: impl Fn(&Erasure) -> Duration) -> Vec<Duration> {
    erased
        .iter()
        .filter(|e| e.records == records)
        .map(f)
        .collect()
}

fn spread(xs: &[Duration]) -> String {
    let (min, max) = (
        xs.iter().min().copied().unwrap_or_default(),
        xs.iter().max().copied().unwrap_or_default(),
    );
    format!(
        "median {} (min {}, max {}; {} runs)",
        human(median(xs)),
        human(min),
        human(max),
        xs.len()
    )
}

fn report(args: &EraseArgs, r: &Report<'_>) {
    let s = &r.load.summary;
    let (big, small) = (args.target_records, args.small_records);
    println!(
        "privet bench erase — {} records of {} member subjects in {} households (one `{}` each, stream `{}`), over {} days, {} cores{}; load {} (erasures began at {}, ended at {})",
        thousands(r.layout.records()),
        thousands(r.layout.subjects() as u64),
        thousands(r.layout.households.len() as u64),
        rights::PRODUCT,
        rights::STREAM,
        args.store.days,
        std::thread::available_parallelism().map_or(0, usize::from),
        r.on,
        r.loads[0],
        r.loads[1],
        r.loads[2],
    );
    println!(
        "store     pipeline: {} events in {:.1} s ({} events/s, batches of {}, {} clients), database {}; raw: {} rows in {:.1} s, database {}",
        thousands(s.sent),
        s.elapsed.as_secs_f64(),
        thousands(r.load.rate().round() as u64),
        args.store.batch,
        args.store.clients,
        super::procfs::mib(r.pipeline_db),
        thousands(r.raw_build.rows),
        r.raw_build.elapsed.as_secs_f64(),
        super::procfs::mib(r.raw_db),
    );
    let receipt = |n| times(r.erased, n, |e| e.receipt);
    let raw = |n| times(r.erased, n, |e| e.raw);
    let background = |n| times(r.erased, n, |e| e.background);
    println!(
        "pipeline  DELETE /v1/subjects/{{id}} → signed receipt (key destroyed, mapping deleted; records deleted in the background)"
    );
    for n in [big, small] {
        println!(
            "          {:>7} records: {}; server busy after the receipt ≈ {}",
            thousands(n),
            spread(&receipt(n)),
            human(median(&background(n)))
        );
    }
    println!(
        "raw       DELETE FROM events WHERE subject = ? — {}",
        r.raw_how
    );
    for n in [big, small] {
        println!("          {:>7} rows:    {}", thousands(n), spread(&raw(n)));
    }
    let (rb, rs) = (median(&receipt(big)), median(&receipt(small)));
    let (wb, ws) = (median(&raw(big)), median(&raw(small)));
    let ratio = wb.as_secs_f64() / rb.as_secs_f64().max(1e-9);
    print_ratio(
        &format!("raw DELETE / receipt at {} records", thousands(big)),
        ratio,
        1,
    );
    println!(
        "flatness  receipt {} / {} records = {:.2}; raw DELETE {} / {} rows = {:.2}",
        thousands(big),
        thousands(small),
        rb.as_secs_f64() / rs.as_secs_f64().max(1e-9),
        thousands(big),
        thousands(small),
        wb.as_secs_f64() / ws.as_secs_f64().max(1e-9),
    );
    let flat = rb.as_secs_f64() <= rs.as_secs_f64() * FLAT_RATIO || rb <= rs + FLAT_SLACK;
    println!(
        "targets   receipt ≤ {} at {} records: {}; flat in the record count (≤ {FLAT_RATIO}× or within {} of the {}-record time): {}",
        human(TARGET_RECEIPT),
        thousands(big),
        verdict(rb <= TARGET_RECEIPT),
        human(FLAT_SLACK),
        thousands(small),
        verdict(flat)
    );
    let wrong: Vec<String> = r
        .erased
        .iter()
        .filter(|e| e.receipt_records != e.records || e.raw_rows as u64 != e.records)
        .map(|e| {
            format!(
                "expected {}, receipt said {}, raw deleted {}",
                e.records, e.receipt_records, e.raw_rows
            )
        })
        .collect();
    println!(
        "checks    receipts count every record: {}; export after erasure: HTTP {}{}",
        if wrong.is_empty() {
            "yes".to_owned()
        } else {
            format!("NO ({})", wrong.join("; "))
        },
        r.gone,
        if r.gone == 404 {
            " (gone)"
        } else {
            " — EXPECTED 404"
        }
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::StoreArgs;

    fn args(subjects: usize, records: u64) -> EraseArgs {
        EraseArgs {
            records,
            subjects,
            target_records: 100,
            small_records: 10,
            erasures: 2,
            store: StoreArgs {
                batch: 50,
                clients: 1,
                days: 3,
                data: None,
                seed: 1,
                database_url: None,
            },
        }
    }

    #[test]
    fn the_layout_gives_erased_subjects_their_sizes_and_shares_the_rest() {
        let a = args(21, 1_000);
        let l = layout(&a).unwrap();
        assert_eq!(l.subjects(), 21);
        assert_eq!(l.records(), 1_000);
        assert_eq!(l.households.len(), 6);
        for h in 0..2 {
            assert_eq!(l.households[h][0], 100);
            assert_eq!(l.households[h + 2][0], 10);
        }
        // 17 others share 1,000 - 220 = 780: 45 or 46 each.
        let others: Vec<u64> = l
            .households
            .iter()
            .enumerate()
            .flat_map(|(h, ms)| {
                ms.iter()
                    .enumerate()
                    .filter(move |(m, _)| !(*m == 0 && h < 4))
                    .map(|(_, &c)| c)
            })
            .collect();
        assert_eq!(others.len(), 17);
        assert!(others.iter().all(|&c| c == 45 || c == 46), "{others:?}");
    }

    #[test]
    fn impossible_layouts_are_refused() {
        assert!(layout(&args(6, 1_000)).is_err(), "too few households");
        assert!(layout(&args(21, 100)).is_err(), "too few records");
    }
}
