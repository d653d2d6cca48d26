//! The privacy notice and the label, as the people who read them rely on them.

// Helpers outside `#[test]` functions unwrap too; a failing unwrap is a failing test.
#![allow(clippy::unwrap_used, clippy::panic)]

use privet_manifest::label::{self, GRADE_RULES, Label, LabelContext, START_POINTS};
use privet_manifest::notice::{self, Notice};
use privet_manifest::{Manifest, parse};

const THERMOSTAT: &str = include_str!("fixtures/thermostat_notice.toml");

/// A purpose and recipient that sell the data to an advertiser in the US, on by default.
const MARKETING: &str = r#"
[purposes.partner_offers]
description = "Let our partners show you offers."
use = "marketing.advertising.third_party"
basis = "legitimate_interests"
recipients = ["adnet"]

[recipients.adnet]
name = "AdNet Inc"
role = "controller"
country = "US"
"#;

fn manifest(src: &str) -> Manifest {
    parse(src).unwrap().manifest
}

/// The thermostat with extra tables appended (TOML allows tables in any order).
fn thermostat_with(extra: &str) -> Manifest {
    manifest(&format!("{THERMOSTAT}\n{extra}"))
}

fn cx() -> LabelContext {
    LabelContext::privet(jiff::civil::date(2026, 11, 28))
}

#[test]
fn notice_lists_optional_purposes_as_off_until_switched_on() {
    let md = notice::markdown(&manifest(THERMOSTAT));
    let short = md.split("## In detail").next().unwrap();
    assert!(short.contains("### Off until you switch it on"));
    let off = short
        .split("### Off until you switch it on")
        .nth(1)
        .unwrap();
    assert!(off.contains("Send you a monthly report of your energy use."));
    assert!(
        !off.contains("Run your heating"),
        "an essential purpose is not optional"
    );
    let html = notice::html(&manifest(THERMOSTAT)).unwrap();
    assert!(html.contains("Optional: off until you switch it on"));
}

#[test]
fn notice_states_retention_in_words() {
    let md = notice::markdown(&manifest(THERMOSTAT));
    assert!(md.contains("30 days"));
    assert!(md.contains("400 days"));
    assert!(md.contains("rounded to the nearest 0.5"));
}

#[test]
fn notice_names_recipients_and_their_country() {
    let m = manifest(THERMOSTAT);
    for text in [notice::markdown(&m), notice::html(&m).unwrap()] {
        assert!(text.contains("Postbox Mailing Ltd"));
        assert!(text.contains("Ireland"));
    }
}

#[test]
fn notice_gives_basis_in_plain_words_with_article() {
    let md = notice::markdown(&manifest(THERMOSTAT));
    assert!(md.contains("we need it to provide the product you asked for (UK GDPR Art. 6(1)(b))"));
    assert!(md.contains("UK GDPR Art. 6(1)(a)"));
}

#[test]
fn rights_section_covers_deletion_consent_and_the_ico() {
    let m = manifest(THERMOSTAT);
    for text in [notice::markdown(&m), notice::html(&m).unwrap()] {
        assert!(text.contains("Delete your data"));
        assert!(text.contains("signed receipt"));
        assert!(text.contains("as easy as switching it on"));
        assert!(text.contains("ico.org.uk"));
        assert!(text.contains("privacy@acme.example"));
    }
}

#[test]
fn notice_shows_offline_and_security_update_promise() {
    let md = notice::markdown(&manifest(THERMOSTAT));
    assert!(md.contains("everything works without the internet"));
    assert!(md.contains("31 December 2031"));
}

#[test]
fn children_get_their_own_summary_only_when_they_may_use_it() {
    assert!(
        Notice::from_manifest(&manifest(THERMOSTAT))
            .children
            .is_none()
    );
    let src = THERMOSTAT.replace("[product]\n", "[product]\naudience = \"all\"\n");
    let m = manifest(&src);
    let md = notice::markdown(&m);
    assert!(md.contains("## For children"));
    assert!(md.contains("Only a grown-up in your home can switch them on"));
    let html = notice::html(&m).unwrap();
    assert!(html.contains("id=\"for-children\""));
}

#[test]
fn html_notice_is_a_self_contained_accessible_page() {
    let html = notice::html(&manifest(THERMOSTAT)).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    for needle in [
        "<html lang=\"en-GB\">",
        "<meta charset=\"utf-8\">",
        "<meta name=\"viewport\"",
        "<title>Privacy notice: Acme Smart Thermostat 2</title>",
        "<header>",
        "<nav ",
        "<main ",
        "<footer",
        "<caption",
        "scope=\"row\"",
        "focus-visible",
        "fideslang",
    ] {
        assert!(html.contains(needle), "missing {needle}");
    }
    assert_eq!(html.matches("<h1>").count(), 1);
    for banned in ["<link", "<script", "<img src=\"http", "@import", "url("] {
        assert!(!html.contains(banned), "found {banned}");
    }
}

