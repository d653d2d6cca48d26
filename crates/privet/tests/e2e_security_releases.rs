//! End-to-end: signed security updates. The maker's release key is made and used only by the
//! CLI (`privet release keygen`, `privet release sign`); the server accepts a release only if
//! it verifies against the manifest's `update_public_key`, never rolls a device back, and
//! reports fleet and household update status.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod e2e_security_support;
mod support;

use e2e_security_support::*;
use serde_json::json;
use support::*;

fn checkin(server: &Server, device: &(String, String), fw: &str) -> Resp {
    server.post(
        &format!("/v1/devices/{}/checkin", device.0),
        Some(&device.1),
        &json!({"firmware": fw}),
    )
}

fn update(server: &Server, device: &(String, String)) -> Resp {
    server.get(&format!("/v1/devices/{}/update", device.0), Some(&device.1))
}

#[test]
fn only_releases_signed_with_the_manifest_key_are_accepted_and_devices_never_roll_back() {
    let inst = Instance::new();
    let (maker_key, line) = keygen(&inst, "maker-2026.1");
    let (attacker_key, _) = keygen(&inst, "attacker");
    use_release_key(&inst, &line);
    let admin = inst.key("admin", &[]);
    let analyst = inst.key("analyst", &[CONSENT_PURPOSE]);
    let server = inst.serve();
    let ada = owner(&server, "Updates");

    // Three thermostats in Ada's home: on 1.0.0, on 1.2.0, and one that never reported.
    let old = server.device(&admin, THERMOSTAT, Some(&ada.household), None);
    let new = server.device(&admin, THERMOSTAT, Some(&ada.household), None);
    let silent = server.device(&admin, THERMOSTAT, Some(&ada.household), None);
    assert_eq!(checkin(&server, &old, "1.0.0").status, 204);
    assert_eq!(checkin(&server, &new, "1.2.0").status, 204);
    // Nothing released yet: nothing to update to.
    assert_eq!(update(&server, &old).status, 204);

    let fw12 = firmware(&inst, "1.2.0");
    let r12 = sign(&inst, &maker_key, "1.2.0", &fw12, &[]);
    assert_eq!(r12["metadata"]["product"], THERMOSTAT);
    assert_eq!(r12["metadata"]["version"], "1.2.0");
    assert_eq!(
        r12["metadata"]["length"],
        std::fs::metadata(&fw12).unwrap().len()
    );
    assert_eq!(r12["metadata"]["sha256"].as_str().unwrap().len(), 64);

    // Signed with another key: refused, whether the metadata names that key or the maker's.
    let forged = sign(&inst, &attacker_key, "9.9.9", &fw12, &[]);
    server
        .post("/v1/releases", Some(&admin.secret), &forged)
        .problem(422);
    let mut forged_as_maker = forged.clone();
    forged_as_maker["key"] = r12["key"].clone();
    server
        .post("/v1/releases", Some(&admin.secret), &forged_as_maker)
        .problem(422);
    // Any field altered after signing: refused.
    for (field, value) in [
        ("version", json!("1.3.0")),
        ("sha256", json!("0".repeat(64))),
        ("length", json!(1)),
        ("min_version", json!("0.1.0")),
        ("expires", json!("2099-01-01T00:00:00Z")),
    ] {
        let mut tampered = r12.clone();
        tampered["metadata"][field] = value;
        let p = server
            .post("/v1/releases", Some(&admin.secret), &tampered)
            .problem(422);
        assert!(
            p["detail"].as_str().unwrap().contains("update_public_key"),
            "{field}: {p}"
        );
    }
    let mut bad_sig = r12.clone();
    bad_sig["signature"] = json!("AAAA");
    server
        .post("/v1/releases", Some(&admin.secret), &bad_sig)
        .problem(422);
    // Expired metadata: refused.
    let expired = sign(&inst, &maker_key, "1.2.1", &fw12, &["--expires-days", "0"]);
    server
        .post("/v1/releases", Some(&admin.secret), &expired)
        .problem(422);
    // Only the admin may publish.
    server
        .post("/v1/releases", Some(&analyst.secret), &r12)
        .problem(403);
    server.post("/v1/releases", None, &r12).problem(401);
    assert_eq!(
        update(&server, &old).status,
        204,
        "nothing was accepted yet"
    );

    let accepted = server
        .post("/v1/releases", Some(&admin.secret), &r12)
        .expect(201);
    assert_eq!(accepted, r12);
    // The same version again, even re-signed: 409.
    server
        .post("/v1/releases", Some(&admin.secret), &r12)
        .problem(409);
    let resigned = sign(&inst, &maker_key, "1.2.0", &firmware(&inst, "1.2.0b"), &[]);
    server
        .post("/v1/releases", Some(&admin.secret), &resigned)
        .problem(409);

    // The device on 1.0.0 is offered 1.2.0, with the maker's signature intact.
    let offered = update(&server, &old).expect(200);
    assert_eq!(offered, r12);
    // An older release published later is never offered (no rollback).
    let r11 = sign(&inst, &maker_key, "1.1.0", &firmware(&inst, "1.1.0"), &[]);
    server
        .post("/v1/releases", Some(&admin.secret), &r11)
        .expect(201);
    assert_eq!(
        update(&server, &old).expect(200)["metadata"]["version"],
        "1.2.0"
    );
    let r = update(&server, &new);
    assert_eq!(r.status, 204, "up to date: {}", r.body);
    // A device on a newer build than any release is not offered a downgrade.
    assert_eq!(checkin(&server, &silent, "2.0.0").status, 204);
    assert_eq!(update(&server, &silent).status, 204);
    assert_eq!(checkin(&server, &silent, "1.1.0").status, 204);
    assert_eq!(
        update(&server, &silent).expect(200)["metadata"]["version"],
        "1.2.0"
    );

    // A device speaks only for itself.
    server
        .get(&format!("/v1/devices/{}/update", new.0), Some(&old.1))
        .problem(403);
    server
        .post(
            &format!("/v1/devices/{}/checkin", new.0),
            Some(&old.1),
            &json!({"firmware": "0.0.1"}),
        )
        .problem(403);
    assert_eq!(
        update(&server, &new).status,
        204,
        "its firmware was not changed"
    );

    // The server holds the public key only: the secret key is nowhere in its data.
    let secret = std::fs::read_to_string(&maker_key).unwrap();
    inst.assert_not_on_disk(secret.trim(), "release secret key");
}

