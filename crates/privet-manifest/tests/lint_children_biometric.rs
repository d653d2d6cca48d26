//! The rules that check rather than trust (issue 14): biometric data filed under another
//! category (PV060), children's recordings (PV061, PV062), profiling or marketing under
//! `contract` (PV063), retention past its category's bound (PV016) — each both ways — and a
//! baby monitor holding every placeholder the issue found, each caught at its line.

#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail the test by panicking"
)]

use privet_manifest::retention_bounds::RETENTION_BOUNDS;
use privet_manifest::{Finding, LineIndex, LintContext, Severity, check};

fn cx() -> LintContext {
    LintContext {
        today: jiff::civil::date(2026, 11, 28),
    }
}

fn base() -> String {
    include_str!("fixtures/lint_clean.toml").to_owned()
}

const BABY: &str = include_str!("fixtures/baby-monitor-placeholders.toml");

#[track_caller]
fn edit(src: &str, from: &str, to: &str) -> String {
    assert!(src.contains(from), "`{from}` is not in the manifest");
    src.replacen(from, to, 1)
}

fn findings(src: &str) -> Vec<Finding> {
    check(src, &cx()).expect("valid TOML").findings
}

/// The source text each finding of `code` points at.
fn spans(src: &str, code: &str) -> Vec<String> {
    findings(src)
        .iter()
        .filter(|f| f.rule.code == code)
        .map(|f| src[f.span.range()].to_owned())
        .collect()
}

/// The 1-based lines of every finding of `code`.
fn lines(src: &str, code: &str) -> Vec<usize> {
    let index = LineIndex::new(src);
    findings(src)
        .iter()
        .filter(|f| f.rule.code == code)
        .map(|f| index.line_col(src, f.span.start).line)
        .collect()
}

#[track_caller]
fn fires(src: &str, code: &str, snippet: &str) -> Finding {
    let all = findings(src);
    let Some(f) = all
        .iter()
        .find(|f| f.rule.code == code && &src[f.span.range()] == snippet)
    else {
        let got: Vec<_> = all
            .iter()
            .map(|f| format!("{} at {:?}", f.rule.code, &src[f.span.range()]))
            .collect();
        panic!("expected {code} at {snippet:?}; got {got:?}");
    };
    assert!(!f.label.is_empty() && !f.help.is_empty(), "{code}");
    f.clone()
}

#[track_caller]
fn quiet(src: &str, code: &str) {
    let got = spans(src, code);
    assert!(got.is_empty(), "expected no {code}; got it at {got:?}");
}

/// A field appended to the base manifest's `presence` stream (a member's data).
fn with_field(category: &str, retention: &str, extra: &str) -> String {
    format!(
        "{}\n[streams.presence.fields.extra]\ntype = \"string\"\ncategory = \"{category}\"\npurposes = [\"heating_control\"]\nretention = \"{retention}\"\n{extra}\n",
        base()
    )
}

// ---------------------------------------------------------------------------------------------
// PV060 undeclared-biometric

#[test]
fn pv060_face_print_under_self_image_is_an_error_at_the_category() {
    let src = with_field(
        "user.content.self_image",
        "30d",
        "transform = { drop_after = \"7d\" }\ndescription = \"A face print of whoever is at the door, so we can tell you who it was.\"",
    );
    let f = fires(&src, "PV060", "\"user.content.self_image\"");
    assert_eq!(f.severity(), Severity::Error);
    assert!(f.message.contains("face print"), "{}", f.message);
    assert!(
        f.help.contains("category = \"user.biometric\""),
        "{}",
        f.help
    );
}

#[test]
fn pv060_reads_field_names_and_every_biometric_trait() {
    for (name, category) in [
        ("fingerprint_hash", "user.biometric.fingerprint"),
        ("voice_print", "user.biometric.voice"),
        ("gait_signature", "user.biometric"),
        ("iris_code", "user.biometric.retinal"),
    ] {
        let src = edit(
            &with_field("user.unique_id", "30d", ""),
            "fields.extra]",
            &format!("fields.{name}]"),
        );
        let f = fires(&src, "PV060", "\"user.unique_id\"");
        assert!(f.help.contains(category), "{name}: {}", f.help);
    }
}

#[test]
fn pv060_quiet_for_biometric_categories_and_innocent_words() {
    let described = |d: &str| with_field("user.device", "30d", &format!("description = \"{d}\""));
    // Filed as biometric: the special category rules take it from there.
    let declared = with_field(
        "user.biometric",
        "30d",
        "description = \"A face print, so we can tell you who it was.\"",
    );
    quiet(&declared, "PV060");
    for innocent in [
        "The surface temperature of the hob.",
        "The interface you used: the app or the panel.",
        "Whether you linked your Facebook account.",
        "The watch face you chose.",
        "The camera does not recognise faces.",
        "The sound of your voice when you ask for something.",
    ] {
        quiet(&described(innocent), "PV060");
    }
    // Names too: `surface_temp` is not a face.
    quiet(
        &edit(
            &with_field("user.device", "30d", ""),
            "fields.extra]",
            "fields.surface_temp]",
        ),
        "PV060",
    );
}

