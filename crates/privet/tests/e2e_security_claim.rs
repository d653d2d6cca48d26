//! End-to-end: claiming a device with its unique, single-use claim code. Only the household's
//! owner claims; a used code and a wrong code fail alike; the claimed device's data then
//! belongs to the household.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod e2e_security_support;
mod support;

use e2e_security_support::*;
use serde_json::{Value, json};
use support::*;

fn claim(server: &Server, cookie: &str, household: &str, body: &Value) -> Resp {
    post_as(
        server,
        cookie,
        &format!("/v1/households/{household}/devices/claim"),
        body,
    )
}

#[test]
fn the_owner_claims_a_device_once_and_its_data_then_belongs_to_the_household() {
    let inst = Instance::new();
    let admin = inst.key("admin", &[]);
    let server = inst.serve();
    let ada = owner(&server, "Claim");
    let adult = invited(&server, &ada, "ClaimAdult", false);
    let bob = owner(&server, "OtherClaim");

    // A device made at the factory: no household, its own token and claim code.
    let made = server.unclaimed_device(&admin, THERMOSTAT);
    let (device, token) = (
        made["id"].as_str().unwrap().to_owned(),
        made["token"].as_str().unwrap().to_owned(),
    );
    let code = made["claim_code"].as_str().unwrap().to_owned();
    let other = server.unclaimed_device(&admin, THERMOSTAT);
    let other_code = other["claim_code"].as_str().unwrap().to_owned();
    assert_ne!(code, other_code, "claim codes are unique per device");
    assert!(code.len() >= 16, "{code}");
    // Only the hash is stored.
    inst.assert_not_on_disk(&code, "claim code");

    // A member who is not the owner may not claim.
    let p = claim(
        &server,
        &adult.cookie,
        &ada.household,
        &json!({"claim_code": code}),
    )
    .problem(403);
    assert!(p["detail"].as_str().unwrap().contains("owner"), "{p}");
    // Nor may another household's owner claim into this household.
    claim(
        &server,
        &bob.cookie,
        &ada.household,
        &json!({"claim_code": code}),
    )
    .problem(404);
    // Nor without signing in.
    server
        .post(
            &format!("/v1/households/{}/devices/claim", ada.household),
            None,
            &json!({"claim_code": code}),
        )
        .problem(401);

    let wrong = claim(
        &server,
        &ada.cookie,
        &ada.household,
        &json!({"claim_code": "pvc_not-a-real-claim-code"}),
    )
    .problem(404);

    let v = claim(
        &server,
        &ada.cookie,
        &ada.household,
        &json!({"claim_code": code}),
    )
    .expect(200);
    assert_eq!(v["id"], device.as_str(), "{v}");
    assert_eq!(v["product"], THERMOSTAT);

    // Claiming again (here, or from another household) answers exactly like a wrong code.
    let again = claim(
        &server,
        &ada.cookie,
        &ada.household,
        &json!({"claim_code": code}),
    )
    .problem(404);
    assert_eq!(
        again, wrong,
        "a used code is indistinguishable from a wrong one"
    );
    let stolen = claim(
        &server,
        &bob.cookie,
        &bob.household,
        &json!({"claim_code": code}),
    )
    .problem(404);
    assert_eq!(stolen, wrong);
    // A personal device may name a member, but only of the claiming household.
    claim(
        &server,
        &ada.cookie,
        &ada.household,
        &json!({"claim_code": other_code, "member": bob.member}),
    )
    .problem(404);

    // The claimed device's data now belongs to the household.
    let out = server.ingest_ok(&token, &json!([climate(&ago(120), 20.5, 12)]));
    assert_eq!(out["accepted"], 1, "{out}");
    let export = get_as(
        &server,
        &ada.cookie,
        &format!("/v1/subjects/{}/export", ada.household),
    )
    .expect(200);
    let records = export["records"].as_array().expect("records");
    assert!(
        records
            .iter()
            .any(|r| r["stream"] == "climate" && r["data"]["temperature_c"] == 20.5),
        "the household's export holds the claimed device's reading: {export}"
    );
    let devices = get_as(
        &server,
        &ada.cookie,
        &format!("/v1/households/{}/devices", ada.household),
    )
    .expect(200);
    let devices = devices.as_array().unwrap();
    assert_eq!(devices.len(), 1, "{devices:?}");
    assert_eq!(devices[0]["id"], device.as_str());
    // The other household sees nothing of it.
    let bobs = get_as(
        &server,
        &bob.cookie,
        &format!("/v1/households/{}/devices", bob.household),
    )
    .expect(200);
    assert_eq!(bobs, json!([]));
    get_as(
        &server,
        &bob.cookie,
        &format!("/v1/households/{}/devices", ada.household),
    )
    .problem(404);
    let events = security_events(&server, &ada.cookie);
    assert!(
        events.iter().any(|e| e == "household.claim_device"),
        "{events:?}"
    );
}

#[test]
fn guessing_claim_codes_is_slowed_down() {
    let inst = Instance::new();
    let server = inst.serve();
    let ada = owner(&server, "ClaimGuess");
    let mut statuses = Vec::new();
    for i in 0..8 {
        let r = claim(
            &server,
            &ada.cookie,
            &ada.household,
            &json!({"claim_code": format!("pvc_guess{i}")}),
        );
        statuses.push(r.status);
    }
    assert!(statuses.iter().take(5).all(|s| *s == 404), "{statuses:?}");
    assert!(statuses.contains(&429), "{statuses:?}");
}
