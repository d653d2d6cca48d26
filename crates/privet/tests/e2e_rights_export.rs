//! End-to-end: the right of access and portability — the JSON export (profile, records,
//! consents with history, supplementary information, access log), the CSV zip, household
//! exports with child members, and the export itself being audited.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod e2e_rights_support;
mod support;

use e2e_rights_support::*;
use serde_json::{Value, json};
use support::*;

/// The processing entry of `product` in an export's `about`.
fn processing<'a>(export: &'a Value, product: &str) -> &'a Value {
    export["about"]["processing"]
        .as_array()
        .expect("processing array")
        .iter()
        .find(|p| p["product"] == product)
        .unwrap_or_else(|| panic!("no processing entry for {product}: {}", export["about"]))
}

fn field_info<'a>(p: &'a Value, stream: &str, field: &str) -> &'a Value {
    p["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .find(|f| f["stream"] == stream && f["field"] == field)
        .unwrap_or_else(|| panic!("no field {stream}.{field} in {p}"))
}

fn purpose_info<'a>(p: &'a Value, purpose: &str) -> &'a Value {
    p["purposes"]
        .as_array()
        .expect("purposes")
        .iter()
        .find(|x| x["purpose"] == purpose)
        .unwrap_or_else(|| panic!("no purpose {purpose} in {p}"))
}

