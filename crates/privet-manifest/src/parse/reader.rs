//! Reading typed values out of span-preserving TOML tables, reporting each problem as a finding.

use crate::finding::Finding;
use crate::rules;
use crate::span::{Span, Spanned};
use crate::taxonomy::did_you_mean;
use toml::Spanned as TomlSpanned;
use toml::de::{DeTable, DeValue};

/// A TOML table being read, with where to point when a key is missing.
pub(crate) struct Table<'a, 'i> {
    pub(crate) entries: &'a DeTable<'i>,
    /// The span of the key that names this table (e.g. `climate` in `[streams.climate]`).
    pub(crate) anchor: Span,
    /// The dotted path of this table, for messages (e.g. `streams.climate`).
    pub(crate) path: String,
}

/// A value found in a table, with its key's span.
pub(crate) struct Entry<'a, 'i> {
    pub(crate) key: &'a str,
    pub(crate) key_span: Span,
    pub(crate) value: &'a TomlSpanned<DeValue<'i>>,
}

impl<'a, 'i> Entry<'a, 'i> {
    pub(crate) fn span(&self) -> Span {
        self.value.span().into()
    }
}

impl<'a, 'i> Table<'a, 'i> {
    pub(crate) fn get(&self, key: &str) -> Option<Entry<'a, 'i>> {
        self.entries
            .iter()
            .find(|(k, _)| k.get_ref().as_ref() == key)
            .map(|(k, v)| Entry {
                key: k.get_ref().as_ref(),
                key_span: k.span().into(),
                value: v,
            })
    }

    pub(crate) fn entries(&self) -> impl Iterator<Item = Entry<'a, 'i>> + 'a {
        self.entries.iter().map(|(k, v)| Entry {
            key: k.get_ref().as_ref(),
            key_span: k.span().into(),
            value: v,
        })
    }

    pub(crate) fn child_path(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.path)
        }
    }
}

