//! Every manifest rule, both ways: a manifest that triggers it (checking the code and the exact
//! source text the finding points at) and a near-identical one that does not.
//!
//! Manifests are built from [`base`], a clean manifest with no findings at all, by small edits.

// clippy.toml allows these inside `#[test]` functions; the helpers below fail tests the same way.
#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail the test by panicking"
)]

use privet_manifest::taxonomy::Taxonomy;
use privet_manifest::{Finding, LintContext, check, rules};

fn cx() -> LintContext {
    LintContext {
        today: jiff::civil::date(2026, 11, 28),
    }
}

/// A manifest that every rule passes: warnings included.
fn base() -> String {
    include_str!("fixtures/lint_clean.toml").to_owned()
}

/// `src` with the first `from` replaced by `to`; `from` must occur, so edits never go stale.
fn edit(src: &str, from: &str, to: &str) -> String {
    assert!(src.contains(from), "`{from}` is not in the manifest");
    src.replacen(from, to, 1)
}

/// The base manifest with one edit.
fn base_with(from: &str, to: &str) -> String {
    edit(&base(), from, to)
}

/// The base manifest with more TOML appended.
fn base_plus(extra: &str) -> String {
    format!("{}\n{extra}", base())
}

fn findings(src: &str) -> Vec<Finding> {
    check(src, &cx()).expect("valid TOML").findings
}

/// The source text of every finding of rule `code`.
fn spans(src: &str, code: &str) -> Vec<String> {
    findings(src)
        .iter()
        .filter(|f| f.rule.code == code)
        .map(|f| src[f.span.range()].to_owned())
        .collect()
}

/// Asserts `src` triggers `code` pointing at `snippet`, with a label and a concrete help,
/// and returns that finding.
#[track_caller]
fn fires(src: &str, code: &str, snippet: &str) -> Finding {
    let all = findings(src);
    let found = all
        .iter()
        .find(|f| f.rule.code == code && &src[f.span.range()] == snippet);
    let Some(f) = found else {
        let got: Vec<_> = all
            .iter()
            .map(|f| format!("{} at {:?}", f.rule.code, &src[f.span.range()]))
            .collect();
        panic!("expected {code} at {snippet:?}; got {got:?}");
    };
    assert!(!f.label.is_empty(), "{code} has no label");
    assert!(!f.help.is_empty(), "{code} has no help");
    assert!(
        !f.help.contains(f.rule.source),
        "{code} repeats its source in help"
    );
    f.clone()
}

/// Asserts `src` does not trigger `code`.
#[track_caller]
fn quiet(src: &str, code: &str) {
    let got = spans(src, code);
    assert!(got.is_empty(), "expected no {code}; got it at {got:?}");
}

/// The byte offset of `needle` in `src`, to check a finding is in the right table.
fn at(src: &str, needle: &str) -> usize {
    src.find(needle).expect("needle in manifest")
}

// ---------------------------------------------------------------------------------------------
// The base and the registry

#[test]
fn base_manifest_has_no_findings() {
    let src = base();
    let all = findings(&src);
    assert!(all.is_empty(), "{all:#?}");
}

#[test]
fn docs_describe_every_rule() {
    let docs = include_str!("../../../docs/lint-rules.md");
    for r in rules::ALL {
        let heading = format!("### {} {} ({})", r.code, r.name, r.severity.as_str());
        assert!(
            docs.contains(&heading),
            "docs/lint-rules.md lacks `{heading}`"
        );
    }
}

#[test]
fn every_finding_in_a_messy_manifest_has_label_and_help() {
    let src = include_str!("fixtures/lint_messy.toml");
    let all = findings(src);
    assert!(all.len() > 15, "{all:#?}");
    for f in &all {
        assert!(!f.label.is_empty(), "{} has no label", f.rule.code);
        assert!(!f.help.is_empty(), "{} has no help", f.rule.code);
        assert!(f.full_help().ends_with(&format!("({})", f.rule.source)));
    }
}

// ---------------------------------------------------------------------------------------------
// PV001–PV005: the parser's rules

