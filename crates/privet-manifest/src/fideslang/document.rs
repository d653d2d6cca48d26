//! The fideslang 3.x resources the export writes, as serde structs mirroring
//! `fideslang.models` (`System`, `PrivacyDeclaration`, `DataFlow`, `DataCategory`, `DataUse`,
//! `DataSubject`). Fields fideslang defaults are left out unless Privet knows a better value.

use serde::Serialize;

/// A fideslang manifest file: resources keyed by type, as `fideslang.Taxonomy` reads it.
#[derive(Debug, Serialize)]
pub(super) struct Document {
    /// Privet extension categories the manifest uses (fideslang's own are not repeated).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(super) data_category: Vec<TaxonomyEntry>,
    /// Privet extension data uses the manifest uses.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(super) data_use: Vec<TaxonomyEntry>,
    /// Privet extension data subjects the manifest uses.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(super) data_subject: Vec<TaxonomyEntry>,
    /// The product first, then one system per recipient.
    pub(super) system: Vec<System>,
}

/// A custom `DataCategory`, `DataUse` or `DataSubject`.
#[derive(Debug, Serialize)]
pub(super) struct TaxonomyEntry {
    pub(super) fides_key: String,
    pub(super) organization_fides_key: &'static str,
    pub(super) name: String,
    pub(super) description: String,
    /// fideslang requires it to be the key minus its last segment; subjects have none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) parent_key: Option<String>,
    /// Not part of fideslang's default taxonomy (and so, by its rules, unversioned).
    pub(super) is_default: bool,
}

/// A fideslang `System`.
#[derive(Debug, Serialize)]
pub(super) struct System {
    pub(super) fides_key: String,
    pub(super) organization_fides_key: &'static str,
    pub(super) name: String,
    pub(super) description: String,
    pub(super) system_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) legal_name: Option<String>,
    pub(super) responsibility: Vec<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) dpo: Option<String>,
    pub(super) processes_personal_data: bool,
    pub(super) does_international_transfers: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(super) legal_basis_for_transfers: Vec<String>,
    pub(super) requires_data_protection_assessments: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) dpa_location: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) egress: Option<Vec<DataFlow>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) ingress: Option<Vec<DataFlow>>,
    pub(super) privacy_declarations: Vec<PrivacyDeclaration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) meta: Option<PrivetMeta>,
}

/// What the manifest says that fideslang has no field for, kept in `System.meta`.
#[derive(Debug, Serialize)]
pub(super) struct PrivetMeta {
    pub(super) exported_by: &'static str,
    pub(super) manifest_version: String,
    pub(super) audience: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) privacy_contact: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) vulnerability_disclosure: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) disclosure_response_days: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) works_offline: Option<String>,
}

/// A fideslang `DataFlow`: another system data goes to or comes from.
#[derive(Debug, Serialize)]
pub(super) struct DataFlow {
    pub(super) fides_key: String,
    /// Always `"system"` here.
    #[serde(rename = "type")]
    pub(super) kind: &'static str,
    pub(super) data_categories: Vec<String>,
}

/// A fideslang `PrivacyDeclaration`: one purpose of a system.
#[derive(Debug, Serialize)]
pub(super) struct PrivacyDeclaration {
    pub(super) name: String,
    pub(super) data_use: String,
    pub(super) data_categories: Vec<String>,
    pub(super) data_subjects: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) egress: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) ingress: Option<Vec<String>>,
    /// The manifest fixes the basis; a privacy notice may not swap it.
    pub(super) flexible_legal_basis_for_processing: bool,
    pub(super) legal_basis_for_processing: &'static str,
    /// The longest time any data kept for this purpose is held, in days.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) retention_period: Option<String>,
    pub(super) processes_special_category_data: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) special_category_legal_basis: Option<&'static str>,
    pub(super) data_shared_with_third_parties: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) third_parties: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(super) shared_categories: Vec<String>,
}
