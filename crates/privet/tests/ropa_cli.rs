//! `privet ropa examples/manifests/*.toml --format csv|html|xlsx`: the records of processing
//! of every example, a row per product and purpose, as a DPO would open them: the CSV in a CSV
//! reader, the HTML as a page, the XLSX in an independent reader (python openpyxl,
//! tests/ropa/requirements.txt; `PRIVET_PYTHON` in CI, else `python3` if it has openpyxl; the
//! check is skipped without it, and fails instead under `PRIVET_REQUIRE_TOOLS`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The example manifests, sorted (as a shell's `*.toml` would list them).
fn examples() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(workspace().join("examples/manifests"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 5, "{files:?}");
    files
}

/// How many purposes the examples declare between them: the rows a record must have.
fn purposes() -> usize {
    examples()
        .iter()
        .map(|f| {
            let text = std::fs::read_to_string(f).unwrap();
            privet_manifest::parse(&text)
                .unwrap()
                .manifest
                .purposes
                .len()
        })
        .sum()
}

fn privet(args: &[&str], files: &[PathBuf]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_privet"))
        .arg("ropa")
        .args(files)
        .args(args)
        .output()
        .unwrap()
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// The header row, lower-cased: the ICO template's words after the controller's two columns.
const HEADER: [&str; 21] = [
    "controller",
    "controller contact details",
    "business function",
    "purpose of processing",
    "name and contact details of joint controller",
    "categories of individuals",
    "categories of personal data",
    "categories of recipients",
    "link to contract with processor",
    "names of third countries or international organisations that personal data are transferred to",
    "safeguards for exceptional transfers",
    "retention schedule",
    "general description of technical and organisational security measures",
    "article 6 lawful basis",
    "article 9 basis for special category data",
    "legitimate interests for the processing",
    "rights available to individuals",
    "existence of automated decision-making, including profiling",
    "the source of the personal data",
    "dpia required?",
    "link to dpia",
];

/// Column numbers, by header word.
fn col(name: &str) -> usize {
    HEADER.iter().position(|h| *h == name).unwrap()
}

/// A known cell of each example: (business function starts with, purpose key, column, text
/// the cell holds).
const KNOWN: [(&str, &str, &str, &str); 6] = [
    (
        "Wren Smart Thermostat 2",
        "heating_control",
        "retention schedule",
        "temperature_c: 400 days",
    ),
    (
        "Hearth Speaker 3",
        "answer_requests",
        "safeguards for exceptional transfers",
        "Nimbus Speech Inc: the UK International Data Transfer Agreement",
    ),
    (
        "Hearth Speaker 3",
        "answer_requests",
        "names of third countries or international organisations that personal data are transferred to",
        "United States (US): Nimbus Speech Inc",
    ),
    (
        "Porchlight Video Doorbell 2",
        "clip_history",
        "dpia required?",
        "Yes\nLikely high risk (privet dpia): systematic monitoring; sensitive or highly personal data; innovative technology; invisible processing",
    ),
    (
        "Stride Band 4",
        "health_tracking",
        "article 9 basis for special category data",
        "Explicit consent (UK GDPR Art. 9(2)(a))",
    ),
    (
        "Larder Smart Fridge 5",
        "partner_offers",
        "categories of recipients",
        "Basket and Co Ltd (controller, for its own purposes; United Kingdom (GB))",
    ),
];

/// Checks the rows (header excluded) every format must carry.
fn assert_rows(rows: &[Vec<String>]) {
    assert_eq!(rows.len(), purposes(), "a row per product and purpose");
    for (product, purpose, column, text) in KNOWN {
        let row = rows
            .iter()
            .find(|r| {
                r[col("business function")].starts_with(product)
                    && r[col("purpose of processing")].contains(&format!("(purpose {purpose};"))
            })
            .unwrap_or_else(|| panic!("no row for {product} {purpose}"));
        assert!(
            row[col(column)].contains(text),
            "{product} {purpose} {column}: {:?}",
            row[col(column)]
        );
    }
    // Recipients by their name, never their manifest key.
    let recipients: Vec<&str> = rows
        .iter()
        .map(|r| r[col("categories of recipients")].as_str())
        .collect();
    for name in [
        "Nimbus Speech Inc",
        "Brightwatt Energy Ltd",
        "Basket and Co Ltd",
        "Harbour Cloud Ltd",
    ] {
        assert!(recipients.iter().any(|r| r.contains(name)), "{name}");
    }
    for key in ["speech_cloud", "energy_supplier", "grocer", "clip_storage"] {
        assert!(!recipients.iter().any(|r| r.contains(key)), "{key}");
    }
}

#[test]
fn csv_has_the_ico_header_and_a_row_per_product_and_purpose() {
    let text = stdout(&privet(&["--format", "csv"], &examples()));
    assert!(text.contains("\r\n"), "RFC 4180 record separators");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_lowercase)
        .collect();
    assert_eq!(header, HEADER);
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    assert_rows(&rows);
}

