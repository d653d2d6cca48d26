//! Rendering manifest findings as rustc-style diagnostics (miette).

use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceCode,
};
use privet_manifest::{Finding, Severity};
use std::fmt;
use std::io::IsTerminal;

/// One finding bound to its source, as a miette diagnostic.
struct FindingDiagnostic<'a> {
    finding: &'a Finding,
    source: NamedSource<String>,
    help: String,
}

impl fmt::Debug for FindingDiagnostic<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FindingDiagnostic")
            .field("code", &self.finding.rule.code)
            .finish()
    }
}

impl fmt::Display for FindingDiagnostic<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.finding.message)
    }
}

impl std::error::Error for FindingDiagnostic<'_> {}

impl Diagnostic for FindingDiagnostic<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(format!(
            "{}[{}] {}",
            self.finding.severity().as_str(),
            self.finding.rule.code,
            self.finding.rule.name
        )))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.finding.severity() {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(&self.help))
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let span = self.finding.span;
        let label = (!self.finding.label.is_empty()).then(|| self.finding.label.clone());
        Some(Box::new(std::iter::once(
            LabeledSpan::new_primary_with_span(label, (span.start, span.len().max(1))),
        )))
    }
}

/// Renders diagnostics for one file, in colour when stderr is a terminal.
pub(crate) struct Renderer {
    handler: GraphicalReportHandler,
}

impl Renderer {
    pub(crate) fn new() -> Self {
        let theme = if std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none() {
            GraphicalTheme::unicode()
        } else {
            GraphicalTheme::unicode_nocolor()
        };
        Renderer {
            handler: GraphicalReportHandler::new_themed(theme).with_width(100),
        }
    }

    /// One finding, with the snippet underlined and `file:line:col` in its header.
    pub(crate) fn render(&self, file: &str, source: &str, finding: &Finding) -> String {
        let diag = FindingDiagnostic {
            finding,
            source: NamedSource::new(file, source.to_owned()).with_language("toml"),
            help: finding.full_help(),
        };
        let mut out = String::new();
        if self.handler.render_report(&mut out, &diag).is_err() {
            // Rendering into a String cannot fail in practice; fall back to a plain line.
            out = format!(
                "{}[{}]: {} ({file})\n",
                finding.severity().as_str(),
                finding.rule.code,
                finding.message
            );
        }
        out
    }

    /// A TOML syntax error, pointed at like a finding.
    pub(crate) fn render_syntax(
        &self,
        file: &str,
        source: &str,
        err: &privet_manifest::SyntaxError,
    ) -> String {
        #[derive(Debug)]
        struct SyntaxDiag<'a> {
            message: &'a str,
            span: Option<(usize, usize)>,
            source: NamedSource<String>,
        }
        impl fmt::Display for SyntaxDiag<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "invalid TOML: {}", self.message.trim())
            }
        }
        impl std::error::Error for SyntaxDiag<'_> {}
        impl Diagnostic for SyntaxDiag<'_> {
            fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
                Some(Box::new("error[PV000] invalid-toml"))
            }
            fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
                Some(Box::new(
                    "fix the TOML syntax at the marked position; see https://toml.io",
                ))
            }
            fn source_code(&self) -> Option<&dyn SourceCode> {
                Some(&self.source)
            }
            fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
                let (start, len) = self.span?;
                Some(Box::new(std::iter::once(
                    LabeledSpan::new_primary_with_span(Some("here".to_owned()), (start, len)),
                )))
            }
        }
        let diag = SyntaxDiag {
            message: &err.message,
            span: err.span.map(|s| {
                (
                    s.start.min(source.len()),
                    s.len()
                        .max(1)
                        .min(source.len().saturating_sub(s.start).max(1)),
                )
            }),
            source: NamedSource::new(file, source.to_owned()),
        };
        let mut out = String::new();
        if self.handler.render_report(&mut out, &diag).is_err() {
            out = format!("error[PV000]: invalid TOML: {} ({file})\n", err.message);
        }
        out
    }
}