#[test]
fn the_json_export_holds_profile_records_consents_supplementary_information_and_access_log() {
    let inst = Instance::new();
    let (admin, support) = inst.operators();
    let analyst = inst.key("analyst", &["energy_report"]);
    let server = inst.serve();
    let household = server.household(&admin, &marker("Household"));
    let name = marker("Member");
    let mail = email();
    let member = member_with_email(&server, &admin, &household, &name, &mail, false);
    let (device, token) = server.device(&admin, THERMOSTAT, Some(&household), None);

    // A consent history: granted, withdrawn, granted again.
    for granted in [true, false, true] {
        server.consent_ok(&support, &member, "energy_report", granted);
    }
    let before_read = jiff::Timestamp::now();
    server.ingest_ok(
        &token,
        &json!([
            presence(&ago(120), &member, true),
            presence(&ago(60), &member, false),
            { "stream": "climate", "ts": ago(60),
              "data": { "temperature_c": 20.3, "humidity_pct": 47, "heating_minutes": 17 } },
        ]),
    );
    // An analyst's purpose read of the member: it must show up in their access log.
    let read = server.records(
        &analyst,
        &[("purpose", "energy_report"), ("subject", &member)],
    );
    assert_eq!(read.len(), 2, "{read:?}");

    let ex = export_json(&server, &support, &member);
    let about = &ex["about"];

    // Profile.
    let subjects = about["subjects"].as_array().unwrap();
    assert_eq!(subjects.len(), 1, "{about}");
    assert_eq!(subjects[0]["id"], member.as_str());
    assert_eq!(subjects[0]["name"], name.as_str());
    assert_eq!(subjects[0]["email"], mail.as_str());

    // Every record, decrypted, raw device data as stored; the member's export holds only the
    // member's streams (the household's climate is the household's).
    let presence_records = records_of(&ex, "presence");
    assert_eq!(presence_records.len(), 2, "{ex}");
    let mut homes: Vec<Value> = presence_records.iter().map(|r| r["data"].clone()).collect();
    homes.sort_by_key(|v| v.to_string());
    assert_eq!(homes, vec![json!({"home": false}), json!({"home": true})]);
    for r in &presence_records {
        assert_eq!(r["subject"], member.as_str());
        assert_eq!(r["product"], THERMOSTAT);
        assert_eq!(r["device"], device.as_str());
        let ts: jiff::Timestamp = r["ts"].as_str().unwrap().parse().unwrap();
        let exp: jiff::Timestamp = r["expires_at"].as_str().unwrap().parse().unwrap();
        // `presence.home` is kept 30 days.
        assert_eq!(
            exp.duration_since(ts),
            jiff::SignedDuration::from_hours(30 * 24)
        );
    }
    assert!(records_of(&ex, "climate").is_empty(), "{ex}");

    // Consents with their history, in order.
    let history: Vec<(String, bool)> = about["consents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let c = if c.get("consent").is_some() {
                &c["consent"]
            } else {
                c
            };
            (
                c["purpose"].as_str().unwrap().to_owned(),
                c["granted"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        history,
        vec![
            ("energy_report".to_owned(), true),
            ("energy_report".to_owned(), false),
            ("energy_report".to_owned(), true),
        ],
        "{about}"
    );

    // Supplementary information: purposes, lawful bases, categories, retention per field,
    // recipients, origin.
    let p = processing(&ex, THERMOSTAT);
    assert_eq!(p["controller"], "Wren Climate Ltd");
    assert_eq!(p["privacy_contact"], "privacy@wrenclimate.example");
    let report = purpose_info(p, "energy_report");
    assert_eq!(report["lawful_basis"], "consent", "{report}");
    assert_eq!(report["optional"], true);
    assert!(!report["description"].as_str().unwrap().is_empty());
    assert_eq!(
        purpose_info(p, "heating_control")["lawful_basis"],
        "contract"
    );
    let tariff = purpose_info(p, "supplier_tariff");
    let recipients = tariff["recipients"].as_array().unwrap();
    assert_eq!(recipients.len(), 1, "{tariff}");
    assert_eq!(recipients[0]["name"], "Brightwatt Energy Ltd");
    assert_eq!(recipients[0]["country"], "GB");
    let home = field_info(p, "presence", "home");
    assert_eq!(home["category"], "user.behavior.presence");
    assert_eq!(home["origin"], "observed");
    assert_eq!(home["purposes"], json!(["energy_report"]));
    let home_retention = home["retention"].as_str().unwrap();
    assert!(home_retention.contains("30"), "{home}");
    let temp = field_info(p, "climate", "temperature_c");
    assert_eq!(temp["origin"], "sensor");
    assert!(
        temp["retention"].as_str().unwrap().contains("400"),
        "{temp}"
    );
    assert!(
        !temp["minimised"].is_null(),
        "the rounding is described: {temp}"
    );

    // The access log: who read the member's data, when, for which purpose.
    let log = about["access_log"].as_array().unwrap();
    let reads: Vec<&Value> = log
        .iter()
        .filter(|e| e["what"] == "events.read" && e["who"] == analyst.actor().as_str())
        .collect();
    assert_eq!(reads.len(), 1, "{log:?}");
    assert_eq!(reads[0]["purpose"], "energy_report");
    assert_eq!(reads[0]["records"], 2);
    let at: jiff::Timestamp = reads[0]["at"].as_str().unwrap().parse().unwrap();
    assert!(at >= before_read && at <= jiff::Timestamp::now(), "{at}");

    // The export is itself audited (after the fact, it shows in the next export's log).
    let exports = audit_entries(&server, &admin, "subject.export");
    assert_eq!(exports.len(), 1, "{exports:?}");
    assert_eq!(exports[0]["actor"], support.actor().as_str());
    assert_eq!(exports[0]["subjects"].as_array().unwrap().len(), 1);
    let again = export_json(&server, &support, &member);
    assert!(
        again["about"]["access_log"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["what"] == "subject.export" && e["who"] == support.actor().as_str()),
        "{}",
        again["about"]["access_log"]
    );
}

#[test]
fn the_household_export_holds_its_records_after_minimisation() {
    let (_inst, _admin, support, server, home) = served_home();
    server.ingest_ok(
        &home.token,
        &json!([
            { "stream": "climate", "ts": ago(60),
              "data": { "temperature_c": 20.3, "humidity_pct": 47, "heating_minutes": 17 } },
            { "stream": "schedule", "ts": ago(50),
              "data": { "holiday_mode": true,
                        "periods": [{ "day": "mon", "start": "06:30", "end": "08:00", "target_c": 20.5 }] } },
        ]),
    );
    let ex = export_json(&server, &support, &home.household);
    // Rounded to the nearest half degree; humidity bucketed into its range (40–50).
    assert_eq!(
        values_of(&ex, "climate", "temperature_c"),
        vec![json!(20.5)]
    );
    assert_eq!(
        values_of(&ex, "climate", "heating_minutes"),
        vec![json!(17)]
    );
    assert_eq!(values_of(&ex, "climate", "humidity_pct"), vec![json!(40)]);
    assert_eq!(
        values_of(&ex, "schedule", "holiday_mode"),
        vec![json!(true)]
    );
    assert_eq!(
        values_of(&ex, "schedule", "periods"),
        vec![json!([{ "day": "mon", "start": "06:30", "end": "08:00", "target_c": 20.5 }])]
    );
    // Nothing of the member (an adult) is in the household's export.
    let subjects: Vec<&str> = ex["about"]["subjects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(subjects, vec![home.household.as_str()]);
}

#[test]
fn the_csv_export_is_a_zip_with_one_csv_per_stream_and_about_json() {
    let (_inst, admin, support, server, home) = consenting_home();
    let t1 = ago(120);
    let t2 = ago(60);
    server.ingest_ok(
        &home.token,
        &json!([
            { "stream": "climate", "ts": t1,
              "data": { "temperature_c": 19.74, "heating_minutes": 5 } },
            { "stream": "climate", "ts": t2,
              "data": { "temperature_c": 21.26, "humidity_pct": 63, "heating_minutes": 42 } },
            { "stream": "schedule", "ts": t2, "data": { "holiday_mode": false } },
            presence(&t2, &home.member, true),
        ]),
    );

    let (status, ct, bytes) = export_zip(&server, &support, &home.household);
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bytes));
    assert!(ct.starts_with("application/zip"), "{ct}");
    let files = unzip(&bytes);
    let names: Vec<&str> = files.keys().map(String::as_str).collect();
    let climate_csv = format!("{}/{THERMOSTAT}/climate.csv", home.household);
    let schedule_csv = format!("{}/{THERMOSTAT}/schedule.csv", home.household);
    assert_eq!(
        names,
        {
            let mut v = vec!["about.json", climate_csv.as_str(), schedule_csv.as_str()];
            v.sort();
            v
        },
        "one CSV per stream holding data, and about.json"
    );
    let about: Value = serde_json::from_slice(&files["about.json"]).expect("about.json is JSON");
    assert_eq!(about["subjects"][0]["id"], home.household.as_str());
    assert!(
        about["processing"]
            .as_array()
            .is_some_and(|p| !p.is_empty())
    );
    assert!(about["access_log"].is_array());

    let (header, rows) = parse_csv(&files[&climate_csv]);
    assert_eq!(
        header,
        [
            "subject",
            "device",
            "ts",
            "expires_at",
            "temperature_c",
            "humidity_pct",
            "heating_minutes"
        ]
    );
    // The humidity (30 days) is kept apart from the 400-day fields: its own row.
    let mut main: Vec<(String, String, String, String)> = rows
        .iter()
        .filter(|r| r["humidity_pct"].is_empty())
        .map(|r| {
            assert_eq!(r["subject"], home.household);
            assert_eq!(r["device"], home.device);
            (
                r["ts"].clone(),
                r["temperature_c"].clone(),
                r["heating_minutes"].clone(),
                r["expires_at"].clone(),
            )
        })
        .collect();
    main.sort();
    let ts = |s: &str| s.parse::<jiff::Timestamp>().unwrap();
    assert_eq!(main.len(), 2, "{rows:?}");
    assert_eq!(ts(&main[0].0), ts(&t1));
    assert_eq!((main[0].1.as_str(), main[0].2.as_str()), ("19.5", "5"));
    assert_eq!(ts(&main[1].0), ts(&t2));
    assert_eq!((main[1].1.as_str(), main[1].2.as_str()), ("21.5", "42"));
    let humid: Vec<&str> = rows
        .iter()
        .filter(|r| !r["humidity_pct"].is_empty())
        .map(|r| r["humidity_pct"].as_str())
        .collect();
    assert_eq!(humid, vec!["60"], "bucketed: {rows:?}");
    let (_, schedule) = parse_csv(&files[&schedule_csv]);
    assert_eq!(schedule.len(), 1);
    assert_eq!(schedule[0]["holiday_mode"], "false");
    assert_eq!(schedule[0]["periods"], "");

    // The member's zip holds the member's stream.
    let (status, _, bytes) = export_zip(&server, &support, &home.member);
    assert_eq!(status, 200);
    let files = unzip(&bytes);
    let presence_csv = format!("{}/{THERMOSTAT}/presence.csv", home.member);
    let (_, rows) = parse_csv(&files[&presence_csv]);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["home"], "true");
    assert_eq!(files.len(), 2, "{:?}", files.keys());

    // Both exports were audited, with their format.
    let audited: Vec<Value> = audit_entries(&server, &admin, "subject.export")
        .into_iter()
        .map(|e| e["detail"]["format"].clone())
        .collect();
    assert_eq!(audited, vec![json!("csv"), json!("csv")]);

    // An unknown format is a client error, not an empty export.
    let r = server.get(
        &format!("/v1/subjects/{}/export?format=xml", home.household),
        Some(&support.secret),
    );
    assert!(r.status == 400 || r.status == 422, "{r:?}");
    assert_problem_shape(&r);
}

