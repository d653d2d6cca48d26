//! The label as complete, self-contained HTML pages (askama templates `label.html` and
//! `compare.html`); the templates escape every value.

use super::Error;
use super::model::Label;
use super::rows::{self, CompareRow, Row};
use super::rules::{START_POINTS, bands_sentence};
use crate::notice::plain;
use crate::taxonomy::ATTRIBUTION;
use askama::Template;

struct LabelView<'a> {
    l: &'a Label,
    anchor: String,
    grade: String,
    as_of: String,
    rows: Vec<Row>,
}

#[derive(Template)]
#[template(path = "label.html")]
struct LabelPage<'a> {
    title: String,
    labels: Vec<LabelView<'a>>,
    start: i32,
    bands: String,
    attribution: &'static str,
}

#[derive(Template)]
#[template(path = "compare.html")]
struct ComparePage<'a> {
    title: String,
    names: Vec<&'a str>,
    rows: Vec<CompareRow>,
    start: i32,
    bands: String,
    attribution: &'static str,
}

fn title(labels: &[Label], what: &str) -> String {
    let names: Vec<&str> = labels.iter().map(|l| l.product.name.as_str()).collect();
    if names.is_empty() {
        what.to_owned()
    } else {
        format!("{what}: {}", names.join(", "))
    }
}

/// Renders each label in turn on one page.
pub(super) fn labels(labels: &[Label]) -> Result<String, Error> {
    LabelPage {
        title: title(labels, "Privacy and security label"),
        labels: labels
            .iter()
            .enumerate()
            .map(|(i, l)| LabelView {
                l,
                anchor: format!("label-{}", i + 1),
                grade: rows::grade_line(l),
                as_of: plain::date(l.as_of),
                rows: rows::primary(l),
            })
            .collect(),
        start: START_POINTS,
        bands: bands_sentence(),
        attribution: ATTRIBUTION,
    }
    .render()
    .map_err(|source| Error::Render { source })
}

/// Renders labels side by side, one column per product, with the same rows.
pub(super) fn compare(labels: &[Label]) -> Result<String, Error> {
    let per_label: Vec<Vec<Row>> = labels.iter().map(rows::compare).collect();
    let rows = rows::side_by_side(&per_label);
    ComparePage {
        title: title(labels, "Privacy and security labels compared"),
        names: labels.iter().map(|l| l.product.name.as_str()).collect(),
        rows,
        start: START_POINTS,
        bands: bands_sentence(),
        attribution: ATTRIBUTION,
    }
    .render()
    .map_err(|source| Error::Render { source })
}
