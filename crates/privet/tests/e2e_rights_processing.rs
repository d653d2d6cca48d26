//! End-to-end: restriction of processing (ingestion and reads stop, export still works),
//! objection to a legitimate-interests purpose, and rectification of the profile.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod e2e_rights_support;
mod support;

use e2e_rights_support::*;
use serde_json::json;
use support::*;

fn restrict(server: &Server, key: &Key, id: &str, restricted: bool) -> Resp {
    server.put(
        &format!("/v1/subjects/{id}/restriction"),
        Some(&key.secret),
        &json!({ "restricted": restricted }),
    )
}

#[test]
fn restriction_stops_ingestion_and_reads_for_the_subject_while_export_still_works() {
    let inst = Instance::new();
    let (admin, support) = inst.operators();
    let analyst = inst.key("analyst", &["energy_report", "request_history"]);
    let server = inst.serve();
    let home = server.home(&admin);
    let other = server.member(&admin, &home.household, &marker("Other"), false);
    let (_, speaker) = server.device(&admin, SPEAKER, Some(&home.household), None);
    for m in [&home.member, &other] {
        server.consent_ok(&support, m, "energy_report", true);
    }
    server.ingest_ok(
        &home.token,
        &json!([
            presence(&ago(60), &home.member, true),
            presence(&ago(60), &other, true)
        ]),
    );
    server.ingest_ok(&speaker, &json!([voice(&ago(60), &home.member, "before")]));

    let r = restrict(&server, &support, &home.member, true);
    assert_eq!(r.status, 204, "{r:?}");

    // Ingestion for the restricted member stops (dropped as `restricted`); others go on.
    let out = server.ingest_ok(
        &home.token,
        &json!([
            presence(&ago(30), &home.member, false),
            presence(&ago(30), &other, false)
        ]),
    );
    assert_eq!(out["accepted"], 1, "{out}");
    assert_eq!(out["dropped"]["restricted"], 1, "{out}");
    let out = server.ingest_ok(&speaker, &json!([voice(&ago(30), &home.member, "during")]));
    assert_eq!(out["accepted"], 0, "{out}");
    assert_eq!(out["dropped"]["restricted"], 1, "{out}");

    // Purpose reads no longer return the member.
    assert!(
        server
            .records(
                &analyst,
                &[("purpose", "energy_report"), ("subject", &home.member)]
            )
            .is_empty()
    );
    assert!(
        server
            .records(&analyst, &[("purpose", "request_history")])
            .is_empty()
    );
    assert_eq!(
        server
            .records(&analyst, &[("purpose", "energy_report")])
            .len(),
        2,
        "the other member's two events"
    );

    // The export still works, flags the restriction, and holds what was stored before.
    let ex = export_json(&server, &support, &home.member);
    assert_eq!(ex["about"]["subjects"][0]["restricted"], true);
    assert_eq!(values_of(&ex, "presence", "home"), vec![json!(true)]);
    assert_eq!(values_of(&ex, "voice", "transcript"), vec![json!("before")]);
    let hh = server
        .get(
            &format!("/v1/households/{}", home.household),
            Some(&admin.secret),
        )
        .expect(200);
    let me = hh["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == home.member.as_str())
        .unwrap();
    assert_eq!(me["restricted"], true);
    assert_eq!(audit_entries(&server, &admin, "subject.restrict").len(), 1);

    // Lifting the restriction restores processing (nothing dropped meanwhile comes back).
    assert_eq!(restrict(&server, &support, &home.member, false).status, 204);
    let out = server.ingest_ok(&speaker, &json!([voice(&ago(10), &home.member, "after")]));
    assert_eq!(out["accepted"], 1, "{out}");
    let texts: Vec<String> = server
        .records(&analyst, &[("purpose", "request_history")])
        .iter()
        .map(|r| r["data"]["transcript"].as_str().unwrap().to_owned())
        .collect();
    let mut texts = texts;
    texts.sort();
    assert_eq!(texts, vec!["after", "before"]);
}

#[test]
fn a_restriction_request_restricts_the_subject_when_completed() {
    let (_inst, _admin, support, server, home) = served_home();
    let r = new_request(&server, &support, "restriction", &home.household, &ago(60)).expect(201);
    let v = server
        .post(
            &format!("/v1/requests/{}/complete", r["id"].as_str().unwrap()),
            Some(&support.secret),
            &json!({}),
        )
        .expect(200);
    assert_eq!(v["status"], "done");
    let out = server.ingest_ok(&home.token, &json!([climate(&ago(5), 20.0, 1)]));
    assert_eq!(out["accepted"], 0, "{out}");
    assert_eq!(out["dropped"]["restricted"], 2, "{out}");
    let ex = export_json(&server, &support, &home.household);
    assert_eq!(ex["about"]["subjects"][0]["restricted"], true);
}

#[test]
fn an_objection_to_a_legitimate_interests_purpose_hides_the_subject_and_stops_collection() {
    let inst = Instance::new();
    let (admin, support) = inst.operators();
    let stats = inst.key("analyst", &["usage_statistics"]);
    let history = inst.key("analyst", &["request_history"]);
    let server = inst.serve();
    let household = server.household(&admin, &marker("Household"));
    let objector = server.member(&admin, &household, &marker("Objector"), false);
    let other = server.member(&admin, &household, &marker("Other"), false);
    let (_, speaker) = server.device(&admin, SPEAKER, Some(&household), None);
    server.ingest_ok(
        &speaker,
        &json!([
            usage(&ago(60), &objector, "music"),
            usage(&ago(60), &other, "timers"),
            voice(&ago(60), &objector, "play jazz"),
        ]),
    );
    assert_eq!(
        server
            .records(
                &stats,
                &[("purpose", "usage_statistics"), ("subject", &objector)]
            )
            .len(),
        1
    );

    // A contract purpose cannot be objected to.
    server
        .post(
            &format!("/v1/subjects/{objector}/objections"),
            Some(&support.secret),
            &json!({ "purposes": ["request_history"] }),
        )
        .problem(422);
    let r = server
        .post(
            &format!("/v1/subjects/{objector}/objections"),
            Some(&support.secret),
            &json!({ "purposes": ["usage_statistics"] }),
        )
        .expect(200);
    assert_eq!(
        r["objected"],
        json!([format!("{SPEAKER}/usage_statistics")])
    );

    // Reads for the purpose no longer include the objector; the other member's still do.
    assert!(
        server
            .records(
                &stats,
                &[("purpose", "usage_statistics"), ("subject", &objector)]
            )
            .is_empty()
    );
    let all = server.records(&stats, &[("purpose", "usage_statistics")]);
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0]["data"]["feature"], "timers");
    // Collection for the purpose stops for the objector only.
    let out = server.ingest_ok(
        &speaker,
        &json!([
            usage(&ago(10), &objector, "news"),
            usage(&ago(10), &other, "news")
        ]),
    );
    assert_eq!(out["accepted"], 1, "{out}");
    assert_eq!(
        server
            .records(&stats, &[("purpose", "usage_statistics")])
            .len(),
        2
    );
    // Data only that purpose justified is gone from the export; the contract data stays.
    let ex = export_json(&server, &support, &objector);
    assert!(records_of(&ex, "usage").is_empty(), "{ex}");
    assert_eq!(
        values_of(&ex, "voice", "transcript"),
        vec![json!("play jazz")]
    );
    assert!(
        ex["about"]["objections"]
            .as_array()
            .is_some_and(|o| o.iter().any(|x| x["purpose"] == "usage_statistics")),
        "{}",
        ex["about"]["objections"]
    );
    assert_eq!(
        server
            .records(
                &history,
                &[("purpose", "request_history"), ("subject", &objector)]
            )
            .len(),
        1
    );
    assert_eq!(audit_entries(&server, &admin, "subject.object").len(), 1);
}

