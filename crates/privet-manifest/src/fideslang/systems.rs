//! The fideslang systems: the product, and one per recipient, joined by data flows.

use super::document::{DataFlow, PrivacyDeclaration, PrivetMeta, System};
use super::values::{responsibility, transfer_basis};
use super::{ORGANIZATION, Sharing, base_declaration, categories_for, recipient_key};
use crate::model::{Manifest, OfflineSupport, Purpose, Recipient};
use crate::taxonomy;
use crate::vocab::SubjectKind;
use std::collections::BTreeSet;

/// A recipient in one phrase: its name, role and country.
pub(super) fn describe_recipient(recipient: &Recipient) -> String {
    let role = recipient
        .role
        .as_ref()
        .map_or("recipient", |r| r.value.as_str());
    match &recipient.country {
        Some(country) => format!("{} ({role}, {})", recipient.name.value, country.value),
        None => format!("{} ({role})", recipient.name.value),
    }
}

/// What a recipient system is, in a sentence.
fn recipient_description(manifest: &Manifest, recipient: &Recipient) -> String {
    let mut text = format!("Receives data from {}", manifest.product.name.value);
    if let Some(role) = &recipient.role {
        text.push_str(&format!(" as a {}", role.value));
    }
    if let Some(country) = &recipient.country {
        text.push_str(&format!(", in country {}", country.value));
    }
    text.push('.');
    text
}

/// Whether a recipient's country is outside the UK.
fn is_international(recipient: &Recipient) -> bool {
    recipient
        .country
        .as_ref()
        .is_some_and(|c| !matches!(c.value.trim().to_ascii_uppercase().as_str(), "GB" | "UK"))
}

pub(super) fn product_system(
    manifest: &Manifest,
    privacy_declarations: Vec<PrivacyDeclaration>,
    sharing: &Sharing<'_>,
) -> System {
    let product = &manifest.product;
    let product_key = product.id.as_str();
    let egress: Vec<DataFlow> = sharing
        .recipients
        .iter()
        .map(|(recipient, purposes)| DataFlow {
            fides_key: recipient_key(product_key, recipient),
            kind: "system",
            data_categories: union_categories(manifest, purposes),
        })
        .collect();
    let international: Vec<&Recipient> = sharing
        .recipients
        .iter()
        .map(|(r, _)| *r)
        .filter(|r| is_international(r))
        .collect();
    let transfer_bases: BTreeSet<String> = international
        .iter()
        .map(|r| transfer_basis(r.safeguard.as_ref().map(|s| s.value.as_str())))
        .collect();
    let personal = manifest
        .streams
        .iter()
        .any(|s| s.subject.value != SubjectKind::None)
        || manifest
            .fields()
            .any(|(_, f)| taxonomy::is_personal_category(&f.category.value));
    System {
        fides_key: product_key.to_owned(),
        organization_fides_key: ORGANIZATION,
        name: product.name.value.clone(),
        description: system_description(manifest),
        system_type: "Service",
        legal_name: Some(product.maker.value.clone()),
        responsibility: vec![responsibility(product.role())],
        dpo: product.privacy_contact.as_ref().map(|c| c.value.clone()),
        processes_personal_data: personal,
        does_international_transfers: !international.is_empty(),
        legal_basis_for_transfers: transfer_bases.into_iter().collect(),
        requires_data_protection_assessments: product.dpia.is_some(),
        dpa_location: product.dpia.as_ref().map(|d| d.value.clone()),
        egress: (!egress.is_empty()).then_some(egress),
        ingress: None,
        privacy_declarations,
        meta: Some(PrivetMeta {
            exported_by: "privet",
            manifest_version: product.version().to_owned(),
            audience: product.audience().as_str(),
            privacy_contact: product.privacy_contact.as_ref().map(|c| c.value.clone()),
            vulnerability_disclosure: product
                .vulnerability_disclosure
                .as_ref()
                .map(|v| v.value.clone()),
            disclosure_response_days: product.disclosure_response_days.as_ref().map(|d| d.value),
            works_offline: product.works_offline.as_ref().map(|w| match &w.value {
                OfflineSupport::Partial(what) => what.clone(),
                other => other.plain(),
            }),
        }),
    }
}

/// The product in a sentence or two, with the end of its security updates, which fideslang has
/// no field for (and which, alone in `meta`, a YAML 1.1 reader would turn into a date).
fn system_description(manifest: &Manifest) -> String {
    let product = &manifest.product;
    let mut text = format!(
        "{} by {}, as declared in its Privet privacy manifest (version {}).",
        product.name.value,
        product.maker.value,
        product.version()
    );
    if let Some(until) = &product.security_updates_until {
        text.push_str(&format!(" Security updates until {}.", until.value));
    }
    text
}

/// The system standing for a recipient: what it receives from the product, and why.
pub(super) fn recipient_system(
    manifest: &Manifest,
    recipient: &Recipient,
    purposes: &[&Purpose],
    product_key: &str,
) -> System {
    let role = recipient.role.as_ref().map(|r| r.value);
    let declarations = purposes
        .iter()
        .map(|purpose| PrivacyDeclaration {
            ingress: Some(vec![product_key.to_owned()]),
            ..base_declaration(manifest, purpose)
        })
        .collect();
    let international = is_international(recipient);
    System {
        fides_key: recipient_key(product_key, recipient),
        organization_fides_key: ORGANIZATION,
        name: recipient.name.value.clone(),
        description: recipient_description(manifest, recipient),
        system_type: "Third Party",
        legal_name: Some(recipient.name.value.clone()),
        responsibility: role.map(responsibility).into_iter().collect(),
        dpo: None,
        processes_personal_data: true,
        does_international_transfers: international,
        legal_basis_for_transfers: if international {
            vec![transfer_basis(
                recipient.safeguard.as_ref().map(|s| s.value.as_str()),
            )]
        } else {
            Vec::new()
        },
        requires_data_protection_assessments: false,
        dpa_location: None,
        egress: None,
        ingress: Some(vec![DataFlow {
            fides_key: product_key.to_owned(),
            kind: "system",
            data_categories: union_categories(manifest, purposes),
        }]),
        privacy_declarations: declarations,
        meta: None,
    }
}

/// The data categories of every field serving any of `purposes`, deduplicated and sorted.
fn union_categories(manifest: &Manifest, purposes: &[&Purpose]) -> Vec<String> {
    purposes
        .iter()
        .flat_map(|p| categories_for(manifest, p))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}
