//! Parsing a manifest from TOML, keeping the span of every key and value.
//!
//! Parsing is lenient: every structural problem becomes a [`Finding`] and the parser goes on,
//! so one run reports everything. Only text that is not valid TOML stops it.

mod fields;
mod reader;

use crate::finding::Finding;
use crate::ids::{ProductId, PurposeId, RecipientId, StreamId};
use crate::model::{Manifest, OfflineSupport, Product, Purpose, Recipient, Stream};
use crate::span::{Span, Spanned};
use crate::taxonomy::is_under;
use crate::vocab::{Audience, LawfulBasis, Pecr, Role, SpecialCondition, SubjectKind};
use reader::{Reader, Table};
use toml::de::{DeTable, DeValue};

/// Text that is not valid TOML.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid TOML: {message}")]
pub struct SyntaxError {
    /// The TOML parser's message.
    pub message: String,
    /// Where, when known.
    pub span: Option<Span>,
}

/// A parsed manifest and the structural problems found on the way.
#[derive(Clone, Debug)]
pub struct Parsed {
    /// The manifest, with placeholders where required values were missing or invalid.
    pub manifest: Manifest,
    /// Structural findings (missing keys, wrong types, unknown keys, invalid values).
    pub findings: Vec<Finding>,
}

const TOP_KEYS: &[&str] = &["product", "purposes", "recipients", "streams"];
const PRODUCT_KEYS: &[&str] = &[
    "id",
    "name",
    "maker",
    "version",
    "privacy_contact",
    "vulnerability_disclosure",
    "disclosure_response_days",
    "security_updates_until",
    "update_public_key",
    "audience",
    "dpia",
    "role",
    "works_offline",
    "strict",
];
const PURPOSE_KEYS: &[&str] = &[
    "description",
    "use",
    "basis",
    "special_category_condition",
    "pecr",
    "recipients",
];
const RECIPIENT_KEYS: &[&str] = &["name", "role", "country", "safeguard", "purposes"];
const STREAM_KEYS: &[&str] = &["subject", "description", "data_subjects", "fields"];

/// Parses manifest text. Fails only when the text is not valid TOML.
pub fn parse(source: &str) -> Result<Parsed, SyntaxError> {
    let doc = DeTable::parse(source).map_err(|e| SyntaxError {
        message: e.message().to_owned(),
        span: e.span().map(Span::from),
    })?;
    let root = Table {
        entries: doc.get_ref(),
        anchor: Span::new(0, 0),
        path: String::new(),
    };
    let mut r = Reader::default();
    r.unknown_keys(&root, TOP_KEYS);

    let product = match r.table(&root, "product") {
        Some(t) => product(&mut r, &t),
        None => {
            if root.get("product").is_none() {
                r.missing(&root, "[product]", "a table with id, name and maker");
            }
            placeholder_product()
        }
    };
    let purposes = named_tables(&mut r, &root, "purposes", "purpose", purpose);
    let recipients = named_tables(&mut r, &root, "recipients", "recipient", recipient);
    let streams = named_tables(&mut r, &root, "streams", "stream", stream);

    Ok(Parsed {
        manifest: Manifest {
            product,
            purposes,
            recipients,
            streams,
        },
        findings: r.findings,
    })
}

/// Reads every sub-table of `[key]` with `read`, in source order.
fn named_tables<T>(
    r: &mut Reader,
    root: &Table<'_, '_>,
    key: &str,
    what: &str,
    read: fn(&mut Reader, &Table<'_, '_>, Spanned<String>) -> T,
) -> Vec<T> {
    let Some(t) = r.table(root, key) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in t.entries() {
        r.check_id(what, e.key, e.key_span);
        if let Some(sub) = r.as_table(&t, &e) {
            out.push(read(r, &sub, Spanned::new(e.key.to_owned(), e.key_span)));
        }
    }
    out
}

fn placeholder_product() -> Product {
    let empty = || Spanned::new(String::new(), Span::default());
    Product {
        span: Span::default(),
        id: Spanned::new(ProductId::new(""), Span::default()),
        name: empty(),
        maker: empty(),
        version: None,
        privacy_contact: None,
        vulnerability_disclosure: None,
        disclosure_response_days: None,
        security_updates_until: None,
        update_public_key: None,
        audience: None,
        dpia: None,
        role: None,
        works_offline: None,
        strict: false,
    }
}

fn product(r: &mut Reader, t: &Table<'_, '_>) -> Product {
    r.unknown_keys(t, PRODUCT_KEYS);
    let id = r.required_string(t, "id", "\"maker-product\"");
    if !id.value.is_empty() {
        r.check_id("product", &id.value, id.span);
    }
    let version = match t.get("version") {
        Some(e) => match e.value.get_ref() {
            DeValue::String(s) => Some(Spanned::new(s.to_string(), e.span())),
            DeValue::Integer(i) => Some(Spanned::new(i.as_str().to_owned(), e.span())),
            DeValue::Float(f) => Some(Spanned::new(f.as_str().to_owned(), e.span())),
            _ => {
                r.wrong_type(t, &e, "a string such as \"3\" or \"2.1\"");
                None
            }
        },
        None => None,
    };
    let disclosure_response_days =
        r.integer(t, "disclosure_response_days")
            .and_then(|n| match u32::try_from(n.value) {
                Ok(d) => Some(Spanned::new(d, n.span)),
                Err(_) => {
                    if let Some(e) = t.get("disclosure_response_days") {
                        r.wrong_type(t, &e, "a positive number of days");
                    }
                    None
                }
            });
    Product {
        span: t.anchor,
        id: id.map(ProductId::new),
        name: r.required_string(t, "name", "\"Product name\""),
        maker: r.required_string(t, "maker", "\"Maker Ltd\""),
        version,
        privacy_contact: r.string(t, "privacy_contact"),
        vulnerability_disclosure: r.string(t, "vulnerability_disclosure"),
        disclosure_response_days,
        security_updates_until: date(r, t, "security_updates_until"),
        update_public_key: r.string(t, "update_public_key"),
        audience: r.vocab(t, "audience", Audience::parse, Audience::NAMES),
        dpia: r.string(t, "dpia"),
        role: r.vocab(t, "role", Role::parse, Role::NAMES),
        works_offline: works_offline(r, t),
        strict: r.bool(t, "strict").is_some_and(|b| b.value),
    }
}

