//! The record built from small manifests written here: each column's edge cases, and what
//! every format does with hostile text.

use super::*;
use crate::model::Manifest;

const BASE: &str = r#"
[product]
id = "acme-thermostat-2"
name = "Acme Smart Thermostat 2"
maker = "Acme Ltd"
privacy_contact = "privacy@acme.example"

[purposes.heating_control]
description = "Run your heating to the schedule you set."
use = "essential.service"
basis = "contract"

[streams.climate]
subject = "household"

[streams.climate.fields.temperature_c]
type = "number"
category = "user.sensor"
purposes = ["heating_control"]
retention = "400d"
"#;

fn manifest(source: &str) -> Manifest {
    let parsed = crate::parse(source).unwrap();
    assert!(parsed.findings.is_empty(), "{:#?}", parsed.findings);
    parsed.manifest
}

fn record(sources: &[&str]) -> Ropa {
    let ms: Vec<Manifest> = sources.iter().map(|s| manifest(s)).collect();
    Ropa::from_manifests(&ms, None, "2026-12-01".parse().unwrap())
}

#[test]
fn a_household_sensor_for_adults_needs_no_dpia() {
    let r = record(&[BASE]);
    assert_eq!(r.rows[0].dpia_required[0], "No");
    assert_eq!(r.rows[0].dpia_link, ["None recorded"]);
}

#[test]
fn children_biometrics_and_tracking_make_a_dpia_required() {
    let source = BASE.replace(
        "privacy_contact = \"privacy@acme.example\"",
        "privacy_contact = \"privacy@acme.example\"\naudience = \"children\"\ndpia = \"https://acme.example/dpia\"",
    ) + r#"
[streams.voice]
subject = "member"

[streams.voice.fields.print]
type = "string"
category = "user.biometric.voice"
purposes = ["heating_control"]
retention = "30d"

[streams.voice.fields.where]
type = "location"
category = "user.location.precise"
purposes = ["heating_control"]
retention = "30d"
"#;
    let r = record(&[&source]);
    let dpia = &r.rows[0].dpia_required;
    assert_eq!(dpia[0], "Yes");
    // The same screening as `privet dpia`, its criteria by name.
    for why in [
        "biometric data",
        "vulnerable people",
        "tracking location or behaviour",
    ] {
        assert!(dpia[1].contains(why), "{why} in {dpia:?}");
    }
    assert_eq!(r.rows[0].dpia_link, ["https://acme.example/dpia"]);
    assert!(
        r.rows[0]
            .individuals
            .contains(&"Children (the product is made for children)".to_owned())
    );
}

#[test]
fn a_maker_acting_as_processor_is_not_named_controller() {
    let source = BASE.replace(
        "maker = \"Acme Ltd\"",
        "maker = \"Acme Ltd\"\nrole = \"processor\"",
    );
    let r = record(&[&source]);
    assert!(r.controllers.is_empty());
    assert!(r.rows[0].controller[0].starts_with("Not stated: Acme Ltd acts as a processor"));
}

#[test]
fn one_controller_of_two_products_is_listed_once() {
    let other = BASE
        .replace("acme-thermostat-2", "acme-plug-1")
        .replace("Acme Smart Thermostat 2", "Acme Plug");
    let r = record(&[BASE, &other]);
    assert_eq!(r.controllers.len(), 1);
    assert_eq!(
        r.controllers[0].products,
        ["Acme Smart Thermostat 2", "Acme Plug"]
    );
    assert_eq!(r.rows.len(), 2);
}

#[test]
fn a_purpose_no_field_serves_still_has_its_row() {
    let source = BASE.to_owned()
        + r#"
[purposes.spare]
description = "Nothing yet."
use = "essential.service"
basis = "contract"
"#;
    let r = record(&[&source]);
    assert_eq!(r.rows.len(), 2);
    assert_eq!(r.rows[1].purpose, "spare");
    assert_eq!(
        r.rows[1].personal_data,
        ["None: no field serves this purpose"]
    );
    assert_eq!(
        r.rows[1].individuals,
        ["None: no personal data (data about the device only)"]
    );
}

#[test]
fn an_unstated_country_is_a_transfer_to_check() {
    let source = BASE.replace(
        "basis = \"contract\"",
        "basis = \"contract\"\nrecipients = [\"cloud\"]",
    ) + "\n[recipients.cloud]\nname = \"Cloudy Ltd\"\nrole = \"processor\"\npurposes = [\"heating_control\"]\n";
    let r = record(&[&source]);
    let row = &r.rows[0];
    assert_eq!(
        row.recipients,
        ["Cloudy Ltd (processor; country not stated)"]
    );
    assert_eq!(row.third_countries, ["country not stated: Cloudy Ltd"]);
    assert_eq!(row.safeguards, ["Cloudy Ltd: none stated"]);
    assert!(row.processor_contracts[0].starts_with("Cloudy Ltd: not linked"));
}

const HOSTILE: &str = "=HYPERLINK(\"https://evil.example\",\"<b>click</b>\")";

fn hostile() -> Ropa {
    let source = BASE.replace(
        "Run your heating to the schedule you set.",
        &HOSTILE.replace('"', "\\\""),
    );
    record(&[&source])
}

#[test]
fn csv_is_rfc_4180_with_inert_formulas() {
    let text = csv(&hostile()).unwrap();
    assert!(text.contains("\r\n"), "CRLF between records");
    let mut reader = ::csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(header, COLUMNS);
    let rows: Vec<::csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 1);
    let purpose = &rows[0][3];
    assert!(purpose.starts_with("'=HYPERLINK("), "{purpose}");
    // A cell of several lines stays one cell.
    let measures = &rows[0][12];
    assert!(measures.lines().count() > 3, "{measures}");
}

#[test]
fn html_escapes_what_the_manifest_says() {
    let page = html(&hostile()).unwrap();
    assert!(page.contains("lang=\"en-GB\""));
    assert!(!page.contains("<b>click</b>"));
    assert!(
        page.contains("&#60;b&#62;click&#60;/b&#62;") || page.contains("&lt;b&gt;click&lt;/b&gt;")
    );
    assert_eq!(page.matches("<th scope=\"col\">").count(), COLUMNS.len());
    assert_eq!(page.matches("<th scope=\"row\">").count(), 1);
    assert!(page.contains("<caption id=\"ropa-caption\">"));
}

#[test]
fn the_purpose_cell_heads_its_html_row() {
    assert_eq!(COLUMNS[3], "Purpose of processing");
}

#[test]
fn xlsx_is_a_zip_and_the_same_record_gives_the_same_bytes() {
    let r = hostile();
    let a = xlsx(&r).unwrap();
    assert!(a.starts_with(b"PK\x03\x04"), "a zip container");
    assert_eq!(a, xlsx(&r).unwrap());
}
