//! The `dpia` rules, both ways: a `dpia` that is not a reference to a document is an error at
//! its line (PV064), and a product the DPIA screening finds high-risk without one gets a
//! warning naming why (PV044). An absent `dpia` is never an error.

#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail the test by panicking"
)]

use privet_manifest::{Finding, LineIndex, LintContext, Severity, check};

fn cx() -> LintContext {
    LintContext {
        today: jiff::civil::date(2026, 11, 28),
    }
}

/// A manifest with no findings at all; its one member stream (presence) is tracking, which on
/// its own does not make a DPIA required.
fn base() -> String {
    include_str!("fixtures/lint_clean.toml").to_owned()
}

fn with_dpia(value: &str) -> String {
    base().replacen(
        "works_offline =",
        &format!("dpia = {value}\nworks_offline ="),
        1,
    )
}

fn findings(src: &str) -> Vec<Finding> {
    check(src, &cx()).expect("valid TOML").findings
}

/// `(line, severity)` of every finding of `code`.
fn lines(src: &str, code: &str) -> Vec<(usize, Severity)> {
    let index = LineIndex::new(src);
    findings(src)
        .iter()
        .filter(|f| f.rule.code == code)
        .map(|f| (index.line_col(src, f.span.start).line, f.severity()))
        .collect()
}

/// The 1-based line of the first line of `src` that starts with `prefix`.
fn line_of(src: &str, prefix: &str) -> usize {
    src.lines()
        .position(|l| l.starts_with(prefix))
        .map(|i| i + 1)
        .unwrap_or_else(|| panic!("no line starts with {prefix:?}"))
}

#[test]
fn placeholders_are_errors_at_the_dpia_line() {
    for value in [
        "\"tbd\"",
        "\"TBD\"",
        "\"todo\"",
        "\"To Do\"",
        "\"n/a\"",
        "\"N / A\"",
        "\"none\"",
        "\"\"",
        "\"  \"",
        "\"-\"",
    ] {
        let src = with_dpia(value);
        let at = line_of(&src, "dpia =");
        assert_eq!(
            lines(&src, "PV064"),
            vec![(at, Severity::Error)],
            "dpia = {value}"
        );
        let f = findings(&src);
        let f = f.iter().find(|f| f.rule.code == "PV064").expect("PV064");
        assert!(f.message.contains("placeholder"), "{}", f.message);
        assert!(f.help.contains("DPIA-2026-04 (2026-10-01)"), "{}", f.help);
        assert!(check(&src, &cx()).expect("toml").has_errors());
    }
}

#[test]
fn references_without_a_url_or_date_are_errors_too() {
    for value in [
        "\"DPIA-2026-04\"",
        "\"see the shared drive\"",
        "\"http://acme.example/dpia\"",
    ] {
        let src = with_dpia(value);
        let at = line_of(&src, "dpia =");
        assert_eq!(lines(&src, "PV064"), vec![(at, Severity::Error)], "{value}");
    }
}

#[test]
fn urls_and_dated_references_pass() {
    for value in [
        "\"https://acme.example/privacy/dpia-thermostat\"",
        "\"DPIA-2026-07 (2026-10-01)\"",
        "\"DPIA 12, approved 2026-02-28\"",
    ] {
        let src = with_dpia(value);
        assert!(findings(&src).is_empty(), "{value}: {:#?}", findings(&src));
    }
}

#[test]
fn leaving_dpia_out_is_never_an_error() {
    let src = base();
    assert!(lines(&src, "PV064").is_empty());
    assert!(!check(&src, &cx()).expect("toml").has_errors());
    let design = include_str!("fixtures/design_example.toml");
    assert!(!check(design, &cx()).expect("toml").has_errors());
    assert!(lines(design, "PV064").is_empty());
}

#[test]
fn a_high_risk_product_without_dpia_gets_a_warning_naming_why() {
    // Children (EDPB 7) and a member's presence over time (ICO: tracking): required.
    let src = base().replacen(
        "works_offline =",
        "audience = \"children\"\nworks_offline =",
        1,
    );
    let at = line_of(&src, "audience =");
    assert_eq!(lines(&src, "PV044"), vec![(at, Severity::Warning)]);
    let all = findings(&src);
    let f = all.iter().find(|f| f.rule.code == "PV044").expect("PV044");
    assert!(f.message.contains("vulnerable people"), "{}", f.message);
    assert!(f.message.contains("tracking"), "{}", f.message);
    assert!(f.help.contains("EDPB criterion"), "{}", f.help);
    assert!(f.help.contains("privet dpia"), "{}", f.help);
    // With a reference, no warning; with a placeholder, the error instead of the warning.
    let assessed = src.replacen(
        "works_offline =",
        "dpia = \"https://acme.example/dpia\"\nworks_offline =",
        1,
    );
    assert!(lines(&assessed, "PV044").is_empty());
    let placeholder = src.replacen("works_offline =", "dpia = \"tbd\"\nworks_offline =", 1);
    assert!(lines(&placeholder, "PV044").is_empty());
    assert_eq!(lines(&placeholder, "PV064").len(), 1);
}

#[test]
fn an_ordinary_product_gets_no_warning() {
    // Tracking alone (a member's presence) needs an EDPB criterion with it; adults only.
    let src = base().replacen(
        "works_offline =",
        "audience = \"adults\"\nworks_offline =",
        1,
    );
    assert!(lines(&src, "PV044").is_empty(), "{:#?}", findings(&src));
}

#[test]
fn the_doorbell_without_its_dpia_is_warned_where_it_films_passers_by() {
    let doorbell = include_str!("../../../examples/manifests/video-doorbell.toml");
    let src = doorbell.replacen(
        "dpia = \"https://porchlight.example/privacy/dpia-doorbell-2\"\n",
        "",
        1,
    );
    assert_ne!(src, doorbell);
    let at = line_of(&src, "data_subjects = [\"visitor\", \"passerby\"]");
    assert_eq!(lines(&src, "PV044"), vec![(at, Severity::Warning)]);
    assert!(!check(&src, &cx()).expect("toml").has_errors());
}

/// The issue's baby monitor: untransformed audio of a baby, "cleared" by `dpia = "tbd"`.
#[test]
fn a_placeholder_no_longer_clears_the_recording_rule() {
    let src = format!(
        "{}\n{}",
        with_dpia("\"tbd\""),
        r#"
[streams.nursery]
subject = "member"
data_subjects = ["child"]

[streams.nursery.fields.sound]
type = "string"
category = "user.sensor.audio"
purposes = ["heating_control"]
retention = "3y"
"#
    );
    let dpia_line = line_of(&src, "dpia =");
    let audio_line = line_of(&src, "category = \"user.sensor.audio\"");
    assert_eq!(lines(&src, "PV064"), vec![(dpia_line, Severity::Error)]);
    assert_eq!(lines(&src, "PV026"), vec![(audio_line, Severity::Error)]);
    // A real reference clears the recording rule, as before.
    let assessed = src.replacen("dpia = \"tbd\"", "dpia = \"DPIA-2026-07 (2026-10-01)\"", 1);
    assert!(lines(&assessed, "PV026").is_empty());
    assert!(lines(&assessed, "PV064").is_empty());
}
