//! What every PostgreSQL test shares: the database URL, fresh schemas with random names (so
//! tests run in parallel on one database), and dropping them afterwards whatever happened.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use futures::FutureExt;
use privet_store_postgres::PgOptions;
use std::future::Future;
use std::panic::AssertUnwindSafe;

/// The test database's URL from `PRIVET_TEST_DATABASE_URL`; `None` (after saying so) when it is
/// unset, unless `PRIVET_REQUIRE_TOOLS=1` makes a missing database a failure.
pub(crate) fn url() -> Option<String> {
    match std::env::var("PRIVET_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("PRIVET_REQUIRE_TOOLS").as_deref() == Ok("1") => {
            panic!("PRIVET_TEST_DATABASE_URL is unset and PRIVET_REQUIRE_TOOLS=1")
        }
        _ => {
            eprintln!("PRIVET_TEST_DATABASE_URL is unset: skipping this PostgreSQL test");
            None
        }
    }
}

/// Options for a data schema and a keyring schema no other test uses.
pub(crate) fn fresh(url: &str) -> PgOptions {
    let tag = fastrand::u64(..);
    let mut o = PgOptions::new(url);
    o.schema = format!("privet_test_{tag:016x}");
    o.keyring_schema = format!("privet_test_{tag:016x}_keys");
    o.pool_size = 8;
    o
}

/// A plain connection to the test database, for checks and clean-up.
pub(crate) async fn admin(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
}

/// Runs `test` with fresh options, then drops both schemas, even if it panicked.
pub(crate) async fn with_fresh<F, Fut>(url: &str, test: F)
where
    F: FnOnce(PgOptions) -> Fut,
    Fut: Future<Output = ()>,
{
    let opts = fresh(url);
    let outcome = AssertUnwindSafe(test(opts.clone())).catch_unwind().await;
    drop_schemas(url, &opts).await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// Drops the schemas of `opts`.
pub(crate) async fn drop_schemas(url: &str, opts: &PgOptions) {
    let c = admin(url).await;
    c.batch_execute(&format!(
        "DROP SCHEMA IF EXISTS {} CASCADE; DROP SCHEMA IF EXISTS {} CASCADE;",
        opts.schema, opts.keyring_schema
    ))
    .await
    .unwrap();
}

/// A pseudonym for a test subject.
pub(crate) fn pseudonym(id: &str) -> privet_crypto::Pseudonym {
    privet_crypto::MasterKey::from_bytes([7; 32])
        .pseudonymizer()
        .pseudonym(id)
}

/// A one-day window of the `1y` class starting `day` days after 2090-01-01.
pub(crate) fn window(day: i64) -> privet_store::ChunkWindow {
    let start = "2090-01-01T00:00:00Z".parse::<jiff::Timestamp>().unwrap()
        + jiff::SignedDuration::from_hours(24 * day);
    privet_store::ChunkWindow {
        class: privet_manifest::Retention::parse("1y").unwrap(),
        start,
        end: start + jiff::SignedDuration::from_hours(24),
    }
}

/// A block of `n` events of `subject` in `window`, with a random id and a payload of `size`
/// bytes.
pub(crate) fn block(
    subject: &str,
    window: privet_store::ChunkWindow,
    n: u32,
    size: usize,
) -> privet_store::NewBlock {
    let t = "2026-05-01T10:00:00Z".parse::<jiff::Timestamp>().unwrap();
    let mut id = [0u8; 16];
    fastrand::fill(&mut id);
    let mut payload = vec![0u8; size];
    fastrand::fill(&mut payload);
    privet_store::NewBlock {
        id,
        subject: pseudonym(subject),
        stream: "presence".into(),
        product: "acme-thermostat-2".into(),
        device: privet_store::DeviceId::new("d1"),
        retention: window.class,
        window,
        t_min: t,
        t_max: t + jiff::SignedDuration::from_secs(60),
        expires_max: window.start,
        count: n,
        payload,
    }
}
