//! Special category data (UK GDPR Art. 9): a condition for every purpose it serves, explicit
//! consent gated like consent, and no inferring it (PV020, PV021, PV051).

use crate::finding::Finding;
use crate::model::Manifest;
use crate::rules;
use crate::taxonomy::is_special_category;
use crate::vocab::{LawfulBasis, Origin, SpecialCondition};

pub(super) fn check(m: &Manifest, out: &mut Vec<Finding>) {
    without_condition(m, out);
    explicit_consent_not_gated(m, out);
    inferred(m, out);
}

/// PV020: once per field and purpose, at the purpose's name in the field's list.
fn without_condition(m: &Manifest, out: &mut Vec<Finding>) {
    for (s, f) in m.fields() {
        if !is_special_category(&f.category.value) {
            continue;
        }
        for (i, listed) in f.purposes.iter().enumerate() {
            // A purpose listed twice in one field is reported once.
            let repeated = f
                .purposes
                .iter()
                .take(i)
                .any(|earlier| earlier.as_str() == listed.as_str());
            let Some(p) = m.purpose(listed.as_str()) else {
                continue;
            };
            if repeated || p.special_category_condition.is_some() {
                continue;
            }
            let help = if p.basis.value == LawfulBasis::Consent {
                format!(
                    "add `special_category_condition = \"explicit_consent\"` to `[purposes.{}]` and ask for explicit consent",
                    p.id.as_str()
                )
            } else {
                format!(
                    "add `special_category_condition = \"explicit_consent\"` and `basis = \"consent\"` to `[purposes.{}]`, or remove \"{}\" from this field's purposes",
                    p.id.as_str(),
                    p.id.as_str()
                )
            };
            out.push(
                Finding::new(
                    &rules::SPECIAL_CATEGORY_WITHOUT_CONDITION,
                    listed.span,
                    format!(
                        "field `{}.{}` is special category data (`{}`) but purpose `{}` has no Art. 9 condition",
                        s.id.as_str(),
                        f.name.as_str(),
                        f.category.value,
                        p.id.as_str()
                    ),
                )
                .label("no `special_category_condition`")
                .help(help),
            );
        }
    }
}

/// PV021.
fn explicit_consent_not_gated(m: &Manifest, out: &mut Vec<Finding>) {
    for p in &m.purposes {
        let explicit = p
            .special_category_condition
            .as_ref()
            .is_some_and(|c| c.value == SpecialCondition::ExplicitConsent);
        // A missing basis is stored as consent, so a placeholder never gets here.
        if !explicit || p.basis.value == LawfulBasis::Consent {
            continue;
        }
        out.push(
            Finding::new(
                &rules::EXPLICIT_CONSENT_NOT_GATED,
                p.basis.span,
                format!(
                    "purpose `{}` relies on explicit consent but its basis is `{}`",
                    p.id.as_str(),
                    p.basis.value
                ),
            )
            .label("not consent")
            .help("set `basis = \"consent\"` so collection waits until the person says yes"),
        );
    }
}

/// PV051.
fn inferred(m: &Manifest, out: &mut Vec<Finding>) {
    for (s, f) in m.fields() {
        let Some(origin) = &f.origin else {
            continue;
        };
        if origin.value != Origin::Inferred || !is_special_category(&f.category.value) {
            continue;
        }
        out.push(
            Finding::new(
                &rules::INFERRED_SPECIAL_CATEGORY,
                origin.span,
                format!(
                    "field `{}.{}` infers special category data (`{}`)",
                    s.id.as_str(),
                    f.name.as_str(),
                    f.category.value
                ),
            )
            .label("inferred")
            .help("stop inferring it, or ask the person for it (`origin = \"provided\"`) under explicit consent and say in its description what is worked out and how"),
        );
    }
}
