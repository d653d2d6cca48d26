//! End-to-end: the rights-request workflow as the ICO describes it — a clock paused while
//! waiting for identity or a clarification, deadlines from the UK date of receipt, complaints
//! acknowledged within 30 days, a visitor's request answered from what one device recorded in
//! a time range (partial erasure with a signed receipt saying the records were deleted), and
//! self-service exports and erasures in the register.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod e2e_rights_support;
mod e2e_security_support;
mod support;

use e2e_rights_support::*;
use e2e_security_support::{delete_as, get_as, owner};
use serde_json::{Value, json};
use support::*;

fn request(server: &Server, key: &Key, id: &str) -> Value {
    server
        .get("/v1/requests", Some(&key.secret))
        .expect(200)
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("request {id} not listed"))
}

#[test]
fn a_paused_request_waits_for_the_person_and_its_deadline_moves_by_the_days_paused() {
    let inst = Instance::new();
    inst.set_clock("2026-04-10T09:00:00Z");
    let (admin, support) = inst.operators();
    let server = inst.serve();
    let home = server.home(&admin);
    let r = server
        .post(
            "/v1/requests",
            Some(&support.secret),
            &json!({ "type": "access", "subject": home.member }),
        )
        .expect(201);
    let id = r["id"].as_str().unwrap().to_owned();
    assert_eq!(r["due"], "2026-05-10", "{r}");
    assert_eq!(r["status"], "open");
    let pause = |reason: &str| {
        server.post(
            &format!("/v1/requests/{id}/pause"),
            Some(&support.secret),
            &json!({ "reason": reason }),
        )
    };
    let resume = || {
        server.post(
            &format!("/v1/requests/{id}/resume"),
            Some(&support.secret),
            &json!({}),
        )
    };
    pause("holiday").problem(422);
    resume().problem(409);
    let p = pause("identity").expect(200);
    assert_eq!(p["status"], "awaiting_identity", "{p}");
    assert_eq!(p["due"], "2026-05-10", "paused today: nothing moved yet");
    assert!(p["paused_since"].is_string(), "{p}");
    pause("clarification").problem(409);
    // It cannot be completed while it waits.
    server
        .post(
            &format!("/v1/requests/{id}/complete"),
            Some(&support.secret),
            &json!({}),
        )
        .problem(409);
    // An analyst may not pause requests.
    let analyst = inst.key("analyst", &["heating_control"]);
    server
        .post(
            &format!("/v1/requests/{id}/pause"),
            Some(&analyst.secret),
            &json!({ "reason": "identity" }),
        )
        .problem(403);

    // Ten days waiting for proof of identity: never overdue, the deadline moves day by day.
    server.advance_clock(10 * 86_400);
    let waiting = request(&server, &support, &id);
    assert_eq!(waiting["status"], "awaiting_identity");
    assert_eq!(waiting["due"], "2026-05-20", "{waiting}");
    assert_eq!(
        request_ids(&server, &support, "awaiting_identity"),
        vec![id.clone()]
    );
    assert!(request_ids(&server, &support, "awaiting_clarification").is_empty());
    assert_eq!(
        request_ids(&server, &support, "open"),
        vec![id.clone()],
        "open lists everything still to answer"
    );

    let back = resume().expect(200);
    assert_eq!(back["status"], "open", "{back}");
    assert_eq!(back["due"], "2026-05-20");
    assert_eq!(back["deadline"], "2026-05-20");
    assert_eq!(back["paused_days"], 10);
    assert!(back["paused_since"].is_null());
    resume().problem(409);

    // A second pause, for a clarification, adds its days to the first's.
    pause("clarification").expect(200);
    server.advance_clock(3 * 86_400);
    assert_eq!(
        request(&server, &support, &id)["status"],
        "awaiting_clarification"
    );
    let back = resume().expect(200);
    assert_eq!(back["due"], "2026-05-23", "{back}");
    assert_eq!(back["paused_days"], 13);

    // On the moved deadline it is still open; the day after, overdue.
    server.advance_clock(30 * 86_400);
    assert_eq!(
        request(&server, &support, &id)["status"],
        "open",
        "due today"
    );
    server.advance_clock(86_400);
    assert_eq!(request(&server, &support, &id)["status"], "overdue");
    server
        .post(
            &format!("/v1/requests/{id}/complete"),
            Some(&support.secret),
            &json!({}),
        )
        .expect(200);
    pause("identity").problem(409);
    let actions: Vec<String> = server
        .audit(&admin)
        .into_iter()
        .filter_map(|e| e["action"].as_str().map(str::to_owned))
        .filter(|a| a.starts_with("request."))
        .collect();
    assert_eq!(
        actions,
        [
            "request.create",
            "request.pause",
            "request.resume",
            "request.pause",
            "request.resume",
            "request.complete"
        ]
    );
}

