//! End-to-end: ingestion as a device sends it — formats, undeclared fields, transforms,
//! encryption at rest, strict products.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::{Value, json};
use support::*;

#[test]
fn json_array_single_object_and_ndjson_are_all_accepted() {
    let inst = Instance::new();
    let admin = inst.key("admin", &[]);
    let analyst = inst.key("analyst", &["heating_control"]);
    let server = inst.serve();
    let home = server.home(&admin);

    let out = server.ingest_ok(
        &home.token,
        &json!([climate(&ago(90), 20.0, 1), climate(&ago(80), 20.0, 2)]),
    );
    assert_eq!(
        out,
        json!({"accepted": 2, "dropped": {"undeclared": 0, "no_consent": 0, "reconsent": 0, "expired": 0, "restricted": 0}})
    );

    let out = server.ingest_ok(&home.token, &climate(&ago(70), 20.0, 3));
    assert_eq!(
        out["accepted"], 1,
        "a single event object is a batch of one"
    );

    let r = server.ingest_ndjson(
        &home.token,
        &[
            climate(&ago(60), 20.0, 4),
            climate(&ago(50), 20.0, 5),
            climate(&ago(40), 20.0, 6),
        ],
    );
    assert_eq!(r.expect(200)["accepted"], 3);

    // Blank lines and a missing final newline are fine in NDJSON.
    let body = format!(
        "{}\n\n{}",
        climate(&ago(30), 20.0, 7),
        climate(&ago(20), 20.0, 8)
    );
    let r = server.post_raw(
        "/v1/ingest",
        Some(&home.token),
        "application/x-ndjson",
        body,
    );
    assert_eq!(r.expect(200)["accepted"], 2);

    let minutes: Vec<i64> = server
        .records(
            &analyst,
            &[("purpose", "heating_control"), ("stream", "climate")],
        )
        .iter()
        .map(|r| r["data"]["heating_minutes"].as_i64().unwrap())
        .collect();
    let mut sorted = minutes.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (1..=8).collect::<Vec<_>>());
}

#[test]
fn undeclared_fields_are_dropped_counted_and_never_written_anywhere() {
    let inst = Instance::new();
    let admin = inst.key("admin", &[]);
    let analyst = inst.key("analyst", &["heating_control"]);
    let mut server = inst.serve();
    let home = server.home(&admin);

    let key_marker = marker("undeclaredkey");
    let value_marker = marker("UndeclaredValue");
    let nested_marker = marker("NestedUndeclared");
    let mut data = json!({ "temperature_c": 21.0, "heating_minutes": 12 });
    data[&key_marker] = json!(value_marker);
    data["gps"] = json!({ "lat": 51.5, "note": nested_marker });
    let events = json!([
        { "stream": "climate", "ts": ago(30), "data": data },
        { "stream": "schedule", "ts": ago(20),
          "data": { "holiday_mode": false,
                    "periods": [{ "day": "mon", "start": "07:00", "end": "09:00", "target_c": 20.0,
                                  "owner_email": value_marker }] } },
    ]);
    let out = server.ingest_ok(&home.token, &events);
    assert_eq!(out["accepted"], 2, "{out}");
    // The unknown key, `gps`, and the undeclared key inside the schedule object.
    assert_eq!(out["dropped"]["undeclared"], 3, "{out}");
    assert_eq!(
        server.metric("privet_fields_dropped_total{reason=\"undeclared\"}"),
        Some(3.0)
    );

    // The declared fields were stored and read back without the undeclared ones.
    let records = server.records(&analyst, &[("purpose", "heating_control")]);
    assert_eq!(records.len(), 2, "{records:?}");
    let text = serde_json::to_string(&records).unwrap();
    for m in [&key_marker, &value_marker, &nested_marker] {
        assert!(!text.contains(m.as_str()), "{text}");
    }
    assert!(
        !text.contains("gps") && !text.contains("owner_email"),
        "{text}"
    );

    // Not on disk while running (WAL and shared memory included) …
    for m in [&key_marker, &value_marker, &nested_marker] {
        inst.assert_not_on_disk(m, "undeclared field");
    }
    // … nor after the server stops, nor in its log.
    server.stop_ok();
    for m in [&key_marker, &value_marker, &nested_marker] {
        inst.assert_not_on_disk(m, "undeclared field");
        assert!(!server.log().contains(m.as_str()), "logged: {m}");
    }
}

