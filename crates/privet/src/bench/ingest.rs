//! `privet bench ingest`: (a) the full pipeline — a `privet serve` child on a fresh data
//! directory, a fleet set up over HTTP with every consent granted, N pre-generated events
//! posted in batches from concurrent clients, each 200 durable — and (b) the raw baseline on
//! the same events; then both rates, their ratio and the server's peak memory against
//! issue 3's targets. With `--database-url` the server runs on PostgreSQL in the run's own
//! schemas and the baseline is a binary COPY into the same server (`bench/raw_pg.rs`).

use super::IngestArgs;
use super::corpus::Corpus;
use super::load::{self, LoadResult};
use super::output::{bar, exit_code, print_ratio, rate_target, verdict};
use super::pg::{self, PgRun};
use super::procfs::{Proc, mib};
use super::raw::{self, RawResult};
use super::raw_pg;
use super::server::{Backend, ServerProcess};
use super::workspace::{Workspace, db_bytes};
use crate::simulate::manifests;
use crate::simulate::{AdminApi, FleetPlan, provision, thousands};
use anyhow::{Context, ensure};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// Issue 3: the full pipeline must reach this many events per second…
const TARGET_RATE: f64 = 100_000.0;
/// …and (issue 9, raised from issue 3's 1.5×) this multiple of the raw baseline measured in
/// the same run…
const TARGET_RATIO: f64 = 2.0;
/// …spending at most this much server CPU per event (issue 9), in microseconds…
const TARGET_CPU_US: f64 = 5.0;
/// …with the server's resident memory at most this.
const TARGET_RSS: u64 = 300 * 1024 * 1024;
/// On PostgreSQL (2-core machine with the database on it): this many events per second…
const PG_TARGET_RATE: f64 = 60_000.0;
/// …and at least the binary COPY of one row per event into the same server, in the same run.
const PG_TARGET_RATIO: f64 = 1.0;

/// What the pipeline half measured.
struct Pipeline {
    load: LoadResult,
    idle_rss: Option<u64>,
    peak_rss: u64,
    written: Option<u64>,
    db_bytes: u64,
    households: usize,
    server_cpu: Option<Duration>,
    client_cpu: Option<Duration>,
    /// CPU time of the local PostgreSQL server's processes meanwhile (PostgreSQL only).
    db_cpu: Option<Duration>,
}

/// The PostgreSQL server a run used, for the report.
struct PgInfo {
    version: String,
    synchronous_commit: String,
    /// CPU time of the local PostgreSQL server's processes during the raw COPY, and of the
    /// bench (its client).
    raw_cpu: (Option<Duration>, Option<Duration>),
}

/// CPU time used between two readings.
pub(super) fn cpu_between(before: Option<Duration>, after: Option<Duration>) -> Option<Duration> {
    Some(after?.saturating_sub(before?))
}

pub(super) async fn run(args: IngestArgs) -> anyhow::Result<ExitCode> {
    ensure!(args.events > 0, "--events must be at least 1");
    ensure!(args.batch > 0, "--batch must be at least 1");
    ensure!(args.clients > 0, "--clients must be at least 1");
    ensure!(args.devices > 0, "--devices must be at least 1");
    match args.database_url.clone() {
        None => run_on(&args, None).await,
        Some(url) => pg::with_run(&url, async |pg| run_on(&args, Some(pg)).await).await,
    }
}

/// The run, on SQLite or on the run's PostgreSQL schemas.
async fn run_on(args: &IngestArgs, pg: Option<&PgRun>) -> anyhow::Result<ExitCode> {
    let ws = Workspace::new(args.data.as_deref())?;
    let sources = manifests::sources(args.manifests.as_deref())?;
    let products = manifests::parse(&sources)?;
    std::fs::create_dir_all(ws.manifests())?;
    for (name, text) in &sources {
        std::fs::write(ws.manifests().join(name), text)?;
    }
    eprintln!(
        "privet bench ingest: {} events in batches of {} from {} clients; files in {}",
        thousands(args.events as u64),
        args.batch,
        args.clients,
        ws.root.display()
    );

    let (pipeline, corpus) = pipeline(args, &ws, &products, pg).await?;
    // Let the pipeline's writes reach the disk before the baseline starts, so neither half
    // pays for the other's writeback.
    if let Some(pg) = pg {
        pg.checkpoint().await;
    }
    let _ = tokio::task::spawn_blocking(|| std::process::Command::new("sync").status()).await;

    let raw_bar = bar(corpus.events(), "raw");
    let mut raw_cpu = (None, None);
    let raw = match pg {
        None => {
            let (path, corpus, batch, bar) =
                (ws.raw_db(), corpus.clone(), args.raw_batch, raw_bar.clone());
            tokio::task::spawn_blocking(move || raw::run(&path, &corpus, batch, &bar)).await??
        }
        Some(pg) => {
            let before = (db_cpu(), Proc::SelfProcess.cpu());
            let raw = raw_pg::load(pg, &corpus, args.raw_batch, &raw_bar).await?;
            raw_cpu = (
                cpu_between(before.0, db_cpu()),
                cpu_between(before.1, Proc::SelfProcess.cpu()),
            );
            raw
        }
    };
    raw_bar.finish_and_clear();

    let info = match pg {
        Some(pg) => Some(PgInfo {
            version: pg.version().await,
            synchronous_commit: pg.setting("synchronous_commit").await,
            raw_cpu,
        }),
        None => None,
    };
    report(args, &corpus, &pipeline, &raw, info.as_ref());
    Ok(exit_code(pipeline.load.summary.errors() == 0))
}

