//! End-to-end: operator API keys and the role × route authorization matrix.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use reqwest::Method;
use serde_json::{Value, json};
use support::*;

#[test]
fn key_create_prints_a_new_key_once_and_stores_only_its_hash() {
    let inst = Instance::new();
    let a = inst.key("admin", &[]);
    let b = inst.key("admin", &[]);
    let c = inst.key("analyst", &["heating_control", "energy_report"]);
    assert_ne!(a.secret, b.secret, "each key create prints a fresh key");
    assert_ne!(a.id, b.id);
    assert!(a.secret.len() >= 32, "{}", a.secret);
    for k in [&a, &b, &c] {
        inst.assert_not_on_disk(&k.secret, "API key");
        // Nor the random part alone, in any encoding that keeps it verbatim. (Only the prefix
        // is cut: the random part is base64url, which has `_` of its own.)
        let (_, random) = k.secret.split_once('_').unwrap();
        assert!(random.len() >= 40, "{random}");
        inst.assert_not_on_disk(random, "API key secret part");
    }
    // Both printed keys work.
    let server = inst.serve();
    for k in [&a, &b] {
        server
            .post("/v1/households", Some(&k.secret), &json!({"name": "x"}))
            .expect(201);
    }
    // The key listing stored in the database has no secret either.
    let db = inst.db();
    let hashes: Vec<Vec<u8>> = db
        .prepare("SELECT key_hash FROM api_keys")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(hashes.len(), 3);
    for h in &hashes {
        assert!(!contains(h, a.secret.as_bytes()) && !contains(h, b.secret.as_bytes()));
    }
}

#[test]
fn key_create_refuses_an_analyst_without_a_purpose() {
    let inst = Instance::new();
    let data = inst.data.to_str().unwrap();
    // An analyst key without a purpose, and a role that does not exist.
    for role in ["analyst", "root"] {
        let out = inst.privet(&["key", "create", "--data", data, "--role", role]);
        assert!(!out.status.success(), "{role} refused");
        assert!(out.stdout.is_empty(), "{role}: no key printed");
    }
}

#[test]
fn unknown_missing_or_misused_credentials_are_401_problems() {
    let inst = Instance::new();
    let admin = inst.key("admin", &[]);
    let server = inst.serve();
    let home = server.home(&admin);
    let forged = format!("{}x", admin.secret);
    let body = json!({"name": "x"});
    for (what, token) in [
        ("no key", None),
        (
            "unknown key",
            Some("pvk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
        ),
        ("altered key", Some(forged.as_str())),
        ("device token as API key", Some(home.token.as_str())),
        ("garbage", Some("not a token at all")),
    ] {
        let r = server.post("/v1/households", token, &body);
        let p = r.problem(401);
        assert!(
            r.header("www-authenticate").starts_with("Bearer"),
            "{what}: {p}"
        );
    }
    // A non-bearer scheme is not a credential either.
    let r = server.send(
        server
            .req(Method::GET, "/v1/audit", None)
            .header("authorization", format!("Basic {}", admin.secret)),
    );
    r.problem(401);
    // An API key is not a device credential.
    server
        .ingest(&admin.secret, &json!([climate(&ago(5), 20.0, 1)]))
        .problem(401);
}

/// One call of the matrix, and the status each role gets: admin, analyst, support, dpo.
struct Case {
    method: Method,
    path: String,
    body: Option<Value>,
    expect: [u16; 4],
}

/// A `GET path`.
fn get(path: impl Into<String>, expect: [u16; 4]) -> Case {
    Case {
        method: Method::GET,
        path: path.into(),
        body: None,
        expect,
    }
}

/// A call that sends a JSON `body`.
fn send(method: Method, path: impl Into<String>, body: &Value, expect: [u16; 4]) -> Case {
    Case {
        method,
        path: path.into(),
        body: Some(body.clone()),
        expect,
    }
}

#[test]
fn every_role_is_allowed_only_its_routes() {
    let inst = Instance::new();
    // Roles in the order of `Case::expect`. The admin and analyst hold the purpose read below.
    let keys = [
        inst.key("admin", &["heating_control"]),
        inst.key("analyst", &["heating_control"]),
        inst.key("support", &[]),
        inst.key("dpo", &[]),
    ];
    let server = inst.serve();
    let home = server.home(&keys[0]);
    let h = &home.household;
    let consents = format!("/v1/subjects/{}/consents", home.member);
    let household = json!({"name": "Matrix"});
    let person = json!({"name": "Matrix", "child": false});
    let device = json!({"product": THERMOSTAT, "household": h});
    let granted = json!({"granted": true});
    let cases = [
        send(
            Method::POST,
            "/v1/households",
            &household,
            [201, 403, 403, 403],
        ),
        send(
            Method::POST,
            format!("/v1/households/{h}/members"),
            &person,
            [201, 403, 403, 403],
        ),
        get(format!("/v1/households/{h}"), [200, 403, 200, 403]),
        send(Method::POST, "/v1/devices", &device, [201, 403, 403, 403]),
        get(format!("/v1/devices/{}", home.device), [200, 403, 403, 403]),
        send(
            Method::PUT,
            format!("{consents}/energy_report"),
            &granted,
            [200, 403, 200, 403],
        ),
        get(consents, [200, 403, 200, 403]),
        // Events for a purpose the key holds, then for one no key holds.
        get("/v1/events?purpose=heating_control", [200, 200, 403, 403]),
        get("/v1/events?purpose=energy_report", [403, 403, 403, 403]),
        get("/v1/audit", [200, 403, 403, 200]),
    ];
    for case in &cases {
        for (key, expect) in keys.iter().zip(case.expect) {
            let mut req = server.req(case.method.clone(), &case.path, Some(&key.secret));
            if let Some(b) = &case.body {
                req = req
                    .header("content-type", "application/json")
                    .body(b.to_string());
            }
            let r = server.send(req);
            let what = format!("{} {}", case.method, case.path);
            assert_eq!(r.status, expect, "{what} as {}: {}", key.id, r.body);
            if expect == 403 {
                assert_problem_shape(&r);
            }
        }
        // And nobody without a key.
        let r = server.send(server.req(case.method.clone(), &case.path, None));
        r.problem(401);
    }
    // Denied calls changed nothing: only the admin's household and device exist.
    let audit = server.audit(&keys[3]);
    let admin_actor = keys[0].actor();
    for e in &audit {
        if ["household.create", "member.create", "device.create"]
            .contains(&e["action"].as_str().unwrap())
        {
            assert_eq!(e["actor"], admin_actor.as_str(), "{e}");
        }
    }
}