#[test]
fn stored_values_are_encrypted_at_rest() {
    let inst = Instance::new();
    let admin = inst.key("admin", &[]);
    let analyst = inst.key("analyst", &["heating_control"]);
    let mut server = inst.serve();
    let home = server.home(&admin);

    // A unique string in a declared string field and a unique number in a declared integer.
    let day = marker("PlaintextDay");
    let minutes: i64 = 7_391_846_205;
    let events = json!([
        { "stream": "schedule", "ts": ago(30),
          "data": { "periods": [{ "day": day, "start": "06:30", "end": "08:00", "target_c": 19.5 }] } },
        climate(&ago(20), 20.5, minutes),
    ]);
    assert_eq!(server.ingest_ok(&home.token, &events)["accepted"], 2);

    // They were stored: the purpose read returns them.
    let text = serde_json::to_string(&server.records(&analyst, &[("purpose", "heating_control")]))
        .unwrap();
    assert!(text.contains(&day), "{text}");
    assert!(text.contains(&minutes.to_string()), "{text}");

    inst.assert_not_on_disk(&day, "stored plaintext");
    inst.assert_not_on_disk(&minutes.to_string(), "stored plaintext");
    server.stop_ok();
    inst.assert_not_on_disk(&day, "stored plaintext");
    inst.assert_not_on_disk(&minutes.to_string(), "stored plaintext");
    assert!(!server.log().contains(&day), "a stored value was logged");
}

#[test]
fn transforms_minimise_values_before_they_are_stored() {
    let inst = Instance::new();
    let admin = inst.key("admin", &[]);
    let analyst = inst.key("analyst", &["heating_control"]);
    let server = inst.serve();
    let home = server.home(&admin);
    server.ingest_ok(
        &home.token,
        &json!([{ "stream": "climate", "ts": ago(30),
                  "data": { "temperature_c": 21.3, "humidity_pct": 47, "heating_minutes": 5 } }]),
    );
    // Fields of different retentions are stored apart; gather the event's fields.
    let mut data = serde_json::Map::new();
    for r in server.records(
        &analyst,
        &[("purpose", "heating_control"), ("stream", "climate")],
    ) {
        data.extend(r["data"].as_object().unwrap().clone());
    }
    let data = Value::Object(data);
    assert_eq!(
        data["temperature_c"].as_f64(),
        Some(21.5),
        "round = 0.5: {data}"
    );
    assert_eq!(data["humidity_pct"].as_i64(), Some(40), "bucketed: {data}");
    assert_eq!(data["heating_minutes"].as_i64(), Some(5));
}

#[test]
fn a_strict_product_rejects_a_batch_with_an_undeclared_field() {
    let inst = Instance::new();
    let admin = inst.key("admin", &["door_alarm"]);
    let mut server = inst.serve();
    let h = server.household(&admin, "Strict");
    let (_, token) = server.device(&admin, FRIDGE, Some(&h), None);
    let secret = marker("StrictSecret");
    let r = server.ingest(
        &token,
        &json!([
            { "stream": "door", "ts": ago(30), "data": { "open": true } },
            { "stream": "door", "ts": ago(20), "data": { "open": false, "camera_frame": secret } },
        ]),
    );
    let p = r.problem(422);
    let detail = p["detail"].as_str().unwrap();
    assert!(detail.contains("event 1"), "{detail}");
    assert!(
        !detail.contains(&secret),
        "the value is not echoed: {detail}"
    );
    // The whole batch was rejected: not even the valid first event was stored.
    assert!(
        server
            .records(&admin, &[("purpose", "door_alarm")])
            .is_empty()
    );
    // Without the undeclared field the same batch is accepted.
    let out = server.ingest_ok(
        &token,
        &json!([
            { "stream": "door", "ts": ago(30), "data": { "open": true } },
            { "stream": "door", "ts": ago(20), "data": { "open": false } },
        ]),
    );
    assert_eq!(out["accepted"], 2);
    server.stop_ok();
    inst.assert_not_on_disk(&secret, "rejected value");
    assert!(!server.log().contains(&secret));
}

