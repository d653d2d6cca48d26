//! `privet dpia` and `privet psti` on every example manifest, run as a DPO would: the real
//! binary, its output and its exit code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::{Command, Output};

fn example(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/manifests")
        .join(format!("{name}.toml"))
}

fn privet(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_privet"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

/// Each example: whether a DPIA is required, and its support period's end as written in the
/// statement (docs/dpia.md says why each is what it is).
const EXAMPLES: &[(&str, bool, &str)] = &[
    ("fitness-tracker", true, "30 September 2030"),
    ("smart-fridge", false, "30 June 2032"),
    ("smart-speaker", true, "30 June 2031"),
    ("thermostat", true, "31 December 2032"),
    ("video-doorbell", true, "31 March 2033"),
];

#[test]
fn dpia_writes_a_draft_for_every_example_and_exits_zero() {
    for (name, required, _) in EXAMPLES {
        let path = example(name);
        let out = privet(&["dpia", path.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr(&out));
        let md = stdout(&out);
        assert!(
            md.starts_with("# Data protection impact assessment (draft): "),
            "{name}"
        );
        assert_eq!(md.contains("**Required.**"), *required, "{name}");
        for part in [
            "## 1. Screening: is a DPIA required?",
            "## 5. Risks",
            "## 7. Sign-off and outcomes",
            "> **DPO to complete:**",
            "- **Crypto-shredding erasure**",
        ] {
            assert!(md.contains(part), "{name} lacks {part}");
        }
        assert!(stderr(&out).is_empty(), "{name}: {}", stderr(&out));
    }
}

#[test]
fn dpia_json_says_whether_required_and_why_with_lines() {
    for (name, required, _) in EXAMPLES {
        let path = example(name);
        let out = privet(&["dpia", "--format", "json", path.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr(&out));
        let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
        assert_eq!(v["required"], *required, "{name}: {v}");
        let reasons = v["reasons"].as_array().unwrap();
        if *required {
            assert!(reasons.len() >= 2, "{name}: {v}");
        }
        for r in reasons {
            assert!(r["criterion"].is_string() && r["detail"].is_string(), "{r}");
            assert!(r["line"].as_u64().unwrap() >= 1, "{r}");
        }
    }
    // The doorbell films people who are not users: required, and the reasons say where.
    let out = privet(&[
        "dpia",
        "--format",
        "json",
        example("video-doorbell").to_str().unwrap(),
    ]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["product"], "porchlight-doorbell-2");
    let criteria: Vec<&str> = v["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["criterion"].as_str().unwrap())
        .collect();
    assert_eq!(
        criteria,
        [
            "systematic-monitoring",
            "sensitive-or-highly-personal",
            "innovative-technology",
            "invisible-processing"
        ]
    );
    assert_eq!(v["reasons"][0]["line"], 48);
    assert!(
        v["reasons"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("passerby")
    );
    assert_eq!(v["open_questions"][0]["code"], "large-scale");
}

#[test]
fn psti_prints_the_statement_for_every_example() {
    for (name, _, until) in EXAMPLES {
        let path = example(name);
        let out = privet(&["psti", path.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr(&out));
        let s = stdout(&out);
        assert!(s.starts_with("# Statement of compliance: "), "{name}");
        assert!(
            s.contains(&format!("The defined support period ends on {until}.")),
            "{name}: {s}"
        );
        assert!(s.contains("has complied with the security requirements in Schedule 1"));
        assert!(s.contains("no universal default password"));
        assert!(s.contains("Report security issues with this product to https://"));
        assert!(s.contains("- Address: **Maker to complete:**"));
    }
}

#[test]
fn a_file_that_is_not_a_manifest_exits_two_with_the_check_diagnostics() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[product\nid = 1\n").unwrap();
    let no_product = dir.path().join("empty.toml");
    std::fs::write(&no_product, "[streams.x]\nsubject = \"household\"\n").unwrap();
    for cmd in ["dpia", "psti"] {
        let out = privet(&[cmd, bad.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2), "{cmd}");
        assert!(stdout(&out).is_empty());
        assert!(stderr(&out).contains("PV000"), "{cmd}: {}", stderr(&out));
        let out = privet(&[cmd, no_product.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2), "{cmd}");
        assert!(stderr(&out).contains("PV001"), "{cmd}: {}", stderr(&out));
        let out = privet(&[cmd, dir.path().join("missing.toml").to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2), "{cmd}");
    }
}

#[test]
fn lint_errors_are_shown_but_the_documents_are_still_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("doorbell.toml");
    let source = std::fs::read_to_string(example("video-doorbell")).unwrap();
    let source = source.replacen(
        "dpia = \"https://porchlight.example/privacy/dpia-doorbell-2\"",
        "dpia = \"tbd\"",
        1,
    );
    std::fs::write(&path, source).unwrap();
    let out = privet(&["dpia", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("PV064"), "{}", stderr(&out));
    assert!(stdout(&out).contains("**Required.**"));
    let out = privet(&["psti", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("31 March 2033"));
}

#[test]
fn both_commands_have_help() {
    let out = privet(&["dpia", "--help"]);
    assert!(out.status.success());
    let help = stdout(&out);
    assert!(help.contains("EDPB") && help.contains("--format"), "{help}");
    let out = privet(&["psti", "--help"]);
    assert!(out.status.success());
    assert!(
        stdout(&out).contains("statement of compliance"),
        "{}",
        stdout(&out)
    );
    let out = privet(&["--help"]);
    assert!(stdout(&out).contains("dpia") && stdout(&out).contains("psti"));
}
