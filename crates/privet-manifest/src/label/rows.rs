//! The label's primary layer as labelled rows: one list of rows that the text, HTML and
//! comparison renderers all print, so every format shows the same answers in the same order.

use super::model::Label;
use crate::notice::plain;

/// One row: a label and its values (one entry per item).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// What the row answers, e.g. "Shared with".
    pub label: &'static str,
    /// The answer, one item per entry.
    pub values: Vec<String>,
}

fn row(label: &'static str, values: Vec<String>) -> Row {
    Row { label, values }
}

fn one(label: &'static str, value: impl Into<String>) -> Row {
    row(label, vec![value.into()])
}

fn or_none(values: Vec<String>, none: &str) -> Vec<String> {
    if values.is_empty() {
        vec![none.to_owned()]
    } else {
        values
    }
}

fn yes_no(yes: bool, if_yes: &str, if_no: &str) -> String {
    if yes { if_yes } else { if_no }.to_owned()
}

/// The grade in one line, e.g. "B (78 of 100 points)".
pub(crate) fn grade_line(l: &Label) -> String {
    format!("{} ({} of 100 points)", l.grade.letter, l.grade.points)
}

/// The security update period in plain words, "ended" when past.
pub fn updates_line(l: &Label) -> String {
    match (
        l.primary.security_updates_until,
        l.primary.security_updates_ended,
    ) {
        (Some(d), true) => format!("Ended on {}", plain::date(d)),
        (Some(d), false) => format!("Until {}", plain::date(d)),
        (None, _) => "Not stated".to_owned(),
    }
}

/// What the last-material-change row answers.
const LAST_MATERIAL_CHANGE: &str = "Last material change";

/// What a comparison shows for a label lacking a row the others have: only the last material
/// change is ever left out, when none is known.
const NONE_RECORDED: &str = "None recorded";

/// The primary layer's rows, in the order a shopper reads them (every renderer and the
/// product pages print these).
///
/// "Last material change" is there only when the context knew one (a served product whose
/// published versions changed materially): a label made from a manifest file has no history,
/// so rather than claim "no change" it leaves the row out.
pub fn primary(l: &Label) -> Vec<Row> {
    let p = &l.primary;
    let purposes = p
        .purposes
        .iter()
        .map(|x| {
            if x.optional {
                format!("{} (optional: off until you switch it on)", x.description)
            } else {
                x.description.clone()
            }
        })
        .collect();
    let shared = p
        .shared_with
        .iter()
        .map(|s| {
            let role = match s.role.as_deref() {
                Some("processor") => "works for the maker",
                Some(_) => "uses it for its own purposes",
                None => "role not stated",
            };
            match &s.safeguard {
                Some(g) => format!("{}: {}, {role}, protected by {g}", s.name, s.country_name),
                None => format!("{}: {}, {role}", s.name, s.country_name),
            }
        })
        .collect();
    let mut rows = vec![
        one("Made for", p.made_for.clone()),
        row(
            "Data collected",
            or_none(p.data_collected.clone(), "Nothing"),
        ),
        row("Sensors", or_none(p.sensors.clone(), "None")),
        row("Purposes", or_none(purposes, "None")),
        row("Shared with", or_none(shared, "Nobody")),
        row("Sent outside the UK", or_none(p.outside_uk.clone(), "No")),
        one(
            "Kept for (shortest)",
            p.retention_shortest
                .clone()
                .unwrap_or_else(|| "Not stated".to_owned()),
        ),
        one(
            "Kept for (longest)",
            p.retention_longest
                .clone()
                .unwrap_or_else(|| "Not stated".to_owned()),
        ),
    ];
    if let Some(d) = p.last_material_change {
        rows.push(one(LAST_MATERIAL_CHANGE, plain::date(d)));
    }
    rows.extend([
        one("Security updates", updates_line(l)),
        one("Works offline", p.works_offline.clone()),
        one(
            "Two-step verification",
            yes_no(p.two_step_verification, "Available", "Not available"),
        ),
        one(
            "Default passwords",
            yes_no(
                p.unique_device_credentials,
                "None: every device has its own credentials",
                "A shared default password may be used",
            ),
        ),
        one(
            "Encrypted per person",
            yes_no(
                p.per_person_encryption,
                "Yes: each person's data has its own key",
                "No",
            ),
        ),
        one(
            "Signed updates",
            yes_no(
                p.signed_updates,
                "Yes: firmware is signed with the maker's release key",
                "No release key declared",
            ),
        ),
        one(
            "Report a vulnerability",
            p.vulnerability_disclosure
                .clone()
                .unwrap_or_else(|| "No way to report stated".to_owned()),
        ),
        one("Delete your data", p.delete_your_data.clone()),
    ]);
    rows
}

/// One row of a comparison: what it answers and each label's values, in the labels' order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompareRow {
    /// What the row answers.
    pub label: &'static str,
    /// Each label's values.
    pub cells: Vec<Vec<String>>,
}

/// Rows of several labels side by side, matched by what they answer rather than by position,
/// in the order the labels give them: a row only some labels have (the last material change)
/// reads "None recorded" for the others.
pub fn side_by_side(per_label: &[Vec<Row>]) -> Vec<CompareRow> {
    let mut order: Vec<&'static str> = Vec::new();
    for rows in per_label {
        let mut at = 0;
        for r in rows {
            match order.iter().position(|x| *x == r.label) {
                Some(i) => at = i + 1,
                None => {
                    order.insert(at, r.label);
                    at += 1;
                }
            }
        }
    }
    order
        .into_iter()
        .map(|label| CompareRow {
            label,
            cells: per_label
                .iter()
                .map(|rows| {
                    rows.iter()
                        .find(|r| r.label == label)
                        .map_or_else(|| vec![NONE_RECORDED.to_owned()], |r| r.values.clone())
                })
                .collect(),
        })
        .collect()
}

/// The rows a comparison shows: the grade, the primary layer and a count of the detail.
pub(crate) fn compare(l: &Label) -> Vec<Row> {
    let mut rows = vec![
        one("Grade", grade_line(l)),
        one("Maker", l.product.maker.clone()),
    ];
    rows.extend(primary(l));
    let optional = l.secondary.iter().filter(|f| f.optional).count();
    let fields = match optional {
        0 => format!("{} (none optional)", l.secondary.len()),
        n => format!(
            "{} ({n} optional, off until you switch them on)",
            l.secondary.len()
        ),
    };
    rows.push(one("Fields collected", fields));
    rows
}
