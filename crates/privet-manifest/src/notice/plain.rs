//! Plain-language wording shared by the notice and the label: dates, countries, categories,
//! retention periods and the Art. 9 conditions.

use crate::model::{Field, RetentionSpec};
use crate::retention::Retention;
use crate::vocab::{Audience, Role, SpecialCondition, SubjectKind};
use jiff::civil::Date;

/// A date as people write it in the UK, e.g. "31 December 2031".
pub(crate) fn date(d: Date) -> String {
    d.strftime("%-d %B %Y").to_string()
}

/// ISO 3166 codes of countries people are likely to see, with their short English names.
const COUNTRIES: &[(&str, &str)] = &[
    ("GB", "United Kingdom"),
    ("UK", "United Kingdom"),
    ("IE", "Ireland"),
    ("FR", "France"),
    ("DE", "Germany"),
    ("NL", "Netherlands"),
    ("BE", "Belgium"),
    ("LU", "Luxembourg"),
    ("ES", "Spain"),
    ("PT", "Portugal"),
    ("IT", "Italy"),
    ("AT", "Austria"),
    ("CH", "Switzerland"),
    ("DK", "Denmark"),
    ("SE", "Sweden"),
    ("NO", "Norway"),
    ("FI", "Finland"),
    ("IS", "Iceland"),
    ("PL", "Poland"),
    ("CZ", "Czechia"),
    ("EE", "Estonia"),
    ("US", "United States"),
    ("CA", "Canada"),
    ("AU", "Australia"),
    ("NZ", "New Zealand"),
    ("JP", "Japan"),
    ("KR", "South Korea"),
    ("IN", "India"),
    ("SG", "Singapore"),
    ("IL", "Israel"),
    ("CN", "China"),
    ("TW", "Taiwan"),
    ("BR", "Brazil"),
];

/// A country's name from its ISO 3166 code, or the code itself when it is not in the list.
pub(crate) fn country(code: &str) -> String {
    let upper = code.trim().to_ascii_uppercase();
    COUNTRIES
        .iter()
        .find(|(c, _)| *c == upper)
        .map_or(upper, |(_, name)| (*name).to_owned())
}

/// Whether a country code is the UK.
pub(crate) fn is_uk(code: &str) -> bool {
    matches!(code.trim().to_ascii_uppercase().as_str(), "GB" | "UK")
}

/// A data category's name and one-line explanation in Privet's own words
/// ([`super::categories`]), or the key itself for a category outside the table.
pub(crate) fn category(key: &str) -> (String, String) {
    match super::categories::wording(key) {
        Some(w) => (w.name.to_owned(), w.explanation.to_owned()),
        None => (key.to_owned(), String::new()),
    }
}

/// Whose data a stream holds, in plain words: "your child" when the product is made for
/// children, since the person reading is then a parent.
pub(crate) fn whose(kind: SubjectKind, audience: Audience) -> &'static str {
    match (kind, audience) {
        (SubjectKind::Member, Audience::Children) => {
            "about your child: each child in the home has their own record"
        }
        (SubjectKind::Member, _) => "about you: each person in the home has their own record",
        (SubjectKind::Household, _) => "about your home as a whole, not about one person",
        (SubjectKind::None, _) => "not about any person",
    }
}

/// A data subject (`data_subjects` in a stream) in plain words, as a plural that can follow
/// "It may also capture other people:", e.g. `passerby` is "passers-by".
pub(crate) fn data_subject(key: &str) -> String {
    let words = match key {
        "child" => "children",
        "guest" => "guests",
        "visitor" => "visitors",
        "passerby" => "passers-by",
        "household" => "other households",
        "household_member" => "other people in the home",
        "anonymous_user" => "people who use it without an account",
        "citizen_voter" => "voters",
        "commuter" => "commuters",
        "consultant" => "consultants",
        "customer" => "customers",
        "employee" => "employees",
        "job_applicant" => "job applicants",
        "next_of_kin" => "next of kin",
        "passenger" => "passengers",
        "patient" => "patients",
        "prospect" => "possible customers",
        "shareholder" => "shareholders",
        "supplier_vendor" => "suppliers",
        "trainee" => "trainees",
        other => return other.replace('_', " "),
    };
    words.to_owned()
}

/// The sentences saying whom else a stream may capture, from its `data_subjects`. In a
/// product made for children the reader is a parent, so `child` is their child (and children
/// nearby), not "other people".
pub(crate) fn captures(data_subjects: &[&str], audience: Audience) -> Vec<String> {
    let for_children = audience == Audience::Children;
    let mut sentences = Vec::new();
    if for_children && data_subjects.contains(&"child") {
        sentences.push("It may capture your child and other children nearby.".to_owned());
    }
    let others: Vec<String> = data_subjects
        .iter()
        .filter(|d| !(for_children && **d == "child"))
        .map(|d| data_subject(d))
        .collect();
    if !others.is_empty() {
        sentences.push(format!(
            "It may also capture other people: {}.",
            crate::lint::and_list(others)
        ));
    }
    sentences
}

