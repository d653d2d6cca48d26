//! `privet bench` and `privet simulate` as a person runs them. The benchmarks themselves are
//! `#[ignore]`d (they measure; run them with `cargo test -p privet --test bench_cli -- --ignored`).
//! Their PostgreSQL variants run when `PRIVET_TEST_DATABASE_URL` names a database, and check
//! that the run's `bench_*` schemas are gone afterwards.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

fn privet(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_privet"))
        .args(args)
        .env_remove("PRIVET_API_KEY")
        .output()
        .unwrap()
}

#[test]
fn bench_erase_and_export_refuse_impossible_sizes_before_building_anything() {
    fails_saying(
        &["bench", "erase", "--subjects", "6", "--erasures", "2"],
        "too few",
    );
    fails_saying(&["bench", "export", "--repeat", "0"], "--repeat");
}

/// Runs `privet ARGS`, which must fail and say `what` on stderr.
fn fails_saying(args: &[&str], what: &str) {
    let out = privet(args);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(what), "{err}");
}

/// Runs `privet ARGS`, which must succeed and print every one of `expected`.
fn succeeds_printing(args: &[&str], expected: &[&str]) {
    let out = privet(args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    for expected in expected {
        assert!(
            stdout.contains(expected),
            "{expected:?} missing in\n{stdout}"
        );
    }
}

#[test]
fn simulate_needs_an_admin_key() {
    fails_saying(
        &["simulate", "--url", "http://127.0.0.1:1", "--duration", "1"],
        "--key",
    );
}

#[test]
#[ignore = "a benchmark: run with --ignored"]
fn bench_ingest_runs_the_pipeline_and_the_baseline_and_prints_the_ratio() {
    succeeds_printing(
        &[
            "bench",
            "ingest",
            "--events",
            "20000",
            "--devices",
            "20",
            "--clients",
            "4",
        ],
        &[
            "pipeline  20,000 events",
            "accepted 20,000",
            "errors 0",
            "server peak RSS",
            "raw       20,000 rows",
            "ratio     pipeline / raw = ",
            "targets   ",
        ],
    );
}

#[test]
#[ignore = "a benchmark: run with --ignored"]
fn bench_erase_prints_receipt_and_raw_delete_times_and_checks_the_receipts() {
    succeeds_printing(
        &[
            "bench",
            "erase",
            "--records",
            "20000",
            "--subjects",
            "40",
            "--target-records",
            "2000",
            "--small-records",
            "200",
            "--erasures",
            "2",
            "--clients",
            "2",
        ],
        &[
            "2,000 records: median",
            "2,000 rows:    median",
            "ratio     raw DELETE / receipt at 2,000 records = ",
            "receipts count every record: yes",
            "export after erasure: HTTP 404 (gone)",
        ],
    );
}

#[test]
#[ignore = "a benchmark: run with --ignored"]
fn bench_export_counts_every_record_and_prints_the_ratio() {
    succeeds_printing(
        &[
            "bench",
            "export",
            "--records",
            "5000",
            "--other-subjects",
            "7",
            "--other-records",
            "7000",
            "--clients",
            "2",
        ],
        &[
            "(5,000 records,",
            "(5,000 rows,",
            "ratio     export / raw = ",
            "targets   ",
        ],
    );
}

#[test]
#[ignore = "a benchmark: run with --ignored (needs mosquitto)"]
fn bench_mqtt_runs_mosquitto_alone_then_privet_and_prints_one_ratio() {
    let out = privet(&["bench", "mqtt", "--events", "2000"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let ratios: Vec<&str> = stdout.lines().filter(|l| l.starts_with("ratio")).collect();
    assert_eq!(ratios.len(), 1, "{stdout}");
    let value: f64 = ratios[0]
        .rsplit_once(" = ")
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no number in {:?}", ratios[0]));
    assert!(value > 0.0 && value.is_finite(), "{}", ratios[0]);
    for expected in [
        "mosquitto 2,000 one-event messages",
        "privet    2,000 one-event messages",
        "groups of one device's messages",
        "in 3 rounds, alternating with Privet's",
        "batched   20,000 events in 200 messages of 100",
        "targets   ",
    ] {
        assert!(
            stdout.contains(expected),
            "{expected:?} missing in\n{stdout}"
        );
    }
}

/// The PostgreSQL test database, when `PRIVET_TEST_DATABASE_URL` names one.
fn pg_url() -> Option<String> {
    match std::env::var("PRIVET_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            eprintln!("PRIVET_TEST_DATABASE_URL is unset: skipping this PostgreSQL bench");
            None
        }
    }
}

/// The schemas a bench said it made (`schemas bench_1_0, bench_1_0_keys, bench_1_0_raw (…`).
fn schemas_named(stderr: &str) -> Vec<String> {
    let line = stderr
        .lines()
        .find(|l| l.starts_with("PostgreSQL ") && l.contains(": schemas "))
        .unwrap_or_else(|| panic!("no schemas line in\n{stderr}"));
    let names = line.split(": schemas ").nth(1).unwrap();
    let names = names.split(" (").next().unwrap();
    names.split(", ").map(str::to_owned).collect()
}

/// Asserts that none of `schemas`, nor any other of the same bench process, is left on `url`.
fn no_schemas_left(url: &str, schemas: &[String]) {
    assert_eq!(schemas.len(), 3, "{schemas:?}");
    assert!(
        schemas.iter().all(|s| s.starts_with("bench_")),
        "{schemas:?}"
    );
    // `bench_<pid>_<n>`: every schema of that process.
    let process = schemas[0].rsplit_once('_').unwrap().0.to_owned();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let left: Vec<String> = rt.block_on(async {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        client
            .query(
                "SELECT nspname FROM pg_namespace WHERE nspname = ANY($1) OR nspname LIKE $2",
                &[&schemas, &format!("{}\\_%", process.replace('_', "\\_"))],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect()
    });
    assert!(left.is_empty(), "schemas left behind: {left:?}");
}

/// Runs `privet ARGS --database-url URL`, which must succeed and print every one of
/// `expected`, and leave no schema behind.
fn succeeds_on_postgres(url: &str, args: &[&str], expected: &[&str]) {
    let mut args = args.to_vec();
    args.extend(["--database-url", url]);
    let out = privet(&args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    for expected in expected {
        assert!(
            stdout.contains(expected),
            "{expected:?} missing in\n{stdout}"
        );
    }
    no_schemas_left(url, &schemas_named(&stderr));
}

#[test]
fn a_failed_postgres_bench_drops_its_schemas_too() {
    let Some(url) = pg_url() else { return };
    let missing = tempfile::tempdir().unwrap().path().join("no-manifests");
    let out = privet(&[
        "bench",
        "ingest",
        "--events",
        "10",
        "--manifests",
        missing.to_str().unwrap(),
        "--database-url",
        &url,
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    no_schemas_left(&url, &schemas_named(&stderr));
}

#[test]
fn a_bench_refuses_a_database_url_that_is_not_postgres() {
    fails_saying(
        &["bench", "ingest", "--database-url", "sqlite:x"],
        "postgres://",
    );
}

#[test]
#[ignore = "a benchmark: run with --ignored"]
fn bench_ingest_on_postgres_prints_the_ratio_to_a_raw_copy_and_drops_its_schemas() {
    let Some(url) = pg_url() else { return };
    succeeds_on_postgres(
        &url,
        &[
            "bench",
            "ingest",
            "--events",
            "20000",
            "--devices",
            "20",
            "--clients",
            "4",
        ],
        &[
            "pipeline  20,000 events",
            "accepted 20,000",
            "errors 0",
            "server peak RSS",
            "raw       20,000 rows",
            "binary COPY",
            "ratio     pipeline / raw = ",
            "targets   ",
        ],
    );
}

#[test]
#[ignore = "a benchmark: run with --ignored"]
fn bench_erase_on_postgres_checks_the_receipts_and_drops_its_schemas() {
    let Some(url) = pg_url() else { return };
    succeeds_on_postgres(
        &url,
        &[
            "bench",
            "erase",
            "--records",
            "20000",
            "--subjects",
            "40",
            "--target-records",
            "2000",
            "--small-records",
            "200",
            "--erasures",
            "2",
            "--clients",
            "2",
        ],
        &[
            "2,000 records: median",
            "2,000 rows:    median",
            "ratio     raw DELETE / receipt at 2,000 records = ",
            "receipts count every record: yes",
            "export after erasure: HTTP 404 (gone)",
        ],
    );
}

#[test]
#[ignore = "a benchmark: run with --ignored"]
fn bench_export_on_postgres_counts_every_record_and_drops_its_schemas() {
    let Some(url) = pg_url() else { return };
    succeeds_on_postgres(
        &url,
        &[
            "bench",
            "export",
            "--records",
            "5000",
            "--other-subjects",
            "7",
            "--other-records",
            "7000",
            "--clients",
            "2",
        ],
        &[
            "(5,000 records,",
            "(5,000 rows,",
            "ratio     export / raw = ",
            "targets   ",
        ],
    );
}
