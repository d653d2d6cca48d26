use super::*;
use privet_manifest::PurposeId;
use serde_json::json;

const MANIFEST: &str = include_str!("../../tests/fixtures/meter.toml");

fn manifest() -> Manifest {
    privet_manifest::parse(MANIFEST).unwrap().manifest
}

#[derive(Default)]
struct State {
    consents: Vec<&'static str>,
    /// Fields the consents in force were not given for (a later version changed them).
    outdated: Vec<&'static str>,
    restricted: bool,
}

impl SubjectState for State {
    fn consented(&self, _: &SubjectRef, purpose: &PurposeId) -> bool {
        self.consents.contains(&purpose.as_str())
    }
    fn restricted(&self, _: &SubjectRef) -> bool {
        self.restricted
    }
    fn version_covers(
        &self,
        _: &SubjectRef,
        _: &PurposeId,
        _: &privet_manifest::StreamId,
        field: &privet_manifest::FieldName,
    ) -> bool {
        !self.outdated.contains(&field.as_str())
    }
}

struct Hasher;
impl ValueHasher for Hasher {
    fn hash(&self, _: &str, value: &str) -> String {
        format!("#{}", value.len())
    }
}

fn now() -> Timestamp {
    "2026-11-28T12:00:00Z".parse().unwrap()
}

fn event(stream: &str, ts: &str, data: Value) -> IncomingEvent {
    IncomingEvent {
        stream: stream.to_owned(),
        ts: ts.parse().unwrap(),
        data: data.as_object().cloned().unwrap_or_default(),
        member: None,
        firmware: None,
    }
}

fn admit(
    m: &Manifest,
    events: Vec<IncomingEvent>,
    state: &State,
    limits: &AdmitLimits,
) -> Result<AdmittedBatch, Rejection> {
    let ctx = DeviceContext {
        manifest: m,
        household: Some("hh-1"),
        member: None,
        household_members: &[],
    };
    admit_batch(&ctx, events, state, &Hasher, now(), limits)
}

#[test]
fn timestamps_within_the_limits_are_admitted() {
    let m = manifest();
    let limits = AdmitLimits {
        max_future: SignedDuration::from_mins(5),
        max_past: Some(SignedDuration::from_hours(24)),
    };
    let ok = |ts| {
        admit(
            &m,
            vec![event("usage", ts, json!({"kwh": 1}))],
            &State::default(),
            &limits,
        )
    };
    assert!(ok("2026-11-28T12:05:00Z").is_ok());
    assert_eq!(
        ok("2026-11-28T12:05:01Z"),
        Err(Rejection::FutureTimestamp { index: 0 })
    );
    assert!(ok("2026-11-27T12:00:00Z").is_ok());
    assert_eq!(
        ok("2026-11-27T11:59:59Z"),
        Err(Rejection::PastTimestamp { index: 0 })
    );
}

#[test]
fn unknown_streams_reject_the_batch_with_the_name_cut_short() {
    let m = manifest();
    let long = "s".repeat(100);
    let events = vec![
        event("usage", "2026-11-28T11:00:00Z", json!({})),
        event(&long, "2026-11-28T11:00:00Z", json!({})),
    ];
    match admit(&m, events, &State::default(), &AdmitLimits::default()) {
        Err(Rejection::UnknownStream { index: 1, stream }) => assert_eq!(stream.len(), 64),
        other => panic!("{other:?}"),
    }
}

#[test]
fn consent_only_fields_wait_for_consent_but_not_personal_data_does_not() {
    let m = manifest();
    let events = || {
        vec![
            event(
                "usage",
                "2026-11-28T11:00:00Z",
                json!({"kwh": 2.5, "appliance": "kettle"}),
            ),
            event("grid", "2026-11-28T11:00:00Z", json!({"voltage": 231})),
        ]
    };
    let b = admit(&m, events(), &State::default(), &AdmitLimits::default()).unwrap();
    assert_eq!(b.dropped.no_consent, 1);
    assert_eq!(b.events.len(), 2);
    assert_eq!(b.events[0].parts.len(), 1);
    assert!(b.events[0].parts[0].fields.contains_key("kwh"));
    assert_eq!(b.events[1].subject, SubjectRef::NotPersonal);

    let consenting = State {
        consents: vec!["insights"],
        ..State::default()
    };
    let b = admit(&m, events(), &consenting, &AdmitLimits::default()).unwrap();
    assert_eq!(b.dropped, DropCounts::default());
    assert_eq!(b.events[0].parts.len(), 2);
}

