//! High-risk processing: precise location and recordings must be minimised or assessed, and
//! anything high-risk needs a DPIA (PV025, PV026, PV044).

use super::{and_list, has_dpia};
use crate::finding::Finding;
use crate::model::{Field, Manifest};
use crate::rules;
use crate::span::Span;
use crate::taxonomy::{is_precise_location, is_recording, is_special_category};

/// The DPIA reference format suggested in help texts.
const DPIA_EXAMPLE: &str = "dpia = \"DPIA-2026-04\"";

pub(super) fn check(m: &Manifest, out: &mut Vec<Finding>) {
    if has_dpia(m) {
        return;
    }
    for (s, f) in m.fields() {
        let name = format!("{}.{}", s.id.as_str(), f.name.as_str());
        if is_precise_location(&f.category.value) && !f.transform.minimises() {
            out.push(
                Finding::new(
                    &rules::PRECISE_LOCATION_UNMINIMISED,
                    f.category.span,
                    format!("field `{name}` keeps precise location at full precision"),
                )
                .label("precise location, not minimised")
                .help(format!(
                    "{}, or add `{DPIA_EXAMPLE}` to `[product]` once you have assessed the risk",
                    location_minimiser(f)
                )),
            );
        }
        if is_recording(&f.category.value) && f.transform.is_empty() {
            out.push(
                Finding::new(
                    &rules::AUDIO_VIDEO_UNMINIMISED,
                    f.category.span,
                    format!(
                        "field `{name}` holds recordings (`{}`) with no transform",
                        f.category.value
                    ),
                )
                .label("recording, kept as captured")
                .help(format!(
                    "keep it briefly with `transform = {{ drop_after = \"7d\" }}`, or add `{DPIA_EXAMPLE}` to `[product]` once you have assessed the risk"
                )),
            );
        }
    }
    dpia_missing(m, out);
}

/// The transform that would minimise a precise location of this field's type.
fn location_minimiser(f: &Field) -> &'static str {
    if f.ty.value.is_location() {
        "cut its precision with `transform = { truncate_location = 3 }` (about 110 m)"
    } else if f.ty.value.is_numeric() {
        "cut its precision with `transform = { round = 0.001 }` (about 110 m)"
    } else if f.ty.value.is_string() {
        "pseudonymise it with `transform = { hash = true }`, or send it as a `location` and truncate it"
    } else {
        "send it as a `location` and cut its precision with `transform = { truncate_location = 3 }`"
    }
}

/// PV044: one finding for the whole manifest, at the first high-risk field (or the audience).
fn dpia_missing(m: &Manifest, out: &mut Vec<Finding>) {
    let mut reasons: Vec<&str> = Vec::new();
    let mut at: Option<Span> = None;
    let mut note = |reason: &'static str, span: Span| {
        if !reasons.contains(&reason) {
            reasons.push(reason);
        }
        at.get_or_insert(span);
    };
    for (_, f) in m.fields() {
        let c = f.category.value.as_str();
        if is_special_category(c) {
            note("special category data", f.category.span);
        }
        if is_precise_location(c) {
            note("precise location", f.category.span);
        }
        if is_recording(c) {
            note("recordings in the home", f.category.span);
        }
    }
    if let Some(a) = &m.product.audience
        && a.value.includes_children()
    {
        note("a product children use", a.span);
    }
    let Some(span) = at else {
        return;
    };
    out.push(
        Finding::new(
            &rules::DPIA_MISSING,
            span,
            format!(
                "high-risk processing ({}) with no data protection impact assessment",
                reasons.join(", ")
            ),
        )
        .label("high-risk processing")
        .help(format!(
            "carry out a DPIA covering {} and add `{DPIA_EXAMPLE}` to `[product]`",
            and_list(reasons.iter().map(|r| (*r).to_owned()))
        )),
    );
}