#[test]
fn pv001_missing_key() {
    fires(&base_with("maker = \"Acme Ltd\"\n", ""), "PV001", "product");
    quiet(&base(), "PV001");
}

#[test]
fn pv002_wrong_type() {
    let src = base_with(
        "disclosure_response_days = 14",
        "disclosure_response_days = \"14\"",
    );
    fires(&src, "PV002", "\"14\"");
    quiet(&base(), "PV002");
}

#[test]
fn pv003_unknown_key() {
    let src = base_with("works_offline =", "audiense = \"adults\"\nworks_offline =");
    let f = fires(&src, "PV003", "audiense");
    assert!(f.help.contains("did you mean `audience`"), "{}", f.help);
    quiet(
        &base_with("works_offline =", "audience = \"adults\"\nworks_offline ="),
        "PV003",
    );
}

#[test]
fn pv004_invalid_value() {
    fires(
        &base_with("basis = \"contract\"", "basis = \"contrakt\""),
        "PV004",
        "\"contrakt\"",
    );
    quiet(&base(), "PV004");
}

#[test]
fn pv005_invalid_id() {
    let src = base().replace("streams.presence", "streams.Presence");
    fires(&src, "PV005", "Presence");
    quiet(&base(), "PV005");
}

// ---------------------------------------------------------------------------------------------
// Purposes

#[test]
fn pv010_field_without_purpose() {
    let src = base_with("purposes = [\"energy_report\"]", "purposes = []");
    let f = fires(&src, "PV010", "[]");
    assert!(
        f.help.contains("purposes = [\"heating_control\"]"),
        "{}",
        f.help
    );
    let src = base_with("purposes = [\"energy_report\"]\n", "");
    fires(&src, "PV010", "home");
    quiet(&base(), "PV010");
}

#[test]
fn pv011_unused_purpose() {
    let extra = "[purposes.support]\ndescription = \"Help you when you call us.\"\nuse = \"essential.service.operations.support\"\nbasis = \"contract\"\n";
    let src = edit(
        &base(),
        "[recipients.mailer]",
        &format!("{extra}\n[recipients.mailer]"),
    );
    fires(&src, "PV011", "support");
    let used = edit(
        &src,
        "purposes = [\"energy_report\"]",
        "purposes = [\"energy_report\", \"support\"]",
    );
    quiet(&used, "PV011");
}

#[test]
fn pv012_undefined_purpose() {
    let src = base_with(
        "purposes = [\"energy_report\"]",
        "purposes = [\"energy_reprt\"]",
    );
    let f = fires(&src, "PV012", "\"energy_reprt\"");
    assert_eq!(f.help, "did you mean \"energy_report\"?");
    let src = base_with(
        "country = \"GB\"",
        "country = \"GB\"\npurposes = [\"billing\"]",
    );
    fires(&src, "PV012", "\"billing\"");
    quiet(
        &base_with(
            "country = \"GB\"",
            "country = \"GB\"\npurposes = [\"energy_report\"]",
        ),
        "PV012",
    );
}

#[test]
fn pv022_consent_for_essential() {
    let src = base_with("basis = \"contract\"", "basis = \"consent\"");
    let f = fires(&src, "PV022", "\"consent\"");
    assert!(f.span.start < at(&src, "[purposes.energy_report]"));
    assert!(f.help.contains("basis = \"contract\""));
    quiet(&base(), "PV022");
}

// ---------------------------------------------------------------------------------------------
// Retention

#[test]
fn pv013_missing_retention() {
    let f = fires(&base_with("retention = \"30d\"\n", ""), "PV013", "home");
    assert!(f.help.contains("retention = \"30d\""), "{}", f.help);
    quiet(&base(), "PV013");
}

#[test]
fn pv014_invalid_retention() {
    let f = fires(&base_with("\"30d\"", "\"30 days\""), "PV014", "\"30 days\"");
    assert!(f.help.contains("retention = \"30d\""), "{}", f.help);
    fires(&base_with("\"30d\"", "\"0d\""), "PV014", "\"0d\"");
    quiet(&base_with("\"30d\"", "\"31d\""), "PV014");
}

