//! The store the rights benchmarks (`bench erase`, `bench export`) measure, built through the
//! real pipeline: a `privet serve` child on a fresh data directory, households of member
//! subjects set up over HTTP, one household-wide smart speaker each, and every record sent to
//! `POST /v1/ingest` as that speaker's events about its members; then the same events as one
//! row each in a raw SQLite table, the baseline both benchmarks compare with.
//!
//! The records are the speaker's `usage` stream: member data (each event names the member
//! who used the speaker), every field in one retention class, so one event is one record,
//! and kept under legitimate interests, so no consent is needed. Event times are spread
//! evenly over the last `days` days; each household's events are sent in time order, `batch`
//! a request, and the requests of all households in the order of their first event, as a
//! fleet sending in real time would. The raw table receives the rows in time order too, so a
//! subject's rows are spread over it as they are in a real one-row-per-event table.
//!
//! With `--database-url` the server runs on PostgreSQL in the run's own schemas and the raw
//! table is a PostgreSQL table on the same server (`bench/raw_pg.rs`).

use super::StoreArgs;
use super::corpus::Corpus;
use super::load::{self, LoadResult};
use super::output::bar;
use super::pg::PgRun;
use super::procfs::Proc;
use super::raw::{self, RawResult};
use super::raw_pg;
use super::server::{Backend, ServerProcess};
use super::workspace::Workspace;
use crate::simulate::{AdminApi, EventGen, http_client, manifests, thousands};
use anyhow::{Context, bail, ensure};
use futures::{StreamExt, TryStreamExt};
use jiff::Timestamp;
use privet_manifest::Manifest;
use rusqlite::Connection;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The product whose events make up the store: a smart speaker, used by the whole household.
pub(super) const PRODUCT: &str = "hearth-speaker-3";
/// Its stream of member data with one retention class.
pub(super) const STREAM: &str = "usage";
/// Members per household.
pub(super) const MEMBERS_PER_HOUSEHOLD: usize = 4;
/// Rows a transaction when filling the raw table (as `bench ingest`'s baseline).
const RAW_BATCH: usize = 10_000;

/// What to build.
pub(super) struct Layout {
    /// Records of each member, one list per household.
    pub(super) households: Vec<Vec<u64>>,
    /// Event times spread over this many days before now.
    pub(super) days: u32,
    /// Events a request.
    pub(super) batch: usize,
    /// Concurrent HTTP clients while ingesting.
    pub(super) clients: usize,
    /// Seed for the generated values.
    pub(super) seed: u64,
}

impl Layout {
    /// `subjects` members in households of [`MEMBERS_PER_HOUSEHOLD`] (the last one may be
    /// smaller), with the record counts `count(i)` of member `i`.
    pub(super) fn new(subjects: usize, store: &StoreArgs, count: impl Fn(usize) -> u64) -> Layout {
        let households = (0..subjects)
            .collect::<Vec<_>>()
            .chunks(MEMBERS_PER_HOUSEHOLD)
            .map(|members| members.iter().map(|&i| count(i)).collect())
            .collect();
        Layout {
            households,
            days: store.days,
            batch: store.batch,
            clients: store.clients,
            seed: store.seed,
        }
    }

    /// Records over all members.
    pub(super) fn records(&self) -> u64 {
        self.households.iter().flatten().sum()
    }

    /// Members over all households.
    pub(super) fn subjects(&self) -> usize {
        self.households.iter().map(Vec::len).sum()
    }
}

/// `total` split as evenly as possible into `parts` (the first ones get the remainder).
pub(super) fn share(total: u64, parts: usize, i: usize) -> u64 {
    let parts = parts.max(1) as u64;
    total / parts + u64::from((i as u64) < total % parts)
}

/// The built store, with the server still running.
pub(super) struct Built {
    /// The server.
    pub(super) server: ServerProcess,
    /// An admin API key of it.
    pub(super) key: String,
    /// An HTTP client for it.
    pub(super) http: reqwest::Client,
    /// Member ids, by household, in the order of [`Layout::households`].
    pub(super) members: Vec<Vec<String>>,
    /// Every event sent; its rows are in time order.
    pub(super) corpus: Arc<Corpus>,
    /// The ingest run.
    pub(super) load: LoadResult,
}

