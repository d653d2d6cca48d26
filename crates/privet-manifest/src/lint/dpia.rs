//! The DPIA reference: when `dpia` is given it must point at a document, never a placeholder
//! (PV064); when the DPIA screening finds the processing likely to be high risk and no `dpia`
//! is given, say so and why (PV044).

use super::product::is_https_url;
use super::{and_list, product_missing};
use crate::finding::Finding;
use crate::model::Manifest;
use crate::rules;
use jiff::civil::Date;

/// The reference form suggested in help texts: a document id and the date it was approved.
pub(super) const DPIA_EXAMPLE: &str = "dpia = \"DPIA-2026-04 (2026-10-01)\"";

/// Words that stand for "not done yet", compared with letters and digits only, lower case
/// (so `N/A`, `t.b.d.` and `To do` are caught).
const PLACEHOLDERS: &[&str] = &[
    "tbd",
    "tbc",
    "tba",
    "todo",
    "na",
    "none",
    "null",
    "nil",
    "pending",
    "wip",
    "x",
    "xx",
    "xxx",
    "unknown",
    "notyet",
    "later",
    "inprogress",
    "notdone",
    "notrequired",
    "notapplicable",
];

/// Why a `dpia` value does not reference a document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Problem {
    /// Empty, punctuation only, or a word such as `tbd`.
    Placeholder,
    /// An `http://` URL.
    PlainHttp,
    /// Neither an https URL nor a document name with a date.
    NotAReference,
}

/// What is wrong with a `dpia` value, if anything.
pub(super) fn problem(text: &str) -> Option<Problem> {
    let text = text.trim();
    let letters: String = text
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    let word = letters.strip_prefix("dpia").unwrap_or(&letters);
    if letters.is_empty()
        || PLACEHOLDERS.contains(&letters.as_str())
        || PLACEHOLDERS.contains(&word)
    {
        return Some(Problem::Placeholder);
    }
    if is_https_url(text) {
        return None;
    }
    if text
        .get(..7)
        .is_some_and(|s| s.eq_ignore_ascii_case("http://"))
    {
        return Some(Problem::PlainHttp);
    }
    if dated_reference(text) {
        None
    } else {
        Some(Problem::NotAReference)
    }
}

/// Whether `text` holds a real calendar date (`YYYY-MM-DD`, not inside a longer number) and,
/// besides it, something naming the document.
fn dated_reference(text: &str) -> bool {
    let bytes = text.as_bytes();
    for start in 0..bytes.len().saturating_sub(9) {
        let end = start + 10;
        let Some(candidate) = text.get(start..end) else {
            continue;
        };
        let shaped = candidate.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
        let bounded = (start == 0 || bytes.get(start - 1).is_none_or(|b| !b.is_ascii_digit()))
            && bytes.get(end).is_none_or(|b| !b.is_ascii_digit());
        if !shaped || !bounded || candidate.parse::<Date>().is_err() {
            continue;
        }
        let rest = format!(
            "{}{}",
            text.get(..start).unwrap_or_default(),
            text.get(end..).unwrap_or_default()
        );
        if rest.chars().any(char::is_alphanumeric) {
            return true;
        }
    }
    false
}

/// Whether the product's `dpia` references a document (so it may stand in for minimising).
pub(super) fn is_document_reference(text: &str) -> bool {
    problem(text).is_none()
}

/// At most 40 characters of a manifest value, for messages.
fn shown(text: &str) -> String {
    let t = text.trim();
    if t.chars().count() > 40 {
        format!("{}…", t.chars().take(40).collect::<String>())
    } else {
        t.to_owned()
    }
}

pub(super) fn check(m: &Manifest, out: &mut Vec<Finding>) {
    if product_missing(m) {
        return;
    }
    match &m.product.dpia {
        Some(d) => {
            if let Some(p) = problem(&d.value) {
                out.push(invalid(&d.value, d.span, p));
            }
        }
        None => missing(m, out),
    }
}

/// PV064.
fn invalid(value: &str, span: crate::span::Span, p: Problem) -> Finding {
    let text = shown(value);
    let (message, label, help) = match p {
        Problem::Placeholder => (
            format!("`dpia` is a placeholder (\"{text}\"), not a reference to an assessment"),
            "placeholder",
            format!(
                "say where the DPIA is: its https URL, or its reference and the date it was approved, e.g. `{DPIA_EXAMPLE}`; if there is no DPIA yet, remove `dpia` until there is (`privet dpia FILE` drafts one)"
            ),
        ),
        Problem::PlainHttp => (
            "`dpia` is a plain http URL".to_owned(),
            "not https",
            format!(
                "use https: `dpia = \"https://{}\"`",
                value.trim().get(7..).unwrap_or_default()
            ),
        ),
        Problem::NotAReference => (
            format!(
                "`dpia` (\"{text}\") is neither an https URL nor a document reference with a date"
            ),
            "no URL or date",
            format!(
                "give the DPIA's https URL, or add the date it was approved: `dpia = \"{text} (2026-10-01)\"`"
            ),
        ),
    };
    Finding::new(&rules::INVALID_DPIA_REFERENCE, span, message)
        .label(label)
        .help(help)
}

/// PV044: one finding for the whole manifest, where the screening's decisive criterion is.
fn missing(m: &Manifest, out: &mut Vec<Finding>) {
    let s = crate::dpia::screen(m);
    if !s.required {
        return;
    }
    let Some(span) = s.anchor() else {
        return;
    };
    let criteria: Vec<&str> = s.reasons.iter().map(|r| r.criterion.title()).collect();
    out.push(
        Finding::new(
            &rules::DPIA_MISSING,
            span,
            format!(
                "high-risk processing ({}) with no data protection impact assessment",
                criteria.join(", ")
            ),
        )
        .label("high-risk processing")
        .help(format!(
            "a DPIA is required because {}; carry one out (`privet dpia FILE` writes a draft) and add `{DPIA_EXAMPLE}` or its https URL to `[product]`",
            and_list(s.grounds())
        )),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_caught_however_written() {
        for p in [
            "", " ", "-", "--", "tbd", "TBD", " t.b.d. ", "To do", "TODO", "n/a", "N / A", "none",
            "None", "?", "DPIA TBD", "pending",
        ] {
            assert_eq!(problem(p), Some(Problem::Placeholder), "{p:?}");
        }
    }

    #[test]
    fn references_need_https_or_a_document_with_a_date() {
        for ok in [
            "https://acme.example/dpia",
            "DPIA-2026-07 (2026-10-01)",
            "DPIA ref 12, approved 2026-02-28",
            "dpia-2026-07-01",
        ] {
            assert_eq!(problem(ok), None, "{ok:?}");
        }
        assert_eq!(
            problem("http://acme.example/dpia"),
            Some(Problem::PlainHttp)
        );
        for bad in [
            "DPIA-2026-04",
            "2026-10-01",
            "DPIA (2026-02-30)",
            "DPIA 12026-10-01",
            "see SharePoint",
        ] {
            assert_eq!(problem(bad), Some(Problem::NotAReference), "{bad:?}");
        }
    }
}