#[test]
fn pv015_unbounded_retention() {
    fires(&base_with("\"30d\"", "\"forever\""), "PV015", "\"forever\"");
    fires(&base_with("\"30d\"", "\"200y\""), "PV015", "\"200y\"");
    quiet(&base_with("\"30d\"", "\"20y\""), "PV015");
}

#[test]
fn pv016_long_retention() {
    fires(&base_with("\"400d\"", "\"37m\""), "PV016", "\"37m\"");
    quiet(&base_with("\"400d\"", "\"3y\""), "PV016");
    // Not personal data, or dropped early: no finding.
    let system =
        base_with("\"400d\"", "\"5y\"").replacen("\"user.sensor\"", "\"system.operations\"", 1);
    quiet(&system, "PV016");
    quiet(
        &base_with("{ round = 0.5 }", "{ round = 0.5, drop_after = \"1y\" }")
            .replace("\"400d\"", "\"5y\""),
        "PV016",
    );
}

#[test]
fn pv047_ineffective_drop_after() {
    let src = base_with("{ round = 0.5 }", "{ round = 0.5, drop_after = \"60w\" }");
    fires(&src, "PV047", "\"60w\"");
    quiet(
        &base_with("{ round = 0.5 }", "{ round = 0.5, drop_after = \"30d\" }"),
        "PV047",
    );
}

// ---------------------------------------------------------------------------------------------
// Taxonomy

#[test]
fn pv017_unknown_category() {
    let f = fires(
        &base_with("\"user.behavior\"", "\"user.behaviour\""),
        "PV017",
        "\"user.behaviour\"",
    );
    assert_eq!(f.help, "did you mean \"user.behavior\"?");
    let f = fires(
        &base_with("\"user.behavior\"", "\"zzz\""),
        "PV017",
        "\"zzz\"",
    );
    assert!(f.help.contains("user.sensor.environment"), "{}", f.help);
    quiet(
        &base_with("\"user.behavior\"", "\"user.behavior.presence\""),
        "PV017",
    );
}

#[test]
fn pv018_unknown_use() {
    let f = fires(
        &base_with("\"analytics.reporting\"", "\"analytics.reportng\""),
        "PV018",
        "\"analytics.reportng\"",
    );
    assert_eq!(f.help, "did you mean \"analytics.reporting\"?");
    quiet(
        &base_with("\"analytics.reporting\"", "\"analytics.reporting.system\""),
        "PV018",
    );
}

/// The bundled fideslang release deprecates no key, so this holds for every key it may
/// deprecate later; the rule itself is unit-tested on a hand-built entry in `lint/taxonomy.rs`.
#[test]
fn pv019_deprecated_taxonomy_key() {
    for e in Taxonomy::get()
        .categories
        .entries()
        .iter()
        .filter(|e| e.deprecated.is_some())
    {
        let value = format!("\"{}\"", e.key);
        let src = base_with("\"user.behavior\"", &value);
        let f = fires(&src, "PV019", &value);
        if let Some(new) = &e.replaced_by {
            assert!(f.help.contains(new.as_str()));
        }
    }
    for e in Taxonomy::get()
        .uses
        .entries()
        .iter()
        .filter(|e| e.deprecated.is_some())
    {
        let value = format!("\"{}\"", e.key);
        fires(
            &base_with("\"analytics.reporting\"", &value),
            "PV019",
            &value,
        );
    }
    quiet(&base(), "PV019");
}

#[test]
fn pv049_unknown_data_subject() {
    let src = base_with(
        "subject = \"member\"",
        "subject = \"member\"\ndata_subjects = [\"gest\"]",
    );
    let f = fires(&src, "PV049", "\"gest\"");
    assert_eq!(f.help, "did you mean \"guest\"?");
    quiet(
        &base_with(
            "subject = \"member\"",
            "subject = \"member\"\ndata_subjects = [\"guest\"]",
        ),
        "PV049",
    );
}

// ---------------------------------------------------------------------------------------------
// Special category data

/// The base manifest with `home` made health data, so special category rules apply.
fn health() -> String {
    base_with("\"user.behavior\"", "\"user.health_and_medical.fitness\"")
}

