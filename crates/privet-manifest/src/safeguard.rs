//! Transfer safeguards (UK GDPR Chapter V) in words: the one place that turns a manifest's
//! `safeguard = "idta"` into what people and exports read, so the notice, the label, the web
//! pages and the fideslang export all name the same instrument.

/// A safeguard as written in a manifest, read case- and punctuation-insensitively.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Known {
    /// UK adequacy regulations (UK GDPR Art. 45, DPA 2018 s.17A).
    Adequacy,
    /// The ICO's International Data Transfer Agreement.
    Idta,
    /// The ICO's UK Addendum to the EU standard contractual clauses.
    Addendum,
    /// Binding corporate rules (Art. 47).
    Bcrs,
    /// Standard contractual clauses, not otherwise named.
    Sccs,
}

fn known(safeguard: &str) -> Option<Known> {
    let normalised = safeguard
        .trim()
        .to_ascii_lowercase()
        .replace(['-', ' '], "_");
    Some(match normalised.as_str() {
        "uk_adequacy" | "adequacy" | "adequacy_decision" | "adequacy_regulations" => {
            Known::Adequacy
        }
        "idta" | "uk_idta" => Known::Idta,
        "uk_addendum" | "addendum" => Known::Addendum,
        "bcr" | "bcrs" => Known::Bcrs,
        "scc" | "sccs" => Known::Sccs,
        _ => return None,
    })
}

/// The safeguard in words, to follow "protected by": `idta` is "the UK International Data
/// Transfer Agreement". A safeguard Privet does not know is given as written.
pub fn in_words(safeguard: &str) -> String {
    match known(safeguard) {
        Some(Known::Adequacy) => "UK adequacy regulations".to_owned(),
        Some(Known::Idta) => "the UK International Data Transfer Agreement".to_owned(),
        Some(Known::Addendum) => {
            "the UK Addendum to the EU standard contractual clauses".to_owned()
        }
        Some(Known::Bcrs) => "binding corporate rules".to_owned(),
        Some(Known::Sccs) => "standard contractual clauses".to_owned(),
        None => safeguard.trim().to_owned(),
    }
}

/// The safeguard for fideslang's `legal_basis_for_transfers`, which takes any text: its own
/// enum value where one names the same thing (`Adequacy Decision`, `BCRs`), else the
/// instrument's own name, never a broader one (the IDTA is not the EU's SCCs).
pub fn fideslang_name(safeguard: Option<&str>) -> String {
    let Some(s) = safeguard.filter(|s| !s.trim().is_empty()) else {
        return "Other".to_owned();
    };
    match known(s) {
        Some(Known::Adequacy) => "Adequacy Decision".to_owned(),
        Some(Known::Bcrs) => "BCRs".to_owned(),
        Some(Known::Sccs) => "SCCs".to_owned(),
        Some(Known::Idta) => "UK International Data Transfer Agreement".to_owned(),
        Some(Known::Addendum) => "UK Addendum to the EU Standard Contractual Clauses".to_owned(),
        None => s.trim().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safeguards_read_as_words() {
        assert_eq!(
            in_words("idta"),
            "the UK International Data Transfer Agreement"
        );
        assert_eq!(
            in_words("uk_addendum"),
            "the UK Addendum to the EU standard contractual clauses"
        );
        assert_eq!(in_words("UK-Adequacy"), "UK adequacy regulations");
        assert_eq!(in_words("bcrs"), "binding corporate rules");
        assert_eq!(in_words(" our own clauses "), "our own clauses");
    }

    #[test]
    fn fideslang_keeps_the_real_instrument() {
        assert_eq!(
            fideslang_name(Some("idta")),
            "UK International Data Transfer Agreement"
        );
        assert_eq!(fideslang_name(Some("uk_adequacy")), "Adequacy Decision");
        assert_eq!(fideslang_name(Some("BCRs")), "BCRs");
        assert_eq!(fideslang_name(None), "Other");
    }
}
