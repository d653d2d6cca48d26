//! End-to-end: devices publish to a real Mosquitto and Privet ingests through its bridge with
//! the same enforcement as HTTP, acknowledging only what it committed. Each test starts its
//! own broker on a free port (dynamic security where devices need their own credentials).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod mqtt_support;
mod support;

use mqtt_support::*;
use serde_json::{Value, json};
use support::*;

#[test]
fn a_device_publishes_with_its_own_credentials_and_its_events_are_enforced_like_http() {
    let Some(rt) = mqtt_runtime() else { return };
    let broker = dynsec_broker(&rt);
    let inst = Instance::new();
    let admin = inst.key("admin", &[]);
    let heating = inst.key("analyst", &["heating_control"]);
    let server = serve_bridged(
        &inst,
        &bridge_args(
            &broker.url(Some((ADMIN, ADMIN_PASSWORD))),
            "t-enforce",
            true,
        ),
    );
    let health = server.get("/healthz", None).expect(200);
    assert_eq!(health["mqtt"]["state"], "connected", "{health}");

    // Registered over HTTP: its broker client exists by the time the answer arrives.
    let home = server.home(&admin);
    let port = broker.port();
    let mut event = climate(&ago(60), 21.5, 42);
    event["data"]["wifi_password"] = json!("hunter2-never-stored");
    // Published, and the outcome awaited on the device's results topic, on one connection.
    let out = mosquitto_rr(
        port,
        &home.device,
        &home.token,
        &format!("privet/v1/devices/{}/events", home.device),
        &format!("privet/v1/devices/{}/results", home.device),
        &json!([event]).to_string(),
    );
    assert!(out.status.success(), "{out:?}");

    // The outcome: counts, never values.
    let text = String::from_utf8_lossy(&out.stdout);
    let v: Value = serde_json::from_str(text.trim()).unwrap_or_else(|_| panic!("{text:?}"));
    assert_eq!(v["status"], "stored");
    assert_eq!(v["accepted"], 1);
    assert_eq!(v["dropped"]["undeclared"], 1);
    assert!(!text.contains("hunter2"));

    // Readable for its purpose like an HTTP event; the undeclared field never stored.
    wait_until(10, "the record", || {
        stored_minutes(&server, &heating) == vec![42]
    });
    let records = server.records(&heating, &[("purpose", "heating_control")]);
    assert_eq!(records[0]["data"]["temperature_c"], 21.5);
    assert!(records[0]["data"].get("wifi_password").is_none());
    inst.assert_not_on_disk("hunter2-never-stored", "an undeclared MQTT field");
    assert!(!server.log().contains("hunter2"));

    // A wrong password is refused by the broker.
    let wrong = mosquitto_pub(
        port,
        &home.device,
        "pvd_wrong",
        "privet/v1/devices/x/events",
        "[]",
    );
    assert!(!wrong.status.success(), "a wrong password connected");

    // Another device's topic is refused: nothing lands under the other device.
    let other = server.home(&admin);
    let forged = climate(&ago(30), 30.0, 666);
    let _ = mosquitto_pub(
        port,
        &home.device,
        &home.token,
        &format!("privet/v1/devices/{}/events", other.device),
        &json!([forged]).to_string(),
    );
    let ok = mosquitto_pub(
        port,
        &other.device,
        &other.token,
        &format!("privet/v1/devices/{}/events", other.device),
        &json!([climate(&ago(20), 19.0, 7)]).to_string(),
    );
    assert!(ok.status.success(), "{ok:?}");
    wait_until(10, "the other device's own event", || {
        stored_minutes(&server, &heating).contains(&7)
    });
    assert!(
        !stored_minutes(&server, &heating).contains(&666),
        "a device published under another device's id"
    );

    // Bad payloads are refused, counted, and do not come back.
    let bad = mosquitto_pub(
        port,
        &home.device,
        &home.token,
        &format!("privet/v1/devices/{}/events", home.device),
        "{not json",
    );
    assert!(bad.status.success());
    wait_until(10, "the refusal to be counted", || {
        mqtt_count(&server, "invalid") >= 1.0
    });
    let metrics = server.get("/metrics", None).body;
    assert!(metrics.contains("privet_mqtt_connected 1"), "{metrics}");

    // The broker client changes are audited by device id.
    let audit = server.audit(&admin);
    assert!(audit.iter().any(|e| e["action"] == "device.broker_client"
        && e["detail"]["device"] == home.device.as_str()
        && e["detail"]["change"] == "created"));
}

