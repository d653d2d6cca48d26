//! The two-layer privacy and security label, its grade, and side-by-side comparison.
//!
//! [`Label::from_manifest`] derives a label from a manifest and the running configuration
//! ([`LabelContext`]): a primary layer a shopper reads first (what is collected, by which
//! sensors, why, who else gets it, for how long, security updates, offline use, account and
//! device security, how to delete), a secondary layer with every field, and a grade from A to
//! E computed by the rules in [`GRADE_RULES`], each applied rule listed with its points.

mod grade;
mod html;
mod model;
mod rows;
mod rules;
mod text;

pub use grade::{Grade, GradeReason, grade};
pub use model::{FieldRow, Label, LabelContext, LabelProduct, LabelPurpose, Primary, SharedWith};
pub use rows::{CompareRow, Row as LabelRow, primary as primary_rows, side_by_side, updates_line};
pub use rules::{
    GRADE_BANDS, GRADE_RULES, GradeRule, LOWEST_GRADE, START_POINTS, bands_sentence, letter,
};

/// Why a label could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The HTML template failed to render.
    #[error("could not render the label as HTML")]
    Render {
        /// What the template engine reported.
        #[source]
        source: askama::Error,
    },
    /// The labels could not be written as JSON.
    #[error("could not write the label as JSON")]
    Json {
        /// What serde_json reported.
        #[source]
        source: serde_json::Error,
    },
}

/// One label as text for a terminal (about 80 columns): both layers, the grade and why.
pub fn text(label: &Label) -> String {
    text::Text(label).to_string()
}

/// Labels side by side as text: a header row of product names, then the same rows for each.
pub fn compare_text(labels: &[Label]) -> String {
    text::Compare(labels).to_string()
}

/// Labels as one complete, self-contained HTML page, each with both layers and its grade.
pub fn html(labels: &[Label]) -> Result<String, Error> {
    html::labels(labels)
}

/// Labels side by side as a complete HTML page: one column per product, the same rows.
pub fn compare_html(labels: &[Label]) -> Result<String, Error> {
    html::compare(labels)
}

/// Labels as pretty-printed JSON: an array of [`Label`].
pub fn json(labels: &[Label]) -> Result<String, Error> {
    serde_json::to_string_pretty(labels).map_err(|source| Error::Json { source })
}
