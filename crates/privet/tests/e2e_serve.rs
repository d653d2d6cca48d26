//! End-to-end: `privet serve` itself — refusing bad manifests, health, metrics, the OpenAPI
//! document, the data directory's files, and graceful shutdown.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::json;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::*;

/// Runs `privet serve` expecting it to refuse to start; returns (exit code, stderr).
fn serve_refusing(inst: &Instance) -> (i32, String) {
    let mut child = Command::new(PRIVET)
        .arg("serve")
        .arg("--data")
        .arg(&inst.data)
        .arg("--manifests")
        .arg(&inst.manifests)
        .arg("--listen")
        .arg(format!("127.0.0.1:{}", free_port()))
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            let mut err = String::new();
            std::io::Read::read_to_string(child.stderr.as_mut().expect("stderr"), &mut err)
                .expect("read stderr");
            return (status.code().unwrap_or(-1), err);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("privet serve started despite a broken manifest");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn serve_refuses_a_manifest_with_errors_and_points_at_the_line() {
    let inst = Instance::new();
    let path = inst.manifests.join("thermostat.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    // Line 68 of the example: `retention = "30d"` of climate.humidity_pct.
    let broken = text.replacen("retention = \"30d\"", "retention = \"forever\"", 1);
    assert_ne!(broken, text);
    let line = broken
        .lines()
        .position(|l| l == "retention = \"forever\"")
        .unwrap()
        + 1;
    std::fs::write(&path, broken).unwrap();

    let (code, stderr) = serve_refusing(&inst);
    assert_ne!(code, 0, "{stderr}");
    assert!(stderr.contains("PV015"), "rule code missing: {stderr}");
    assert!(
        stderr.contains(&format!("thermostat.toml:{line}:")),
        "file:line missing: {stderr}"
    );
    assert!(stderr.contains("not starting"), "{stderr}");
    assert!(!inst.data.join("privet.db").exists(), "no store opened");
}

#[test]
fn serve_refuses_a_manifest_that_is_not_toml() {
    let inst = Instance::new();
    std::fs::write(
        inst.manifests.join("broken.toml"),
        "[product]\nid = \"x\"\nname = = 3\n",
    )
    .unwrap();
    let (code, stderr) = serve_refusing(&inst);
    assert_ne!(code, 0, "{stderr}");
    assert!(stderr.contains("broken.toml"), "{stderr}");
}

#[test]
fn healthz_reports_ok_with_the_products_loaded() {
    let inst = Instance::new();
    let mut server = inst.serve();
    let v = server.get("/healthz", None).expect(200);
    assert_eq!(v["status"], "ok");
    assert_eq!(v["products"], 5, "{v}");
    // Public product list, no key needed.
    let products = server.get("/v1/products", None).expect(200);
    let ids: Vec<&str> = products
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&THERMOSTAT) && ids.contains(&FRIDGE),
        "{ids:?}"
    );
    server.stop_ok();
}

#[test]
fn metrics_count_accepted_events_dropped_fields_records_and_latency() {
    let inst = Instance::new();
    let admin = inst.key("admin", &[]);
    let server = inst.serve();
    let home = server.home(&admin);
    let out = server.ingest_ok(
        &home.token,
        &json!([
            { "stream": "climate", "ts": ago(60),
              "data": { "temperature_c": 20.0, "humidity_pct": 45, "heating_minutes": 3, "wifi_ssid": "x" } },
            { "stream": "climate", "ts": ago(30),
              "data": { "temperature_c": 20.5, "humidity_pct": 45, "heating_minutes": 4 } },
            presence(&ago(10), &home.member, true),
        ]),
    );
    assert_eq!(out["accepted"], 2, "{out}");

    let r = server.get("/metrics", None);
    assert_eq!(r.status, 200);
    let ct = r.header("content-type");
    assert!(
        ct.starts_with("text/plain") || ct.starts_with("application/openmetrics-text"),
        "{ct}"
    );
    let text = r.body;
    assert!(
        text.contains("# TYPE privet_events_accepted counter"),
        "{text}"
    );
    assert!(
        text.contains("# TYPE privet_fields_dropped counter"),
        "{text}"
    );
    assert!(
        text.contains("# TYPE privet_records_stored counter"),
        "{text}"
    );
    assert!(
        text.contains("# TYPE privet_http_request_duration_seconds histogram"),
        "{text}"
    );
    assert_eq!(server.metric("privet_events_accepted_total"), Some(2.0));
    assert_eq!(
        server.metric("privet_fields_dropped_total{reason=\"undeclared\"}"),
        Some(1.0)
    );
    assert_eq!(
        server.metric("privet_fields_dropped_total{reason=\"no_consent\"}"),
        Some(1.0)
    );
    assert!(server.metric("privet_records_stored_total").unwrap() >= 1.0);
    assert!(
        text.lines().any(
            |l| l.starts_with("privet_http_request_duration_seconds_bucket")
                && l.contains("route=\"/v1/ingest\"")
                && l.contains("method=\"POST\"")
                && l.contains("status=\"2xx\"")
        ),
        "no latency histogram for /v1/ingest: {text}"
    );
    // Route templates, never concrete ids, label the latency series.
    assert!(
        !text.contains(&home.household),
        "a household id leaked into metric labels"
    );
}

