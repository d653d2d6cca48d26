//! `privet bench` and `privet simulate` as a person runs them. The benchmarks themselves are
//! `#[ignore]`d (they measure; run them with `cargo test -p privet --test bench_cli -- --ignored`).
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
