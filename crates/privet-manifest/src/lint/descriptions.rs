//! Clear and plain language in descriptions people read: not vague, not legalistic, easy to
//! read, and long enough to say something (PV034, PV035, PV036, PV037).

use super::and_list;
use super::readability::{flesch_reading_ease, words};
use crate::finding::Finding;
use crate::model::Manifest;
use crate::rules;
use crate::span::Spanned;

/// Open-ended phrases, with what to write instead.
const VAGUE: &[(&str, &str)] = &[
    ("may include", "list exactly what is included"),
    ("including but not limited to", "give the complete list"),
    ("such as", "list every item, not examples"),
    ("and more", "list everything"),
    ("etc", "list everything"),
    ("various", "name them"),
    ("certain purposes", "name the purposes"),
    ("business purposes", "say what is done with the data"),
    (
        "improve our services",
        "say what is improved and how the data helps",
    ),
    ("other purposes", "name the purposes"),
    ("from time to time", "say when or how often"),
];

/// Legal jargon, with a plain replacement (empty: just drop it).
const LEGALISTIC: &[(&str, &str)] = &[
    ("pursuant to", "under"),
    ("hereinafter", ""),
    ("herein", "here"),
    ("hereby", ""),
    ("thereof", "of it"),
    ("therein", "in it"),
    ("notwithstanding", "despite"),
    ("aforementioned", "this"),
    ("whereas", "while"),
    ("in accordance with", "under"),
    ("the data subject", "you"),
    ("data subjects", "people"),
    ("processing of personal data", "using your data"),
    (
        "legitimate interests",
        "the benefit to us, and why it is fair to you",
    ),
    (
        "legitimate interest",
        "the benefit to us, and why it is fair to you",
    ),
    ("data controller", "we"),
    ("shall", "will"),
];

/// Reading ease below this is "difficult" (college level) or worse.
const MIN_READING_EASE: f64 = 50.0;

/// Fewer words than this cannot say what a purpose does.
const MIN_PURPOSE_WORDS: usize = 3;

pub(super) fn check(m: &Manifest, out: &mut Vec<Finding>) {
    for p in &m.purposes {
        // An empty description anchored at the purpose's key is the parser's placeholder.
        if p.description.span == p.id.span {
            continue;
        }
        let what = format!("purpose `{}`", p.id.as_str());
        text(&what, &p.description, out);
        let n = words(&p.description.value).count();
        if n < MIN_PURPOSE_WORDS {
            out.push(
                Finding::new(
                    &rules::EMPTY_DESCRIPTION,
                    p.description.span,
                    format!("the description of {what} has {n} word(s)"),
                )
                .label("too short to explain anything")
                .help("say in one sentence what it does for the person, e.g. `description = \"Run your heating to the schedule you set.\"`"),
            );
        }
    }
    for s in &m.streams {
        if let Some(d) = &s.description {
            text(&format!("stream `{}`", s.id.as_str()), d, out);
        }
        for f in &s.fields {
            if let Some(d) = &f.description {
                text(
                    &format!("field `{}.{}`", s.id.as_str(), f.name.as_str()),
                    d,
                    out,
                );
            }
        }
    }
}

/// PV034, PV035 and PV036 on one description.
fn text(what: &str, d: &Spanned<String>, out: &mut Vec<Finding>) {
    let vague = find_phrases(&d.value, VAGUE);
    if !vague.is_empty() {
        let help = vague
            .iter()
            .map(|(phrase, advice)| format!("instead of \"{phrase}\", {advice}"))
            .collect::<Vec<_>>()
            .join("; ");
        out.push(
            Finding::new(
                &rules::VAGUE_DESCRIPTION,
                d.span,
                format!(
                    "the description of {what} is open-ended: {}",
                    and_list(vague.iter().map(|(p, _)| format!("\"{p}\"")))
                ),
            )
            .label("open-ended")
            .help(help),
        );
    }
    let jargon = find_phrases(&d.value, LEGALISTIC);
    if !jargon.is_empty() {
        let help = jargon
            .iter()
            .map(|(phrase, plain)| match *plain {
                "" => format!("drop \"{phrase}\""),
                plain => format!("write \"{plain}\" instead of \"{phrase}\""),
            })
            .collect::<Vec<_>>()
            .join("; ");
        out.push(
            Finding::new(
                &rules::LEGALISTIC_DESCRIPTION,
                d.span,
                format!(
                    "the description of {what} uses legal jargon: {}",
                    and_list(jargon.iter().map(|(p, _)| format!("\"{p}\"")))
                ),
            )
            .label("legal jargon")
            .help(help),
        );
    }
    if let Some(score) = flesch_reading_ease(&d.value)
        && score < MIN_READING_EASE
    {
        out.push(
            Finding::new(
                &rules::HARD_TO_READ_DESCRIPTION,
                d.span,
                format!(
                    "the description of {what} is hard to read (Flesch reading ease {score:.0}, below {MIN_READING_EASE:.0})"
                ),
            )
            .label("hard to read")
            .help("use short sentences and everyday words: split long sentences and swap long words for short ones (\"use\" for \"utilise\")"),
        );
    }
}

/// The phrases of `table` that occur in `text` as whole words, ignoring case, in table order.
/// A longer phrase hides the shorter ones inside it (`legitimate interests` hides
/// `legitimate interest`).
fn find_phrases<'t>(text: &str, table: &'t [(&'t str, &'t str)]) -> Vec<(&'t str, &'t str)> {
    let lower = text.to_lowercase();
    let mut found: Vec<(&str, &str)> = Vec::new();
    for &(phrase, advice) in table {
        let inside_found = found.iter().any(|(f, _)| f.contains(phrase));
        if !inside_found && contains_words(&lower, phrase) {
            found.push((phrase, advice));
        }
    }
    found
}

/// Whether `phrase` occurs in `text` with no letter or digit directly before or after it.
fn contains_words(text: &str, phrase: &str) -> bool {
    text.match_indices(phrase).any(|(at, _)| {
        let before = text.get(..at).and_then(|s| s.chars().next_back());
        let after = text.get(at + phrase.len()..).and_then(|s| s.chars().next());
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phrases_match_whole_words_only() {
        assert!(contains_words("data, etc.", "etc"));
        assert!(!contains_words("fetch data", "etc"));
        assert!(!contains_words("hereinafter", "herein"));
        assert!(contains_words("as set out herein.", "herein"));
        let found = find_phrases("Our Legitimate Interests apply", LEGALISTIC);
        assert_eq!(
            found.iter().map(|(p, _)| *p).collect::<Vec<_>>(),
            ["legitimate interests"]
        );
    }
}
