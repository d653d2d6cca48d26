//! End-to-end: households, members (with the child flag) and devices with their own tokens.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::json;
use std::collections::HashSet;
use support::*;

#[test]
fn households_and_members_are_created_with_the_child_flag() {
    let inst = Instance::new();
    let admin = inst.key("admin", &[]);
    let mut server = inst.serve();
    let household_name = marker("HouseholdName");
    let adult_name = marker("AdultName");
    let child_name = marker("ChildName");
    let h = server.household(&admin, &household_name);
    let adult = server.member(&admin, &h, &adult_name, false);
    let child = server.member(&admin, &h, &child_name, true);
    assert_ne!(adult, child);

    let v = server
        .get(&format!("/v1/households/{h}"), Some(&admin.secret))
        .expect(200);
    assert_eq!(v["id"], h.as_str());
    let members = v["members"].as_array().unwrap();
    assert_eq!(members.len(), 2, "{v}");
    let flag = |id: &str| {
        members
            .iter()
            .find(|m| m["id"] == id)
            .unwrap_or_else(|| panic!("{id} missing: {v}"))["child"]
            .as_bool()
            .unwrap()
    };
    assert!(!flag(&adult));
    assert!(flag(&child));
    // The operator view holds ids and flags, not names.
    for name in [&household_name, &adult_name, &child_name] {
        assert!(!v.to_string().contains(name.as_str()), "{v}");
    }

    server.stop_ok();
    // Names are sealed with the subject's key: not on disk in clear.
    for name in [&household_name, &adult_name, &child_name] {
        inst.assert_not_on_disk(name, "a name");
    }
}

#[test]
fn household_and_member_bodies_are_validated() {
    let inst = Instance::new();
    let admin = inst.key("admin", &[]);
    let server = inst.serve();
    let t = Some(admin.secret.as_str());
    server.post("/v1/households", t, &json!({})).problem(422);
    server
        .post("/v1/households", t, &json!({"name": ""}))
        .problem(422);
    server
        .post("/v1/households", t, &json!({"name": 7}))
        .problem(422);
    server
        .post("/v1/households", t, &json!({"name": "x", "owner": "y"}))
        .problem(422);
    server
        .post_raw("/v1/households", t, "application/json", "{\"name\":")
        .problem(400);
    server
        .post_raw("/v1/households", t, "text/plain", "{\"name\":\"x\"}")
        .problem(415);
    let h = server.household(&admin, "Ok");
    server
        .post(
            &format!("/v1/households/{h}/members"),
            t,
            &json!({"name": "x", "child": "yes"}),
        )
        .problem(422);
}

#[test]
fn members_and_devices_of_an_unknown_household_are_404() {
    let inst = Instance::new();
    let admin = inst.key("admin", &[]);
    let server = inst.serve();
    let t = Some(admin.secret.as_str());
    server
        .post(
            "/v1/households/hh_doesnotexist/members",
            t,
            &json!({"name": "x"}),
        )
        .problem(404);
    server
        .post(
            "/v1/devices",
            t,
            &json!({"product": THERMOSTAT, "household": "hh_doesnotexist"}),
        )
        .problem(404);
    server.get("/v1/households/hh_doesnotexist", t).problem(404);
    // A member id is not a household.
    let home = server.home(&admin);
    server
        .post(
            &format!("/v1/households/{}/members", home.member),
            t,
            &json!({"name": "x"}),
        )
        .problem(404);
    server
        .post(
            "/v1/devices",
            t,
            &json!({"product": THERMOSTAT, "household": home.member}),
        )
        .problem(404);
}

#[test]
fn a_device_needs_a_loaded_product_and_a_member_of_its_household() {
    let inst = Instance::new();
    let admin = inst.key("admin", &[]);
    let server = inst.serve();
    let t = Some(admin.secret.as_str());
    let a = server.home(&admin);
    let b = server.home(&admin);
    let p = server
        .post(
            "/v1/devices",
            t,
            &json!({"product": "acme-toaster-9", "household": a.household}),
        )
        .problem(422);
    assert!(
        p["detail"].as_str().unwrap().contains("acme-toaster-9"),
        "{p}"
    );
    server
        .post("/v1/devices", t, &json!({"household": a.household}))
        .problem(422);
    // A member of another household.
    server
        .post(
            "/v1/devices",
            t,
            &json!({"product": THERMOSTAT, "household": a.household, "member": b.member}),
        )
        .problem(422);
    // Their own member is fine.
    server.device(&admin, THERMOSTAT, Some(&a.household), Some(&a.member));
}

#[test]
fn device_tokens_are_unique_shown_once_and_stored_only_hashed() {
    let inst = Instance::new();
    let admin = inst.key("admin", &[]);
    let mut server = inst.serve();
    let h = server.household(&admin, "Tokens");
    let mut tokens = HashSet::new();
    let mut secrets = Vec::new();
    for product in [THERMOSTAT, THERMOSTAT, FRIDGE, "stride-band-4"] {
        let r = server.post(
            "/v1/devices",
            Some(&admin.secret),
            &json!({"product": product, "household": h}),
        );
        let v = r.expect(201);
        let id = v["id"].as_str().unwrap().to_owned();
        let token = v["token"].as_str().unwrap().to_owned();
        assert!(token.len() >= 32, "{token}");
        assert!(tokens.insert(token.clone()), "device tokens must be unique");
        secrets.push(token.clone());
        if let Some(claim) = v["claim_code"].as_str() {
            secrets.push(claim.to_owned());
        }
        // Shown once: reading the device back never returns it.
        let view = server
            .get(&format!("/v1/devices/{id}"), Some(&admin.secret))
            .expect(200);
        assert_eq!(view["product"], product);
        assert!(!view.to_string().contains(&token), "{view}");
        // The household view lists the device.
        let hv = server
            .get(&format!("/v1/households/{h}"), Some(&admin.secret))
            .expect(200);
        assert!(hv["devices"].as_array().unwrap().contains(&json!(id)));
    }
    // Each token works for its own device.
    let thermostat = secrets[0].clone();
    server.ingest_ok(&thermostat, &json!([climate(&ago(5), 20.0, 1)]));

    // Never in clear on disk: while running (WAL) and after a clean stop.
    for s in &secrets {
        inst.assert_not_on_disk(s, "device credential");
    }
    server.stop_ok();
    for s in &secrets {
        inst.assert_not_on_disk(s, "device credential");
    }
}
