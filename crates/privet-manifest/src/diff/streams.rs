//! Stream-level changes: streams added, removed, about someone else, or described anew; the
//! fields of streams in both versions are compared in [`super::fields`].

use super::fields;
use super::sensitivity::of_subject;
use super::words::{self, and_list, quoted};
use super::{ChangeKind, Changes, Scope};
use crate::model::{Manifest, Stream};

pub(super) fn diff(old: &Manifest, new: &Manifest, out: &mut Changes) {
    for s in &new.streams {
        match old.stream(s.id.as_str()) {
            None => added(new, s, out),
            Some(o) => {
                changed(o, s, out);
                fields::diff(old, new, o, s, out);
            }
        }
    }
    for o in &old.streams {
        if new.stream(o.id.as_str()).is_none() {
            out.push(
                ChangeKind::RemovedStream,
                Scope::stream(o.id.as_str(), purposes(o)),
                format!("The `{}` stream is no longer collected.", o.id.as_str()),
            );
        }
    }
}

/// Every purpose the stream's fields serve, each once, in field order.
fn purposes(s: &Stream) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for p in s.fields.iter().flat_map(|f| &f.purposes) {
        if !out.iter().any(|x| x == p.as_str()) {
            out.push(p.as_str().to_owned());
        }
    }
    out
}

fn added(new: &Manifest, s: &Stream, out: &mut Changes) {
    let what = and_list(s.fields.iter().map(|f| {
        format!(
            "`{}` ({})",
            f.name.as_str(),
            words::category(&f.category.value)
        )
    }));
    let ps = purposes(s);
    let summary = if s.fields.is_empty() {
        format!("A new stream, `{}`, with no fields yet.", s.id.as_str())
    } else {
        format!(
            "A new stream, `{}`, collects {what}, for {}.",
            s.id.as_str(),
            words::purposes(new, &ps)
        )
    };
    out.push(
        ChangeKind::NewStream,
        Scope::stream(s.id.as_str(), ps),
        summary,
    );
}

/// The stream's own keys: whose data it is, what it says about itself, who else it captures.
fn changed(o: &Stream, s: &Stream, out: &mut Changes) {
    let id = s.id.as_str();
    let (was, now) = (o.subject.value, s.subject.value);
    if was != now {
        let kind = if of_subject(now) > of_subject(was) {
            ChangeKind::MoreSensitiveCategory
        } else {
            ChangeKind::LessSensitiveCategory
        };
        out.push(
            kind,
            Scope::stream(id, purposes(s)),
            format!(
                "The `{id}` stream is now {} (was {}).",
                words::whose(now),
                words::whose(was)
            ),
        );
    }
    let text = |x: &Stream| x.description.as_ref().map(|d| d.value.trim().to_owned());
    if text(o) != text(s) {
        out.push(
            ChangeKind::Wording,
            Scope::stream(id, purposes(s)),
            format!(
                "The `{id}` stream is now described as {}.",
                quoted(text(s).as_deref())
            ),
        );
    }
    let subjects =
        |x: &Stream| -> Vec<String> { x.data_subjects.iter().map(|d| d.value.clone()).collect() };
    let (before, after) = (subjects(o), subjects(s));
    if before != after {
        // Who else a stream may capture is for the notice; it adds no processing of the
        // household's own data, so it asks no one again.
        let show = |v: &[String]| {
            if v.is_empty() {
                "nobody else".to_owned()
            } else {
                and_list(v.iter().map(|d| words::humanise(d)))
            }
        };
        out.push(
            ChangeKind::Wording,
            Scope::stream(id, purposes(s)),
            format!(
                "The `{id}` stream may now also capture {} (was {}).",
                show(&after),
                show(&before)
            ),
        );
    }
}
