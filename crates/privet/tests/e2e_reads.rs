//! End-to-end: purpose-bound reads — projection, consent filtering, filters, NDJSON, audit.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::{Value, json};
use std::collections::BTreeSet;
use support::*;

fn keys_of(v: &Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn a_read_returns_only_the_fields_declared_for_its_purpose() {
    let inst = Instance::new();
    let (admin, support) = inst.operators();
    let heating = inst.key("analyst", &["heating_control"]);
    let report = inst.key("analyst", &["energy_report"]);
    let tariff = inst.key("analyst", &["supplier_tariff"]);
    let health = inst.key("analyst", &["keep_device_working"]);
    let server = inst.serve();
    let home = server.home(&admin);
    for p in ["energy_report", "supplier_tariff"] {
        server.consent_ok(&support, &home.household, p, true);
    }
    server.consent_ok(&support, &home.member, "energy_report", true);
    server.ingest_ok(
        &home.token,
        &json!([
            { "stream": "climate", "ts": ago(60),
              "data": { "temperature_c": 20.0, "humidity_pct": 45, "heating_minutes": 10 } },
            presence(&ago(50), &home.member, true),
            { "stream": "schedule", "ts": ago(40), "data": { "holiday_mode": true } },
            { "stream": "device_health", "ts": ago(30), "data": { "firmware_version": "2.4.1", "battery_pct": 50 } },
        ]),
    );

    // The fields each stream yields for a purpose (a stream's fields may come back in
    // several records when their retentions differ).
    let by_stream = |key: &Key, purpose: &str| -> Vec<(String, BTreeSet<String>)> {
        let mut fields: std::collections::BTreeMap<String, BTreeSet<String>> = Default::default();
        for r in server.records(key, &[("purpose", purpose)]) {
            assert_eq!(r["product"], THERMOSTAT);
            fields
                .entry(r["stream"].as_str().unwrap().to_owned())
                .or_default()
                .extend(keys_of(&r["data"]));
        }
        fields.into_iter().collect()
    };
    assert_eq!(
        by_stream(&heating, "heating_control"),
        vec![
            (
                "climate".into(),
                set(&["heating_minutes", "humidity_pct", "temperature_c"])
            ),
            ("schedule".into(), set(&["holiday_mode"])),
        ]
    );
    assert_eq!(
        by_stream(&report, "energy_report"),
        vec![
            ("climate".into(), set(&["heating_minutes", "temperature_c"])),
            ("presence".into(), set(&["home"])),
        ]
    );
    assert_eq!(
        by_stream(&tariff, "supplier_tariff"),
        vec![("climate".into(), set(&["heating_minutes"]))]
    );
    assert_eq!(
        by_stream(&health, "keep_device_working"),
        vec![(
            "device_health".into(),
            set(&["battery_pct", "firmware_version"])
        )]
    );
}

#[test]
fn a_read_for_a_purpose_the_key_lacks_is_forbidden() {
    let inst = Instance::new();
    let admin = inst.key("admin", &["heating_control"]);
    let analyst = inst.key("analyst", &["heating_control"]);
    let dpo = inst.key("dpo", &[]);
    let server = inst.serve();
    let home = server.home(&admin);
    server.ingest_ok(&home.token, &json!([climate(&ago(10), 20.0, 10)]));
    for key in [&analyst, &admin] {
        let p = server
            .events(key, &[("purpose", "energy_report")])
            .problem(403);
        assert!(
            p["detail"].as_str().unwrap().contains("energy_report"),
            "{p}"
        );
        server
            .events(
                key,
                &[("purpose", "supplier_tariff"), ("stream", "climate")],
            )
            .problem(403);
    }
    // A refused read returns nothing and is not logged as a read.
    let reads: Vec<Value> = server
        .audit(&dpo)
        .into_iter()
        .filter(|e| e["action"] == "events.read")
        .collect();
    assert!(reads.is_empty(), "{reads:?}");
    // The purpose the key holds works.
    assert_eq!(
        server
            .records(&analyst, &[("purpose", "heating_control")])
            .len(),
        1
    );
}

#[test]
fn a_consent_based_read_returns_only_consenting_subjects() {
    let inst = Instance::new();
    let (admin, support) = inst.operators();
    let report = inst.key("analyst", &["energy_report"]);
    let heating = inst.key("analyst", &["heating_control"]);
    let server = inst.serve();
    let yes = server.home(&admin);
    let no = server.home(&admin);
    server.consent_ok(&support, &yes.household, "energy_report", true);
    // `temperature_c` also serves heating control (a contract), so both homes' readings are kept.
    server.ingest_ok(
        &yes.token,
        &json!([climate(&ago(30), 21.0, 1), climate(&ago(20), 21.0, 2)]),
    );
    server.ingest_ok(&no.token, &json!([climate(&ago(30), 17.0, 3)]));
    assert_eq!(
        server
            .records(&heating, &[("purpose", "heating_control")])
            .len(),
        3
    );

    let records = server.records(&report, &[("purpose", "energy_report")]);
    assert_eq!(records.len(), 2, "{records:?}");
    assert!(
        records.iter().all(|r| r["data"]["temperature_c"] == 21.0),
        "{records:?}"
    );
    let subjects: BTreeSet<&str> = records
        .iter()
        .map(|r| r["subject"].as_str().unwrap())
        .collect();
    assert_eq!(subjects.len(), 1);
    // The subject is a pseudonym, not the household id.
    assert!(!subjects.contains(yes.household.as_str()));

    // Once the other household consents, its (kept) readings become readable for the purpose.
    server.consent_ok(&support, &no.household, "energy_report", true);
    assert_eq!(
        server
            .records(&report, &[("purpose", "energy_report")])
            .len(),
        3
    );
    // And after a withdrawal they are hidden again.
    server.consent_ok(&support, &yes.household, "energy_report", false);
    let records = server.records(&report, &[("purpose", "energy_report")]);
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0]["data"]["temperature_c"], 17.0);
}

