//! The Privet extension entries (categories, uses, subjects) a manifest uses, exported as
//! custom fideslang resources so that the file is self-contained.

use super::document::TaxonomyEntry;
use super::{Error, ORGANIZATION};
use crate::span::Span;
use crate::taxonomy::{self, Kind, Taxonomy};
use std::collections::BTreeSet;

/// The Privet extension entries a manifest uses, with their Privet ancestors.
#[derive(Default)]
pub(super) struct CustomEntries {
    categories: BTreeSet<String>,
    uses: BTreeSet<String>,
    subjects: BTreeSet<String>,
}

impl CustomEntries {
    fn set(&mut self, kind: Kind) -> &mut BTreeSet<String> {
        match kind {
            Kind::Category => &mut self.categories,
            Kind::Use => &mut self.uses,
            Kind::Subject => &mut self.subjects,
        }
    }

    /// Records `key` if it is a Privet entry; fails if the taxonomy does not know it.
    pub(super) fn add(
        &mut self,
        taxonomy: &Taxonomy,
        kind: Kind,
        key: &str,
        span: Span,
    ) -> Result<(), Error> {
        let list = taxonomy.list(kind);
        let Some(mut entry) = list.get(key) else {
            return Err(Error::UnknownTaxonomyKey {
                what: match kind {
                    Kind::Category => "data category",
                    Kind::Use => "data use",
                    Kind::Subject => "data subject",
                },
                key: key.to_owned(),
                span,
            });
        };
        // Walk up while the entries are Privet's, so every custom parent is exported too.
        while entry.origin == taxonomy::Origin::Privet {
            if !self.set(kind).insert(entry.key.clone()) {
                break;
            }
            match entry.parent.as_deref().and_then(|p| list.get(p)) {
                Some(parent) => entry = parent,
                None => break,
            }
        }
        Ok(())
    }

    /// The recorded entries of `kind` as fideslang resources, parents before children.
    pub(super) fn entries(&self, taxonomy: &Taxonomy, kind: Kind) -> Vec<TaxonomyEntry> {
        let keys = match kind {
            Kind::Category => &self.categories,
            Kind::Use => &self.uses,
            Kind::Subject => &self.subjects,
        };
        let list = taxonomy.list(kind);
        keys.iter()
            .filter_map(|k| list.get(k))
            .map(|e| TaxonomyEntry {
                fides_key: e.key.clone(),
                organization_fides_key: ORGANIZATION,
                name: e.name.clone(),
                description: e.description.clone(),
                parent_key: e.parent.clone(),
                is_default: false,
            })
            .collect()
    }
}
