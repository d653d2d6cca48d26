//! End-to-end: `privet demo`, the README's first command, serves the example products and its
//! simulated devices' events are accepted — on the embedded store, and on PostgreSQL in its
//! own schemas, emptied on each run and never the deployment's. Its thermostat moves to a
//! version with a new consent-based field, which waits until Alex agrees and then is stored.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::*;

/// A running demo, killed when dropped.
struct Demo {
    child: Child,
    url: String,
    /// What it printed before serving (URL, accounts, admin key, commands to try).
    banner: Vec<String>,
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `privet demo ARGS…` and waits until it has printed how to use it.
fn demo(args: &[&str]) -> Demo {
    let port = free_port().to_string();
    let listen = format!("127.0.0.1:{port}");
    let mut child = Command::new(PRIVET)
        .arg("demo")
        .args(args)
        .args(["--listen", &listen, "--rate", "200"])
        .env_remove("PRIVET_DATABASE_URL")
        .env_remove("PRIVET_MASTER_KEY")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn privet demo");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut banner = Vec::new();
    loop {
        let line = lines
            .next()
            .unwrap_or_else(|| panic!("the demo stopped before serving: {banner:?}"))
            .expect("utf-8");
        let last = line.starts_with("Press Ctrl-C");
        banner.push(line);
        if last {
            break;
        }
    }
    let url = banner
        .iter()
        .find_map(|l| l.strip_prefix("Privet demo running at "))
        .expect("the demo printed its URL")
        .trim()
        .to_owned();
    // Keep reading so the demo never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Demo { child, url, banner }
}

impl Demo {
    /// The admin API key it printed.
    fn admin_key(&self) -> String {
        self.banner
            .iter()
            .find_map(|l| l.trim_start().strip_prefix("admin API key  :"))
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("no admin key printed: {:?}", self.banner))
            .to_owned()
    }

    /// The id of the household member it printed as `name (id)`.
    fn member(&self, name: &str) -> String {
        let marker = format!("{name} (");
        self.banner
            .iter()
            .find_map(|l| {
                let at = l.find(&marker)? + marker.len();
                l[at..].split(')').next()
            })
            .unwrap_or_else(|| panic!("no member {name} printed: {:?}", self.banner))
            .to_owned()
    }
}

/// Waits (30 s at most) until the metric line starting with `prefix` is above zero.
fn until_metric_rises(client: &reqwest::blocking::Client, demo: &Demo, prefix: &str, why: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let metrics = client
            .get(format!("{}/metrics", demo.url))
            .send()
            .unwrap()
            .text()
            .unwrap();
        let value: f64 = metrics
            .lines()
            .find(|l| l.starts_with(prefix))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0.0);
        if value > 0.0 {
            return;
        }
        assert!(Instant::now() < deadline, "{why}:\n{metrics}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Waits until the demo's simulated devices have had events accepted.
fn events_flow(demo: &Demo) {
    let client = reqwest::blocking::Client::builder()
        .no_proxy()
        .build()
        .unwrap();
    let products = client
        .get(format!("{}/v1/products", demo.url))
        .send()
        .unwrap();
    assert_eq!(products.status(), 200);
    until_metric_rises(
        &client,
        demo,
        "privet_events_accepted_total ",
        "no events accepted",
    );
}

/// The demo publishes the thermostat's next version after the household consented under the
/// first: both are listed, and the new field it adds waits for renewed consent.
fn the_next_version_waits_for_consent(demo: &Demo) {
    let client = reqwest::blocking::Client::builder()
        .no_proxy()
        .build()
        .unwrap();
    let versions: serde_json::Value = client
        .get(format!("{}/v1/products/{THERMOSTAT}/versions", demo.url))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let listed: Vec<(&str, bool)> = versions["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["version"].as_str().unwrap(),
                v["current"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(listed, [("2.5", true), ("2.4", false)], "{versions}");
    until_metric_rises(
        &client,
        demo,
        "privet_fields_dropped_total{reason=\"reconsent\"}",
        "no field waited for consent",
    );
}

/// The demo's last step, which it leaves to a person: Alex agrees to the new version (with
/// the admin key the demo printed, as the pages' switch would), and from then on the presence
/// records stored about Alex carry the new field.
fn agreeing_lets_the_new_field_in(demo: &Demo) {
    let client = reqwest::blocking::Client::builder()
        .no_proxy()
        .build()
        .unwrap();
    let key = demo.admin_key();
    let alex = demo.member("Alex");
    let changes: serde_json::Value = client
        .get(format!("{}/v1/subjects/{alex}/changes", demo.url))
        .bearer_auth(&key)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert!(
        changes["pending"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["purpose"] == "energy_report" && p["action"] == "reconsent"),
        "{changes}"
    );

    let read = |query: &str| -> serde_json::Value {
        client
            .get(format!("{}/v1/events?{query}", demo.url))
            .bearer_auth(&key)
            .send()
            .unwrap()
            .json()
            .unwrap()
    };
    let has_room = |read: &serde_json::Value| {
        read["records"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["data"]["room"].is_string())
    };
    let before = read(&query_string(&[
        ("purpose", "energy_report"),
        ("stream", "presence"),
        ("subject", &alex),
    ]));
    assert!(!has_room(&before), "stored before agreeing: {before}");

    let agreed_at = jiff::Timestamp::now();
    let agreed = client
        .put(format!(
            "{}/v1/subjects/{alex}/consents/energy_report",
            demo.url
        ))
        .bearer_auth(&key)
        .json(&serde_json::json!({"granted": true, "product": THERMOSTAT}))
        .send()
        .unwrap();
    assert_eq!(agreed.status(), 200);
    let agreed: serde_json::Value = agreed.json().unwrap();
    assert!(
        agreed["manifest_version"]
            .as_str()
            .unwrap()
            .contains(&format!("{THERMOSTAT}@2.5")),
        "{agreed}"
    );

    let since = agreed_at.to_string();
    let read_since = query_string(&[
        ("purpose", "energy_report"),
        ("stream", "presence"),
        ("subject", &alex),
        ("since", &since),
    ]);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let after = read(&read_since);
        if has_room(&after) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no presence record about Alex carries `room` since agreeing: {after}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn the_demo_serves_and_its_devices_send_on_the_embedded_store() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    let d = demo(&["--data", data.to_str().unwrap()]);
    events_flow(&d);
    the_next_version_waits_for_consent(&d);
    agreeing_lets_the_new_field_in(&d);
}

#[test]
fn the_demo_runs_on_postgres_in_its_own_schemas_emptied_each_run() {
    let Some(pg) = PgDatabase::create() else {
        return;
    };
    for _ in 0..2 {
        let d = demo(&["--database-url", &pg.url]);
        events_flow(&d);
        // One household: the second run started from empty schemas.
        assert_eq!(
            pg.sql("SELECT count(*) FROM privet_demo.subjects WHERE kind = 'household'"),
            "1"
        );
    }
    assert_eq!(
        pg.sql(
            "SELECT string_agg(nspname, ',' ORDER BY nspname) FROM pg_namespace WHERE nspname LIKE 'privet%'"
        ),
        "privet_demo,privet_demo_keyring",
        "the deployment's schemas are never made or touched by the demo"
    );
}