fn works_offline(r: &mut Reader, t: &Table<'_, '_>) -> Option<Spanned<OfflineSupport>> {
    let e = t.get("works_offline")?;
    let v = match e.value.get_ref() {
        DeValue::Boolean(true) => OfflineSupport::Full,
        DeValue::Boolean(false) => OfflineSupport::None,
        DeValue::String(s) if s.trim().is_empty() => OfflineSupport::None,
        DeValue::String(s) => OfflineSupport::Partial(s.to_string()),
        _ => {
            r.wrong_type(t, &e, "true, false or a description of what works offline");
            return None;
        }
    };
    Some(Spanned::new(v, e.span()))
}

fn date(r: &mut Reader, t: &Table<'_, '_>, key: &str) -> Option<Spanned<jiff::civil::Date>> {
    let e = t.get(key)?;
    let parsed = match e.value.get_ref() {
        DeValue::Datetime(dt) => dt.date.and_then(|d| {
            jiff::civil::Date::new(
                i16::try_from(d.year).ok()?,
                i8::try_from(d.month).ok()?,
                i8::try_from(d.day).ok()?,
            )
            .ok()
        }),
        DeValue::String(s) => s.trim().parse::<jiff::civil::Date>().ok(),
        _ => None,
    };
    match parsed {
        Some(d) => Some(Spanned::new(d, e.span())),
        None => {
            r.wrong_type(t, &e, "a date such as 2031-12-31");
            None
        }
    }
}

fn purpose(r: &mut Reader, t: &Table<'_, '_>, id: Spanned<String>) -> Purpose {
    r.unknown_keys(t, PURPOSE_KEYS);
    let description = r.required_string(
        t,
        "description",
        "\"What it does for the person, in plain words.\"",
    );
    let data_use = r.required_string(t, "use", "\"essential.service\"");
    // Help never suggests `contract` for what the device does not need to work (marketing,
    // profiling, analytics…): only an essential use may rest on the contract.
    let essential = is_under(&data_use.value, "essential");
    let basis = if t.get("basis").is_none() {
        r.missing(
            t,
            "basis",
            if essential {
                "\"contract\""
            } else {
                "\"consent\""
            },
        );
        None
    } else {
        let names: Vec<&str> = LawfulBasis::NAMES
            .iter()
            .copied()
            .filter(|n| essential || *n != LawfulBasis::Contract.as_str())
            .collect();
        r.vocab(t, "basis", LawfulBasis::parse, &names)
    };
    Purpose {
        id: id.map(PurposeId::new),
        description,
        data_use,
        // A missing or invalid basis falls back to consent, the most protective reading:
        // the purpose stays off until someone switches it on.
        basis: basis.unwrap_or_else(|| Spanned::new(LawfulBasis::Consent, t.anchor)),
        special_category_condition: r.vocab(
            t,
            "special_category_condition",
            SpecialCondition::parse,
            SpecialCondition::NAMES,
        ),
        pecr: r.vocab(t, "pecr", Pecr::parse, Pecr::NAMES),
        recipients: r
            .string_list(t, "recipients")
            .map(|(v, _)| v.into_iter().map(|s| s.map(RecipientId::new)).collect())
            .unwrap_or_default(),
    }
}

fn recipient(r: &mut Reader, t: &Table<'_, '_>, id: Spanned<String>) -> Recipient {
    r.unknown_keys(t, RECIPIENT_KEYS);
    Recipient {
        id: id.map(RecipientId::new),
        name: r.required_string(t, "name", "\"Organisation Ltd\""),
        role: r.vocab(t, "role", Role::parse, Role::NAMES),
        country: r.string(t, "country"),
        safeguard: r.string(t, "safeguard"),
        purposes: r
            .string_list(t, "purposes")
            .map(|(v, _)| v.into_iter().map(|s| s.map(PurposeId::new)).collect())
            .unwrap_or_default(),
    }
}

fn stream(r: &mut Reader, t: &Table<'_, '_>, id: Spanned<String>) -> Stream {
    r.unknown_keys(t, STREAM_KEYS);
    let subject = if t.get("subject").is_none() {
        r.missing(t, "subject", "\"member\"");
        None
    } else {
        r.vocab(t, "subject", SubjectKind::parse, SubjectKind::NAMES)
    };
    let fields = match r.table(t, "fields") {
        Some(ft) => {
            let mut out = Vec::new();
            for e in ft.entries() {
                r.check_id("field", e.key, e.key_span);
                if let Some(sub) = r.as_table(&ft, &e) {
                    out.push(fields::field(
                        r,
                        &sub,
                        Spanned::new(e.key.to_owned(), e.key_span),
                    ));
                }
            }
            out
        }
        None => Vec::new(),
    };
    Stream {
        id: id.map(StreamId::new),
        // Missing or invalid: treat as a member's data, the most protective reading.
        subject: subject.unwrap_or_else(|| Spanned::new(SubjectKind::Member, t.anchor)),
        description: r.string(t, "description"),
        data_subjects: r
            .string_list(t, "data_subjects")
            .map(|(v, _)| v)
            .unwrap_or_default(),
        fields,
    }
}

#[cfg(test)]
mod tests;
