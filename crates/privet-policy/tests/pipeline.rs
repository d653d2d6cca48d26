//! The ingest pipeline end to end on a realistic thermostat manifest: decode → admit → read.

// Test helpers outside `#[test]` functions may unwrap and panic too.
#![allow(clippy::unwrap_used, clippy::panic)]

use privet_manifest::{FieldName, Manifest, PurposeId, Severity};
use privet_policy::{
    AdmitLimits, AdmittedBatch, BatchLimits, BodyFormat, DecodeError, DeviceContext, DropCounts,
    ReadGrant, Rejection, SubjectRef, SubjectState, ValueHasher, admit_batch, decode_batch,
    strip_fields, unjustified_fields,
};
use proptest::prelude::*;
use serde_json::{Map, Value, json};
use std::collections::HashSet;

const THERMOSTAT: &str = include_str!("fixtures/thermostat_full.toml");

const MARKER: &str = "SECRET-VALUE-123";
const NOW: &str = "2026-11-28T12:00:00Z";
const MEMBERS: &[&str] = &["alice", "bob"];

fn manifest_from(source: &str) -> Manifest {
    let parsed = privet_manifest::parse(source).unwrap();
    let errors: Vec<_> = parsed
        .findings
        .iter()
        .filter(|f| f.severity() == Severity::Error)
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    parsed.manifest
}

fn thermostat() -> Manifest {
    manifest_from(THERMOSTAT)
}

fn strict_thermostat() -> Manifest {
    manifest_from(&THERMOSTAT.replace(
        "security_updates_until = \"2031-12-31\"",
        "security_updates_until = \"2031-12-31\"\nstrict = true",
    ))
}

/// Consents by (subject id, purpose); restricted subject ids.
#[derive(Default)]
struct Subjects {
    consents: HashSet<(String, String)>,
    restricted: HashSet<String>,
    objections: HashSet<(String, String)>,
}

impl Subjects {
    fn consenting(subject: &str, purpose: &str) -> Self {
        let mut s = Subjects::default();
        s.consents.insert((subject.to_owned(), purpose.to_owned()));
        s
    }
}

impl SubjectState for Subjects {
    fn consented(&self, subject: &SubjectRef, purpose: &PurposeId) -> bool {
        subject.id().is_some_and(|id| {
            self.consents
                .contains(&(id.to_owned(), purpose.as_str().to_owned()))
        })
    }

    fn restricted(&self, subject: &SubjectRef) -> bool {
        subject.id().is_some_and(|id| self.restricted.contains(id))
    }

    fn objected(&self, subject: &SubjectRef, purpose: &PurposeId) -> bool {
        subject.id().is_some_and(|id| {
            self.objections
                .contains(&(id.to_owned(), purpose.as_str().to_owned()))
        })
    }
}

/// A stand-in for the keyed hash: deterministic, and visibly not the input.
struct TestHasher;

impl ValueHasher for TestHasher {
    fn hash(&self, product: &str, value: &str) -> String {
        let sum: u32 = value.bytes().map(u32::from).sum();
        format!("{product}/{sum:08x}")
    }
}

struct Device {
    household: Option<&'static str>,
    member: Option<&'static str>,
}

const SHARED: Device = Device {
    household: Some("hh-1"),
    member: None,
};
const ALICES: Device = Device {
    household: Some("hh-1"),
    member: Some("alice"),
};

fn ingest_with(
    manifest: &Manifest,
    device: &Device,
    subjects: &Subjects,
    body: &str,
) -> Result<AdmittedBatch, Rejection> {
    let events = decode_batch(
        body.as_bytes(),
        BodyFormat::Json,
        &BatchLimits { max_events: 1000 },
    )
    .unwrap();
    let members: Vec<String> = MEMBERS.iter().map(|m| (*m).to_owned()).collect();
    let ctx = DeviceContext {
        manifest,
        household: device.household,
        member: device.member,
        household_members: &members,
    };
    admit_batch(
        &ctx,
        events,
        subjects,
        &TestHasher,
        NOW.parse().unwrap(),
        &AdmitLimits::default(),
    )
}

fn ingest(device: &Device, subjects: &Subjects, body: &str) -> Result<AdmittedBatch, Rejection> {
    ingest_with(&thermostat(), device, subjects, body)
}

