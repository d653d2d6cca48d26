//! The words a record of processing uses for the manifest's codes: transfer safeguards, lawful
//! bases, Art. 9 conditions, origins and the people a stream captures. Written for a DPO, in
//! the third person (the notice speaks to "you").

use crate::notice::plain;
use crate::taxonomy::Taxonomy;
use crate::vocab::{LawfulBasis, Origin, SpecialCondition};

/// A transfer safeguard in words, e.g. `idta` → "the UK International Data Transfer
/// Agreement"; an unknown code is quoted as written.
pub(super) fn safeguard(code: &str) -> String {
    let words = match code.trim().to_ascii_lowercase().as_str() {
        "idta" | "uk_idta" => "the UK International Data Transfer Agreement",
        "uk_addendum" | "addendum" => "the UK Addendum to the EU standard contractual clauses",
        "uk_adequacy" | "adequacy" | "adequacy_regulations" => "UK adequacy regulations",
        "bcrs" | "bcr" => "binding corporate rules",
        _ => return format!("\"{code}\" (not a safeguard Privet knows)"),
    };
    words.to_owned()
}

/// A lawful basis's name, e.g. "Legitimate interests".
pub(super) fn basis(b: LawfulBasis) -> &'static str {
    match b {
        LawfulBasis::Consent => "Consent",
        LawfulBasis::Contract => "Contract",
        LawfulBasis::LegalObligation => "Legal obligation",
        LawfulBasis::VitalInterests => "Vital interests",
        LawfulBasis::PublicTask => "Public task",
        LawfulBasis::LegitimateInterests => "Legitimate interests",
    }
}

/// An Art. 9 condition's name and article, e.g. "Explicit consent (UK GDPR Art. 9(2)(a))".
pub(super) fn condition(c: SpecialCondition) -> String {
    let name = match c {
        SpecialCondition::ExplicitConsent => "Explicit consent",
        SpecialCondition::Employment => "Employment, social security and social protection law",
        SpecialCondition::VitalInterests => "Vital interests",
        SpecialCondition::NotForProfit => "Not-for-profit bodies",
        SpecialCondition::MadePublic => "Made public by the data subject",
        SpecialCondition::LegalClaims => "Legal claims",
        SpecialCondition::SubstantialPublicInterest => "Reasons of substantial public interest",
        SpecialCondition::HealthCare => "Health or social care",
        SpecialCondition::PublicHealth => "Public health",
        SpecialCondition::ArchivingResearch => "Archiving, research and statistics",
    };
    format!("{name} ({})", plain::condition(c).1)
}

/// Where data comes from, for a register.
pub(super) fn origin(o: Origin) -> &'static str {
    match o {
        Origin::Sensor => "Measured by the device's sensors",
        Origin::Provided => "Provided by the person (typed, set or said)",
        Origin::Observed => "Observed from how the device or app is used",
        Origin::Inferred => "Inferred from other data",
        Origin::ThirdParty => "Received from a third party",
    }
}

/// The people a fideslang data subject key names, in the plural, e.g. `passerby` →
/// "Passers-by"; other keys take the taxonomy's name, or the key itself.
pub(super) fn people(key: &str) -> String {
    let words = match key {
        "visitor" => "Visitors",
        "passerby" => "Passers-by",
        "guest" => "Guests",
        "child" => "Children",
        "household_member" => "Household members",
        "household" => "Households",
        "customer" => "Customers",
        "employee" => "Employees",
        "anonymous_user" => "Anonymous users",
        _ => {
            return Taxonomy::get()
                .subjects
                .get(key)
                .filter(|e| !e.name.is_empty())
                .map_or_else(|| key.to_owned(), |e| e.name.clone());
        }
    };
    words.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safeguards_are_named_in_words() {
        assert_eq!(
            safeguard("idta"),
            "the UK International Data Transfer Agreement"
        );
        assert_eq!(
            safeguard("uk_addendum"),
            "the UK Addendum to the EU standard contractual clauses"
        );
        assert_eq!(safeguard("uk_adequacy"), "UK adequacy regulations");
        assert_eq!(safeguard("bcrs"), "binding corporate rules");
        assert!(safeguard("handshake").contains("\"handshake\""));
    }

    #[test]
    fn people_are_plural_and_unknown_keys_stay() {
        assert_eq!(people("passerby"), "Passers-by");
        assert_eq!(people("patient"), "Patient");
        assert_eq!(people("no_such_people"), "no_such_people");
    }

    #[test]
    fn conditions_carry_their_article() {
        assert_eq!(
            condition(SpecialCondition::ExplicitConsent),
            "Explicit consent (UK GDPR Art. 9(2)(a))"
        );
    }
}