#[test]
fn pv020_special_category_without_condition() {
    let src = health();
    let f = fires(&src, "PV020", "\"energy_report\"");
    assert!(
        f.span.start > at(&src, "fields.home"),
        "points into the field's purposes"
    );
    assert!(
        f.help
            .contains("special_category_condition = \"explicit_consent\"")
    );
    assert_eq!(spans(&src, "PV020").len(), 1);
    let fixed = edit(
        &src,
        "basis = \"consent\"",
        "basis = \"consent\"\nspecial_category_condition = \"explicit_consent\"",
    );
    quiet(&fixed, "PV020");
}

#[test]
fn pv020_is_reported_once_per_field_and_purpose() {
    let src = edit(
        &health(),
        "purposes = [\"energy_report\"]",
        "purposes = [\"energy_report\", \"energy_report\"]",
    );
    assert_eq!(spans(&src, "PV020").len(), 1);
}

#[test]
fn pv021_explicit_consent_not_gated() {
    let with_condition = base_with(
        "basis = \"consent\"",
        "basis = \"legitimate_interests\"\nspecial_category_condition = \"explicit_consent\"",
    );
    let f = fires(&with_condition, "PV021", "\"legitimate_interests\"");
    assert!(f.help.contains("basis = \"consent\""));
    let gated = base_with(
        "basis = \"consent\"",
        "basis = \"consent\"\nspecial_category_condition = \"explicit_consent\"",
    );
    quiet(&gated, "PV021");
}

#[test]
fn pv051_inferred_special_category() {
    let fixed = edit(
        &health(),
        "basis = \"consent\"",
        "basis = \"consent\"\nspecial_category_condition = \"explicit_consent\"",
    );
    let src = edit(
        &fixed,
        "retention = \"30d\"",
        "retention = \"30d\"\norigin = \"inferred\"",
    );
    fires(&src, "PV051", "\"inferred\"");
    quiet(
        &edit(
            &fixed,
            "retention = \"30d\"",
            "retention = \"30d\"\norigin = \"provided\"",
        ),
        "PV051",
    );
    // Inferring ordinary data is not special category processing.
    quiet(
        &base_with(
            "retention = \"30d\"",
            "retention = \"30d\"\norigin = \"inferred\"",
        ),
        "PV051",
    );
}

// ---------------------------------------------------------------------------------------------
// PECR

#[test]
fn pv023_analytics_without_pecr_ground() {
    let src = base_with("basis = \"consent\"", "basis = \"legitimate_interests\"");
    let f = fires(&src, "PV023", "\"analytics.reporting\"");
    assert!(f.help.contains("pecr = \"statistical\""));
    let declared = base_with(
        "basis = \"consent\"",
        "basis = \"legitimate_interests\"\npecr = \"strictly_necessary\"",
    );
    fires(&declared, "PV023", "\"strictly_necessary\"");
    quiet(
        &base_with(
            "basis = \"consent\"",
            "basis = \"legitimate_interests\"\npecr = \"statistical\"",
        ),
        "PV023",
    );
    quiet(&base(), "PV023");
}

#[test]
fn pv024_marketing_without_consent() {
    let marketing = base_with(
        "\"analytics.reporting\"",
        "\"marketing.communications.email\"",
    );
    let src = edit(
        &marketing,
        "basis = \"consent\"",
        "basis = \"legitimate_interests\"",
    );
    let f = fires(&src, "PV024", "\"legitimate_interests\"");
    assert!(f.help.contains("basis = \"consent\""));
    quiet(&marketing, "PV024");
    let sharing = base_with("\"analytics.reporting\"", "\"third_party_sharing\"");
    fires(
        &edit(&sharing, "basis = \"consent\"", "basis = \"contract\""),
        "PV024",
        "\"contract\"",
    );
    let legal = base_with(
        "\"analytics.reporting\"",
        "\"third_party_sharing.legal_obligation\"",
    );
    quiet(
        &edit(
            &legal,
            "basis = \"consent\"",
            "basis = \"legal_obligation\"",
        ),
        "PV024",
    );
}

// ---------------------------------------------------------------------------------------------
// High-risk processing

const LOCATION_FIELD: &str = r#"
[streams.presence.fields.where]
type = "location"
category = "user.location.precise"
purposes = ["heating_control"]
retention = "30d"
"#;

