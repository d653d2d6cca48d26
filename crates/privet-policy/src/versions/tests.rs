use super::*;

/// A sleep tracker: `heart_rate` for `insights` (consent) and `battery` for `service`
/// (contract), with `extra` appended to the sleep stream's fields and `recipients` to the
/// `insights` purpose.
fn manifest(version: &str, extra: &str, recipients: &str) -> Manifest {
    let source = format!(
        r#"
[product]
id = "sleepy"
name = "Sleepy"
maker = "Acme Ltd"
version = "{version}"

[purposes.insights]
description = "Show you how you slept."
use = "personalize"
basis = "consent"
{recipients}

[purposes.service]
description = "Run the device."
use = "essential.service"
basis = "contract"

[recipients.cloudco]
name = "CloudCo"
role = "processor"
country = "US"
safeguard = "idta"
purposes = ["insights"]

[streams.sleep]
subject = "member"

[streams.sleep.fields.heart_rate]
type = "number"
category = "user.health_and_medical"
purposes = ["insights"]
retention = "90d"

[streams.sleep.fields.battery]
type = "number"
category = "system.operations"
purposes = ["service"]
retention = "30d"
{extra}
"#
    );
    match privet_manifest::parse(&source) {
        Ok(p) => p.manifest,
        Err(e) => panic!("test manifest does not parse: {}", e.message),
    }
}

/// Noon on the `n`th of November 2026.
fn day(n: i8) -> Timestamp {
    jiff::civil::date(2026, 11, n)
        .at(12, 0, 0, 0)
        .in_tz("UTC")
        .map_or(Timestamp::UNIX_EPOCH, |z| z.timestamp())
}

/// A grant under `version`, recorded after every version of these tests was published.
fn g(version: Option<&str>) -> Grant<'_> {
    Grant {
        version,
        at: day(28),
    }
}

const SKIN_TEMP: &str = r#"
[streams.sleep.fields.skin_temp]
type = "number"
category = "user.health_and_medical"
purposes = ["insights"]
retention = "90d"
"#;

#[test]
fn one_version_has_no_floors_and_any_consent_covers_it() {
    let v1 = manifest("1", "", "");
    let lineage = Lineage::new([("1", day(1), &v1)]);
    assert_eq!(lineage.current(), 0);
    assert_eq!(lineage.current_version(), Some("1"));
    assert!(lineage.covers(&g(None), "insights", "sleep", "heart_rate"));
    assert!(lineage.covers(&g(Some("unknown")), "insights", "sleep", "heart_rate"));
    assert!(lineage.changes().is_empty());
}

#[test]
fn a_new_field_needs_a_consent_given_under_its_version_and_the_old_fields_do_not() {
    let v1 = manifest("1.1", "", "");
    let v2 = manifest("1.2", SKIN_TEMP, "");
    let lineage = Lineage::new([("1.1", day(1), &v1), ("1.2", day(2), &v2)]);
    assert_eq!(lineage.floor("insights", "sleep", "skin_temp"), 1);
    assert_eq!(lineage.floor("insights", "sleep", "heart_rate"), 0);
    assert_eq!(lineage.purpose_floor("insights"), 1);
    assert_eq!(lineage.purpose_floor("service"), 0);
    assert!(!lineage.covers(&g(Some("1.1")), "insights", "sleep", "skin_temp"));
    assert!(lineage.covers(&g(Some("1.1")), "insights", "sleep", "heart_rate"));
    assert!(lineage.covers(&g(Some("1.2")), "insights", "sleep", "skin_temp"));
    assert!(
        !lineage.covers(&g(None), "insights", "sleep", "skin_temp"),
        "a consent naming no version counts as given under the first"
    );
    let changes: Vec<_> = lineage.changes_after(0).collect();
    assert!(!changes.is_empty());
    assert!(changes.iter().all(|c| c.version == "1.2" && c.rank == 1));
    assert_eq!(lineage.changes_after(1).count(), 0);
}

#[test]
fn a_new_recipient_for_a_purpose_raises_the_floor_of_every_field_it_serves() {
    let v1 = manifest("1", SKIN_TEMP, "");
    let newco = format!(
        "{SKIN_TEMP}\n[recipients.newco]\nname = \"NewCo\"\nrole = \"processor\"\ncountry = \"GB\"\npurposes = [\"insights\"]\n"
    );
    let v2 = manifest("2", &newco, "");
    let lineage = Lineage::new([("1", day(1), &v1), ("2", day(2), &v2)]);
    for field in ["heart_rate", "skin_temp"] {
        assert_eq!(lineage.floor("insights", "sleep", field), 1, "{field}");
        assert!(!lineage.covers(&g(Some("1")), "insights", "sleep", field));
    }
    assert_eq!(lineage.floor("service", "sleep", "battery"), 0);
}