#[test]
fn deadlines_count_from_the_day_a_request_arrived_in_the_uk() {
    let (_inst, _admin, support, server, home) = served_home();
    for (received, due) in [
        // 23:30 UTC on 31 March is 00:30 on 1 April in London (BST).
        ("2026-03-31T23:30:00Z", "2026-05-01"),
        // In winter London keeps UTC: still 31 December.
        ("2025-12-31T23:30:00Z", "2026-01-31"),
        // The evening before the clocks go forward is GMT.
        ("2026-03-28T23:59:00Z", "2026-04-28"),
    ] {
        let r = new_request(&server, &support, "access", &home.member, received).expect(201);
        assert_eq!(r["due"], due, "received {received}: {r}");
    }
}

#[test]
fn a_complaint_is_acknowledged_within_30_days_and_answered() {
    let (_inst, admin, support, server, home) = served_home();
    let r = new_request(
        &server,
        &support,
        "complaint",
        &home.member,
        "2026-01-15T10:00:00Z",
    )
    .expect(201);
    assert_eq!(r["type"], "complaint");
    assert_eq!(r["acknowledge_by"], "2026-02-14", "{r}");
    assert_eq!(r["due"], "2026-02-15");
    let other = new_request(
        &server,
        &support,
        "access",
        &home.member,
        "2026-01-15T10:00:00Z",
    )
    .expect(201);
    assert!(other["acknowledge_by"].is_null(), "{other}");
    let done = server
        .post(
            &format!("/v1/requests/{}/complete", r["id"].as_str().unwrap()),
            Some(&support.secret),
            &json!({}),
        )
        .expect(200);
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(done["acknowledge_by"], "2026-02-14");
    // Answering a complaint touches no data.
    export(&server, &support, &home.member).expect(200);
    assert_eq!(audit_entries(&server, &admin, "request.complete").len(), 1);
}

/// A doorbell with motion and snapshots before, during and after a visit, and a settings
/// change during it (a stream that records nobody but the household).
struct Visit {
    inst: Instance,
    admin: Key,
    support: Key,
    server: Server,
    household: String,
    doorbell: String,
    from: String,
    until: String,
}

fn visit() -> Visit {
    let inst = Instance::new();
    let (admin, support) = inst.operators();
    let server = inst.serve();
    let home = server.home(&admin);
    let (doorbell, token) = server.device(&admin, DOORBELL, Some(&home.household), None);
    let (before, during, after) = (ago(3 * 3_600), ago(2 * 3_600), ago(3_600));
    let motion = |ts: &str, zone: &str| json!({ "stream": "motion", "ts": ts, "data": { "kind": "motion", "zone": zone } });
    server.ingest_ok(
        &token,
        &json!([
            motion(&before, "drive"),
            motion(&during, "door"),
            { "stream": "doorstep", "ts": during, "data": { "snapshot": "VISITOR-PICTURE-BYTES" } },
            { "stream": "settings", "ts": during, "data": { "privacy_zones": [] } },
        ]),
    );
    server.ingest_ok(&token, &json!([motion(&after, "path")]));
    let from = ago(2 * 3_600 + 60);
    let until = ago(2 * 3_600 - 60);
    Visit {
        inst,
        admin,
        support,
        server,
        household: home.household,
        doorbell,
        from,
        until,
    }
}

fn visitor_request(v: &Visit, kind: &str) -> Resp {
    v.server.post(
        "/v1/requests",
        Some(&v.support.secret),
        &json!({ "type": kind, "visitor": { "device": v.doorbell, "from": v.from, "until": v.until } }),
    )
}

fn household_values(v: &Visit, stream: &str, field: &str) -> Vec<Value> {
    values_of(
        &export_json(&v.server, &v.support, &v.household),
        stream,
        field,
    )
}