#[test]
fn a_consent_older_than_a_field_s_material_change_waits_for_reconsent_and_the_rest_flows() {
    let m = manifest();
    let events = vec![event(
        "usage",
        "2026-11-28T11:00:00Z",
        json!({"kwh": 2.5, "appliance": "kettle"}),
    )];
    let outdated = State {
        consents: vec!["insights"],
        outdated: vec!["appliance"],
        ..State::default()
    };
    let b = admit(&m, events, &outdated, &AdmitLimits::default()).unwrap();
    assert_eq!(b.dropped.reconsent, 1, "{:?}", b.dropped);
    assert_eq!(b.dropped.no_consent, 0);
    assert_eq!(b.dropped.total(), 1);
    let kept: Vec<&String> = b.events[0]
        .parts
        .iter()
        .flat_map(|p| p.fields.keys())
        .collect();
    assert_eq!(kept, ["kwh"], "what the old version covered keeps flowing");

    // Without consent at all, the field is dropped for want of consent, not of reconsent.
    let none = State {
        outdated: vec!["appliance"],
        ..State::default()
    };
    let events = vec![event(
        "usage",
        "2026-11-28T11:00:00Z",
        json!({"appliance": "kettle"}),
    )];
    let b = admit(&m, events, &none, &AdmitLimits::default()).unwrap();
    assert_eq!((b.dropped.no_consent, b.dropped.reconsent), (1, 0));
}

#[test]
fn fields_without_a_purpose_or_a_bounded_retention_are_never_stored() {
    let m = manifest();
    let e = event(
        "usage",
        "2026-11-28T11:00:00Z",
        json!({"orphan": 1, "unbounded": 2}),
    );
    let b = admit(&m, vec![e], &State::default(), &AdmitLimits::default()).unwrap();
    assert_eq!(b.dropped.undeclared, 2);
    assert!(b.events.is_empty());
}

#[test]
fn restricted_subjects_are_dropped_whole_without_validation() {
    let m = manifest();
    let state = State {
        restricted: true,
        ..State::default()
    };
    let e = event(
        "usage",
        "2026-11-28T11:00:00Z",
        json!({"kwh": "not a number", "x": 1}),
    );
    let b = admit(&m, vec![e], &state, &AdmitLimits::default()).unwrap();
    assert_eq!(b.dropped.restricted, 2);
    assert!(b.events.is_empty());
    // Non-personal data is nobody's to restrict.
    let e = event("grid", "2026-11-28T11:00:00Z", json!({"voltage": 230}));
    assert_eq!(
        admit(&m, vec![e], &state, &AdmitLimits::default())
            .unwrap()
            .events
            .len(),
        1
    );
}

#[test]
fn expiry_is_the_retention_from_the_event_time() {
    let m = manifest();
    let e = event("usage", "2026-11-28T11:00:00Z", json!({"kwh": 1}));
    let b = admit(&m, vec![e], &State::default(), &AdmitLimits::default()).unwrap();
    let part = &b.events[0].parts[0];
    assert_eq!(part.retention.to_string(), "2y");
    assert_eq!(part.expires_at.to_string(), "2028-11-28T11:00:00Z");

    let old = event("grid", "2026-11-21T11:59:59Z", json!({"voltage": 230}));
    let b = admit(&m, vec![old], &State::default(), &AdmitLimits::default()).unwrap();
    assert_eq!(b.dropped.expired, 1);
    assert!(b.events.is_empty());
}

#[test]
fn firmware_is_taken_from_the_newest_event() {
    let m = manifest();
    let mut a = event("usage", "2026-11-28T11:00:00Z", json!({"kwh": 1}));
    a.firmware = Some("2.0".into());
    let mut b = event("usage", "2026-11-28T10:00:00Z", json!({"kwh": 1}));
    b.firmware = Some("1.0".into());
    let c = event("usage", "2026-11-28T11:30:00Z", json!({"kwh": 1}));
    let batch = admit(
        &m,
        vec![a, b, c],
        &State::default(),
        &AdmitLimits::default(),
    )
    .unwrap();
    assert_eq!(batch.firmware.as_deref(), Some("2.0"));
}

#[test]
fn part_debug_shows_names_not_values() {
    let m = manifest();
    let e = event(
        "grid",
        "2026-11-28T11:00:00Z",
        json!({"voltage": 123456789}),
    );
    let b = admit(&m, vec![e], &State::default(), &AdmitLimits::default()).unwrap();
    let dbg = format!("{b:?}");
    assert!(dbg.contains("voltage"), "{dbg}");
    assert!(!dbg.contains("123456789"), "{dbg}");
}

#[test]
fn rejection_index_is_reported() {
    let m = manifest();
    let events = vec![
        event("usage", "2026-11-28T11:00:00Z", json!({"kwh": 1})),
        event("usage", "2026-11-28T11:00:00Z", json!({"kwh": true})),
    ];
    let err = admit(&m, events, &State::default(), &AdmitLimits::default()).unwrap_err();
    assert_eq!(err.index(), 1);
    assert!(!err.is_manifest_fault());
    assert_eq!(
        err.to_string(),
        "event 1: field `kwh` of stream `usage` must be number"
    );
}
