//! High-risk processing: precise location and recordings must be minimised or assessed
//! (PV025, PV026). Whether a DPIA is needed at all is `dpia.rs`'s (PV044).

use super::dpia::DPIA_EXAMPLE;
use super::has_dpia;
use crate::finding::Finding;
use crate::model::{Field, Manifest};
use crate::rules;
use crate::taxonomy::{is_precise_location, is_recording};

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
