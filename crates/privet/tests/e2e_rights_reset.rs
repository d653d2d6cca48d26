//! End-to-end: resetting a second-hand device revokes its token, unlinks it from the
//! household, erases what it sent, and gives the next owner new credentials.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod e2e_rights_support;
mod support;

use e2e_rights_support::*;
use serde_json::{Value, json};
use support::*;

#[test]
fn a_reset_device_loses_its_token_household_and_data_and_gets_new_credentials() {
    let inst = Instance::new();
    let admin = inst.key("admin", &[]);
    let support = inst.key("support", &[]);
    let server = inst.serve();
    let household = server.household(&admin, &marker("Household"));
    let member = server.member(&admin, &household, &marker("Member"), false);
    let created = server
        .post(
            "/v1/devices",
            Some(&admin.secret),
            &json!({ "product": THERMOSTAT, "household": household }),
        )
        .expect(201);
    let device = created["id"].as_str().unwrap().to_owned();
    let old_token = created["token"].as_str().unwrap().to_owned();
    let old_claim = created["claim_code"].as_str().unwrap().to_owned();
    // A second device in the same home, whose data must stay.
    let (_, speaker) = server.device(&admin, SPEAKER, Some(&household), None);
    server
        .consent(&support, &member, "energy_report", true)
        .expect(200);
    server.ingest_ok(
        &old_token,
        &json!([
            climate(&ago(90), 20.0, 3),
            climate(&ago(60), 21.0, 4),
            presence(&ago(60), &member, true),
            { "stream": "device_health", "ts": ago(60), "data": { "firmware_version": "2.4.0" } },
        ]),
    );
    server.ingest_ok(&speaker, &json!([voice(&ago(50), &member, "keep me")]));
    assert_eq!(
        records_of(&export_json(&server, &support, &household), "climate").len(),
        2
    );
    assert_eq!(
        records_of(&export_json(&server, &support, &member), "presence").len(),
        1
    );

    let r = server
        .post(
            &format!("/v1/devices/{device}/reset"),
            Some(&admin.secret),
            &json!({}),
        )
        .expect(200);
    assert_eq!(r["id"], device.as_str());
    let new_token = r["token"].as_str().unwrap().to_owned();
    let new_claim = r["claim_code"].as_str().unwrap().to_owned();
    assert_ne!(new_token, old_token);
    assert_ne!(new_claim, old_claim, "the claim code is new");
    assert!(!new_claim.is_empty());
    // Climate and presence blocks at least (device health is not personal data).
    assert!(r["blocks_erased"].as_u64().unwrap() >= 2, "{r}");
    // A signed receipt naming the device, verifiable with the published key, like erasure's.
    assert_eq!(r["jwks_uri"], "/.well-known/jwks.json");
    let jwks: Value =
        serde_json::from_str(&server.get("/.well-known/jwks.json", None).body).unwrap();
    let claims =
        privet_crypto::verify_jws_with_jwks(&jwks, r["receipt"].as_str().unwrap()).unwrap();
    assert_eq!(claims["typ"], "privet-reset-receipt", "{claims}");
    assert_eq!(claims["device"], device.as_str(), "{claims}");
    assert_eq!(claims["sub"], device.as_str(), "{claims}");
    assert!(claims["iat"].is_i64(), "iat is a number: {claims}");
    assert_eq!(claims["records_deleted"], r["blocks_erased"], "{claims}");
    let tampered = format!("{}x", r["receipt"].as_str().unwrap());
    assert!(privet_crypto::verify_jws_with_jwks(&jwks, &tampered).is_err());

    // The old token no longer works.
    server
        .ingest(&old_token, &json!([climate(&ago(5), 20.0, 1)]))
        .problem(401);
    // The device has no household any more.
    let d = server
        .get(&format!("/v1/devices/{device}"), Some(&admin.secret))
        .expect(200);
    assert!(d["household"].is_null(), "{d}");
    assert!(d["member"].is_null(), "{d}");
    let hh = server
        .get(&format!("/v1/households/{household}"), Some(&admin.secret))
        .expect(200);
    assert_eq!(hh["devices"].as_array().unwrap().len(), 1, "{hh}");
    assert!(
        !hh["devices"]
            .as_array()
            .unwrap()
            .contains(&Value::from(device.clone()))
    );
    // The data it sent is gone from the exports; the other device's stays.
    let h = export_json(&server, &support, &household);
    assert!(records_of(&h, "climate").is_empty(), "{h}");
    let m = export_json(&server, &support, &member);
    assert!(records_of(&m, "presence").is_empty(), "{m}");
    assert_eq!(values_of(&m, "voice", "transcript"), vec![json!("keep me")]);

    // The new token works, but with no household, personal streams are rejected.
    let out = server.ingest_ok(
        &new_token,
        &json!([{ "stream": "device_health", "ts": ago(5), "data": { "firmware_version": "2.4.1" } }]),
    );
    assert_eq!(out["accepted"], 1, "{out}");
    server
        .ingest(&new_token, &json!([climate(&ago(5), 20.0, 1)]))
        .problem(422);
    server
        .ingest(&new_token, &json!([presence(&ago(5), &member, true)]))
        .problem(422);

    // Audited, without the credentials.
    let resets = audit_entries(&server, &admin, "device.reset");
    assert_eq!(resets.len(), 1);
    let text = serde_json::to_string(&resets).unwrap();
    assert!(!text.contains(&new_token) && !text.contains(&new_claim));
    // Resetting an unknown device is a 404; a support key may not reset devices.
    server
        .post(
            "/v1/devices/dev_nope/reset",
            Some(&admin.secret),
            &json!({}),
        )
        .problem(404);
    server
        .post(
            &format!("/v1/devices/{device}/reset"),
            Some(&support.secret),
            &json!({}),
        )
        .problem(403);
}
