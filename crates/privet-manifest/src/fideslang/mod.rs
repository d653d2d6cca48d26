//! Export of a manifest as a fideslang `System` with privacy declarations (YAML).
//!
//! The output is one fideslang 3.x manifest file: the product as a `system` with one privacy
//! declaration per purpose, one more `system` per recipient (joined by `egress`/`ingress` data
//! flows), and the Privet extension categories, uses and data subjects the manifest uses as
//! custom `data_category`/`data_use`/`data_subject` resources, so the file is self-contained.
//! `tests/fideslang/validate.py` checks it with the `fideslang` Python package.

mod custom;
mod document;
mod systems;
mod values;
mod yaml;

use crate::ids::PurposeId;
use crate::model::{Field, Manifest, Purpose, Recipient, Stream};
use crate::retention::Retention;
use crate::span::Span;
use crate::taxonomy::{self, ATTRIBUTION, Kind, Taxonomy};
use crate::vocab::SubjectKind;
use custom::CustomEntries;
use document::{Document, PrivacyDeclaration};
use std::collections::BTreeSet;
use systems::{describe_recipient, product_system, recipient_system};
use values::{legal_basis, special_category_basis};

/// Every resource belongs to fideslang's default organisation, which fideslang always knows.
const ORGANIZATION: &str = "default_organization";

/// Why a manifest cannot be exported.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A data category, data use or data subject that neither fideslang nor Privet defines.
    #[error("{what} `{key}` is not in the fideslang taxonomy or Privet's extension")]
    UnknownTaxonomyKey {
        /// `data category`, `data use` or `data subject`.
        what: &'static str,
        /// The unknown key.
        key: String,
        /// Where the manifest names it.
        span: Span,
    },
    /// A field or recipient names a purpose the manifest does not define.
    #[error("purpose `{purpose}` is not defined under [purposes]")]
    UndefinedPurpose {
        /// The purpose key.
        purpose: String,
        /// Where the manifest names it.
        span: Span,
    },
    /// A purpose names a recipient the manifest does not define.
    #[error("recipient `{recipient}` is not defined under [recipients]")]
    UndefinedRecipient {
        /// The recipient key.
        recipient: String,
        /// Where the manifest names it.
        span: Span,
    },
    /// The YAML writer failed.
    #[error("could not write fideslang YAML: {0}")]
    Yaml(#[from] serde_norway::Error),
    /// The JSON writer (used when YAML 1.1 readers would misread a value) failed.
    #[error("could not write fideslang JSON: {0}")]
    Json(#[from] serde_json::Error),
}

impl Error {
    /// Where in the manifest the problem is, when it is in the manifest.
    pub fn span(&self) -> Option<Span> {
        match self {
            Error::UnknownTaxonomyKey { span, .. }
            | Error::UndefinedPurpose { span, .. }
            | Error::UndefinedRecipient { span, .. } => Some(*span),
            Error::Yaml(_) | Error::Json(_) => None,
        }
    }
}

/// Exports `manifest` as a fideslang YAML document, with the taxonomy attribution on top.
///
/// The document is block YAML, or JSON (which is also YAML) in the rare case where a value
/// would otherwise be misread by YAML 1.1 readers such as PyYAML, which fideslang uses.
pub fn export(manifest: &Manifest) -> Result<String, Error> {
    let document = document(manifest)?;
    let yaml = yaml::to_string(&document)?;
    Ok(format!(
        "# fideslang export of a Privet privacy manifest (`privet manifest export --format fideslang`).\n# {ATTRIBUTION}\n{yaml}"
    ))
}

/// Builds the fideslang resources for `manifest`.
fn document(manifest: &Manifest) -> Result<Document, Error> {
    check_references(manifest)?;
    let taxonomy = Taxonomy::get();
    let product_key = manifest.product.id.as_str().to_owned();
    let sharing = Sharing::of(manifest);

    let mut declarations = Vec::new();
    for purpose in &manifest.purposes {
        declarations.push(declaration(manifest, purpose, &sharing, &product_key));
    }
    let mut custom = CustomEntries::default();
    for (stream, field) in manifest.fields() {
        custom.add(
            taxonomy,
            Kind::Category,
            &field.category.value,
            field.category.span,
        )?;
        for subject in &stream.data_subjects {
            custom.add(taxonomy, Kind::Subject, &subject.value, subject.span)?;
        }
        if let Some(subject) = member_subject(stream.subject.value) {
            custom.add(taxonomy, Kind::Subject, subject, stream.subject.span)?;
        }
    }
    for purpose in &manifest.purposes {
        custom.add(
            taxonomy,
            Kind::Use,
            &purpose.data_use.value,
            purpose.data_use.span,
        )?;
    }

    let mut systems = vec![product_system(manifest, declarations, &sharing)];
    for (recipient, purposes) in &sharing.recipients {
        systems.push(recipient_system(
            manifest,
            recipient,
            purposes,
            &product_key,
        ));
    }
    Ok(Document {
        data_category: custom.entries(taxonomy, Kind::Category),
        data_use: custom.entries(taxonomy, Kind::Use),
        data_subject: custom.entries(taxonomy, Kind::Subject),
        system: systems,
    })
}

/// Fails on a purpose or recipient that is named but not defined: exporting around it would
/// leave a purpose or a recipient out of the record without saying so.
fn check_references(manifest: &Manifest) -> Result<(), Error> {
    let purpose_refs = manifest
        .streams
        .iter()
        .flat_map(|s| s.fields.iter())
        .flat_map(|f| f.purposes.iter())
        .chain(manifest.recipients.iter().flat_map(|r| r.purposes.iter()));
    for p in purpose_refs {
        if manifest.purpose(p.as_str()).is_none() {
            return Err(Error::UndefinedPurpose {
                purpose: p.as_str().to_owned(),
                span: p.span,
            });
        }
    }
    for r in manifest.purposes.iter().flat_map(|p| p.recipients.iter()) {
        if manifest.recipient(r.as_str()).is_none() {
            return Err(Error::UndefinedRecipient {
                recipient: r.as_str().to_owned(),
                span: r.span,
            });
        }
    }
    Ok(())
}

/// Which recipients receive data for which purposes, from both sides of the manifest
/// (`purposes.X.recipients` and `recipients.X.purposes`).
struct Sharing<'a> {
    /// Recipients that receive something, in manifest order, each with its purposes.
    recipients: Vec<(&'a Recipient, Vec<&'a Purpose>)>,
}

