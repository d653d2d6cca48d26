//! The PostgreSQL side of a bench run (`--database-url`): three fresh schemas of its own —
//! `bench_<pid>_<n>` for the server's data, `…_keys` for its keyring and `…_raw` for the
//! baseline's table — created before anything runs and dropped afterwards, also when the run
//! fails or is interrupted, so a bench never touches an operator's `privet` schemas. Only
//! schemas this run created are ever dropped.

use super::server::Backend;
use anyhow::{Context, bail};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use tokio_postgres::{Client, NoTls};

/// Prefix of every schema a bench creates (`tests/bench_cli.rs` looks for it).
pub(super) const PREFIX: &str = "bench_";
/// Next `<n>` of `bench_<pid>_<n>` within this process.
static NEXT: AtomicU32 = AtomicU32::new(0);
/// Names tried before giving up on finding a free one.
const NAME_TRIES: u32 = 20;
/// How long dropping the schemas may wait for a lock (a killed server's sessions ending).
const DROP_LOCK_TIMEOUT: &str = "30s";

/// The database and schemas of one run, and a plain connection for the baseline and figures.
pub(super) struct PgRun {
    url: String,
    client: Client,
    /// The server's data schema.
    pub(super) data: String,
    /// The server's keyring schema.
    pub(super) keys: String,
    /// The baseline's schema.
    pub(super) raw: String,
}

/// A plain connection to `url`, its connection task spawned.
pub(super) async fn connect(url: &str) -> anyhow::Result<Client> {
    // Parsed here, not by `tokio_postgres::connect`, whose parse errors may repeat URL text.
    let config = privet_store_postgres::parse_url(url)?;
    let (client, connection) = config
        .connect(NoTls)
        .await
        .with_context(|| format!("cannot connect to {}", crate::backend::describe_url(url)))?;
    tokio::spawn(async move {
        // Ends when the client is dropped; an error then has nobody left to tell.
        let _ = connection.await;
    });
    Ok(client)
}

/// Refuses anything but a `postgres://` URL before anything runs.
pub(super) fn check_url(url: &str) -> anyhow::Result<()> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(())
    } else {
        bail!(
            "--database-url must be a postgres:// URL (the benches run on SQLite when it is omitted)"
        )
    }
}

/// Creates the run's schemas on `url`, runs `body` with them, then drops them whatever
/// happened (Ctrl-C included: `body` is dropped first, which kills its server).
pub(super) async fn with_run<T>(
    url: &str,
    body: impl AsyncFnOnce(&PgRun) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    check_url(url)?;
    let run = PgRun::create(url).await?;
    eprintln!(
        "PostgreSQL {}: schemas {}, {}, {} (dropped at the end)",
        crate::backend::describe_url(url),
        run.data,
        run.keys,
        run.raw
    );
    let outcome = tokio::select! {
        r = body(&run) => r,
        _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!("interrupted")),
    };
    let dropped = run.drop_schemas().await;
    match (outcome, dropped) {
        (Ok(v), Ok(())) => Ok(v),
        (Ok(_), Err(e)) => Err(e),
        (Err(e), Ok(())) => Err(e),
        (Err(e), Err(d)) => Err(e.context(format!("{d:#}"))),
    }
}

/// `; on PostgreSQL 15.20 (synchronous_commit=on)` for the report's first line; nothing on
/// SQLite.
pub(super) async fn on(pg: Option<&PgRun>) -> String {
    match pg {
        Some(pg) => format!(
            "; on {} (synchronous_commit={})",
            pg.version().await,
            pg.setting("synchronous_commit").await
        ),
        None => String::new(),
    }
}

