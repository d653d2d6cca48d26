//! `privet bench` and `privet simulate` as a person runs them. The ingest benchmark itself is
//! `#[ignore]`d (it measures; run it with `cargo test -p privet --test bench_cli -- --ignored`).
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
fn bench_export_and_erase_say_they_arrive_with_the_rights_issue() {
    for what in ["export", "erase"] {
        let out = privet(&["bench", what]);
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("issue 4"), "{err}");
    }
}

#[test]
fn simulate_needs_an_admin_key() {
    let out = privet(&["simulate", "--url", "http://127.0.0.1:1", "--duration", "1"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--key"), "{err}");
}

#[test]
#[ignore = "a benchmark: run with --ignored"]
fn bench_ingest_runs_the_pipeline_and_the_baseline_and_prints_the_ratio() {
    let out = privet(&[
        "bench",
        "ingest",
        "--events",
        "20000",
        "--devices",
        "20",
        "--clients",
        "4",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    for expected in [
        "pipeline  20,000 events",
        "accepted 20,000",
        "errors 0",
        "server peak RSS",
        "raw       20,000 rows",
        "ratio     pipeline / raw = ",
        "targets   ",
    ] {
        assert!(
            stdout.contains(expected),
            "{expected:?} missing in\n{stdout}"
        );
    }
}