impl<'a> Sharing<'a> {
    fn of(manifest: &'a Manifest) -> Self {
        let mut recipients = Vec::new();
        for recipient in &manifest.recipients {
            let purposes: Vec<&Purpose> = manifest
                .purposes
                .iter()
                .filter(|p| {
                    p.recipients
                        .iter()
                        .any(|r| r.as_str() == recipient.id.as_str())
                        || recipient
                            .purposes
                            .iter()
                            .any(|q| q.as_str() == p.id.as_str())
                })
                .collect();
            if !purposes.is_empty() {
                recipients.push((recipient, purposes));
            }
        }
        Sharing { recipients }
    }

    /// The recipients that receive data for `purpose`, in manifest order.
    fn recipients_of(&self, purpose: &PurposeId) -> Vec<&'a Recipient> {
        self.recipients
            .iter()
            .filter(|(_, ps)| ps.iter().any(|p| p.id.value == *purpose))
            .map(|(r, _)| *r)
            .collect()
    }
}

/// The fideslang key of the system standing for `recipient`.
fn recipient_key(product_key: &str, recipient: &Recipient) -> String {
    format!("{product_key}--{}", recipient.id.as_str())
}

/// The fields serving `purpose`, with their streams.
fn fields_for<'a>(
    manifest: &'a Manifest,
    purpose: &'a Purpose,
) -> impl Iterator<Item = (&'a Stream, &'a Field)> {
    manifest
        .fields()
        .filter(move |(_, f)| f.purposes.iter().any(|p| p.value == purpose.id.value))
}

/// The data categories of the fields serving `purpose`, deduplicated and sorted.
fn categories_for(manifest: &Manifest, purpose: &Purpose) -> Vec<String> {
    fields_for(manifest, purpose)
        .map(|(_, f)| f.category.value.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// The data subjects whose data serves `purpose`, deduplicated and sorted.
fn subjects_for(manifest: &Manifest, purpose: &Purpose) -> Vec<String> {
    let mut subjects = BTreeSet::new();
    for (stream, _) in fields_for(manifest, purpose) {
        if let Some(s) = member_subject(stream.subject.value) {
            subjects.insert(s.to_owned());
        }
        subjects.extend(stream.data_subjects.iter().map(|s| s.value.clone()));
    }
    subjects.into_iter().collect()
}

/// The Privet data subject for a stream's `subject`; `none` streams hold no one's data.
fn member_subject(kind: SubjectKind) -> Option<&'static str> {
    match kind {
        SubjectKind::Member => Some("household_member"),
        SubjectKind::Household => Some("household"),
        SubjectKind::None => None,
    }
}

/// The longest time any field serving `purpose` is kept, in whole days rounded up, as
/// fideslang's `retention_period` (which Fides shows as a number of days).
fn retention_days(manifest: &Manifest, purpose: &Purpose) -> Option<String> {
    fields_for(manifest, purpose)
        .filter_map(|(_, f)| f.effective_retention())
        .max()
        .map(|r: Retention| r.approx_hours().div_ceil(24).to_string())
}

/// What the product's and the recipients' declarations for `purpose` have in common.
fn base_declaration(manifest: &Manifest, purpose: &Purpose) -> PrivacyDeclaration {
    let categories = categories_for(manifest, purpose);
    PrivacyDeclaration {
        name: purpose.id.as_str().to_owned(),
        data_use: purpose.data_use.value.clone(),
        data_subjects: subjects_for(manifest, purpose),
        egress: None,
        ingress: None,
        flexible_legal_basis_for_processing: false,
        legal_basis_for_processing: legal_basis(purpose.basis.value),
        retention_period: None,
        processes_special_category_data: categories
            .iter()
            .any(|c| taxonomy::is_special_category(c)),
        special_category_legal_basis: purpose
            .special_category_condition
            .as_ref()
            .map(|c| special_category_basis(c.value)),
        data_shared_with_third_parties: false,
        third_parties: None,
        shared_categories: Vec::new(),
        data_categories: categories,
    }
}

/// The product's declaration for `purpose`: how long it keeps the data and who else gets it.
fn declaration(
    manifest: &Manifest,
    purpose: &Purpose,
    sharing: &Sharing<'_>,
    product_key: &str,
) -> PrivacyDeclaration {
    let mut declaration = base_declaration(manifest, purpose);
    declaration.retention_period = retention_days(manifest, purpose);
    let recipients = sharing.recipients_of(&purpose.id.value);
    if !recipients.is_empty() {
        declaration.egress = Some(
            recipients
                .iter()
                .map(|r| recipient_key(product_key, r))
                .collect(),
        );
        declaration.data_shared_with_third_parties = true;
        declaration.third_parties = Some(
            recipients
                .iter()
                .map(|r| describe_recipient(r))
                .collect::<Vec<_>>()
                .join("; "),
        );
        declaration.shared_categories = declaration.data_categories.clone();
    }
    declaration
}

#[cfg(test)]
mod tests;
