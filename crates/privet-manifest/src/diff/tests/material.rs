//! Material changes: each kind, its scope and its words.

use super::*;

#[test]
fn a_new_stream_is_one_change_covering_its_fields() {
    let c = only(appended(
        r#"
[streams.sleep]
subject = "member"

[streams.sleep.fields.skin_temp]
type = "number"
category = "user.health_and_medical.fitness"
purposes = ["energy_report"]
retention = "30d"
"#,
    ));
    assert_eq!(c.kind, ChangeKind::NewStream);
    assert_eq!(c.materiality, Materiality::Material);
    assert_eq!(
        (c.stream.as_deref(), c.field.as_deref()),
        (Some("sleep"), None)
    );
    assert_eq!(c.purposes, ids(&["energy_report"]));
    assert_eq!(
        c.summary,
        "A new stream, `sleep`, collects `skin_temp` (fitness and body readings), for energy report (consent)."
    );
}

#[test]
fn a_new_field_names_its_stream_and_purposes() {
    let c = only(appended(
        r#"
[streams.presence.fields.skin_temp]
type = "number"
category = "user.health_and_medical.fitness"
purposes = ["energy_report", "heating_control"]
retention = "30d"
"#,
    ));
    assert_eq!(c.kind, ChangeKind::NewField);
    assert_field(
        &c,
        "presence",
        "skin_temp",
        &["energy_report", "heating_control"],
    );
    assert_eq!(
        c.summary,
        "`skin_temp` (fitness and body readings) is now collected in the `presence` stream, for energy report (consent) and heating control (contract)."
    );
}

#[test]
fn an_object_field_carrying_new_keys_is_a_new_field() {
    let c = only(changes(&[(
        "schema = { target = \"number\", mode = \"string\" }",
        "schema = { target = \"number\", mode = \"string\", occupant = \"string\" }",
    )]));
    assert_eq!(c.kind, ChangeKind::NewField);
    assert_field(&c, "climate", "setpoint", &["heating_control"]);
    assert_eq!(c.summary, "`climate.setpoint` now also carries `occupant`.");
}

#[test]
fn a_new_purpose_for_a_field_lists_only_the_purposes_added() {
    let c = only(changes(&[(
        "purposes = [\"heating_control\"]\nretention = \"90d\"",
        "purposes = [\"heating_control\", \"energy_report\"]\nretention = \"90d\"",
    )]));
    assert_eq!(c.kind, ChangeKind::NewPurposeForField);
    assert_field(&c, "climate", "setpoint", &["energy_report"]);
    assert_eq!(
        c.summary,
        "`climate.setpoint` is now also used for energy report (consent)."
    );
}

#[test]
fn a_new_purpose_is_purpose_level_and_its_use_on_old_fields_is_reported_too() {
    let c = only(appended(
        r#"
[purposes.tariff_advice]
description = "Suggest a cheaper tariff."
use = "marketing.advertising"
basis = "consent"
"#,
    ));
    assert_eq!(c.kind, ChangeKind::NewPurpose);
    assert_purposes(&c, &["tariff_advice"]);
    assert_eq!(
        c.summary,
        "A new purpose, tariff advice (consent): \"Suggest a cheaper tariff.\""
    );

    let text = format!(
        "{}\n[purposes.tariff_advice]\ndescription = \"Suggest a cheaper tariff.\"\nuse = \"marketing\"\nbasis = \"consent\"\n",
        edited(&[(
            "purposes = [\"heating_control\"]\nretention = \"90d\"",
            "purposes = [\"heating_control\", \"tariff_advice\"]\nretention = \"90d\""
        )])
    );
    let c = diff(&parsed(BASE), &parsed(&text));
    assert_eq!(
        kinds(&c),
        vec![ChangeKind::NewPurpose, ChangeKind::NewPurposeForField]
    );
    assert_field(&c[1], "climate", "setpoint", &["tariff_advice"]);
}

#[test]
fn a_purpose_whose_use_moves_elsewhere_is_a_new_purpose() {
    let c = only(changes(&[(
        "use = \"analytics.reporting\"",
        "use = \"marketing.advertising\"",
    )]));
    assert_eq!(c.kind, ChangeKind::NewPurpose);
    assert_purposes(&c, &["energy_report"]);
    assert_eq!(
        c.summary,
        "Purpose energy report is now a different kind of use, `marketing.advertising` (was `analytics.reporting`)."
    );
}