/// Part (a): the server as a child process, the fleet, the corpus, the timed load.
async fn pipeline(
    args: &IngestArgs,
    ws: &Workspace,
    products: &[Arc<privet_manifest::Manifest>],
    pg: Option<&PgRun>,
) -> anyhow::Result<(Pipeline, Arc<Corpus>)> {
    let data = ws.server_data();
    let backend = pg.map_or_else(|| Backend::Sqlite(data.clone()), PgRun::backend);
    let (key, server) =
        ServerProcess::start_with_admin_key(backend, ws.manifests(), args.batch).await?;
    let url = server.url();
    let proc = Proc::Pid(server.pid());
    let api = AdminApi::new(&url, key)?;
    let devices = provision(
        &api,
        products,
        &FleetPlan {
            devices: args.devices,
            consent_share: 1.0,
            seed: args.seed,
        },
    )
    .await
    .with_context(|| format!("setting up the fleet; server log:\n{}", server.recent_log()))?;
    let households = {
        let mut h: Vec<&str> = devices.iter().map(|d| d.household.as_str()).collect();
        h.sort_unstable();
        h.dedup();
        h.len()
    };

    let gen_bar = bar(args.events as u64, "generate");
    let corpus = {
        let (events, batch, seed, bar) = (args.events, args.batch, args.seed, gen_bar.clone());
        tokio::task::spawn_blocking(move || Corpus::build(&devices, events, batch, seed, &bar))
            .await??
    };
    gen_bar.finish_and_clear();
    let corpus = Arc::new(corpus);

    let idle_rss = proc.rss();
    let written_before = written(proc, pg).await;
    let (server_cpu_before, client_cpu_before) = (proc.cpu(), Proc::SelfProcess.cpu());
    let db_cpu_before = pg.and_then(|_| db_cpu());
    let load_bar = bar(corpus.events(), "pipeline");
    let load = load::run(&url, corpus.clone(), args.clients, proc, &load_bar)
        .await
        .with_context(|| format!("server log:\n{}", server.recent_log()))?;
    load_bar.finish_and_clear();
    let server_cpu = cpu_between(server_cpu_before, proc.cpu());
    let client_cpu = cpu_between(client_cpu_before, Proc::SelfProcess.cpu());
    let db_cpu = cpu_between(db_cpu_before, db_cpu());
    let written = match (written_before, written(proc, pg).await) {
        (Some(a), Some(b)) => Some(b.saturating_sub(a)),
        _ => None,
    };
    let peak_rss = proc.peak_rss().unwrap_or(0).max(load.sampled_peak_rss);
    let db_bytes = match pg {
        Some(pg) => pg.schema_bytes(&pg.data).await + pg.schema_bytes(&pg.keys).await,
        None => db_bytes(&data.join("privet.db")),
    };
    if load.summary.errors() > 0 {
        eprintln!("server log (last lines):\n{}", server.recent_log());
    }
    tokio::task::spawn_blocking(move || server.stop(Duration::from_secs(30))).await??;
    Ok((
        Pipeline {
            load,
            idle_rss,
            peak_rss,
            written,
            db_bytes,
            households,
            server_cpu,
            client_cpu,
            db_cpu,
        },
        corpus,
    ))
}

/// CPU time of the local PostgreSQL server's processes (`postgres`), if this machine runs it.
fn db_cpu() -> Option<Duration> {
    super::procfs::cpu_of_command("postgres")
}

/// Bytes written so far by the server process; on PostgreSQL, the database server's WAL
/// position (the server under test writes nothing itself).
async fn written(proc: Proc, pg: Option<&PgRun>) -> Option<u64> {
    match pg {
        Some(pg) => pg.wal_position().await,
        None => proc.written(),
    }
}

fn per_event(bytes: Option<u64>, events: u64) -> String {
    match bytes {
        Some(b) => format!(
            "{} written ({:.0} B/event)",
            mib(b),
            b as f64 / events.max(1) as f64
        ),
        None => "bytes written unknown".to_owned(),
    }
}

