//! Whose data a product's streams hold, and which consent choices a subject is offered: the
//! export, the consent pages and set-up all ask these.

use crate::subjects::SubjectKind;
use privet_manifest::{Manifest, Purpose, Stream, SubjectKind as StreamSubject};

/// The stream declaration matching a kind of subject.
fn stream_kind(kind: SubjectKind) -> StreamSubject {
    match kind {
        SubjectKind::Household => StreamSubject::Household,
        SubjectKind::Member => StreamSubject::Member,
    }
}

/// The streams of `manifest` that hold data about a subject of `kind`, in manifest order.
pub fn streams_about(manifest: &Manifest, kind: SubjectKind) -> impl Iterator<Item = &Stream> {
    let wanted = stream_kind(kind);
    manifest
        .streams
        .iter()
        .filter(move |s| s.subject.value == wanted)
}

/// The optional (consent-based) purposes of `manifest` a subject of `kind` decides on: those
/// serving a field of a stream about that kind of subject, and, for members, purposes that
/// serve no field at all (such as marketing messages to a person).
pub fn choices_for(manifest: &Manifest, kind: SubjectKind) -> Vec<&Purpose> {
    offered_to(manifest, kind, manifest.optional_purposes())
}

/// The purposes of `manifest` a subject of `kind` may object to (UK GDPR Art. 21): those on
/// legitimate interests or a public task that are not already off until switched on, chosen
/// among as [`choices_for`] chooses.
pub fn objections_for(manifest: &Manifest, kind: SubjectKind) -> Vec<&Purpose> {
    offered_to(
        manifest,
        kind,
        manifest
            .purposes
            .iter()
            .filter(|p| p.is_objectable() && !p.needs_consent()),
    )
}

/// Those of `purposes` that serve a field of a stream about a subject of `kind`, and, for
/// members, those that serve no field at all.
fn offered_to<'m>(
    manifest: &'m Manifest,
    kind: SubjectKind,
    purposes: impl Iterator<Item = &'m Purpose>,
) -> Vec<&'m Purpose> {
    let wanted = stream_kind(kind);
    purposes
        .filter(|p| {
            let mut serves_a_field = false;
            let here = manifest
                .fields()
                .filter(|(_, f)| f.purposes.iter().any(|x| x.as_str() == p.id.as_str()))
                .any(|(s, _)| {
                    serves_a_field = true;
                    s.subject.value == wanted
                });
            here || (!serves_a_field && kind == SubjectKind::Member)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest() -> Manifest {
        let text = include_str!("../tests/fixtures/thermostat.toml").to_owned()
            + "\n[purposes.offers]\ndescription = \"Offers.\"\nuse = \"marketing.advertising\"\nbasis = \"consent\"\n";
        privet_manifest::parse(&text)
            .unwrap_or_else(|_| unreachable!())
            .manifest
    }

    #[test]
    fn streams_are_about_households_or_members() {
        let m = manifest();
        let ids = |k| {
            streams_about(&m, k)
                .map(|s| s.id.to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(SubjectKind::Household), ["climate"]);
        assert_eq!(ids(SubjectKind::Member), ["presence"]);
    }

    #[test]
    fn each_kind_decides_on_the_optional_purposes_of_its_data() {
        let m = manifest();
        let ids = |k| {
            choices_for(&m, k)
                .iter()
                .map(|p| p.id.to_string())
                .collect::<Vec<_>>()
        };
        // energy_report serves the household's climate and a member's presence.
        assert_eq!(ids(SubjectKind::Household), ["energy_report"]);
        // Offers serve no field: a person's choice.
        assert_eq!(ids(SubjectKind::Member), ["energy_report", "offers"]);
    }

    #[test]
    fn each_kind_may_object_to_the_legitimate_interests_of_its_data() {
        let text = include_str!("../tests/fixtures/thermostat.toml").to_owned()
            + "\n[purposes.stats]\ndescription = \"Stats.\"\nuse = \"analytics.reporting\"\nbasis = \"legitimate_interests\"\n"
            + "\n[purposes.ads]\ndescription = \"Ads.\"\nuse = \"marketing.advertising\"\nbasis = \"legitimate_interests\"\npecr = \"consent\"\n"
            + "\n[streams.usage]\nsubject = \"member\"\n\n[streams.usage.fields.screen]\ntype = \"string\"\ncategory = \"user.behavior\"\npurposes = [\"stats\", \"ads\"]\nretention = \"30d\"\n";
        let m = privet_manifest::parse(&text)
            .unwrap_or_else(|_| unreachable!())
            .manifest;
        let ids = |k| {
            objections_for(&m, k)
                .iter()
                .map(|p| p.id.to_string())
                .collect::<Vec<_>>()
        };
        // Stats serve a member stream only; ads need consent first, so they are a switch.
        assert_eq!(ids(SubjectKind::Member), ["stats"]);
        assert!(ids(SubjectKind::Household).is_empty());
        // The thermostat alone has nothing to object to: contract and consent only.
        assert!(objections_for(&manifest(), SubjectKind::Member).is_empty());
    }
}