#[test]
fn floors_only_rise_and_minor_changes_raise_none() {
    let v1 = manifest("1", "", "");
    let v2 = manifest("2", SKIN_TEMP, "");
    // v3 only drops the new field again (minor): its floor stays where v2 put it.
    let v3 = manifest("3", "", "");
    let lineage = Lineage::new([("1", day(1), &v1), ("2", day(2), &v2), ("3", day(3), &v3)]);
    assert_eq!(lineage.floor("insights", "sleep", "heart_rate"), 0);
    assert!(lineage.changes().iter().all(|c| c.rank == 1));
    assert!(lineage.covers(&g(Some("2")), "insights", "sleep", "skin_temp"));
    assert_eq!(lineage.rank("3", day(28)), Some(2));
}

#[test]
fn a_version_string_published_twice_ranks_as_the_text_published_by_the_time_of_the_grant() {
    let v1 = manifest("1", "", "");
    let v1b = manifest("1", SKIN_TEMP, "");
    let lineage = Lineage::new([("1", day(1), &v1), ("1", day(3), &v1b)]);
    assert_eq!(lineage.rank("1", day(2)), Some(0));
    assert_eq!(lineage.rank("1", day(4)), Some(1));
    assert_eq!(
        lineage.rank("1", day(1) - jiff::SignedDuration::from_secs(1)),
        Some(0)
    );
    let seen_first = Grant {
        version: Some("1"),
        at: day(2),
    };
    assert!(
        !lineage.covers(&seen_first, "insights", "sleep", "skin_temp"),
        "a consent given before the second text does not cover what it added"
    );
    let seen_second = Grant {
        version: Some("1"),
        at: day(4),
    };
    assert!(lineage.covers(&seen_second, "insights", "sleep", "skin_temp"));
}

#[test]
fn the_version_of_a_product_is_read_from_a_consent_record() {
    assert_eq!(version_in("a@1.2", "a"), Some("1.2"));
    assert_eq!(version_in("a@1,b@2.0", "b"), Some("2.0"));
    assert_eq!(version_in("a@1, b@2", "b"), Some("2"));
    assert_eq!(version_in("ab@1", "a"), None);
    assert_eq!(version_in("", "a"), None);
    assert_eq!(version_in("a", "a"), None);
}

#[test]
fn pending_changes_ask_for_consent_again_and_offer_objection_to_what_changed_since() {
    use crate::consent::{ConsentRecord, NewConsent};
    use crate::ids::SubjectId;
    let v1 = manifest("1", "", "");
    let v2 = manifest("2", SKIN_TEMP, "");
    let lineage = Lineage::new([("1", day(1), &v1), ("2", day(5), &v2)]);
    let grant = |version: &str| ConsentRecord {
        seq: 1,
        consent: NewConsent {
            subject: SubjectId::new("m"),
            product: Some("sleepy".into()),
            purpose: "insights".into(),
            granted: true,
            manifest_version: format!("sleepy@{version}"),
            at: day(2),
            actor: "a".into(),
            channel: "api".into(),
        },
    };
    let old = SubjectPermissions::new(false, &[grant("1")], &[]);
    let pending = pending_changes(&v2, &lineage, &old, SubjectKind::Member, day(2));
    assert_eq!(pending.len(), 1, "{pending:?}");
    assert_eq!(pending[0].purpose.id.as_str(), "insights");
    assert_eq!(pending[0].action, ChangeAction::Reconsent);
    assert_eq!(pending[0].consented_under, Some("1"));
    assert!(pending[0].changes.iter().all(|c| c.version == "2"));

    let renewed = SubjectPermissions::new(false, &[grant("2")], &[]);
    assert!(pending_changes(&v2, &lineage, &renewed, SubjectKind::Member, day(2)).is_empty());
    let never = SubjectPermissions::default();
    assert!(
        pending_changes(&v2, &lineage, &never, SubjectKind::Member, day(2)).is_empty(),
        "without a consent there is nothing to renew: the switch is simply off"
    );
    assert!(
        pending_changes(&v2, &lineage, &old, SubjectKind::Household, day(2)).is_empty(),
        "the sleep stream is not about a household"
    );
}

#[test]
fn a_shorter_retention_is_a_cut_applied_to_data_held_and_a_longer_one_is_not() {
    let v1 = manifest("1", SKIN_TEMP, "");
    let shorter = manifest("2", &SKIN_TEMP.replace("90d", "7d"), "");
    let lineage = Lineage::new([("1", day(1), &v1), ("2", day(2), &shorter)]);
    assert_eq!(lineage.cuts().len(), 1, "{:?}", lineage.cuts());
    let cut = &lineage.cuts()[0];
    assert_eq!(
        (cut.stream.as_str(), cut.field.as_str()),
        ("sleep", "skin_temp")
    );
    assert!(is_cut(cut, day(1), day(8)), "seven days after: gone");
    assert!(!is_cut(cut, day(2), day(8)), "six days after: kept");

    // Back to 90 days: values stored under 7 days keep their expiry; nothing is cut.
    let longer = manifest("3", SKIN_TEMP, "");
    let lineage = Lineage::new([("1", day(1), &shorter), ("3", day(2), &longer)]);
    assert!(lineage.cuts().is_empty());
    // Shortened once, then lengthened again but not back to the first: still cut to the
    // newest, against the longest earlier.
    let middle = manifest("4", &SKIN_TEMP.replace("90d", "30d"), "");
    let lineage = Lineage::new([
        ("1", day(1), &v1),
        ("2", day(2), &shorter),
        ("4", day(3), &middle),
    ]);
    assert_eq!(lineage.cuts().len(), 1);
    assert_eq!(lineage.cuts()[0].retention.approx_days(), 30);
}

