//! Records of processing from the example manifests: a row per product and purpose, the ICO
//! template's header row, recipients by name, transfer safeguards in words, and a known cell
//! of each example.
#![allow(clippy::unwrap_used, clippy::panic)]

use privet_manifest::Manifest;
use privet_manifest::ropa::{self, COLUMNS, Ropa, Row};
use std::path::Path;

fn example(name: &str) -> Manifest {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/manifests")
        .join(name);
    let source = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    privet_manifest::parse(&source).unwrap().manifest
}

const EXAMPLES: [&str; 5] = [
    "fitness-tracker.toml",
    "smart-fridge.toml",
    "smart-speaker.toml",
    "thermostat.toml",
    "video-doorbell.toml",
];

fn examples() -> Vec<Manifest> {
    EXAMPLES.iter().map(|n| example(n)).collect()
}

fn record() -> Ropa {
    Ropa::from_manifests(&examples(), None, "2026-12-01".parse().unwrap())
}

fn row<'a>(r: &'a Ropa, product: &str, purpose: &str) -> &'a Row {
    r.rows
        .iter()
        .find(|x| x.product == product && x.purpose == purpose)
        .unwrap_or_else(|| panic!("no row for {product} {purpose}"))
}

fn has(cell: &[String], text: &str) -> bool {
    cell.iter().any(|line| line.contains(text))
}

#[test]
fn one_row_per_product_and_purpose_in_manifest_order() {
    let ms = examples();
    let r = record();
    let expected: Vec<(String, String)> = ms
        .iter()
        .flat_map(|m| {
            m.purposes
                .iter()
                .map(|p| (m.product.id.to_string(), p.id.to_string()))
        })
        .collect();
    let got: Vec<(String, String)> = r
        .rows
        .iter()
        .map(|x| (x.product.clone(), x.purpose.clone()))
        .collect();
    assert_eq!(got, expected);
    assert_eq!(r.controllers.len(), 5);
    assert!(r.controllers.iter().any(|c| c.name == "Wren Climate Ltd"
        && c.contact.as_deref() == Some("privacy@wrenclimate.example")));
}

