//! Purpose-level changes: purposes added, removed, repurposed or on another lawful basis.

use super::words::{self, humanise};
use super::{ChangeKind, Changes, Scope};
use crate::model::{Manifest, Purpose};
use crate::notice::plain;
use crate::taxonomy::is_under;

pub(super) fn diff(old: &Manifest, new: &Manifest, out: &mut Changes) {
    for p in &new.purposes {
        match old.purpose(p.id.as_str()) {
            None => out.push(
                ChangeKind::NewPurpose,
                scope(p),
                format!(
                    "A new purpose, {}: \"{}\"",
                    words::purpose(new, p.id.as_str()),
                    p.description.value.trim()
                ),
            ),
            Some(o) => changed(new, o, p, out),
        }
    }
    for o in &old.purposes {
        if new.purpose(o.id.as_str()).is_none() {
            out.push(
                ChangeKind::RemovedPurpose,
                scope(o),
                format!(
                    "Purpose {} is no longer carried out.",
                    humanise(o.id.as_str())
                ),
            );
        }
    }
}

fn scope(p: &Purpose) -> Scope {
    Scope::purposes(vec![p.id.as_str().to_owned()])
}

/// A purpose present in both versions.
fn changed(new: &Manifest, o: &Purpose, p: &Purpose, out: &mut Changes) {
    let name = humanise(p.id.as_str());
    let (was_use, use_) = (&o.data_use.value, &p.data_use.value);
    if was_use != use_ {
        // A narrower use of the same kind (`analytics.reporting` → `analytics.reporting.system`)
        // says more precisely what was already said; anything else is another purpose.
        let (kind, how) = if is_under(use_, was_use) {
            (ChangeKind::Wording, "is now described more precisely as")
        } else {
            (ChangeKind::NewPurpose, "is now a different kind of use,")
        };
        out.push(
            kind,
            scope(p),
            format!("Purpose {name} {how} `{use_}` (was `{was_use}`)."),
        );
    }
    let pecr = (o.effective_pecr() != p.effective_pecr()).then(|| {
        format!(
            "; to read from or store on the device it relies on `{}` (was `{}`)",
            p.effective_pecr(),
            o.effective_pecr()
        )
    });
    if o.basis.value != p.basis.value {
        out.push(
            ChangeKind::BasisChanged,
            scope(p),
            format!(
                "Purpose {name} now relies on {} (was {}){}.",
                humanise(p.basis.value.as_str()),
                humanise(o.basis.value.as_str()),
                pecr.unwrap_or_default()
            ),
        );
    } else if let Some(pecr) = pecr {
        out.push(
            ChangeKind::BasisChanged,
            scope(p),
            format!("Purpose {name} keeps its basis{pecr}."),
        );
    }
    let condition = |x: &Purpose| x.special_category_condition.as_ref().map(|c| c.value);
    if condition(o) != condition(p) {
        let plain =
            |c: Option<crate::vocab::SpecialCondition>| c.map_or("none", |c| plain::condition(c).0);
        out.push(
            ChangeKind::BasisChanged,
            scope(p),
            format!(
                "Purpose {name} now uses special category data because {} (was: {}).",
                plain(condition(p)),
                plain(condition(o))
            ),
        );
    }
    if o.description.value.trim() != p.description.value.trim() {
        out.push(
            ChangeKind::Wording,
            scope(p),
            format!(
                "Purpose {} is now described as \"{}\"",
                words::purpose(new, p.id.as_str()),
                p.description.value.trim()
            ),
        );
    }
}