const AUDIO_FIELD: &str = r#"
[streams.voice]
subject = "member"
data_subjects = ["guest"]

[streams.voice.fields.clip]
type = "string"
category = "user.sensor.audio"
purposes = ["heating_control"]
retention = "30d"
"#;

const DPIA: (&str, &str) = (
    "works_offline =",
    "dpia = \"DPIA-2026-04 (2026-10-01)\"\nworks_offline =",
);

#[test]
fn pv025_precise_location_unminimised() {
    let src = base_plus(LOCATION_FIELD);
    let f = fires(&src, "PV025", "\"user.location.precise\"");
    assert!(f.help.contains("truncate_location = 3"), "{}", f.help);
    assert!(
        f.help.contains("dpia = \"DPIA-2026-04 (2026-10-01)\""),
        "{}",
        f.help
    );
    quiet(
        &base_plus(&LOCATION_FIELD.replace(
            "retention = \"30d\"",
            "retention = \"30d\"\ntransform = { truncate_location = 3 }",
        )),
        "PV025",
    );
    quiet(&edit(&src, DPIA.0, DPIA.1), "PV025");
}

#[test]
fn pv026_audio_video_unminimised() {
    let src = base_plus(AUDIO_FIELD);
    let f = fires(&src, "PV026", "\"user.sensor.audio\"");
    assert!(f.help.contains("drop_after = \"7d\""), "{}", f.help);
    quiet(
        &base_plus(&AUDIO_FIELD.replace(
            "retention = \"30d\"",
            "retention = \"30d\"\ntransform = { drop_after = \"7d\" }",
        )),
        "PV026",
    );
    quiet(&edit(&src, DPIA.0, DPIA.1), "PV026");
}

#[test]
fn pv044_dpia_missing() {
    let src = base_plus(AUDIO_FIELD);
    let f = fires(&src, "PV044", "\"user.sensor.audio\"");
    assert!(f.help.contains("dpia = \"DPIA-2026-04 (2026-10-01)\""));
    quiet(&edit(&src, DPIA.0, DPIA.1), "PV044");
    // One finding however many high-risk fields there are.
    assert_eq!(
        spans(
            &base_plus(&format!("{AUDIO_FIELD}{LOCATION_FIELD}")),
            "PV044"
        )
        .len(),
        1
    );
    // A product children use is high-risk even with ordinary data.
    let children = base_with(
        "works_offline =",
        "audience = \"children\"\nworks_offline =",
    );
    fires(&children, "PV044", "\"children\"");
    quiet(
        &base_with("works_offline =", "audience = \"adults\"\nworks_offline ="),
        "PV044",
    );
}

// ---------------------------------------------------------------------------------------------
// Children

#[test]
fn pv027_children_profiling_or_marketing() {
    let ads = base_with(
        "\"analytics.reporting\"",
        "\"marketing.advertising.first_party\"",
    );
    let src = edit(
        &ads,
        "works_offline =",
        "audience = \"children\"\nworks_offline =",
    );
    fires(&src, "PV027", "\"marketing.advertising.first_party\"");
    let profiling = base_with(
        "\"analytics.reporting\"",
        "\"personalize.content.profiling\"",
    );
    fires(
        &edit(
            &profiling,
            "works_offline =",
            "audience = \"all\"\nworks_offline =",
        ),
        "PV027",
        "\"personalize.content.profiling\"",
    );
    quiet(
        &edit(
            &ads,
            "works_offline =",
            "audience = \"adults\"\nworks_offline =",
        ),
        "PV027",
    );
}

#[test]
fn pv028_children_precise_location() {
    let src = base_plus(LOCATION_FIELD);
    let all = edit(
        &src,
        "works_offline =",
        "audience = \"all\"\nworks_offline =",
    );
    let f = fires(&all, "PV028", "\"user.location.precise\"");
    assert!(f.help.contains("user.location.imprecise"));
    quiet(
        &edit(
            &src,
            "works_offline =",
            "audience = \"adults\"\nworks_offline =",
        ),
        "PV028",
    );
}

