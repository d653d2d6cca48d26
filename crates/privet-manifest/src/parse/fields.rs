//! Reading `[streams.X.fields.Y]`: type (with object schemas), category, purposes, retention, transform.

use super::reader::{Reader, Table, number_of};
use crate::field_type::FieldType;
use crate::field_type::MAX_ARRAY_DEPTH;
use crate::finding::Finding;
use crate::ids::{FieldName, PurposeId};
use crate::model::{Field, RetentionSpec};
use crate::retention::{Retention, RetentionError};
use crate::rules;
use crate::span::{Span, Spanned};
use crate::transform::{TimeUnit, Transform};
use crate::vocab::Origin;
use toml::de::DeValue;

const FIELD_KEYS: &[&str] = &[
    "type",
    "schema",
    "category",
    "origin",
    "purposes",
    "retention",
    "transform",
    "description",
    "retention_reason",
];
const TRANSFORM_KEYS: &[&str] = &[
    "round",
    "truncate_location",
    "bucket",
    "coarsen_time",
    "hash",
    "drop_after",
];
const TYPE_NAMES: &[&str] = &["number", "integer", "bool", "string", "location", "object"];

pub(super) fn field(r: &mut Reader, t: &Table<'_, '_>, name: Spanned<String>) -> Field {
    r.unknown_keys(t, FIELD_KEYS);
    let ty = field_type(r, t);
    let category = r.required_string(t, "category", "\"user.sensor\"");
    let (purposes, purposes_span) = match r.string_list(t, "purposes") {
        Some((list, span)) => (
            list.into_iter().map(|s| s.map(PurposeId::new)).collect(),
            span,
        ),
        None => (Vec::new(), t.anchor),
    };
    let retention = r.string(t, "retention").map(|s| {
        let spec = match Retention::parse(&s.value) {
            Ok(ret) => RetentionSpec::Bounded(ret),
            Err(RetentionError::Unbounded) => RetentionSpec::Unbounded(s.value.clone()),
            Err(RetentionError::Zero) => RetentionSpec::Zero(s.value.clone()),
            Err(RetentionError::Malformed) => RetentionSpec::Malformed(s.value.clone()),
        };
        Spanned::new(spec, s.span)
    });
    let (transform, transform_span) = match r.table(t, "transform") {
        Some(tt) => (transform(r, &tt), t.get("transform").map(|e| e.span())),
        None => (Transform::default(), None),
    };
    Field {
        name: name.map(FieldName::new),
        ty,
        category,
        origin: r.vocab(t, "origin", Origin::parse, Origin::NAMES),
        purposes,
        purposes_span,
        retention,
        transform,
        transform_span,
        description: r.string(t, "description"),
        retention_reason: r.string(t, "retention_reason"),
    }
}

fn field_type(r: &mut Reader, t: &Table<'_, '_>) -> Spanned<FieldType> {
    let Some(name) = r.string(t, "type") else {
        if t.get("type").is_none() {
            r.missing(t, "type", "\"number\"");
        }
        // Placeholder for a broken manifest; it is never used to ingest.
        return Spanned::new(FieldType::String, t.anchor);
    };
    let base = name.value.trim_end_matches("[]");
    let depth = (name.value.len() - base.len()) / 2;
    if depth > MAX_ARRAY_DEPTH {
        if let Some(e) = t.get("type") {
            r.findings.push(
                Finding::new(
                    &rules::INVALID_VALUE,
                    e.span(),
                    format!(
                        "`{}` nests arrays {depth} deep; at most {MAX_ARRAY_DEPTH} are allowed",
                        t.child_path("type")
                    ),
                )
                .label("too deeply nested")
                .help("use an `object` with a schema for structured values"),
            );
        }
        return Spanned::new(FieldType::String, name.span);
    }
    let inner = if base == "object" {
        match t.get("schema") {
            Some(e) => match e.value.get_ref() {
                DeValue::Table(_) => r.as_table(t, &e).map(|st| schema(r, &st)),
                _ => {
                    r.wrong_type(t, &e, "a table of key = \"type\"");
                    None
                }
            },
            None => {
                r.missing(t, "schema", "{ key = \"number\" }");
                None
            }
        }
        .map(|schema| FieldType::Object { schema })
    } else {
        if let Some(e) = t.get("schema") {
            r.findings.push(
                Finding::new(
                    &rules::UNKNOWN_KEY,
                    e.key_span,
                    format!("`{}` applies only to object fields", t.child_path("schema")),
                )
                .label("ignored")
                .help("remove `schema`, or set `type = \"object\"`"),
            );
        }
        FieldType::parse_scalar(base)
    };
    match inner {
        Some(mut ty) => {
            for _ in 0..depth {
                ty = FieldType::Array {
                    items: Box::new(ty),
                };
            }
            Spanned::new(ty, name.span)
        }
        None => {
            if let Some(e) = t.get("type").filter(|_| base != "object") {
                r.invalid(t, &e, &name.value, TYPE_NAMES);
            }
            Spanned::new(FieldType::String, name.span)
        }
    }
}