/// All kept fields of the batch's `n`th admitted event, across parts.
fn fields(batch: &AdmittedBatch, n: usize) -> Value {
    let mut all = Map::new();
    for part in &batch.events[n].parts {
        all.extend(part.fields.clone());
    }
    Value::Object(all)
}

#[test]
fn undeclared_fields_are_dropped_and_counted_including_nested_keys() {
    let body = r#"[{"stream": "climate", "ts": "2026-11-28T11:00:00Z", "data": {
        "temperature_c": 20.0,
        "wifi_ssid": "MyHome",
        "wifi_password": "hunter2",
        "schedule": {"mode": "eco", "owner_email": "a@b.example", "window": {"open": false, "camera": "on"}}
    }}]"#;
    let batch = ingest(&SHARED, &Subjects::default(), body).unwrap();
    assert_eq!(
        batch.dropped,
        DropCounts {
            undeclared: 4,
            ..DropCounts::default()
        }
    );
    assert_eq!(
        fields(&batch, 0),
        json!({"temperature_c": 20.0, "schedule": {"mode": "eco", "window": {"open": false}}})
    );
}

#[test]
fn strict_products_reject_undeclared_fields_by_name() {
    let m = strict_thermostat();
    let top = format!(
        r#"[{{"stream": "climate", "ts": "2026-11-28T11:00:00Z", "data": {{"temperature_c": 20}}}},
           {{"stream": "climate", "ts": "2026-11-28T11:00:00Z", "data": {{"wifi_password": "{MARKER}"}}}}]"#
    );
    let err = ingest_with(&m, &SHARED, &Subjects::default(), &top).unwrap_err();
    assert_eq!(
        err,
        Rejection::Undeclared {
            index: 1,
            stream: privet_manifest::StreamId::new("climate"),
            field: "wifi_password".to_owned(),
        }
    );
    let nested = r#"[{"stream": "climate", "ts": "2026-11-28T11:00:00Z",
        "data": {"schedule": {"mode": "eco", "window": {"open": true, "camera": "on"}}}}]"#;
    let err = ingest_with(&m, &SHARED, &Subjects::default(), nested).unwrap_err();
    assert!(
        matches!(&err, Rejection::Undeclared { index: 0, field, .. } if field == "schedule.window.camera"),
        "{err:?}"
    );
    // Declared data passes in strict mode too.
    let clean =
        r#"[{"stream": "climate", "ts": "2026-11-28T11:00:00Z", "data": {"temperature_c": 20}}]"#;
    assert!(ingest_with(&m, &SHARED, &Subjects::default(), clean).is_ok());
}

#[test]
fn consent_only_fields_are_kept_only_with_consent_and_mixed_basis_fields_always() {
    let body = r#"[
        {"stream": "climate", "ts": "2026-11-28T11:00:00Z", "data": {"temperature_c": 19.2, "humidity_pct": 45}},
        {"stream": "presence", "ts": "2026-11-28T11:00:00Z", "data": {"home": true}, "member": "bob"}
    ]"#;
    let none = ingest(&SHARED, &Subjects::default(), body).unwrap();
    assert_eq!(none.dropped.no_consent, 2);
    assert_eq!(none.events.len(), 1, "the presence event has nothing left");
    assert_eq!(fields(&none, 0), json!({"temperature_c": 19.0}));

    let household_consents = Subjects::consenting("hh-1", "energy_report");
    let some = ingest(&SHARED, &household_consents, body).unwrap();
    assert_eq!(some.dropped.no_consent, 1, "bob has not consented");
    assert_eq!(
        fields(&some, 0),
        json!({"temperature_c": 19.0, "humidity_pct": 40})
    );

    let bob_consents = Subjects::consenting("bob", "energy_report");
    let bob = ingest(&SHARED, &bob_consents, body).unwrap();
    assert_eq!(bob.events.len(), 2);
    assert_eq!(bob.events[1].subject, SubjectRef::Member("bob".into()));
    assert_eq!(fields(&bob, 1), json!({"home": true}));
}

