//! End-to-end: an acknowledged event is durable — a server killed with SIGKILL right after
//! a 200 has lost nothing when it restarts on the same data directory.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::{Value, json};
use std::collections::BTreeSet;
use support::*;

fn stored_minutes(server: &Server, key: &Key) -> BTreeSet<i64> {
    climate_minutes(server, key).into_iter().collect()
}

#[test]
fn events_acknowledged_before_sigkill_survive_a_restart() {
    let inst = Instance::new();
    let admin = inst.key("admin", &[]);
    let heating = inst.key("analyst", &["heating_control"]);
    let mut server = inst.serve();
    let home = server.home(&admin);

    let mut sent = BTreeSet::new();
    for batch in 0..5i64 {
        let events: Vec<Value> = (0..400i64)
            .map(|i| {
                let n = batch * 1_000 + i;
                sent.insert(n);
                climate(&ago(3_600 - n % 3_000), 20.0, n)
            })
            .collect();
        assert_eq!(
            server.ingest_ok(&home.token, &json!(events))["accepted"],
            400
        );
    }
    // The last 200 has just arrived: pull the plug.
    server.kill();

    let mut server = inst.serve();
    assert_eq!(stored_minutes(&server, &heating), sent);
    // The device, keys and audit chain came through too.
    server.ingest_ok(&home.token, &json!([climate(&ago(5), 20.0, 99_999)]));
    server.stop_ok();
    let (code, out) = inst.audit_verify();
    assert_eq!(code, 0, "{out}");
}

#[test]
fn concurrent_batches_acknowledged_before_sigkill_survive_a_restart() {
    let inst = Instance::new();
    let admin = inst.key("admin", &[]);
    let heating = inst.key("analyst", &["heating_control"]);
    let mut server = inst.serve();
    let devices: Vec<(String, String)> = (0..4)
        .map(|_| {
            let h = server.household(&admin, "Concurrent");
            let (_, token) = server.device(&admin, THERMOSTAT, Some(&h), None);
            (h, token)
        })
        .collect();

    // Several devices at once, so batches share commits (group commit).
    let acknowledged: BTreeSet<i64> = std::thread::scope(|s| {
        let handles: Vec<_> = devices
            .iter()
            .enumerate()
            .map(|(d, (_, token))| {
                let server = &server;
                s.spawn(move || {
                    let mut acked = Vec::new();
                    for batch in 0..6i64 {
                        let base = (d as i64) * 100_000 + batch * 1_000;
                        let events: Vec<Value> = (0..100i64)
                            .map(|i| climate(&ago(1_000 - i), 20.0, base + i))
                            .collect();
                        let out = server.ingest_ok(token, &json!(events));
                        assert_eq!(out["accepted"], 100);
                        acked.extend(base..base + 100);
                    }
                    acked
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    server.kill();

    let server = inst.serve();
    let stored = stored_minutes(&server, &heating);
    let lost: Vec<_> = acknowledged.difference(&stored).collect();
    assert!(lost.is_empty(), "{} acknowledged events lost", lost.len());
    assert_eq!(stored.len(), 4 * 6 * 100);
}

#[test]
fn consents_recorded_before_sigkill_survive_a_restart() {
    let inst = Instance::new();
    let admin = inst.key("admin", &[]);
    let support = inst.key("support", &[]);
    let mut server = inst.serve();
    let home = server.home(&admin);
    server
        .consent(&support, &home.member, "energy_report", true)
        .expect(200);
    server.kill();
    let server = inst.serve();
    // Collection still follows the consent given before the crash.
    let out = server.ingest_ok(&home.token, &json!([presence(&ago(5), &home.member, true)]));
    assert_eq!(out["accepted"], 1, "{out}");
}