impl Built {
    /// The id of member `m` of household `h`.
    pub(super) fn member(&self, h: usize, m: usize) -> anyhow::Result<&str> {
        self.members
            .get(h)
            .and_then(|ms| ms.get(m))
            .map(String::as_str)
            .context("no such member")
    }

    /// Asks the server for nothing, so the client's connection is open before a timed request.
    pub(super) async fn warm_up(&self) -> anyhow::Result<()> {
        self.http
            .get(format!("{}/healthz", self.server.url()))
            .send()
            .await
            .context("the server does not answer")?;
        Ok(())
    }

    /// Stops the server (gracefully, or killed after 30 s) and returns the ingest run.
    pub(super) async fn stop(self) -> anyhow::Result<LoadResult> {
        let Built { server, load, .. } = self;
        tokio::task::spawn_blocking(move || server.stop(Duration::from_secs(30))).await??;
        Ok(load)
    }
}

/// Starts the server on the workspace (on `pg`'s schemas when given) and fills it with
/// `layout`'s records over HTTP.
pub(super) async fn build(
    ws: &Workspace,
    layout: &Layout,
    pg: Option<&PgRun>,
) -> anyhow::Result<Built> {
    ensure!(layout.batch > 0, "--batch must be at least 1");
    ensure!(layout.clients > 0, "--clients must be at least 1");
    ensure!(layout.days > 0, "--days must be at least 1");
    let sources = manifests::sources(None)?;
    let products = manifests::parse(&sources)?;
    let speaker = products
        .iter()
        .find(|m| m.product.id.value.as_str() == PRODUCT)
        .cloned()
        .with_context(|| format!("the built-in example products lack `{PRODUCT}`"))?;
    std::fs::create_dir_all(ws.manifests())?;
    for (name, text) in &sources {
        std::fs::write(ws.manifests().join(name), text)?;
    }
    let backend = pg.map_or_else(|| Backend::Sqlite(ws.server_data()), PgRun::backend);
    let (key, server) =
        ServerProcess::start_with_admin_key(backend, ws.manifests(), layout.batch).await?;
    let url = server.url();
    let api = AdminApi::new(&url, key.clone())?;
    let sizes: Vec<usize> = layout.households.iter().map(Vec::len).collect();
    let fleet: Vec<(Vec<String>, String, String)> =
        futures::stream::iter(sizes.into_iter().enumerate())
            .map(|(h, n)| household(&api, h, n))
            .buffered(8)
            .try_collect()
            .await
            .with_context(|| {
                format!(
                    "setting up the households; server log:\n{}",
                    server.recent_log()
                )
            })?;
    let mut members = Vec::with_capacity(fleet.len());
    let mut device_ids = Vec::with_capacity(fleet.len());
    let mut tokens = Vec::with_capacity(fleet.len());
    for (m, id, token) in fleet {
        members.push(m);
        device_ids.push(id);
        tokens.push(token);
    }

    let gen_bar = bar(layout.records(), "generate");
    let corpus = {
        let households = layout.households.clone();
        let (members, bar) = (members.clone(), gen_bar.clone());
        let (days, batch, seed) = (layout.days, layout.batch, layout.seed);
        tokio::task::spawn_blocking(move || {
            let mut corpus = Corpus::empty(device_ids, tokens, members.concat());
            generate(
                &mut corpus,
                &households,
                &members,
                &speaker,
                (days, batch, seed),
                &bar,
            )?;
            Ok::<_, anyhow::Error>(corpus)
        })
        .await??
    };
    gen_bar.finish_and_clear();
    let corpus = Arc::new(corpus);

    let load_bar = bar(corpus.events(), "ingest");
    let load = load::run(
        &url,
        corpus.clone(),
        layout.clients,
        Proc::Pid(server.pid()),
        &load_bar,
    )
    .await
    .with_context(|| format!("server log:\n{}", server.recent_log()))?;
    load_bar.finish_and_clear();
    let s = &load.summary;
    if s.errors() > 0 || s.accepted != s.sent {
        bail!(
            "building the store failed: {} events sent, {} accepted, {} requests failed; server log:\n{}",
            thousands(s.sent),
            thousands(s.accepted),
            thousands(s.errors()),
            server.recent_log()
        );
    }
    Ok(Built {
        server,
        key,
        http: http_client()?,
        members,
        corpus,
        load,
    })
}