#[test]
fn an_objection_removes_its_purpose_as_a_reason_to_collect() {
    let body = r#"[{"stream": "climate", "ts": "2026-11-28T11:00:00Z", "data": {"temperature_c": 19.2, "humidity_pct": 45}}]"#;
    let mut objecting = Subjects::default();
    objecting
        .objections
        .insert(("hh-1".to_owned(), "heating_control".to_owned()));
    let batch = ingest(&SHARED, &objecting, body).unwrap();
    assert_eq!(
        batch.dropped.no_consent, 2,
        "no purpose is left for either field"
    );
    assert!(batch.events.is_empty());

    // Both fields also serve the consent-based energy report: with consent they stay.
    objecting
        .consents
        .insert(("hh-1".to_owned(), "energy_report".to_owned()));
    let batch = ingest(&SHARED, &objecting, body).unwrap();
    assert_eq!(batch.dropped.no_consent, 0);
    assert_eq!(
        fields(&batch, 0),
        json!({"temperature_c": 19.0, "humidity_pct": 40})
    );
}

#[test]
fn the_subject_is_the_event_member_else_the_device_member() {
    let event = |member: &str| {
        format!(
            r#"[{{"stream": "presence", "ts": "2026-11-28T11:00:00Z", "data": {{"location": {{"lat": 1, "lon": 2}}}}{member}}}]"#
        )
    };
    let subjects = Subjects::default();
    let named = ingest(&ALICES, &subjects, &event(r#", "member": "bob""#)).unwrap();
    assert_eq!(named.events[0].subject, SubjectRef::Member("bob".into()));
    let device = ingest(&ALICES, &subjects, &event("")).unwrap();
    assert_eq!(device.events[0].subject, SubjectRef::Member("alice".into()));
    assert!(matches!(
        ingest(&ALICES, &subjects, &event(r#", "member": "mallory""#)),
        Err(Rejection::UnknownMember { index: 0, .. })
    ));
    assert!(matches!(
        ingest(&SHARED, &subjects, &event("")),
        Err(Rejection::NoMember { index: 0, .. })
    ));
    let unattached = Device {
        household: None,
        member: None,
    };
    assert!(matches!(
        ingest(&unattached, &subjects, &event("")),
        Err(Rejection::NoHousehold { index: 0, .. })
    ));
    let climate = r#"[{"stream": "climate", "ts": "2026-11-28T11:00:00Z", "data": {"temperature_c": 1}, "member": "bob"}]"#;
    assert!(matches!(
        ingest(&unattached, &subjects, climate),
        Err(Rejection::NoHousehold { index: 0, .. })
    ));
    assert!(
        matches!(
            ingest(&ALICES, &subjects, climate),
            Err(Rejection::MemberNotAllowed { index: 0, .. })
        ),
        "a household stream's event may not name a member"
    );
    let climate = climate.replace(r#", "member": "bob""#, "");
    assert_eq!(
        ingest(&ALICES, &subjects, &climate).unwrap().events[0].subject,
        SubjectRef::Household("hh-1".into())
    );
    // Non-personal data needs no household.
    let diag =
        r#"[{"stream": "diagnostics", "ts": "2026-11-28T11:00:00Z", "data": {"uptime_s": 60}}]"#;
    assert_eq!(
        ingest(&unattached, &subjects, diag).unwrap().events[0].subject,
        SubjectRef::NotPersonal
    );
}

#[test]
fn type_mismatches_reject_the_batch_with_the_index_and_expected_type() {
    let cases = [
        (
            "climate",
            r#"{"temperature_c": "warm"}"#,
            "temperature_c",
            "number",
        ),
        (
            "climate",
            r#"{"temperature_c": null}"#,
            "temperature_c",
            "number",
        ),
        (
            "climate",
            r#"{"humidity_pct": 45.5}"#,
            "humidity_pct",
            "integer",
        ),
        ("climate", r#"{"device_id": 42}"#, "device_id", "string"),
        (
            "climate",
            r#"{"schedule": {"target_c": "21"}}"#,
            "schedule.target_c",
            "number",
        ),
        ("climate", r#"{"schedule": []}"#, "schedule", "object"),
        ("presence", r#"{"home": "yes"}"#, "home", "bool"),
        (
            "presence",
            r#"{"last_seen": "about noon"}"#,
            "last_seen",
            "an RFC 3339 timestamp string",
        ),
        (
            "diagnostics",
            r#"{"uptime_s": -0.5}"#,
            "uptime_s",
            "integer",
        ),
    ];
    for (stream, data, field, expected) in cases {
        let body = format!(
            r#"[{{"stream": "climate", "ts": "2026-11-28T11:00:00Z", "data": {{}}}},
               {{"stream": "{stream}", "ts": "2026-11-28T11:00:00Z", "data": {data}}}]"#
        );
        match ingest(&ALICES, &Subjects::default(), &body) {
            Err(Rejection::TypeMismatch {
                index: 1,
                stream: s,
                field: f,
                expected: e,
            }) => {
                assert_eq!(
                    (s.as_str(), f.as_str(), e.as_str()),
                    (stream, field, expected),
                    "{data}"
                );
            }
            other => panic!("{data}: {other:?}"),
        }
    }
    let far = r#"[{"stream": "presence", "ts": "2026-11-28T11:00:00Z", "data": {"location": {"lat": 95, "lon": 0}}}]"#;
    let err = ingest(&ALICES, &Subjects::default(), far).unwrap_err();
    assert!(err.to_string().contains("must be location"), "{err}");
}

#[test]
fn future_timestamps_are_rejected() {
    let body = r#"[{"stream": "climate", "ts": "2026-11-28T11:00:00Z", "data": {"temperature_c": 1}},
                   {"stream": "climate", "ts": "2026-11-28T12:30:00Z", "data": {"temperature_c": 1}}]"#;
    assert_eq!(
        ingest(&SHARED, &Subjects::default(), body),
        Err(Rejection::FutureTimestamp { index: 1 })
    );
    let drift =
        r#"[{"stream": "climate", "ts": "2026-11-28T12:04:00Z", "data": {"temperature_c": 1}}]"#;
    assert!(ingest(&SHARED, &Subjects::default(), drift).is_ok());
}

#[test]
fn parts_past_their_retention_are_dropped_and_counted_expired() {
    // Ten days old: last_seen (kept 7 days) has expired, location (30 days) has not.
    let body = r#"[{"stream": "presence", "ts": "2026-11-18T12:00:00Z",
        "data": {"last_seen": "2026-11-18T11:47:12Z", "location": {"lat": 51.5, "lon": 0.1}}}]"#;
    let batch = ingest(&ALICES, &Subjects::default(), body).unwrap();
    assert_eq!(batch.dropped.expired, 1);
    assert_eq!(batch.events[0].parts.len(), 1);
    assert_eq!(
        fields(&batch, 0),
        json!({"location": {"lat": 51.5, "lon": 0.1}})
    );

    // Forty days old: nothing left, so no event at all.
    let ancient = body.replace("2026-11-18T12:00:00Z", "2026-10-19T12:00:00Z");
    let batch = ingest(&ALICES, &Subjects::default(), &ancient).unwrap();
    assert_eq!(batch.dropped.expired, 2);
    assert!(batch.events.is_empty());
}

#[test]
fn drop_after_puts_a_field_in_a_shorter_part() {
    let body = r#"[{"stream": "presence", "ts": "2026-11-28T11:00:00Z",
        "data": {"last_seen": "2026-11-28T10:59:00Z", "location": {"lat": 51.5, "lon": 0.1}}}]"#;
    let batch = ingest(&ALICES, &Subjects::default(), body).unwrap();
    let parts = &batch.events[0].parts;
    assert_eq!(parts.len(), 2);
    let short = parts
        .iter()
        .find(|p| p.fields.contains_key("last_seen"))
        .unwrap();
    let long = parts
        .iter()
        .find(|p| p.fields.contains_key("location"))
        .unwrap();
    assert_eq!(short.retention.to_string(), "7d");
    assert_eq!(short.expires_at.to_string(), "2026-12-05T11:00:00Z");
    assert_eq!(short.fields.len(), 1);
    assert_eq!(long.retention.to_string(), "30d");
    assert_eq!(long.expires_at.to_string(), "2026-12-28T11:00:00Z");
}

#[test]
fn every_transform_minimises_its_field() {
    let body = r#"[
        {"stream": "climate", "ts": "2026-11-28T11:00:00Z",
         "data": {"temperature_c": 21.26, "humidity_pct": 71, "device_id": "SN-0042-XYZ"}},
        {"stream": "presence", "ts": "2026-11-28T11:00:00Z",
         "data": {"last_seen": "2026-11-28T10:47:12.345+00:00", "location": {"lat": 51.50735, "lon": -0.12776, "accuracy": 8}}}
    ]"#;
    let subjects = Subjects::consenting("hh-1", "energy_report");
    let batch = ingest(&ALICES, &subjects, body).unwrap();
    let hashed = TestHasher.hash("acme-thermostat-2", "SN-0042-XYZ");
    assert_eq!(
        fields(&batch, 0),
        json!({"temperature_c": 21.5, "humidity_pct": 60, "device_id": hashed})
    );
    assert_eq!(
        fields(&batch, 1),
        json!({"last_seen": "2026-11-28T10:00:00Z", "location": {"lat": 51.5, "lon": -0.12, "accuracy": 8}})
    );
    // Below the first bucket bound: the first bound.
    let low =
        r#"[{"stream": "climate", "ts": "2026-11-28T11:00:00Z", "data": {"humidity_pct": -3}}]"#;
    assert_eq!(
        fields(&ingest(&SHARED, &subjects, low).unwrap(), 0),
        json!({"humidity_pct": 0})
    );
}

#[test]
fn a_restricted_subjects_events_are_dropped() {
    let mut subjects = Subjects::default();
    subjects.restricted.insert("alice".to_owned());
    let body = r#"[
        {"stream": "presence", "ts": "2026-11-28T11:00:00Z", "data": {"last_seen": "2026-11-28T11:00:00Z", "location": {"lat": 1, "lon": 1}}},
        {"stream": "presence", "ts": "2026-11-28T11:00:00Z", "data": {"last_seen": "2026-11-28T11:00:00Z"}, "member": "bob"},
        {"stream": "climate", "ts": "2026-11-28T11:00:00Z", "data": {"temperature_c": 20}}
    ]"#;
    let batch = ingest(&ALICES, &subjects, body).unwrap();
    assert_eq!(batch.dropped.restricted, 2);
    let subjects: Vec<_> = batch.events.iter().map(|e| e.subject.clone()).collect();
    assert_eq!(
        subjects,
        [
            SubjectRef::Member("bob".into()),
            SubjectRef::Household("hh-1".into())
        ]
    );
}

