use super::*;

fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

const MANIFEST: &str = r#"
[product]
id = "wren-thermostat-2"
name = "Wren"
maker = "Wren Ltd"

[purposes.heating_control]
description = "Run your heating."
use = "essential.service"
basis = "contract"
recipients = ["installer"]

[purposes.supplier_tariff]
description = "Bill you on a smart tariff."
use = "third_party_sharing"
basis = "consent"

[recipients.installer]
name = "Fixit Ltd"

[recipients.energy_supplier]
name = "Brightwatt Energy Ltd"
purposes = ["supplier_tariff"]

[recipients.unused]
name = "Nobody Ltd"

[streams.climate]
subject = "household"

[streams.climate.fields.heating_minutes]
type = "integer"
category = "user.sensor"
purposes = ["heating_control", "supplier_tariff"]
retention = "400d"
"#;

fn manifest() -> Manifest {
    privet_manifest::parse(MANIFEST).unwrap().manifest
}

#[test]
fn names_round_trip_and_only_six_can_be_subscribed_to() {
    for e in EventType::ALL {
        assert_eq!(EventType::parse(e.as_str()), Some(e));
    }
    assert_eq!(EventType::SUBSCRIBABLE.len(), 6);
    assert_eq!(
        EventType::parse_subscribable("erasure.completed"),
        Some(EventType::ErasureCompleted)
    );
    assert_eq!(EventType::parse_subscribable("recipient.erasure"), None);
    assert_eq!(EventType::parse("erasure.complete"), None);
    assert!(EventType::RecipientRestriction.is_recipient_notice());
    assert!(!EventType::DeviceReset.is_recipient_notice());
}

#[test]
fn an_event_goes_to_subscribers_and_a_notice_to_the_mapped_endpoint_only() {
    let events = vec!["request.created".to_owned()];
    let supplier = RecipientKey {
        product: "wren-thermostat-2".into(),
        recipient: "energy_supplier".into(),
    };
    let other = RecipientKey {
        product: "wren-thermostat-2".into(),
        recipient: "installer".into(),
    };
    let mapped = vec![supplier.clone()];
    let route = Route {
        events: &events,
        recipients: &mapped,
    };
    assert!(delivers_to(EventType::RequestCreated, None, route));
    assert!(!delivers_to(EventType::DeviceReset, None, route));
    assert!(delivers_to(
        EventType::RecipientErasure,
        Some(&supplier),
        route
    ));
    assert!(!delivers_to(
        EventType::RecipientErasure,
        Some(&other),
        route
    ));
    assert!(!delivers_to(EventType::RecipientErasure, None, route));
    // Subscribing to a notice's name does not route notices of unmapped recipients.
    let by_name = vec!["recipient.erasure".to_owned()];
    let none: Vec<RecipientKey> = Vec::new();
    let route = Route {
        events: &by_name,
        recipients: &none,
    };
    assert!(!delivers_to(
        EventType::RecipientErasure,
        Some(&supplier),
        route
    ));
}

#[test]
fn retries_back_off_from_five_seconds_to_dead_after_eight_attempts() {
    let at = t("2026-05-01T10:00:00Z");
    assert_eq!(next_attempt(1, at, 0), Retry::At(t("2026-05-01T10:00:05Z")));
    assert_eq!(next_attempt(2, at, 0), Retry::At(t("2026-05-01T10:00:30Z")));
    assert_eq!(next_attempt(3, at, 0), Retry::At(t("2026-05-01T10:02:00Z")));
    assert_eq!(next_attempt(7, at, 0), Retry::At(t("2026-05-02T02:00:00Z")));
    assert_eq!(next_attempt(8, at, 0), Retry::Dead);
    assert_eq!(next_attempt(u32::MAX, at, 0), Retry::Dead);
    assert_eq!(
        next_attempt(0, at, 0),
        next_attempt(1, at, 0),
        "attempt zero counts as the first"
    );
    let total: i64 = RETRY_DELAYS.iter().map(|d| d.as_secs()).sum();
    assert!(
        (20 * 3600..=26 * 3600).contains(&total),
        "about a day: {total}"
    );
}

#[test]
fn jitter_adds_at_most_a_tenth_and_is_deterministic() {
    let at = t("2026-05-01T10:00:00Z");
    assert_eq!(
        next_attempt(2, at, 100),
        Retry::At(t("2026-05-01T10:00:33Z"))
    );
    assert_eq!(next_attempt(2, at, 101), next_attempt(2, at, 0), "wraps");
    for j in [0, 1, 37, 99, 100, 5000, u32::MAX] {
        let Retry::At(next) = next_attempt(1, at, j) else {
            panic!("retried")
        };
        let wait = next.duration_since(at);
        assert!(wait >= SignedDuration::from_secs(5), "{wait:?}");
        assert!(wait <= SignedDuration::from_millis(5500), "{wait:?}");
        assert_eq!(next_attempt(1, at, j), Retry::At(next));
    }
}

#[test]
fn recipients_of_purposes_needing_no_consent_are_always_told() {
    let told = recipients_to_notify(&manifest(), |_| false);
    assert_eq!(told, vec!["installer".to_owned()]);
}

#[test]
fn a_consent_based_recipient_is_told_only_if_consent_was_ever_given() {
    let told = recipients_to_notify(&manifest(), |p| p == "supplier_tariff");
    assert_eq!(
        told,
        vec!["installer".to_owned(), "energy_supplier".to_owned()]
    );
    let told = recipients_to_notify(&manifest(), |p| p == "heating_control");
    assert!(!told.contains(&"energy_supplier".to_owned()));
}

#[test]
fn a_recipient_receiving_for_no_purpose_is_not_told() {
    let told = recipients_to_notify(&manifest(), |_| true);
    assert!(!told.contains(&"unused".to_owned()), "{told:?}");
}
