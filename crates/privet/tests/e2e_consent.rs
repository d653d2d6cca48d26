//! End-to-end: consent gates collection; its history is kept with version, actor and channel.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::json;
use support::*;

#[test]
fn a_consent_only_field_is_kept_only_while_consent_is_given() {
    let inst = Instance::new();
    let (admin, support) = inst.operators();
    let analyst = inst.key("analyst", &["energy_report"]);
    let server = inst.serve();
    let home = server.home(&admin);

    // Off by default: `presence.home` serves only `energy_report`, which needs consent.
    let out = server.ingest_ok(
        &home.token,
        &json!([presence(&ago(50), &home.member, true)]),
    );
    assert_eq!(out["accepted"], 0, "{out}");
    assert_eq!(out["dropped"]["no_consent"], 1, "{out}");

    let v = server.consent_ok(&support, &home.member, "energy_report", true);
    assert_eq!(v["granted"], true);
    let out = server.ingest_ok(
        &home.token,
        &json!([presence(&ago(40), &home.member, true)]),
    );
    assert_eq!(out["accepted"], 1, "{out}");
    assert_eq!(out["dropped"]["no_consent"], 0, "{out}");
    let stored = server.records(
        &analyst,
        &[("purpose", "energy_report"), ("stream", "presence")],
    );
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert_eq!(stored[0]["data"], json!({"home": true}));

    // Withdrawal stops collection at once: the very next batch is dropped.
    server.consent_ok(&support, &home.member, "energy_report", false);
    let out = server.ingest_ok(
        &home.token,
        &json!([presence(&ago(30), &home.member, false)]),
    );
    assert_eq!(out["accepted"], 0, "{out}");
    assert_eq!(out["dropped"]["no_consent"], 1, "{out}");
    // And reads for the purpose no longer include the member.
    assert!(
        server
            .records(
                &analyst,
                &[("purpose", "energy_report"), ("stream", "presence")]
            )
            .is_empty()
    );
    assert_eq!(
        server.metric("privet_fields_dropped_total{reason=\"no_consent\"}"),
        Some(2.0)
    );
}

#[test]
fn household_stream_fields_follow_the_households_consent() {
    let inst = Instance::new();
    inst.make_heating_minutes_consent_only();
    let (admin, support) = inst.operators();
    let server = inst.serve();
    let home = server.home(&admin);

    let out = server.ingest_ok(&home.token, &json!([climate(&ago(30), 20.0, 5)]));
    assert_eq!(out["accepted"], 1, "temperature is kept: {out}");
    assert_eq!(out["dropped"]["no_consent"], 1, "{out}");
    // A member's consent is not the household's.
    server.consent_ok(&support, &home.member, "energy_report", true);
    let out = server.ingest_ok(&home.token, &json!([climate(&ago(20), 20.0, 5)]));
    assert_eq!(out["dropped"]["no_consent"], 1, "{out}");
    server.consent_ok(&support, &home.household, "energy_report", true);
    let out = server.ingest_ok(&home.token, &json!([climate(&ago(10), 20.0, 5)]));
    assert_eq!(out["dropped"]["no_consent"], 0, "{out}");
}

#[test]
fn consent_is_per_subject() {
    let (_inst, admin, support, server, home) = served_home();
    let other = server.member(&admin, &home.household, "Other", false);
    server.consent_ok(&support, &home.member, "energy_report", true);
    let out = server.ingest_ok(
        &home.token,
        &json!([
            presence(&ago(20), &home.member, true),
            presence(&ago(20), &other, true),
        ]),
    );
    assert_eq!(out["accepted"], 1, "{out}");
    assert_eq!(out["dropped"]["no_consent"], 1, "{out}");
}