#[test]
fn html_is_one_accessible_page_with_the_same_rows() {
    let page = stdout(&privet(&["--format", "html"], &examples()));
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains("<html lang=\"en-GB\">"));
    assert!(page.contains("<caption"));
    assert_eq!(page.matches("<th scope=\"col\">").count(), HEADER.len());
    assert_eq!(page.matches("<th scope=\"row\">").count(), purposes());
    for c in ["Hearth Audio Ltd", "privacy@hearthaudio.example"] {
        assert!(page.contains(c), "controller heading names {c}");
    }
    assert!(page.contains("Nimbus Speech Inc: the UK International Data Transfer Agreement"));
}

#[test]
fn xlsx_needs_out_and_says_so() {
    let out = privet(&["--format", "xlsx"], &examples());
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "nothing binary on a terminal");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--out"), "{err}");
}

#[test]
fn a_manifest_with_errors_is_refused_with_the_checks_diagnostics() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    let text = std::fs::read_to_string(workspace().join("examples/manifests/thermostat.toml"))
        .unwrap()
        .replace("basis = \"contract\"", "basis = \"contrakt\"");
    std::fs::write(&bad, text).unwrap();
    let mut files = examples();
    files.push(bad.clone());
    let out = privet(&["--format", "csv"], &files);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    let check = Command::new(env!("CARGO_BIN_EXE_privet"))
        .args(["manifest", "check"])
        .arg(&bad)
        .output()
        .unwrap();
    let check_err = String::from_utf8_lossy(&check.stderr);
    // Every error block `manifest check` prints (its first line: code and rule) is there.
    let codes: Vec<&str> = check_err
        .lines()
        .filter(|l| l.starts_with("error["))
        .collect();
    assert!(!codes.is_empty(), "{check_err}");
    for code in codes {
        assert!(err.contains(code), "{code} missing from: {err}");
    }
    assert!(
        err.contains("bad.toml:"),
        "points at the file and line: {err}"
    );
}

#[test]
fn help_names_the_formats_and_the_out_file() {
    let out = Command::new(env!("CARGO_BIN_EXE_privet"))
        .args(["ropa", "--help"])
        .output()
        .unwrap();
    let help = stdout(&out);
    for word in ["csv", "html", "xlsx", "--out", "Art. 30", "docs/ropa.md"] {
        assert!(help.contains(word), "{word}: {help}");
    }
}

/// The interpreter with openpyxl: `PRIVET_PYTHON` (CI's virtualenv) or `python3` if it has it.
fn openpyxl_python() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("PRIVET_PYTHON") {
        return Some(PathBuf::from(p));
    }
    let ok = Command::new("python3")
        .args(["-c", "import openpyxl"])
        .output()
        .is_ok_and(|o| o.status.success());
    ok.then(|| PathBuf::from("python3"))
}

#[test]
fn xlsx_opens_in_openpyxl_with_a_frozen_filtered_bold_header() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("records.xlsx");
    let out = privet(
        &[
            "--format",
            "xlsx",
            "--out",
            file.to_str().unwrap(),
            "--kept-by",
            "Example Group DPO, dpo@example.org",
        ],
        &examples(),
    );
    assert!(stdout(&out).is_empty(), "the workbook goes to --out only");
    assert!(std::fs::read(&file).unwrap().starts_with(b"PK"));

    let Some(python) = openpyxl_python() else {
        assert!(
            std::env::var_os("PRIVET_REQUIRE_TOOLS").is_none(),
            "openpyxl is required (pip install -r tests/ropa/requirements.txt)"
        );
        eprintln!("openpyxl not installed: the workbook was not opened in a reader");
        return;
    };
    let read = Command::new(python)
        .arg(workspace().join("tests/ropa/read_xlsx.py"))
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        read.status.success(),
        "openpyxl could not open it: {}",
        String::from_utf8_lossy(&read.stderr)
    );
    let book: Value = serde_json::from_slice(&read.stdout).unwrap();
    assert_eq!(book["sheets"], serde_json::json!(["Record of processing"]));
    let above: Vec<&str> = book["above"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(above[0].starts_with("Record of processing activities (UK GDPR Article 30)"));
    assert!(above.contains(&"Record kept by: Example Group DPO, dpo@example.org"));
    assert!(above.iter().any(|l| {
        l.starts_with("Controller: Stride Labs Ltd, contact: privacy@stridelabs.example")
    }));

    let header: Vec<String> = book["header"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_lowercase())
        .collect();
    assert_eq!(header, HEADER);
    assert_eq!(book["header_bold"], true);
    assert_eq!(book["header_wrap"], true);
    assert_eq!(book["body_wrap"], true);
    let header_row = book["header_row"].as_u64().unwrap();
    let rows: Vec<Vec<String>> = book["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|c| c.as_str().unwrap().to_owned())
                .collect()
        })
        .collect();
    assert_rows(&rows);
    // Frozen below the header; the filter spans the header and every row, all 21 columns (A–U).
    assert_eq!(book["freeze"], format!("A{}", header_row + 1));
    assert_eq!(
        book["autofilter"],
        format!("A{header_row}:U{}", header_row + rows.len() as u64)
    );
    for (i, w) in book["widths"].as_array().unwrap().iter().enumerate() {
        let w = w.as_f64().unwrap_or(0.0);
        assert!((15.0..=70.0).contains(&w), "column {i} is {w} wide");
    }
}