/// The TOML type of a value, for messages.
pub(crate) fn type_name(v: &DeValue<'_>) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

/// Collects findings while the parser reads a manifest.
#[derive(Default)]
pub(crate) struct Reader {
    pub(crate) findings: Vec<Finding>,
}

impl Reader {
    pub(crate) fn wrong_type(&mut self, table: &Table<'_, '_>, e: &Entry<'_, '_>, expected: &str) {
        let key = table.child_path(e.key);
        self.findings.push(
            Finding::new(
                &rules::WRONG_TYPE,
                e.span(),
                format!(
                    "`{key}` must be {expected}, not {}",
                    type_name(e.value.get_ref())
                ),
            )
            .label(format!("expected {expected}"))
            .help(format!("write `{}` as {expected}", e.key)),
        );
    }

    pub(crate) fn missing(&mut self, table: &Table<'_, '_>, key: &str, example: &str) {
        let where_ = if table.path.is_empty() {
            "the manifest".to_owned()
        } else {
            format!("`[{}]`", table.path)
        };
        self.findings.push(
            Finding::new(
                &rules::MISSING_KEY,
                table.anchor,
                format!("{where_} has no `{key}`"),
            )
            .label(format!("`{key}` missing here"))
            .help(format!("add `{key} = {example}`")),
        );
    }

    pub(crate) fn invalid(
        &mut self,
        table: &Table<'_, '_>,
        e: &Entry<'_, '_>,
        value: &str,
        names: &[&str],
    ) {
        let key = table.child_path(e.key);
        let help = match did_you_mean(value, names.iter().copied()) {
            Some(s) => format!("did you mean `{s}`? Allowed: {}", names.join(", ")),
            None => format!("use one of: {}", names.join(", ")),
        };
        self.findings.push(
            Finding::new(
                &rules::INVALID_VALUE,
                e.span(),
                format!("`{key}` cannot be `{value}`"),
            )
            .label("not an allowed value")
            .help(help),
        );
    }

    /// Reports keys not in `allowed`.
    pub(crate) fn unknown_keys(&mut self, table: &Table<'_, '_>, allowed: &[&str]) {
        for e in table.entries() {
            if allowed.contains(&e.key) {
                continue;
            }
            let help = match did_you_mean(e.key, allowed.iter().copied()) {
                Some(s) => format!(
                    "did you mean `{s}`? Known keys here: {}",
                    allowed.join(", ")
                ),
                None => format!("remove it; known keys here: {}", allowed.join(", ")),
            };
            self.findings.push(
                Finding::new(
                    &rules::UNKNOWN_KEY,
                    e.key_span,
                    format!("unknown key `{}`", table.child_path(e.key)),
                )
                .label("not a manifest key; it is ignored")
                .help(help),
            );
        }
    }

    pub(crate) fn check_id(&mut self, what: &str, text: &str, span: Span) {
        if !crate::ids::is_valid_key(text) {
            self.findings.push(
                Finding::new(
                    &rules::INVALID_ID,
                    span,
                    format!("{what} key `{text}` is not a valid identifier"),
                )
                .label("use lowercase letters, digits, `_` and `-`")
                .help("start with a lowercase letter and use only a-z, 0-9, `_` and `-` (at most 64 characters)"),
            );
        }
    }

    pub(crate) fn string(&mut self, t: &Table<'_, '_>, key: &str) -> Option<Spanned<String>> {
        let e = t.get(key)?;
        match e.value.get_ref() {
            DeValue::String(s) => Some(Spanned::new(s.to_string(), e.span())),
            _ => {
                self.wrong_type(t, &e, "a string");
                None
            }
        }
    }

    pub(crate) fn required_string(
        &mut self,
        t: &Table<'_, '_>,
        key: &str,
        example: &str,
    ) -> Spanned<String> {
        if t.get(key).is_none() {
            self.missing(t, key, example);
        }
        self.string(t, key)
            .unwrap_or_else(|| Spanned::new(String::new(), t.anchor))
    }

    pub(crate) fn bool(&mut self, t: &Table<'_, '_>, key: &str) -> Option<Spanned<bool>> {
        let e = t.get(key)?;
        match e.value.get_ref() {
            DeValue::Boolean(b) => Some(Spanned::new(*b, e.span())),
            _ => {
                self.wrong_type(t, &e, "true or false");
                None
            }
        }
    }

    pub(crate) fn integer(&mut self, t: &Table<'_, '_>, key: &str) -> Option<Spanned<i64>> {
        let e = t.get(key)?;
        match e.value.get_ref() {
            DeValue::Integer(i) => match i64::from_str_radix(i.as_str(), i.radix()) {
                Ok(n) => Some(Spanned::new(n, e.span())),
                Err(_) => {
                    self.wrong_type(t, &e, "an integer that fits in 64 bits");
                    None
                }
            },
            _ => {
                self.wrong_type(t, &e, "an integer");
                None
            }
        }
    }

    pub(crate) fn number(&mut self, t: &Table<'_, '_>, key: &str) -> Option<Spanned<f64>> {
        let e = t.get(key)?;
        match number_of(e.value.get_ref()) {
            Some(n) => Some(Spanned::new(n, e.span())),
            None => {
                self.wrong_type(t, &e, "a number");
                None
            }
        }
    }

    /// A value from a closed vocabulary.
    pub(crate) fn vocab<T>(
        &mut self,
        t: &Table<'_, '_>,
        key: &str,
        parse: fn(&str) -> Option<T>,
        names: &[&str],
    ) -> Option<Spanned<T>> {
        let s = self.string(t, key)?;
        match parse(&s.value) {
            Some(v) => Some(Spanned::new(v, s.span)),
            None => {
                if let Some(e) = t.get(key) {
                    self.invalid(t, &e, &s.value, names);
                }
                None
            }
        }
    }

    /// A list of strings; the span returned is the whole array's.
    pub(crate) fn string_list(
        &mut self,
        t: &Table<'_, '_>,
        key: &str,
    ) -> Option<(Vec<Spanned<String>>, Span)> {
        let e = t.get(key)?;
        match e.value.get_ref() {
            DeValue::Array(items) => {
                let mut out = Vec::new();
                for item in items.iter() {
                    match item.get_ref() {
                        DeValue::String(s) => {
                            out.push(Spanned::new(s.to_string(), item.span().into()))
                        }
                        other => self.findings.push(
                            Finding::new(
                                &rules::WRONG_TYPE,
                                item.span().into(),
                                format!(
                                    "`{}` must list strings, not {}",
                                    t.child_path(e.key),
                                    type_name(other)
                                ),
                            )
                            .label("expected a string")
                            .help("quote each entry"),
                        ),
                    }
                }
                Some((out, e.span()))
            }
            DeValue::String(s) => {
                self.findings.push(
                    Finding::new(
                        &rules::WRONG_TYPE,
                        e.span(),
                        format!("`{}` must be a list", t.child_path(e.key)),
                    )
                    .label("expected a list of strings")
                    .help(format!("write it as a list: [\"{s}\"]")),
                );
                Some((vec![Spanned::new(s.to_string(), e.span())], e.span()))
            }
            _ => {
                self.wrong_type(t, &e, "a list of strings");
                None
            }
        }
    }

    /// A sub-table under `key`.
    pub(crate) fn table<'a, 'i>(&mut self, t: &Table<'a, 'i>, key: &str) -> Option<Table<'a, 'i>> {
        let e = t.get(key)?;
        self.as_table(t, &e)
    }

    /// The value of `e` as a table.
    pub(crate) fn as_table<'a, 'i>(
        &mut self,
        parent: &Table<'a, 'i>,
        e: &Entry<'a, 'i>,
    ) -> Option<Table<'a, 'i>> {
        match e.value.get_ref() {
            DeValue::Table(entries) => Some(Table {
                entries,
                anchor: e.key_span,
                path: parent.child_path(e.key),
            }),
            _ => {
                self.wrong_type(parent, e, "a table");
                None
            }
        }
    }
}

/// A TOML integer or float as an f64.
pub(crate) fn number_of(v: &DeValue<'_>) -> Option<f64> {
    match v {
        DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix())
            .ok()
            .map(|n| n as f64),
        DeValue::Float(f) => f
            .as_str()
            .replace('_', "")
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite()),
        _ => None,
    }
}
