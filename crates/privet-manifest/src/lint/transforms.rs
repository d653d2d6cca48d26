//! Transforms that cannot apply to their field, or whose setting makes no sense (PV046).
//! The parser already reports settings it cannot read (a `truncate_location` that does not
//! fit, a `drop_after` that is not a period).

use crate::field_type::FieldType;
use crate::finding::Finding;
use crate::model::{Field, Manifest, Stream};
use crate::rules;
use crate::span::Span;

/// Beyond six decimal places (about 0.1 m) truncation removes nothing a receiver measures.
const MAX_USEFUL_LOCATION_PLACES: u8 = 6;

pub(super) fn check(m: &Manifest, out: &mut Vec<Finding>) {
    for (s, f) in m.fields() {
        // A field with no readable type has a placeholder type, already reported.
        if f.ty.span == f.name.span {
            continue;
        }
        field(s, f, out);
    }
}

fn field(s: &Stream, f: &Field, out: &mut Vec<Finding>) {
    let name = format!("{}.{}", s.id.as_str(), f.name.as_str());
    let ty = &f.ty.value;
    let t = &f.transform;
    let mut push = |span: Span, message: String, label: &str, help: String| {
        out.push(
            Finding::new(&rules::TRANSFORM_TYPE_MISMATCH, span, message)
                .label(label)
                .help(help),
        );
    };
    // Each transform the field sets, whether the field's type is one it applies to, and what it
    // applies to: in the message, then in the (shorter) label.
    let applies = [
        (
            t.round.as_ref().map(|r| r.span),
            "round",
            ty.is_numeric(),
            "numbers",
            "numbers",
        ),
        (
            t.bucket.as_ref().map(|b| b.span),
            "bucket",
            ty.is_numeric(),
            "numbers",
            "numbers",
        ),
        (
            t.truncate_location.as_ref().map(|p| p.span),
            "truncate_location",
            ty.is_location(),
            "locations",
            "locations",
        ),
        (
            t.coarsen_time.as_ref().map(|u| u.span),
            "coarsen_time",
            ty.is_string(),
            "RFC 3339 timestamp strings",
            "timestamp strings",
        ),
        (
            t.hash.as_ref().filter(|h| h.value).map(|h| h.span),
            "hash",
            ty.is_string(),
            "strings",
            "strings",
        ),
    ];
    for (span, transform, fits, applies_to, label) in applies {
        if let Some(span) = span
            && !fits
        {
            push(
                span,
                mismatch(transform, applies_to, &name, ty),
                &format!("applies to {label} only"),
                other_transform(ty, transform),
            );
        }
    }
    // The settings of the transforms that do apply.
    if let Some(r) = &t.round
        && ty.is_numeric()
        && (r.value.is_nan() || r.value <= 0.0)
    {
        push(
            r.span,
            format!(
                "`round` of `{name}` must be a step above zero, not {}",
                r.value
            ),
            "not a positive step",
            "set the step to round to, e.g. `round = 0.5` (to the nearest half)".to_owned(),
        );
    }
    if let Some(b) = &t.bucket
        && ty.is_numeric()
    {
        if b.value.is_empty() {
            push(
                b.span,
                format!("`bucket` of `{name}` has no bounds"),
                "no bounds",
                "list the lower bounds of the ranges, e.g. `bucket = [0, 18, 30, 50, 70]`"
                    .to_owned(),
            );
        } else if b
            .value
            .windows(2)
            .any(|w| !matches!(w, [lo, hi] if lo < hi))
        {
            push(
                b.span,
                format!("the bounds of `bucket` in `{name}` are not strictly ascending"),
                "not strictly ascending",
                "list each bound once, smallest first, e.g. `bucket = [0, 18, 30, 50, 70]`"
                    .to_owned(),
            );
        }
    }
    if let Some(places) = &t.truncate_location
        && ty.is_location()
        && places.value > MAX_USEFUL_LOCATION_PLACES
    {
        push(
            places.span,
            format!(
                "`truncate_location` of `{name}` keeps {} decimal places, finer than any receiver measures",
                places.value
            ),
            "removes nothing",
            "keep only what the purpose needs, e.g. `truncate_location = 3` (about 110 m) or `2` (about 1 km)".to_owned(),
        );
    }
}

fn mismatch(transform: &str, applies_to: &str, name: &str, ty: &FieldType) -> String {
    format!("`{transform}` applies to {applies_to}, but `{name}` is `{ty}`")
}

/// What to do instead of `transform` for a field of type `ty`.
fn other_transform(ty: &FieldType, transform: &str) -> String {
    let instead = if ty.is_numeric() {
        "for a number use `round = <step>` or `bucket = [<bounds>]`"
    } else if ty.is_location() {
        "for a location use `truncate_location = 3`"
    } else if ty.is_string() {
        "for a string use `hash = true`, or `coarsen_time` for a timestamp"
    } else {
        "no transform applies to this type; declare the minimised value as its own field"
    };
    format!("remove `{transform}` or fix the field's `type`; {instead}")
}