#[test]
fn a_reset_device_can_no_longer_connect_with_its_old_token() {
    let Some(rt) = mqtt_runtime() else { return };
    let broker = dynsec_broker(&rt);
    let inst = Instance::new();
    let (admin, support) = inst.operators();
    let server = serve_bridged(
        &inst,
        &bridge_args(&broker.url(Some((ADMIN, ADMIN_PASSWORD))), "t-reset", true),
    );
    let home = server.home(&admin);
    let topic = format!("privet/v1/devices/{}/events", home.device);
    let payload = json!([climate(&ago(60), 20.0, 1)]).to_string();
    assert!(
        mosquitto_pub(broker.port(), &home.device, &home.token, &topic, &payload)
            .status
            .success()
    );

    let reset = server
        .post(
            &format!("/v1/devices/{}/reset", home.device),
            Some(&admin.secret),
            &json!({}),
        )
        .expect(200);
    let new_token = reset["token"].as_str().unwrap().to_owned();
    let old = mosquitto_pub(broker.port(), &home.device, &home.token, &topic, &payload);
    assert!(!old.status.success(), "the old token still connects");
    let new = mosquitto_pub(broker.port(), &home.device, &new_token, &topic, &payload);
    assert!(new.status.success(), "{new:?}");

    // Erasing a household disables its devices' broker clients.
    let home2 = server.home(&admin);
    let topic2 = format!("privet/v1/devices/{}/events", home2.device);
    assert!(
        mosquitto_pub(
            broker.port(),
            &home2.device,
            &home2.token,
            &topic2,
            &payload
        )
        .status
        .success()
    );
    server
        .send(server.req(
            reqwest::Method::DELETE,
            &format!("/v1/subjects/{}", home2.household),
            Some(&support.secret),
        ))
        .expect(200);
    let after = mosquitto_pub(
        broker.port(),
        &home2.device,
        &home2.token,
        &topic2,
        &payload,
    );
    assert!(
        !after.status.success(),
        "an erased household's device still connects"
    );
}

#[test]
fn kill_9_in_the_middle_of_a_qos1_stream_loses_nothing_and_stores_nothing_twice() {
    let Some(rt) = mqtt_runtime() else { return };
    let broker = persistent_broker(&rt);
    let inst = Instance::new();
    let admin = inst.key("admin", &[]);
    let heating = inst.key("analyst", &["heating_control"]);
    let args = bridge_args(&broker.url(None), "t-kill", false);
    let mut server = serve_bridged(&inst, &args);
    let home = server.home(&admin);

    const N: i64 = 3_000;
    let device = Streamer::start(&rt, broker.port(), &home.device, None, N);
    wait_until(60, "a part of the stream to be stored", || {
        mqtt_count(&server, "stored") >= 400.0
    });
    server.kill();
    let server = serve_bridged(&inst, &args);
    all_stored_once(&rt, device, &server, &heating, N);
}

