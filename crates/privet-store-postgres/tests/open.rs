//! Opening: migrations under their lock, a schema newer than the binary, and every failure to
//! connect reported as what it is, within the timeout, without the password.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use privet_store_postgres::{PgError, PgOptions, open};
use std::time::{Duration, Instant};

/// A URL on 127.0.0.1 at a port nothing listens on, with a password in it.
fn closed_port_url() -> String {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    format!("postgres://privet:s3cret-pw@127.0.0.1:{port}/privet")
}

/// `url` with its database replaced.
fn with_database(url: &str, db: &str) -> String {
    let (base, _) = url.rsplit_once('/').unwrap();
    format!("{base}/{db}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_opening_an_empty_schema_together_all_succeed() {
    let Some(url) = common::url() else { return };
    common::with_fresh(&url, |opts| async move {
        let opened = futures::future::join_all((0..4).map(|_| open(&opts))).await;
        for o in &opened {
            assert!(o.is_ok(), "{:?}", o.as_ref().err());
        }
        let c = common::admin(&opts.url).await;
        let applied: Vec<i32> = c
            .query(
                &format!(
                    "SELECT version FROM {}.schema_migrations ORDER BY version",
                    opts.schema
                ),
                &[],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert_eq!(
            applied,
            [1, 2, 3, 4, 5, 6, 7, 8, 9],
            "each migration applied once"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schema_newer_than_the_binary_is_refused() {
    let Some(url) = common::url() else { return };
    common::with_fresh(&url, |opts| async move {
        drop(open(&opts).await.unwrap());
        let c = common::admin(&opts.url).await;
        c.execute(
            &format!(
                "INSERT INTO {}.schema_migrations (version, name) VALUES (999, '0999_future')",
                opts.schema
            ),
            &[],
        )
        .await
        .unwrap();
        let err = open(&opts).await.unwrap_err();
        assert!(
            matches!(
                err,
                PgError::SchemaTooNew {
                    found: 999,
                    known: 9,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("999"), "{err}");
    })
    .await;
}

#[tokio::test]
async fn an_unreachable_server_is_reported_within_the_timeout() {
    let mut opts = PgOptions::new(closed_port_url());
    opts.connect_timeout = Duration::from_secs(2);
    let started = Instant::now();
    let err = open(&opts).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(4));
    assert!(matches!(err, PgError::Unreachable { .. }), "{err:?}");
    let shown = format!("{err} / {err:?}");
    assert!(shown.contains("127.0.0.1:"), "{shown}");
    assert!(!shown.contains("s3cret-pw"), "{shown}");
}

#[tokio::test]
async fn a_server_that_never_answers_does_not_hang_open() {
    // Accepts connections (the kernel does) and never says a word.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let mut opts = PgOptions::new(format!(
        "postgres://privet:s3cret-pw@127.0.0.1:{port}/privet"
    ));
    opts.connect_timeout = Duration::from_secs(1);
    let started = Instant::now();
    let err = open(&opts).await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    assert!(matches!(err, PgError::Unreachable { .. }), "{err:?}");
    assert!(!format!("{err} {err:?}").contains("s3cret-pw"));
    drop(silent);
}

#[tokio::test]
async fn a_missing_database_is_named() {
    let Some(url) = common::url() else { return };
    // With a password in the URL (trust authentication ignores it), which no message shows.
    let url = with_database(&url, "privet_no_such_database");
    let url = match url.split_once('@') {
        Some((user, rest)) if !user["postgres://".len().min(user.len())..].contains(':') => {
            format!("{user}:pw-77@{rest}")
        }
        _ => url,
    };
    let mut opts = PgOptions::new(url);
    opts.connect_timeout = Duration::from_secs(3);
    let started = Instant::now();
    let err = open(&opts).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(!format!("{err} {err:?}").contains("pw-77"), "{err:?}");
    match &err {
        PgError::DatabaseMissing { database, .. } => {
            assert_eq!(database, "privet_no_such_database")
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn an_unknown_user_is_an_authentication_failure() {
    let Some(url) = common::url() else { return };
    // The server refuses a role it does not know, whatever its authentication method.
    let rest = url
        .strip_prefix("postgres://")
        .or_else(|| url.strip_prefix("postgresql://"))
        .unwrap_or_else(|| panic!("PRIVET_TEST_DATABASE_URL is not a postgres:// URL"));
    let host = rest.split_once('@').map_or(rest, |(_, h)| h);
    let opts = PgOptions::new(format!("postgres://privet_no_such_role:pw-123@{host}"));
    let err = open(&opts).await.unwrap_err();
    assert!(matches!(err, PgError::AuthFailed { .. }), "{err:?}");
    assert!(!format!("{err} {err:?}").contains("pw-123"));
}

#[tokio::test]
async fn bad_options_are_refused_before_connecting() {
    let err = open(&PgOptions::new("postgres://ann:pw-9@db:notaport/x"))
        .await
        .unwrap_err();
    assert!(matches!(err, PgError::InvalidUrl { .. }), "{err:?}");
    assert!(!format!("{err} {err:?}").contains("pw-9"), "{err}");

    let mut opts = PgOptions::new("postgres://db/x");
    opts.schema = "Robert'); DROP TABLE students;--".into();
    assert!(matches!(
        open(&opts).await.unwrap_err(),
        PgError::InvalidSchema { .. }
    ));
    let mut opts = PgOptions::new("postgres://db/x");
    opts.keyring_schema = opts.schema.clone();
    assert!(matches!(
        open(&opts).await.unwrap_err(),
        PgError::KeyringInDataSchema { .. }
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_keyring_may_live_in_another_database() {
    let Some(url) = common::url() else { return };
    // Another database on the same server, made for this test.
    let c = common::admin(&url).await;
    let db = format!("privet_keys_{:016x}", fastrand::u64(..));
    c.batch_execute(&format!("CREATE DATABASE {db}"))
        .await
        .unwrap();
    let keys_url = with_database(&url, &db);
    common::with_fresh(&url, |mut opts| {
        let keys_url = keys_url.clone();
        async move {
            opts.keyring_url = Some(keys_url.clone());
            let (store, keyring) = open(&opts).await.unwrap();
            let p = privet_crypto::MasterKey::from_bytes([3; 32])
                .pseudonymizer()
                .pseudonym("k");
            privet_store::Keyring::put(&keyring, &p, vec![1, 2, 3], jiff::Timestamp::UNIX_EPOCH)
                .await
                .unwrap();
            let other = common::admin(&keys_url).await;
            let n: i64 = other
                .query_one(
                    &format!("SELECT count(*) FROM {}.keys", opts.keyring_schema),
                    &[],
                )
                .await
                .unwrap()
                .get(0);
            assert_eq!(n, 1, "the key is in the other database");
            let here = common::admin(&opts.url).await;
            let schemas: i64 = here
                .query_one(
                    "SELECT count(*) FROM pg_namespace WHERE nspname = $1",
                    &[&opts.keyring_schema],
                )
                .await
                .unwrap()
                .get(0);
            assert_eq!(schemas, 0, "and not in the data's database");
            drop((store, keyring));
        }
    })
    .await;
    // Every connection to it is closed once the pools are gone.
    c.batch_execute(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
        .await
        .unwrap();
}

#[tokio::test]
async fn no_failure_shows_a_password_wherever_the_url_holds_it() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    for url in [
        format!("postgres://privet:s3c/ret@127.0.0.1:{port}/privet"),
        format!("postgres://privet:s3c?ret#x@127.0.0.1:{port}/privet"),
        format!("postgres://privet@127.0.0.1:{port}/privet?password=s3cret"),
        format!("postgres://privet@127.0.0.1:{port}/privet?PASSWORD=s3cret"),
        format!("postgres://privet:s3c@ret@127.0.0.1:{port}/privet"),
        format!("postgres://127.0.0.1:{port}/privet?password=s3c@ret"),
    ] {
        let mut opts = PgOptions::new(url.clone());
        opts.connect_timeout = Duration::from_secs(2);
        let shown = format!("{opts:?}");
        assert!(!shown.contains("s3c"), "{url}: {shown}");
        let err = open(&opts).await.unwrap_err();
        let shown = format!("{err} / {err:?}");
        assert!(
            matches!(
                err,
                PgError::Unreachable { .. } | PgError::InvalidUrl { .. }
            ),
            "{url}: {shown}"
        );
        assert!(!shown.contains("s3c"), "{url}: {shown}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_schemas_someone_is_using_fails_clearly_instead_of_hanging() {
    let Some(url) = common::url() else { return };
    let admin_url = url.clone();
    common::with_fresh(&url, |opts| async move {
        drop(open(&opts).await.unwrap());
        // Another process (a second demo, say) is in the middle of using the data schema.
        let mut other = common::admin(&admin_url).await;
        let tx = other.transaction().await.unwrap();
        tx.batch_execute(&format!(
            "LOCK TABLE {}.jobs IN ACCESS SHARE MODE",
            opts.schema
        ))
        .await
        .unwrap();
        let started = Instant::now();
        let dropped = tokio::time::timeout(
            Duration::from_secs(20),
            privet_store_postgres::drop_schemas(&opts),
        )
        .await
        .expect("the drop gives up on the lock, it does not hang");
        assert!(
            matches!(dropped, Err(PgError::SchemaInUse { .. })),
            "{dropped:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(10));
        tx.rollback().await.unwrap();
        privet_store_postgres::drop_schemas(&opts).await.unwrap();
    })
    .await;
}