// ---------------------------------------------------------------------------------------------
// Recipients

#[test]
fn pv029_transfer_without_safeguard() {
    let src = base_with("country = \"GB\"", "country = \"US\"");
    let f = fires(&src, "PV029", "\"US\"");
    assert!(f.help.contains("safeguard = \"idta\""));
    quiet(
        &base_with("country = \"GB\"", "country = \"US\"\nsafeguard = \"idta\""),
        "PV029",
    );
    quiet(&base_with("country = \"GB\"", "country = \"uk\""), "PV029");
}

#[test]
fn pv038_undefined_recipient() {
    let src = base_with("recipients = [\"mailer\"]", "recipients = [\"mailr\"]");
    let f = fires(&src, "PV038", "\"mailr\"");
    assert_eq!(f.help, "did you mean \"mailer\"?");
    quiet(&base(), "PV038");
}

#[test]
fn pv039_unused_recipient() {
    let src = base_with("recipients = [\"mailer\"]\n", "");
    fires(&src, "PV039", "mailer");
    quiet(
        &edit(
            &src,
            "country = \"GB\"",
            "country = \"GB\"\npurposes = [\"energy_report\"]",
        ),
        "PV039",
    );
}

#[test]
fn pv052_controller_recipient_without_consent() {
    let controller = base_with("role = \"processor\"", "role = \"controller\"");
    quiet(&controller, "PV052");
    let src = edit(
        &controller,
        "basis = \"contract\"",
        "basis = \"contract\"\nrecipients = [\"mailer\"]",
    );
    let f = fires(&src, "PV052", "\"mailer\"");
    assert!(
        f.span.start < at(&src, "[purposes.energy_report]"),
        "at heating_control's list"
    );
    // The link written the other way round counts too.
    let reverse = edit(
        &controller,
        "country = \"GB\"",
        "country = \"GB\"\npurposes = [\"heating_control\"]",
    );
    fires(&reverse, "PV052", "\"heating_control\"");
    quiet(
        &edit(&src, "role = \"controller\"", "role = \"processor\""),
        "PV052",
    );
}

// ---------------------------------------------------------------------------------------------
// Product and security promises

#[test]
fn pv030_missing_privacy_contact() {
    let f = fires(
        &base_with("privacy_contact = \"privacy@acme.example\"\n", ""),
        "PV030",
        "product",
    );
    assert!(f.help.contains("privacy_contact = "));
    quiet(&base(), "PV030");
}

#[test]
fn pv031_missing_vulnerability_disclosure() {
    fires(
        &base_with(
            "vulnerability_disclosure = \"https://acme.example/security\"\n",
            "",
        ),
        "PV031",
        "product",
    );
    quiet(&base(), "PV031");
}

#[test]
fn pv032_missing_security_update_period() {
    fires(
        &base_with("security_updates_until = \"2031-12-31\"\n", ""),
        "PV032",
        "product",
    );
    quiet(&base(), "PV032");
}

#[test]
fn pv033_security_updates_ended() {
    fires(
        &base_with("\"2031-12-31\"", "\"2026-11-27\""),
        "PV033",
        "\"2026-11-27\"",
    );
    quiet(&base_with("\"2031-12-31\"", "\"2026-11-28\""), "PV033");
}

#[test]
fn pv040_invalid_contact() {
    fires(
        &base_with("\"privacy@acme.example\"", "\"privacy at acme\""),
        "PV040",
        "\"privacy at acme\"",
    );
    let f = fires(
        &base_with(
            "\"https://acme.example/security\"",
            "\"http://acme.example/security\"",
        ),
        "PV040",
        "\"http://acme.example/security\"",
    );
    assert!(
        f.help.contains("https://acme.example/security"),
        "{}",
        f.help
    );
    quiet(
        &base_with(
            "\"https://acme.example/security\"",
            "\"security@acme.example\"",
        ),
        "PV040",
    );
}

#[test]
fn pv041_missing_update_key() {
    let f = fires(
        &base_with("update_public_key = ", "# update_public_key = "),
        "PV041",
        "product",
    );
    assert!(f.help.contains("ed25519:"));
    quiet(&base(), "PV041");
}