#[test]
fn a_visitors_access_request_exports_only_what_the_device_recorded_of_them() {
    let v = visit();
    let r = visitor_request(&v, "access").expect(201);
    assert_eq!(r["subject"], v.household.as_str(), "{r}");
    assert_eq!(r["visitor"]["device"], v.doorbell.as_str());
    let ex = v
        .server
        .post(
            &format!("/v1/requests/{}/complete", r["id"].as_str().unwrap()),
            Some(&v.support.secret),
            &json!({}),
        )
        .expect(200);
    let records = ex["records"].as_array().unwrap();
    let streams: Vec<&str> = records
        .iter()
        .map(|r| r["stream"].as_str().unwrap())
        .collect();
    assert_eq!(streams.len(), 2, "{ex}");
    assert!(streams.contains(&"motion") && streams.contains(&"doorstep"));
    assert!(
        !streams.contains(&"settings"),
        "settings record nobody but the household"
    );
    let motion = records.iter().find(|r| r["stream"] == "motion").unwrap();
    assert_eq!(motion["data"]["zone"], "door");
    let described: Vec<&str> = ex["streams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(described, ["doorstep", "motion"]);
    assert_eq!(
        request_ids(&v.server, &v.support, "done"),
        vec![r["id"].as_str().unwrap().to_owned()]
    );
    let audited = audit_entries(&v.server, &v.admin, "visitor.export");
    assert_eq!(audited.len(), 1);
    assert!(
        !audited[0].to_string().contains("VISITOR-PICTURE"),
        "the audit log holds no values"
    );
}

#[test]
fn a_visitors_erasure_deletes_just_their_records_and_its_receipt_says_so() {
    let v = visit();
    let r = visitor_request(&v, "erasure").expect(201);
    let receipt = v
        .server
        .post(
            &format!("/v1/requests/{}/complete", r["id"].as_str().unwrap()),
            Some(&v.support.secret),
            &json!({}),
        )
        .expect(200);
    assert_eq!(receipt["method"], "records_deleted", "{receipt}");
    assert_eq!(
        receipt["records"], 2,
        "the motion and the snapshot: {receipt}"
    );
    assert_eq!(receipt["device"], v.doorbell.as_str());
    let claims =
        privet_crypto::verify_jws_with_jwks(&jwks(&v.server), receipt["receipt"].as_str().unwrap())
            .unwrap();
    assert_eq!(claims["typ"], "privet-visitor-erasure-receipt");
    assert_eq!(claims["method"], "records_deleted");
    assert_eq!(claims["key_destroyed"], false);
    assert_eq!(claims["records"], 2);
    assert!(claims["iat"].is_number(), "{claims}");
    assert_eq!(claims["sub"], r["id"]);

    // The household keeps everything else: before and after the visit, and its settings.
    let zones = household_values(&v, "motion", "zone");
    assert_eq!(
        zones,
        [json!("drive"), json!("path")],
        "the visit's motion is gone"
    );
    assert!(household_values(&v, "doorstep", "snapshot").is_empty());
    assert_eq!(household_values(&v, "settings", "privacy_zones").len(), 1);
    // Nothing of the visit is left readable in the data directory's files either.
    let left = files_under_containing(&v.inst.data, "VISITOR-PICTURE-BYTES");
    assert!(left.is_empty(), "{left:?}");
    assert_eq!(audit_entries(&v.server, &v.admin, "visitor.erase").len(), 1);
}

#[test]
fn a_visitors_request_is_refused_when_it_cannot_be_answered_from_a_device() {
    let v = visit();
    // Only access and erasure.
    visitor_request(&v, "objection").problem(422);
    let post = |body: Value| {
        v.server
            .post("/v1/requests", Some(&v.support.secret), &body)
    };
    // Backwards, or longer than a month.
    post(json!({ "type": "access", "visitor": { "device": v.doorbell, "from": v.until, "until": v.from } }))
        .problem(422);
    post(json!({ "type": "access", "visitor": { "device": v.doorbell, "from": "2026-01-01T00:00:00Z", "until": "2026-03-01T00:00:00Z" } }))
        .problem(422);
    // Both a subject and a visitor, or neither.
    post(json!({ "type": "access", "subject": v.household, "visitor": { "device": v.doorbell, "from": v.from, "until": v.until } }))
        .problem(422);
    post(json!({ "type": "access" })).problem(422);
    // An unknown device.
    post(json!({ "type": "access", "visitor": { "device": "dev_nope", "from": v.from, "until": v.until } }))
        .problem(404);
    // A thermostat records nobody but its household.
    let (thermostat, _) = v
        .server
        .device(&v.admin, THERMOSTAT, Some(&v.household), None);
    post(json!({ "type": "access", "visitor": { "device": thermostat, "from": v.from, "until": v.until } }))
        .problem(422);
}

#[test]
fn self_service_exports_and_erasures_appear_in_the_register_as_completed_requests() {
    let inst = Instance::new();
    let (_admin, support) = inst.operators();
    let server = inst.serve();
    let ada = owner(&server, "Register");
    get_as(
        &server,
        &ada.cookie,
        &format!("/v1/subjects/{}/export", ada.member),
    )
    .expect(200);
    // Staff exporting with an API key is not the person's own request.
    export(&server, &support, &ada.member).expect(200);
    let listed = server
        .get("/v1/requests", Some(&support.secret))
        .expect(200);
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["type"], "access");
    assert_eq!(listed[0]["source"], "self_service");
    assert_eq!(listed[0]["status"], "done");
    assert_eq!(listed[0]["subject"], ada.member.as_str());
    assert!(listed[0]["completed_at"].is_string());

    delete_as(
        &server,
        &ada.cookie,
        &format!("/v1/subjects/{}", ada.household),
        None,
    )
    .expect(200);
    let done = server
        .get("/v1/requests?status=done", Some(&support.secret))
        .expect(200);
    let kinds: Vec<(&str, &str)> = done
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["type"].as_str().unwrap(), r["source"].as_str().unwrap()))
        .collect();
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == ("erasure", "self_service"))
            .count(),
        1,
        "{kinds:?}"
    );
    assert!(request_ids(&server, &support, "open").is_empty());
}