/// An object schema: `{ key = "type", nested = { type = "object", schema = {…} } }`.
fn schema(r: &mut Reader, t: &Table<'_, '_>) -> Vec<(String, FieldType)> {
    let mut out = Vec::new();
    for e in t.entries() {
        r.check_id("schema", e.key, e.key_span);
        let ty = match e.value.get_ref() {
            DeValue::String(s) => match FieldType::parse_scalar(s) {
                Some(ty) => Some(ty),
                None => {
                    r.invalid(t, &e, s, TYPE_NAMES);
                    None
                }
            },
            DeValue::Table(_) => r.as_table(t, &e).map(|sub| {
                r.unknown_keys(&sub, &["type", "schema"]);
                field_type(r, &sub).value
            }),
            _ => {
                r.wrong_type(t, &e, "a type name or a table");
                None
            }
        };
        if let Some(ty) = ty {
            out.push((e.key.to_owned(), ty));
        }
    }
    out
}

fn transform(r: &mut Reader, t: &Table<'_, '_>) -> Transform {
    r.unknown_keys(t, TRANSFORM_KEYS);
    let truncate_location =
        r.integer(t, "truncate_location")
            .and_then(|n| match u8::try_from(n.value) {
                Ok(places) => Some(Spanned::new(places, n.span)),
                Err(_) => {
                    push_transform_error(
                        r,
                        n.span,
                        "`truncate_location` must be 0 to 8 decimal places",
                    );
                    None
                }
            });
    let bucket = t.get("bucket").and_then(|e| match e.value.get_ref() {
        DeValue::Array(items) => {
            let bounds: Option<Vec<f64>> = items.iter().map(|i| number_of(i.get_ref())).collect();
            match bounds {
                Some(b) => Some(Spanned::new(b, e.span())),
                None => {
                    r.wrong_type(t, &e, "a list of numbers");
                    None
                }
            }
        }
        _ => {
            r.wrong_type(t, &e, "a list of numbers");
            None
        }
    });
    let drop_after = r
        .string(t, "drop_after")
        .and_then(|s| match Retention::parse(&s.value) {
            Ok(ret) => Some(Spanned::new(ret, s.span)),
            Err(err) => {
                push_transform_error(r, s.span, &format!("`drop_after` is not a period: {err}"));
                None
            }
        });
    Transform {
        round: r.number(t, "round"),
        truncate_location,
        bucket,
        coarsen_time: r.vocab(t, "coarsen_time", TimeUnit::parse, TimeUnit::NAMES),
        hash: r.bool(t, "hash"),
        drop_after,
    }
}

fn push_transform_error(r: &mut Reader, span: Span, message: &str) {
    r.findings.push(
        Finding::new(&rules::TRANSFORM_TYPE_MISMATCH, span, message)
            .label("cannot apply")
            .help("see docs/manifest.md for each transform's settings"),
    );
}
