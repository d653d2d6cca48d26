//! End-to-end: bad input gets a precise `application/problem+json` 4xx — never a 500.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::json;
use support::*;

/// A server with small limits so the limits are cheap to hit, and a thermostat home.
fn small_limits() -> (Instance, Server, Home) {
    let inst = Instance::new();
    let admin = inst.key("admin", &[]);
    let server = inst.serve_with(&["--max-body-bytes", "65536", "--max-batch-events", "20"]);
    let home = server.home(&admin);
    (inst, server, home)
}

#[test]
fn an_unknown_stream_is_422_naming_the_event() {
    let (_inst, server, home) = small_limits();
    let r = server.ingest(
        &home.token,
        &json!([
            climate(&ago(30), 20.0, 1),
            climate(&ago(20), 20.0, 2),
            { "stream": "microphone", "ts": ago(10), "data": { "level": 3 } },
        ]),
    );
    let p = r.problem(422);
    let detail = p["detail"].as_str().unwrap();
    assert!(detail.contains("event 2"), "{detail}");
    assert!(detail.contains("microphone"), "{detail}");
}

#[test]
fn a_wrong_field_type_is_422_without_echoing_the_value() {
    let (_inst, server, home) = small_limits();
    let secret = marker("WrongTypeValue");
    let r = server.ingest(
        &home.token,
        &json!([
            climate(&ago(30), 20.0, 1),
            { "stream": "climate", "ts": ago(20), "data": { "temperature_c": secret } },
        ]),
    );
    let p = r.problem(422);
    let detail = p["detail"].as_str().unwrap();
    assert!(
        detail.contains("event 1") && detail.contains("temperature_c"),
        "{detail}"
    );
    assert!(!detail.contains(&secret), "{detail}");
    for bad in [json!(null), json!(true), json!([1]), json!({"a": 1})] {
        server
            .ingest(
                &home.token,
                &json!([{ "stream": "climate", "ts": ago(20), "data": { "heating_minutes": bad } }]),
            )
            .problem(422);
    }
    server
        .ingest(
            &home.token,
            &json!([{ "stream": "presence", "ts": ago(20), "member": home.member, "data": { "home": "yes" } }]),
        )
        .problem(422);
}

#[test]
fn a_timestamp_far_in_the_future_is_422() {
    let (_inst, server, home) = small_limits();
    let p = server
        .ingest(&home.token, &json!([climate(&ahead(86_400), 20.0, 1)]))
        .problem(422);
    assert!(p["detail"].as_str().unwrap().contains("future"), "{p}");
    // A little clock drift is fine (default allowance: 300 s).
    let out = server.ingest_ok(&home.token, &json!([climate(&ahead(60), 20.0, 1)]));
    assert_eq!(out["accepted"], 1);
    // Not a timestamp at all.
    server
        .ingest(
            &home.token,
            &json!([{ "stream": "climate", "ts": "yesterday", "data": { "heating_minutes": 1 } }]),
        )
        .problem(422);
}

#[test]
fn the_allowed_clock_skew_is_configurable() {
    let inst = Instance::new();
    let admin = inst.key("admin", &[]);
    let server = inst.serve_with(&["--max-clock-skew-secs", "3600"]);
    let home = server.home(&admin);
    server.ingest_ok(&home.token, &json!([climate(&ahead(1_800), 20.0, 1)]));
    server
        .ingest(&home.token, &json!([climate(&ahead(7_200), 20.0, 1)]))
        .problem(422);
}

#[test]
fn an_oversize_body_is_413() {
    let (_inst, server, home) = small_limits();
    // One event whose padding field pushes the body past 64 KiB.
    let pad = "x".repeat(70_000);
    let body = json!([{ "stream": "climate", "ts": ago(10), "data": { "heating_minutes": 1, "pad": pad } }]);
    let p = server.ingest(&home.token, &body).problem(413);
    assert!(p["detail"].as_str().unwrap().contains("65536"), "{p}");
    // Also when streamed (chunked, no Content-Length).
    let r = server.send(
        server
            .req(reqwest::Method::POST, "/v1/ingest", Some(&home.token))
            .header("content-type", "application/json")
            .body(reqwest::blocking::Body::new(std::io::Cursor::new(
                body.to_string().into_bytes(),
            ))),
    );
    r.problem(413);
}

