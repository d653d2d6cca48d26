//! Lint rules: checks of a parsed manifest against the guidance (ICO consumer IoT guidance,
//! UK GDPR, PECR, the Children's code, PSTI and ETSI EN 303 645).
//!
//! Each theme has its own module with a `check` function that appends findings; [`lint`] runs
//! them all. The rules themselves (code, name, severity, why, source) are listed in
//! [`crate::rules`] and documented in `docs/lint-rules.md`.
//!
//! The parser stores placeholders where a required value is missing or invalid (an empty
//! string, or a value whose span is the table's own key) and has already reported it; rules
//! skip placeholders so one mistake gives one finding.

mod biometric;
mod children;
mod children_recordings;
mod descriptions;
mod dpia;
mod pecr;
mod product;
mod profiling;
mod purposes;
mod readability;
mod recipients;
mod retention;
mod risk;
mod security;
mod special;
mod streams;
mod taxonomy;
mod transforms;

use crate::finding::Finding;
use crate::model::{Manifest, Purpose};
use crate::span::{Span, Spanned};
use jiff::civil::Date;

/// What lint rules may depend on besides the manifest.
#[derive(Clone, Copy, Debug)]
pub struct LintContext {
    /// Today's date, for rules about dates (a parameter so tests are deterministic).
    pub today: Date,
}

/// Runs every lint rule over `manifest`. Never panics, whatever the parser produced.
pub fn lint(manifest: &Manifest, cx: &LintContext) -> Vec<Finding> {
    let mut out = Vec::new();
    product::check(manifest, &mut out);
    security::check(manifest, cx, &mut out);
    purposes::check(manifest, &mut out);
    retention::check(manifest, &mut out);
    taxonomy::check(manifest, &mut out);
    special::check(manifest, &mut out);
    pecr::check(manifest, &mut out);
    risk::check(manifest, &mut out);
    dpia::check(manifest, &mut out);
    children::check(manifest, &mut out);
    recipients::check(manifest, &mut out);
    descriptions::check(manifest, &mut out);
    transforms::check(manifest, &mut out);
    streams::check(manifest, &mut out);
    biometric::check(manifest, &mut out);
    children_recordings::check(manifest, &mut out);
    profiling::check(manifest, &mut out);
    out
}

/// Whether a required value is the parser's placeholder: missing or invalid, already reported.
/// The parser anchors placeholders at the key of the table they belong to.
fn is_placeholder<T>(value: &Spanned<T>, anchor: Span) -> bool {
    value.span == anchor
}

/// Whether `[product]` itself is missing (the parser then reports it once, with no span).
fn product_missing(m: &Manifest) -> bool {
    m.product.span == Span::default()
}

/// Whether the product references a DPIA document (a placeholder such as `tbd` counts as
/// none, so it cannot clear the high-risk rules).
fn has_dpia(m: &Manifest) -> bool {
    m.product
        .dpia
        .as_ref()
        .is_some_and(|d| dpia::is_document_reference(&d.value))
}

/// The purpose's `use`, unless it is the parser's placeholder.
fn data_use(p: &Purpose) -> Option<&str> {
    (!is_placeholder(&p.data_use, p.id.span) && !p.data_use.value.is_empty())
        .then_some(p.data_use.value.as_str())
}

/// Whether some field lists purpose `p`.
fn is_served(m: &Manifest, p: &Purpose) -> bool {
    m.fields()
        .any(|(_, f)| f.purposes.iter().any(|fp| fp.as_str() == p.id.as_str()))
}

/// The purposes some field lists, each once, in manifest order.
fn used_purposes(m: &Manifest) -> impl Iterator<Item = &Purpose> {
    m.purposes.iter().filter(|p| is_served(m, p))
}

/// `a, b and c`, for messages.
pub(crate) fn and_list(items: impl IntoIterator<Item = String>) -> String {
    let items: Vec<String> = items.into_iter().collect();
    match items.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}