#[test]
fn a_new_recipient_lists_the_purposes_it_receives_for() {
    let c = only(appended(
        r#"
[recipients.adco]
name = "Ad Co"
role = "controller"
country = "GB"
purposes = ["energy_report"]
"#,
    ));
    assert_eq!(c.kind, ChangeKind::NewRecipient);
    assert_purposes(&c, &["energy_report"]);
    assert_eq!(
        c.summary,
        "A new recipient, Ad Co (United Kingdom), receives data for energy report (consent); it uses it for its own purposes."
    );
}

#[test]
fn a_recipient_gaining_a_purpose_on_either_side_is_a_new_recipient_for_it() {
    let c = only(changes(&[(
        "description = \"Run your heating to the schedule you set.\"",
        "description = \"Run your heating to the schedule you set.\"\nrecipients = [\"tariffs\"]",
    )]));
    assert_eq!(c.kind, ChangeKind::NewRecipient);
    assert_purposes(&c, &["heating_control"]);
    assert_eq!(
        c.summary,
        "Tariff Co now also receives data for heating control (contract)."
    );

    // Written on the recipient's side this time: the same link, so no change.
    let moved = changes(&[
        ("recipients = [\"tariffs\"]\n", ""),
        (
            "name = \"Tariff Co\"",
            "name = \"Tariff Co\"\npurposes = [\"energy_report\"]",
        ),
    ]);
    assert_eq!(moved, vec![]);
}

#[test]
fn a_processor_becoming_a_controller_is_a_new_recipient() {
    let c = only(changes(&[(
        "role = \"processor\"\ncountry = \"GB\"",
        "role = \"controller\"\ncountry = \"GB\"",
    )]));
    assert_eq!(c.kind, ChangeKind::NewRecipient);
    assert_purposes(&c, &["energy_report"]);
    assert!(c.summary.contains("for its own purposes"), "{}", c.summary);
}

#[test]
fn a_country_outside_the_uk_new_for_a_purpose_is_a_new_third_country() {
    let c = only(changes(&[("country = \"GB\"", "country = \"US\"")]));
    assert_eq!(c.kind, ChangeKind::NewThirdCountry);
    assert_purposes(&c, &["energy_report"]);
    assert_eq!(
        c.summary,
        "Data for energy report (consent) now goes to United States (Tariff Co), outside the UK."
    );

    // A new recipient in a country the purpose's data already went to: no new country.
    let c = only(appended(
        "[recipients.backup]\nname = \"Backup Ltd\"\nrole = \"processor\"\ncountry = \"ie\"\nsafeguard = \"uk_adequacy\"\npurposes = [\"heating_control\"]\n",
    ));
    assert_eq!(c.kind, ChangeKind::NewRecipient);

    // Outside the UK, but new for this purpose.
    let c = changes(&[(
        "purposes = [\"heating_control\"]\n\n[streams",
        "purposes = [\"heating_control\", \"energy_report\"]\n\n[streams",
    )]);
    assert_eq!(
        kinds(&c),
        vec![ChangeKind::NewRecipient, ChangeKind::NewThirdCountry]
    );
    assert_purposes(&c[1], &["energy_report"]);
}

#[test]
fn a_recipient_stating_no_country_counts_as_a_new_third_country() {
    let c = appended(
        "[recipients.somewhere]\nname = \"Somewhere Ltd\"\nrole = \"processor\"\npurposes = [\"energy_report\"]\n",
    );
    assert_eq!(
        kinds(&c),
        vec![ChangeKind::NewRecipient, ChangeKind::NewThirdCountry]
    );
    assert_purposes(&c[1], &["energy_report"]);
    assert_eq!(
        c[1].summary,
        "Data for energy report (consent) now goes to Somewhere Ltd, which does not say in which country it is handled."
    );
}

