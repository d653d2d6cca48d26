//! What to purge when consent is withdrawn or a purpose objected to: data no purpose still
//! justifies. [`crate::SubjectPermissions::to_purge`] asks this for one subject.

use privet_manifest::{FieldName, Manifest, PurposeId, StreamId};
use serde_json::{Map, Value};

/// The fields, by stream, that no purpose still justifies for a subject after an objection or
/// a withdrawal: for every purpose of the field, `objected` is true or (it needs consent and
/// `consented` is false). Order follows the manifest.
pub fn unjustified_fields(
    manifest: &Manifest,
    consented: &dyn Fn(&PurposeId) -> bool,
    objected: &dyn Fn(&PurposeId) -> bool,
) -> Vec<(StreamId, Vec<FieldName>)> {
    let available = |p: &privet_manifest::Purpose| {
        crate::permissions::is_available(p, consented(&p.id), objected(&p.id))
    };
    manifest
        .streams
        .iter()
        .filter_map(|stream| {
            let fields: Vec<FieldName> = stream
                .fields
                .iter()
                .filter(|f| {
                    manifest.field_purposes(f).next().is_some()
                        && !manifest.field_purposes(f).any(available)
                })
                .map(|f| f.name.value.clone())
                .collect();
            (!fields.is_empty()).then(|| (stream.id.value.clone(), fields))
        })
        .collect()
}

/// Removes the named fields from a record's fields; returns how many were removed.
pub fn strip_fields(fields: &mut Map<String, Value>, remove: &[FieldName]) -> usize {
    let before = fields.len();
    fields.retain(|name, _| !remove.iter().any(|r| r.as_str() == name));
    before - fields.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const MANIFEST: &str = include_str!("../tests/fixtures/thermostat_research.toml");

    #[test]
    fn only_fields_held_solely_for_withdrawn_consents_are_purged() {
        let m = privet_manifest::parse(MANIFEST).unwrap().manifest;
        let no = |_: &PurposeId| false;
        let none = unjustified_fields(&m, &no, &no);
        let names: Vec<(&str, Vec<&str>)> = none
            .iter()
            .map(|(s, f)| (s.as_str(), f.iter().map(FieldName::as_str).collect()))
            .collect();
        assert_eq!(
            names,
            [("climate", vec!["humidity"]), ("presence", vec!["home"])]
        );

        // Research still consented: humidity serves it, so it stays.
        let research = unjustified_fields(&m, &|p| p.as_str() == "research", &no);
        assert_eq!(research.len(), 1);
        assert_eq!(research[0].0.as_str(), "presence");

        assert!(unjustified_fields(&m, &|_| true, &no).is_empty());
    }

    #[test]
    fn objections_and_withdrawals_leave_only_fields_some_purpose_still_justifies() {
        let m = privet_manifest::parse(MANIFEST).unwrap().manifest;
        let no = |_: &PurposeId| false;
        let yes = |_: &PurposeId| true;
        let names = |v: Vec<(StreamId, Vec<FieldName>)>| -> Vec<String> {
            v.into_iter()
                .flat_map(|(s, f)| f.into_iter().map(move |f| format!("{s}.{f}")))
                .collect()
        };
        // Objecting to the consent-based purposes purges what withdrawing them would.
        let consent_based = |p: &PurposeId| p.as_str() != "heating_control";
        assert_eq!(
            names(unjustified_fields(&m, &no, &consent_based)),
            names(unjustified_fields(&m, &no, &no))
        );
        // Everything objected: every field with a purpose goes, whatever the consents.
        let all = names(unjustified_fields(&m, &yes, &yes));
        let fields: usize = m.streams.iter().map(|s| s.fields.len()).sum();
        assert_eq!(all.len(), fields);
        // Everything consented, nothing objected: nothing goes.
        assert!(unjustified_fields(&m, &yes, &no).is_empty());
    }

    #[test]
    fn strip_removes_named_fields_and_counts_them() {
        let mut fields = json!({"a": 1, "b": 2, "c": 3})
            .as_object()
            .cloned()
            .unwrap();
        let n = strip_fields(
            &mut fields,
            &[
                FieldName::new("a"),
                FieldName::new("c"),
                FieldName::new("z"),
            ],
        );
        assert_eq!(n, 2);
        assert_eq!(fields, *json!({"b": 2}).as_object().unwrap());
    }
}
