//! [`PgStore`], the data store, and [`open`], which migrates both schemas and makes the store
//! and its keyring.

use crate::chunks;
use crate::error::{PgError, classify_pool};
use crate::keyring::PgKeyring;
use crate::migrate::{self, Migration};
use crate::options::PgOptions;
use crate::pool;
use crate::writer::Writer;
use deadpool_postgres::Pool;
use std::sync::Arc;
use std::time::Duration;

/// The data store on PostgreSQL: a connection pool on the data schema, the group-commit
/// writer for record blocks, and what a change listener connects with. Cheap to clone; the
/// writer stops when the last clone is dropped.
#[derive(Clone)]
pub struct PgStore {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) pool: Pool,
    pub(crate) schema: String,
    pub(crate) channel: String,
    pub(crate) writer: Writer,
    pub(crate) listen: tokio_postgres::Config,
    /// The slots of scans holding a connection: fewer than the pool's connections (see
    /// `crate::scan`).
    pub(crate) scans: Arc<tokio::sync::Semaphore>,
}

impl PgStore {
    /// The data schema's connection pool (its connections' `search_path` is the schema).
    pub fn pool(&self) -> &Pool {
        &self.inner.pool
    }

    /// The schema holding the data.
    pub fn schema(&self) -> &str {
        &self.inner.schema
    }
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("schema", &self.inner.schema)
            .finish_non_exhaustive()
    }
}

/// Extra time past the connect timeout before `open` gives up on a connection itself (the
/// client's timeout covers the TCP connect; this covers a server that accepts and then says
/// nothing).
const OPEN_GRACE: Duration = Duration::from_secs(1);

/// Opens the store and its keyring: connects, creates the schemas if missing and applies
/// their migrations (each under its advisory lock), and starts the block writer.
pub async fn open(opts: &PgOptions) -> Result<(PgStore, PgKeyring), PgError> {
    opts.check()?;
    let timeout = opts.connect_timeout;
    let data = pool::config(&opts.url, timeout, "privet")?;
    let keys = match &opts.keyring_url {
        Some(url) => pool::config(url, timeout, "privet-keyring")?,
        None => data.clone(),
    };
    let data_pool = pool::build(&data, &opts.schema, opts.pool_size, timeout)?;
    let keyring_pool = pool::build(
        &keys,
        &opts.keyring_schema,
        (opts.pool_size / 4).max(2),
        timeout,
    )?;
    migrate_schema(&data_pool, &data, &opts.schema, migrate::DATA, timeout).await?;
    migrate_schema(
        &keyring_pool,
        &keys,
        &opts.keyring_schema,
        migrate::KEYRING,
        timeout,
    )
    .await?;
    reap_partitions(&data_pool).await;
    let mut listen = data;
    listen
        .application_name(format!("privet-listen-{}", opts.schema))
        .keepalives_idle(crate::changes::KEEPALIVE_IDLE);
    let store = PgStore {
        inner: Arc::new(Inner {
            writer: Writer::start(data_pool.clone(), opts.schema.clone()),
            pool: data_pool,
            schema: opts.schema.clone(),
            channel: crate::changes::channel(&opts.schema),
            listen,
            scans: crate::scan::slots(opts.pool_size),
        }),
    };
    Ok((
        store,
        PgKeyring::new(keyring_pool, opts.keyring_schema.clone()),
    ))
}

/// How long dropping a schema waits for the locks of whoever else is using it.
const DROP_LOCK_WAIT: Duration = Duration::from_secs(5);

/// Drops the data and keyring schemas `opts` names, with everything in them: for throwaway
/// installations (the demo, benchmarks) that start empty each run. Never call it on a
/// deployment's schemas.
pub async fn drop_schemas(opts: &PgOptions) -> Result<(), PgError> {
    opts.check()?;
    let timeout = opts.connect_timeout;
    for (url, schema) in [
        (&opts.url, &opts.schema),
        (
            opts.keyring_url.as_ref().unwrap_or(&opts.url),
            &opts.keyring_schema,
        ),
    ] {
        let config = pool::config(url, timeout, "privet")?;
        let pool = pool::build(&config, "public", 1, timeout)?;
        let got = tokio::time::timeout(timeout + OPEN_GRACE, pool.get())
            .await
            .map_err(|_| PgError::Unreachable {
                target: crate::describe::target(&config),
                reason: format!("no answer within {timeout:?}"),
            })?;
        let c = got.map_err(|e| classify_pool(e, &config, timeout, "connecting"))?;
        // The name was checked to be a plain lowercase identifier, not a reserved word, by
        // `check`. The lock timeout: while another process uses the schema (a second demo, a
        // server on it), the drop waits for its locks; it fails after DROP_LOCK_WAIT instead
        // of hanging (the session ends with the pooled connection, and the setting with it).
        c.batch_execute(&format!(
            "SET lock_timeout = '{}ms'; DROP SCHEMA IF EXISTS {schema} CASCADE",
            DROP_LOCK_WAIT.as_millis()
        ))
        .await
        .map_err(|e| {
            if e.code() == Some(&tokio_postgres::error::SqlState::LOCK_NOT_AVAILABLE) {
                PgError::SchemaInUse {
                    schema: schema.clone(),
                    waited: DROP_LOCK_WAIT,
                }
            } else {
                PgError::Other {
                    doing: "dropping a schema",
                    reason: crate::codec::PgFailure::of(&e).to_string(),
                }
            }
        })?;
    }
    Ok(())
}

/// Migrates `schema` on a connection of `pool`, telling why if the server cannot be used.
async fn migrate_schema(
    pool: &Pool,
    config: &tokio_postgres::Config,
    schema: &str,
    migrations: &[Migration],
    timeout: Duration,
) -> Result<(), PgError> {
    let got = tokio::time::timeout(timeout + OPEN_GRACE, pool.get())
        .await
        .map_err(|_| PgError::Unreachable {
            target: crate::describe::target(config),
            reason: format!("no answer within {timeout:?}"),
        })?;
    let mut c = got.map_err(|e| classify_pool(e, config, timeout, "connecting"))?;
    migrate::run(&mut c, schema, migrations).await
}

/// Drops partitions a previous run left behind (a drop held off by a scan); best effort.
async fn reap_partitions(pool: &Pool) {
    let reaped = async {
        let mut c = pool::conn(pool, "drop chunk partitions").await?;
        chunks::reap(&mut c).await
    };
    if let Err(e) = reaped.await {
        tracing::warn!(error = %e, "could not drop the partitions of dropped chunks");
    }
}
