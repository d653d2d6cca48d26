//! Connection pools, one per schema: every pooled connection starts with the schema as its
//! `search_path`, so the SQL in this crate names tables unqualified. Statements run through
//! the connection's statement cache, so a frequent query is parsed once per connection.

use crate::codec::Pg;
use crate::error::PgError;
use deadpool_postgres::{
    GenericClient, Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime,
};
use privet_store::Result;
use std::time::Duration;
use tokio_postgres::types::ToSql;
use tokio_postgres::{NoTls, Row};

/// How long a caller waits for a pooled connection when all are busy before failing.
pub(crate) const WAIT_TIMEOUT: Duration = Duration::from_secs(30);

/// Statement parameters.
pub(crate) type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

/// The client configuration of `url`, with the connect timeout and a name the server shows in
/// `pg_stat_activity`.
pub(crate) fn config(
    url: &str,
    timeout: Duration,
    application: &str,
) -> Result<tokio_postgres::Config, PgError> {
    // Refused with a reason that repeats nothing of the URL (see `describe`).
    let mut config = crate::describe::parse_url(url)?;
    config.connect_timeout(timeout);
    config.application_name(application);
    Ok(config)
}

/// A pool of at most `size` connections whose `search_path` is `schema`.
pub(crate) fn build(
    config: &tokio_postgres::Config,
    schema: &str,
    size: usize,
    timeout: Duration,
) -> Result<Pool, PgError> {
    let mut config = config.clone();
    // A checked identifier: lowercase letters, digits and underscores only.
    config.options(format!("-c search_path={schema}"));
    let manager = Manager::from_config(
        config,
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(manager)
        .max_size(size.max(1))
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(WAIT_TIMEOUT))
        .create_timeout(Some(timeout))
        .recycle_timeout(Some(timeout))
        .build()
        .map_err(|e| PgError::Other {
            doing: "building the connection pool",
            reason: e.to_string(),
        })
}

/// A pooled connection.
pub(crate) async fn conn(pool: &Pool, op: &'static str) -> Result<Object> {
    pool.get().await.pg(op)
}

/// Every row `sql` yields.
pub(crate) async fn query<C: GenericClient>(
    c: &C,
    sql: &str,
    params: Params<'_>,
    op: &'static str,
) -> Result<Vec<Row>> {
    let stmt = c.prepare_cached(sql).await.pg(op)?;
    c.query(&stmt, params).await.pg(op)
}

/// The row `sql` yields, if any.
pub(crate) async fn query_opt<C: GenericClient>(
    c: &C,
    sql: &str,
    params: Params<'_>,
    op: &'static str,
) -> Result<Option<Row>> {
    let stmt = c.prepare_cached(sql).await.pg(op)?;
    c.query_opt(&stmt, params).await.pg(op)
}

/// The one row `sql` yields.
pub(crate) async fn query_one<C: GenericClient>(
    c: &C,
    sql: &str,
    params: Params<'_>,
    op: &'static str,
) -> Result<Row> {
    let stmt = c.prepare_cached(sql).await.pg(op)?;
    c.query_one(&stmt, params).await.pg(op)
}

/// How many rows `sql` changed.
pub(crate) async fn execute<C: GenericClient>(
    c: &C,
    sql: &str,
    params: Params<'_>,
    op: &'static str,
) -> Result<u64> {
    let stmt = c.prepare_cached(sql).await.pg(op)?;
    c.execute(&stmt, params).await.pg(op)
}

/// Like [`execute`], with a unique violation reported as `Conflict` on `entity` `id`.
pub(crate) async fn insert<C: GenericClient>(
    c: &C,
    sql: &str,
    params: Params<'_>,
    (entity, id): (&'static str, &str),
    op: &'static str,
) -> Result<u64> {
    let stmt = c.prepare_cached(sql).await.pg(op)?;
    c.execute(&stmt, params).await.or_conflict(entity, id, op)
}