#[test]
fn the_broker_restarting_mid_stream_loses_nothing() {
    let Some(rt) = mqtt_runtime() else { return };
    let mut broker = persistent_broker(&rt);
    let inst = Instance::new();
    let admin = inst.key("admin", &[]);
    let heating = inst.key("analyst", &["heating_control"]);
    // A plain subscription: Mosquitto 2.0 does not restore a shared one after its own restart,
    // so what devices publish before the bridge subscribes again would find no subscriber
    // (docs/mqtt.md); a plain one it restores, and then nothing may be lost.
    let mut args = bridge_args(&broker.url(None), "t-broker", false);
    args.extend(["--mqtt-share-group".to_owned(), String::new()]);
    let server = serve_bridged(&inst, &args);
    let home = server.home(&admin);

    const N: i64 = 3_000;
    let device = Streamer::start(&rt, broker.port(), &home.device, None, N);
    wait_until(60, "a part of the stream to be stored", || {
        mqtt_count(&server, "stored") >= 400.0
    });
    rt.block_on(broker.stop_graceful())
        .expect("stop the broker");
    wait_until(30, "the bridge to notice", || {
        server.get("/healthz", None).json()["mqtt"]["state"] != "connected"
    });
    rt.block_on(broker.restart()).expect("restart the broker");
    all_stored_once(&rt, device, &server, &heating, N);
    assert_eq!(
        server.get("/healthz", None).json()["mqtt"]["state"],
        "connected"
    );
    assert!(server.metric("privet_mqtt_reconnects_total").unwrap_or(0.0) >= 1.0);
}

#[test]
fn two_instances_share_one_subscription_and_store_every_message_once() {
    let Some(rt) = mqtt_runtime() else { return };
    let Some(inst) = Instance::postgres() else {
        return;
    };
    let broker = persistent_broker(&rt);
    let admin = inst.key("admin", &[]);
    let heating = inst.key("analyst", &["heating_control"]);
    let a = serve_bridged(&inst, &bridge_args(&broker.url(None), "t-share-a", false));
    let b = serve_bridged(&inst, &bridge_args(&broker.url(None), "t-share-b", false));
    let home = a.home(&admin);

    const N: i64 = 2_000;
    let device = Streamer::start(&rt, broker.port(), &home.device, None, N);
    wait_until(180, "every message to be stored", || {
        stored_minutes(&a, &heating).len() as i64 >= N
    });
    device.stop(&rt);
    for s in [&a, &b] {
        wait_until(30, "nothing left in flight", || {
            s.get("/healthz", None).json()["mqtt"]["in_flight"] == 0
        });
    }
    assert_each_once(&stored_minutes(&b, &heating), N);
    let (on_a, on_b) = (mqtt_count(&a, "stored"), mqtt_count(&b, "stored"));
    assert!(
        on_a > 0.0 && on_b > 0.0,
        "one instance took everything: {on_a} / {on_b}"
    );
    assert_eq!(on_a + on_b, N as f64, "a message was stored by both");
}

#[test]
fn a_device_on_old_firmware_finds_the_signed_release_retained_on_its_update_topic() {
    let Some(rt) = mqtt_runtime() else { return };
    let broker = dynsec_broker(&rt);
    let inst = Instance::new();
    let (maker_key, line) = keygen(&inst, "maker");
    use_release_key(&inst, &line);
    let admin = inst.key("admin", &[]);
    let server = serve_bridged(
        &inst,
        &bridge_args(&broker.url(Some((ADMIN, ADMIN_PASSWORD))), "t-update", true),
    );
    let home = server.home(&admin);
    let port = broker.port();
    let events = format!("privet/v1/devices/{}/events", home.device);
    let update = format!("privet/v1/devices/{}/update", home.device);

    // The device reports 1.0.0 over MQTT; then 1.1.0 is released.
    let mut event = climate(&ago(60), 20.0, 1);
    event["firmware"] = json!("1.0.0");
    assert!(
        mosquitto_pub(
            port,
            &home.device,
            &home.token,
            &events,
            &json!([event]).to_string()
        )
        .status
        .success()
    );
    wait_until(10, "the firmware to be recorded", || {
        mqtt_count(&server, "stored") >= 1.0
    });
    let release = sign(&inst, &maker_key, "1.1.0", &firmware(&inst, "1.1.0"), &[]);
    server
        .post("/v1/releases", Some(&admin.secret), &release)
        .expect(201);

    // Retained: a device that subscribes only now still finds it, signed as the maker signed it.
    let mut found = String::new();
    wait_until(10, "the retained notice", || {
        let out = mosquitto_sub(port, &home.device, &home.token, &update, 1, 1)
            .wait_with_output()
            .unwrap();
        found = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        !found.is_empty()
    });
    let notice: Value = serde_json::from_str(&found).unwrap();
    assert_eq!(notice, release);

    // Another device may not read it.
    let other = server.home(&admin);
    let out = mosquitto_sub(port, &other.device, &other.token, &update, 1, 1)
        .wait_with_output()
        .unwrap();
    assert!(
        out.stdout.is_empty(),
        "another device read the update topic"
    );
}