#[test]
fn member_events_name_a_member_of_the_devices_household() {
    let inst = Instance::new();
    let admin = inst.key("admin", &[]);
    let support = inst.key("support", &[]);
    let server = inst.serve();
    let a = server.home(&admin);
    let b = server.home(&admin);
    server
        .consent(&support, &b.member, "energy_report", true)
        .expect(200);
    // Device of household A naming household B's member.
    let p = server
        .ingest(&a.token, &json!([presence(&ago(10), &b.member, true)]))
        .problem(422);
    assert!(p["detail"].as_str().unwrap().contains("event 0"), "{p}");
    // A member stream event naming no member, from a household device.
    let p = server
        .ingest(
            &a.token,
            &json!([{ "stream": "presence", "ts": ago(10), "data": { "home": true } }]),
        )
        .problem(422);
    assert!(p["detail"].as_str().unwrap().contains("member"), "{p}");
    // A household stream's event naming a member: refused, not silently ignored.
    let p = server
        .ingest(
            &a.token,
            &json!([{ "stream": "climate", "ts": ago(10), "member": a.member,
                      "data": { "temperature_c": 20.0 } }]),
        )
        .problem(422);
    assert!(
        p["detail"].as_str().unwrap().contains("may not name one"),
        "{p}"
    );
    // An integer one below i64's range is refused, never stored as i64::MIN.
    let p = server
        .post_raw(
            "/v1/ingest",
            Some(&a.token),
            "application/json",
            format!(
                r#"[{{"stream":"climate","ts":"{}","data":{{"heating_minutes":-9223372036854775809}}}}]"#,
                ago(10)
            ),
        )
        .problem(422);
    assert!(
        p["detail"].as_str().unwrap().contains("heating_minutes"),
        "{p}"
    );
    // A personal device stands for its member.
    let (_, personal) = server.device(&admin, THERMOSTAT, Some(&b.household), Some(&b.member));
    let out = server.ingest_ok(
        &personal,
        &json!([{ "stream": "presence", "ts": ago(10), "data": { "home": true } }]),
    );
    assert_eq!(out["accepted"], 1, "{out}");
}

#[test]
fn non_personal_streams_are_stored_without_a_subject() {
    let inst = Instance::new();
    let admin = inst.key("admin", &["keep_device_working"]);
    let server = inst.serve();
    let home = server.home(&admin);
    let out = server.ingest_ok(
        &home.token,
        &json!([{ "stream": "device_health", "ts": ago(10),
                  "data": { "firmware_version": "2.4.1", "battery_pct": 87 } }]),
    );
    assert_eq!(out["accepted"], 1);
    let records = server.records(&admin, &[("purpose", "keep_device_working")]);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["subject"], Value::Null);
    assert_eq!(records[0]["data"]["battery_pct"].as_i64(), Some(90));
}

#[test]
fn values_already_past_their_retention_are_dropped_as_expired() {
    let inst = Instance::new();
    let admin = inst.key("admin", &[]);
    let analyst = inst.key("analyst", &["heating_control"]);
    let mut server = inst.serve();
    let home = server.home(&admin);
    // 31 days old: `humidity_pct` (30 days) has expired, the 400-day fields have not.
    let out = server.ingest_ok(
        &home.token,
        &json!([{ "stream": "climate", "ts": ago(31 * 86_400),
                  "data": { "temperature_c": 20.0, "humidity_pct": 45, "heating_minutes": 5 } }]),
    );
    assert_eq!(out["accepted"], 1, "{out}");
    assert_eq!(out["dropped"]["expired"], 1, "{out}");
    let records = server.records(&analyst, &[("purpose", "heating_control")]);
    assert_eq!(records.len(), 1, "{records:?}");
    assert!(records[0]["data"].get("humidity_pct").is_none());
    server.stop_ok();
    // A retention run on the stopped instance keeps what is still within its retention.
    let out = inst.privet(&["retention", "run", "--data", inst.data.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let server = inst.serve();
    assert_eq!(
        server
            .records(&analyst, &[("purpose", "heating_control")])
            .len(),
        1
    );
}
