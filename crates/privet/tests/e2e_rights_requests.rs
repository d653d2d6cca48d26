//! End-to-end: rights requests received by e-mail or phone — deadlines one calendar month from
//! receipt (month ends, leap years), one extension, overdue and done lists, and completion
//! running the same code as self-service (export, erasure with receipt, restriction).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod e2e_rights_support;
mod support;

use e2e_rights_support::*;
use serde_json::{Value, json};
use support::*;

#[test]
fn due_dates_run_one_calendar_month_from_receipt_across_month_ends_and_leap_years() {
    let (inst, _admin, support, server, home) = served_home();
    for (received, due) in [
        ("2026-01-31T09:00:00Z", "2026-02-28"),
        // A leap year: February has a 29th. (2028 would be in the future, which is refused.)
        ("2024-01-31T09:00:00Z", "2024-02-29"),
        // 23:30 UTC is already 1 April in the UK (BST), the day the deadline counts from.
        ("2026-03-31T23:30:00Z", "2026-05-01"),
        ("2026-03-31T22:30:00Z", "2026-04-30"),
        ("2026-01-15T12:00:00Z", "2026-02-15"),
        ("2025-12-31T08:00:00Z", "2026-01-31"),
        ("2024-02-29T10:00:00Z", "2024-03-29"),
    ] {
        let r = new_request(&server, &support, "access", &home.member, received).expect(201);
        assert_eq!(r["due"], due, "received {received}: {r}");
        assert!(r["extended_due"].is_null());
        assert_eq!(r["type"], "access");
        assert_eq!(r["subject"], home.member.as_str());
        let at: jiff::Timestamp = r["received_at"].as_str().unwrap().parse().unwrap();
        assert_eq!(at, received.parse::<jiff::Timestamp>().unwrap());
    }
    // A receipt date in the future is refused.
    let r = new_request(
        &server,
        &support,
        "access",
        &home.member,
        "2028-01-31T09:00:00Z",
    );
    r.problem(422);
    // An unknown subject or type is refused.
    new_request(
        &server,
        &support,
        "access",
        "mb_nobody",
        "2026-01-31T09:00:00Z",
    )
    .problem(404);
    let r = new_request(
        &server,
        &support,
        "gossip",
        &home.member,
        "2026-01-31T09:00:00Z",
    );
    assert!(r.status == 400 || r.status == 422, "{r:?}");
    // Analysts may not log requests.
    let analyst = inst.key("analyst", &["heating_control"]);
    new_request(
        &server,
        &analyst,
        "access",
        &home.member,
        "2026-01-31T09:00:00Z",
    )
    .problem(403);
}

#[test]
fn a_request_is_extended_once_by_two_months_with_a_reason() {
    let (_inst, _admin, support, server, home) = served_home();
    let r = new_request(
        &server,
        &support,
        "erasure",
        &home.member,
        "2026-01-31T09:00:00Z",
    )
    .expect(201);
    let id = r["id"].as_str().unwrap();
    let extend = |reason: &str| {
        server.post(
            &format!("/v1/requests/{id}/extend"),
            Some(&support.secret),
            &json!({ "reason": reason }),
        )
    };
    extend("   ").problem(422);
    let e = extend("complex: several devices and a household dispute").expect(200);
    assert_eq!(e["due"], "2026-02-28", "the original deadline is kept: {e}");
    assert_eq!(e["extended_due"], "2026-04-30", "{e}");
    assert_eq!(
        e["extension_reason"],
        "complex: several devices and a household dispute"
    );
    extend("once more").problem(409);
    let listed: Vec<Value> = server
        .get("/v1/requests", Some(&support.secret))
        .expect(200)
        .as_array()
        .unwrap()
        .clone();
    let this = listed.iter().find(|x| x["id"] == id).unwrap();
    assert_eq!(this["extended_due"], "2026-04-30");
    server
        .post(
            "/v1/requests/rq_nope/extend",
            Some(&support.secret),
            &json!({ "reason": "x" }),
        )
        .problem(404);
}

#[test]
fn overdue_open_and_done_lists_follow_the_deadline_and_completion() {
    let inst = Instance::new();
    let (admin, support) = inst.operators();
    let dpo = inst.key("dpo", &[]);
    let server = inst.serve();
    let home = server.home(&admin);
    let two_months_ago = ago(61 * 86_400);
    let late = new_request(&server, &support, "access", &home.member, &two_months_ago).expect(201);
    assert_eq!(late["status"], "overdue", "{late}");
    let fresh = new_request(&server, &support, "access", &home.household, &ago(3_600)).expect(201);
    assert_eq!(fresh["status"], "open");
    let late_id = late["id"].as_str().unwrap().to_owned();
    let fresh_id = fresh["id"].as_str().unwrap().to_owned();

    assert_eq!(
        request_ids(&server, &support, "overdue"),
        vec![late_id.clone()]
    );
    let open = request_ids(&server, &support, "open");
    assert!(open.contains(&fresh_id), "{open:?}");
    assert!(request_ids(&server, &support, "done").is_empty());
    // The DPO sees the deadlines too.
    assert_eq!(request_ids(&server, &dpo, "overdue"), vec![late_id.clone()]);
    server
        .get("/v1/requests?status=someday", Some(&support.secret))
        .problem(400);

    // Completing the overdue access request answers with the export and marks it done.
    let r = server.post(
        &format!("/v1/requests/{late_id}/complete"),
        Some(&support.secret),
        &json!({}),
    );
    let ex = r.expect(200);
    assert_eq!(ex["about"]["subjects"][0]["id"], home.member.as_str());
    assert!(ex["records"].is_array());
    assert_eq!(
        request_ids(&server, &support, "done"),
        vec![late_id.clone()]
    );
    assert!(request_ids(&server, &support, "overdue").is_empty());
    let all = server
        .get("/v1/requests", Some(&support.secret))
        .expect(200);
    let done = all
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == late_id.as_str())
        .unwrap()
        .clone();
    assert_eq!(done["status"], "done");
    assert!(done["completed_at"].is_string(), "{done}");
    // A done request cannot be completed or extended again.
    server
        .post(
            &format!("/v1/requests/{late_id}/complete"),
            Some(&support.secret),
            &json!({}),
        )
        .problem(409);
    server
        .post(
            &format!("/v1/requests/{late_id}/extend"),
            Some(&support.secret),
            &json!({ "reason": "late anyway" }),
        )
        .problem(409);
}