#[test]
fn a_graceful_stop_mid_stream_finishes_what_it_took_and_the_restart_takes_the_rest() {
    let Some(rt) = mqtt_runtime() else { return };
    let broker = persistent_broker(&rt);
    let inst = Instance::new();
    let admin = inst.key("admin", &[]);
    let heating = inst.key("analyst", &["heating_control"]);
    let mut args = bridge_args(&broker.url(None), "t-term", false);
    args.extend(["--mqtt-receive-maximum".to_owned(), "100".to_owned()]);
    let mut server = serve_bridged(&inst, &args);
    let home = server.home(&admin);

    const N: i64 = 3_000;
    let device = Streamer::start(&rt, broker.port(), &home.device, None, N);
    // However much the broker hands over, no more than Receive Maximum is taken at once.
    let mut most = 0;
    wait_until(60, "a part of the stream to be stored", || {
        let taken = server.get("/healthz", None).json()["mqtt"]["in_flight"]
            .as_u64()
            .unwrap();
        most = most.max(taken);
        mqtt_count(&server, "stored") >= 400.0
    });
    assert!(most <= 100, "{most} messages in flight");
    server.sigterm();
    let status = server.wait_exit();
    assert!(status.success(), "{status}\n{}", server.log());
    assert!(server.log().contains("privet stopped"));
    let server = serve_bridged(&inst, &args);
    let connections = all_stored_once(&rt, device, &server, &heating, N);
    // What the stopped instance committed it also acknowledged: nothing came back to it
    // (unless the device itself sent a message twice, reconnecting under load).
    if connections == 1 {
        assert_eq!(mqtt_count(&server, "duplicate"), 0.0);
    }
}

#[test]
fn two_deployments_on_the_machine_broker_each_take_their_own_devices_in_their_own_group() {
    let Some(_rt) = mqtt_runtime() else { return };
    // The broker this machine runs (CI sets the variable); other tests may share it, so the
    // groups and devices here are this test's own.
    let Some(url) = std::env::var("PRIVET_TEST_MQTT_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        assert!(
            std::env::var("PRIVET_REQUIRE_TOOLS").as_deref() != Ok("1"),
            "PRIVET_TEST_MQTT_URL is required (PRIVET_REQUIRE_TOOLS=1)"
        );
        eprintln!("skipped: PRIVET_TEST_MQTT_URL is unset");
        return;
    };
    let port: u16 = url
        .rsplit(':')
        .next()
        .and_then(|p| p.trim_end_matches('/').parse().ok())
        .unwrap_or(1883);
    let (prod, staging) = (Instance::new(), Instance::new());
    let mut servers = Vec::new();
    let mut devices = Vec::new();
    let mut readers = Vec::new();
    let mut client_ids = Vec::new();
    for (inst, group) in [(&prod, marker("prod")), (&staging, marker("staging"))] {
        let admin = inst.key("admin", &[]);
        readers.push(inst.key("analyst", &["heating_control"]));
        client_ids.push(marker("client"));
        let mut args = bridge_args(&url, &client_ids[client_ids.len() - 1], false);
        args.extend(["--mqtt-share-group".to_owned(), group.clone()]);
        let server = serve_bridged(inst, &args);
        devices.push(server.home(&admin).device);
        servers.push(server);
    }
    for (i, device) in devices.iter().enumerate() {
        let out = mosquitto_pub(
            port,
            "",
            "",
            &format!("privet/v1/devices/{device}/events"),
            &json!([climate(&ago(60), 20.0, i as i64 + 1)]).to_string(),
        );
        assert!(out.status.success(), "{out:?}");
    }
    for (i, (server, reader)) in servers.iter().zip(&readers).enumerate() {
        wait_until(10, "each deployment's own event", || {
            stored_minutes(server, reader) == vec![i as i64 + 1]
        });
        // The other deployment's device is not one of its own: refused, never stored.
        wait_until(10, "the other device's message to be refused", || {
            mqtt_count(server, "unknown_device") >= 1.0
        });
        assert_eq!(stored_minutes(server, reader), vec![i as i64 + 1]);
    }
    // The shared broker must not keep these sessions (and queue every device's messages for
    // them) for a week: connecting again with a clean start and no expiry ends them.
    drop(servers);
    for id in &client_ids {
        let ended = std::process::Command::new("mosquitto_pub")
            .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-V", "mqttv5"])
            .args(["-i", id, "-t", "privet/test/ended", "-n"])
            .output()
            .unwrap();
        assert!(ended.status.success(), "{ended:?}");
    }
}

