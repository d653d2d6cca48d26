//! fideslang's enumerated values (its `*Enum` classes in `fideslang.models`) for Privet's
//! vocabularies: lawful bases, special category conditions, transfer safeguards and roles.

use crate::vocab::{LawfulBasis, Role, SpecialCondition};

/// fideslang's `LegalBasisForProcessingEnum` value for a UK GDPR Art. 6 basis.
pub(super) fn legal_basis(basis: LawfulBasis) -> &'static str {
    match basis {
        LawfulBasis::Consent => "Consent",
        LawfulBasis::Contract => "Contract",
        LawfulBasis::LegalObligation => "Legal obligations",
        LawfulBasis::VitalInterests => "Vital interests",
        LawfulBasis::PublicTask => "Public interest",
        LawfulBasis::LegitimateInterests => "Legitimate interests",
    }
}

/// fideslang's `SpecialCategoryLegalBasisEnum` value for a UK GDPR Art. 9(2) condition.
pub(super) fn special_category_basis(condition: SpecialCondition) -> &'static str {
    match condition {
        SpecialCondition::ExplicitConsent => "Explicit consent",
        SpecialCondition::Employment => "Employment, social security and social protection",
        SpecialCondition::VitalInterests => "Vital interests",
        SpecialCondition::NotForProfit => "Not-for-profit bodies",
        SpecialCondition::MadePublic => "Made public by the data subject",
        SpecialCondition::LegalClaims => "Legal claims or judicial acts",
        SpecialCondition::SubstantialPublicInterest => {
            "Reasons of substantial public interest (with a basis in law)"
        }
        SpecialCondition::HealthCare => "Health or social care (with a basis in law)",
        SpecialCondition::PublicHealth => "Public health (with a basis in law)",
        SpecialCondition::ArchivingResearch => {
            "Archiving, research and statistics (with a basis in law)"
        }
    }
}

/// fideslang's `legal_basis_for_transfers` entry for a manifest's transfer `safeguard`: the
/// real instrument (see [`crate::safeguard::fideslang_name`]); fideslang does not restrict
/// this field to its `LegalBasisForTransfersEnum`.
pub(super) fn transfer_basis(safeguard: Option<&str>) -> String {
    crate::safeguard::fideslang_name(safeguard)
}

/// fideslang's `DataResponsibilityTitle` for a role.
pub(super) fn responsibility(role: Role) -> &'static str {
    match role {
        Role::Controller => "Controller",
        Role::Processor => "Processor",
    }
}
