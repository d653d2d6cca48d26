//! Generated events against the real policy: every field of every example manifest gets a
//! value `privet_policy` admits, and the values are plausible.

use super::events::EventGen;
use super::manifests;
use jiff::Timestamp;
use privet_manifest::{Manifest, PurposeId};
use privet_policy::{
    AdmitLimits, AdmittedBatch, BatchLimits, BodyFormat, DeviceContext, DropCounts, SubjectRef,
    SubjectState, ValueHasher, admit_batch, decode_batch,
};
use serde_json::Value;

struct Permissive;

impl SubjectState for Permissive {
    fn consented(&self, _: &SubjectRef, _: &PurposeId) -> bool {
        true
    }
}

struct LengthHasher;

impl ValueHasher for LengthHasher {
    fn hash(&self, _: &str, value: &str) -> String {
        format!("h{}", value.len())
    }
}

fn members() -> Vec<String> {
    vec![
        "mem_0123456789abcdef0123456789abcdef".to_owned(),
        "mem_fedcba9876543210fedcba9876543210".to_owned(),
    ]
}

/// Sends `events` through decode and admit as a device of `m` in household `hh_1`.
fn admit(m: &Manifest, events: Vec<Value>, now: Timestamp) -> AdmittedBatch {
    let body = serde_json::to_vec(&Value::Array(events)).unwrap();
    let decoded = decode_batch(
        &body,
        BodyFormat::Json,
        &BatchLimits {
            max_events: 100_000,
        },
    )
    .unwrap();
    let members = members();
    let ctx = DeviceContext {
        manifest: m,
        household: Some("hh_1"),
        member: None,
        household_members: &members,
    };
    admit_batch(
        &ctx,
        decoded,
        &Permissive,
        &LengthHasher,
        now,
        &AdmitLimits::default(),
    )
    .unwrap_or_else(|r| panic!("{}: rejected: {r}", m.product.id.value))
}

#[test]
fn every_field_of_every_example_manifest_gets_a_value_the_policy_admits() {
    let now = Timestamp::now();
    for m in manifests::load(None).unwrap() {
        let mut generator = EventGen::new(m.clone(), members(), 42).without_undeclared();
        let rounds = 30;
        let streams = generator.stream_count();
        let events: Vec<Value> = (0..rounds)
            .flat_map(|_| 0..streams)
            .map(|i| generator.event_of(i, now).json)
            .collect();
        let batch = admit(&m, events, now);
        let product = m.product.id.value.as_str();
        assert_eq!(batch.dropped, DropCounts::default(), "{product}");
        assert_eq!(batch.events.len(), rounds * m.streams.len(), "{product}");
        for stream in &m.streams {
            for field in &stream.fields {
                let name = field.name.value.as_str();
                let kept = batch.events.iter().any(|e| {
                    e.stream == stream.id.value
                        && e.parts.iter().any(|p| p.fields.contains_key(name))
                });
                assert!(kept, "{product}: {}.{name} never kept", stream.id.value);
            }
        }
    }
}

#[test]
fn undeclared_fields_come_now_and_then_except_to_strict_products() {
    let now = Timestamp::now();
    for m in manifests::load(None).unwrap() {
        let mut generator = EventGen::new(m.clone(), members(), 7);
        let events: Vec<Value> = (0..600)
            .filter_map(|_| generator.next(now).map(|e| e.json))
            .collect();
        assert_eq!(events.len(), 600);
        let batch = admit(&m, events, now);
        let d = batch.dropped;
        assert_eq!((d.no_consent, d.expired, d.restricted), (0, 0, 0));
        if m.product.strict {
            assert_eq!(d.undeclared, 0, "{}", m.product.id.value);
        } else {
            assert!(
                (5..=100).contains(&d.undeclared),
                "{}: {} undeclared in 600",
                m.product.id.value,
                d.undeclared
            );
        }
    }
}

#[test]
fn a_device_without_members_sends_no_member_streams() {
    let now = Timestamp::now();
    let m = manifests::load(None)
        .unwrap()
        .into_iter()
        .find(|m| m.product.id.value.as_str() == "stride-band-4")
        .unwrap();
    let mut generator = EventGen::new(m.clone(), Vec::new(), 3);
    for _ in 0..50 {
        let e = generator.next(now).unwrap();
        assert_eq!(e.json["stream"], "band_health");
        assert!(e.json.get("member").is_none());
    }
}

fn numbers(events: &[Value], stream: &str, field: &str) -> Vec<f64> {
    events
        .iter()
        .filter(|e| e["stream"] == stream)
        .filter_map(|e| e["data"][field].as_f64())
        .collect()
}

#[test]
fn values_are_plausible_for_their_names() {
    let now = Timestamp::now();
    let all = manifests::load(None).unwrap();
    let by_id = |id: &str| {
        all.iter()
            .find(|m| m.product.id.value.as_str() == id)
            .unwrap()
            .clone()
    };
    let sample = |id: &str| -> Vec<Value> {
        let mut g = EventGen::new(by_id(id), members(), 11);
        (0..400)
            .filter_map(|_| g.next(now).map(|e| e.json))
            .collect()
    };
    let thermostat = sample("wren-thermostat-2");
    let temps = numbers(&thermostat, "climate", "temperature_c");
    assert!(!temps.is_empty());
    assert!(temps.iter().all(|t| (18.0..=24.0).contains(t)), "{temps:?}");
    let humidity = numbers(&thermostat, "climate", "humidity_pct");
    assert!(humidity.iter().all(|h| (30.0..=70.0).contains(h)));
    let band = sample("stride-band-4");
    let bpm = numbers(&band, "heart", "bpm");
    assert!(!bpm.is_empty());
    assert!(bpm.iter().all(|b| (55.0..=160.0).contains(b)));
    for run in band.iter().filter(|e| e["stream"] == "runs") {
        for point in run["data"]["route"].as_array().unwrap() {
            let (lat, lon) = (
                point["lat"].as_f64().unwrap(),
                point["lon"].as_f64().unwrap(),
            );
            assert!(
                (49.9..=60.9).contains(&lat) && (-8.2..=1.8).contains(&lon),
                "in the UK"
            );
        }
    }
}
