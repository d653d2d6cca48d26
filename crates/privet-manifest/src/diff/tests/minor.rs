//! Minor changes: each kind, and the edges between minor and material.

use super::*;

#[test]
fn wording_of_the_product_purposes_streams_and_fields_is_minor() {
    let c = changes(&[
        (
            "name = \"Wren Thermostat 2\"",
            "name = \"Wren Thermostat Two\"",
        ),
        (
            "Send you a monthly report",
            "Send you a short monthly report",
        ),
        (
            "Readings from the thermostat.",
            "What the thermostat measures.",
        ),
        ("The room temperature.", "How warm the room is."),
    ]);
    assert_eq!(kinds(&c), vec![ChangeKind::Wording; 4]);
    assert!(c.iter().all(|c| c.materiality == Materiality::Minor));
    assert_eq!(
        c[0].summary,
        "The product is now called \"Wren Thermostat Two\" (was \"Wren Thermostat 2\")."
    );
    assert_eq!(c[0].purposes, Vec::<String>::new());
    assert_purposes(&c[1], &["energy_report"]);
    assert_eq!(
        (c[2].stream.as_deref(), c[2].field.as_deref()),
        (Some("climate"), None)
    );
    assert_field(
        &c[3],
        "climate",
        "temperature_c",
        &["heating_control", "energy_report"],
    );
    assert_eq!(
        c[3].summary,
        "`climate.temperature_c`: it is now described as \"How warm the room is.\"."
    );
}

#[test]
fn an_audience_that_includes_children_is_wording_left_to_the_childrens_code_rules() {
    let c = only(changes(&[("audience = \"adults\"", "audience = \"all\"")]));
    assert_eq!(c.kind, ChangeKind::Wording);
    assert_eq!(
        c.summary,
        "The product is now meant for everyone, children included (was adults)."
    );
}

#[test]
fn a_narrower_use_of_the_same_kind_is_wording() {
    let c = only(changes(&[(
        "use = \"analytics.reporting\"",
        "use = \"analytics.reporting.system\"",
    )]));
    assert_eq!(c.kind, ChangeKind::Wording);
    assert_purposes(&c, &["energy_report"]);
}

#[test]
fn a_shorter_retention_is_minor_and_the_same_length_written_differently_is_wording() {
    let c = only(changes(&[("retention = \"400d\"", "retention = \"90d\"")]));
    assert_eq!(c.kind, ChangeKind::ShorterRetention);
    assert_field(
        &c,
        "climate",
        "temperature_c",
        &["heating_control", "energy_report"],
    );

    let c = only(changes(&[("drop_after = \"7d\"", "drop_after = \"48h\"")]));
    assert_eq!(c.kind, ChangeKind::ShorterRetention);

    let c = only(changes(&[("retention = \"90d\"", "retention = \"3m\"")]));
    assert_eq!(
        c.kind,
        ChangeKind::LongerRetention,
        "3 months may be 92 days"
    );
    let c = only(changes(&[(
        "retention = \"400d\"\ntransform = { round",
        "retention = \"400d\"\ntransform = { drop_after = \"500d\", round",
    )]));
    assert_eq!(
        c.kind,
        ChangeKind::Wording,
        "a drop_after past the retention changes nothing"
    );
}

#[test]
fn weeks_and_days_of_the_same_length_are_the_same_retention() {
    let c = only(changes(&[("retention = \"90d\"", "retention = \"13w\"")]));
    assert_eq!(c.kind, ChangeKind::LongerRetention, "13 weeks is 91 days");
    let twenty_eight = edited(&[("retention = \"90d\"", "retention = \"28d\"")]);
    let four_weeks = edited(&[("retention = \"90d\"", "retention = \"4w\"")]);
    let c = only(diff(&parsed(&twenty_eight), &parsed(&four_weeks)));
    assert_eq!(c.kind, ChangeKind::Wording);
    assert_eq!(
        c.summary,
        "`climate.setpoint` keeps the same retention, now written `4w` (was `28d`)."
    );
}

#[test]
fn every_strengthened_transform_is_a_stronger_transform() {
    for (from, to, said) in [
        (
            "category = \"user.behavior\"\npurposes = [\"energy_report\"]\nretention = \"30d\"\ntransform = { coarsen_time = \"hour\" }",
            "category = \"user.behavior\"\npurposes = [\"energy_report\"]\nretention = \"30d\"\ntransform = { coarsen_time = \"hour\", hash = true }",
            "now replaced by a pseudonym",
        ),
        (
            "truncate_location = 2,",
            "truncate_location = 1,",
            "location cut to 1 decimal places (about 11 km) instead of 2 decimal places (about 1.1 km)",
        ),
        (
            "round = 0.5",
            "round = 1",
            "rounded to the nearest 1 instead of 0.5",
        ),
        (
            "bucket = [0, 30, 60]",
            "bucket = [0, 60]",
            "kept as a range with bounds 0, 60 instead of 0, 30, 60",
        ),
        (
            "coarsen_time = \"hour\"",
            "coarsen_time = \"day\"",
            "time kept only to the day instead of the hour",
        ),
        (
            "retention = \"90d\"",
            "retention = \"90d\"\ntransform = { bucket = [0] }",
            "now kept only as a range (bounds 0)",
        ),
    ] {
        let c = only(changes(&[(from, to)]));
        assert_eq!(c.kind, ChangeKind::StrongerTransform, "{from} → {to}");
        assert_eq!(c.materiality, Materiality::Minor);
        assert!(c.summary.contains(said), "{from} → {to}: {}", c.summary);
    }
}

