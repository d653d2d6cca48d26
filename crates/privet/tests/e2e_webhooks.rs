//! End-to-end: webhooks to a real HTTP receiver on loopback — a Python standard-library server
//! that checks every `webhook-signature` with its own `hmac` and `base64` (not Privet's code).
//! Deliveries are signed, carry ids and pseudonyms only, survive the receiver going away (each
//! arrives exactly once when it is back, the server's clock moved past the backoff rather than
//! slept through), die after the last attempt and can be sent again; an erasure reaches the
//! manifest recipient mapped to an endpoint (Art. 19); an overdue request is told once.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::*;

/// How long a delivery may take to show up before the test fails.
const PATIENCE: Duration = Duration::from_secs(30);
/// Where the tests' clock starts.
const START: &str = "2026-05-04T09:00:00Z";

/// The Python interpreter: `PRIVET_PYTHON` when set, else `python3`.
fn python() -> PathBuf {
    std::env::var_os("PRIVET_PYTHON").map_or_else(|| PathBuf::from("python3"), PathBuf::from)
}

/// The receiver script.
fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/webhooks/receiver.py")
}

/// A running receiver; killed on drop.
struct Receiver {
    child: Option<Child>,
    port: u16,
    log: PathBuf,
    secret: String,
}

impl Receiver {
    /// Starts listening on `port`, answering every delivery with `status`; returns once it
    /// said it is listening.
    fn start(port: u16, log: &Path, secret: &str, status: u16) -> Receiver {
        let mut child = Command::new(python())
            .arg(script())
            .arg(port.to_string())
            .arg(log)
            .env("WEBHOOK_SECRET", secret)
            .env("RECEIVER_STATUS", status.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the Python receiver (set PRIVET_PYTHON)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "ready", "the receiver did not start");
        Receiver {
            child: Some(child),
            port,
            log: log.to_owned(),
            secret: secret.to_owned(),
        }
    }

    /// Stops it (SIGKILL): connections are refused from now on.
    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts it again on the same port and log, answering with `status`.
    fn restart(&mut self, status: u16) {
        self.kill();
        *self = Receiver::start(self.port, &self.log.clone(), &self.secret.clone(), status);
    }

