//! What a subject allows: consents (product-specific and for every product), objections and
//! restriction, gathered into one [`Permissions`] value that ingest, reads, export, purges,
//! pages and routes all ask.

use crate::admit::{SubjectRef, SubjectState};
use crate::consent::{ConsentLedger, ConsentRecord, Grant, Objection};
use crate::ids::SubjectId;
use crate::read::ReadGrant;
use crate::subjects::Subject;
use crate::versions::Lineage;
use privet_manifest::{FieldName, Manifest, Purpose, PurposeId, StreamId};

/// Whether a purpose still serves as a reason to hold a subject's data: it is not objected
/// to, and, if it rests on consent, the consent is given.
pub fn is_available(purpose: &Purpose, consented: bool, objected: bool) -> bool {
    !objected && (!purpose.needs_consent() || consented)
}

/// One subject's consents, objections and restriction.
#[derive(Clone, Debug, Default)]
pub struct SubjectPermissions {
    restricted: bool,
    consents: ConsentLedger,
    /// (product or every product, purpose).
    objections: Vec<(Option<String>, String)>,
}

impl SubjectPermissions {
    /// From one subject's restriction flag, consent history and objections.
    pub fn new<'a>(
        restricted: bool,
        history: impl IntoIterator<Item = &'a ConsentRecord>,
        objections: impl IntoIterator<Item = &'a Objection>,
    ) -> Self {
        SubjectPermissions {
            restricted,
            consents: ConsentLedger::from_history(history),
            objections: objections
                .into_iter()
                .map(|o| (o.product.clone(), o.purpose.clone()))
                .collect(),
        }
    }

    /// Whether processing is restricted (UK GDPR Art. 18): nothing new is stored and no
    /// purpose-bound read returns the subject's data.
    pub fn is_restricted(&self) -> bool {
        self.restricted
    }

    /// Whether consent to `purpose` of `product` is in force.
    pub fn is_granted(&self, product: &str, purpose: &str) -> bool {
        self.consents.is_granted(product, purpose)
    }

    /// The consent to `purpose` of `product` in force, if granted, with the version it was
    /// given under.
    pub fn grant(&self, product: &str, purpose: &str) -> Option<Grant<'_>> {
        self.consents.grant(product, purpose)
    }

    /// Whether a decision about `purpose` of `product` was ever recorded.
    pub fn is_decided(&self, product: &str, purpose: &str) -> bool {
        self.consents.is_decided(product, purpose)
    }

    /// Whether `purpose` of `product` is objected to.
    pub fn is_objected(&self, product: &str, purpose: &str) -> bool {
        self.objections
            .iter()
            .any(|(p, x)| x == purpose && p.as_deref().is_none_or(|p| p == product))
    }

    /// Whether `purpose` of `product` may serve as a reason to collect or keep the subject's
    /// data (restriction aside).
    pub fn allows(&self, product: &str, purpose: &Purpose) -> bool {
        let id = purpose.id.as_str();
        is_available(
            purpose,
            self.is_granted(product, id),
            self.is_objected(product, id),
        )
    }

    /// Whether a read under `grant` may return this subject's data: not restricted, and the
    /// grant's purpose available for them.
    pub fn may_read(&self, grant: &ReadGrant<'_>) -> bool {
        let product = grant.manifest().product.id.as_str();
        !self.restricted && self.allows(product, grant.purpose())
    }

    /// What must be purged now: the fields of `manifest`, by stream, that no purpose still
    /// justifies for this subject (each purpose of the field objected to, or resting on
    /// consent not given). Order follows the manifest.
    pub fn to_purge(&self, manifest: &Manifest) -> Vec<(StreamId, Vec<FieldName>)> {
        let product = manifest.product.id.as_str();
        crate::purge::unjustified_fields(
            manifest,
            &|p: &PurposeId| self.is_granted(product, p.as_str()),
            &|p: &PurposeId| self.is_objected(product, p.as_str()),
        )
    }
}

/// The permissions of several subjects (a household and its members), by subject id. A
/// household has a handful of subjects, asked for every field at ingest: a list compared
/// by id is cheaper than hashing the id each time.
#[derive(Clone, Debug, Default)]
pub struct Permissions {
    by_subject: Vec<(SubjectId, SubjectPermissions)>,
}

impl Permissions {
    /// From the subjects with their consent histories and objections (records of subjects not
    /// listed are ignored).
    pub fn new(subjects: &[Subject], consents: &[ConsentRecord], objections: &[Objection]) -> Self {
        let by_subject = subjects
            .iter()
            .map(|s| {
                let p = SubjectPermissions::new(
                    s.restricted,
                    consents.iter().filter(|r| r.consent.subject == s.id),
                    objections.iter().filter(|o| o.subject == s.id),
                );
                (s.id.clone(), p)
            })
            .collect();
        Permissions { by_subject }
    }

    /// One subject's; `None` for a subject not included (erased, or of another household).
    pub fn of(&self, subject: &str) -> Option<&SubjectPermissions> {
        self.by_subject
            .iter()
            .find(|(id, _)| id.as_str() == subject)
            .map(|(_, p)| p)
    }

    /// The view admission takes for a batch from a device of `product`, whose consents
    /// cover every version (no version history known).
    pub fn for_product<'a>(&'a self, product: &'a str) -> ProductPermissions<'a> {
        ProductPermissions {
            permissions: self,
            product,
            lineage: None,
        }
    }

    /// The view admission takes for a batch from a device of `product` with its published
    /// versions: a consent covers what the version it was given under collected.
    pub fn for_product_versions<'a>(
        &'a self,
        product: &'a str,
        lineage: &'a Lineage,
    ) -> ProductPermissions<'a> {
        ProductPermissions {
            permissions: self,
            product,
            lineage: Some(lineage),
        }
    }
}

/// [`Permissions`] for one product: what [`crate::admit_batch`] asks about a batch's subjects.
#[derive(Clone, Copy, Debug)]
pub struct ProductPermissions<'a> {
    permissions: &'a Permissions,
    product: &'a str,
    lineage: Option<&'a Lineage>,
}

impl SubjectState for ProductPermissions<'_> {
    fn consented(&self, subject: &SubjectRef, purpose: &PurposeId) -> bool {
        subject
            .id()
            .and_then(|id| self.permissions.of(id))
            .is_some_and(|p| p.is_granted(self.product, purpose.as_str()))
    }

    fn version_covers(
        &self,
        subject: &SubjectRef,
        purpose: &PurposeId,
        stream: &StreamId,
        field: &FieldName,
    ) -> bool {
        let Some(lineage) = self.lineage else {
            return true;
        };
        let grant = subject
            .id()
            .and_then(|id| self.permissions.of(id))
            .and_then(|p| p.grant(self.product, purpose.as_str()));
        // Asked only of consents in force; with none, there is nothing to cover.
        grant.is_none_or(|g| lineage.covers(&g, purpose.as_str(), stream.as_str(), field.as_str()))
    }

    fn restricted(&self, subject: &SubjectRef) -> bool {
        // A subject the household does not know is treated as restricted: fail closed.
        subject
            .id()
            .is_some_and(|id| self.permissions.of(id).is_none_or(|p| p.is_restricted()))
    }

    fn objected(&self, subject: &SubjectRef, purpose: &PurposeId) -> bool {
        subject
            .id()
            .and_then(|id| self.permissions.of(id))
            .is_some_and(|p| p.is_objected(self.product, purpose.as_str()))
    }
}

#[cfg(test)]
mod tests;
