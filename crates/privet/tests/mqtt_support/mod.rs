//! Harness for the MQTT end-to-end tests: a Mosquitto of the test's own on a free port
//! (`privet_server::mqtt::local_broker`), devices that publish with `mosquitto_pub` or with a
//! rumqttc client keeping a persistent session, and waiting on what Privet stored.
#![allow(dead_code, unreachable_pub)]

use crate::support::*;
use privet_server::mqtt::local_broker::{LocalBroker, LocalBrokerOptions};
use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::mqttbytes::v5::Packet;
use rumqttc::v5::{AsyncClient, Event, MqttOptions};
use std::collections::BTreeSet;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The dynamic-security admin of the test brokers (the bridge's user too).
pub const ADMIN: &str = "privet-bridge";
/// Its password.
pub const ADMIN_PASSWORD: &str = "bridge-password-for-tests";

/// A runtime for the broker and device clients, or `None` (after saying so) when Mosquitto or
/// its clients are not installed — a failure instead under `PRIVET_REQUIRE_TOOLS=1`, as in CI.
pub fn mqtt_runtime() -> Option<tokio::runtime::Runtime> {
    let clients = ["mosquitto_pub", "mosquitto_sub", "mosquitto_rr"]
        .iter()
        .all(|c| {
            Command::new(c)
                .arg("--help")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok()
        });
    if !(clients && privet_server::mqtt::local_broker::available()) {
        assert!(
            std::env::var("PRIVET_REQUIRE_TOOLS").as_deref() != Ok("1"),
            "mosquitto and its clients are required (PRIVET_REQUIRE_TOOLS=1)"
        );
        eprintln!("skipped: mosquitto or mosquitto_pub/mosquitto_sub not installed");
        return None;
    }
    Some(runtime())
}

/// A runtime for the async broker and device clients inside blocking tests.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// A broker with dynamic security, its admin being [`ADMIN`].
pub fn dynsec_broker(rt: &tokio::runtime::Runtime) -> LocalBroker {
    rt.block_on(LocalBroker::start(LocalBrokerOptions {
        dynsec: Some((ADMIN.to_owned(), ADMIN_PASSWORD.to_owned())),
        ..LocalBrokerOptions::default()
    }))
    .expect("start mosquitto with dynamic security")
}

/// An anonymous broker that keeps queued messages on disk across a graceful restart.
pub fn persistent_broker(rt: &tokio::runtime::Runtime) -> LocalBroker {
    rt.block_on(LocalBroker::start(LocalBrokerOptions {
        persistence: true,
        max_queued_messages: Some(1_000_000),
        ..LocalBrokerOptions::default()
    }))
    .expect("start mosquitto")
}

/// `--mqtt URL --mqtt-client-id ID` (and `--mqtt-dynsec` with `dynsec`).
pub fn bridge_args(url: &str, client_id: &str, dynsec: bool) -> Vec<String> {
    let mut a = vec![
        "--mqtt".to_owned(),
        url.to_owned(),
        "--mqtt-client-id".to_owned(),
        client_id.to_owned(),
    ];
    if dynsec {
        a.push("--mqtt-dynsec".to_owned());
    }
    a
}

/// Starts `privet serve` with `args`.
pub fn serve_bridged(inst: &Instance, args: &[String]) -> Server {
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    inst.serve_with(&refs)
}

/// `mosquitto_pub` as `user`/`password` (anonymous with an empty user), MQTT v5, QoS 1,
/// connecting as the device's own client id; its output.
pub fn mosquitto_pub(port: u16, user: &str, password: &str, topic: &str, payload: &str) -> Output {
    let port = port.to_string();
    let mut cmd = Command::new("mosquitto_pub");
    cmd.args(["-h", "127.0.0.1", "-p", &port, "-V", "mqttv5", "-q", "1"])
        .args(["-i", &client_id(user)]);
    if !user.is_empty() {
        cmd.args(["-u", user, "-P", password]);
    }
    cmd.args(["-t", topic, "-m", payload])
        .stdin(Stdio::null())
        .output()
        .expect("run mosquitto_pub")
}

/// A device connects as its own client id (the broker refuses any other); an anonymous
/// client gets one of its own.
fn client_id(user: &str) -> String {
    if user.is_empty() {
        format!("anon-{}", marker("c"))
    } else {
        user.to_owned()
    }
}

/// `mosquitto_rr` as a device: publishes `payload` to `topic` and waits (at most 20 s) for
/// one message on `response`, on one connection, as a device does; its output.
pub fn mosquitto_rr(
    port: u16,
    user: &str,
    password: &str,
    topic: &str,
    response: &str,
    payload: &str,
) -> Output {
    let port = port.to_string();
    let mut cmd = Command::new("mosquitto_rr");
    cmd.args(["-h", "127.0.0.1", "-p", &port, "-V", "mqttv5", "-q", "1"])
        .args(["-i", &client_id(user)]);
    // An empty user: anonymous (a broker without per-device credentials).
    if !user.is_empty() {
        cmd.args(["-u", user, "-P", password]);
    }
    cmd.args(["-t", topic, "-e", response, "-m", payload, "-W", "20"])
        .stdin(Stdio::null())
        .output()
        .expect("run mosquitto_rr")
}

/// Starts `mosquitto_sub` for `count` messages on `topic` (waiting at most `secs`), as the
/// device's own client id.
pub fn mosquitto_sub(
    port: u16,
    user: &str,
    password: &str,
    topic: &str,
    count: u32,
    secs: u32,
) -> std::process::Child {
    let port = port.to_string();
    Command::new("mosquitto_sub")
        .args(["-h", "127.0.0.1", "-p", &port, "-V", "mqttv5", "-q", "1"])
        .args(["-u", user, "-P", password, "-i", &client_id(user)])
        .args([
            "-t",
            topic,
            "-C",
            &count.to_string(),
            "-W",
            &secs.to_string(),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run mosquitto_sub")
}

/// Waits until `check` holds, polling; panics with `what` after `secs`.
pub fn wait_until(secs: u64, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The `heating_minutes` of every climate record `key` reads, in order, repeats kept.
pub fn stored_minutes(server: &Server, key: &Key) -> Vec<i64> {
    climate_minutes(server, key)
}

/// The count of MQTT messages with `outcome` on `server` (0 before the first).
pub fn mqtt_count(server: &Server, outcome: &str) -> f64 {
    server
        .metric(&format!(
            "privet_mqtt_messages_total{{outcome=\"{outcome}\"}}"
        ))
        .unwrap_or(0.0)
}

/// Asserts `minutes` holds each of `0..n` exactly once.
pub fn assert_each_once(minutes: &[i64], n: i64) {
    let set: BTreeSet<i64> = minutes.iter().copied().collect();
    let missing: Vec<i64> = (0..n).filter(|m| !set.contains(m)).take(10).collect();
    assert!(missing.is_empty(), "lost messages, e.g. {missing:?}");
    assert_eq!(
        minutes.len(),
        set.len(),
        "{} events stored more than once",
        minutes.len() - set.len()
    );
    assert_eq!(set.len() as i64, n);
}

/// A device that publishes `n` one-event messages (heating minutes `0..n`) at QoS 1 from a
/// persistent session, riding out broker restarts (rumqttc sends what was not acknowledged
/// again); `acked` counts the broker's PUBACKs. Runs on `rt` until stopped, so a message
/// whose PUBACK was lost in a broker restart is still sent again, and counting PUBACKs (a
/// resent message may be acknowledged twice) never decides when it stops.
pub struct Streamer {
    pub acked: Arc<AtomicU64>,
    /// Connections the device made (more than one: it resent what was not acknowledged, which
    /// the broker may hand to Privet twice — MQTT's at-least-once).
    pub connections: Arc<AtomicU64>,
    done: tokio::task::JoinHandle<()>,
}

impl Streamer {
    pub fn start(
        rt: &tokio::runtime::Runtime,
        port: u16,
        device: &str,
        credentials: Option<(&str, &str)>,
        n: i64,
    ) -> Streamer {
        let mut o = MqttOptions::new(format!("sim-{device}"), "127.0.0.1", port);
        o.set_clean_start(false)
            .set_session_expiry_interval(Some(3600))
            .set_keep_alive(Duration::from_secs(5));
        if let Some((u, p)) = credentials {
            o.set_credentials(u, p);
        }
        let (client, mut eventloop) = AsyncClient::new(o, 256);
        let acked = Arc::new(AtomicU64::new(0));
        let counter = acked.clone();
        let connections = Arc::new(AtomicU64::new(0));
        let connected = connections.clone();
        let topic = format!("privet/v1/devices/{device}/events");
        let done = rt.spawn(async move {
            let publisher = tokio::spawn(async move {
                for i in 0..n {
                    let event = climate(&ago(3_000 - i % 2_500), 20.0, i);
                    let payload = serde_json::to_vec(&vec![event]).unwrap_or_default();
                    if client
                        .publish(topic.clone(), QoS::AtLeastOnce, false, payload)
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
            });
            loop {
                match eventloop.poll().await {
                    Ok(Event::Incoming(Packet::PubAck(_))) => {
                        counter.fetch_add(1, Ordering::SeqCst);
                    }
                    Ok(Event::Incoming(Packet::ConnAck(_))) => {
                        connected.fetch_add(1, Ordering::SeqCst);
                    }
                    Ok(_) => {}
                    Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                }
                if publisher.is_finished() && counter.load(Ordering::SeqCst) >= n as u64 {
                    // Every message handed over and acknowledged: keep the session's
                    // connection, but poll slower.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        });
        Streamer {
            acked,
            connections,
            done,
        }
    }

    /// Stops the device; returns the connections it made.
    pub fn stop(self, rt: &tokio::runtime::Runtime) -> u64 {
        self.done.abort();
        let _ = rt.block_on(self.done);
        self.connections.load(Ordering::SeqCst)
    }
}

/// Waits until the device's `n` messages are all acknowledged by the broker and stored, and
/// nothing is in flight; then asserts each was stored exactly once. Returns the connections
/// the device made.
pub fn all_stored_once(
    rt: &tokio::runtime::Runtime,
    device: Streamer,
    server: &Server,
    key: &Key,
    n: i64,
) -> u64 {
    // Stored is what counts: the device keeps its session (and sends again what the broker
    // did not acknowledge) until then.
    wait_until(180, "every message to be stored", || {
        stored_minutes(server, key).len() as i64 >= n
    });
    let connections = device.stop(rt);
    // Let any redelivery still in flight land before counting.
    wait_until(30, "nothing left in flight", || {
        server.get("/healthz", None).json()["mqtt"]["in_flight"] == 0
    });
    assert_each_once(&stored_minutes(server, key), n);
    connections
}