#[test]
fn completing_access_and_erasure_requests_runs_the_self_service_code() {
    let (_inst, admin, support, server, home) = consenting_home();
    server.ingest_ok(
        &home.token,
        &json!([
            presence(&ago(30), &home.member, true),
            climate(&ago(30), 20.0, 1)
        ]),
    );

    // Access: the same export as self-service.
    let access = new_request(&server, &support, "access", &home.member, &ago(86_400)).expect(201);
    let ex = server
        .post(
            &format!("/v1/requests/{}/complete", access["id"].as_str().unwrap()),
            Some(&support.secret),
            &json!({}),
        )
        .expect(200);
    let direct = export_json(&server, &support, &home.member);
    assert_eq!(ex["records"], direct["records"]);
    assert_eq!(ex["about"]["subjects"], direct["about"]["subjects"]);
    assert_eq!(values_of(&ex, "presence", "home"), vec![json!(true)]);

    // Portability: the zip by default.
    let port = new_request(&server, &support, "portability", &home.household, &ago(60)).expect(201);
    let resp = server
        .req(
            reqwest::Method::POST,
            &format!("/v1/requests/{}/complete", port["id"].as_str().unwrap()),
            Some(&support.secret),
        )
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let files = unzip(&resp.bytes().unwrap());
    assert!(files.contains_key("about.json"), "{:?}", files.keys());
    assert!(
        files.contains_key(&format!("{}/{THERMOSTAT}/climate.csv", home.household)),
        "{:?}",
        files.keys()
    );

    // Erasure: a signed receipt, and the member is gone.
    let erasure = new_request(&server, &support, "erasure", &home.member, &ago(60)).expect(201);
    let receipt = server
        .post(
            &format!("/v1/requests/{}/complete", erasure["id"].as_str().unwrap()),
            Some(&support.secret),
            &json!({}),
        )
        .expect(200);
    assert_eq!(receipt["subject"], home.member.as_str());
    assert_eq!(receipt["counts"]["records"], 1);
    let claims =
        privet_crypto::verify_jws_with_jwks(&jwks(&server), receipt["receipt"].as_str().unwrap())
            .unwrap();
    assert_eq!(claims["sub"], home.member.as_str());
    export(&server, &support, &home.member).problem(404);
    let done = request_ids(&server, &support, "done");
    assert_eq!(done.len(), 3, "{done:?}");
    // Each completion is audited.
    assert_eq!(audit_entries(&server, &admin, "request.complete").len(), 3);
}

#[test]
fn a_rectification_request_corrects_the_profile() {
    let (_inst, _admin, support, server, home) = served_home();
    let r = new_request(&server, &support, "rectification", &home.member, &ago(60)).expect(201);
    let id = r["id"].as_str().unwrap();
    let new_name = marker("Corrected");
    let v = server
        .post(
            &format!("/v1/requests/{id}/complete"),
            Some(&support.secret),
            &json!({ "name": new_name, "email": "right@example.org" }),
        )
        .expect(200);
    assert_eq!(v["status"], "done", "{v}");
    let ex = export_json(&server, &support, &home.member);
    assert_eq!(ex["about"]["subjects"][0]["name"], new_name.as_str());
    assert_eq!(ex["about"]["subjects"][0]["email"], "right@example.org");
}

#[test]
fn an_erasure_request_whose_subject_is_already_erased_can_still_be_completed() {
    let (_inst, admin, support, server, home) = served_home();
    let r = new_request(&server, &support, "erasure", &home.member, &ago(60)).expect(201);
    let id = r["id"].as_str().unwrap();
    // Erased another way first (or by an attempt that died before recording completion).
    erase(&server, &support, &home.member).expect(200);
    let done = server
        .post(
            &format!("/v1/requests/{id}/complete"),
            Some(&support.secret),
            &json!({}),
        )
        .expect(200);
    assert!(done.get("receipt").is_none(), "no second receipt: {done}");
    assert_eq!(request_ids(&server, &support, "done"), vec![id.to_owned()]);
    assert!(request_ids(&server, &support, "open").is_empty());
    // Completed once: a second attempt is told so.
    server
        .post(
            &format!("/v1/requests/{id}/complete"),
            Some(&support.secret),
            &json!({}),
        )
        .problem(409);
    assert_eq!(audit_entries(&server, &admin, "request.complete").len(), 1);
}
