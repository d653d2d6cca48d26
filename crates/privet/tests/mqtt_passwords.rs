//! End-to-end: `privet mqtt passwords` writes Mosquitto's password and ACL files from the
//! broker hashes stored when devices were registered or reset, and a real Mosquitto (2.0) run
//! with those files lets each device in with its own current token and publish to its own
//! events topic only, refuses a wrong, swapped or replaced password, and lets the bridge user
//! read every device's events through the shared subscription Privet uses. The command prints
//! counts and paths, never a token or hash; a device without a broker hash (registered before
//! they existed) is counted, and written once a reset gives it one; the bridge user's password
//! survives a rerun.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};
use support::*;

/// The bridge user the ACL is written for, and its password (set with `mosquitto_passwd`).
const BRIDGE: &str = "bridge";
const BRIDGE_PASSWORD: &str = "bridge-password-for-tests";

/// How long the broker may take to start, or a subscriber to be in place.
const READY: Duration = Duration::from_secs(10);

#[test]
fn mosquitto_admits_each_device_with_its_token_to_its_own_topics_only_sqlite() {
    broker_admits_own_topics_only(&Instance::new());
}

#[test]
fn mosquitto_admits_each_device_with_its_token_to_its_own_topics_only_postgres() {
    let Some(inst) = Instance::postgres() else {
        return;
    };
    broker_admits_own_topics_only(&inst);
}

fn broker_admits_own_topics_only(inst: &Instance) {
    let Some(mosquitto) = mosquitto_binary() else {
        return;
    };
    let admin = inst.key("admin", &[]);
    let server = inst.serve();
    let household = server.household(&admin, &marker("Household"));
    let (dev_a, token_a) = server.device(&admin, THERMOSTAT, Some(&household), None);
    let (dev_b, token_b) = server.device(&admin, THERMOSTAT, Some(&household), None);
    // A reset device: its new token gets in, the old one no longer does.
    let (dev_c, old_token_c) = server.device(&admin, THERMOSTAT, Some(&household), None);
    let token_c = reset(&server, &admin, &dev_c);
    // A device registered before broker hashes existed: it has none until its next reset.
    let (dev_old, _) = server.device(&admin, THERMOSTAT, Some(&household), None);
    forget_broker_hash(inst, &dev_old);

    let out_dir = inst.root().join("broker");
    let out = passwords(inst, &out_dir);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "mqtt passwords failed: {stderr}");
    assert!(out.stdout.is_empty(), "nothing on stdout");
    assert!(stderr.contains("wrote 3 devices"), "{stderr}");
    assert!(
        stderr.contains("1 unrevoked device issued before broker hashes existed"),
        "{stderr}"
    );
    assert!(stderr.contains("has no password yet"), "{stderr}");
    assert!(stderr.contains("password_file") && stderr.contains("acl_file"));

    let passwd_path = out_dir.join("passwd");
    let acl_path = out_dir.join("acl");
    assert_mode(&passwd_path, 0o600);
    assert_mode(&acl_path, 0o644);
    let passwd = std::fs::read_to_string(&passwd_path).unwrap();
    let users: Vec<&str> = passwd
        .lines()
        .map(|l| l.split_once(':').unwrap().0)
        .collect();
    let mut expected = vec![dev_a.as_str(), dev_b.as_str(), dev_c.as_str()];
    expected.sort();
    assert_eq!(users, expected, "the unrevoked devices with a hash, by id");
    for line in passwd.lines() {
        let (_, hash) = line.split_once(':').unwrap();
        assert!(hash.starts_with("$7$101$"), "{line}");
        assert!(!stderr.contains(hash), "a hash on stderr");
    }
    for token in [&token_a, &token_b, &token_c, &old_token_c] {
        assert!(!passwd.contains(token.as_str()) && !stderr.contains(token.as_str()));
    }

    // The old device gets its hash at its reset; the bridge's password, set by the operator,
    // is kept by the next run.
    let token_old = reset(&server, &admin, &dev_old);
    let set = Command::new("mosquitto_passwd")
        .args(["-b", passwd_path.to_str().unwrap(), BRIDGE, BRIDGE_PASSWORD])
        .output()
        .expect("run mosquitto_passwd");
    assert!(
        set.status.success(),
        "{}",
        String::from_utf8_lossy(&set.stderr)
    );
    let again = passwords(inst, &out_dir);
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(again.status.success(), "{stderr}");
    assert!(stderr.contains("wrote 4 devices"), "{stderr}");
    assert!(!stderr.contains("before broker hashes existed"), "{stderr}");
    assert!(
        stderr.contains("kept the password of bridge user"),
        "{stderr}"
    );
    assert!(!stderr.contains(&token_old));
    assert_mode(&passwd_path, 0o600);
    let passwd = std::fs::read_to_string(&passwd_path).unwrap();
    assert_eq!(passwd.lines().count(), 5, "{passwd}");
    assert!(passwd.lines().any(|l| l.starts_with("bridge:$7$")));

    let broker = Broker::start(&mosquitto, &passwd_path, &acl_path);
    let port = broker.port;

    // Each device connects with its own token and publishes to its own events topic.
    for (device, token) in [
        (&dev_a, &token_a),
        (&dev_b, &token_b),
        (&dev_c, &token_c),
        (&dev_old, &token_old),
    ] {
        let ok = publish(port, device, token, &events_topic(device), "hello");
        assert!(
            ok.status.success(),
            "{device}: {}",
            String::from_utf8_lossy(&ok.stderr)
        );
    }
    // A wrong password, another device's token, or a token replaced by a reset is refused.
    for (device, password, what) in [
        (&dev_a, "pvd_wrong", "a wrong password"),
        (&dev_a, token_b.as_str(), "another device's token"),
        (&dev_c, old_token_c.as_str(), "a token replaced by a reset"),
        (&dev_a, "", "an empty password"),
    ] {
        let refused = publish(port, device, password, &events_topic(device), "x");
        assert!(!refused.status.success(), "{what} is refused");
    }

    // The bridge reads every device's events through Privet's shared subscription; device A's
    // publish to device B's topic is dropped by the broker, its own goes through.
    let sub = Subscriber::start(
        &broker,
        "$share/privet/privet/v1/devices/+/events",
        BRIDGE,
        BRIDGE_PASSWORD,
    );
    let forged = marker("forged");
    let own = marker("own");
    let _ = publish(port, &dev_a, &token_a, &events_topic(&dev_b), &forged);
    let sent = publish(port, &dev_a, &token_a, &events_topic(&dev_a), &own);
    assert!(sent.status.success());
    assert_eq!(
        sub.finish().trim(),
        format!("{} {own}", events_topic(&dev_a)),
        "only the device's own topic is delivered"
    );
    let log = broker.log();
    assert!(
        log.lines()
            .any(|l| l.contains("Denied PUBLISH") && l.contains(&events_topic(&dev_b))),
        "the broker denied the forged publish:\n{log}"
    );

    // A device reads nothing of another device's events.
    let snoop = Subscriber::start(&broker, &events_topic(&dev_b), &dev_a, &token_a);
    let sent = publish(
        port,
        &dev_b,
        &token_b,
        &events_topic(&dev_b),
        &marker("private"),
    );
    assert!(sent.status.success());
    assert_eq!(
        snoop.finish().trim(),
        "",
        "device A reads nothing of device B"
    );
}

