//! One test per kind of change at least, on small edits of one manifest.

mod material;
mod minor;

use super::{Change, ChangeKind, Materiality, diff, has_material};
use crate::model::Manifest;

/// A thermostat with a bit of everything a change can touch.
const BASE: &str = r#"
[product]
id = "wren-thermostat-2"
name = "Wren Thermostat 2"
maker = "Wren Ltd"
version = "1.1"
privacy_contact = "privacy@wren.example"
vulnerability_disclosure = "https://wren.example/security"
security_updates_until = "2031-12-31"
audience = "adults"

[purposes.heating_control]
description = "Run your heating to the schedule you set."
use = "essential.service"
basis = "contract"

[purposes.energy_report]
description = "Send you a monthly report of your energy use."
use = "analytics.reporting"
basis = "consent"
recipients = ["tariffs"]

[purposes.support]
description = "Help you when you call us."
use = "essential.service"
basis = "contract"

[recipients.tariffs]
name = "Tariff Co"
role = "processor"
country = "GB"

[recipients.cloud]
name = "Cloudy Ltd"
role = "processor"
country = "IE"
safeguard = "uk_adequacy"
purposes = ["heating_control"]

[streams.climate]
subject = "household"
description = "Readings from the thermostat."

[streams.climate.fields.temperature_c]
type = "number"
category = "user.sensor.environment"
purposes = ["heating_control", "energy_report"]
retention = "400d"
transform = { round = 0.5 }
description = "The room temperature."

[streams.climate.fields.heating_minutes]
type = "integer"
category = "user.sensor.energy"
purposes = ["heating_control"]
retention = "400d"
transform = { bucket = [0, 30, 60] }

[streams.climate.fields.setpoint]
type = "object"
schema = { target = "number", mode = "string" }
category = "user.behavior"
purposes = ["heating_control"]
retention = "90d"

[streams.presence]
subject = "member"

[streams.presence.fields.home]
type = "bool"
category = "user.behavior.presence"
purposes = ["energy_report"]
retention = "30d"

[streams.presence.fields.phone_location]
type = "location"
category = "user.location.imprecise"
purposes = ["energy_report"]
retention = "30d"
transform = { truncate_location = 2, drop_after = "7d" }

[streams.presence.fields.phone_id]
type = "string"
category = "user.unique_id.pseudonymous"
purposes = ["energy_report"]
retention = "30d"
transform = { hash = true }

[streams.presence.fields.seen_at]
type = "string"
category = "user.behavior"
purposes = ["energy_report"]
retention = "30d"
transform = { coarsen_time = "hour" }
"#;

fn parsed(source: &str) -> Manifest {
    crate::parse(source).unwrap().manifest
}

/// BASE with each `(from, to)` replaced once; `from` must be there, so an edit never silently
/// stops applying.
fn edited(edits: &[(&str, &str)]) -> String {
    let mut text = BASE.to_owned();
    for (from, to) in edits {
        assert!(text.contains(from), "`{from}` is not in the manifest");
        text = text.replacen(from, to, 1);
    }
    text
}

/// The changes from BASE to BASE with `edits`.
fn changes(edits: &[(&str, &str)]) -> Vec<Change> {
    diff(&parsed(BASE), &parsed(&edited(edits)))
}

/// The changes from BASE to BASE with `extra` appended.
fn appended(extra: &str) -> Vec<Change> {
    diff(&parsed(BASE), &parsed(&format!("{BASE}\n{extra}")))
}

/// The one change there is.
fn only(changes: Vec<Change>) -> Change {
    assert_eq!(changes.len(), 1, "{changes:#?}");
    changes.into_iter().next().unwrap()
}

/// The kinds, in order.
fn kinds(changes: &[Change]) -> Vec<ChangeKind> {
    changes.iter().map(|c| c.kind).collect()
}

fn ids(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

/// Asserts a field-level change's scope.
fn assert_field(c: &Change, stream: &str, field: &str, purposes: &[&str]) {
    assert_eq!(c.stream.as_deref(), Some(stream), "{c:#?}");
    assert_eq!(c.field.as_deref(), Some(field), "{c:#?}");
    assert_eq!(c.purposes, ids(purposes), "{c:#?}");
}

/// Asserts a purpose-level change's scope.
fn assert_purposes(c: &Change, purposes: &[&str]) {
    assert_eq!(
        (c.stream.as_deref(), c.field.as_deref()),
        (None, None),
        "{c:#?}"
    );
    assert_eq!(c.purposes, ids(purposes), "{c:#?}");
}

#[test]
fn identical_manifests_have_no_changes() {
    assert_eq!(diff(&parsed(BASE), &parsed(BASE)), vec![]);
}

#[test]
fn only_the_version_and_layout_differing_is_no_change() {
    let moved = edited(&[
        ("version = \"1.1\"", "version = \"1.2\""),
        (
            "[purposes.heating_control]",
            "\n\n# the heating\n[purposes.heating_control]",
        ),
    ]);
    let changes = diff(&parsed(BASE), &parsed(&moved));
    assert_eq!(changes, vec![]);
    assert!(!has_material(&changes));
}

#[test]
fn every_kind_has_its_materiality_and_json_names() {
    let material = [
        ChangeKind::NewStream,
        ChangeKind::NewField,
        ChangeKind::NewPurposeForField,
        ChangeKind::NewPurpose,
        ChangeKind::NewRecipient,
        ChangeKind::NewThirdCountry,
        ChangeKind::LongerRetention,
        ChangeKind::WeakerTransform,
        ChangeKind::BasisChanged,
        ChangeKind::MoreSensitiveCategory,
    ];
    for k in material {
        assert_eq!(k.materiality(), Materiality::Material, "{k:?}");
    }
    let c = only(changes(&[(
        "purposes = [\"heating_control\"]\nretention = \"90d\"",
        "purposes = [\"heating_control\", \"energy_report\"]\nretention = \"90d\"",
    )]));
    let json = serde_json::to_value(&c).unwrap();
    assert_eq!(json["kind"], "new_purpose_for_field");
    assert_eq!(json["materiality"], "material");
    assert_eq!(json["stream"], "climate");
    assert_eq!(json["field"], "setpoint");
    assert_eq!(json["purposes"], serde_json::json!(["energy_report"]));
    assert!(has_material(&[c]));
}

#[test]
fn changes_come_in_manifest_order_product_purposes_then_streams() {
    let c = changes(&[
        (
            "name = \"Wren Thermostat 2\"",
            "name = \"Wren Thermostat 2+\"",
        ),
        ("basis = \"consent\"", "basis = \"legitimate_interests\""),
        ("retention = \"400d\"", "retention = \"2y\""),
    ]);
    assert_eq!(
        kinds(&c),
        vec![
            ChangeKind::Wording,
            ChangeKind::BasisChanged,
            ChangeKind::LongerRetention
        ]
    );
}
