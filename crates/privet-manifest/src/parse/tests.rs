use super::*;
use crate::field_type::FieldType;
use crate::model::RetentionSpec;
use crate::rules;

const DESIGN_EXAMPLE: &str = include_str!("../../tests/fixtures/design_example.toml");

fn codes(p: &Parsed) -> Vec<&'static str> {
    p.findings.iter().map(|f| f.rule.code).collect()
}

#[test]
fn design_example_parses_cleanly_with_spans() {
    let p = parse(DESIGN_EXAMPLE).unwrap();
    assert!(p.findings.is_empty(), "{:?}", p.findings);
    let m = &p.manifest;
    assert_eq!(m.product.id.as_str(), "acme-thermostat-2");
    assert_eq!(
        &DESIGN_EXAMPLE[m.product.id.span.range()],
        "\"acme-thermostat-2\""
    );
    assert_eq!(m.purposes.len(), 2);
    assert_eq!(m.purposes[1].basis.value, crate::LawfulBasis::Consent);
    assert_eq!(
        &DESIGN_EXAMPLE[m.purposes[1].id.span.range()],
        "energy_report"
    );
    let climate = m.stream("climate").unwrap();
    let t = climate.field("temperature_c").unwrap();
    assert_eq!(t.ty.value, FieldType::Number);
    assert_eq!(t.transform.round.as_ref().map(|r| r.value), Some(0.5));
    assert!(matches!(
        t.retention.as_ref().map(|r| &r.value),
        Some(RetentionSpec::Bounded(_))
    ));
    assert_eq!(
        m.product
            .security_updates_until
            .as_ref()
            .map(|d| d.value.to_string()),
        Some("2031-12-31".to_owned())
    );
    assert!(m.is_consent_only(m.stream("presence").unwrap().field("home").unwrap()));
    assert!(!m.is_consent_only(t));
}

#[test]
fn invalid_toml_is_a_syntax_error_with_position() {
    let err = parse("[product\nid = 1").unwrap_err();
    assert!(err.span.is_some());
    assert!(!err.message.is_empty());
}

#[test]
fn missing_required_keys_are_reported_at_their_table() {
    let src = "[product]\nname = \"X\"\n\n[purposes.p]\nuse = \"essential.service\"\n";
    let p = parse(src).unwrap();
    let missing: Vec<_> = p
        .findings
        .iter()
        .filter(|f| f.rule == &rules::MISSING_KEY)
        .map(|f| f.message.clone())
        .collect();
    assert!(missing.iter().any(|m| m.contains("`id`")), "{missing:?}");
    assert!(missing.iter().any(|m| m.contains("`maker`")));
    assert!(missing.iter().any(|m| m.contains("`description`")));
    assert!(missing.iter().any(|m| m.contains("`basis`")));
    let basis = p
        .findings
        .iter()
        .find(|f| f.message.contains("`basis`"))
        .unwrap();
    assert_eq!(&src[basis.span.range()], "p");
}

#[test]
fn wrong_types_unknown_keys_and_invalid_values_are_reported() {
    let src = r#"
[product]
id = "x"
name = 3
maker = "M"
audiense = "adults"

[purposes.p]
description = "Run the heating for you."
use = "essential.service"
basis = "contrakt"
"#;
    let p = parse(src).unwrap();
    let c = codes(&p);
    assert!(c.contains(&"PV002"), "{c:?}");
    assert!(c.contains(&"PV003"));
    assert!(c.contains(&"PV004"));
    let unknown = p.findings.iter().find(|f| f.rule.code == "PV003").unwrap();
    assert!(
        unknown.help.contains("did you mean `audience`"),
        "{}",
        unknown.help
    );
    let invalid = p.findings.iter().find(|f| f.rule.code == "PV004").unwrap();
    assert!(
        invalid.help.contains("did you mean `contract`"),
        "{}",
        invalid.help
    );
    assert_eq!(&src[invalid.span.range()], "\"contrakt\"");
}

