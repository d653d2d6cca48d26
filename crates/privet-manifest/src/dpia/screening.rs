//! The screening itself: which criteria the manifest meets, where, and whether that makes a
//! DPIA required. The decision rule is documented in `docs/dpia.md`.

use super::criteria::{Criterion, IcoRule};
use crate::model::{Field, Manifest, Stream};
use crate::span::Span;
use crate::taxonomy::{
    is_personal_category, is_precise_location, is_recording, is_special_category, is_under,
};
use crate::vocab::{Origin, SubjectKind};
use std::collections::{BTreeMap, BTreeSet};

/// People a stream may capture who are not users and never see the notice.
const NON_USERS: &[&str] = &["visitor", "passerby", "guest", "anonymous_user"];
/// Non-users met outside the home, where a camera or sensor watches a publicly accessible area.
const OUTSIDE_THE_HOME: &[&str] = &["visitor", "passerby"];
/// Data subjects the EDPB counts as vulnerable (WP248, criterion 7).
const VULNERABLE: &[&str] = &["child", "employee", "patient", "trainee"];
/// Data uses that evaluate or profile people.
const PROFILING_USES: &[&str] = &[
    "personalize.content.profiling",
    "personalize.content.profiled",
    "marketing.advertising.profiling",
];
/// Data uses that market to people (for products children use).
const MARKETING_USES: &[&str] = &["marketing"];
/// Data uses that train AI systems.
const AI_USES: &[&str] = &["train_ai_system"];

/// One criterion the manifest meets, and where.
#[derive(Clone, Debug, PartialEq)]
pub struct Reason {
    /// The criterion.
    pub criterion: Criterion,
    /// The first place in the manifest that meets it.
    pub span: Span,
    /// What meets it, in a sentence naming the fields, streams or purposes.
    pub detail: String,
    /// Every place that meets it, in source order.
    pub evidence: Vec<Span>,
}

/// The outcome of screening one manifest.
#[derive(Clone, Debug, PartialEq)]
pub struct Screening {
    /// Whether a DPIA is required (the rule in `docs/dpia.md`).
    pub required: bool,
    /// Every criterion met, in [`Criterion::ALL`] order.
    pub reasons: Vec<Reason>,
}

impl Screening {
    /// Whether `criterion` is met.
    pub fn meets(&self, criterion: Criterion) -> bool {
        self.reasons.iter().any(|r| r.criterion == criterion)
    }

    /// The EDPB criteria met, by number.
    pub fn edpb_met(&self) -> BTreeSet<u8> {
        self.reasons
            .iter()
            .filter_map(|r| r.criterion.edpb())
            .collect()
    }

    /// The grounds that make a DPIA required, one sentence each; empty when it is not.
    pub fn grounds(&self) -> Vec<String> {
        let edpb = self.edpb_met();
        let mut out = Vec::new();
        if edpb.len() >= 2 {
            let listed: Vec<String> = self
                .reasons
                .iter()
                .filter_map(|r| {
                    r.criterion
                        .edpb()
                        .map(|n| format!("{n} ({})", r.criterion.title()))
                })
                .collect();
            out.push(format!(
                "{} of the EDPB's nine criteria are met: {}",
                edpb.len(),
                listed.join(", ")
            ));
        }
        for r in &self.reasons {
            match r.criterion.ico() {
                Some(IcoRule::Alone) => out.push(format!(
                    "the ICO's list names {} as needing a DPIA on its own",
                    r.criterion.title()
                )),
                Some(IcoRule::WithEdpbCriterion) if r.criterion.edpb().is_none() => {
                    let partners: Vec<String> = edpb
                        .iter()
                        .filter(|n| Some(**n) != r.criterion.implied_edpb())
                        .map(|n| n.to_string())
                        .collect();
                    if let Some((last, rest)) = partners.split_last() {
                        let met = if rest.is_empty() {
                            format!("criterion {last} is met")
                        } else {
                            format!("criteria {} and {last} are met", rest.join(", "))
                        };
                        out.push(format!(
                            "the ICO's list names {} together with an EDPB criterion, and {met}",
                            r.criterion.title()
                        ));
                    }
                }
                _ => {}
            }
        }
        out
    }