/// `POST /v1/devices/{id}/reset`: the device's new token.
fn reset(server: &Server, admin: &Key, device: &str) -> String {
    let v = server
        .post(
            &format!("/v1/devices/{device}/reset"),
            Some(&admin.secret),
            &serde_json::json!({}),
        )
        .expect(200);
    v["token"].as_str().expect("new token").to_owned()
}

/// `privet mqtt passwords` on this instance into `out`, for the bridge user.
fn passwords(inst: &Instance, out: &Path) -> Output {
    let backend = inst.backend_args();
    inst.privet(&[
        "mqtt",
        "passwords",
        &backend[0],
        &backend[1],
        "--out",
        out.to_str().unwrap(),
        "--bridge-user",
        BRIDGE,
    ])
}

/// Clears a device's broker hash, as a device registered before they existed has none.
fn forget_broker_hash(inst: &Instance, device: &str) {
    match &inst.pg {
        Some(pg) => {
            pg.sql(&format!(
                "UPDATE privet.devices SET broker_hash = NULL WHERE id = '{device}'"
            ));
        }
        None => {
            let n = inst
                .db()
                .execute(
                    "UPDATE devices SET broker_hash = NULL WHERE id = ?1",
                    [device],
                )
                .unwrap();
            assert_eq!(n, 1);
        }
    }
}

fn events_topic(device: &str) -> String {
    format!("privet/v1/devices/{device}/events")
}

