use super::values::*;
use super::*;
use crate::parse;
use crate::vocab::{LawfulBasis, SpecialCondition};
use serde_norway::Value;

const BASE: &str = include_str!("../../tests/fixtures/thermostat_fideslang.toml");

fn manifest(source: &str) -> Manifest {
    match parse(source) {
        Ok(parsed) => {
            assert!(parsed.findings.is_empty(), "{:?}", parsed.findings);
            parsed.manifest
        }
        Err(e) => panic!("{e}"),
    }
}

fn exported(source: &str) -> Value {
    let yaml = match export(&manifest(source)) {
        Ok(y) => y,
        Err(e) => panic!("{e}"),
    };
    match serde_norway::from_str(&yaml) {
        Ok(v) => v,
        Err(e) => panic!("{e}\n{yaml}"),
    }
}

fn declaration<'a>(doc: &'a Value, system: usize, name: &str) -> &'a Value {
    let found = doc["system"][system]["privacy_declarations"]
        .as_sequence()
        .and_then(|ds| ds.iter().find(|d| d["name"].as_str() == Some(name)));
    match found {
        Some(d) => d,
        None => panic!("no declaration {name}"),
    }
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_sequence()
        .map(|s| s.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

fn keys(doc: &Value, resource: &str) -> Vec<String> {
    doc[resource]
        .as_sequence()
        .map(|s| {
            s.iter()
                .filter_map(|e| e["fides_key"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn output_starts_with_the_taxonomy_attribution() {
    let yaml = export(&manifest(BASE)).unwrap_or_default();
    let mut lines = yaml.lines();
    assert!(
        lines
            .next()
            .is_some_and(|l| l.starts_with("# fideslang export"))
    );
    assert_eq!(lines.next(), Some(format!("# {ATTRIBUTION}").as_str()));
}

#[test]
fn product_becomes_a_service_system() {
    let doc = exported(BASE);
    let system = &doc["system"][0];
    assert_eq!(system["fides_key"].as_str(), Some("acme-thermostat-2"));
    assert_eq!(
        system["organization_fides_key"].as_str(),
        Some("default_organization")
    );
    assert_eq!(system["name"].as_str(), Some("Acme Smart Thermostat 2"));
    assert_eq!(system["system_type"].as_str(), Some("Service"));
    assert_eq!(system["legal_name"].as_str(), Some("Acme Ltd"));
    assert_eq!(strings(&system["responsibility"]), ["Controller"]);
    assert_eq!(system["dpo"].as_str(), Some("privacy@acme.example"));
    assert_eq!(
        system["requires_data_protection_assessments"].as_bool(),
        Some(true)
    );
    assert_eq!(system["dpa_location"].as_str(), Some("DPIA-7"));
    assert_eq!(system["processes_personal_data"].as_bool(), Some(true));
    assert_eq!(system["meta"]["manifest_version"].as_str(), Some("7"));
    assert_eq!(doc["system"].as_sequence().map(Vec::len), Some(1));
}

#[test]
fn one_declaration_per_purpose_with_its_data_use() {
    let doc = exported(BASE);
    let names: Vec<&str> = doc["system"][0]["privacy_declarations"]
        .as_sequence()
        .map(|ds| ds.iter().filter_map(|d| d["name"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(names, ["heating_control", "energy_report"]);
    assert_eq!(
        declaration(&doc, 0, "energy_report")["data_use"].as_str(),
        Some("analytics.reporting")
    );
}

#[test]
fn consent_purpose_maps_to_consent_and_contract_to_contract() {
    let doc = exported(BASE);
    let report = declaration(&doc, 0, "energy_report");
    assert_eq!(
        report["legal_basis_for_processing"].as_str(),
        Some("Consent")
    );
    assert_eq!(
        report["flexible_legal_basis_for_processing"].as_bool(),
        Some(false)
    );
    let heating = declaration(&doc, 0, "heating_control");
    assert_eq!(
        heating["legal_basis_for_processing"].as_str(),
        Some("Contract")
    );
}

#[test]
fn every_basis_maps_to_a_fideslang_value() {
    let mapped: Vec<&str> = LawfulBasis::ALL.iter().map(|b| legal_basis(*b)).collect();
    assert_eq!(
        mapped,
        [
            "Consent",
            "Contract",
            "Legal obligations",
            "Vital interests",
            "Public interest",
            "Legitimate interests"
        ]
    );
    let conditions: BTreeSet<&str> = SpecialCondition::ALL
        .iter()
        .map(|c| special_category_basis(*c))
        .collect();
    assert_eq!(conditions.len(), SpecialCondition::ALL.len());
}

#[test]
fn categories_are_deduplicated_and_sorted() {
    let doc = exported(BASE);
    let heating = declaration(&doc, 0, "heating_control");
    assert_eq!(
        strings(&heating["data_categories"]),
        [
            "system.operations",
            "user.sensor.energy",
            "user.sensor.environment"
        ]
    );
    let report = declaration(&doc, 0, "energy_report");
    assert_eq!(
        strings(&report["data_categories"]),
        ["user.behavior", "user.sensor.environment"]
    );
}

#[test]
fn data_subjects_follow_the_streams() {
    let doc = exported(BASE);
    // The `none` stream adds no subject; household and member streams add theirs.
    assert_eq!(
        strings(&declaration(&doc, 0, "heating_control")["data_subjects"]),
        ["household"]
    );
    assert_eq!(
        strings(&declaration(&doc, 0, "energy_report")["data_subjects"]),
        ["household", "household_member"]
    );
}

#[test]
fn stream_data_subjects_are_added() {
    let source = BASE.replace(
        "[streams.presence]\nsubject = \"member\"",
        "[streams.presence]\nsubject = \"member\"\ndata_subjects = [\"guest\", \"visitor\"]",
    );
    let doc = exported(&source);
    assert_eq!(
        strings(&declaration(&doc, 0, "energy_report")["data_subjects"]),
        ["guest", "household", "household_member", "visitor"]
    );
    // `visitor` is fideslang's own; `guest` is Privet's and is exported as a resource.
    assert_eq!(
        keys(&doc, "data_subject"),
        ["guest", "household", "household_member"]
    );
}

#[test]
fn only_privet_extension_entries_are_exported_as_resources() {
    let doc = exported(BASE);
    assert_eq!(
        keys(&doc, "data_category"),
        ["user.sensor.energy", "user.sensor.environment"]
    );
    let first = &doc["data_category"][0];
    assert_eq!(first["parent_key"].as_str(), Some("user.sensor"));
    assert_eq!(
        first["organization_fides_key"].as_str(),
        Some("default_organization")
    );
    assert_eq!(first["is_default"].as_bool(), Some(false));
    // Both uses are fideslang's own, so there is no data_use list at all.
    assert!(doc.get("data_use").is_none());
}

#[test]
fn privet_data_use_is_exported_with_its_parent() {
    let source = BASE.replace(
        "use = \"essential.service\"",
        "use = \"essential.service.safety\"",
    );
    let doc = exported(&source);
    assert_eq!(keys(&doc, "data_use"), ["essential.service.safety"]);
    assert_eq!(
        doc["data_use"][0]["parent_key"].as_str(),
        Some("essential.service")
    );
}

#[test]
fn retention_period_is_the_longest_effective_retention_in_days() {
    let doc = exported(BASE);
    // heating_minutes is kept 2 years but dropped after 90 days, so 400 days is the longest.
    assert_eq!(
        declaration(&doc, 0, "heating_control")["retention_period"].as_str(),
        Some("400")
    );
    assert_eq!(
        declaration(&doc, 0, "energy_report")["retention_period"].as_str(),
        Some("400")
    );
}

const HEALTH: &str = include_str!("../../tests/fixtures/band_fideslang.toml");

#[test]
fn special_category_data_carries_its_condition() {
    let doc = exported(HEALTH);
    let health = declaration(&doc, 0, "health");
    assert_eq!(
        health["processes_special_category_data"].as_bool(),
        Some(true)
    );
    assert_eq!(
        health["special_category_legal_basis"].as_str(),
        Some("Explicit consent")
    );
    let maps = declaration(&doc, 0, "maps");
    assert_eq!(
        maps["processes_special_category_data"].as_bool(),
        Some(false)
    );
    assert!(maps.get("special_category_legal_basis").is_none());
    assert_eq!(maps["retention_period"].as_str(), Some("84"));
}

#[test]
fn recipients_become_systems_joined_by_data_flows() {
    let doc = exported(HEALTH);
    // Both sides of the manifest count: `purposes.health.recipients` and `recipients.coach.purposes`.
    let health = declaration(&doc, 0, "health");
    assert_eq!(strings(&health["egress"]), ["band--cloud", "band--coach"]);
    assert_eq!(
        health["data_shared_with_third_parties"].as_bool(),
        Some(true)
    );
    assert_eq!(
        health["third_parties"].as_str(),
        Some("Cloud Inc (processor, US); Coach Ltd (controller, GB)")
    );
    assert_eq!(
        strings(&health["shared_categories"]),
        ["user.health_and_medical.fitness"]
    );
    let maps = declaration(&doc, 0, "maps");
    assert!(maps.get("egress").is_none());
    assert_eq!(
        maps["data_shared_with_third_parties"].as_bool(),
        Some(false)
    );

    let egress: Vec<&str> = doc["system"][0]["egress"]
        .as_sequence()
        .map(|fs| fs.iter().filter_map(|f| f["fides_key"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(egress, ["band--cloud", "band--coach"]);
    assert_eq!(
        doc["system"][0]["egress"][0]["type"].as_str(),
        Some("system")
    );

    // The recipient that receives nothing is not exported.
    assert_eq!(keys(&doc, "system"), ["band", "band--cloud", "band--coach"]);
    let cloud = &doc["system"][1];
    assert_eq!(cloud["system_type"].as_str(), Some("Third Party"));
    assert_eq!(
        cloud["description"].as_str(),
        Some("Receives data from Band as a processor, in country US.")
    );
    assert_eq!(strings(&cloud["responsibility"]), ["Processor"]);
    assert_eq!(cloud["ingress"][0]["fides_key"].as_str(), Some("band"));
    assert_eq!(
        strings(&declaration(&doc, 1, "health")["ingress"]),
        ["band"]
    );
}

#[test]
fn transfers_outside_the_uk_name_their_safeguard() {
    let doc = exported(HEALTH);
    assert_eq!(
        doc["system"][0]["does_international_transfers"].as_bool(),
        Some(true)
    );
    assert_eq!(
        strings(&doc["system"][0]["legal_basis_for_transfers"]),
        ["UK International Data Transfer Agreement"]
    );
    assert_eq!(
        strings(&doc["system"][1]["legal_basis_for_transfers"]),
        ["UK International Data Transfer Agreement"]
    );
    assert_eq!(
        doc["system"][2]["does_international_transfers"].as_bool(),
        Some(false)
    );
    assert_eq!(transfer_basis(Some("uk_adequacy")), "Adequacy Decision");
    assert_eq!(transfer_basis(Some("BCRs")), "BCRs");
    assert_eq!(transfer_basis(None), "Other");
}

#[test]
fn unknown_category_is_an_error_with_its_span() {
    let source = BASE.replace(
        "category = \"user.behavior\"",
        "category = \"user.behaviour\"",
    );
    let m = manifest(&source);
    match export(&m) {
        Err(e @ Error::UnknownTaxonomyKey { .. }) => {
            let span = e.span().unwrap_or_default();
            assert_eq!(&source[span.range()], "\"user.behaviour\"");
            assert!(e.to_string().contains("user.behaviour"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn undefined_recipient_and_purpose_are_errors() {
    let source = BASE.replace(
        "basis = \"consent\"",
        "basis = \"consent\"\nrecipients = [\"nobody\"]",
    );
    assert!(matches!(
        export(&manifest(&source)),
        Err(Error::UndefinedRecipient { recipient, .. }) if recipient == "nobody"
    ));
    let source = BASE.replace(
        "purposes = [\"energy_report\"]",
        "purposes = [\"energy_reprot\"]",
    );
    assert!(matches!(
        export(&manifest(&source)),
        Err(Error::UndefinedPurpose { purpose, .. }) if purpose == "energy_reprot"
    ));
}

#[test]
fn values_yaml_1_1_would_misread_switch_the_output_to_json() {
    // PyYAML reads YAML 1.1, where a bare `yes`, `off` or `1:20` is not text.
    for name in ["yes", "No", "on", "OFF", "1:20", "2031-12-31"] {
        let source = BASE.replace("Acme Smart Thermostat 2", name);
        let text = export(&manifest(&source)).unwrap_or_default();
        let body: String = text.lines().skip(2).collect::<Vec<_>>().join("\n");
        let json: serde_json::Value = match serde_json::from_str(&body) {
            Ok(v) => v,
            Err(e) => panic!("{name}: not JSON ({e}):\n{text}"),
        };
        assert_eq!(json["system"][0]["name"].as_str(), Some(name));
    }
}

#[test]
fn ordinary_manifests_export_as_block_yaml() {
    let text = export(&manifest(BASE)).unwrap_or_default();
    assert!(
        text.lines().nth(2).is_some_and(|l| l == "data_category:"),
        "{text}"
    );
}

#[test]
fn security_update_period_is_in_the_description() {
    let source = BASE.replace(
        "dpia = \"DPIA-7\"",
        "security_updates_until = \"2031-12-31\"",
    );
    let doc = exported(&source);
    assert_eq!(
        doc["system"][0]["description"].as_str(),
        Some(
            "Acme Smart Thermostat 2 by Acme Ltd, as declared in its Privet privacy manifest \
             (version 7). Security updates until 2031-12-31."
        )
    );
}