/// One household with `n` members and a speaker; returns the member ids, the device id and
/// its token.
async fn household(
    api: &AdminApi,
    index: usize,
    n: usize,
) -> anyhow::Result<(Vec<String>, String, String)> {
    let h = api.household(&format!("Bench home {}", index + 1)).await?;
    let mut members = Vec::with_capacity(n);
    for i in 0..n {
        members.push(api.member(&h, &format!("Member {}", i + 1), false).await?);
    }
    let device = api.device(PRODUCT, &h, None).await?;
    Ok((members, device.id, device.token))
}

/// A request to be: household `household`'s events `range` of its time-ordered events.
struct PlannedBody {
    first_ts: i64,
    household: usize,
    range: std::ops::Range<usize>,
}

/// Fills `corpus` with the events of `households` (see the module documentation).
fn generate(
    corpus: &mut Corpus,
    households: &[Vec<u64>],
    members: &[Vec<String>],
    speaker: &Arc<Manifest>,
    (days, batch, seed): (u32, usize, u64),
    bar: &indicatif::ProgressBar,
) -> anyhow::Result<()> {
    let stream = speaker
        .streams
        .iter()
        .position(|s| s.id.value.as_str() == STREAM)
        .with_context(|| format!("`{PRODUCT}` has no stream `{STREAM}`"))?;
    // Up to a minute ago, so no event is ahead of the server's clock.
    let end = Timestamp::now().as_microsecond() - 60_000_000;
    let span = i64::from(days) * 86_400_000_000;
    let start = end - span;
    let mut rng = fastrand::Rng::with_seed(seed);
    // Each household's events in time order: (time, member).
    let mut timelines: Vec<Vec<(i64, u32)>> = Vec::with_capacity(households.len());
    for counts in households {
        let mut events = Vec::with_capacity(counts.iter().sum::<u64>() as usize);
        for (m, &c) in counts.iter().enumerate() {
            let phase = rng.f64();
            let m = u32::try_from(m).context("too many members")?;
            for k in 0..c {
                let at = start + ((k as f64 + phase) * span as f64 / c as f64) as i64;
                events.push((at.min(end), m));
            }
        }
        events.sort_unstable();
        timelines.push(events);
    }
    let mut planned: Vec<PlannedBody> = Vec::new();
    for (h, events) in timelines.iter().enumerate() {
        for (i, chunk) in events.chunks(batch.max(1)).enumerate() {
            let from = i * batch.max(1);
            planned.push(PlannedBody {
                first_ts: chunk.first().map_or(start, |e| e.0),
                household: h,
                range: from..from + chunk.len(),
            });
        }
    }
    planned.sort_by_key(|b| (b.first_ts, b.household));
    let mut first_subject = Vec::with_capacity(households.len());
    let mut next = 0u32;
    for counts in households {
        first_subject.push(next);
        next += u32::try_from(counts.len()).context("too many members")?;
    }
    // One generator per member, so each event names its member.
    let mut gens: Vec<Vec<EventGen>> = members
        .iter()
        .enumerate()
        .map(|(h, ms)| {
            ms.iter()
                .enumerate()
                .map(|(m, id)| {
                    let s = seed.wrapping_add(((h as u64) << 8) + m as u64);
                    EventGen::new(speaker.clone(), vec![id.clone()], s)
                })
                .collect()
        })
        .collect();
    for body in planned {
        let h = body.household;
        let events = &timelines[h][body.range];
        let gens = &mut gens[h];
        let mut made = Vec::with_capacity(events.len());
        for &(at, m) in events {
            let ts = Timestamp::from_microsecond(at).context("event time out of range")?;
            let g = gens.get_mut(m as usize).context("no such member")?;
            made.push((g.event_of(stream, ts).json, first_subject[h] + m, at));
        }
        corpus.push_body(h, made)?;
        bar.inc(events.len() as u64);
    }
    // The raw table receives events as they happened, all households interleaved.
    corpus.rows.sort_by_key(|r| r.ts);
    Ok(())
}

