//! What fills each column of a row, read from the manifest (docs/ropa.md says the same in
//! prose). Measures and rights are in `measures.rs`.

use super::measures;
use super::model::{Cell, Row};
use super::words;
use crate::model::{Field, Manifest, Purpose, Recipient, Stream};
use crate::notice::plain::{self, Keep};
use crate::taxonomy::{is_personal_category, is_special_category};
use crate::vocab::{Audience, LawfulBasis, Role, SubjectKind};

/// The fields that serve `purpose`, with their streams, in manifest order.
pub(super) fn fields_of<'a>(m: &'a Manifest, purpose: &Purpose) -> Vec<(&'a Stream, &'a Field)> {
    m.fields()
        .filter(|(_, f)| f.purposes.iter().any(|p| p.as_str() == purpose.id.as_str()))
        .collect()
}

/// The controller named for a product: its maker, unless the maker is a processor for it.
pub(super) fn controller_name(m: &Manifest) -> Option<String> {
    match m.product.role() {
        Role::Controller => Some(m.product.maker.value.clone()),
        Role::Processor => None,
    }
}

/// One row: `purpose` of product `m`; `dpia` is the product's screening.
pub(super) fn row(m: &Manifest, p: &Purpose, dpia: &(bool, String)) -> Row {
    let fields = fields_of(m, p);
    let recipients = m.recipients_of(p);
    let maker = &m.product.maker.value;
    Row {
        product: m.product.id.to_string(),
        purpose: p.id.to_string(),
        controller: vec![controller_name(m).unwrap_or_else(|| {
            format!("Not stated: {maker} acts as a processor for this product")
        })],
        controller_contact: vec![
            m.product
                .privacy_contact
                .as_ref()
                .map_or_else(|| "Not stated".to_owned(), |c| c.value.clone()),
        ],
        business_function: vec![format!("{} ({})", m.product.name.value, m.product.id.value)],
        purpose_of_processing: vec![format!(
            "{} (purpose {}; data use {})",
            p.description.value, p.id.value, p.data_use.value
        )],
        joint_controller: vec!["None declared".to_owned()],
        individuals: individuals(m, &fields),
        personal_data: personal_data(&fields),
        recipients: recipient_lines(maker, &recipients),
        processor_contracts: processor_contracts(&recipients),
        third_countries: third_countries(&recipients),
        safeguards: safeguards(&recipients),
        retention: retention(&fields),
        security_measures: measures::security(m, p, &fields),
        article_6: vec![format!(
            "{} ({})",
            words::basis(p.basis.value),
            p.basis.value.article()
        )],
        article_9: article_9(p, &fields),
        legitimate_interests: if p.basis.value == LawfulBasis::LegitimateInterests {
            vec![p.description.value.clone()]
        } else {
            Vec::new()
        },
        rights: measures::rights(p.basis.value),
        automated_decisions: measures::automated_decisions(p),
        source: source(&fields),
        dpia_required: {
            let (required, why) = dpia;
            vec![if *required { "Yes" } else { "No" }.to_owned(), why.clone()]
        },
        dpia_link: vec![
            m.product
                .dpia
                .as_ref()
                .map_or_else(|| "None recorded".to_owned(), |d| d.value.clone()),
        ],
    }
}

/// Pushes `line` unless it is already there.
fn push_once(out: &mut Cell, line: String) {
    if !out.contains(&line) {
        out.push(line);
    }
}

/// Whose data the purpose's fields are about.
fn individuals(m: &Manifest, fields: &[(&Stream, &Field)]) -> Cell {
    let mut out = Vec::new();
    let mut personal = false;
    // Other people a stream captures, each with the streams that capture them.
    let mut others: Vec<(&str, Vec<String>)> = Vec::new();
    for (s, _) in fields {
        match s.subject.value {
            SubjectKind::Member => {
                personal = true;
                push_once(
                    &mut out,
                    "Household members (the people who use the product)".to_owned(),
                );
            }
            SubjectKind::Household => {
                personal = true;
                push_once(
                    &mut out,
                    "Households (data about the home as a whole)".to_owned(),
                );
            }
            SubjectKind::None => {}
        }
        for d in &s.data_subjects {
            personal = true;
            // Children in a product for children are its users: the audience line says so.
            if d.as_str() == "child" && m.product.audience().includes_children() {
                continue;
            }
            let stream = s.id.value.to_string();
            match others.iter_mut().find(|(k, _)| *k == d.as_str()) {
                Some((_, streams)) => push_once(streams, stream),
                None => others.push((d.as_str(), vec![stream])),
            }
        }
    }
    for (key, streams) in others {
        let which = match streams.as_slice() {
            [one] => format!("the {one} stream"),
            _ => format!("the {} streams", crate::lint::and_list(streams)),
        };
        out.push(format!("{} ({which} can capture them)", words::people(key)));
    }
    if personal {
        match m.product.audience() {
            Audience::Children => {
                out.push("Children (the product is made for children)".to_owned());
            }
            Audience::All => out.push("Children (the product is for all ages)".to_owned()),
            Audience::Adults => {}
        }
    }
    if out.is_empty() {
        out.push("None: no personal data (data about the device only)".to_owned());
    }
    out
}

/// A field's name, with its stream when another field of the row has the same name.
fn field_label(fields: &[(&Stream, &Field)], s: &Stream, f: &Field) -> String {
    let same = fields
        .iter()
        .filter(|(_, g)| g.name.as_str() == f.name.as_str())
        .count();
    if same > 1 {
        format!("{}.{}", s.id.value, f.name.value)
    } else {
        f.name.value.to_string()
    }
}

