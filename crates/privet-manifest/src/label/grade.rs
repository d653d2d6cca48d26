//! The label's grade: start at [`START_POINTS`], deduct by the rules in [`GRADE_RULES`], map
//! the points to a letter by [`GRADE_BANDS`]. Every deduction is listed, so anyone can redo
//! it. Nothing legally required earns points; the rules only deduct.

use super::model::LabelContext;
use super::rules::{
    DEFAULT_PASSWORDS, GRADE_RULES, GradeRule, MARKETING, NO_DISCLOSURE, NO_PER_PERSON_ENCRYPTION,
    NO_TWO_STEP, NO_UPDATE_KEY, NOT_OFFLINE, ON_BY_DEFAULT, OUTSIDE_UK, PRECISE_LOCATION,
    RECORDINGS, RETENTION_OVER_1Y, RETENTION_OVER_3Y, SPECIAL_CATEGORY, START_POINTS,
    THIRD_PARTY_CONTROLLER, UPDATES_ENDED, UPDATES_ENDING, UPDATES_NOT_STATED, letter,
};
use crate::model::{Manifest, OfflineSupport, Purpose};
use crate::notice::plain::{self, Keep};
use crate::taxonomy::{is_precise_location, is_recording, is_special_category, is_under};
use crate::vocab::{LawfulBasis, Role};
use jiff::ToSpan;
use serde::{Deserialize, Serialize};

/// A grade with every deduction that produced it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grade {
    /// `A` (best) to `E`.
    pub letter: char,
    /// Points left of [`START_POINTS`], never below 0.
    pub points: u32,
    /// Each rule that applied, with its points.
    pub reasons: Vec<GradeReason>,
}

/// One applied rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GradeReason {
    /// The rule's code.
    pub rule: String,
    /// Points deducted (negative).
    pub points: i32,
    /// What in this product made it apply.
    pub detail: String,
}

struct Reasons(Vec<GradeReason>);

impl Reasons {
    fn add(&mut self, rule: &GradeRule, detail: String) {
        self.0.push(GradeReason {
            rule: rule.code.to_owned(),
            points: rule.points,
            detail,
        });
    }
}

/// Grades a manifest.
pub fn grade(m: &Manifest, cx: &LabelContext) -> Grade {
    let mut r = Reasons(Vec::new());
    purposes(m, &mut r);
    data(m, &mut r);
    recipients(m, &mut r);
    security(m, cx, &mut r);
    // Group the reasons by rule, in table order, so the label reads like the documentation.
    r.0.sort_by_key(|x| GRADE_RULES.iter().position(|g| g.code == x.rule));
    let total = START_POINTS + r.0.iter().map(|x| x.points).sum::<i32>();
    let points = u32::try_from(total.max(0)).unwrap_or(0);
    Grade {
        letter: letter(points),
        points,
        reasons: r.0,
    }
}

fn is_legally_required(p: &Purpose) -> bool {
    matches!(
        p.basis.value,
        LawfulBasis::LegalObligation | LawfulBasis::VitalInterests
    )
}

fn purposes(m: &Manifest, r: &mut Reasons) {
    for p in &m.purposes {
        let what = format!(
            "purpose {} ({}, {})",
            p.id.value, p.data_use.value, p.basis.value
        );
        if !p.needs_consent()
            && !is_under(&p.data_use.value, "essential")
            && !is_legally_required(p)
        {
            r.add(&ON_BY_DEFAULT, format!("{what} is on without asking"));
        }
        let marketing = is_under(&p.data_use.value, "marketing")
            || is_under(&p.data_use.value, "third_party_sharing");
        if marketing && !is_legally_required(p) {
            r.add(&MARKETING, what);
        }
    }
}

fn data(m: &Manifest, r: &mut Reasons) {
    let mut special: Vec<&str> = Vec::new();
    let mut recordings: Vec<&str> = Vec::new();
    for (s, f) in m.fields() {
        let cat = f.category.value.as_str();
        if is_special_category(cat) && !special.contains(&cat) {
            special.push(cat);
            r.add(&SPECIAL_CATEGORY, plain::category(cat).0);
        }
        if is_recording(cat) && !recordings.contains(&cat) {
            recordings.push(cat);
            r.add(&RECORDINGS, plain::category(cat).0);
        }
        let truncated = f
            .transform
            .truncate_location
            .as_ref()
            .is_some_and(|t| t.value <= 3);
        if is_precise_location(cat) && !truncated {
            r.add(
                &PRECISE_LOCATION,
                format!("{}.{}", s.id.value, f.name.value),
            );
        }
    }
    match m.fields().map(|(_, f)| Keep::of(f)).max() {
        Some(k) if k.days().is_none_or(|d| d > 3 * 365 + 1) => {
            r.add(
                &RETENTION_OVER_3Y,
                format!("longest retention: {}", k.plain()),
            );
        }
        Some(k) if k.days().is_some_and(|d| d > 366) => {
            r.add(
                &RETENTION_OVER_1Y,
                format!("longest retention: {}", k.plain()),
            );
        }
        _ => {}
    }
}

fn recipients(m: &Manifest, r: &mut Reasons) {
    for x in &m.recipients {
        let name = &x.name.value;
        if x.role
            .as_ref()
            .is_none_or(|role| role.value == Role::Controller)
        {
            r.add(&THIRD_PARTY_CONTROLLER, name.clone());
        }
        match x.country.as_ref() {
            Some(c) if plain::is_uk(&c.value) => {}
            Some(c) => r.add(
                &OUTSIDE_UK,
                format!("{name} ({})", plain::country(&c.value)),
            ),
            None => r.add(&OUTSIDE_UK, format!("{name} (country not stated)")),
        }
    }
}

fn security(m: &Manifest, cx: &LabelContext, r: &mut Reasons) {
    let p = &m.product;
    match p.works_offline.as_ref().map(|w| &w.value) {
        Some(OfflineSupport::Full | OfflineSupport::Partial(_)) => {}
        Some(OfflineSupport::None) => r.add(&NOT_OFFLINE, "needs the maker's cloud".to_owned()),
        None => r.add(&NOT_OFFLINE, "not stated".to_owned()),
    }
    match p.security_updates_until.as_ref().map(|d| d.value) {
        None => r.add(&UPDATES_NOT_STATED, "no end date promised".to_owned()),
        Some(until) if until < cx.today => {
            r.add(&UPDATES_ENDED, format!("ended on {}", plain::date(until)));
        }
        Some(until) => {
            // A date too far in the future to add two years to is certainly not ending soon.
            let ending = cx
                .today
                .checked_add(2.years())
                .is_ok_and(|two_years| until < two_years);
            if ending {
                r.add(&UPDATES_ENDING, format!("until {}", plain::date(until)));
            }
        }
    }
    if p.vulnerability_disclosure.is_none() {
        r.add(&NO_DISCLOSURE, "no vulnerability_disclosure".to_owned());
    }
    if p.update_public_key.is_none() {
        r.add(&NO_UPDATE_KEY, "no update_public_key".to_owned());
    }
    if !cx.two_factor_available {
        r.add(&NO_TWO_STEP, "not offered by this instance".to_owned());
    }
    if !cx.unique_device_credentials {
        r.add(
            &DEFAULT_PASSWORDS,
            "not guaranteed by this instance".to_owned(),
        );
    }
    if !cx.per_person_encryption {
        r.add(
            &NO_PER_PERSON_ENCRYPTION,
            "not provided by this instance".to_owned(),
        );
    }
}
