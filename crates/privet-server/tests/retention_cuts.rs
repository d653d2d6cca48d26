//! A shorter retention in a new manifest version applies to data already held: the retention
//! run strips the values past it (and nothing younger), and audits what it removed; a longer
//! one applies only to new data: a value held keeps the expiry it was stored with and goes at
//! it, while one taken under the longer retention outlives it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod household_support;

use household_support::*;
use jiff::SignedDuration;
use privet_server::service::blocks::Scan;
use privet_server::service::{publish, retention};
use privet_store::BlockQuery;

const DAY: i64 = 86_400;

/// The thermostat example, with humidity kept for `humidity` at `version`.
fn thermostat(version: &str, humidity: &str) -> String {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/manifests/thermostat.toml"
    );
    let mut text = std::fs::read_to_string(path).unwrap();
    let at = text.find("[streams.climate.fields.humidity_pct]").unwrap();
    let old = "retention = \"30d\"";
    let rel = text[at..].find(old).unwrap();
    text.replace_range(
        at + rel..at + rel + old.len(),
        &format!("retention = \"{humidity}\""),
    );
    text.replacen("version = \"2.4\"", &format!("version = \"{version}\""), 1)
}

/// Every humidity value stored, by event age in days at the clock's now.
async fn humidity_ages(app: &App) -> Vec<i64> {
    let now = app.state.clock().now();
    let mut scan = Scan::start(
        &app.state,
        BlockQuery {
            streams: vec!["climate".to_owned()],
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let mut ages = Vec::new();
    while let Some((_, opened)) = scan.next().await.unwrap() {
        for ev in opened.events().unwrap() {
            if ev.data.contains_key("humidity_pct") {
                ages.push(now.duration_since(ev.ts).as_secs() / DAY);
            }
        }
    }
    ages.sort_unstable();
    ages
}

#[tokio::test]
async fn a_shorter_retention_removes_held_values_past_it_and_a_longer_one_applies_only_to_new_data()
{
    let app = app();
    publish::publish(&app.state, &thermostat("2.4", "30d"), "system")
        .await
        .unwrap();
    let mut c = owner(&app, "cuts@example.com").await;
    let household = subject_of(&mut c, "hh").await;
    let reg = app.thermostat(Some(&household)).await;
    let now = app.state.clock().now();
    let events: Vec<_> = [20, 10, 3]
        .iter()
        .map(|days| {
            let ts = now - SignedDuration::from_secs(days * DAY);
            serde_json::json!({"stream": "climate", "ts": ts.to_string(),
                "data": {"temperature_c": 20.0, "humidity_pct": 40}})
        })
        .collect();
    let req = axum::http::Request::post("/v1/ingest")
        .header("authorization", format!("Bearer {}", reg.token.expose()))
        .header("content-type", "application/json")
        .body(axum::body::Body::from(
            serde_json::Value::Array(events).to_string(),
        ))
        .unwrap();
    let resp = tower::ServiceExt::oneshot(app.router.clone(), req)
        .await
        .unwrap();
    assert_eq!(resp.status(), axum::http::StatusCode::OK);
    assert_eq!(humidity_ages(&app).await, [3, 10, 20]);

    // 2.5 keeps humidity a week: the 10- and 20-day-old values go, the 3-day-old one stays,
    // and so do the temperatures beside them.
    publish::publish(&app.state, &thermostat("2.5", "7d"), "system")
        .await
        .unwrap();
    retention::run_once(&app.state).await.unwrap();
    assert_eq!(humidity_ages(&app).await, [3]);
    let entries = app.state.store().audit(None, 10_000).await.unwrap();
    let cut = entries
        .iter()
        .find(|e| e.entry.action == "retention.cut")
        .expect("the cut is audited");
    assert_eq!(cut.entry.detail["values"], 2, "{:?}", cut.entry.detail);
    assert!(cut.entry.subjects.is_empty(), "counts only");

    // 2.6 keeps it 90 days: nothing is cut any more, and the value left keeps the expiry it
    // was stored with (30 days, under 2.4): a longer retention extends nothing already held.
    publish::publish(&app.state, &thermostat("2.6", "90d"), "system")
        .await
        .unwrap();
    app.state
        .clock()
        .advance(SignedDuration::from_secs(5 * DAY));
    retention::run_once(&app.state).await.unwrap();
    assert_eq!(humidity_ages(&app).await, [8]);
    let lineage = app
        .state
        .products()
        .lineage("wren-thermostat-2")
        .cloned()
        .unwrap();
    assert!(lineage.cuts().is_empty());

    // A value taken under 2.6 is kept its 90 days.
    let now = app.state.clock().now().to_string();
    let out = app
        .ingest(
            reg.token.expose(),
            serde_json::json!([{"stream": "climate", "ts": now,
                "data": {"temperature_c": 20.0, "humidity_pct": 40}}]),
        )
        .await;
    assert_eq!(out["accepted"], 1, "{out}");
    assert_eq!(humidity_ages(&app).await, [0, 8]);

    // 33 days on, both are past 2.4's 30 days (and the day-wide window its data is dropped
    // in): the value taken under 2.4 is gone with it, the one taken under 2.6 stays.
    app.state
        .clock()
        .advance(SignedDuration::from_secs(33 * DAY));
    let report = retention::run_once(&app.state).await.unwrap();
    assert!(report.events_dropped > 0, "{report:?}");
    assert_eq!(humidity_ages(&app).await, [33]);
}
