//! Field-level changes in a stream both versions have: fields added or removed, purposes,
//! category, shape, retention, transform and wording.

use super::minimise;
use super::sensitivity::of_category;
use super::words::{self, and_list, quoted};
use super::{ChangeKind, Changes, Scope};
use crate::field_type::FieldType;
use crate::model::{Field, Manifest, Stream};

pub(super) fn diff(old: &Manifest, new: &Manifest, os: &Stream, s: &Stream, out: &mut Changes) {
    for f in &s.fields {
        match os.field(f.name.as_str()) {
            None => {
                let ps = purposes(f);
                out.push(
                    ChangeKind::NewField,
                    Scope::field(s.id.as_str(), f.name.as_str(), ps.clone()),
                    format!(
                        "`{}` ({}) is now collected in the `{}` stream, for {}.",
                        f.name.as_str(),
                        words::category(&f.category.value),
                        s.id.as_str(),
                        words::purposes(new, &ps)
                    ),
                );
            }
            Some(of) => changed(old, new, s, of, f, out),
        }
    }
    for of in &os.fields {
        if s.field(of.name.as_str()).is_none() {
            out.push(
                ChangeKind::RemovedField,
                Scope::field(s.id.as_str(), of.name.as_str(), purposes(of)),
                format!(
                    "`{}` is no longer collected in the `{}` stream.",
                    of.name.as_str(),
                    s.id.as_str()
                ),
            );
        }
    }
}

/// The purposes a field lists, each once, in its order.
fn purposes(f: &Field) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for p in &f.purposes {
        if !out.iter().any(|x| x == p.as_str()) {
            out.push(p.as_str().to_owned());
        }
    }
    out
}

/// A field present in both versions.
fn changed(old: &Manifest, new: &Manifest, s: &Stream, of: &Field, f: &Field, out: &mut Changes) {
    let name = words::field(s, f);
    let (before, after) = (purposes(of), purposes(f));
    let scope = |ps: Vec<String>| Scope::field(s.id.as_str(), f.name.as_str(), ps);
    let gained: Vec<String> = after
        .iter()
        .filter(|p| !before.contains(p))
        .cloned()
        .collect();
    if !gained.is_empty() {
        let summary = format!(
            "{name} is now also used for {}.",
            words::purposes(new, &gained)
        );
        out.push(ChangeKind::NewPurposeForField, scope(gained), summary);
    }
    let lost: Vec<String> = before
        .iter()
        .filter(|p| !after.contains(p))
        .cloned()
        .collect();
    if !lost.is_empty() {
        let summary = format!(
            "{name} is no longer used for {}.",
            words::purposes(old, &lost)
        );
        out.push(ChangeKind::RemovedPurposeForField, scope(lost), summary);
    }
    category(&name, of, f, scope(after.clone()), out);
    shape(&name, &of.ty.value, &f.ty.value, scope(after.clone()), out);
    if let Some((kind, said)) = minimise::retention(of, f) {
        out.push(kind, scope(after.clone()), format!("{name} {said}."));
    }
    let t = minimise::transform(&of.transform, &f.transform);
    if !t.weaker.is_empty() {
        let summary = format!(
            "{name} is now kept in more detail: {}.",
            t.weaker.join("; ")
        );
        out.push(ChangeKind::WeakerTransform, scope(after.clone()), summary);
    }
    if !t.stronger.is_empty() {
        let summary = format!("{name} is now minimised more: {}.", t.stronger.join("; "));
        out.push(ChangeKind::StrongerTransform, scope(after.clone()), summary);
    }
    wording(&name, of, f, scope(after), out);
}

/// A different category of the same sensitivity is wording: what people weigh did not change.
fn category(name: &str, of: &Field, f: &Field, scope: Scope, out: &mut Changes) {
    let (was, now) = (&of.category.value, &f.category.value);
    if was == now {
        return;
    }
    let (kind, weight) = match of_category(now).cmp(&of_category(was)) {
        std::cmp::Ordering::Greater => (
            ChangeKind::MoreSensitiveCategory,
            ", which is more sensitive",
        ),
        std::cmp::Ordering::Less => (
            ChangeKind::LessSensitiveCategory,
            ", which is less sensitive",
        ),
        std::cmp::Ordering::Equal => (ChangeKind::Wording, ""),
    };
    out.push(
        kind,
        scope,
        format!(
            "{name} is now classed as {} (`{now}`), was {} (`{was}`){weight}.",
            words::category(now),
            words::category(was)
        ),
    );
}

/// The keys an object type holds, as dotted paths, through arrays and nested objects.
fn paths(ty: &FieldType, prefix: &str, out: &mut Vec<String>) {
    match ty {
        FieldType::Object { schema } => {
            for (key, inner) in schema {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                out.push(path.clone());
                paths(inner, &path, out);
            }
        }
        FieldType::Array { items } => paths(items, prefix, out),
        _ => {}
    }
}

/// An object field that gains keys carries data it did not: reported as a new field, so
/// what it carries now waits for whatever the old version's agreement did not cover.
fn shape(name: &str, was: &FieldType, now: &FieldType, scope: Scope, out: &mut Changes) {
    if was == now {
        return;
    }
    let (mut before, mut after) = (Vec::new(), Vec::new());
    paths(was, "", &mut before);
    paths(now, "", &mut after);
    let keys = |v: Vec<&String>| and_list(v.into_iter().map(|k| format!("`{k}`")));
    let added: Vec<&String> = after.iter().filter(|k| !before.contains(k)).collect();
    let removed: Vec<&String> = before.iter().filter(|k| !after.contains(k)).collect();
    let (any_added, any_removed) = (!added.is_empty(), !removed.is_empty());
    if any_added {
        let summary = format!("{name} now also carries {}.", keys(added));
        out.push(ChangeKind::NewField, scope.clone(), summary);
    }
    if any_removed {
        let summary = format!("{name} no longer carries {}.", keys(removed));
        out.push(ChangeKind::RemovedField, scope.clone(), summary);
    }
    if !any_added && !any_removed {
        out.push(
            ChangeKind::Wording,
            scope,
            format!("{name} is now sent as `{now}` (was `{was}`)."),
        );
    }
}

/// Origin and description.
fn wording(name: &str, of: &Field, f: &Field, scope: Scope, out: &mut Changes) {
    let mut said = Vec::new();
    if of.origin() != f.origin() {
        said.push(format!(
            "where it comes from is now \"{}\" (was \"{}\")",
            f.origin().plain(),
            of.origin().plain()
        ));
    }
    let text = |x: &Field| x.description.as_ref().map(|d| d.value.trim().to_owned());
    if text(of) != text(f) {
        said.push(format!(
            "it is now described as {}",
            quoted(text(f).as_deref())
        ));
    }
    if !said.is_empty() {
        out.push(
            ChangeKind::Wording,
            scope,
            format!("{name}: {}.", said.join("; ")),
        );
    }
}