#[test]
fn html_escapes_manifest_text() {
    let src = THERMOSTAT.replace(
        "description = \"Readings from the thermostat.\"",
        "description = \"<script>alert('x')</script> & more\"",
    );
    let m = manifest(&src);
    let html = notice::html(&m).unwrap();
    assert!(!html.contains("<script>"));
    assert!(html.contains("&#60;script&#62;") || html.contains("&lt;script&gt;"));
    let md = notice::markdown(&m);
    assert!(!md.contains("<script>"));
    let page = label::html(&[Label::from_manifest(&m, &cx())]).unwrap();
    assert!(!page.contains("<script"));
}

#[test]
fn grade_drops_when_a_third_party_marketing_purpose_is_added() {
    let clean = Label::from_manifest(&manifest(THERMOSTAT), &cx());
    let marketing = Label::from_manifest(&thermostat_with(MARKETING), &cx());
    assert!(marketing.grade.points < clean.grade.points);
    assert_ne!(marketing.grade.letter, clean.grade.letter);
    let rules: Vec<&str> = marketing
        .grade
        .reasons
        .iter()
        .map(|r| r.rule.as_str())
        .collect();
    for code in [
        "on-by-default",
        "marketing",
        "third-party-controller",
        "outside-uk",
    ] {
        assert!(rules.contains(&code), "{code} not applied: {rules:?}");
    }
}

#[test]
fn grade_reasons_sum_to_the_points() {
    for m in [manifest(THERMOSTAT), thermostat_with(MARKETING)] {
        let g = Label::from_manifest(&m, &cx()).grade;
        let sum: i32 = g.reasons.iter().map(|r| r.points).sum();
        assert_eq!(START_POINTS + sum, i32::try_from(g.points).unwrap());
        for r in &g.reasons {
            let rule = GRADE_RULES.iter().find(|x| x.code == r.rule).unwrap();
            assert_eq!(rule.points, r.points);
        }
    }
}

#[test]
fn ended_security_updates_are_shown_and_cost_points() {
    let later = LabelContext::privet(jiff::civil::date(2032, 1, 1));
    let l = Label::from_manifest(&manifest(THERMOSTAT), &later);
    assert!(l.primary.security_updates_ended);
    assert!(label::text(&l).contains("Ended on 31 December 2031"));
    assert!(l.grade.reasons.iter().any(|r| r.rule == "updates-ended"));
}

#[test]
fn security_properties_come_from_the_context() {
    let m = manifest(THERMOSTAT);
    let privet = Label::from_manifest(&m, &cx());
    assert!(privet.primary.two_step_verification);
    assert!(privet.primary.unique_device_credentials);
    let weak = LabelContext {
        two_factor_available: false,
        unique_device_credentials: false,
        ..cx()
    };
    let l = Label::from_manifest(&m, &weak);
    assert!(l.grade.points < privet.grade.points);
    assert!(label::text(&l).contains("A shared default password may be used"));
}

