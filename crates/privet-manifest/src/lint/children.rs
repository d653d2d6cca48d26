//! The Children's code: products children are likely to use do no profiling or marketing
//! and collect no precise location (PV027, PV028).

use super::{data_use, used_purposes};
use crate::finding::Finding;
use crate::model::Manifest;
use crate::rules;
use crate::taxonomy::{is_precise_location, is_under};

/// Data uses that profile people or market to them (standards 5 and 12 of the code).
const PROFILING_OR_MARKETING: &[&str] = &[
    "marketing",
    "personalize.content.profiling",
    "personalize.content.profiled",
    "marketing.advertising.profiling",
];

pub(super) fn check(m: &Manifest, out: &mut Vec<Finding>) {
    let Some(audience) = m
        .product
        .audience
        .as_ref()
        .filter(|a| a.value.includes_children())
    else {
        return;
    };
    let who = format!("`audience = \"{}\"`", audience.value);
    for p in used_purposes(m) {
        let Some(u) = data_use(p) else {
            continue;
        };
        if !PROFILING_OR_MARKETING.iter().any(|a| is_under(u, a)) {
            continue;
        }
        out.push(
            Finding::new(
                &rules::CHILDREN_PROFILING_OR_MARKETING,
                p.data_use.span,
                format!(
                    "purpose `{}` profiles or markets (`{u}`) in a product children use ({who})",
                    p.id.as_str()
                ),
            )
            .label("profiling or marketing")
            .help(format!(
                "remove purpose `{}` from this product (and from its fields); a product children are likely to use must not profile them or market to them",
                p.id.as_str()
            )),
        );
    }
    for (s, f) in m.fields() {
        if !is_precise_location(&f.category.value) {
            continue;
        }
        out.push(
            Finding::new(
                &rules::CHILDREN_PRECISE_LOCATION,
                f.category.span,
                format!(
                    "field `{}.{}` collects precise location in a product children use ({who})",
                    s.id.as_str(),
                    f.name.as_str()
                ),
            )
            .label("precise location")
            .help("collect approximate location instead: `category = \"user.location.imprecise\"` with `transform = { truncate_location = 2 }` (about 1 km)"),
        );
    }
}
