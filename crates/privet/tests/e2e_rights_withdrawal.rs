//! End-to-end: withdrawing consent purges, at once and audited, the data held only for the
//! withdrawn purpose; values that serve another purpose stay.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod e2e_rights_support;
mod support;

use e2e_rights_support::*;
use serde_json::json;
use support::*;

#[test]
fn withdrawing_consent_purges_a_members_consent_only_data_at_once() {
    let inst = Instance::new();
    let (admin, support) = inst.operators();
    let analyst = inst.key("analyst", &["energy_report"]);
    let server = inst.serve();
    let home = server.home(&admin);
    let other = server.member(&admin, &home.household, &marker("Other"), false);
    for m in [&home.member, &other] {
        server.consent_ok(&support, m, "energy_report", true);
    }
    server.ingest_ok(
        &home.token,
        &json!([
            presence(&ago(90), &home.member, true),
            presence(&ago(60), &home.member, false),
            presence(&ago(60), &other, true),
            climate(&ago(60), 20.0, 5),
        ]),
    );
    // Readable in the export before withdrawal.
    let before = export_json(&server, &support, &home.member);
    assert_eq!(values_of(&before, "presence", "home").len(), 2);

    server.consent_ok(&support, &home.member, "energy_report", false);

    // Gone from the export right after: `presence.home` serves only `energy_report`.
    let after = export_json(&server, &support, &home.member);
    assert!(records_of(&after, "presence").is_empty(), "{after}");
    // The withdrawal itself is in the consent history the export carries.
    assert_eq!(after["about"]["consents"].as_array().unwrap().len(), 2);
    // Granting again does not bring the purged data back.
    server.consent_ok(&support, &home.member, "energy_report", true);
    assert!(records_of(&export_json(&server, &support, &home.member), "presence").is_empty());
    assert_eq!(
        server
            .records(
                &analyst,
                &[("purpose", "energy_report"), ("subject", &home.member)]
            )
            .len(),
        0
    );

    // The other member, who still consents, keeps theirs; the household's data stays.
    let o = export_json(&server, &support, &other);
    assert_eq!(values_of(&o, "presence", "home"), vec![json!(true)]);
    let h = export_json(&server, &support, &home.household);
    assert_eq!(values_of(&h, "climate", "temperature_c"), vec![json!(20.0)]);

    // Audited: a purge entry for the purpose, counting what went, naming no value.
    let purges = audit_entries(&server, &admin, "consent.purge");
    assert_eq!(purges.len(), 1, "{:?}", server.audit(&admin));
    assert_eq!(purges[0]["purpose"], "energy_report");
    assert_eq!(purges[0]["subjects"].as_array().unwrap().len(), 1);
    assert_eq!(purges[0]["count"], 2, "{}", purges[0]);
}

#[test]
fn withdrawal_purges_only_the_values_no_other_purpose_justifies() {
    let inst = Instance::new();
    // A household withdrawal then purges `heating_minutes` and leaves the temperature, which
    // heating control also needs.
    inst.make_heating_minutes_consent_only();
    let (admin, support) = inst.operators();
    let heating = inst.key("analyst", &["heating_control"]);
    let server = inst.serve();
    let home = server.home(&admin);
    let neighbour = server.home(&admin);
    for h in [&home.household, &neighbour.household] {
        server.consent_ok(&support, h, "energy_report", true);
    }
    let ts = ago(60);
    for token in [&home.token, &neighbour.token] {
        let out = server.ingest_ok(
            token,
            &json!([{ "stream": "climate", "ts": ts,
                      "data": { "temperature_c": 21.0, "humidity_pct": 55, "heating_minutes": 12 } }]),
        );
        assert_eq!(out["dropped"]["no_consent"], 0, "{out}");
    }
    let before = export_json(&server, &support, &home.household);
    assert_eq!(
        values_of(&before, "climate", "heating_minutes"),
        vec![json!(12)]
    );

    server.consent_ok(&support, &home.household, "energy_report", false);

    let after = export_json(&server, &support, &home.household);
    assert!(
        values_of(&after, "climate", "heating_minutes").is_empty(),
        "{after}"
    );
    // Values serving another purpose stay, in the same record as before.
    assert_eq!(
        values_of(&after, "climate", "temperature_c"),
        vec![json!(21.0)]
    );
    assert_eq!(
        values_of(&after, "climate", "humidity_pct"),
        vec![json!(50)]
    );
    let temp_record = records_of(&after, "climate")
        .into_iter()
        .find(|r| r["data"].get("temperature_c").is_some())
        .unwrap();
    assert_eq!(temp_record["data"], json!({"temperature_c": 21.0}));
    assert_eq!(
        server
            .records(
                &heating,
                &[("purpose", "heating_control"), ("subject", &home.household)]
            )
            .len(),
        2
    );
    // The neighbour's consent still holds.
    let n = export_json(&server, &support, &neighbour.household);
    assert_eq!(values_of(&n, "climate", "heating_minutes"), vec![json!(12)]);

    let purges = audit_entries(&server, &admin, "consent.purge");
    assert_eq!(purges.len(), 1, "{purges:?}");
    assert_eq!(purges[0]["purpose"], "energy_report");
    let (code, text) = inst.audit_verify();
    assert_eq!(code, 0, "{text}");
}