/// Groups field labels under a key, keeping the order keys are first met.
fn grouped<K: PartialEq>(items: impl IntoIterator<Item = (K, String)>) -> Vec<(K, Vec<String>)> {
    let mut groups: Vec<(K, Vec<String>)> = Vec::new();
    for (k, label) in items {
        match groups.iter_mut().find(|(g, _)| *g == k) {
            Some((_, labels)) => push_once(labels, label),
            None => groups.push((k, vec![label])),
        }
    }
    groups
}

/// Each data category of the purpose's fields, with the fields under it.
fn personal_data(fields: &[(&Stream, &Field)]) -> Cell {
    let groups = grouped(
        fields
            .iter()
            .map(|(s, f)| (f.category.value.as_str(), field_label(fields, s, f))),
    );
    if groups.is_empty() {
        return vec!["None: no field serves this purpose".to_owned()];
    }
    groups
        .into_iter()
        .map(|(key, labels)| {
            let name = plain::category(key).0;
            let note = if is_special_category(key) {
                ", special category data"
            } else if !is_personal_category(key) {
                ", not personal data"
            } else {
                ""
            };
            format!("{name} ({key}{note}): {}", labels.join(", "))
        })
        .collect()
}

/// Where a recipient is, by name and ISO 3166 code.
fn place(r: &Recipient) -> String {
    match &r.country {
        Some(c) => format!(
            "{} ({})",
            plain::country(&c.value),
            c.value.trim().to_ascii_uppercase()
        ),
        None => "country not stated".to_owned(),
    }
}

fn recipient_lines(maker: &str, recipients: &[&Recipient]) -> Cell {
    if recipients.is_empty() {
        return vec![format!("None outside {maker}")];
    }
    recipients
        .iter()
        .map(|r| {
            let role = match r.role.as_ref().map(|x| x.value) {
                Some(Role::Processor) => "processor",
                Some(Role::Controller) => "controller, for its own purposes",
                None => "role not stated",
            };
            format!("{} ({role}; {})", r.name.value, place(r))
        })
        .collect()
}

fn processor_contracts(recipients: &[&Recipient]) -> Cell {
    let processors: Cell = recipients
        .iter()
        .filter(|r| r.role.as_ref().is_some_and(|x| x.value == Role::Processor))
        .map(|r| {
            format!(
                "{}: not linked from the manifest; add the link to the contract",
                r.name.value
            )
        })
        .collect();
    if processors.is_empty() {
        vec!["No processor for this purpose".to_owned()]
    } else {
        processors
    }
}

/// Recipients that process outside the UK (or do not say where).
fn abroad<'a>(recipients: &[&'a Recipient]) -> Vec<&'a Recipient> {
    recipients
        .iter()
        .copied()
        .filter(|r| r.country.as_ref().is_none_or(|c| !plain::is_uk(&c.value)))
        .collect()
}

fn third_countries(recipients: &[&Recipient]) -> Cell {
    let abroad = abroad(recipients);
    if abroad.is_empty() {
        return vec![if recipients.is_empty() {
            "None: no recipients".to_owned()
        } else {
            "None: every recipient is in the United Kingdom".to_owned()
        }];
    }
    abroad
        .iter()
        .map(|r| format!("{}: {}", place(r), r.name.value))
        .collect()
}

fn safeguards(recipients: &[&Recipient]) -> Cell {
    let abroad = abroad(recipients);
    if abroad.is_empty() {
        return vec!["Not applicable: no transfer outside the United Kingdom".to_owned()];
    }
    abroad
        .iter()
        .map(|r| match &r.safeguard {
            Some(s) => format!("{}: {}", r.name.value, words::safeguard(&s.value)),
            None => format!("{}: none stated", r.name.value),
        })
        .collect()
}

/// How long each field is kept, after `drop_after`.
fn retention(fields: &[(&Stream, &Field)]) -> Cell {
    if fields.is_empty() {
        return vec!["Nothing is kept for this purpose".to_owned()];
    }
    let mut out = Vec::new();
    for (s, f) in fields {
        let keep = Keep::of(f).plain();
        let line = match (f.retention(), &f.transform.drop_after) {
            (Some(r), Some(d)) if d.value < r => format!(
                "{}: {keep} (then dropped; the record's retention is {})",
                field_label(fields, s, f),
                r.plain()
            ),
            _ => format!("{}: {keep}", field_label(fields, s, f)),
        };
        push_once(&mut out, line);
    }
    out
}

fn article_9(p: &Purpose, fields: &[(&Stream, &Field)]) -> Cell {
    let special = fields
        .iter()
        .any(|(_, f)| is_special_category(&f.category.value));
    match (&p.special_category_condition, special) {
        (Some(c), _) => vec![words::condition(c.value)],
        (None, true) => {
            vec!["None stated, though this purpose uses special category data".to_owned()]
        }
        (None, false) => vec!["Not applicable: no special category data".to_owned()],
    }
}

/// Where the purpose's data comes from, grouped by origin.
fn source(fields: &[(&Stream, &Field)]) -> Cell {
    if fields.is_empty() {
        return vec!["None: no field serves this purpose".to_owned()];
    }
    grouped(
        fields
            .iter()
            .map(|(s, f)| (f.origin(), field_label(fields, s, f))),
    )
    .into_iter()
    .map(|(o, labels)| format!("{} ({o}): {}", words::origin(o), labels.join(", ")))
    .collect()
}