#[test]
fn the_header_row_is_the_ico_templates_columns_in_its_order() {
    assert_eq!(COLUMNS[..2], ["Controller", "Controller contact details"]);
    let ico = [
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
    let got: Vec<String> = COLUMNS[2..].iter().map(|c| c.to_lowercase()).collect();
    assert_eq!(got, ico);
}

#[test]
fn the_speaker_names_its_processor_and_the_transfer_safeguard_in_words() {
    let r = record();
    let x = row(&r, "hearth-speaker-3", "answer_requests");
    assert_eq!(
        x.recipients,
        ["Nimbus Speech Inc (processor; United States (US))"]
    );
    assert!(!has(&x.recipients, "speech_cloud"), "by name, not key");
    assert_eq!(x.third_countries, ["United States (US): Nimbus Speech Inc"]);
    assert_eq!(
        x.safeguards,
        ["Nimbus Speech Inc: the UK International Data Transfer Agreement"]
    );
    assert!(has(&x.processor_contracts, "Nimbus Speech Inc"));
    assert!(has(&x.individuals, "Guests"));
    assert!(has(&x.individuals, "Children"));
    assert!(has(
        &x.retention,
        "command_audio: 24 hours (then dropped; the record's retention is 90 days)"
    ));
    assert!(has(&x.retention, "transcript: 90 days"));
    // A purpose without recipients transfers nothing.
    let h = row(&r, "hearth-speaker-3", "request_history");
    assert_eq!(h.recipients, ["None outside Hearth Audio Ltd"]);
    assert_eq!(
        h.safeguards,
        ["Not applicable: no transfer outside the United Kingdom"]
    );
}

#[test]
fn the_thermostat_keeps_temperature_400_days_minimised_and_consent_follows_the_basis() {
    let r = record();
    let heat = row(&r, "wren-thermostat-2", "heating_control");
    assert!(has(&heat.retention, "temperature_c: 400 days"));
    assert!(has(&heat.retention, "humidity_pct: 30 days"));
    assert!(has(
        &heat.security_measures,
        "temperature_c: rounded to the nearest 0.5"
    ));
    assert!(!has(&heat.security_measures, "Consent gating"));
    assert_eq!(heat.article_6, ["Contract (UK GDPR Art. 6(1)(b))"]);
    assert!(has(&heat.rights, "Data portability"));
    assert!(!has(&heat.rights, "Object"));
    assert!(heat.legitimate_interests.is_empty());

    let report = row(&r, "wren-thermostat-2", "energy_report");
    assert!(has(&report.security_measures, "Consent gating"));
    assert!(has(&report.rights, "Withdraw consent"));
    assert!(has(&report.individuals, "Household members"));
    assert!(has(&report.individuals, "Households"));

    let tariff = row(&r, "wren-thermostat-2", "supplier_tariff");
    assert_eq!(
        tariff.recipients,
        ["Brightwatt Energy Ltd (controller, for its own purposes; United Kingdom (GB))"]
    );
    assert_eq!(
        tariff.third_countries,
        ["None: every recipient is in the United Kingdom"]
    );
}

#[test]
fn the_doorbell_films_people_who_are_not_users_so_a_dpia_is_required() {
    let r = record();
    let clips = row(&r, "porchlight-doorbell-2", "clip_history");
    assert_eq!(clips.dpia_required[0], "Yes");
    // The same screening as `privet dpia`: people filmed who are not users.
    assert!(has(&clips.dpia_required, "invisible processing"));
    assert!(has(&clips.dpia_required, "systematic monitoring"));
    assert_eq!(
        clips.dpia_link,
        ["https://porchlight.example/privacy/dpia-doorbell-2"]
    );
    assert!(has(&clips.individuals, "Visitors"));
    assert!(has(&clips.individuals, "Passers-by"));
    assert_eq!(
        clips.legitimate_interests,
        [
            "Keep short videos of your doorstep, so you can look back at who came. People filmed can object."
        ]
    );
    assert!(has(&clips.rights, "Object (Art. 21)"));
    assert!(!has(&clips.rights, "Data portability"));
    assert!(has(&clips.retention, "clip: 14 days"));
}

#[test]
fn the_fitness_band_records_health_under_explicit_consent() {
    let r = record();
    let health = row(&r, "stride-band-4", "health_tracking");
    assert_eq!(
        health.article_9,
        ["Explicit consent (UK GDPR Art. 9(2)(a))"]
    );
    assert!(has(
        &health.personal_data,
        "(user.health_and_medical.fitness, special category data): bpm, steps, asleep_minutes, stages"
    ));
    assert!(has(
        &health.source,
        "Inferred from other data (inferred): asleep_minutes, stages"
    ));
    assert!(has(
        &health.dpia_required,
        "sensitive or highly personal data"
    ));
    let maps = row(&r, "stride-band-4", "run_maps");
    assert!(has(
        &maps.security_measures,
        "route: location cut to 3 decimal places (about 110 m)"
    ));
    assert_eq!(maps.article_9, ["Not applicable: no special category data"]);
}

#[test]
fn the_fridge_shares_offers_only_with_consent_and_device_health_is_not_personal() {
    let r = record();
    let offers = row(&r, "larder-fridge-5", "partner_offers");
    assert!(has(&offers.recipients, "Basket and Co Ltd"));
    assert!(has(&offers.security_measures, "Consent gating"));
    assert!(has(
        &offers.security_measures,
        "a batch holding an undeclared field is rejected"
    ));
    let health = row(&r, "larder-fridge-5", "keep_device_working");
    assert_eq!(
        health.individuals,
        ["None: no personal data (data about the device only)"]
    );
    assert!(!has(&health.security_measures, "Per-person encryption"));
    assert!(has(
        &health.security_measures,
        "under the product's own key"
    ));
    assert!(has(&health.personal_data, "not personal data"));
}

#[test]
fn every_format_carries_every_row() {
    let r = record();
    let csv = ropa::csv(&r).unwrap();
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    assert_eq!(reader.records().count(), r.rows.len());
    let html = ropa::html(&r).unwrap();
    assert_eq!(html.matches("<th scope=\"row\">").count(), r.rows.len());
    assert!(html.contains("Nimbus Speech Inc: the UK International Data Transfer Agreement"));
    let xlsx = ropa::xlsx(&r).unwrap();
    assert!(xlsx.starts_with(b"PK"));
}