/// A CA and a certificate for 127.0.0.1 signed by it, made with `openssl` in `dir`: (CA
/// certificate, server certificate, server key).
fn tls_files(dir: &std::path::Path) -> (String, String, String) {
    let p = |f: &str| dir.join(f).to_str().unwrap().to_owned();
    let openssl = |args: &[&str]| {
        let out = std::process::Command::new("openssl")
            .args(args)
            .output()
            .expect("run openssl");
        assert!(out.status.success(), "openssl {args:?}: {out:?}");
    };
    let ext = p("san.ext");
    std::fs::write(&ext, "subjectAltName=IP:127.0.0.1,DNS:localhost\n").unwrap();
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        &p("ca.key"),
        "-out",
        &p("ca.pem"),
        "-days",
        "2",
        "-subj",
        "/CN=Privet test CA",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        &p("server.key"),
        "-out",
        &p("server.csr"),
        "-subj",
        "/CN=127.0.0.1",
    ]);
    openssl(&[
        "x509",
        "-req",
        "-in",
        &p("server.csr"),
        "-CA",
        &p("ca.pem"),
        "-CAkey",
        &p("ca.key"),
        "-CAcreateserial",
        "-out",
        &p("server.pem"),
        "-days",
        "2",
        "-extfile",
        &ext,
    ]);
    (p("ca.pem"), p("server.pem"), p("server.key"))
}

#[test]
fn the_bridge_speaks_tls_to_a_broker_it_trusts_by_its_ca_file_only() {
    let Some(rt) = mqtt_runtime() else { return };
    let inst = Instance::new();
    let (ca, cert, key) = tls_files(inst.root());
    let tls_port = free_port();
    let broker = rt
        .block_on(privet_server::mqtt::local_broker::LocalBroker::start(
            privet_server::mqtt::local_broker::LocalBrokerOptions {
                extra_conf: format!(
                    "listener {tls_port} 127.0.0.1\ncertfile {cert}\nkeyfile {key}\n"
                ),
                ..Default::default()
            },
        ))
        .expect("broker with a TLS listener");
    let url = format!("mqtts://127.0.0.1:{tls_port}");

    // Not trusted by the system's roots: the start fails, saying why, and nothing serves.
    let mut serve: Vec<String> = vec!["serve".to_owned()];
    serve.extend(inst.backend_args());
    let serve: Vec<&str> = serve.iter().map(String::as_str).collect();
    let refused = inst.privet(
        &[
            &serve[..],
            &[
                "--manifests",
                inst.manifests.to_str().unwrap(),
                "--listen",
                "127.0.0.1:0",
                "--mqtt",
                &url,
            ],
        ]
        .concat(),
    );
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("TLS"), "{said}");

    let admin = inst.key("admin", &[]);
    let heating = inst.key("analyst", &["heating_control"]);
    let mut args = bridge_args(&url, "t-tls", false);
    args.extend(["--mqtt-ca-file".to_owned(), ca]);
    let server = serve_bridged(&inst, &args);
    assert_eq!(
        server.get("/healthz", None).json()["mqtt"]["state"],
        "connected"
    );
    let home = server.home(&admin);
    let out = mosquitto_pub(
        broker.port(),
        "",
        "",
        &format!("privet/v1/devices/{}/events", home.device),
        &json!([climate(&ago(60), 20.0, 5)]).to_string(),
    );
    assert!(out.status.success(), "{out:?}");
    wait_until(10, "the event, over the TLS bridge", || {
        stored_minutes(&server, &heating) == vec![5]
    });
}