#[test]
fn a_household_export_includes_child_members_but_not_adults() {
    let inst = Instance::new();
    let (admin, support) = inst.operators();
    let server = inst.serve();
    let household = server.household(&admin, &marker("Household"));
    let adult_name = marker("Adult");
    let child_name = marker("Child");
    let adult = server.member(&admin, &household, &adult_name, false);
    let child = server.member(&admin, &household, &child_name, true);
    let (_, token) = server.device(&admin, THERMOSTAT, Some(&household), None);
    for m in [&adult, &child] {
        server.consent_ok(&support, m, "energy_report", true);
    }
    server.ingest_ok(
        &token,
        &json!([
            presence(&ago(90), &adult, true),
            presence(&ago(80), &child, false),
            presence(&ago(70), &child, true),
            climate(&ago(60), 20.0, 3),
        ]),
    );

    let ex = export_json(&server, &support, &household);
    let ids: Vec<&str> = ex["about"]["subjects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![household.as_str(), child.as_str()]);
    let child_entry = &ex["about"]["subjects"][1];
    assert_eq!(child_entry["name"], child_name.as_str());
    assert_eq!(child_entry["child"], true);
    let presence_records = records_of(&ex, "presence");
    assert_eq!(presence_records.len(), 2, "{ex}");
    assert!(
        presence_records
            .iter()
            .all(|r| r["subject"] == child.as_str())
    );
    assert_eq!(records_of(&ex, "climate").len(), 1);
    assert!(
        !ex.to_string().contains(&adult_name) && !ex.to_string().contains(&adult),
        "an adult member's data is not in the household export"
    );
    // The child's consent history comes along.
    assert_eq!(ex["about"]["consents"].as_array().unwrap().len(), 1);

    // The export is audited for the household and the child (by pseudonym).
    let exports = audit_entries(&server, &admin, "subject.export");
    assert_eq!(exports.len(), 1);
    assert_eq!(exports[0]["subjects"].as_array().unwrap().len(), 2);
    let audit_text = serde_json::to_string(&exports).unwrap();
    assert!(!audit_text.contains(&child_name));
}

#[test]
fn only_support_and_admin_keys_may_export() {
    let inst = Instance::new();
    let admin = inst.key("admin", &[]);
    let analyst = inst.key("analyst", &["heating_control"]);
    let dpo = inst.key("dpo", &[]);
    let server = inst.serve();
    let home = server.home(&admin);
    export(&server, &analyst, &home.household).problem(403);
    export(&server, &dpo, &home.household).problem(403);
    server
        .get(&format!("/v1/subjects/{}/export", home.household), None)
        .problem(401);
    export(&server, &admin, "hh_does_not_exist").problem(404);
    export_json(&server, &admin, &home.household);
}