#[test]
fn a_purpose_that_comes_to_need_consent_is_explained_to_those_who_never_gave_it() {
    let v1 = manifest("1", "", "");
    let mut before = v1.clone();
    let insights = before
        .purposes
        .iter_mut()
        .find(|p| p.id.as_str() == "insights");
    if let Some(p) = insights {
        p.basis.value = privet_manifest::LawfulBasis::LegitimateInterests;
    }
    let lineage = Lineage::new([("1", day(1), &before), ("2", day(3), &v1)]);
    let none = SubjectPermissions::default();
    let pending = pending_changes(&v1, &lineage, &none, SubjectKind::Member, day(2));
    assert_eq!(pending.len(), 1, "{pending:?}");
    assert_eq!(pending[0].action, ChangeAction::Informed);
    assert!(
        pending[0]
            .changes
            .iter()
            .all(|c| c.change.kind == privet_manifest::ChangeKind::BasisChanged)
    );
    // Someone who joined after it need not be told.
    assert!(pending_changes(&v1, &lineage, &none, SubjectKind::Member, day(4)).is_empty());
}

/// A `stats` purpose on legitimate interests over the sleep stream's `movement`, with
/// `more` appended to the fields.
fn with_stats(version: &str, more: &str) -> Manifest {
    let stats = format!(
        r#"
[purposes.stats]
description = "Count how the tracker is used."
use = "analytics.reporting"
basis = "legitimate_interests"

[streams.sleep.fields.movement]
type = "number"
category = "user.behavior.device_usage"
purposes = ["stats"]
retention = "90d"
{more}
"#
    );
    manifest(version, &stats, "")
}

#[test]
fn a_change_to_a_use_on_legitimate_interests_offers_objection_until_objected_to() {
    use crate::consent::Objection;
    use crate::ids::SubjectId;
    let snores = "\n[streams.sleep.fields.snores]\ntype = \"number\"\ncategory = \"user.behavior.device_usage\"\npurposes = [\"stats\"]\nretention = \"90d\"\n";
    let firmware = "\n[streams.sleep.fields.firmware]\ntype = \"string\"\ncategory = \"system.operations\"\npurposes = [\"service\"]\nretention = \"30d\"\n";
    let v1 = with_stats("1", "");
    let v2 = with_stats("2", &format!("{snores}{firmware}"));
    let lineage = Lineage::new([("1", day(1), &v1), ("2", day(5), &v2)]);
    assert_eq!(lineage.floor("stats", "sleep", "snores"), 1);

    let none = SubjectPermissions::default();
    let pending = pending_changes(&v2, &lineage, &none, SubjectKind::Member, day(2));
    let actions: Vec<(&str, ChangeAction)> = pending
        .iter()
        .map(|p| (p.purpose.id.as_str(), p.action))
        .collect();
    assert_eq!(
        actions,
        [
            ("service", ChangeAction::Informed),
            ("stats", ChangeAction::Object)
        ],
        "{pending:?}"
    );
    let stats = &pending[1];
    assert_eq!(stats.consented_under, None);
    assert!(
        stats
            .changes
            .iter()
            .any(|c| c.change.field.as_deref() == Some("snores") && c.version == "2"),
        "{stats:?}"
    );

    let objection = |product: Option<&str>| Objection {
        subject: SubjectId::new("m"),
        product: product.map(str::to_owned),
        purpose: "stats".into(),
        at: day(6),
        actor: "m".into(),
    };
    for product in [Some("sleepy"), None] {
        let objected = SubjectPermissions::new(false, &[], &[objection(product)]);
        let pending = pending_changes(&v2, &lineage, &objected, SubjectKind::Member, day(2));
        let purposes: Vec<&str> = pending.iter().map(|p| p.purpose.id.as_str()).collect();
        assert_eq!(
            purposes,
            ["service"],
            "once objected to ({product:?}), the use has stopped: nothing to offer"
        );
    }
    let elsewhere = SubjectPermissions::new(false, &[], &[objection(Some("other"))]);
    let pending = pending_changes(&v2, &lineage, &elsewhere, SubjectKind::Member, day(2));
    assert!(
        pending
            .iter()
            .any(|p| p.purpose.id.as_str() == "stats" && p.action == ChangeAction::Object),
        "an objection to another product's use does not answer this one: {pending:?}"
    );
    assert!(
        pending_changes(&v2, &lineage, &none, SubjectKind::Member, day(6)).is_empty(),
        "someone who joined after the change need not be told"
    );
}