#[test]
fn reads_return_only_the_purposes_fields() {
    let body = r#"[{"stream": "climate", "ts": "2026-11-28T11:00:00Z",
        "data": {"temperature_c": 20.0, "humidity_pct": 50, "device_id": "SN-1"}}]"#;
    let m = thermostat();
    let batch = ingest_with(
        &m,
        &SHARED,
        &Subjects::consenting("hh-1", "energy_report"),
        body,
    )
    .unwrap();
    let stored = fields(&batch, 0);
    let stored = stored.as_object().unwrap();

    let report = ReadGrant::new(&m, &PurposeId::new("energy_report")).unwrap();
    assert!(report.needs_consent());
    assert_eq!(
        report.project("climate", stored),
        json!({"temperature_c": 20.0, "humidity_pct": 40})
            .as_object()
            .cloned()
    );
    let streams: Vec<_> = report.streams().map(|s| s.id.as_str()).collect();
    assert_eq!(streams, ["climate", "presence"]);

    let heating = ReadGrant::new(&m, &PurposeId::new("heating_control")).unwrap();
    let projected = heating.project("climate", stored).unwrap();
    let mut keys: Vec<_> = projected.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["device_id", "temperature_c"]);
    assert!(ReadGrant::new(&m, &PurposeId::new("marketing")).is_none());
}