    /// The screening's conclusion in one paragraph: required and why, or why not.
    pub fn conclusion(&self) -> String {
        let grounds = self.grounds();
        if self.required {
            format!("A DPIA is required: {}.", grounds.join("; "))
        } else if self.reasons.is_empty() {
            "A DPIA is not required by the screening: the manifest meets none of the criteria. \
             Keep this screening on file, and screen again when the manifest changes."
                .to_owned()
        } else {
            let met: Vec<&str> = self.reasons.iter().map(|r| r.criterion.title()).collect();
            format!(
                "A DPIA is not required by the screening: it meets {}, but no item of the ICO's \
                 list that needs a DPIA on its own, no item that needs one together with an EDPB \
                 criterion, and fewer than two EDPB criteria. A DPIA is still good practice; \
                 answer the open questions before relying on this.",
                met.join(", ")
            )
        }
    }

    /// Where a finding about the whole screening should point: the first place that meets an
    /// EDPB criterion or an ICO item needed on its own, else the first reason's place.
    pub fn anchor(&self) -> Option<Span> {
        let decisive = self
            .reasons
            .iter()
            .filter(|r| r.criterion.edpb().is_some() || r.criterion.ico() == Some(IcoRule::Alone))
            .map(|r| r.span)
            .min_by_key(|s| s.start);
        decisive.or_else(|| self.reasons.iter().map(|r| r.span).min_by_key(|s| s.start))
    }
}

/// Places and items met for each criterion while walking the manifest.
#[derive(Default)]
struct Found(BTreeMap<Criterion, Vec<(Span, String)>>);

impl Found {
    fn note(&mut self, c: Criterion, span: Span, item: String) {
        let items = self.0.entry(c).or_default();
        if !items.iter().any(|(s, i)| *s == span && *i == item) {
            items.push((span, item));
        }
    }
}

/// Screens a manifest against the ICO's list and the EDPB criteria. Never panics.
pub fn screen(m: &Manifest) -> Screening {
    let mut found = Found::default();
    product(m, &mut found);
    for s in &m.streams {
        stream(s, &mut found);
        for f in &s.fields {
            field(s, f, &mut found);
        }
    }
    purposes(m, &mut found);
    let reasons: Vec<Reason> = found
        .0
        .into_iter()
        .map(|(criterion, mut items)| {
            items.sort_by_key(|(s, _)| s.start);
            let span = items.first().map(|(s, _)| *s).unwrap_or_default();
            let mut names: Vec<String> = Vec::new();
            for (_, i) in &items {
                if !names.contains(i) {
                    names.push(i.clone());
                }
            }
            Reason {
                criterion,
                span,
                detail: names.join("; "),
                evidence: items.into_iter().map(|(s, _)| s).collect(),
            }
        })
        .collect();
    let mut screening = Screening {
        required: false,
        reasons,
    };
    screening.required = !screening.grounds().is_empty();
    screening
}

fn product(m: &Manifest, found: &mut Found) {
    if let Some(a) = &m.product.audience
        && a.value.includes_children()
    {
        found.note(
            Criterion::VulnerablePeople,
            a.span,
            format!(
                "{} (`audience = \"{}\"`)",
                if a.value == crate::vocab::Audience::Children {
                    "the product is for children"
                } else {
                    "children are likely to use the product"
                },
                a.value
            ),
        );
    }
}

fn stream(s: &Stream, found: &mut Found) {
    let personal = s
        .fields
        .iter()
        .any(|f| is_personal_category(&f.category.value));
    let sensed = s
        .fields
        .iter()
        .any(|f| is_personal_category(&f.category.value) && f.origin() == Origin::Sensor);
    let id = s.id.as_str();
    let groups = [
        (
            personal,
            NON_USERS,
            Criterion::InvisibleProcessing,
            "captures people who are not users and never see the notice",
        ),
        (
            sensed,
            OUTSIDE_THE_HOME,
            Criterion::SystematicMonitoring,
            "watches people at or passing the door",
        ),
        (
            personal,
            VULNERABLE,
            Criterion::VulnerablePeople,
            "captures vulnerable people",
        ),
    ];
    for (applies, list, criterion, what) in groups {
        let matching: Vec<_> = s
            .data_subjects
            .iter()
            .filter(|w| list.contains(&w.value.as_str()))
            .collect();
        if !applies || matching.is_empty() {
            continue;
        }
        let names: Vec<String> = matching.iter().map(|w| format!("`{}`", w.value)).collect();
        let item = format!("stream `{id}` {what} ({})", names.join(", "));
        for w in matching {
            found.note(criterion, w.span, item.clone());
        }
    }
}

