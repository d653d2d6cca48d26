//! Findings: what the parser and the lint rules report, with rule, severity and span.

use crate::rules::Rule;
use crate::span::{LineCol, LineIndex, Span};
use serde::Serialize;

/// How serious a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth fixing; does not stop the manifest being used.
    Warning,
    /// The manifest cannot be used until this is fixed.
    Error,
}

impl Severity {
    /// `"error"` or `"warning"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// One problem found in a manifest.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    /// The rule that found it.
    pub rule: &'static Rule,
    /// What is wrong, in one sentence. Never holds personal data: manifests hold none.
    pub message: String,
    /// Where it is.
    pub span: Span,
    /// A short label under the underlined snippet.
    pub label: String,
    /// What to do about it, ending with the guidance point that requires it.
    pub help: String,
}

impl Finding {
    /// A finding of `rule` at `span`.
    pub fn new(rule: &'static Rule, span: Span, message: impl Into<String>) -> Self {
        Finding {
            rule,
            message: message.into(),
            span,
            label: String::new(),
            help: String::new(),
        }
    }

    /// Sets the label shown under the snippet.
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }

    /// Sets the advice; the rule's source is appended when rendering.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = help.into();
        self
    }

    /// The rule's severity.
    pub fn severity(&self) -> Severity {
        self.rule.severity
    }

    /// The advice followed by the guidance point it comes from.
    pub fn full_help(&self) -> String {
        if self.help.is_empty() {
            format!("see {}", self.rule.source)
        } else {
            format!("{} ({})", self.help, self.rule.source)
        }
    }

    /// This finding as a flat, machine-readable record.
    pub fn to_record(&self, file: &str, source: &str, index: &LineIndex) -> FindingRecord {
        let LineCol { line, column } = index.line_col(source, self.span.start);
        FindingRecord {
            code: self.rule.code,
            rule: self.rule.name,
            severity: self.severity(),
            file: file.to_owned(),
            line,
            column,
            message: self.message.clone(),
            help: self.full_help(),
        }
    }
}

/// A finding as printed by `privet manifest check --format json`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FindingRecord {
    /// Rule code, e.g. `PV013`.
    pub code: &'static str,
    /// Rule name, e.g. `missing-retention`.
    pub rule: &'static str,
    /// `error` or `warning`.
    pub severity: Severity,
    /// The manifest file as given on the command line.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong.
    pub message: String,
    /// What to do, and which guidance point requires it.
    pub help: String,
}