/// Fills the raw table (`ws.raw_db()`, or the run's PostgreSQL schema) with the corpus, one
/// row per event, in time order; returns what that took and the table, open.
pub(super) async fn build_raw<'a>(
    ws: &Workspace,
    corpus: &Arc<Corpus>,
    pg: Option<&'a PgRun>,
) -> anyhow::Result<(RawResult, RawStore<'a>)> {
    let raw_bar = bar(corpus.events(), "raw");
    let built = match pg {
        None => {
            let (path, corpus, bar) = (ws.raw_db(), corpus.clone(), raw_bar.clone());
            let raw =
                tokio::task::spawn_blocking(move || raw::run(&path, &corpus, RAW_BATCH, &bar))
                    .await??;
            (raw, RawStore::Sqlite(RawTable::open(ws.raw_db()).await?))
        }
        Some(pg) => (
            raw_pg::load(pg, corpus, RAW_BATCH, &raw_bar).await?,
            RawStore::Postgres(pg),
        ),
    };
    raw_bar.finish_and_clear();
    Ok(built)
}

/// Where the raw table is.
pub(super) enum RawStore<'a> {
    /// The workspace's SQLite file.
    Sqlite(RawTable),
    /// The run's PostgreSQL schema.
    Postgres(&'a PgRun),
}

impl RawStore<'_> {
    /// How the raw table is kept, for the report.
    pub(super) fn describe(&self) -> &'static str {
        match self {
            RawStore::Sqlite(_) => {
                "one row per event, index on (subject, ts), WAL, synchronous=FULL"
            }
            RawStore::Postgres(_) => {
                "PostgreSQL, the same server, one row per event, index on (subject, ts)"
            }
        }
    }
}

/// The raw table's database, open at the baseline's durability (WAL, `synchronous=FULL`).
/// Its timed steps run on a blocking thread, as SQLite calls block.
pub(super) struct RawTable {
    /// Lent to the blocking thread for each step.
    conn: Option<Connection>,
}

impl RawTable {
    /// Opens the database at `path` (the workspace's `raw_db()`), on a blocking thread.
    pub(super) async fn open(path: PathBuf) -> anyhow::Result<RawTable> {
        let conn = tokio::task::spawn_blocking(move || {
            let conn = Connection::open(&path)
                .with_context(|| format!("cannot open {}", path.display()))?;
            conn.pragma_update(None, "journal_mode", "WAL")?;
            conn.pragma_update(None, "synchronous", "FULL")?;
            Ok::<_, anyhow::Error>(conn)
        })
        .await??;
        Ok(RawTable { conn: Some(conn) })
    }

    /// Runs `step` on the connection on a blocking thread.
    pub(super) async fn run<T: Send + 'static>(
        &mut self,
        step: impl FnOnce(&Connection) -> anyhow::Result<T> + Send + 'static,
    ) -> anyhow::Result<T> {
        let conn = self
            .conn
            .take()
            .context("a step on the raw table panicked")?;
        let (out, conn) = tokio::task::spawn_blocking(move || (step(&conn), conn)).await?;
        self.conn = Some(conn);
        out
    }
}

/// Flushes dirty pages to disk, so a timed step does not pay for an earlier one's writeback.
pub(super) async fn sync() {
    let _ = tokio::task::spawn_blocking(|| std::process::Command::new("sync").status()).await;
}

/// [`settle`], after (on PostgreSQL) the server's background jobs are done: its work there is
/// the database's, not its own CPU time.
pub(super) async fn settle_all(server: Proc, pg: Option<&PgRun>, max: Duration) -> Duration {
    let started = Instant::now();
    if let Some(pg) = pg {
        pg.settle_jobs(max).await;
    }
    settle(server, max.saturating_sub(started.elapsed())).await;
    started.elapsed()
}