    /// Everything it received so far, one entry per POST.
    fn received(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// Waits until `pred` holds of what was received; returns it.
    fn wait_for(&self, what: &str, pred: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let got = self.received();
            if pred(&got) {
                return got;
            }
            assert!(Instant::now() < deadline, "{what}; received: {got:#?}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until `n` deliveries arrived.
    fn wait_count(&self, n: usize) -> Vec<Value> {
        self.wait_for(&format!("{n} deliveries"), |got| got.len() >= n)
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Registers an endpoint; returns its id and secret.
fn register(server: &Server, admin: &Key, body: &Value) -> (String, String) {
    let r = server
        .post("/v1/webhooks", Some(&admin.secret), body)
        .expect(201);
    let secret = r["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"), "{r}");
    (r["id"].as_str().unwrap().to_owned(), secret)
}

/// The deliveries of an endpoint, as the API lists them.
fn deliveries(server: &Server, admin: &Key, hook: &str) -> Vec<Value> {
    server
        .get(
            &format!("/v1/webhooks/{hook}/deliveries"),
            Some(&admin.secret),
        )
        .expect(200)
        .as_array()
        .unwrap()
        .clone()
}

/// Waits until every listed delivery of `hook` satisfies `pred`.
fn wait_deliveries(
    server: &Server,
    admin: &Key,
    hook: &str,
    what: &str,
    pred: impl Fn(&Value) -> bool,
) -> Vec<Value> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let ds = deliveries(server, admin, hook);
        if !ds.is_empty() && ds.iter().all(&pred) {
            return ds;
        }
        assert!(Instant::now() < deadline, "{what}: {ds:#?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Whether an attempt at `d` is over: it is not pending, or its next attempt is after `now`
/// (while an attempt is in flight, the next attempt is still the one being made).
fn settled(d: &Value, now: jiff::Timestamp) -> bool {
    d["state"] != "pending"
        || d["next_attempt_at"]
            .as_str()
            .and_then(|t| t.parse::<jiff::Timestamp>().ok())
            .is_some_and(|next| next > now)
}

/// The server's clock.
fn clock(server: &Server) -> jiff::Timestamp {
    server.advance_clock(0).parse().unwrap()
}

fn events_of(got: &[Value]) -> Vec<String> {
    let mut e: Vec<String> = got
        .iter()
        .map(|d| d["body"]["type"].as_str().unwrap().to_owned())
        .collect();
    e.sort();
    e
}

/// `DELETE /v1/subjects/{id}`.
fn erase(server: &Server, key: &Key, id: &str) -> Resp {
    server.send(server.req(
        reqwest::Method::DELETE,
        &format!("/v1/subjects/{id}"),
        Some(&key.secret),
    ))
}

const ALL_EVENTS: [&str; 6] = [
    "request.created",
    "request.overdue",
    "request.completed",
    "erasure.completed",
    "consent.changed",
    "device.reset",
];

#[test]
fn deliveries_are_signed_hold_no_personal_values_and_arrive_once_after_an_outage() {
    let inst = Instance::new();
    inst.set_clock(START);
    let (admin, support) = inst.operators();
    let server = inst.serve();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let (hook, secret) = register(
        &server,
        &admin,
        &json!({"url": format!("http://127.0.0.1:{port}/privet"), "events": ALL_EVENTS}),
    );
    let mut receiver = Receiver::start(port, &dir.path().join("got.jsonl"), &secret, 204);

    // Listed without its secret.
    let listed = server.get("/v1/webhooks", Some(&admin.secret)).expect(200);
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["id"], hook.as_str());
    assert!(!listed.to_string().contains(&secret[6..]), "{listed}");
    assert!(listed[0].get("secret").is_none());

    let household_name = marker("HouseholdName");
    let member_name = marker("MemberName");
    let household = server.household(&admin, &household_name);
    let member = server.member(&admin, &household, &member_name, false);
    let (device, _) = server.device(&admin, THERMOSTAT, Some(&household), None);
    server.consent_ok(&support, &member, "energy_report", true);
    let request = server
        .post(
            "/v1/requests",
            Some(&support.secret),
            &json!({"type": "erasure", "subject": member}),
        )
        .expect(201);
    // The first attempt goes out at once, without the clock moving.
    let got = receiver.wait_count(2);
    assert_eq!(events_of(&got), ["consent.changed", "request.created"]);
    wait_deliveries(&server, &admin, &hook, "both delivered", |d| {
        d["state"] == "delivered"
    });

    // The receiver goes away; three more events happen meanwhile.
    receiver.kill();
    server
        .post(
            &format!("/v1/devices/{device}/reset"),
            Some(&admin.secret),
            &json!({}),
        )
        .expect(200);
    server
        .post(
            &format!("/v1/requests/{}/complete", request["id"].as_str().unwrap()),
            Some(&support.secret),
            &json!({}),
        )
        .expect(200);
    let failed_once = |d: &Value| {
        d["state"] == "delivered"
            || (d["state"] == "pending" && d["attempts"] == 1 && d["last_error"].is_string())
    };
    let ds = wait_deliveries(&server, &admin, &hook, "first attempts fail", failed_once);
    assert_eq!(ds.len(), 5, "{ds:#?}");
    // Not before the backoff: the clock has not moved, so nothing is tried again.
    assert!(
        deliveries(&server, &admin, &hook)
            .iter()
            .all(|d| d["attempts"].as_u64() <= Some(1))
    );
    // Past the first wait (5 s, a tenth more at most): tried again, refused again.
    server.advance_clock(6);
    let now = clock(&server);
    wait_deliveries(&server, &admin, &hook, "second attempts fail", |d| {
        d["state"] == "delivered" || (d["attempts"] == 2 && settled(d, now))
    });

    // Back, and past the second wait (30 s): everything arrives, each once.
    receiver.restart(204);
    server.advance_clock(34);
    let got = receiver.wait_count(5);
    wait_deliveries(&server, &admin, &hook, "all delivered", |d| {
        d["state"] == "delivered"
    });
    std::thread::sleep(Duration::from_millis(300));
    let got = {
        let again = receiver.received();
        assert_eq!(again.len(), got.len(), "nothing arrives twice");
        again
    };
    assert_eq!(
        events_of(&got),
        [
            "consent.changed",
            "device.reset",
            "erasure.completed",
            "request.completed",
            "request.created",
        ]
    );
    let mut ids: BTreeMap<String, usize> = BTreeMap::new();
    for d in &got {
        *ids.entry(d["id"].as_str().unwrap().to_owned()).or_default() += 1;
    }
    assert!(
        ids.values().all(|n| *n == 1),
        "each webhook-id once: {ids:?}"
    );
    let listed: Vec<Value> = deliveries(&server, &admin, &hook);
    for d in &listed {
        assert!(ids.contains_key(d["id"].as_str().unwrap()), "{d}");
    }
    let retried = listed.iter().filter(|d| d["attempts"] == 3).count();
    assert_eq!(
        retried, 3,
        "the three sent during the outage took three attempts"
    );

    for d in &got {
        assert_eq!(d["valid"], true, "the signature verifies: {d}");
        assert_eq!(d["content_type"], "application/json");
        let body = &d["body"];
        assert!(
            body["timestamp"].is_string() && body["data"].is_object(),
            "{body}"
        );
        let text = body.to_string();
        for personal in [&household_name, &member_name] {
            assert!(!text.contains(personal.as_str()), "a name in {text}");
        }
        // The signed timestamp is the server's clock's, in seconds.
        let ts: i64 = d["timestamp"].as_str().unwrap().parse().unwrap();
        let start: jiff::Timestamp = START.parse().unwrap();
        assert!((ts - start.as_second()).abs() < 120, "{ts}");
    }
    let by_type = |t: &str| {
        got.iter()
            .find(|d| d["body"]["type"] == t)
            .map(|d| d["body"]["data"].clone())
            .unwrap()
    };
    let consent = by_type("consent.changed");
    assert_eq!(consent["subject"], member.as_str());
    assert_eq!(consent["purpose"], "energy_report");
    assert_eq!(consent["granted"], true);
    assert_eq!(consent["subject_pseudonym"].as_str().unwrap().len(), 32);
    let created = by_type("request.created");
    assert_eq!(created["request"], request["id"]);
    assert_eq!(created["request_type"], "erasure");
    assert_eq!(created["due"], "2026-06-04");
    assert_eq!(by_type("request.completed")["status"], "done");
    assert_eq!(by_type("device.reset")["device"], device.as_str());
    assert_eq!(by_type("device.reset")["product"], THERMOSTAT);
    let erased = by_type("erasure.completed");
    assert_eq!(erased["subject"], member.as_str());
    assert_eq!(erased["kind"], "member");

    // Deleted: nothing more is queued for it, its deliveries stay listed.
    let deleted = server.send(server.req(
        reqwest::Method::DELETE,
        &format!("/v1/webhooks/{hook}"),
        Some(&admin.secret),
    ));
    assert_eq!(deleted.status, 204, "{}", deleted.body);
    assert!(
        server
            .get("/v1/webhooks", Some(&admin.secret))
            .expect(200)
            .as_array()
            .unwrap()
            .is_empty()
    );
    server.consent_ok(&support, &household, "energy_report", true);
    assert_eq!(deliveries(&server, &admin, &hook).len(), 5);
}

#[test]
fn a_delivery_failing_every_attempt_is_dead_and_can_be_sent_again() {
    let inst = Instance::new();
    inst.set_clock(START);
    let (admin, support) = inst.operators();
    let server = inst.serve();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let (hook, secret) = register(
        &server,
        &admin,
        &json!({"url": format!("http://127.0.0.1:{port}/"), "events": ["request.created"]}),
    );
    let mut receiver = Receiver::start(port, &dir.path().join("got.jsonl"), &secret, 500);
    let home = server.home(&admin);
    server
        .post(
            "/v1/requests",
            Some(&support.secret),
            &json!({"type": "access", "subject": home.member}),
        )
        .expect(201);
    // Eight attempts, each answered 500; the clock moved past each wait (a tenth more at most).
    let waits = [5, 30, 120, 600, 3600, 6 * 3600, 16 * 3600];
    for (i, wait) in waits.iter().enumerate() {
        receiver.wait_count(i + 1);
        let now = clock(&server);
        wait_deliveries(&server, &admin, &hook, "attempt recorded", |d| {
            d["attempts"] == i + 1 && d["last_status"] == 500 && settled(d, now)
        });
        server.advance_clock(wait + wait / 10 + 1);
    }
    let got = receiver.wait_count(8);
    let dead = wait_deliveries(&server, &admin, &hook, "dead", |d| d["state"] == "dead");
    assert_eq!(dead[0]["attempts"], 8);
    assert_eq!(dead[0]["last_status"], 500);
    assert!(dead[0]["next_attempt_at"].is_null());
    // No ninth attempt, however long one waits.
    server.advance_clock(7 * 24 * 3600);
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(receiver.received().len(), 8);
    let id = dead[0]["id"].as_str().unwrap();
    assert!(got.iter().all(|d| d["id"] == id && d["valid"] == true));

    // Sent again by hand, once the receiver is fixed: the same webhook-id.
    receiver.restart(200);
    let r = server
        .post(
            &format!("/v1/webhooks/deliveries/{id}/retry"),
            Some(&admin.secret),
            &json!({}),
        )
        .expect(200);
    assert_eq!(r["state"], "pending");
    let got = receiver.wait_for("the retried delivery", |g| {
        g.iter().any(|d| d["status"] == 200)
    });
    assert_eq!(got.last().unwrap()["id"], id);
    wait_deliveries(&server, &admin, &hook, "delivered", |d| {
        d["state"] == "delivered"
    });
    // Only a dead delivery is retried.
    server
        .post(
            &format!("/v1/webhooks/deliveries/{id}/retry"),
            Some(&admin.secret),
            &json!({}),
        )
        .problem(409);
    server
        .post(
            "/v1/webhooks/deliveries/msg_nope/retry",
            Some(&admin.secret),
            &json!({}),
        )
        .problem(404);
}

#[test]
fn an_erasure_is_told_to_the_recipient_mapped_to_an_endpoint_and_an_overdue_request_once() {
    let inst = Instance::new();
    inst.set_clock(START);
    let (admin, support) = inst.operators();
    let server = inst.serve();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let supplier = json!({"product": THERMOSTAT, "recipient": "energy_supplier"});
    let (_, secret) = register(
        &server,
        &admin,
        &json!({
            "url": format!("http://127.0.0.1:{port}/art19"),
            "events": ["request.overdue"],
            "recipients": [supplier],
        }),
    );
    let receiver = Receiver::start(port, &dir.path().join("got.jsonl"), &secret, 204);

    // A household that turned the supplier's tariff on: its data went to the supplier.
    let told = server.home(&admin);
    server.consent_ok(&support, &told.household, "supplier_tariff", true);
    // One that never did: nothing went to the supplier.
    let untold = server.home(&admin);
    erase(&server, &support, &untold.household).expect(200);
    erase(&server, &support, &told.household).expect(200);
    let got = receiver.wait_count(1);
    let notice = &got[0]["body"];
    assert_eq!(notice["type"], "recipient.erasure", "{notice}");
    assert_eq!(notice["data"]["product"], THERMOSTAT);
    assert_eq!(notice["data"]["recipient"], "energy_supplier");
    assert_eq!(notice["data"]["subject"], told.household.as_str());
    assert_eq!(
        notice["data"]["subject_pseudonym"].as_str().unwrap().len(),
        32
    );
    assert_eq!(got[0]["valid"], true);

    // A restriction is told too (Art. 19 names erasure, rectification and restriction).
    let third = server.home(&admin);
    server.consent_ok(&support, &third.household, "supplier_tariff", true);
    let rq = server
        .post(
            "/v1/requests",
            Some(&support.secret),
            &json!({"type": "restriction", "subject": third.member, "received_at": "2026-04-01T10:00:00Z"}),
        )
        .expect(201);
    // Received a month ago, due three days ago: overdue, and told once, however often the
    // scan runs (it runs when the server's date changes).
    server.advance_clock(24 * 3600);
    let got = receiver.wait_for("the overdue request", |g| {
        g.iter().any(|d| d["body"]["type"] == "request.overdue")
    });
    let overdue = got
        .iter()
        .find(|d| d["body"]["type"] == "request.overdue")
        .unwrap();
    assert_eq!(overdue["body"]["data"]["request"], rq["id"]);
    assert_eq!(overdue["body"]["data"]["status"], "overdue");
    server.advance_clock(24 * 3600);
    std::thread::sleep(Duration::from_millis(1500));
    server
        .post(
            &format!("/v1/requests/{}/complete", rq["id"].as_str().unwrap()),
            Some(&support.secret),
            &json!({}),
        )
        .expect(200);
    let got = receiver.wait_for("the restriction notice", |g| {
        g.iter()
            .any(|d| d["body"]["type"] == "recipient.restriction")
    });
    std::thread::sleep(Duration::from_millis(1500));
    let got_now = receiver.received();
    assert_eq!(got_now.len(), got.len(), "{got_now:#?}");
    assert_eq!(
        events_of(&got_now),
        [
            "recipient.erasure",
            "recipient.restriction",
            "request.overdue"
        ]
    );
}

#[test]
fn registering_checks_the_url_events_recipients_and_role() {
    let inst = Instance::new();
    let (admin, support) = inst.operators();
    let server = inst.serve();
    let post = |key: &Key, body: Value| server.post("/v1/webhooks", Some(&key.secret), &body);
    for bad in [
        json!({"url": "ftp://127.0.0.1/x", "events": ["request.created"]}),
        json!({"url": "http://user:pw@127.0.0.1/x", "events": ["request.created"]}),
        json!({"url": "not a url", "events": ["request.created"]}),
        json!({"url": "http://127.0.0.1/x", "events": ["request.deleted"]}),
        json!({"url": "http://127.0.0.1/x", "events": ["recipient.erasure"]}),
        json!({"url": "http://127.0.0.1/x", "events": []}),
        json!({"url": "http://127.0.0.1/x", "recipients": [{"product": THERMOSTAT, "recipient": "nobody"}]}),
        json!({"url": "http://127.0.0.1/x", "recipients": [{"product": "no-such", "recipient": "energy_supplier"}]}),
    ] {
        let p = post(&admin, bad.clone()).problem(422);
        assert!(!p["detail"].as_str().unwrap().contains("user:pw"), "{p}");
    }
    post(
        &admin,
        json!({"url": "http://127.0.0.1/x", "events": ["request.created"], "extra": 1}),
    )
    .problem(422);
    post(
        &support,
        json!({"url": "http://127.0.0.1/x", "events": ["request.created"]}),
    )
    .problem(403);
    server
        .get("/v1/webhooks", Some(&support.secret))
        .problem(403);
    server.get("/v1/webhooks", None).problem(401);
    // Loopback, private addresses and plain http are fine.
    for ok in [
        "http://10.1.2.3:8080/in",
        "http://[::1]:9000/",
        "https://hooks.example/privet",
    ] {
        post(&admin, json!({"url": ok, "events": ["device.reset"]})).expect(201);
    }
    server
        .send(server.req(
            reqwest::Method::DELETE,
            "/v1/webhooks/wh_nope",
            Some(&admin.secret),
        ))
        .problem(404);
    server
        .get("/v1/webhooks/wh_nope/deliveries", Some(&admin.secret))
        .problem(404);
}

#[test]
fn two_instances_sharing_a_database_send_each_delivery_once() {
    let Some(inst) = Instance::postgres() else {
        return;
    };
    inst.set_clock(START);
    let (admin, support) = inst.operators();
    let a = inst.serve();
    let b = inst.serve();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let (hook, secret) = register(
        &a,
        &admin,
        &json!({"url": format!("http://127.0.0.1:{port}/"), "events": ["consent.changed"]}),
    );
    let receiver = Receiver::start(port, &dir.path().join("got.jsonl"), &secret, 204);
    let household = a.household(&admin, &marker("Household"));
    let member = a.member(&admin, &household, &marker("Member"), false);
    // Twenty decisions, half on each instance; both senders race for every delivery.
    let n = 20;
    for i in 0..n {
        let server = if i % 2 == 0 { &a } else { &b };
        server.consent_ok(&support, &member, "energy_report", i % 2 == 0);
    }
    receiver.wait_count(n);
    wait_deliveries(&b, &admin, &hook, "all delivered", |d| {
        d["state"] == "delivered"
    });
    std::thread::sleep(Duration::from_millis(1500));
    let got = receiver.received();
    assert_eq!(got.len(), n, "each sent once: {got:#?}");
    let mut ids: Vec<&str> = got.iter().map(|d| d["id"].as_str().unwrap()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), n);
    assert!(got.iter().all(|d| d["valid"] == true));
    assert!(
        deliveries(&a, &admin, &hook)
            .iter()
            .all(|d| d["attempts"] == 1)
    );
}
