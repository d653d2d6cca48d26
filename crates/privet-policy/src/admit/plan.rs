//! What admission works out once per batch instead of once per field: each declared field's
//! purposes (resolved from their keys) and retention, and each subject's answer for each
//! field. A batch holds thousands of fields of a handful of kinds about a handful of people.

use super::SubjectRef;
use crate::permissions::is_available;
use privet_manifest::{Field, Manifest, Purpose, Retention};

/// What a subject says about one purpose of a field.
#[derive(Clone, Copy, Debug)]
pub(super) struct Answer {
    /// Consent to the purpose is in force.
    pub(super) consented: bool,
    /// The purpose is objected to.
    pub(super) objected: bool,
    /// The consent in force was given under a version that covers the field as collected now.
    pub(super) covered: bool,
}

/// Whether a field is kept for a subject, or why not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Verdict {
    /// A purpose of the field is available.
    Kept,
    /// No purpose is available.
    NoConsent,
    /// None is available, but one would be if its consent covered the current version.
    Reconsent,
}

/// A declared field, resolved.
pub(super) struct FieldPlan<'m> {
    /// How long it is kept, if it may be stored at all: a field without a bounded retention
    /// or without a defined purpose is, for storage, as good as undeclared (the linter rejects
    /// such manifests; this fails closed if one is used anyway).
    pub(super) retention: Option<Retention>,
    /// Its purposes as declared in the manifest.
    purposes: Vec<&'m Purpose>,
}

/// Every field of every stream of a manifest, resolved; with a memo of consent answers.
pub(super) struct BatchPlan<'m> {
    /// Per stream (manifest order): its fields' plans (stream order).
    streams: Vec<Vec<FieldPlan<'m>>>,
    /// Where each stream's fields start in the flat numbering the memo uses.
    offsets: Vec<usize>,
    /// Fields in all.
    fields: usize,
    /// Subjects met so far, numbered in order.
    subjects: Vec<SubjectRef>,
    /// Per (subject, field): whether the field is kept for the subject.
    answers: Vec<Option<Verdict>>,
}

impl<'m> BatchPlan<'m> {
    pub(super) fn new(manifest: &'m Manifest) -> Self {
        let mut offsets = Vec::with_capacity(manifest.streams.len());
        let mut fields = 0;
        let streams = manifest
            .streams
            .iter()
            .map(|s| {
                offsets.push(fields);
                fields += s.fields.len();
                s.fields
                    .iter()
                    .map(|f| {
                        let purposes: Vec<&Purpose> = manifest.field_purposes(f).collect();
                        FieldPlan {
                            retention: (!purposes.is_empty())
                                .then(|| f.effective_retention())
                                .flatten(),
                            purposes,
                        }
                    })
                    .collect()
            })
            .collect();
        BatchPlan {
            streams,
            offsets,
            fields,
            subjects: Vec::new(),
            answers: Vec::new(),
        }
    }

    /// The plan of field `field` of stream `stream` (positions in the manifest).
    pub(super) fn field(&self, stream: usize, field: usize) -> Option<&FieldPlan<'m>> {
        self.streams.get(stream)?.get(field)
    }

    /// Whether the field may be kept for `subject`: when at least one of its purposes is
    /// available (not objected to, and either not consent-based or consented under a version
    /// that covers the field). Asked once per subject and field, then remembered.
    pub(super) fn verdict(
        &mut self,
        subject: &SubjectRef,
        stream: usize,
        field: usize,
        ask: &dyn Fn(&Purpose) -> Answer,
    ) -> Verdict {
        let who = match self.subjects.iter().position(|s| s == subject) {
            Some(i) => i,
            None => {
                self.subjects.push(subject.clone());
                self.answers.resize(self.subjects.len() * self.fields, None);
                self.subjects.len() - 1
            }
        };
        // A stream or field outside the plan is never kept (admission only asks about declared
        // ones; this fails closed if it ever asked about another).
        let Some(flat) = self
            .offsets
            .get(stream)
            .map(|o| o + field)
            .filter(|_| self.field(stream, field).is_some())
        else {
            return Verdict::NoConsent;
        };
        let slot = who * self.fields + flat;
        if let Some(Some(known)) = self.answers.get(slot) {
            return *known;
        }
        let mut verdict = Verdict::NoConsent;
        if let Some(plan) = self.field(stream, field) {
            for p in &plan.purposes {
                let a = ask(p);
                if is_available(p, a.consented && a.covered, a.objected) {
                    verdict = Verdict::Kept;
                    break;
                }
                if is_available(p, a.consented, a.objected) {
                    verdict = Verdict::Reconsent;
                }
            }
        }
        if let Some(a) = self.answers.get_mut(slot) {
            *a = Some(verdict);
        }
        verdict
    }
}

/// The position of `field` in its stream (as the plan numbers it).
pub(super) fn position(fields: &[Field], name: &str) -> Option<usize> {
    fields.iter().position(|f| f.name.as_str() == name)
}