#[test]
fn consents_show_the_current_state_and_the_full_history() {
    let (_inst, admin, support, server, home) = served_home();
    let path = format!("/v1/subjects/{}/consents", home.member);

    // Before any decision: every consent-based purpose of the household's products is off.
    let v = server.get(&path, Some(&support.secret)).expect(200);
    assert_eq!(v["subject"], home.member.as_str());
    assert_eq!(
        v["current"][THERMOSTAT],
        json!({"energy_report": false, "supplier_tariff": false}),
        "{v}"
    );
    assert_eq!(v["history"], json!([]));

    let put = |granted: bool, channel: &str, key: &Key| {
        server
            .put(
                &format!("{path}/energy_report"),
                Some(&key.secret),
                &json!({"granted": granted, "channel": channel}),
            )
            .expect(200)
    };
    put(true, "app", &support);
    put(false, "web", &support);
    put(true, "phone", &admin);

    let v = server.get(&path, Some(&support.secret)).expect(200);
    assert_eq!(v["current"][THERMOSTAT]["energy_report"], true, "{v}");
    assert_eq!(v["current"][THERMOSTAT]["supplier_tariff"], false, "{v}");
    let history = v["history"].as_array().unwrap();
    assert_eq!(history.len(), 3, "{v}");
    let expected = [
        (true, "app", support.actor()),
        (false, "web", support.actor()),
        (true, "phone", admin.actor()),
    ];
    let mut last_at = jiff::Timestamp::MIN;
    for (h, (granted, channel, actor)) in history.iter().zip(expected) {
        assert_eq!(h["purpose"], "energy_report");
        assert_eq!(h["granted"], granted, "{h}");
        assert_eq!(h["channel"], channel, "{h}");
        assert_eq!(h["actor"], actor.as_str(), "{h}");
        assert_eq!(h["manifest_version"], format!("{THERMOSTAT}@2.4"), "{h}");
        let at: jiff::Timestamp = h["at"].as_str().unwrap().parse().expect("RFC 3339");
        assert!(at >= last_at, "history is oldest first");
        last_at = at;
    }

    // The channel is one of a closed set: free text never reaches the history or the audit log.
    let refused = server
        .put(
            &format!("{path}/energy_report"),
            Some(&support.secret),
            &json!({"granted": true, "channel": "told Alice Smith on 07700 900123"}),
        )
        .expect(422);
    assert!(!refused.to_string().contains("Alice"), "{refused}");
    let v = server.get(&path, Some(&support.secret)).expect(200);
    assert_eq!(v["history"].as_array().map(Vec::len), Some(3), "{v}");

    // Default channel is `api`; a household can consent too.
    let v = server.consent_ok(&support, &home.household, "supplier_tariff", true);
    assert_eq!(v["channel"], "api");
    let hv = server
        .get(
            &format!("/v1/subjects/{}/consents", home.household),
            Some(&support.secret),
        )
        .expect(200);
    assert_eq!(hv["current"][THERMOSTAT]["supplier_tariff"], true, "{hv}");
    // The member's state is unaffected by the household's decision.
    let v = server.get(&path, Some(&support.secret)).expect(200);
    assert_eq!(v["current"][THERMOSTAT]["supplier_tariff"], false, "{v}");
}

#[test]
fn consent_requests_are_validated() {
    let (_inst, _admin, support, server, home) = served_home();
    // A purpose on a contract basis has no consent to give.
    server
        .consent(&support, &home.member, "heating_control", true)
        .problem(422);
    // No product declares it.
    server
        .consent(&support, &home.member, "mind_reading", true)
        .problem(422);
    server
        .consent(&support, "mb_nobody", "energy_report", true)
        .problem(404);
    server
        .get("/v1/subjects/mb_nobody/consents", Some(&support.secret))
        .problem(404);
    server
        .put(
            &format!("/v1/subjects/{}/consents/energy_report", home.member),
            Some(&support.secret),
            &json!({"granted": "yes"}),
        )
        .problem(422);
    server
        .put(
            &format!("/v1/subjects/{}/consents/energy_report", home.member),
            Some(&support.secret),
            &json!({}),
        )
        .problem(422);
    // Nothing was recorded by the refused calls.
    let v = server
        .get(
            &format!("/v1/subjects/{}/consents", home.member),
            Some(&support.secret),
        )
        .expect(200);
    assert_eq!(v["history"], json!([]));
}

#[test]
fn withdrawal_purges_data_held_only_for_that_purpose() {
    let inst = Instance::new();
    let (admin, support) = inst.operators();
    let dpo = inst.key("dpo", &[]);
    let report = inst.key("analyst", &["energy_report"]);
    let heating = inst.key("analyst", &["heating_control"]);
    let server = inst.serve();
    let home = server.home(&admin);
    for s in [&home.member, &home.household] {
        server.consent_ok(&support, s, "energy_report", true);
    }
    server.ingest_ok(
        &home.token,
        &json!([
            presence(&ago(40), &home.member, true),
            presence(&ago(30), &home.member, false),
            climate(&ago(30), 20.0, 7),
        ]),
    );
    assert_eq!(
        server
            .records(&report, &[("purpose", "energy_report")])
            .len(),
        3
    );

    server.consent_ok(&support, &home.member, "energy_report", false);
    // Granting again must not bring back what was collected under the withdrawn consent.
    server.consent_ok(&support, &home.member, "energy_report", true);
    let stored = server.records(
        &report,
        &[("purpose", "energy_report"), ("stream", "presence")],
    );
    assert!(stored.is_empty(), "purged on withdrawal: {stored:?}");
    // Data also held for another purpose, or about another subject, stays.
    assert_eq!(
        server
            .records(&report, &[("purpose", "energy_report")])
            .len(),
        1
    );
    assert_eq!(
        server
            .records(&heating, &[("purpose", "heating_control")])
            .len(),
        1
    );
    // The withdrawal is audited.
    let audit = server.audit(&dpo);
    let w = audit
        .iter()
        .find(|e| e["action"] == "consent.withdraw")
        .expect("withdrawal audited");
    assert_eq!(w["purpose"], "energy_report");
    assert_eq!(w["actor"], support.actor().as_str());
}