#[test]
fn too_many_events_in_one_batch_is_413() {
    let (_inst, server, home) = small_limits();
    let events: Vec<_> = (0..21).map(|i| climate(&ago(100 - i), 20.0, i)).collect();
    let p = server.ingest(&home.token, &json!(events)).problem(413);
    // The detail names the event limit, not the byte limit the small body is well under.
    let detail = p["detail"].as_str().unwrap();
    assert!(detail.contains("more than 20 events"), "{p}");
    assert!(!detail.contains("65536"), "{p}");
    server.ingest_ndjson(&home.token, &events).problem(413);
    // Exactly the limit is fine.
    let out = server.ingest_ok(&home.token, &json!(events[..20]));
    assert_eq!(out["accepted"], 20);
}

#[test]
fn a_missing_or_bad_device_token_is_401() {
    let (inst, server, home) = small_limits();
    let body = json!([climate(&ago(10), 20.0, 1)]).to_string();
    let admin = inst.key("admin", &[]);
    for token in [
        None,
        Some("pvd_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
        Some(&home.token[..home.token.len() - 1]),
        Some(admin.secret.as_str()),
        Some(""),
    ] {
        let r = server.post_raw("/v1/ingest", token, "application/json", body.clone());
        r.problem(401);
    }
}

#[test]
fn malformed_bodies_are_4xx_never_500() {
    let (_inst, server, home) = small_limits();
    let deep = format!("{}{}", "[".repeat(5_000), "]".repeat(5_000));
    let bodies: Vec<(&str, Vec<u8>)> = vec![
        ("application/json", b"".to_vec()),
        ("application/json", b"   ".to_vec()),
        ("application/json", b"{".to_vec()),
        ("application/json", b"[".to_vec()),
        ("application/json", b"[]".to_vec()),
        ("application/json", b"null".to_vec()),
        ("application/json", b"42".to_vec()),
        ("application/json", b"\"text\"".to_vec()),
        ("application/json", b"[1,2,3]".to_vec()),
        ("application/json", b"[{}]".to_vec()),
        ("application/json", b"[{\"stream\":1,\"ts\":2,\"data\":3}]".to_vec()),
        ("application/json", b"[{\"stream\":\"climate\",\"ts\":\"2024-01-01T00:00:00Z\"}]".to_vec()),
        ("application/json", b"[{\"stream\":\"climate\",\"ts\":\"2024-01-01T00:00:00Z\",\"data\":[]}]".to_vec()),
        ("application/json", b"[{\"stream\":\"climate\",\"ts\":\"2024-01-01T00:00:00Z\",\"data\":{},\"extra\":1}]".to_vec()),
        ("application/json", b"[{\"stream\":\"climate\",\"stream\":\"climate\",\"ts\":\"2024-01-01T00:00:00Z\",\"data\":{}}]".to_vec()),
        ("application/json", b"[{\"stream\":\"climate\",\"ts\":\"2024-01-01T00:00:00Z\",\"data\":{\"heating_minutes\":1e999}}]".to_vec()),
        ("application/json", b"[{\"stream\":\"climate\",\"ts\":\"2024-01-01T00:00:00Z\",\"data\":{\"heating_minutes\":18446744073709551616}}]".to_vec()),
        ("application/json", b"[{\"stream\":\"climate\",\"ts\":\"-99999-01-01T00:00:00Z\",\"data\":{\"heating_minutes\":1}}]".to_vec()),
        ("application/json", b"[{\"stream\":\"climate\",\"ts\":\"2024-01-01T00:00:00Z\",\"member\":5,\"data\":{}}]".to_vec()),
        ("application/json", vec![0xff, 0xfe, 0x00, 0x5b]),
        ("application/json", b"[\"\\ud800\"]".to_vec()),
        ("application/json", deep.clone().into_bytes()),
        ("application/json", b"[{\"stream\":\"climate\",\"ts\":\"2024-01-01T00:00:00Z\",\"data\":{}}] trailing".to_vec()),
        ("application/x-ndjson", b"".to_vec()),
        ("application/x-ndjson", b"garbage\n".to_vec()),
        ("application/x-ndjson", b"{\"stream\":\"climate\"}\n{{{\n".to_vec()),
        ("application/x-ndjson", b"[1]\n".to_vec()),
        ("application/x-ndjson", b"\x00\x01\x02".to_vec()),
        ("application/x-ndjson", deep.into_bytes()),
        ("application/xml", b"<events/>".to_vec()),
        ("multipart/form-data", b"--x".to_vec()),
    ];
    let mut good = json!([climate(&ago(10), 20.0, 1)]).to_string();
    good.pop();
    // A good event followed by a broken one: the whole batch is refused.
    let half_good = format!("{good},{{\"stream\":}}]");
    let ndjson_half_good = format!("{}\nnot json\n", climate(&ago(10), 20.0, 1));
    let mut all = bodies;
    all.push(("application/json", half_good.into_bytes()));
    all.push(("application/x-ndjson", ndjson_half_good.into_bytes()));

    for (ct, body) in all {
        let shown = String::from_utf8_lossy(&body[..body.len().min(80)]).into_owned();
        let r = server.post_raw("/v1/ingest", Some(&home.token), ct, body);
        assert!(
            (400..500).contains(&r.status),
            "{ct} {shown:?} answered {}: {}",
            r.status,
            r.body
        );
        assert_problem_shape(&r);
    }
    // Nothing got in, and the server is still healthy.
    assert_eq!(server.metric("privet_events_accepted_total"), Some(0.0));
    server.get("/healthz", None).expect(200);
}

#[test]
fn bad_queries_and_unknown_routes_are_problems() {
    let inst = Instance::new();
    let admin = inst.key("admin", &["heating_control"]);
    let server = inst.serve();
    let t = Some(admin.secret.as_str());
    server.get("/v1/nowhere", t).problem(404);
    server.get("/v1/events", t).problem(400);
    server
        .get("/v1/events?purpose=heating_control&since=last-tuesday", t)
        .problem(400);
    server
        .get("/v1/events?purpose=heating_control&colour=red", t)
        .problem(400);
    server
        .get("/v1/events?purpose=heating_control&subject=mb_nobody", t)
        .problem(404);
    server.get("/v1/audit?since=soon", t).problem(400);
    let r = server.send(server.req(reqwest::Method::DELETE, "/v1/households", t));
    r.problem(405);
    assert_eq!(r.header("allow"), "POST");
}

#[test]
fn the_per_device_rate_limit_is_429_with_retry_after() {
    let inst = Instance::new();
    let admin = inst.key("admin", &[]);
    let server = inst.serve_with(&["--device-rate", "1", "--device-burst", "2"]);
    let home = server.home(&admin);
    let (_, other) = server.device(&admin, THERMOSTAT, Some(&home.household), None);
    let batch = json!([climate(&ago(10), 20.0, 1)]);
    server.ingest_ok(&home.token, &batch);
    server.ingest_ok(&home.token, &batch);
    // The burst is spent; at one request per second the next ones are refused.
    let r = (0..10)
        .map(|_| server.ingest(&home.token, &batch))
        .find(|r| r.status != 200)
        .expect("no 429 after the burst");
    r.problem(429);
    let retry: u64 = r
        .header("retry-after")
        .parse()
        .expect("Retry-After seconds");
    assert!((1..=60).contains(&retry), "{retry}");
    // The limit is per device: another device of the same household is not held back.
    server.ingest_ok(&other, &batch);
}