fn report(args: &IngestArgs, corpus: &Corpus, p: &Pipeline, raw: &RawResult, pg: Option<&PgInfo>) {
    let s = &p.load.summary;
    let n = corpus.events();
    let pipeline_rate = p.load.rate();
    let raw_rate = raw.rate();
    let ratio = pipeline_rate / raw_rate.max(1e-9);
    println!(
        "privet bench ingest — {} events (mean {:.0} B of JSON) from {} devices in {} households, {} cores{}",
        thousands(n),
        corpus.mean_event_bytes(),
        corpus.device_ids.len(),
        p.households,
        std::thread::available_parallelism().map_or(0, usize::from),
        pg.map_or_else(String::new, |pg| format!(
            "; on {} (synchronous_commit={})",
            pg.version, pg.synchronous_commit
        )),
    );
    println!(
        "pipeline  {} events in {:.2} s = {} events/s — HTTP, batches of {}, {} clients, every 200 durable",
        thousands(s.sent),
        s.elapsed.as_secs_f64(),
        thousands(pipeline_rate.round() as u64),
        args.batch,
        args.clients
    );
    println!(
        "          accepted {}, dropped {} fields ({} undeclared), errors {}",
        thousands(s.accepted),
        thousands(s.dropped.total()),
        thousands(s.dropped.undeclared),
        thousands(s.errors())
    );
    println!("          request latency {}", s.latencies);
    let (wal, tables) = match pg {
        Some(_) => ("WAL ", "schemas"),
        None => ("", "database"),
    };
    println!(
        "          server peak RSS {} (idle before the load {}); {wal}{}; {tables} {}",
        mib(p.peak_rss),
        p.idle_rss.map_or_else(|| "unknown".to_owned(), mib),
        per_event(p.written, n),
        mib(p.db_bytes)
    );
    if let (Some(server), Some(client)) = (p.server_cpu, p.client_cpu) {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let db = p.db_cpu.map_or_else(String::new, |db| {
            format!(
                ", local PostgreSQL {:.2} s ({:.1} µs/event)",
                db.as_secs_f64(),
                db.as_secs_f64() * 1e6 / n.max(1) as f64
            )
        });
        println!(
            "          CPU: server {:.2} s ({:.1} µs/event){db}, bench clients {:.2} s, of {:.2} s on {cores} cores",
            server.as_secs_f64(),
            server.as_secs_f64() * 1e6 / n.max(1) as f64,
            client.as_secs_f64(),
            s.elapsed.as_secs_f64() * cores as f64,
        );
    }
    let how = match pg {
        Some(pg) => format!(
            "binary COPY into the same server, one row per event, index on (subject, ts), {} rows a COPY, each committed (synchronous_commit={})",
            args.raw_batch, pg.synchronous_commit
        ),
        None => format!(
            "one row per event, index on (subject, ts), {} rows a transaction, WAL, synchronous=FULL",
            args.raw_batch
        ),
    };
    println!(
        "raw       {} rows in {:.2} s = {} rows/s — {how}",
        thousands(raw.rows),
        raw.elapsed.as_secs_f64(),
        thousands(raw_rate.round() as u64),
    );
    let tables = if pg.is_some() { "table" } else { "database" };
    println!(
        "          {wal}{}; {tables} {}",
        per_event(raw.written, raw.rows),
        mib(raw.file_bytes)
    );
    if let Some((Some(db), Some(bench))) = pg.map(|pg| pg.raw_cpu) {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        println!(
            "          CPU: local PostgreSQL {:.2} s ({:.1} µs/row), bench (the COPY client) {:.2} s, of {:.2} s on {cores} cores",
            db.as_secs_f64(),
            db.as_secs_f64() * 1e6 / raw.rows.max(1) as f64,
            bench.as_secs_f64(),
            raw.elapsed.as_secs_f64() * cores as f64,
        );
    }
    print_ratio("pipeline / raw", ratio, 2);
    let cpu_us = p
        .server_cpu
        .map(|c| c.as_secs_f64() * 1e6 / n.max(1) as f64);
    if pg.is_some() {
        println!(
            "targets   {}; ≥ {PG_TARGET_RATIO:.1}× raw COPY: {}; server RSS ≤ {}: {}",
            rate_target(pipeline_rate, PG_TARGET_RATE, "events"),
            verdict(ratio >= PG_TARGET_RATIO),
            mib(TARGET_RSS),
            verdict(p.peak_rss <= TARGET_RSS)
        );
    } else {
        println!(
            "targets   {}; ≥ {TARGET_RATIO}× raw: {}; ≤ {TARGET_CPU_US} µs server CPU per event: {}; server RSS ≤ {}: {}",
            rate_target(pipeline_rate, TARGET_RATE, "events"),
            verdict(ratio >= TARGET_RATIO),
            cpu_us.map_or("unknown", |us| verdict(us <= TARGET_CPU_US)),
            mib(TARGET_RSS),
            verdict(p.peak_rss <= TARGET_RSS)
        );
    }
    if s.accepted != s.sent {
        println!(
            "note      {} events had nothing the policy kept",
            thousands(s.sent.saturating_sub(s.accepted))
        );
    }
}