/// What a recipient may do with the data, in plain words.
pub(crate) fn recipient_role(role: Option<Role>) -> &'static str {
    match role {
        Some(Role::Processor) => "works for us and may use it only as we instruct",
        Some(Role::Controller) => "uses it for its own purposes",
        None => "may use it for its own purposes",
    }
}

/// An Art. 9 condition in plain words, with its article.
pub(crate) fn condition(c: SpecialCondition) -> (&'static str, &'static str) {
    match c {
        SpecialCondition::ExplicitConsent => {
            ("you gave your explicit consent", "UK GDPR Art. 9(2)(a)")
        }
        SpecialCondition::Employment => (
            "it is needed under employment or social security law",
            "UK GDPR Art. 9(2)(b)",
        ),
        SpecialCondition::VitalInterests => (
            "it protects someone's life when they cannot give consent",
            "UK GDPR Art. 9(2)(c)",
        ),
        SpecialCondition::NotForProfit => (
            "a not-for-profit body uses it for its own members",
            "UK GDPR Art. 9(2)(d)",
        ),
        SpecialCondition::MadePublic => (
            "you have clearly made it public yourself",
            "UK GDPR Art. 9(2)(e)",
        ),
        SpecialCondition::LegalClaims => ("it is needed for legal claims", "UK GDPR Art. 9(2)(f)"),
        SpecialCondition::SubstantialPublicInterest => (
            "the law allows it for reasons of substantial public interest",
            "UK GDPR Art. 9(2)(g)",
        ),
        SpecialCondition::HealthCare => (
            "it is needed for health or social care",
            "UK GDPR Art. 9(2)(h)",
        ),
        SpecialCondition::PublicHealth => {
            ("it is needed for public health", "UK GDPR Art. 9(2)(i)")
        }
        SpecialCondition::ArchivingResearch => (
            "it is needed for archiving, research or statistics in the public interest",
            "UK GDPR Art. 9(2)(j)",
        ),
    }
}

/// How long a field is kept, ordered from shortest to worst (unknown, then unlimited).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Keep {
    /// A bounded period (after `drop_after`).
    For(Retention),
    /// No retention, or one that could not be read.
    NotStated,
    /// `forever` or similar.
    NoLimit,
}

impl Keep {
    /// How long `field` is actually kept.
    pub(crate) fn of(field: &Field) -> Keep {
        match (
            field.effective_retention(),
            field.retention.as_ref().map(|r| &r.value),
        ) {
            (Some(r), _) => Keep::For(r),
            (None, Some(RetentionSpec::Unbounded(_))) => Keep::NoLimit,
            (None, _) => Keep::NotStated,
        }
    }

    /// The period in plain words.
    pub(crate) fn plain(self) -> String {
        match self {
            Keep::For(r) => r.plain(),
            Keep::NotStated => "not stated".to_owned(),
            Keep::NoLimit => "no time limit".to_owned(),
        }
    }

    /// Roughly how many days, `None` when not bounded.
    pub(crate) fn days(self) -> Option<u64> {
        match self {
            Keep::For(r) => Some(r.approx_days()),
            Keep::NotStated | Keep::NoLimit => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_read_the_uk_way() {
        let d: Date = "2031-12-31".parse().unwrap();
        assert_eq!(date(d), "31 December 2031");
        let d: Date = "2027-01-05".parse().unwrap();
        assert_eq!(date(d), "5 January 2027");
    }

    #[test]
    fn countries_have_names_and_unknown_codes_stay() {
        assert_eq!(country("us"), "United States");
        assert_eq!(country("GB"), "United Kingdom");
        assert_eq!(country("XX"), "XX");
        assert!(is_uk("gb") && is_uk("UK") && !is_uk("IE"));
    }

    #[test]
    fn category_names_are_privets_own_words() {
        assert_eq!(category("user.location.precise").0, "Exact location");
        assert_eq!(category("no.such.category").0, "no.such.category");
    }

    #[test]
    fn data_subjects_read_as_plain_plurals() {
        assert_eq!(data_subject("passerby"), "passers-by");
        assert_eq!(data_subject("child"), "children");
        assert_eq!(data_subject("some_new_kind"), "some new kind");
    }

    #[test]
    fn a_child_is_other_people_only_outside_a_childrens_product() {
        assert_eq!(
            captures(&["guest", "child"], Audience::All),
            ["It may also capture other people: guests and children."]
        );
        assert_eq!(
            captures(&["child", "visitor"], Audience::Children),
            [
                "It may capture your child and other children nearby.",
                "It may also capture other people: visitors."
            ]
        );
        assert!(captures(&[], Audience::Children).is_empty());
    }

    #[test]
    fn unknown_retention_sorts_after_any_period_and_before_no_limit() {
        let r = Retention::parse("10y").unwrap();
        assert!(Keep::For(r) < Keep::NotStated);
        assert!(Keep::NotStated < Keep::NoLimit);
    }
}