#[test]
fn text_label_has_both_layers_and_fits_a_terminal() {
    let text = label::text(&Label::from_manifest(&thermostat_with(MARKETING), &cx()));
    for needle in [
        "Acme Smart Thermostat 2",
        "Data collected",
        "Readings of the home",
        "Made for                Adults",
        "Environment (temperature, humidity, air, light)",
        "Postbox Mailing Ltd: Ireland",
        "Kept for (shortest)     30 days",
        "Kept for (longest)      400 days",
        "Until 31 December 2031",
        "None: every device has its own credentials",
        "WHY THIS GRADE",
        "third-party-controller",
        "climate.temperature_c",
        "presence.home  (optional)",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
    assert!(text.lines().all(|l| l.chars().count() <= 80), "{text}");
}

#[test]
fn compare_shows_product_names_in_one_header_row() {
    let a = Label::from_manifest(&manifest(THERMOSTAT), &cx());
    let other = THERMOSTAT
        .replace("acme-thermostat-2", "brill-heat")
        .replace("Acme Smart Thermostat 2", "Brill Heat");
    let b = Label::from_manifest(&manifest(&other), &cx());
    let text = label::compare_text(&[a.clone(), b.clone()]);
    let header = text.lines().next().unwrap();
    assert!(
        header.contains("Acme Smart Thermostat 2") && header.contains("Brill Heat"),
        "{text}"
    );
    assert!(text.lines().all(|l| l.chars().count() <= 80), "{text}");
    let grade_row = text.lines().find(|l| l.starts_with("Grade")).unwrap();
    assert_eq!(grade_row.matches("of 100 points").count(), 2);
    let html = label::compare_html(&[a, b]).unwrap();
    let thead = html
        .split("<thead>")
        .nth(1)
        .unwrap()
        .split("</thead>")
        .next()
        .unwrap();
    assert!(thead.contains("<th scope=\"col\">Acme Smart Thermostat 2</th>"));
    assert!(thead.contains("<th scope=\"col\">Brill Heat</th>"));
}

#[test]
fn comparing_more_labels_than_fit_the_width_still_prints_every_one() {
    let one = Label::from_manifest(&manifest(THERMOSTAT), &cx());
    let many = vec![one; 40];
    let text = label::compare_text(&many);
    let header = text.lines().next().unwrap();
    assert!(header.matches("Acme").count() >= 40, "{header}");
}

#[test]
fn label_json_round_trips() {
    let labels = vec![
        Label::from_manifest(&manifest(THERMOSTAT), &cx()),
        Label::from_manifest(&thermostat_with(MARKETING), &cx()),
    ];
    let json = label::json(&labels).unwrap();
    let back: Vec<Label> = serde_json::from_str(&json).unwrap();
    assert_eq!(back, labels);
    let one = serde_json::to_value(&labels[0]).unwrap();
    assert_eq!(one["grade"]["letter"], "A");
    assert_eq!(one["primary"]["retention_longest"], "400 days");
}

#[test]
fn label_html_is_a_self_contained_page_with_why_this_grade() {
    let html = label::html(&[Label::from_manifest(&thermostat_with(MARKETING), &cx())]).unwrap();
    for needle in [
        "<html lang=\"en-GB\">",
        "<main ",
        "<footer",
        "Why this grade",
        "<caption",
    ] {
        assert!(html.contains(needle), "missing {needle}");
    }
    for banned in ["<link", "<script", "<img src=\"http"] {
        assert!(!html.contains(banned), "found {banned}");
    }
}

#[test]
fn docs_name_every_grade_rule_with_its_points() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/label.md");
    let docs = std::fs::read_to_string(path).unwrap();
    for rule in GRADE_RULES {
        let code = format!("`{}`", rule.code);
        let line = docs.lines().find(|l| l.contains(&code));
        let line = line.unwrap_or_else(|| panic!("docs/label.md does not name {code}"));
        assert!(
            line.contains(&format!("| {} |", rule.points)),
            "docs/label.md gives {code} other points than {}",
            rule.points
        );
        assert_eq!(
            !line.contains("| once |"),
            rule.each,
            "docs/label.md disagrees on whether {code} applies once"
        );
    }
}

const BAND: &str = include_str!("fixtures/band_notice.toml");

#[test]
fn notice_explains_special_category_condition_and_early_deletion() {
    let m = manifest(BAND);
    let md = notice::markdown(&m);
    assert!(
        md.contains("you gave your explicit consent (UK GDPR Art. 9(2)(a))"),
        "{md}"
    );
    assert!(
        md.contains("How long we keep it: 90 days (sooner than the 2 years"),
        "{md}"
    );
    let l = Label::from_manifest(&m, &cx());
    assert_eq!(l.primary.retention_longest.as_deref(), Some("90 days"));
    let bpm = l.secondary.iter().find(|f| f.field == "bpm").unwrap();
    assert_eq!(bpm.bases, ["consent", "explicit consent (Art. 9)"]);
    assert!(bpm.optional);
}

#[test]
fn grade_counts_sensitive_data_unminimised_location_and_missing_promises() {
    let g = Label::from_manifest(&manifest(BAND), &cx()).grade;
    let rules: Vec<&str> = g.reasons.iter().map(|r| r.rule.as_str()).collect();
    for code in [
        "special-category",
        "precise-location",
        "not-offline",
        "updates-not-stated",
        "no-vulnerability-disclosure",
        "no-update-key",
    ] {
        assert!(rules.contains(&code), "{code} not applied: {rules:?}");
    }
    assert!(!rules.contains(&"on-by-default"), "{rules:?}");
    // The route is the last field, so a key appended to the text belongs to it.
    let truncated = manifest(&format!("{BAND}transform = {{ truncate_location = 2 }}\n"));
    let g = Label::from_manifest(&truncated, &cx()).grade;
    assert!(g.reasons.iter().all(|r| r.rule != "precise-location"));
}