#[test]
fn withdrawing_consent_purges_only_fields_held_solely_for_it() {
    let m = thermostat();
    let withdrawn = unjustified_fields(&m, &|_| false, &|_| false);
    let names: Vec<(&str, Vec<&str>)> = withdrawn
        .iter()
        .map(|(s, f)| (s.as_str(), f.iter().map(FieldName::as_str).collect()))
        .collect();
    assert_eq!(
        names,
        [
            ("climate", vec!["humidity_pct"]),
            ("presence", vec!["home"])
        ]
    );

    let mut record = json!({"temperature_c": 20.0, "humidity_pct": 40})
        .as_object()
        .cloned()
        .unwrap();
    assert_eq!(strip_fields(&mut record, &withdrawn[0].1), 1);
    assert_eq!(Value::Object(record), json!({"temperature_c": 20.0}));
}

#[test]
fn ndjson_bodies_flow_through_the_same_pipeline() {
    let body = b"{\"stream\":\"diagnostics\",\"ts\":\"2026-11-28T11:00:00Z\",\"data\":{\"uptime_s\":60},\"firmware\":\"2.4.1\"}\n\n{\"stream\":\"climate\",\"ts\":\"2026-11-28T11:01:00Z\",\"data\":{\"temperature_c\":18.74}}\n";
    let events = decode_batch(body, BodyFormat::Ndjson, &BatchLimits::default()).unwrap();
    let m = thermostat();
    let ctx = DeviceContext {
        manifest: &m,
        household: Some("hh-1"),
        member: None,
        household_members: &[],
    };
    let batch = admit_batch(
        &ctx,
        events,
        &Subjects::default(),
        &TestHasher,
        NOW.parse().unwrap(),
        &AdmitLimits::default(),
    )
    .unwrap();
    assert_eq!(batch.events.len(), 2);
    assert_eq!(batch.firmware.as_deref(), Some("2.4.1"));
    assert_eq!(fields(&batch, 1), json!({"temperature_c": 18.5}));
    assert_eq!(
        serde_json::to_value(batch.dropped).unwrap(),
        json!({"undeclared": 0, "no_consent": 0, "reconsent": 0, "expired": 0, "restricted": 0})
    );
}