#[test]
fn reads_filter_by_stream_subject_and_time() {
    let inst = Instance::new();
    let admin = inst.key("admin", &[]);
    let heating = inst.key("analyst", &["heating_control"]);
    let server = inst.serve();
    let a = server.home(&admin);
    let b = server.home(&admin);
    let (t1, t2, t3) = (ago(3 * 3600), ago(2 * 3600), ago(3600));
    server.ingest_ok(
        &a.token,
        &json!([
            climate(&t1, 20.0, 1),
            climate(&t2, 20.0, 2),
            climate(&t3, 20.0, 3),
            { "stream": "schedule", "ts": t2, "data": { "holiday_mode": false } },
        ]),
    );
    server.ingest_ok(&b.token, &json!([climate(&t2, 20.0, 4)]));

    let minutes = |q: &[(&str, &str)]| -> Vec<i64> {
        let mut q = q.to_vec();
        q.push(("purpose", "heating_control"));
        q.push(("stream", "climate"));
        let mut v: Vec<i64> = server
            .records(&heating, &q)
            .iter()
            .map(|r| r["data"]["heating_minutes"].as_i64().unwrap())
            .collect();
        v.sort_unstable();
        v
    };
    assert_eq!(minutes(&[]), vec![1, 2, 3, 4]);
    assert_eq!(minutes(&[("subject", &a.household)]), vec![1, 2, 3]);
    assert_eq!(minutes(&[("subject", &b.household)]), vec![4]);
    assert_eq!(minutes(&[("since", &t2)]), vec![2, 3, 4]);
    assert_eq!(minutes(&[("until", &t2)]), vec![1, 2, 4]);
    assert_eq!(minutes(&[("since", &t2), ("until", &t2)]), vec![2, 4]);
    assert_eq!(
        minutes(&[
            ("subject", &a.household),
            ("since", &ago(2 * 3600 + 60)),
            ("until", &ago(60))
        ]),
        vec![2, 3]
    );
    assert!(minutes(&[("since", &ago(60))]).is_empty());

    let schedule = server.records(
        &heating,
        &[("purpose", "heating_control"), ("stream", "schedule")],
    );
    assert_eq!(schedule.len(), 1);
    assert_eq!(schedule[0]["stream"], "schedule");
    // A stream the purpose does not cover yields nothing, whatever is stored there.
    assert!(
        server
            .records(
                &heating,
                &[("purpose", "heating_control"), ("stream", "device_health")]
            )
            .is_empty()
    );
}