/// `$PRIVET_MOSQUITTO` or `/usr/sbin/mosquitto`; `None` (after saying so) when missing, unless
/// `PRIVET_REQUIRE_TOOLS=1` makes that a failure.
fn mosquitto_binary() -> Option<PathBuf> {
    let path = std::env::var_os("PRIVET_MOSQUITTO")
        .filter(|p| !p.is_empty())
        .map_or_else(|| PathBuf::from("/usr/sbin/mosquitto"), PathBuf::from);
    if path.is_file() {
        return Some(path);
    }
    assert!(
        std::env::var("PRIVET_REQUIRE_TOOLS").as_deref() != Ok("1"),
        "{} is required (PRIVET_REQUIRE_TOOLS=1)",
        path.display()
    );
    eprintln!("skipped: {} not found", path.display());
    None
}

/// `mosquitto_pub` as `user`/`password`, MQTT v5, QoS 1, one message.
fn publish(port: u16, user: &str, password: &str, topic: &str, payload: &str) -> Output {
    Command::new("mosquitto_pub")
        .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-V", "mqttv5"])
        .args(["-q", "1", "-i", &format!("pub-{}", marker("c"))])
        .args(["-u", user, "-P", password, "-t", topic, "-m", payload])
        .stdin(Stdio::null())
        .output()
        .expect("run mosquitto_pub")
}

/// A Mosquitto on a free port of 127.0.0.1 with the written files; killed on drop.
struct Broker {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Broker {
    /// Starts Mosquitto with `passwd` and `acl` and waits until it listens; another free port
    /// is tried if the one picked was taken in between.
    fn start(binary: &Path, passwd: &Path, acl: &Path) -> Broker {
        let dir = tempfile::Builder::new()
            .prefix("privet-mqtt-passwords-")
            .tempdir()
            .unwrap();
        let log = dir.path().join("mosquitto.log");
        let conf = dir.path().join("mosquitto.conf");
        for attempt in 1..=5 {
            let port = free_port();
            let _ = std::fs::remove_file(&log);
            // `user root`: as root, Mosquitto would otherwise switch to the `mosquitto` user,
            // who cannot read our private temporary directories (ignored when not root).
            std::fs::write(
                &conf,
                format!(
                    "user root\npersistence false\nlog_dest file {log}\nlog_type all\n\
                     listener {port} 127.0.0.1\nallow_anonymous false\n\
                     password_file {passwd}\nacl_file {acl}\n",
                    log = log.display(),
                    passwd = passwd.display(),
                    acl = acl.display(),
                ),
            )
            .unwrap();
            let mut child = Command::new(binary)
                .arg("-c")
                .arg(&conf)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("run mosquitto");
            match wait_listening(&mut child, port) {
                Ok(()) => return Broker { child, port, dir },
                Err(why) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    let text = std::fs::read_to_string(&log).unwrap_or_default();
                    assert!(
                        attempt < 5 && text.contains("Address already in use"),
                        "{why}:\n{text}"
                    );
                }
            }
        }
        unreachable!("the fifth attempt returns or fails")
    }

    /// What Mosquitto logged so far.
    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("mosquitto.log")).unwrap_or_default()
    }
}

/// Waits until `port` accepts connections, or says why not.
fn wait_listening(child: &mut Child, port: u16) -> Result<(), String> {
    let deadline = Instant::now() + READY;
    loop {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        if let Some(status) = child.try_wait().unwrap() {
            return Err(format!("mosquitto exited with {status}"));
        }
        if Instant::now() >= deadline {
            return Err("mosquitto did not listen".to_owned());
        }
        std::thread::sleep(Duration::from_millis(25));
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `mosquitto_sub -v -C 1 -W 3` on one filter, started once the broker has its subscription.
struct Subscriber {
    child: Child,
}

impl Subscriber {
    fn start(broker: &Broker, filter: &str, user: &str, password: &str) -> Subscriber {
        let id = format!("sub-{}", marker("s"));
        let child = Command::new("mosquitto_sub")
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &broker.port.to_string(),
                "-V",
                "mqttv5",
            ])
            .args(["-q", "1", "-i", &id, "-u", user, "-P", password])
            .args(["-t", filter, "-v", "-C", "1", "-W", "3"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run mosquitto_sub");
        // Ready once the broker logged the SUBSCRIBE (`log_type all`), not after a sleep.
        let deadline = Instant::now() + READY;
        let needle = format!("Received SUBSCRIBE from {id}");
        while !broker.log().contains(&needle) {
            assert!(
                Instant::now() < deadline,
                "no subscription:\n{}",
                broker.log()
            );
            std::thread::sleep(Duration::from_millis(25));
        }
        Subscriber { child }
    }

    /// What it printed (`topic payload` lines) once it got its message or timed out.
    fn finish(self) -> String {
        let out = self.child.wait_with_output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}