#[test]
fn openapi_document_is_json_and_lists_the_api() {
    let inst = Instance::new();
    let server = inst.serve();
    let r = server.get("/openapi.json", None);
    let doc = r.expect(200);
    assert!(r.header("content-type").starts_with("application/json"));
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."), "{doc}");
    let paths = doc["paths"].as_object().expect("paths");
    for (path, method) in [
        ("/v1/ingest", "post"),
        ("/v1/events", "get"),
        ("/v1/households", "post"),
        ("/v1/households/{id}/members", "post"),
        ("/v1/devices", "post"),
        ("/v1/subjects/{id}/consents", "get"),
        ("/v1/subjects/{id}/consents/{purpose}", "put"),
        ("/v1/audit", "get"),
        ("/v1/products", "get"),
        ("/v1/products", "post"),
        ("/v1/products/{id}/versions", "get"),
        ("/healthz", "get"),
        ("/metrics", "get"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} missing from the OpenAPI document"
        );
    }
    let schemes = &doc["components"]["securitySchemes"];
    assert!(schemes["api_key"].is_object() && schemes["device_token"].is_object());
}

#[test]
fn data_directory_files_are_created_readable_by_the_owner_only() {
    let inst = Instance::new();
    let mut server = inst.serve();
    // Some writes so that the WAL and shared-memory files exist too.
    let admin_key = inst.key("admin", &[]);
    let home = server.home(&admin_key);
    server.ingest_ok(&home.token, &json!([climate(&ago(5), 20.0, 1)]));

    assert_mode(&inst.data, 0o700);
    for name in ["privet.db", "keyring.db", "master.key", "signing.key"] {
        assert_mode(&inst.data.join(name), 0o600);
    }
    for file in inst.data_files() {
        assert_mode(&file, 0o600);
    }
    assert_eq!(
        std::fs::metadata(inst.data.join("master.key"))
            .unwrap()
            .len(),
        32
    );
    server.stop_ok();
    for file in inst.data_files() {
        assert_mode(&file, 0o600);
    }
}

#[test]
fn sigterm_when_idle_exits_zero() {
    let inst = Instance::new();
    let mut server = inst.serve();
    let status = server.stop();
    assert_eq!(status.code(), Some(0), "{}", server.log());
}

#[test]
fn sigterm_drains_an_in_flight_ingest_then_exits_zero() {
    let inst = Instance::new();
    let admin = inst.key("admin", &[]);
    let analyst = inst.key("analyst", &["heating_control"]);
    let mut server = inst.serve();
    let home = server.home(&admin);

    let body: String = (0..2_000)
        .map(|i| {
            format!(
                "{}\n",
                climate(&ago(600 - i64::from(i % 500)), 19.0, i64::from(i))
            )
        })
        .collect();
    let (first, rest) = body.as_bytes().split_at(body.len() / 2);

    // The request head asks for `100 Continue`: the server sends it only once the handler
    // reads the body, so after it the request is certainly in flight.
    let mut conn = RawConn::open(&server);
    conn.write(
        format!(
            "POST /v1/ingest HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\n\
             Content-Type: application/x-ndjson\r\nContent-Length: {}\r\n\
             Expect: 100-continue\r\n\r\n",
            server.addr,
            home.token,
            body.len()
        )
        .as_bytes(),
    );
    let head = conn.read_head();
    assert!(head.starts_with("HTTP/1.1 100"), "{head}");
    conn.write(first);

    server.sigterm();
    // The server stops accepting new connections but finishes this request.
    conn.write(rest);
    let answer = conn.read_head() + &conn.read_to_close();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let json_start = answer.find("\r\n\r\n").unwrap() + 4;
    let outcome: serde_json::Value = serde_json::from_str(&answer[json_start..]).unwrap();
    assert_eq!(outcome["accepted"], 2_000, "{outcome}");

    let status = server.wait_exit();
    assert_eq!(status.code(), Some(0), "{}", server.log());
    assert!(server.log().contains("privet stopped"), "{}", server.log());

    // What was acknowledged during shutdown is there after a restart.
    let server = inst.serve();
    let n = server
        .events(
            &analyst,
            &[
                ("purpose", "heating_control"),
                ("stream", "climate"),
                ("limit", "10000"),
            ],
        )
        .expect(200)["records"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(n, 2_000);
}