#[test]
fn a_longer_retention_counts_drop_after() {
    let c = only(changes(&[("retention = \"400d\"", "retention = \"2y\"")]));
    assert_eq!(c.kind, ChangeKind::LongerRetention);
    assert_field(
        &c,
        "climate",
        "temperature_c",
        &["heating_control", "energy_report"],
    );
    assert_eq!(
        c.summary,
        "`climate.temperature_c` is now kept for 2 years (was 400 days)."
    );

    // Dropping `drop_after` keeps the value for its whole retention: longer, not a transform.
    let c = only(changes(&[(
        "truncate_location = 2, drop_after = \"7d\"",
        "truncate_location = 2",
    )]));
    assert_eq!(c.kind, ChangeKind::LongerRetention);
    assert_field(&c, "presence", "phone_location", &["energy_report"]);
}

#[test]
fn every_weakened_transform_is_a_weaker_transform() {
    for (from, to, said) in [
        (
            "transform = { hash = true }",
            "",
            "no longer replaced by a pseudonym",
        ),
        (
            "truncate_location = 2,",
            "truncate_location = 4,",
            "location cut to 4 decimal places (about 11 m) instead of 2 decimal places (about 1.1 km)",
        ),
        (
            "round = 0.5",
            "round = 0.1",
            "rounded to the nearest 0.1 instead of 0.5",
        ),
        (
            "transform = { round = 0.5 }",
            "",
            "no longer rounded (was to the nearest 0.5)",
        ),
        (
            "bucket = [0, 30, 60]",
            "bucket = [0, 15, 30, 60]",
            "kept as a range with bounds 0, 15, 30, 60 instead of 0, 30, 60",
        ),
        (
            "bucket = [0, 30, 60]",
            "bucket = [0, 45]",
            "kept as a range with bounds 0, 45 instead of 0, 30, 60",
        ),
        (
            "coarsen_time = \"hour\"",
            "coarsen_time = \"minute\"",
            "time kept to the minute instead of the hour",
        ),
    ] {
        let c = only(changes(&[(from, to)]));
        assert_eq!(c.kind, ChangeKind::WeakerTransform, "{from} → {to}");
        assert!(c.summary.contains(said), "{from} → {to}: {}", c.summary);
        assert!(c.field.is_some() && !c.purposes.is_empty(), "{c:#?}");
    }
}

#[test]
fn a_change_of_basis_condition_or_pecr_ground_is_basis_changed() {
    let c = only(changes(&[(
        "basis = \"consent\"",
        "basis = \"legitimate_interests\"",
    )]));
    assert_eq!(c.kind, ChangeKind::BasisChanged);
    assert_purposes(&c, &["energy_report"]);
    assert_eq!(
        c.summary,
        "Purpose energy report now relies on legitimate interests (was consent); to read from or store on the device it relies on `strictly_necessary` (was `consent`)."
    );

    let c = only(changes(&[(
        "basis = \"contract\"\n\n[purposes.energy_report]",
        "basis = \"contract\"\npecr = \"consent\"\n\n[purposes.energy_report]",
    )]));
    assert_eq!(c.kind, ChangeKind::BasisChanged);
    assert_purposes(&c, &["heating_control"]);

    let c = only(changes(&[(
        "basis = \"consent\"",
        "basis = \"consent\"\nspecial_category_condition = \"explicit_consent\"",
    )]));
    assert_eq!(c.kind, ChangeKind::BasisChanged);
    assert_purposes(&c, &["energy_report"]);
}

#[test]
fn a_more_sensitive_category_or_a_more_personal_stream_is_material() {
    let c = only(changes(&[(
        "user.location.imprecise",
        "user.location.precise",
    )]));
    assert_eq!(c.kind, ChangeKind::MoreSensitiveCategory);
    assert_field(&c, "presence", "phone_location", &["energy_report"]);
    assert_eq!(
        c.summary,
        "`presence.phone_location` is now classed as exact location (`user.location.precise`), was rough location (`user.location.imprecise`), which is more sensitive."
    );

    let c = only(changes(&[(
        "subject = \"household\"",
        "subject = \"member\"",
    )]));
    assert_eq!(c.kind, ChangeKind::MoreSensitiveCategory);
    assert_eq!(
        (c.stream.as_deref(), c.field.as_deref()),
        (Some("climate"), None)
    );
    assert_eq!(c.purposes, ids(&["heating_control", "energy_report"]));
}