#[test]
fn a_transform_both_weakened_and_strengthened_reports_both() {
    let c = changes(&[(
        "transform = { coarsen_time = \"hour\" }",
        "transform = { coarsen_time = \"minute\", hash = true }",
    )]);
    assert_eq!(
        kinds(&c),
        vec![ChangeKind::WeakerTransform, ChangeKind::StrongerTransform]
    );
    assert!(has_material(&c));
}

#[test]
fn a_removed_stream_covers_its_fields_for_their_purposes() {
    let text = BASE.split("[streams.presence]").next().unwrap().to_owned();
    let c = only(diff(&parsed(BASE), &parsed(&text)));
    assert_eq!(c.kind, ChangeKind::RemovedStream);
    assert_eq!(
        (c.stream.as_deref(), c.field.as_deref()),
        (Some("presence"), None)
    );
    assert_eq!(c.purposes, ids(&["energy_report"]));
    assert_eq!(c.summary, "The `presence` stream is no longer collected.");
}

#[test]
fn a_removed_field_or_object_key_is_minor() {
    let c = only(changes(&[(
        "[streams.presence.fields.home]\ntype = \"bool\"\ncategory = \"user.behavior.presence\"\npurposes = [\"energy_report\"]\nretention = \"30d\"\n",
        "",
    )]));
    assert_eq!(c.kind, ChangeKind::RemovedField);
    assert_field(&c, "presence", "home", &["energy_report"]);
    assert_eq!(
        c.summary,
        "`home` is no longer collected in the `presence` stream."
    );

    let c = only(changes(&[(", mode = \"string\"", "")]));
    assert_eq!(c.kind, ChangeKind::RemovedField);
    assert_eq!(c.summary, "`climate.setpoint` no longer carries `mode`.");
}

#[test]
fn a_purpose_removed_from_a_field_lists_only_the_purposes_dropped() {
    let c = only(changes(&[(
        "purposes = [\"heating_control\", \"energy_report\"]",
        "purposes = [\"heating_control\"]",
    )]));
    assert_eq!(c.kind, ChangeKind::RemovedPurposeForField);
    assert_field(&c, "climate", "temperature_c", &["energy_report"]);
    assert_eq!(
        c.summary,
        "`climate.temperature_c` is no longer used for energy report (consent)."
    );
}

#[test]
fn a_removed_purpose_is_minor() {
    let c = only(changes(&[(
        "[purposes.support]\ndescription = \"Help you when you call us.\"\nuse = \"essential.service\"\nbasis = \"contract\"\n",
        "",
    )]));
    assert_eq!(c.kind, ChangeKind::RemovedPurpose);
    assert_purposes(&c, &["support"]);
    assert_eq!(c.summary, "Purpose support is no longer carried out.");
}

#[test]
fn a_removed_recipient_lists_the_purposes_it_no_longer_receives_for() {
    let c = only(changes(&[(
        "purposes = [\"heating_control\"]\n\n[streams",
        "\n[streams",
    )]));
    assert_eq!(c.kind, ChangeKind::RemovedRecipient);
    assert_purposes(&c, &["heating_control"]);
    assert_eq!(c.summary, "Cloudy Ltd no longer receives any data.");
}

#[test]
fn a_less_sensitive_category_or_stream_is_minor() {
    let c = only(changes(&[(
        "user.unique_id.pseudonymous",
        "system.operations",
    )]));
    assert_eq!(c.kind, ChangeKind::LessSensitiveCategory);
    assert_field(&c, "presence", "phone_id", &["energy_report"]);

    let c = only(changes(&[(
        "subject = \"member\"",
        "subject = \"household\"",
    )]));
    assert_eq!(c.kind, ChangeKind::LessSensitiveCategory);
    assert_eq!(
        c.summary,
        "The `presence` stream is now about the home as a whole (was about one person)."
    );
}

#[test]
fn another_category_of_the_same_sensitivity_is_wording() {
    let c = only(changes(&[(
        "user.sensor.energy",
        "user.behavior.consumption",
    )]));
    assert_eq!(c.kind, ChangeKind::Wording);
    assert_field(&c, "climate", "heating_minutes", &["heating_control"]);
}

#[test]
fn a_recipient_moving_into_the_uk_or_renamed_is_wording() {
    let c = only(changes(&[
        (
            "country = \"IE\"\nsafeguard = \"uk_adequacy\"",
            "country = \"UK\"",
        ),
        ("name = \"Cloudy Ltd\"", "name = \"Cloudy Services Ltd\""),
    ]));
    assert_eq!(c.kind, ChangeKind::Wording);
    assert_purposes(&c, &["heating_control"]);
    assert_eq!(
        c.summary,
        "Cloudy Services Ltd: is now called Cloudy Services Ltd (was Cloudy Ltd); now handles data in United Kingdom (was Ireland); transfers now rely on none (was \"uk_adequacy\")."
    );
}