#[test]
fn pv042_invalid_update_key() {
    fires(
        &base_with("\"ed25519:AAEC", "\"ed25519:AAECAAEC"),
        "PV042",
        "\"ed25519:AAECAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\"",
    );
    fires(
        &base_with("\"ed25519:", "\"rsa:"),
        "PV042",
        "\"rsa:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\"",
    );
    quiet(&base(), "PV042");
}

#[test]
fn pv043_slow_disclosure_response() {
    fires(&base_with("= 14", "= 120"), "PV043", "120");
    quiet(&base_with("= 14", "= 90"), "PV043");
}

#[test]
fn pv050_missing_version() {
    fires(&base_with("version = \"3\"\n", ""), "PV050", "product");
    quiet(&base(), "PV050");
}

#[test]
fn pv053_works_offline_unstated() {
    fires(
        &base_with("works_offline = \"Heating schedules keep running.\"\n", ""),
        "PV053",
        "product",
    );
    quiet(
        &base_with(
            "works_offline = \"Heating schedules keep running.\"",
            "works_offline = false",
        ),
        "PV053",
    );
}

// ---------------------------------------------------------------------------------------------
// Descriptions

const REPORT: &str = "\"Send you a monthly report of your energy use.\"";

#[test]
fn pv034_vague_description() {
    let text = "\"Send you reports on your energy use, etc.\"";
    let f = fires(&base_with(REPORT, text), "PV034", text);
    assert!(f.message.contains("\"etc\""), "{}", f.message);
    let field = "\"The room temperature and more.\"";
    fires(
        &base_with(
            "\"The room temperature, to the nearest half degree.\"",
            field,
        ),
        "PV034",
        field,
    );
    quiet(
        &base_with(REPORT, "\"Send you reports on your energy use and costs.\""),
        "PV034",
    );
}

#[test]
fn pv035_legalistic_description() {
    let text = "\"Send you reports pursuant to your energy plan.\"";
    let f = fires(&base_with(REPORT, text), "PV035", text);
    assert!(
        f.help
            .contains("write \"under\" instead of \"pursuant to\""),
        "{}",
        f.help
    );
    let stream = "\"Readings herein from the thermostat.\"";
    fires(
        &base_with("\"Readings from the thermostat in your home.\"", stream),
        "PV035",
        stream,
    );
    quiet(
        &base_with(REPORT, "\"Send you reports under your energy plan.\""),
        "PV035",
    );
}

#[test]
fn pv036_hard_to_read_description() {
    let text = "\"Telemetry information facilitates algorithmic optimisation of personalised energy consumption recommendations.\"";
    let f = fires(&base_with(REPORT, text), "PV036", text);
    assert!(f.message.contains("Flesch reading ease"));
    quiet(
        &base_with(
            REPORT,
            "\"We use your meter readings to show you how to save energy.\"",
        ),
        "PV036",
    );
    // Too short to score, however long the words.
    quiet(
        &base_with(
            REPORT,
            "\"Algorithmic energy optimisation recommendations.\"",
        ),
        "PV036",
    );
}

#[test]
fn pv037_empty_description() {
    fires(&base_with(REPORT, "\"Reports.\""), "PV037", "\"Reports.\"");
    fires(&base_with(REPORT, "\"\""), "PV037", "\"\"");
    quiet(&base_with(REPORT, "\"Monthly energy reports.\""), "PV037");
}

// ---------------------------------------------------------------------------------------------
// Streams and transforms

#[test]
fn pv045_personal_data_in_non_personal_stream() {
    let src = base_with("subject = \"household\"", "subject = \"none\"");
    let f = fires(&src, "PV045", "\"none\"");
    assert!(f.message.contains("temperature_c"));
    let system = edit(&src, "\"user.sensor\"", "\"system.operations\"");
    quiet(&system, "PV045");
}