#[test]
fn ndjson_reads_stream_every_record_one_per_line() {
    let inst = Instance::new();
    let admin = inst.key("admin", &[]);
    let heating = inst.key("analyst", &["heating_control"]);
    let server = inst.serve_with(&["--max-batch-events", "10000"]);
    let home = server.home(&admin);
    let events: Vec<Value> = (0..2_500)
        .map(|i| climate(&ago(7_200 - i), 20.0, i))
        .collect();
    server.ingest_ok(&home.token, &json!(events));

    // A JSON page stops at its limit and says so.
    let page = server
        .events(&heating, &[("purpose", "heating_control")])
        .expect(200);
    assert_eq!(page["records"].as_array().unwrap().len(), 1_000);
    assert_eq!(page["truncated"], true);

    let r = server.send(
        server
            .req(
                reqwest::Method::GET,
                "/v1/events?purpose=heating_control&stream=climate",
                Some(&heating.secret),
            )
            .header("accept", "application/x-ndjson"),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.header("content-type").starts_with("application/x-ndjson"));
    let lines: Vec<&str> = r.body.lines().collect();
    assert_eq!(lines.len(), 2_500);
    let mut minutes: Vec<i64> = lines
        .iter()
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("each line is one JSON record");
            assert_eq!(v["stream"], "climate");
            v["data"]["heating_minutes"].as_i64().unwrap()
        })
        .collect();
    minutes.sort_unstable();
    assert_eq!(minutes, (0..2_500).collect::<Vec<_>>());
}

#[test]
fn every_read_is_audited_with_key_purpose_pseudonyms_and_count_only() {
    let inst = Instance::new();
    let admin = inst.key("admin", &[]);
    let heating = inst.key("analyst", &["heating_control"]);
    let dpo = inst.key("dpo", &[]);
    let server = inst.serve();
    let a = server.home(&admin);
    let b = server.home(&admin);
    let day = marker("AuditDay");
    server.ingest_ok(
        &a.token,
        &json!([
            climate(&ago(30), 20.0, 1),
            climate(&ago(20), 20.0, 2),
            { "stream": "schedule", "ts": ago(20),
              "data": { "periods": [{ "day": day, "start": "07:00", "end": "08:00", "target_c": 20.0 }] } },
        ]),
    );
    server.ingest_ok(&b.token, &json!([climate(&ago(30), 20.0, 3)]));

    let all = server.records(&heating, &[("purpose", "heating_control")]);
    assert_eq!(all.len(), 4);
    let pseudonyms: BTreeSet<String> = all
        .iter()
        .map(|r| r["subject"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(pseudonyms.len(), 2);
    let only_a = server.records(
        &heating,
        &[
            ("purpose", "heating_control"),
            ("subject", &a.household),
            ("stream", "climate"),
        ],
    );
    assert_eq!(only_a.len(), 2);
    let r = server.send(
        server
            .req(
                reqwest::Method::GET,
                "/v1/events?purpose=heating_control",
                Some(&heating.secret),
            )
            .header("accept", "application/x-ndjson"),
    );
    assert_eq!(r.body.lines().count(), 4);

    let audit = server.audit(&dpo);
    let reads: Vec<&Value> = audit
        .iter()
        .filter(|e| e["action"] == "events.read")
        .collect();
    assert_eq!(reads.len(), 3, "{audit:?}");
    for e in &reads {
        assert_eq!(e["actor"], heating.actor().as_str(), "{e}");
        assert_eq!(e["purpose"], "heating_control", "{e}");
    }
    let subjects = |e: &Value| -> BTreeSet<String> {
        e["subjects"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(reads[0]["count"], 4);
    assert_eq!(subjects(reads[0]), pseudonyms);
    assert_eq!(reads[1]["count"], 2);
    assert_eq!(
        subjects(reads[1]),
        BTreeSet::from([only_a[0]["subject"].as_str().unwrap().to_owned()])
    );
    assert_eq!(reads[2]["count"], 4, "the NDJSON read is audited too");

    // The audit log holds ids, pseudonyms and counts: no values, names or subject ids.
    let text = serde_json::to_string(&audit).unwrap();
    for needle in [&day, &a.household, &a.member, &b.household, &b.member] {
        assert!(
            !text.contains(needle.as_str()),
            "`{needle}` in the audit log: {text}"
        );
    }
    // `since` narrows the log.
    let later = server
        .get(
            &format!("/v1/audit?{}", query_string(&[("since", &ahead(60))])),
            Some(&dpo.secret),
        )
        .expect(200);
    assert_eq!(later, json!([]));
}