#[test]
fn no_rejection_or_decode_error_reveals_a_value() {
    let strict = strict_thermostat();
    let data_cases = [
        ("climate", format!(r#"{{"temperature_c": "{MARKER}"}}"#)),
        ("climate", format!(r#"{{"humidity_pct": ["{MARKER}"]}}"#)),
        (
            "climate",
            format!(r#"{{"schedule": {{"mode": ["{MARKER}"]}}}}"#),
        ),
        (
            "climate",
            format!(r#"{{"schedule": {{"window": {{"open": "{MARKER}"}}}}}}"#),
        ),
        (
            "climate",
            format!(r#"{{"device_id": {{"v": "{MARKER}"}}}}"#),
        ),
        ("climate", format!(r#"{{"undeclared_field": "{MARKER}"}}"#)),
        ("presence", format!(r#"{{"last_seen": "{MARKER}"}}"#)),
        ("presence", format!(r#"{{"home": "{MARKER}"}}"#)),
        (
            "presence",
            format!(r#"{{"location": {{"lat": 1, "lon": 2, "label": "{MARKER}"}}}}"#),
        ),
        ("diagnostics", format!(r#"{{"uptime_s": "{MARKER}"}}"#)),
    ];
    let mut seen = 0;
    for (stream, data) in &data_cases {
        // Only member streams may name a member: elsewhere the batch would be refused for
        // that before any value is looked at.
        let member = if *stream == "presence" {
            r#", "member": "alice""#
        } else {
            ""
        };
        let body = format!(
            r#"[{{"stream": "{stream}", "ts": "2026-11-28T11:00:00Z", "data": {data}{member}}}]"#
        );
        for m in [&thermostat(), &strict] {
            if let Err(err) = ingest_with(m, &ALICES, &Subjects::default(), &body) {
                seen += 1;
                assert!(!err.to_string().contains(MARKER), "{err}");
                assert!(!format!("{err:?}").contains(MARKER), "{err:?}");
            }
        }
    }
    assert!(
        seen >= data_cases.len(),
        "every case is rejected at least once"
    );

    // A member id the device chose is not echoed either.
    let member = format!(
        r#"[{{"stream": "presence", "ts": "2026-11-28T11:00:00Z", "data": {{}}, "member": "{MARKER}"}}]"#
    );
    let err = ingest(&ALICES, &Subjects::default(), &member).unwrap_err();
    assert!(!format!("{err} {err:?}").contains(MARKER));
    let bad = format!(
        r#"[{{"stream": "climate", "ts": "2026-11-28T11:00:00Z", "data": {{}}, "firmware": 5, "x": "{MARKER}"}}]"#
    );
    let err: DecodeError =
        decode_batch(bad.as_bytes(), BodyFormat::Json, &BatchLimits::default()).unwrap_err();
    assert!(!format!("{err} {err:?}").contains(MARKER));
}

/// Arbitrary JSON values, nested a few levels.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "[a-z0-9:.+TZ-]{0,30}".prop_map(Value::from),
        Just(Value::from("2026-11-28T10:47:12Z")),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::btree_map(key(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Mostly the manifest's own names, so values reach every check and transform.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "temperature_c",
            "humidity_pct",
            "device_id",
            "schedule",
            "mode",
            "target_c",
            "window",
            "open",
            "home",
            "last_seen",
            "location",
            "lat",
            "lon",
            "accuracy",
            "uptime_s",
        ])
        .prop_map(str::to_owned),
        "[a-z_]{1,10}",
    ]
}

proptest! {
    #[test]
    fn decode_never_panics_on_arbitrary_bytes(body in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = decode_batch(&body, BodyFormat::Json, &BatchLimits::default());
        let _ = decode_batch(&body, BodyFormat::Ndjson, &BatchLimits::default());
    }

    #[test]
    fn decode_never_panics_on_json_shaped_text(body in r#"[\[\]{}":, \n0-9a-z.-]{0,200}"#) {
        let _ = decode_batch(body.as_bytes(), BodyFormat::Json, &BatchLimits { max_events: 3 });
        let _ = decode_batch(body.as_bytes(), BodyFormat::Ndjson, &BatchLimits { max_events: 3 });
    }

    #[test]
    fn admit_never_panics_on_arbitrary_data(
        stream in prop::sample::select(vec!["climate", "presence", "diagnostics", "other"]),
        data in prop::collection::btree_map(key(), any_json(), 0..8),
        strict in any::<bool>(),
        offset_h in -2000i64..2,
    ) {
        let m = if strict { strict_thermostat() } else { thermostat() };
        let now: jiff::Timestamp = NOW.parse().unwrap();
        let ts = now.checked_add(jiff::SignedDuration::from_hours(offset_h)).unwrap();
        let events = vec![privet_policy::IncomingEvent {
            stream: stream.to_owned(),
            ts,
            data: data.into_iter().collect(),
            member: None,
            firmware: None,
        }];
        let members = vec!["alice".to_owned()];
        let ctx = DeviceContext { manifest: &m, household: Some("hh-1"), member: Some("alice"), household_members: &members };
        let subjects = Subjects::consenting("hh-1", "energy_report");
        let _ = admit_batch(&ctx, events, &subjects, &TestHasher, now, &AdmitLimits::default());
    }
}

/// The thermostat with a second stream about members whose first field is kept under the
/// contract, beside `presence` whose first field needs consent: two streams about one subject
/// in one batch.
fn thermostat_two_member_streams() -> Manifest {
    manifest_from(&format!(
        "{THERMOSTAT}
[streams.activity]
subject = \"member\"

[streams.activity.fields.steps]
type = \"integer\"
category = \"user.behavior\"
purposes = [\"heating_control\"]
retention = \"30d\"
"
    ))
}

/// One event of the differential test: a stream, an optional member, every field filled.
fn pooled_event(stream: &str, member: Option<&str>, hours_ago: i64) -> Value {
    let data = match stream {
        "climate" => json!({"temperature_c": 19.2, "humidity_pct": 45, "device_id": "t-1"}),
        "presence" => json!({"home": true, "last_seen": "2026-11-28T10:17:00Z"}),
        "activity" => json!({"steps": 120}),
        _ => json!({"uptime_s": 3600}),
    };
    let ts = NOW.parse::<jiff::Timestamp>().unwrap() - jiff::SignedDuration::from_hours(hours_ago);
    let mut e = json!({"stream": stream, "ts": ts.to_string(), "data": data});
    // Only events of member streams may name a member.
    if let Some(m) = member.filter(|_| matches!(stream, "presence" | "activity")) {
        e["member"] = json!(m);
    }
    e
}

/// What admission made of each event: its subject, stream and kept fields, and the counts.
fn outcome(batch: &AdmittedBatch) -> (Vec<(SubjectRef, String, Value)>, DropCounts) {
    let events = (0..batch.events.len())
        .map(|i| {
            let e = &batch.events[i];
            (e.subject.clone(), e.stream.to_string(), fields(batch, i))
        })
        .collect();
    (events, batch.dropped)
}

fn admit_json(m: &Manifest, subjects: &Subjects, events: &[Value]) -> AdmittedBatch {
    ingest_with(
        m,
        &ALICES,
        subjects,
        &Value::Array(events.to_vec()).to_string(),
    )
    .unwrap()
}

proptest! {
    /// Admission decides per event: a batch admits exactly what its events admit one by one,
    /// whatever the mix of subjects, streams, consents, objections and restrictions. (The
    /// batch plan remembers answers per subject and field; a memo keyed too coarsely would
    /// carry one subject's or one stream's answer over to another.)
    #[test]
    fn a_batch_admits_what_its_events_admit_one_by_one(
        picks in prop::collection::vec(
            (prop::sample::select(vec!["climate", "presence", "activity", "diagnostics"]),
             prop::sample::select(vec![None, Some("alice"), Some("bob")]),
             prop::sample::select(vec![1i64, 200, 24 * 40])),
            1..12),
        consents in prop::collection::vec(any::<bool>(), 6),
        objections in prop::collection::vec(any::<bool>(), 6),
        restricted in prop::collection::vec(any::<bool>(), 3),
    ) {
        let m = thermostat_two_member_streams();
        let who = ["hh-1", "alice", "bob"];
        let purposes = ["energy_report", "heating_control"];
        let mut subjects = Subjects::default();
        for (i, (c, o)) in consents.iter().zip(&objections).enumerate() {
            let key = (who[i / 2].to_owned(), purposes[i % 2].to_owned());
            if *c { subjects.consents.insert(key.clone()); }
            if *o { subjects.objections.insert(key); }
        }
        for (s, r) in who.iter().zip(&restricted) {
            if *r { subjects.restricted.insert((*s).to_owned()); }
        }
        let events: Vec<Value> = picks.iter().map(|(s, m, h)| pooled_event(s, *m, *h)).collect();

        let (together, together_dropped) = outcome(&admit_json(&m, &subjects, &events));
        let mut alone = Vec::new();
        let mut alone_dropped = DropCounts::default();
        for e in &events {
            let (kept, dropped) = outcome(&admit_json(&m, &subjects, std::slice::from_ref(e)));
            alone.extend(kept);
            alone_dropped.undeclared += dropped.undeclared;
            alone_dropped.no_consent += dropped.no_consent;
            alone_dropped.reconsent += dropped.reconsent;
            alone_dropped.expired += dropped.expired;
            alone_dropped.restricted += dropped.restricted;
        }
        prop_assert_eq!(together, alone);
        prop_assert_eq!(together_dropped, alone_dropped);
    }
}

#[test]
fn one_subjects_consent_is_not_another_subjects_in_the_same_batch() {
    let body = r#"[
        {"stream": "presence", "ts": "2026-11-28T11:00:00Z", "data": {"home": true}, "member": "alice"},
        {"stream": "presence", "ts": "2026-11-28T11:00:00Z", "data": {"home": false}, "member": "bob"}
    ]"#;
    let batch = ingest(
        &SHARED,
        &Subjects::consenting("alice", "energy_report"),
        body,
    )
    .unwrap();
    assert_eq!(batch.dropped.no_consent, 1, "bob has not consented");
    assert_eq!(batch.events.len(), 1);
    assert_eq!(batch.events[0].subject, SubjectRef::Member("alice".into()));
}

#[test]
fn two_streams_about_one_subject_are_decided_field_by_field() {
    // `activity.steps` is kept under the contract; `presence.home` needs consent. Both are the
    // first field of their stream, both about alice, in one batch.
    let m = thermostat_two_member_streams();
    let events = [
        pooled_event("activity", Some("alice"), 1),
        json!({"stream": "presence", "ts": "2026-11-28T11:00:00Z", "data": {"home": true}, "member": "alice"}),
    ];
    let batch = admit_json(&m, &Subjects::default(), &events);
    assert_eq!(batch.dropped.no_consent, 1);
    assert_eq!(batch.events.len(), 1);
    assert_eq!(batch.events[0].stream.to_string(), "activity");
    let reversed = admit_json(
        &m,
        &Subjects::default(),
        &[events[1].clone(), events[0].clone()],
    );
    assert_eq!(reversed.dropped.no_consent, 1);
    assert_eq!(reversed.events.len(), 1);
    assert_eq!(reversed.events[0].stream.to_string(), "activity");
}
