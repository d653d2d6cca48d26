//! The ingest pipeline up to sealing: what a device's HTTP or MQTT body goes through.
//!
//! Every body is decoded both as a JSON batch and as NDJSON ([`decode_batch`]), and what
//! decodes is admitted against each shipped example manifest ([`admit_batch`]), grouped into
//! record blocks ([`plan_blocks`]) and written in the block format, as the server does before
//! it seals. Devices are untrusted, so every step must refuse bad input with an error, never
//! a panic or an overflow.
//!
//! Beyond "does not crash" it checks that:
//! - a batch holds between one and `max_events` events, and no more than the body has `{`;
//! - decoded events re-encoded as JSON and as NDJSON decode to the same events;
//! - a body holding one object decodes the same in both formats;
//! - admission keeps no more events than it was given, only declared streams and fields,
//!   and nothing already expired;
//! - the blocks hold exactly the admitted parts, and the block format reads back what it wrote.

#![no_main]

use jiff::Timestamp;
use libfuzzer_sys::fuzz_target;
use privet_manifest::{LintContext, Manifest, PurposeId, load};
use privet_policy::block::{OpenBlock, encode};
use privet_policy::{
    AdmitLimits, BatchLimits, BodyFormat, DeviceContext, IncomingEvent, SubjectRef, SubjectState,
    ValueHasher, admit_batch, decode_batch, plan_blocks,
};
use serde_json::{Map, Value};
use std::sync::OnceLock;

/// Small, so the "too many events" paths are reached by short inputs.
const LIMITS: BatchLimits = BatchLimits { max_events: 8 };

/// The server's clock for every run (seeds carry timestamps just before it), fixed so a crash
/// reproduces.
fn now() -> Timestamp {
    Timestamp::constant(1_795_860_000, 0) // 2026-11-28T10:00:00Z
}

/// The shipped example manifests: between them every field type and transform.
fn manifests() -> &'static [Manifest] {
    static M: OnceLock<Vec<Manifest>> = OnceLock::new();
    M.get_or_init(|| {
        let cx = LintContext {
            today: jiff::civil::date(2026, 11, 28),
        };
        [
            include_str!("../../examples/manifests/thermostat.toml"),
            include_str!("../../examples/manifests/fitness-tracker.toml"),
            include_str!("../../examples/manifests/smart-fridge.toml"),
            include_str!("../../examples/manifests/smart-speaker.toml"),
            include_str!("../../examples/manifests/video-doorbell.toml"),
        ]
        .into_iter()
        .map(|source| load(source, &cx).expect("the shipped examples are usable manifests"))
        .collect()
    })
}

/// Household `hh-1` with members `m-1` (who has consented to everything) and `m-2` (who has
/// restricted processing), so consent, restriction and both subject kinds are exercised.
struct Household;

impl SubjectState for Household {
    fn consented(&self, subject: &SubjectRef, _: &PurposeId) -> bool {
        subject.id() != Some("m-2")
    }

    fn restricted(&self, subject: &SubjectRef) -> bool {
        subject.id() == Some("m-2")
    }
}

/// A stand-in for the keyed hash: deterministic and shorter than most inputs.
struct LengthHasher;

impl ValueHasher for LengthHasher {
    fn hash(&self, product: &str, value: &str) -> String {
        format!("{product}:{}", value.len())
    }
}

/// An event as a device would send it: the inverse of the decoder.
fn to_json(e: &IncomingEvent) -> Value {
    let mut o = Map::new();
    o.insert("stream".into(), e.stream.clone().into());
    o.insert("ts".into(), e.ts.to_string().into());
    o.insert("data".into(), Value::Object(e.data.clone()));
    if let Some(m) = &e.member {
        o.insert("member".into(), m.clone().into());
    }
    if let Some(f) = &e.firmware {
        o.insert("firmware".into(), f.clone().into());
    }
    Value::Object(o)
}

/// Equal, but for floats within a few units in the last place: serde_json parses floats
/// best-effort by default (its `float_roundtrip` feature is off), so a float can come back one
/// bit different after printing and parsing again, even one serde_json printed itself
/// (`4.4444444444444446e+111`). Found by this target; see the README.
fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) if x.is_f64() || y.is_f64() => {
            match (x.as_f64(), y.as_f64()) {
                (Some(x), Some(y)) => x == y || (x - y).abs() <= x.abs().max(y.abs()) * 1e-15,
                _ => false,
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_value(x, y))
        }
        (Value::Object(x), Value::Object(y)) => same_map(x, y),
        _ => a == b,
    }
}

