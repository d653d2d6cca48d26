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
    let wanted = stream_kind(kind);
    manifest
        .optional_purposes()
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
}
