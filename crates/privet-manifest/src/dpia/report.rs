//! The screening as a machine-readable record (`privet dpia --format json`), with manifest
//! lines and columns in place of byte spans.

use super::criteria::{QUESTIONS, Question};
use super::screening::Screening;
use crate::model::Manifest;
use crate::span::{LineCol, LineIndex};
use serde::Serialize;

/// The screening of one manifest, as printed by `privet dpia --format json`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    /// The product's id.
    pub product: String,
    /// Whether a DPIA is required.
    pub required: bool,
    /// Why, or why not, in one paragraph.
    pub conclusion: String,
    /// Every criterion met.
    pub reasons: Vec<ReasonRecord>,
    /// What the manifest cannot show, for the DPO to answer.
    pub open_questions: &'static [Question],
}

/// One criterion met, pointing at the manifest.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReasonRecord {
    /// Stable code, e.g. `systematic-monitoring`.
    pub criterion: &'static str,
    /// In plain words.
    pub title: &'static str,
    /// `EDPB criterion 3`, `ICO list`, or both.
    pub source: String,
    /// 1-based line of the first place that meets it.
    pub line: usize,
    /// 1-based column there.
    pub column: usize,
    /// What meets it.
    pub detail: String,
    /// Every line that meets it, in order, each once.
    pub lines: Vec<usize>,
}

impl Screening {
    /// This screening with lines and columns from the manifest's `source`.
    pub fn report(&self, manifest: &Manifest, source: &str) -> Report {
        let index = LineIndex::new(source);
        let reasons = self
            .reasons
            .iter()
            .map(|r| {
                let LineCol { line, column } = index.line_col(source, r.span.start);
                let mut lines: Vec<usize> = r
                    .evidence
                    .iter()
                    .map(|s| index.line_col(source, s.start).line)
                    .collect();
                lines.dedup();
                ReasonRecord {
                    criterion: r.criterion.code(),
                    title: r.criterion.title(),
                    source: r.criterion.source(),
                    line,
                    column,
                    detail: r.detail.clone(),
                    lines,
                }
            })
            .collect();
        Report {
            product: manifest.product.id.as_str().to_owned(),
            required: self.required,
            conclusion: self.conclusion(),
            reasons,
            open_questions: QUESTIONS,
        }
    }
}