fn same_map(a: &Map<String, Value>, b: &Map<String, Value>) -> bool {
    a.len() == b.len()
        && a.iter()
            .all(|(k, v)| b.get(k).is_some_and(|w| same_value(v, w)))
}

fn same_events(a: &[IncomingEvent], b: &[IncomingEvent]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(a, b)| {
            a.stream == b.stream
                && a.ts == b.ts
                && a.member == b.member
                && a.firmware == b.firmware
                && same_map(&a.data, &b.data)
        })
}

fn check_round_trip(events: &[IncomingEvent]) {
    let array = Value::Array(events.iter().map(to_json).collect()).to_string();
    let again = decode_batch(array.as_bytes(), BodyFormat::Json, &LIMITS)
        .expect("re-encoded events decode as JSON");
    assert!(
        same_events(&again, events),
        "JSON round trip changed the events"
    );

    let lines: Vec<String> = events.iter().map(|e| to_json(e).to_string()).collect();
    let ndjson = lines.join("\n");
    let again = decode_batch(ndjson.as_bytes(), BodyFormat::Ndjson, &LIMITS)
        .expect("re-encoded events decode as NDJSON");
    assert!(
        same_events(&again, events),
        "NDJSON round trip changed the events"
    );
}

fn admit(manifest: &Manifest, events: &[IncomingEvent]) {
    let members = ["m-1".to_owned(), "m-2".to_owned()];
    let ctx = DeviceContext {
        manifest,
        household: Some("hh-1"),
        member: None,
        household_members: &members,
    };
    let now = now();
    let Ok(batch) = admit_batch(
        &ctx,
        events.to_vec(),
        &Household,
        &LengthHasher,
        now,
        &AdmitLimits::default(),
    ) else {
        return;
    };
    assert!(batch.events.len() <= events.len());
    let mut parts = 0;
    for admitted in &batch.events {
        let stream = manifest
            .stream(admitted.stream.as_str())
            .expect("admitted stream is declared");
        assert!(
            !admitted.parts.is_empty(),
            "an admitted event keeps nothing"
        );
        for part in &admitted.parts {
            assert!(
                !privet_policy::is_expired(part.expires_at, now),
                "kept expired"
            );
            for name in part.fields.keys() {
                assert!(stream.field(name).is_some(), "kept undeclared field");
            }
        }
        parts += admitted.parts.len();
    }

    let blocks = plan_blocks(batch.events);
    assert_eq!(
        blocks.iter().map(|b| b.events.len()).sum::<usize>(),
        parts,
        "blocks do not hold exactly the admitted parts"
    );
    for block in &blocks {
        assert!(block.t_min <= block.t_max);
        let plain = encode(&block.events).expect("admitted events encode");
        let read = OpenBlock::from_plaintext(plain)
            .events()
            .expect("an encoded block reads back");
        let same = read.len() == block.events.len()
            && read
                .iter()
                .zip(&block.events)
                .all(|(r, e)| r.ts == e.ts && r.exp == e.exp && same_map(&r.data, &e.data));
        assert!(same, "block format round trip changed events");
    }
}

fuzz_target!(|body: &[u8]| {
    let json = decode_batch(body, BodyFormat::Json, &LIMITS);
    let ndjson = decode_batch(body, BodyFormat::Ndjson, &LIMITS);

    let objects = body.iter().filter(|&&b| b == b'{').count();
    for events in [&json, &ndjson].into_iter().flatten() {
        assert!(!events.is_empty() && events.len() <= LIMITS.max_events);
        assert!(
            events.len() <= objects,
            "more events than objects in the body"
        );
        check_round_trip(events);
    }

    // One object alone is a batch of one in either framing.
    let one_object = body.trim_ascii_start().first() == Some(&b'{');
    if let Ok(events) = &json
        && one_object
    {
        assert_eq!(
            ndjson.as_ref().ok(),
            Some(events),
            "JSON and NDJSON disagree"
        );
    }
    if let Ok(events) = &ndjson
        && events.len() == 1
    {
        assert_eq!(json.as_ref().ok(), Some(events), "NDJSON and JSON disagree");
    }

    for events in [json, ndjson].iter().flatten() {
        for manifest in manifests() {
            admit(manifest, events);
        }
    }
});
