//! The plain words change summaries are made of: purposes, fields, categories, periods.

pub(super) use crate::lint::and_list;
use crate::model::{Field, Manifest, Stream};
use crate::notice::plain::{self, Keep};
use crate::vocab::SubjectKind;

/// A key as words: `energy_report` → "energy report".
pub(super) fn humanise(key: &str) -> String {
    key.replace(['_', '-'], " ")
}

/// A purpose as people read it: "energy report (consent)"; just the words when `m` does not
/// define it.
pub(super) fn purpose(m: &Manifest, id: &str) -> String {
    match m.purpose(id) {
        Some(p) => format!("{} ({})", humanise(id), humanise(p.basis.value.as_str())),
        None => humanise(id),
    }
}

/// Several purposes: "energy report (consent) and heating control (contract)".
pub(super) fn purposes(m: &Manifest, ids: &[String]) -> String {
    and_list(ids.iter().map(|id| purpose(m, id)))
}

/// A field by its place: "`climate.temperature_c`".
pub(super) fn field(s: &Stream, f: &Field) -> String {
    format!("`{}.{}`", s.id.as_str(), f.name.as_str())
}

/// A data category's name in running text: "precise location", acronyms kept ("IP address").
pub(super) fn category(key: &str) -> String {
    let (name, _) = plain::category(key);
    name.split(' ')
        .map(|word| {
            let mut chars = word.chars();
            let title_case =
                chars.next().is_some_and(char::is_uppercase) && chars.all(|c| !c.is_uppercase());
            if title_case {
                word.to_lowercase()
            } else {
                word.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// How long something is kept, after "kept": "for 2 years", "with no time limit".
pub(super) fn kept(k: Keep) -> String {
    match k {
        Keep::For(r) => format!("for {}", r.plain()),
        Keep::NotStated => "for a time not stated".to_owned(),
        Keep::NoLimit => "with no time limit".to_owned(),
    }
}

/// Optional text quoted, or "none".
pub(super) fn quoted(text: Option<&str>) -> String {
    match text {
        Some(t) => format!("\"{}\"", t.trim()),
        None => "none".to_owned(),
    }
}

/// A country's name from its code, or "a country not stated".
pub(super) fn country(code: Option<&str>) -> String {
    match code {
        Some(c) => plain::country(c),
        None => "a country not stated".to_owned(),
    }
}

/// Whose data a stream holds, in running text.
pub(super) fn whose(kind: SubjectKind) -> &'static str {
    match kind {
        SubjectKind::Member => "about one person",
        SubjectKind::Household => "about the home as a whole",
        SubjectKind::None => "not about any person",
    }
}