/// Waits until the server has been idle (no CPU time, no writes) for 200 ms, or `max`
/// passed; returns how long it waited.
pub(super) async fn settle(server: Proc, max: Duration) -> Duration {
    let started = Instant::now();
    let mut last = (server.cpu(), server.written());
    loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let now = (server.cpu(), server.written());
        let busy_cpu = match (last.0, now.0) {
            // One clock tick (10 ms) can be bookkeeping.
            (Some(a), Some(b)) => b.saturating_sub(a) > Duration::from_millis(10),
            _ => false,
        };
        let busy_io = match (last.1, now.1) {
            (Some(a), Some(b)) => b > a,
            _ => false,
        };
        if !(busy_cpu || busy_io) || started.elapsed() >= max {
            return started.elapsed();
        }
        last = now;
    }
}

/// The median of `xs` (the mean of the middle two for an even count); zero when empty.
pub(super) fn median(xs: &[Duration]) -> Duration {
    let mut v = xs.to_vec();
    v.sort_unstable();
    match v.len() {
        0 => Duration::ZERO,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2,
    }
}

/// The median of `xs`; zero when empty.
pub(super) fn median_f64(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_unstable_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// The 1-minute load average, for the report.
pub(super) fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "unknown".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_add_up_and_differ_by_at_most_one() {
        let parts: Vec<u64> = (0..7).map(|i| share(100, 7, i)).collect();
        assert_eq!(parts.iter().sum::<u64>(), 100);
        assert!(parts.iter().all(|&p| p == 14 || p == 15));
        assert_eq!(share(5, 0, 0), 5);
    }

    #[test]
    fn a_layout_groups_members_into_households() {
        let store = StoreArgs {
            batch: 100,
            clients: 1,
            days: 1,
            data: None,
            seed: 0,
            database_url: None,
        };
        let l = Layout::new(10, &store, |i| i as u64);
        assert_eq!(l.households.len(), 3);
        assert_eq!(l.households[2], vec![8, 9]);
        assert_eq!(l.subjects(), 10);
        assert_eq!(l.records(), 45);
    }

    #[test]
    fn medians() {
        let ms = |v: &[u64]| {
            v.iter()
                .map(|&x| Duration::from_millis(x))
                .collect::<Vec<_>>()
        };
        assert_eq!(median(&ms(&[5, 1, 3])), Duration::from_millis(3));
        assert_eq!(median(&ms(&[4, 1, 3, 2])), Duration::from_micros(2_500));
        assert_eq!(median(&[]), Duration::ZERO);
        assert_eq!(median_f64(&[3.0, 1.0, 2.0]), 2.0);
    }

    #[test]
    fn generated_events_name_their_member_and_stay_in_time_order() {
        let products = manifests::load(None).unwrap();
        let speaker = products
            .iter()
            .find(|m| m.product.id.value.as_str() == PRODUCT)
            .unwrap()
            .clone();
        let households = vec![vec![30, 5], vec![7]];
        let members = vec![
            vec!["mem_a".to_owned(), "mem_b".to_owned()],
            vec!["mem_c".to_owned()],
        ];
        let mut corpus = Corpus::empty(
            vec!["dev_1".into(), "dev_2".into()],
            vec!["t1".into(), "t2".into()],
            members.concat(),
        );
        let bar = indicatif::ProgressBar::hidden();
        generate(
            &mut corpus,
            &households,
            &members,
            &speaker,
            (2, 10, 1),
            &bar,
        )
        .unwrap();
        assert_eq!(corpus.events(), 42);
        assert_eq!(corpus.bodies.len(), 4 + 1);
        assert!(corpus.rows.windows(2).all(|w| w[0].ts <= w[1].ts));
        let a = corpus.rows.iter().filter(|r| r.subject == 0).count();
        let c = corpus.rows.iter().filter(|r| r.subject == 2).count();
        assert_eq!((a, c), (30, 7));
        for row in &corpus.rows {
            let v: serde_json::Value = serde_json::from_str(corpus.payload(row).unwrap()).unwrap();
            assert_eq!(v["stream"], STREAM);
            assert_eq!(v["member"], corpus.subjects[row.subject as usize]);
        }
        assert!(corpus.bodies.iter().all(|b| b.device < 2));
    }
}