// ---------------------------------------------------------------------------------------------
// PV061 children-recording-kept-long, PV062 children-recording-unminimised

/// An audio stream that may capture children (it says so in `data_subjects`).
fn child_audio(retention: &str, extra: &str) -> String {
    format!(
        "{}\n[streams.nursery]\nsubject = \"member\"\ndata_subjects = [\"child\"]\n\n[streams.nursery.fields.sound]\ntype = \"string\"\ncategory = \"user.sensor.audio\"\npurposes = [\"heating_control\"]\nretention = \"{retention}\"\n{extra}\n",
        edit(
            &base(),
            "works_offline =",
            "dpia = \"https://acme.example/dpia\"\nworks_offline =",
        )
    )
}

#[test]
fn pv061_a_childs_recording_kept_over_a_year_is_an_error() {
    let src = child_audio("13m", "transform = { drop_after = \"13m\" }");
    let f = fires(&src, "PV061", "\"13m\"");
    assert_eq!(f.severity(), Severity::Error);
    quiet(
        &child_audio("1y", "transform = { drop_after = \"30d\" }"),
        "PV061",
    );
    // `drop_after` is what is really kept.
    quiet(
        &child_audio("2y", "transform = { drop_after = \"30d\" }"),
        "PV061",
    );
    // Without `child` in `data_subjects`, in a product for adults, it is an adult's recording.
    let adults = child_audio("13m", "transform = { drop_after = \"13m\" }")
        .replace("data_subjects = [\"child\"]", "data_subjects = [\"guest\"]");
    quiet(&adults, "PV061");
    // A product for children makes every recording a child's.
    let for_children = edit(
        &adults,
        "works_offline =",
        "audience = \"children\"\nworks_offline =",
    );
    fires(&for_children, "PV061", "\"13m\"");
}

#[test]
fn pv062_a_childs_recording_needs_a_transform_even_with_a_dpia() {
    let src = child_audio("30d", "");
    let f = fires(&src, "PV062", "\"user.sensor.audio\"");
    assert_eq!(f.severity(), Severity::Warning);
    assert!(f.help.contains("drop_after"), "{}", f.help);
    // The DPIA clears PV026 for adults' recordings but not this one.
    quiet(&src, "PV026");
    quiet(
        &child_audio("30d", "transform = { drop_after = \"24h\" }"),
        "PV062",
    );
    quiet(
        &child_audio("30d", "").replace("[\"child\"]", "[\"guest\"]"),
        "PV062",
    );
}

// ---------------------------------------------------------------------------------------------
// PV063 profiling-under-contract

#[test]
fn pv063_profiling_or_marketing_under_contract_is_an_error() {
    for data_use in [
        "personalize.content.profiling",
        "personalize.content.profiled",
        "marketing.advertising.first_party.targeted",
        "marketing.communications.email",
        "sales",
    ] {
        let src = edit(
            &edit(
                &base(),
                "\"analytics.reporting\"",
                &format!("\"{data_use}\""),
            ),
            "basis = \"consent\"",
            "basis = \"contract\"",
        );
        let f = fires(&src, "PV063", "\"contract\"");
        assert_eq!(f.severity(), Severity::Error);
        assert!(f.help.contains("basis = \"consent\""), "{}", f.help);
        // One finding for one mistake: PV024 leaves marketing under contract to PV063.
        quiet(&src, "PV024");
    }
    // Consent is right; an essential use under contract is right.
    quiet(
        &edit(
            &base(),
            "\"analytics.reporting\"",
            "\"personalize.content.profiling\"",
        ),
        "PV063",
    );
    quiet(&base(), "PV063");
    // Personalising the device itself is not profiling.
    quiet(
        &edit(
            &edit(&base(), "\"analytics.reporting\"", "\"personalize.system\""),
            "basis = \"consent\"",
            "basis = \"contract\"",
        ),
        "PV063",
    );
}

#[test]
fn no_help_suggests_contract_for_profiling_or_marketing() {
    let profiling = edit(
        &base(),
        "\"analytics.reporting\"",
        "\"personalize.content.profiling\"",
    );
    let cases = [
        // No basis at all: the parser asks for one.
        edit(&profiling, "basis = \"consent\"\nrecipients", "recipients"),
        // A misspelt basis: "did you mean" must not offer contract.
        edit(&profiling, "basis = \"consent\"", "basis = \"contrakt\""),
        // Under contract: the lint's own help.
        edit(&profiling, "basis = \"consent\"", "basis = \"contract\""),
        // Marketing in a product for children.
        edit(
            &edit(
                &profiling,
                "\"personalize.content.profiling\"",
                "\"marketing\"",
            ),
            "works_offline =",
            "audience = \"children\"\nworks_offline =",
        ),
    ];
    for src in &cases {
        let all = findings(src);
        assert!(!all.is_empty(), "{src}");
        for f in &all {
            assert!(
                !f.help.contains("contract`") && !f.help.contains("\"contract\""),
                "{} suggests contract: {}",
                f.rule.code,
                f.help
            );
        }
    }
    // For an essential use the parser may still suggest it.
    let essential = edit(&base(), "basis = \"contract\"\n", "");
    assert!(
        findings(&essential)
            .iter()
            .any(|f| f.rule.code == "PV001" && f.help.contains("\"contract\""))
    );
}

