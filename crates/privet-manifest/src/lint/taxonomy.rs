//! Taxonomy keys: data categories, data uses and data subjects must be known fideslang (or
//! Privet extension) keys, and preferably not deprecated ones (PV017, PV018, PV019, PV049).

use super::data_use;
use crate::finding::Finding;
use crate::model::Manifest;
use crate::rules::{self, Rule};
use crate::span::Spanned;
use crate::taxonomy::{Entry, List, Taxonomy};

/// Which list a key is looked up in, with what a finding should say about it.
#[derive(Clone, Copy)]
enum KeyKind {
    Category,
    Use,
    Subject,
}

impl KeyKind {
    fn what(self) -> &'static str {
        match self {
            KeyKind::Category => "data category",
            KeyKind::Use => "data use",
            KeyKind::Subject => "data subject",
        }
    }

    fn unknown_rule(self) -> &'static Rule {
        match self {
            KeyKind::Category => &rules::UNKNOWN_CATEGORY,
            KeyKind::Use => &rules::UNKNOWN_USE,
            KeyKind::Subject => &rules::UNKNOWN_DATA_SUBJECT,
        }
    }

    fn example(self) -> &'static str {
        match self {
            KeyKind::Category => "`user.sensor.environment` or `user.behavior.presence`",
            KeyKind::Use => "`essential.service` or `analytics.reporting`",
            KeyKind::Subject => "`guest`, `visitor` or `passerby`",
        }
    }
}

pub(super) fn check(m: &Manifest, out: &mut Vec<Finding>) {
    let t = Taxonomy::get();
    for (_, f) in m.fields() {
        // An empty category anchored at the field's key is the parser's placeholder.
        if f.category.span != f.name.span {
            key(KeyKind::Category, &f.category, &t.categories, out);
        }
    }
    for p in &m.purposes {
        if data_use(p).is_some() {
            key(KeyKind::Use, &p.data_use, &t.uses, out);
        }
    }
    for s in &m.streams {
        for subject in &s.data_subjects {
            key(KeyKind::Subject, subject, &t.subjects, out);
        }
    }
}

fn key(kind: KeyKind, value: &Spanned<String>, list: &List, out: &mut Vec<Finding>) {
    match list.get(&value.value) {
        Some(entry) => out.extend(deprecated(kind, value, entry)),
        None => out.push(unknown(kind, value, list.suggest(&value.value))),
    }
}

/// PV017, PV018, PV049.
fn unknown(kind: KeyKind, value: &Spanned<String>, suggestion: Option<&str>) -> Finding {
    let help = match suggestion {
        Some(s) => format!("did you mean \"{s}\"?"),
        None => format!(
            "use a {} from fideslang or Privet's extension, e.g. {} (see docs/manifest.md)",
            kind.what(),
            kind.example()
        ),
    };
    Finding::new(
        kind.unknown_rule(),
        value.span,
        format!("unknown {} `{}`", kind.what(), value.value),
    )
    .label(format!("not a known {}", kind.what()))
    .help(help)
}

/// PV019: the entry is known but fideslang has deprecated it.
fn deprecated(kind: KeyKind, value: &Spanned<String>, entry: &Entry) -> Option<Finding> {
    let since = entry.deprecated.as_deref()?;
    let help = match entry.replaced_by.as_deref() {
        Some(new) => format!("replace it with \"{new}\""),
        None => format!(
            "choose a current {} close to what you mean; deprecated keys will not import into Fides",
            kind.what()
        ),
    };
    Some(
        Finding::new(
            &rules::DEPRECATED_TAXONOMY_KEY,
            value.span,
            format!(
                "{} `{}` is deprecated since fideslang {since}",
                kind.what(),
                value.value
            ),
        )
        .label("deprecated")
        .help(help),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::span::Span;
    use crate::taxonomy::Origin;

    // The bundled fideslang release deprecates nothing yet, so PV019 is tested here on an entry
    // built by hand (the integration tests cover the other taxonomy rules through `check`).
    #[test]
    fn deprecated_entries_warn_with_their_replacement() {
        let mut entry = Entry {
            key: "user.old".to_owned(),
            name: "Old".to_owned(),
            description: String::new(),
            parent: Some("user".to_owned()),
            deprecated: Some("2.1.0".to_owned()),
            replaced_by: Some("user.new".to_owned()),
            origin: Origin::Fideslang,
        };
        let value = Spanned::new("user.old".to_owned(), Span::new(3, 13));
        let f = deprecated(KeyKind::Category, &value, &entry);
        let f = f.as_ref();
        assert_eq!(f.map(|f| f.rule.code), Some("PV019"));
        assert_eq!(f.map(|f| f.span), Some(Span::new(3, 13)));
        assert_eq!(
            f.map(|f| f.help.as_str()),
            Some("replace it with \"user.new\"")
        );

        entry.replaced_by = None;
        let f = deprecated(KeyKind::Use, &value, &entry);
        assert!(f.is_some_and(|f| f.help.contains("current data use")));

        entry.deprecated = None;
        assert!(deprecated(KeyKind::Subject, &value, &entry).is_none());
    }

    #[test]
    fn unknown_keys_suggest_the_nearest() {
        let t = Taxonomy::get();
        let value = Spanned::new("user.location.precis".to_owned(), Span::new(0, 1));
        let mut out = Vec::new();
        key(KeyKind::Category, &value, &t.categories, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(
            out.first().map(|f| f.help.as_str()),
            Some("did you mean \"user.location.precise\"?")
        );
    }
}
