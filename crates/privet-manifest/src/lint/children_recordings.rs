//! Recordings that may capture children: kept a year at most, and minimised whether or not
//! there is a DPIA (PV061, PV062).
//!
//! A field is a recording by its data category (audio, video, still images, pictures of
//! people, voice prints and other biometric data): a recording's `type` is a string (a
//! reference or an encoding) like any other text, so the type cannot tell. It may capture
//! children when the product is for children or all ages, or its stream lists `child` among
//! its `data_subjects`.

use crate::finding::Finding;
use crate::model::{Field, Manifest, Stream};
use crate::retention::{Retention, RetentionUnit};
use crate::rules;
use crate::taxonomy::{is_biometric, is_recording};

/// The longest a recording of a child may be kept.
const LONGEST: Retention = Retention {
    amount: 1,
    unit: RetentionUnit::Years,
};

pub(super) fn check(m: &Manifest, out: &mut Vec<Finding>) {
    let for_children = m
        .product
        .audience
        .as_ref()
        .is_some_and(|a| a.value.includes_children());
    for s in &m.streams {
        let captures_children = for_children || s.data_subjects.iter().any(|d| d.value == "child");
        if !captures_children {
            continue;
        }
        for f in s.fields.iter().filter(|f| is_childs_recording(f)) {
            kept_long(s, f, out);
            unminimised(s, f, out);
        }
    }
}

/// Whether a field holds recordings (or biometric data) by its category.
fn is_childs_recording(f: &Field) -> bool {
    is_recording(&f.category.value) || is_biometric(&f.category.value)
}

/// PV061, at the retention.
fn kept_long(s: &Stream, f: &Field, out: &mut Vec<Finding>) {
    let (Some(kept), Some(r)) = (f.effective_retention(), &f.retention) else {
        return;
    };
    if kept <= LONGEST {
        return;
    }
    out.push(
        Finding::new(
            &rules::CHILDREN_RECORDING_KEPT_LONG,
            r.span,
            format!(
                "`{}.{}` may hold recordings of children (`{}`) and is kept for {}, more than a year",
                s.id.as_str(),
                f.name.as_str(),
                f.category.value,
                kept.plain()
            ),
        )
        .label("a child's recording, more than 1 year")
        .help("keep it for a year at most, e.g. `retention = \"30d\"`, or delete the recording sooner with `transform = { drop_after = \"7d\" }`"),
    );
}

/// PV062, at the category (where PV026 points for adults' recordings).
fn unminimised(s: &Stream, f: &Field, out: &mut Vec<Finding>) {
    if !f.transform.is_empty() {
        return;
    }
    out.push(
        Finding::new(
            &rules::CHILDREN_RECORDING_UNMINIMISED,
            f.category.span,
            format!(
                "`{}.{}` may hold recordings of children (`{}`) kept as captured",
                s.id.as_str(),
                f.name.as_str(),
                f.category.value
            ),
        )
        .label("a child's recording, not minimised")
        .help("delete the recording as soon as it has served its purpose, e.g. `transform = { drop_after = \"24h\" }`; a DPIA does not remove the need"),
    );
}