// ---------------------------------------------------------------------------------------------
// PV016 long-retention: a bound per category, an error unless a reason is written down

#[test]
fn pv016_retention_past_the_category_bound_is_an_error() {
    let src = edit(&base(), "retention = \"30d\"", "retention = \"5y\"");
    let f = fires(&src, "PV016", "\"5y\"");
    assert_eq!(f.severity(), Severity::Error);
    assert!(f.message.contains("2 years"), "{}", f.message);
    assert!(f.help.contains("retention_reason"), "{}", f.help);
    // Within the bound for behaviour (2 years): nothing.
    quiet(
        &edit(&base(), "retention = \"30d\"", "retention = \"2y\""),
        "PV016",
    );
    // A written reason makes it a decision the notice shows, not an error.
    let justified = edit(
        &src,
        "retention = \"5y\"",
        "retention = \"5y\"\nretention_reason = \"Kept to show you five winters side by side.\"",
    );
    quiet(&justified, "PV016");
    // A blank reason is no reason.
    quiet(
        &edit(
            &src,
            "retention = \"5y\"",
            "retention = \"5y\"\nretention_reason = \" \"",
        ),
        "PV015",
    );
    fires(
        &edit(
            &src,
            "retention = \"5y\"",
            "retention = \"5y\"\nretention_reason = \" \"",
        ),
        "PV016",
        "\"5y\"",
    );
}

#[test]
fn pv016_bounds_differ_by_category() {
    // Home sensor readings may be kept 3 years; audio only 1.
    let sensor = edit(&base(), "\"400d\"", "\"3y\"");
    quiet(&sensor, "PV016");
    fires(&edit(&base(), "\"400d\"", "\"37m\""), "PV016", "\"37m\"");
    let audio = with_field("user.sensor.audio", "13m", "");
    fires(&audio, "PV016", "\"13m\"");
    quiet(&with_field("user.sensor.audio", "12m", ""), "PV016");
    // System data has no bound.
    quiet(
        &edit(
            &edit(&base(), "\"400d\"", "\"5y\""),
            "\"user.sensor\"",
            "\"system.operations\"",
        ),
        "PV016",
    );
}

#[test]
fn docs_print_the_retention_bounds_table() {
    let docs = include_str!("../../../docs/lint-rules.md");
    for b in RETENTION_BOUNDS {
        let row = format!("| `{}` | {} |", b.category, b.longest.plain());
        assert!(docs.contains(&row), "docs/lint-rules.md lacks `{row}`");
    }
}

#[test]
fn retention_reason_is_parsed_with_its_span() {
    let src = edit(
        &base(),
        "retention = \"30d\"",
        "retention = \"30d\"\nretention_reason = \"Needed for the yearly report.\"",
    );
    let parsed = privet_manifest::parse(&src).expect("valid TOML");
    assert!(parsed.findings.is_empty(), "{:#?}", parsed.findings);
    let (_, field) = parsed
        .manifest
        .fields()
        .find(|(_, f)| f.name.as_str() == "home")
        .expect("field home");
    let reason = field.retention_reason.as_ref().expect("a reason");
    assert_eq!(reason.value, "Needed for the yearly report.");
    assert_eq!(
        &src[reason.span.range()],
        "\"Needed for the yearly report.\""
    );
}

// ---------------------------------------------------------------------------------------------
// The baby monitor of issue 14

#[test]
fn baby_monitor_fails_at_every_placeholder_line() {
    let checked = check(BABY, &cx()).expect("valid TOML");
    assert!(checked.has_errors());
    // The "face print … who it was" filed as a picture of oneself (line 48).
    assert_eq!(lines(BABY, "PV060"), [48]);
    // 5 years of a baby's audio (line 50 is 18 years of face prints; 57 five of sleep).
    assert_eq!(lines(BABY, "PV016"), [43, 50, 57]);
    assert_eq!(lines(BABY, "PV061"), [43, 50]);
    assert_eq!(lines(BABY, "PV062"), [41, 48]);
    // The sleep profile under contract (line 25).
    assert_eq!(lines(BABY, "PV063"), [25]);
    // `dpia = "tbd"` (line 13) references no document.
    assert_eq!(lines(BABY, "PV064"), [13]);
    for code in ["PV060", "PV016", "PV061", "PV063", "PV064"] {
        assert!(
            checked
                .findings
                .iter()
                .filter(|f| f.rule.code == code)
                .all(|f| f.severity() == Severity::Error),
            "{code}"
        );
    }
    // The US recipient has a safeguard, so no transfer error.
    assert!(lines(BABY, "PV029").is_empty());
}