#[test]
fn fleet_and_household_update_status_count_up_to_date_outdated_and_unknown() {
    let inst = Instance::new();
    let (maker_key, line) = keygen(&inst, "maker");
    use_release_key(&inst, &line);
    let admin = inst.key("admin", &[]);
    let server = inst.serve();
    let ada = owner(&server, "Fleet");
    let adult = invited(&server, &ada, "FleetAdult", false);
    let bob = owner(&server, "FleetOther");

    let a1 = server.device(&admin, THERMOSTAT, Some(&ada.household), None);
    let a2 = server.device(&admin, THERMOSTAT, Some(&ada.household), None);
    let a3 = server.device(&admin, THERMOSTAT, Some(&ada.household), None);
    let b1 = server.device(&admin, THERMOSTAT, Some(&bob.household), None);
    checkin(&server, &a1, "1.0.0");
    checkin(&server, &a2, "1.2.0");
    checkin(&server, &b1, "1.1.0");
    for v in ["1.2.0", "1.1.0"] {
        let r = sign(&inst, &maker_key, v, &firmware(&inst, v), &[]);
        server
            .post("/v1/releases", Some(&admin.secret), &r)
            .expect(201);
    }

    let fleet = server.get("/v1/fleet", Some(&admin.secret)).expect(200);
    let thermo = fleet
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["product"] == THERMOSTAT)
        .unwrap_or_else(|| panic!("no thermostat in {fleet}"));
    assert_eq!(thermo["newest"], "1.2.0", "{thermo}");
    assert_eq!(thermo["devices"], 4, "{thermo}");
    assert_eq!(thermo["up_to_date"], 1, "{thermo}");
    assert_eq!(thermo["outdated"], 2, "{thermo}");
    assert_eq!(thermo["unknown"], 1, "{thermo}");
    assert_eq!(thermo["security_updates_until"], "2032-12-31");
    assert_eq!(thermo["past_support"], false);
    // Fleet status is for the operator's admin only.
    let support_key = inst.key("support", &[]);
    server
        .get("/v1/fleet", Some(&support_key.secret))
        .problem(403);
    get_as(&server, &ada.cookie, "/v1/fleet").problem(401);

    // The household sees its own devices' status and the end of security updates.
    let path = format!("/v1/households/{}/devices", ada.household);
    for cookie in [&ada.cookie, &adult.cookie] {
        let list = get_as(&server, cookie, &path).expect(200);
        let list = list.as_array().unwrap();
        assert_eq!(list.len(), 3, "{list:?}");
        let status_of = |d: &(String, String)| {
            let row = list.iter().find(|r| r["id"] == d.0.as_str()).unwrap();
            assert_eq!(row["security_updates_until"], "2032-12-31", "{row}");
            assert_eq!(row["past_support"], false, "{row}");
            assert_eq!(row["newest"], "1.2.0", "{row}");
            assert!(row["product_name"].as_str().is_some_and(|n| !n.is_empty()));
            row["status"].as_str().unwrap().to_owned()
        };
        assert_eq!(status_of(&a1), "outdated");
        assert_eq!(status_of(&a2), "up_to_date");
        assert_eq!(status_of(&a3), "unknown");
        assert!(list.iter().all(|r| r["id"] != b1.0.as_str()));
    }
    // Another household's devices are not found.
    get_as(&server, &bob.cookie, &path).problem(404);
    server.get(&path, None).problem(401);
}