#[test]
fn object_schemas_arrays_and_transforms_parse() {
    let src = r#"
[product]
id = "x"
name = "X"
maker = "M"

[streams.s]
subject = "member"

[streams.s.fields.route]
type = "location[]"
category = "user.location.imprecise"
purposes = ["p"]
retention = "30d"
transform = { truncate_location = 2, drop_after = "7d" }

[streams.s.fields.meal]
type = "object"
schema = { kcal = "integer", tags = "string[]", where = { type = "object", schema = { room = "string" } } }
category = "user.behavior"
purposes = ["p"]
retention = "forever"
"#;
    let p = parse(src).unwrap();
    assert!(p.findings.is_empty(), "{:?}", p.findings);
    let s = p.manifest.stream("s").unwrap();
    let route = s.field("route").unwrap();
    assert!(route.ty.is_location());
    assert_eq!(
        route.transform.truncate_location.as_ref().map(|t| t.value),
        Some(2)
    );
    assert_eq!(
        route.effective_retention().map(|r| r.to_string()),
        Some("7d".to_owned())
    );
    let meal = s.field("meal").unwrap();
    assert_eq!(
        meal.ty.value.to_string(),
        "object { kcal: integer, tags: string[], where: object { room: string } }"
    );
    assert!(matches!(
        meal.retention.as_ref().map(|r| &r.value),
        Some(RetentionSpec::Unbounded(_))
    ));
}

#[test]
fn bad_keys_are_invalid_ids() {
    let src = "[product]\nid = \"Bad Id\"\nname = \"X\"\nmaker = \"M\"\n[purposes.Heating]\ndescription = \"Keep it warm for you.\"\nuse = \"essential.service\"\nbasis = \"contract\"\n";
    let p = parse(src).unwrap();
    assert_eq!(codes(&p).iter().filter(|c| **c == "PV005").count(), 2);
}

#[test]
fn works_offline_accepts_bool_or_text() {
    let src = "[product]\nid = \"x\"\nname = \"X\"\nmaker = \"M\"\nworks_offline = \"Heating schedules keep running.\"\n";
    let p = parse(src).unwrap();
    assert_eq!(
        p.manifest.product.works_offline.map(|w| w.value),
        Some(crate::OfflineSupport::Partial(
            "Heating schedules keep running.".to_owned()
        ))
    );
}

mod never_panics {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn on_arbitrary_text(s in "\\PC{0,400}") {
            let _ = parse(&s);
        }

        #[test]
        fn on_mutated_manifests(cut in 0usize..1200, insert in "[\\[\\]{}=\"#. a-z0-9\\n_-]{0,12}") {
            let base = super::DESIGN_EXAMPLE;
            let at = base.char_indices().map(|(i, _)| i).take_while(|i| *i <= cut.min(base.len())).last().unwrap_or(0);
            let mutated = format!("{}{}{}", &base[..at], insert, &base[at..]);
            let _ = parse(&mutated);
            let today = jiff::civil::Date::new(2026, 11, 28).unwrap();
            let _ = crate::check(&mutated, &crate::LintContext { today });
        }
    }
}

#[test]
fn array_types_nest_at_most_four_deep() {
    let field = |ty: &str| {
        format!(
            "[product]\nid = \"x\"\nname = \"X\"\nmaker = \"M\"\n[streams.s]\nsubject = \"member\"\n\
             [streams.s.fields.f]\ntype = \"{ty}\"\ncategory = \"user.sensor\"\npurposes = [\"p\"]\nretention = \"30d\"\n\
             [streams.s.fields.o]\ntype = \"object\"\nschema = {{ v = \"{ty}\" }}\ncategory = \"user.sensor\"\npurposes = [\"p\"]\nretention = \"30d\"\n"
        )
    };
    let ok = parse(&field("number[][][][]")).unwrap();
    assert!(
        !codes(&ok).contains(&rules::INVALID_VALUE.code),
        "{:?}",
        ok.findings
    );
    // Deep enough to overflow the stack if any walk of the type recursed over it.
    let deep = format!("number{}", "[]".repeat(200_000));
    let p = parse(&field(&deep)).unwrap();
    let invalid = codes(&p)
        .iter()
        .filter(|c| **c == rules::INVALID_VALUE.code)
        .count();
    assert_eq!(invalid, 2, "{:?}", codes(&p));
}