#[test]
fn refused_messages_are_reported_counted_acknowledged_and_never_stored() {
    let Some(rt) = mqtt_runtime() else { return };
    let broker = persistent_broker(&rt);
    let inst = Instance::new();
    let (admin, support) = inst.operators();
    let heating = inst.key("analyst", &["heating_control"]);
    let mut args = bridge_args(&broker.url(None), "t-refuse", false);
    args.extend(["--max-body-bytes".to_owned(), "2000".to_owned()]);
    let server = serve_bridged(&inst, &args);
    let home = server.home(&admin);
    let port = broker.port();
    let events = format!("privet/v1/devices/{}/events", home.device);
    let results = format!("privet/v1/devices/{}/results", home.device);
    let result_of = |payload: &str| -> Value {
        let out = mosquitto_rr(port, "", "", &events, &results, payload);
        assert!(out.status.success(), "{out:?}");
        serde_json::from_slice(&out.stdout).unwrap()
    };

    let big: Vec<Value> = (0..40)
        .map(|i| climate(&ago(60), 20.0, 1_000 + i))
        .collect();
    let v = result_of(&json!(big).to_string());
    assert_eq!(
        (v["status"].as_str(), v["reason"].as_str()),
        (Some("rejected"), Some("too_large"))
    );
    let v = result_of(&json!([{"stream": "not_declared", "ts": ago(60), "data": {}}]).to_string());
    assert_eq!(
        (v["reason"].as_str(), v["type"].as_str()),
        (Some("invalid"), Some("invalid"))
    );
    assert_eq!(mqtt_count(&server, "too_large"), 1.0);
    assert_eq!(mqtt_count(&server, "invalid"), 1.0);

    // An erased household's device is revoked: what it still sends is refused.
    server
        .send(server.req(
            reqwest::Method::DELETE,
            &format!("/v1/subjects/{}", home.household),
            Some(&support.secret),
        ))
        .expect(200);
    let v = result_of(&json!([climate(&ago(30), 20.0, 7)]).to_string());
    assert_eq!(v["reason"], "revoked");

    // Acknowledged: nothing comes back to be refused again, and nothing was stored.
    let other = server.home(&admin);
    let ok = mosquitto_pub(
        port,
        "",
        "",
        &format!("privet/v1/devices/{}/events", other.device),
        &json!([climate(&ago(20), 19.0, 8)]).to_string(),
    );
    assert!(ok.status.success(), "{ok:?}");
    wait_until(10, "the other device's event", || {
        stored_minutes(&server, &heating) == vec![8]
    });
    assert_eq!(server.get("/healthz", None).json()["mqtt"]["in_flight"], 0);
    assert_eq!(
        mqtt_count(&server, "too_large") + mqtt_count(&server, "invalid"),
        2.0
    );
    assert_eq!(mqtt_count(&server, "revoked"), 1.0);
}
