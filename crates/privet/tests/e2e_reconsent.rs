//! End-to-end: consent follows the manifest version. A person consents under v2.4; v2.5 adds a
//! field for the same consent-based purpose. The new field is dropped (`dropped.reconsent`)
//! while the old one keeps flowing, the change is listed as pending, and once they agree again
//! (the same `PUT …/consents/{purpose}`), the new field is stored. The consents in the
//! person's export name the version each was given under.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod e2e_rights_support;
mod support;

use e2e_rights_support::export_json;
use serde_json::{Value, json};
use support::*;

/// The thermostat at 2.5 as shipped (examples/versions): `presence` gains `room`, for the
/// consent-based energy report.
fn with_room() -> String {
    std::fs::read_to_string(example_manifests().join("../versions/thermostat-2.5.toml")).unwrap()
}

fn presence(ts: &str, member: &str, data: Value) -> Value {
    json!({"stream": "presence", "ts": ts, "member": member, "data": data})
}

/// The `(purpose, granted, manifest_version)` of each consent in `subject`'s JSON export, in
/// history order.
fn exported_consents(server: &Server, key: &Key, subject: &str) -> Vec<(String, bool, String)> {
    let export = export_json(server, key, subject);
    export["about"]["consents"]
        .as_array()
        .unwrap_or_else(|| panic!("no consents in the export: {export}"))
        .iter()
        .map(|c| {
            (
                c["purpose"].as_str().unwrap().to_owned(),
                c["granted"].as_bool().unwrap(),
                c["manifest_version"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn a_new_field_waits_for_consent_to_the_new_version_and_the_old_ones_keep_flowing() {
    let inst = Instance::new();
    let (admin, support) = inst.operators();
    let analyst = inst.key("analyst", &["energy_report"]);
    let server = inst.serve();
    let home = server.home(&admin);

    let v = server.consent_ok(&support, &home.member, "energy_report", true);
    assert!(
        v["manifest_version"]
            .as_str()
            .unwrap()
            .contains(&format!("{THERMOSTAT}@2.4")),
        "{v}"
    );
    let changes = format!("/v1/subjects/{}/changes", home.member);
    let none = server.get(&changes, Some(&support.secret)).expect(200);
    assert_eq!(none["pending"], json!([]), "{none}");
    let exported = exported_consents(&server, &support, &home.member);
    assert_eq!(exported.len(), 1, "{exported:?}");
    assert_eq!(exported[0].0, "energy_report");
    assert!(exported[0].1);
    assert!(
        exported[0].2.contains(&format!("{THERMOSTAT}@2.4")),
        "the export names the version the consent was given under: {exported:?}"
    );

    server
        .post_raw(
            "/v1/products",
            Some(&admin.secret),
            "application/toml",
            with_room(),
        )
        .expect(201);

    // v2.5's new field waits; what v2.4 covered keeps flowing.
    let out = server.ingest_ok(
        &home.token,
        &json!([presence(
            &ago(50),
            &home.member,
            json!({"home": true, "room": "kitchen"})
        )]),
    );
    assert_eq!(out["accepted"], 1, "{out}");
    assert_eq!(out["dropped"]["reconsent"], 1, "{out}");
    assert_eq!(out["dropped"]["no_consent"], 0, "{out}");
    let query = [("purpose", "energy_report"), ("stream", "presence")];
    let stored = server.records(&analyst, &query);
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert_eq!(stored[0]["data"], json!({"home": true}));
    assert_eq!(
        server.metric("privet_fields_dropped_total{reason=\"reconsent\"}"),
        Some(1.0)
    );

    // The change is pending for the member, in plain words.
    let pending = server.get(&changes, Some(&support.secret)).expect(200);
    let list = pending["pending"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{pending}");
    let p = &list[0];
    assert_eq!(p["product"], THERMOSTAT);
    assert_eq!(p["purpose"], "energy_report");
    assert_eq!(p["action"], "reconsent");
    assert_eq!(p["consented_under"], "2.4");
    assert_eq!(p["version"], "2.5");
    let change = &p["changes"][0];
    assert_eq!(change["kind"], "new_field", "{change}");
    assert_eq!(change["field"], "room");
    assert_eq!(change["version"], "2.5");
    assert!(!change["summary"].as_str().unwrap().is_empty());

    // Agreeing again is the same call; it records the current version.
    let v = server.consent_ok(&support, &home.member, "energy_report", true);
    assert!(
        v["manifest_version"]
            .as_str()
            .unwrap()
            .contains(&format!("{THERMOSTAT}@2.5")),
        "{v}"
    );
    let after = server.get(&changes, Some(&support.secret)).expect(200);
    assert_eq!(after["pending"], json!([]), "{after}");
    let out = server.ingest_ok(
        &home.token,
        &json!([presence(
            &ago(40),
            &home.member,
            json!({"home": false, "room": "hall"})
        )]),
    );
    assert_eq!(out["accepted"], 1, "{out}");
    assert_eq!(out["dropped"]["reconsent"], 0, "{out}");
    let stored = server.records(&analyst, &query);
    assert_eq!(stored.len(), 2, "{stored:?}");
    assert!(
        stored
            .iter()
            .any(|r| r["data"] == json!({"home": false, "room": "hall"})),
        "{stored:?}"
    );

    // Consent records name the version each was given under, and so does the export; the
    // grant under a version is audited with it.
    let consents = server
        .get(
            &format!("/v1/subjects/{}/consents", home.member),
            Some(&support.secret),
        )
        .expect(200);
    let versions: Vec<&str> = consents["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["manifest_version"].as_str().unwrap())
        .collect();
    assert_eq!(versions.len(), 2, "{consents}");
    assert!(
        versions[0].contains("@2.4") && versions[1].contains("@2.5"),
        "{versions:?}"
    );
    let exported = exported_consents(&server, &support, &home.member);
    let exported: Vec<(&str, bool, &str)> = exported
        .iter()
        .map(|(p, g, v)| (p.as_str(), *g, v.as_str()))
        .collect();
    assert_eq!(exported.len(), 2, "{exported:?}");
    assert!(
        exported
            .iter()
            .all(|(p, granted, _)| *p == "energy_report" && *granted),
        "{exported:?}"
    );
    assert!(
        exported[0].2.contains(&format!("{THERMOSTAT}@2.4"))
            && !exported[0].2.contains(&format!("{THERMOSTAT}@2.5")),
        "the first consent stays under 2.4: {exported:?}"
    );
    assert!(
        exported[1].2.contains(&format!("{THERMOSTAT}@2.5")),
        "the renewed one names 2.5: {exported:?}"
    );
    let audit = server.audit(&admin);
    let grants: Vec<&Value> = audit
        .iter()
        .filter(|e| e["action"] == "consent.grant")
        .collect();
    assert_eq!(grants.len(), 2);
    assert!(
        grants
            .iter()
            .any(|e| e.to_string().contains(&format!("{THERMOSTAT}@2.5"))),
        "{grants:?}"
    );
}

#[test]
fn without_a_consent_nothing_is_pending_and_the_new_field_waits_like_the_old_one() {
    let inst = Instance::new();
    let (admin, support) = inst.operators();
    let server = inst.serve();
    let home = server.home(&admin);
    // v2.5 without consent: nothing is pending for a consent never given.
    server
        .post_raw(
            "/v1/products",
            Some(&admin.secret),
            "application/toml",
            with_room(),
        )
        .expect(201);
    let pending = server
        .get(
            &format!("/v1/subjects/{}/changes", home.member),
            Some(&support.secret),
        )
        .expect(200);
    assert!(
        pending["pending"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["action"] != "reconsent"),
        "{pending}"
    );
    let out = server.ingest_ok(
        &home.token,
        &json!([presence(
            &ago(50),
            &home.member,
            json!({"home": true, "room": "kitchen"})
        )]),
    );
    assert_eq!(out["dropped"]["no_consent"], 2, "{out}");
    assert_eq!(out["dropped"]["reconsent"], 0, "{out}");
}

#[test]
fn a_field_kept_for_another_purpose_is_not_read_for_a_consent_it_does_not_cover_until_renewed() {
    let inst = Instance::new();
    let (admin, support) = inst.operators();
    let analyst = inst.key("analyst", &["energy_report"]);
    let server = inst.serve();
    let home = server.home(&admin);
    // Consent for the thermostat alone (as the pages record it), under 2.4.
    server
        .put(
            &format!("/v1/subjects/{}/consents/energy_report", home.member),
            Some(&support.secret),
            &json!({"granted": true, "product": THERMOSTAT}),
        )
        .expect(200);
    // 2.5: `room` also serves a purpose that needs no consent, so it is stored anyway.
    let text = with_room().replacen(
        "purposes = [\"energy_report\"]\nretention = \"30d\"\ndescription = \"Which room",
        "purposes = [\"energy_report\", \"heating_control\"]\nretention = \"30d\"\ndescription = \"Which room",
        1,
    );
    assert_ne!(text, with_room());
    server
        .post_raw(
            "/v1/products",
            Some(&admin.secret),
            "application/toml",
            text,
        )
        .expect(201);
    let out = server.ingest_ok(
        &home.token,
        &json!([presence(
            &ago(50),
            &home.member,
            json!({"home": true, "room": "kitchen"})
        )]),
    );
    assert_eq!(
        out["dropped"]["reconsent"], 0,
        "kept for heating control: {out}"
    );
    let query = [("purpose", "energy_report"), ("stream", "presence")];
    let stored = server.records(&analyst, &query);
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert_eq!(
        stored[0]["data"],
        json!({"home": true}),
        "the energy report reads only what the 2.4 consent covers"
    );

    // Agreeing again through the general call renews the product's own grant too.
    server.consent_ok(&support, &home.member, "energy_report", true);
    let stored = server.records(&analyst, &query);
    assert_eq!(stored[0]["data"], json!({"home": true, "room": "kitchen"}));
    let pending = server
        .get(
            &format!("/v1/subjects/{}/changes", home.member),
            Some(&support.secret),
        )
        .expect(200);
    let actions: Vec<(&str, &str)> = pending["pending"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["purpose"].as_str().unwrap(),
                p["action"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        actions,
        [("heating_control", "informed")],
        "only the contract purpose's change is left, to be known: {pending}"
    );
}

#[test]
fn a_version_published_on_one_instance_is_enforced_by_the_other() {
    let Some(inst) = Instance::postgres() else {
        return;
    };
    let (admin, support) = inst.operators();
    let a = inst.serve();
    let b = inst.serve();
    let home = a.home(&admin);
    a.consent_ok(&support, &home.member, "energy_report", true);
    b.post_raw(
        "/v1/products",
        Some(&admin.secret),
        "application/toml",
        with_room(),
    )
    .expect(201);
    // A hears of it through the store's change notification.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while a
        .get(&format!("/v1/products/{THERMOSTAT}"), None)
        .expect(200)["version"]
        != "2.5"
    {
        assert!(
            std::time::Instant::now() < deadline,
            "A never served the version B published"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let out = a.ingest_ok(
        &home.token,
        &json!([presence(
            &ago(50),
            &home.member,
            json!({"home": true, "room": "kitchen"})
        )]),
    );
    assert_eq!(out["accepted"], 1, "{out}");
    assert_eq!(out["dropped"]["reconsent"], 1, "{out}");
    let pending = a
        .get(
            &format!("/v1/subjects/{}/changes", home.member),
            Some(&support.secret),
        )
        .expect(200);
    assert_eq!(pending["pending"][0]["action"], "reconsent", "{pending}");
}