#[test]
fn an_objection_request_without_purposes_objects_to_every_legitimate_interests_purpose() {
    let inst = Instance::new();
    let (admin, support) = inst.operators();
    let clips = inst.key("analyst", &["clip_history"]);
    let server = inst.serve();
    let home = server.home(&admin);
    let (_, doorbell) = server.device(&admin, DOORBELL, Some(&home.household), None);
    server.ingest_ok(
        &doorbell,
        &json!([{ "stream": "motion", "ts": ago(60), "data": { "kind": "ring", "zone": "door" } }]),
    );
    assert_eq!(
        server.records(&clips, &[("purpose", "clip_history")]).len(),
        1
    );
    let r = new_request(&server, &support, "objection", &home.household, &ago(60)).expect(201);
    server
        .post(
            &format!("/v1/requests/{}/complete", r["id"].as_str().unwrap()),
            Some(&support.secret),
            &json!({}),
        )
        .expect(200);
    assert!(
        server
            .records(&clips, &[("purpose", "clip_history")])
            .is_empty()
    );
    // `motion.kind` also serves door alerts (contract): it stays in the export.
    let ex = export_json(&server, &support, &home.household);
    assert_eq!(values_of(&ex, "motion", "kind"), vec![json!("ring")]);
}

#[test]
fn rectification_changes_the_profile_and_audits_which_fields_not_their_values() {
    let inst = Instance::new();
    let (admin, support) = inst.operators();
    let server = inst.serve();
    let household = server.household(&admin, &marker("Household"));
    let old_mail = email();
    let member = member_with_email(
        &server,
        &admin,
        &household,
        &marker("Misspelt"),
        &old_mail,
        false,
    );
    let new_name = marker("Corrected");

    let r = patch(
        &server,
        &format!("/v1/subjects/{member}"),
        &support,
        &json!({ "name": new_name }),
    );
    assert_eq!(r.status, 204, "{r:?}");
    let ex = export_json(&server, &support, &member);
    assert_eq!(ex["about"]["subjects"][0]["name"], new_name.as_str());
    assert_eq!(ex["about"]["subjects"][0]["email"], old_mail.as_str());

    let new_mail = email();
    assert_eq!(
        patch(
            &server,
            &format!("/v1/subjects/{member}"),
            &support,
            &json!({ "email": new_mail }),
        )
        .status,
        204
    );
    let ex = export_json(&server, &support, &member);
    assert_eq!(ex["about"]["subjects"][0]["email"], new_mail.as_str());

    let entries = audit_entries(&server, &admin, "subject.rectify");
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["detail"]["fields"], json!(["name"]));
    assert_eq!(entries[1]["detail"]["fields"], json!(["email"]));
    let audit_text = serde_json::to_string(&server.audit(&admin)).unwrap();
    for value in [&new_name, &new_mail, &old_mail] {
        assert!(
            !audit_text.contains(value.as_str()),
            "audit holds `{value}`"
        );
    }
    // Bad corrections are refused.
    let path = format!("/v1/subjects/{member}");
    patch(&server, &path, &support, &json!({})).problem(422);
    patch(
        &server,
        &path,
        &support,
        &json!({ "email": "not an address" }),
    )
    .problem(422);
    patch(&server, &path, &support, &json!({ "name": "  " })).problem(422);
    patch(
        &server,
        "/v1/subjects/mb_nobody",
        &support,
        &json!({ "name": "X" }),
    )
    .problem(404);
    let analyst = inst.key("analyst", &["heating_control"]);
    patch(&server, &path, &analyst, &json!({ "name": "X" })).problem(403);
}
