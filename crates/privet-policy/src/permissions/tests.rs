use super::*;
use crate::admit::{SubjectRef, SubjectState};
use crate::consent::NewConsent;
use crate::subjects::SubjectKind;
use jiff::Timestamp;
use privet_crypto::MasterKey;
use proptest::prelude::*;

const MANIFEST: &str = include_str!("../../tests/fixtures/thermostat.toml");

fn manifest() -> Manifest {
    privet_manifest::parse(MANIFEST)
        .unwrap_or_else(|_| unreachable!())
        .manifest
}

fn subject(id: &str, restricted: bool) -> Subject {
    Subject {
        id: SubjectId::new(id),
        kind: SubjectKind::Member,
        household: Some(SubjectId::new("h")),
        pseudonym: MasterKey::from_bytes([1; 32]).pseudonymizer().pseudonym(id),
        child: false,
        restricted,
        profile: Vec::new(),
        created_at: Timestamp::UNIX_EPOCH,
    }
}

fn consent(
    seq: i64,
    subject: &str,
    product: Option<&str>,
    purpose: &str,
    granted: bool,
) -> ConsentRecord {
    ConsentRecord {
        seq,
        consent: NewConsent {
            subject: SubjectId::new(subject),
            product: product.map(str::to_owned),
            purpose: purpose.to_owned(),
            granted,
            manifest_version: "p@1".to_owned(),
            at: Timestamp::UNIX_EPOCH,
            actor: "t".to_owned(),
            channel: "api".to_owned(),
        },
    }
}

fn objection(subject: &str, product: Option<&str>, purpose: &str) -> Objection {
    Objection {
        subject: SubjectId::new(subject),
        product: product.map(str::to_owned),
        purpose: purpose.to_owned(),
        at: Timestamp::UNIX_EPOCH,
        actor: "t".to_owned(),
    }
}

#[test]
fn consent_based_purposes_are_readable_only_with_consent_and_never_when_objected_or_restricted() {
    let m = manifest();
    let report =
        ReadGrant::new(&m, &PurposeId::new("energy_report")).unwrap_or_else(|| unreachable!());
    let heat =
        ReadGrant::new(&m, &PurposeId::new("heating_control")).unwrap_or_else(|| unreachable!());
    let subjects = [subject("a", false), subject("b", false), subject("c", true)];
    let consents = [
        consent(1, "a", None, "energy_report", true),
        consent(2, "c", None, "energy_report", true),
    ];
    let objections = [objection("b", Some("acme-thermostat-2"), "heating_control")];
    let p = Permissions::new(&subjects, &consents, &objections);
    let of = |id: &str| p.of(id).unwrap_or_else(|| unreachable!());
    assert!(of("a").may_read(&report) && of("a").may_read(&heat));
    assert!(!of("b").may_read(&report), "no consent given");
    assert!(!of("b").may_read(&heat), "objected to");
    assert!(
        !of("c").may_read(&report) && !of("c").may_read(&heat),
        "restricted"
    );
    assert!(p.of("stranger").is_none());
}

#[test]
fn admission_asks_the_same_permissions() {
    let subjects = [subject("a", false), subject("r", true)];
    let consents = [consent(
        1,
        "a",
        Some("acme-thermostat-2"),
        "energy_report",
        true,
    )];
    let objections = [objection("a", None, "heating_control")];
    let p = Permissions::new(&subjects, &consents, &objections);
    let view = p.for_product("acme-thermostat-2");
    let a = SubjectRef::Member("a".to_owned());
    assert!(view.consented(&a, &PurposeId::new("energy_report")));
    assert!(
        !p.for_product("other")
            .consented(&a, &PurposeId::new("energy_report"))
    );
    assert!(view.objected(&a, &PurposeId::new("heating_control")));
    assert!(view.restricted(&SubjectRef::Member("r".to_owned())));
    assert!(
        view.restricted(&SubjectRef::Member("unknown".to_owned())),
        "a subject outside the household fails closed"
    );
    assert!(!view.restricted(&SubjectRef::NotPersonal));
}

#[test]
fn what_must_be_purged_follows_withdrawals_and_objections() {
    let m = manifest();
    let fields = |p: &SubjectPermissions| -> Vec<String> {
        p.to_purge(&m)
            .into_iter()
            .flat_map(|(s, f)| f.into_iter().map(move |f| format!("{s}.{f}")))
            .collect()
    };
    let granted =
        SubjectPermissions::new(false, &[consent(1, "a", None, "energy_report", true)], &[]);
    assert!(fields(&granted).is_empty(), "everything is still justified");
    let withdrawn = SubjectPermissions::new(
        false,
        &[
            consent(1, "a", None, "energy_report", true),
            consent(2, "a", None, "energy_report", false),
        ],
        &[],
    );
    assert_eq!(fields(&withdrawn), ["presence.home"]);
    let objected = SubjectPermissions::new(
        false,
        &[consent(1, "a", None, "energy_report", true)],
        &[objection("a", None, "heating_control")],
    );
    assert_eq!(fields(&objected), ["climate.setpoint_c"]);
}

proptest! {
    #[test]
    fn a_readable_purpose_is_one_admission_would_collect_for(
        granted in any::<bool>(), objected in any::<bool>(), restricted in any::<bool>(), consent_based in any::<bool>()
    ) {
        let m = manifest();
        let purpose = if consent_based { "energy_report" } else { "heating_control" };
        let consents = [consent(1, "a", None, purpose, granted)];
        let objections: Vec<Objection> = objected.then(|| objection("a", None, purpose)).into_iter().collect();
        let p = Permissions::new(&[subject("a", restricted)], &consents, &objections);
        let grant = ReadGrant::new(&m, &PurposeId::new(purpose)).unwrap_or_else(|| unreachable!());
        let view = p.for_product("acme-thermostat-2");
        let a = SubjectRef::Member("a".to_owned());
        let admits = !view.restricted(&a)
            && is_available(grant.purpose(), view.consented(&a, &PurposeId::new(purpose)), view.objected(&a, &PurposeId::new(purpose)));
        prop_assert_eq!(p.of("a").is_some_and(|s| s.may_read(&grant)), admits);
        prop_assert_eq!(admits, !restricted && !objected && (granted || !consent_based));
    }
}