#[test]
fn pv046_transform_type_mismatch() {
    let on_bool = |t: &str| {
        base_with(
            "retention = \"30d\"",
            &format!("retention = \"30d\"\ntransform = {{ {t} }}"),
        )
    };
    fires(&on_bool("round = 1"), "PV046", "1");
    fires(&on_bool("bucket = [0, 1]"), "PV046", "[0, 1]");
    fires(&on_bool("truncate_location = 2"), "PV046", "2");
    fires(&on_bool("coarsen_time = \"hour\""), "PV046", "\"hour\"");
    fires(&on_bool("hash = true"), "PV046", "true");
    quiet(&on_bool("hash = false"), "PV046");
    quiet(&on_bool("drop_after = \"7d\""), "PV046");

    let on_number = |t: &str| base_with("{ round = 0.5 }", &format!("{{ {t} }}"));
    fires(&on_number("round = 0"), "PV046", "0");
    fires(&on_number("round = -0.5"), "PV046", "-0.5");
    fires(&on_number("bucket = []"), "PV046", "[]");
    fires(&on_number("bucket = [10, 5, 20]"), "PV046", "[10, 5, 20]");
    fires(&on_number("bucket = [5, 5]"), "PV046", "[5, 5]");
    quiet(&on_number("bucket = [0, 18, 30]"), "PV046");
    quiet(&base(), "PV046");

    let located = |places: &str| {
        base_plus(&LOCATION_FIELD.replace(
            "retention = \"30d\"",
            &format!("retention = \"30d\"\ntransform = {{ truncate_location = {places} }}"),
        ))
    };
    fires(&located("7"), "PV046", "7");
    // The parser reports settings it cannot read at all.
    fires(&located("300"), "PV046", "300");
    quiet(&located("3"), "PV046");
}

#[test]
fn pv048_undeclared_bystanders() {
    let src = base_plus(&AUDIO_FIELD.replace("data_subjects = [\"guest\"]\n", ""));
    let f = fires(&src, "PV048", "voice");
    assert!(f.help.contains("data_subjects = [\"guest\", \"passerby\"]"));
    quiet(&base_plus(AUDIO_FIELD), "PV048");
}

#[test]
fn pv054_stream_without_fields() {
    let src = base_plus("[streams.door]\nsubject = \"household\"\n");
    fires(&src, "PV054", "door");
    quiet(&base(), "PV054");
}

// ---------------------------------------------------------------------------------------------
// One mistake, one finding

/// The codes of every finding, sorted.
fn codes(src: &str) -> Vec<&'static str> {
    let mut c: Vec<_> = findings(src).iter().map(|f| f.rule.code).collect();
    c.sort_unstable();
    c
}

#[test]
fn missing_values_are_reported_once_by_the_parser() {
    // Description: no PV037 on top of PV001.
    assert_eq!(
        codes(&base_with(&format!("description = {REPORT}\n"), "")),
        ["PV001"]
    );
    // Use: no PV018.
    assert_eq!(
        codes(&base_with("use = \"analytics.reporting\"\n", "")),
        ["PV001"]
    );
    // Category: no PV017.
    assert_eq!(
        codes(&base_with("category = \"user.behavior\"\n", "")),
        ["PV001"]
    );
    // Basis of an essential purpose: stored as consent, but no PV022.
    assert_eq!(codes(&base_with("basis = \"contract\"\n", "")), ["PV001"]);
    // Type of a transformed field: no PV046.
    assert_eq!(codes(&base_with("type = \"number\"\n", "")), ["PV001"]);
}

#[test]
fn a_missing_product_table_is_one_finding() {
    let src = base();
    let without = &src[at(&src, "[purposes.heating_control]")..];
    assert_eq!(codes(without), ["PV001"]);
}

// ---------------------------------------------------------------------------------------------
// Robustness

mod never_panics {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        #[test]
        fn on_mutated_manifests(cut in 0usize..2000, insert in "[\\[\\]{}=\"#., a-z0-9\\n_-]{0,16}") {
            let src = base();
            let at = src
                .char_indices()
                .map(|(i, _)| i)
                .take_while(|i| *i <= cut.min(src.len()))
                .last()
                .unwrap_or(0);
            let mutated = format!("{}{}{}", &src[..at], insert, &src[at..]);
            if let Ok(checked) = check(&mutated, &cx()) {
                for f in checked.findings {
                    prop_assert!(f.span.end <= mutated.len());
                }
            }
        }
    }
}