impl PgRun {
    /// Connects and creates three schemas no one has, in one transaction.
    async fn create(url: &str) -> anyhow::Result<PgRun> {
        let mut client = connect(url).await?;
        let pid = std::process::id();
        for _ in 0..NAME_TRIES {
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let data = format!("{PREFIX}{pid}_{n}");
            let (keys, raw) = (format!("{data}_keys"), format!("{data}_raw"));
            let tx = client.transaction().await?;
            // Plain CREATE SCHEMA: a name that exists (another run's) fails, and is not ours.
            let created = tx
                .batch_execute(&format!(
                    "CREATE SCHEMA {data}; CREATE SCHEMA {keys}; CREATE SCHEMA {raw};"
                ))
                .await;
            match created {
                Ok(()) => {
                    tx.commit()
                        .await
                        .context("cannot create the bench schemas")?;
                    return Ok(PgRun {
                        url: url.to_owned(),
                        client,
                        data,
                        keys,
                        raw,
                    });
                }
                Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::DUPLICATE_SCHEMA) => {
                    continue;
                }
                Err(e) => return Err(e).context("cannot create the bench schemas"),
            }
        }
        bail!("no free schema name {PREFIX}{pid}_<n> after {NAME_TRIES} tries")
    }

    /// The plain connection.
    pub(super) fn client(&self) -> &Client {
        &self.client
    }

    /// How the server under test reaches this run's schemas.
    pub(super) fn backend(&self) -> Backend {
        Backend::Postgres {
            url: self.url.clone(),
            schema: self.data.clone(),
            keyring_schema: self.keys.clone(),
        }
    }

    /// `PostgreSQL 15.20 …`, shortened to name and version.
    pub(super) async fn version(&self) -> String {
        match self.client.query_one("SHOW server_version", &[]).await {
            Ok(row) => format!("PostgreSQL {}", row.get::<_, String>(0)),
            Err(_) => "PostgreSQL".to_owned(),
        }
    }

    /// A setting's value, for the report (`synchronous_commit`).
    pub(super) async fn setting(&self, name: &str) -> String {
        let got = self
            .client
            .query_one("SELECT current_setting($1)", &[&name])
            .await;
        got.map_or_else(|_| "unknown".to_owned(), |r| r.get(0))
    }

    /// The server's WAL position in bytes: the difference of two readings is the WAL written
    /// meanwhile (by everyone on the server).
    pub(super) async fn wal_position(&self) -> Option<u64> {
        let row = self
            .client
            .query_one(
                "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint",
                &[],
            )
            .await
            .ok()?;
        u64::try_from(row.get::<_, i64>(0)).ok()
    }

    /// Bytes of the tables (with their indexes and TOAST) in `schema`.
    pub(super) async fn schema_bytes(&self, schema: &str) -> u64 {
        let got = self
            .client
            .query_one(
                "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint
                   FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                  WHERE n.nspname = $1 AND c.relkind IN ('r', 'm')",
                &[&schema],
            )
            .await;
        got.ok()
            .and_then(|r| u64::try_from(r.get::<_, i64>(0)).ok())
            .unwrap_or(0)
    }

    /// Background jobs of the server due and not yet done (the erasure's record purge).
    /// `due` is microseconds since the Unix epoch, as every time in the store.
    pub(super) async fn pending_jobs(&self) -> Option<i64> {
        let sql = format!(
            "SELECT count(*) FROM {}.jobs WHERE done_at IS NULL
                AND due <= (extract(epoch FROM clock_timestamp()) * 1000000)::bigint",
            self.data
        );
        self.client
            .query_one(&sql, &[])
            .await
            .ok()
            .map(|r| r.get(0))
    }

    /// Waits until the server has no background job left, or `max` passed.
    pub(super) async fn settle_jobs(&self, max: Duration) {
        let started = std::time::Instant::now();
        while started.elapsed() < max {
            match self.pending_jobs().await {
                Some(0) | None => return,
                Some(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }

    /// Flushes the server's dirty buffers (`CHECKPOINT`, needs superuser or `pg_checkpoint`;
    /// skipped otherwise) so a timed step does not pay for an earlier one's writes.
    pub(super) async fn checkpoint(&self) {
        let _ = self.client.batch_execute("CHECKPOINT").await;
    }

    /// Drops the three schemas on a new connection (the run's may be the one that failed).
    async fn drop_schemas(&self) -> anyhow::Result<()> {
        let names = format!("{}, {}, {}", self.data, self.keys, self.raw);
        let dropped = async {
            let c = connect(&self.url).await?;
            c.batch_execute(&format!(
                "SET lock_timeout = '{DROP_LOCK_TIMEOUT}'; DROP SCHEMA IF EXISTS {names} CASCADE;"
            ))
            .await?;
            Ok::<_, anyhow::Error>(())
        };
        dropped
            .await
            .with_context(|| format!("could not drop the bench schemas {names}; drop them by hand"))
    }
}