fn field(s: &Stream, f: &Field, found: &mut Found) {
    let c = f.category.value.as_str();
    let at = f.category.span;
    let name = format!("`{}.{}`", s.id.as_str(), f.name.as_str());
    let member = s.subject.value == SubjectKind::Member;
    let sensed = matches!(f.origin(), Origin::Sensor | Origin::Inferred);
    if is_special_category(c) {
        found.note(
            Criterion::SensitiveOrHighlyPersonal,
            at,
            format!("{name} is special category data (`{c}`)"),
        );
        if sensed {
            found.note(
                Criterion::InnovativeTechnology,
                at,
                format!("{name} is measured or worked out by the device (`{c}`)"),
            );
        }
        if f.origin() == Origin::Inferred {
            found.note(
                Criterion::EvaluationOrScoring,
                at,
                format!("{name} is special category data predicted from other readings"),
            );
        }
    }
    if is_precise_location(c) {
        found.note(
            Criterion::SensitiveOrHighlyPersonal,
            at,
            format!("{name} is precise location"),
        );
        if member {
            found.note(
                Criterion::RiskOfPhysicalHarm,
                at,
                format!("{name} tells where a person is"),
            );
        }
    }
    if is_recording(c) {
        found.note(
            Criterion::SensitiveOrHighlyPersonal,
            at,
            format!("{name} records sound or pictures (`{c}`)"),
        );
        if f.origin() != Origin::ThirdParty {
            found.note(
                Criterion::InnovativeTechnology,
                at,
                format!("{name} comes from a connected camera or microphone"),
            );
        }
    }
    if is_under(c, "user.biometric") || is_under(c, "user.authorization.biometric") {
        found.note(
            Criterion::BiometricData,
            at,
            format!("{name} is biometric data"),
        );
        found.note(
            Criterion::InnovativeTechnology,
            at,
            format!("{name} uses biometric recognition"),
        );
    }
    if is_under(c, "user.health_and_medical.genetic") {
        found.note(
            Criterion::GeneticData,
            at,
            format!("{name} is genetic data"),
        );
    }
    if member && (is_under(c, "user.location") || is_under(c, "user.behavior")) {
        found.note(
            Criterion::Tracking,
            at,
            format!("{name} follows one person's location or behaviour over time"),
        );
    }
    if f.origin() == Origin::ThirdParty && is_personal_category(c) {
        let at = f.origin.as_ref().map_or(at, |o| o.span);
        found.note(
            Criterion::MatchingOrCombining,
            at,
            format!("{name} comes from someone else and is combined with the device's data"),
        );
    }
}

fn purposes(m: &Manifest, found: &mut Found) {
    let children = m.product.audience().includes_children();
    for p in &m.purposes {
        let u = p.data_use.value.as_str();
        let served = m.fields().any(|(_, f)| {
            is_personal_category(&f.category.value)
                && f.purposes.iter().any(|fp| fp.as_str() == p.id.as_str())
        });
        if !served {
            continue;
        }
        let id = p.id.as_str();
        let at = p.data_use.span;
        let profiling = PROFILING_USES.iter().any(|a| is_under(u, a));
        if profiling {
            found.note(
                Criterion::EvaluationOrScoring,
                at,
                format!("purpose `{id}` profiles people (`{u}`)"),
            );
        }
        if AI_USES.iter().any(|a| is_under(u, a)) {
            found.note(
                Criterion::InnovativeTechnology,
                at,
                format!("purpose `{id}` trains an AI system (`{u}`)"),
            );
        }
        if children && (profiling || MARKETING_USES.iter().any(|a| is_under(u, a))) {
            found.note(
                Criterion::ChildrenProfilingOrMarketing,
                at,
                format!("purpose `{id}` profiles or markets (`{u}`) in a product children use"),
            );
        }
    }
}
