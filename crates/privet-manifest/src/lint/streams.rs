//! Streams: declared people, bystanders and fields (PV045, PV048, PV054).

use crate::finding::Finding;
use crate::model::Manifest;
use crate::rules;
use crate::taxonomy::{is_personal_category, is_recording};
use crate::vocab::SubjectKind;

pub(super) fn check(m: &Manifest, out: &mut Vec<Finding>) {
    for s in &m.streams {
        let id = s.id.as_str();
        if s.fields.is_empty() {
            out.push(
                Finding::new(
                    &rules::STREAM_WITHOUT_FIELDS,
                    s.id.span,
                    format!("stream `{id}` declares no fields, so every event on it is dropped"),
                )
                .label("no fields")
                .help(format!(
                    "declare what it carries under `[streams.{id}.fields.<name>]`, or remove the stream"
                )),
            );
        }
        // One finding per stream, at `subject = "none"`: that is the claim to correct.
        let personal = s
            .fields
            .iter()
            .find(|f| is_personal_category(&f.category.value));
        if let (SubjectKind::None, Some(f)) = (s.subject.value, personal) {
            out.push(
                Finding::new(
                    &rules::PERSONAL_DATA_IN_NON_PERSONAL_STREAM,
                    s.subject.span,
                    format!(
                        "stream `{id}` says it holds no personal data, but field `{}` is `{}`",
                        f.name.as_str(),
                        f.category.value
                    ),
                )
                .label("declared not personal")
                .help("set `subject = \"household\"` (or \"member\" if it is about one person); keep `\"none\"` only for `system.*` data"),
            );
        }
        let recording = s.fields.iter().any(|f| is_recording(&f.category.value));
        if recording && s.data_subjects.is_empty() {
            out.push(
                Finding::new(
                    &rules::UNDECLARED_BYSTANDERS,
                    s.id.span,
                    format!("stream `{id}` records sound or images but declares no other people it may capture"),
                )
                .label("bystanders not declared")
                .help(format!(
                    "add `data_subjects = [\"guest\", \"passerby\"]` (whoever it may capture) to `[streams.{id}]`"
                )),
            );
        }
    }
}
