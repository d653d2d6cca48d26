//! Privet's own plain-English (en-GB) names and one-line explanations of data categories,
//! for notices and labels: what a parent reads, not the taxonomy's definitions.
//!
//! fideslang's names and descriptions are written for data engineers ("subject is whole or
//! partially recognized", US spelling). This table says the same in words people use, in
//! British spelling, and without "you", so it reads right whoever the data is about. A
//! category not in the table takes the wording of its nearest ancestor that is.

/// Wording of one data category.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CategoryWording {
    /// The taxonomy key, e.g. `user.sensor.audio`.
    pub key: &'static str,
    /// A short name, e.g. "Sound recordings".
    pub name: &'static str,
    /// One sentence saying what it covers.
    pub explanation: &'static str,
}

const fn w(key: &'static str, name: &'static str, explanation: &'static str) -> CategoryWording {
    CategoryWording {
        key,
        name,
        explanation,
    }
}

/// Every category Privet has its own words for, in taxonomy order.
pub const CATEGORY_WORDING: &[CategoryWording] = &[
    w(
        "user",
        "Personal information",
        "Information about a person.",
    ),
    w(
        "user.account",
        "Account details",
        "The details of an account with the maker.",
    ),
    w(
        "user.account.settings",
        "Account settings",
        "The choices made in an account's settings.",
    ),
    w(
        "user.account.username",
        "User name",
        "The name used to sign in.",
    ),
    w(
        "user.authorization",
        "Sign-in details",
        "What is used to sign in and prove who someone is.",
    ),
    w(
        "user.authorization.credentials",
        "Sign-in details",
        "Passwords and codes used to sign in.",
    ),
    w(
        "user.authorization.password",
        "Password",
        "The password used to sign in, stored scrambled.",
    ),
    w(
        "user.authorization.biometric",
        "Fingerprint or face sign-in",
        "A fingerprint or face used to unlock an account or device.",
    ),
    w(
        "user.behavior",
        "What happens at home",
        "What people do, and when, as a device notices it.",
    ),
    w(
        "user.behavior.browsing_history",
        "Browsing history",
        "Web pages visited.",
    ),
    w(
        "user.behavior.media_consumption",
        "What is watched or listened to",
        "Music, radio and programmes played.",
    ),
    w(
        "user.behavior.purchase_history",
        "Purchases",
        "What has been bought.",
    ),
    w(
        "user.behavior.search_history",
        "Searches",
        "What has been searched for.",
    ),
    w(
        "user.behavior.presence",
        "Who is at home",
        "Whether someone is at home, or in a room.",
    ),
    w(
        "user.behavior.device_usage",
        "How the product is used",
        "Which features are used, and when.",
    ),
    w(
        "user.behavior.consumption",
        "Food and supplies",
        "What goes into and out of the home, such as food in the fridge.",
    ),
    w(
        "user.biometric",
        "Body measurements that identify someone",
        "Features of a person's body, such as a face print, that can tell who they are.",
    ),
    w(
        "user.biometric.fingerprint",
        "Fingerprints",
        "A fingerprint, or a code made from one.",
    ),
    w(
        "user.biometric.retinal",
        "Eye scans",
        "A scan of the iris or retina of an eye.",
    ),
    w(
        "user.biometric.voice",
        "Voice prints",
        "A record of what a voice sounds like, used to tell who is speaking.",
    ),
    w(
        "user.biometric.health",
        "Body readings",
        "Readings of the body, such as heart rate, that can tell who someone is.",
    ),
    w(
        "user.childrens",
        "Information about children",
        "Information about a child.",
    ),
    w("user.contact", "Contact details", "How to reach someone."),
    w("user.contact.address", "Home address", "A postal address."),
    w(
        "user.contact.address.city",
        "Town or city",
        "The town or city of an address.",
    ),
    w(
        "user.contact.address.country",
        "Country",
        "The country of an address.",
    ),
    w(
        "user.contact.address.postal_code",
        "Postcode",
        "The postcode of an address.",
    ),
    w(
        "user.contact.address.state",
        "County or region",
        "The county or region of an address.",
    ),
    w(
        "user.contact.address.street",
        "Street address",
        "The house and street of an address.",
    ),
    w("user.contact.email", "Email address", "An email address."),
    w(
        "user.contact.phone_number",
        "Phone number",
        "A phone number.",
    ),
    w("user.contact.url", "Website", "A personal website address."),
    w("user.contact.fax_number", "Fax number", "A fax number."),
    w(
        "user.contact.organization",
        "Organisation",
        "The organisation someone belongs to.",
    ),
    w(
        "user.content",
        "Things people make or say",
        "Messages, pictures and requests that people create.",
    ),
    w(
        "user.content.private",
        "Private messages and requests",
        "Words spoken or typed to the product, kept private.",
    ),
    w(
        "user.content.public",
        "Things shared publicly",
        "Posts and pictures people choose to share publicly.",
    ),
    w(
        "user.content.self_image",
        "Pictures of people",
        "Photos or videos in which a person can be seen.",
    ),
    w(
        "user.demographic",
        "Personal background",
        "Facts such as age group, gender or language.",
    ),
    w(
        "user.demographic.age_range",
        "Age group",
        "Roughly how old someone is.",
    ),
    w(
        "user.demographic.date_of_birth",
        "Date of birth",
        "The day someone was born.",
    ),
    w("user.demographic.gender", "Gender", "A person's gender."),
    w(
        "user.demographic.language",
        "Language",
        "The language someone uses.",
    ),
    w(
        "user.demographic.marital_status",
        "Marital status",
        "Whether someone is married or in a civil partnership.",
    ),
    w(
        "user.demographic.political_opinion",
        "Political views",
        "What someone thinks about politics.",
    ),
    w(
        "user.demographic.profile",
        "Profile",
        "What a person has told the product about themselves.",
    ),
    w(
        "user.demographic.race_ethnicity",
        "Ethnic origin",
        "A person's race or ethnic origin.",
    ),
    w(
        "user.demographic.religious_belief",
        "Religion or beliefs",
        "A person's religion or beliefs.",
    ),
    w(
        "user.demographic.sexual_orientation",
        "Sexual orientation",
        "Who someone is attracted to.",
    ),
    w(
        "user.device",
        "Device settings",
        "How a device is set up, and the choices made in its app.",
    ),
    w(
        "user.device.cookie",
        "Cookies",
        "Small files an app or website stores on a device.",
    ),
    w(
        "user.device.cookie_id",
        "Cookie code",
        "A code in a cookie that tells one device from another.",
    ),
    w(
        "user.device.device_id",
        "Device code",
        "A code that tells one device from another.",
    ),
    w(
        "user.device.ip_address",
        "Internet address",
        "The address a device uses on the internet.",
    ),
    w(
        "user.financial",
        "Money matters",
        "Bank and payment details.",
    ),
    w(
        "user.financial.bank_account",
        "Bank details",
        "A bank account number and sort code.",
    ),
    w(
        "user.financial.credit_card",
        "Card details",
        "A payment card number.",
    ),
    w(
        "user.government_id",
        "Official documents",
        "Numbers from passports, licences and other official papers.",
    ),
    w(
        "user.government_id.birth_certificate",
        "Birth certificate",
        "Details from a birth certificate.",
    ),
    w(
        "user.government_id.drivers_license_number",
        "Driving licence number",
        "The number on a driving licence.",
    ),
    w(
        "user.government_id.immigration",
        "Immigration documents",
        "Numbers from visas and residence permits.",
    ),
    w(
        "user.government_id.national_identification_number",
        "National Insurance number",
        "A national identity number, such as a National Insurance number.",
    ),
    w(
        "user.government_id.passport_number",
        "Passport number",
        "The number on a passport.",
    ),
    w(
        "user.government_id.vehicle_registration",
        "Car registration",
        "A vehicle's number plate.",
    ),
    w(
        "user.health_and_medical",
        "Health",
        "Information about someone's health.",
    ),
    w(
        "user.health_and_medical.fitness",
        "Fitness and body readings",
        "Heart rate, steps, sleep and other readings from the body.",
    ),
    w(
        "user.health_and_medical.genetic",
        "Genetic information",
        "What someone's DNA says about them.",
    ),
    w(
        "user.health_and_medical.insurance_beneficiary_id",
        "Health insurance number",
        "A health insurance membership number.",
    ),
    w(
        "user.health_and_medical.record_id",
        "Medical record number",
        "The number of someone's medical records, such as an NHS number.",
    ),
    w(
        "user.location",
        "Location",
        "Where someone or something is.",
    ),
    w(
        "user.location.imprecise",
        "Rough location",
        "Roughly where someone is, to within a town or a few streets.",
    ),
    w(
        "user.location.precise",
        "Exact location",
        "Exactly where someone is, to within a few metres.",
    ),
    w("user.name", "Name", "A person's name."),
    w("user.name.first", "First name", "A person's first name."),
    w("user.name.last", "Surname", "A person's surname."),
    w(
        "user.payment",
        "Payments",
        "Payments made through the product.",
    ),
    w(
        "user.privacy_preferences",
        "Privacy choices",
        "What someone has switched on or off, and when.",
    ),
    w(
        "user.sensor",
        "Sensor readings",
        "Readings from the product's sensors.",
    ),
    w(
        "user.sensor.audio",
        "Sound recordings",
        "Sound picked up by the microphone, such as spoken requests or crying.",
    ),
    w(
        "user.sensor.video",
        "Video recordings",
        "Video filmed by the camera.",
    ),
    w(
        "user.sensor.image",
        "Photos",
        "Still pictures taken by the camera.",
    ),
    w(
        "user.sensor.environment",
        "Readings of the home",
        "Temperature, humidity, air quality and light in the home.",
    ),
    w(
        "user.sensor.energy",
        "Energy use",
        "How much electricity, gas or water is used.",
    ),
    w(
        "user.sensor.motion",
        "Movement and doors",
        "Movement, and doors and windows opening and closing.",
    ),
    w(
        "user.social",
        "Social media",
        "Social media accounts and contacts.",
    ),
    w(
        "user.telemetry",
        "Usage readings",
        "Measurements of how the product and its app are used.",
    ),
    w(
        "user.unique_id",
        "Identifying code",
        "A code that tells one person from another.",
    ),
    w(
        "user.unique_id.pseudonymous",
        "Made-up code",
        "A code that stands in for a person, so their name is not used.",
    ),
    w(
        "user.user_sensor",
        "Sensor readings",
        "Readings from sensors on a person's own devices.",
    ),
    w("user.workplace", "Workplace", "Where someone works."),
    w(
        "user.job_title",
        "Job title",
        "What someone does for a living.",
    ),
    w(
        "user.criminal_history",
        "Criminal record",
        "Offences and convictions.",
    ),
    w(
        "system",
        "How the product runs",
        "Information about the product itself, not about people.",
    ),
    w(
        "system.authentication",
        "Security checks",
        "What the product uses to check that devices are genuine.",
    ),
    w(
        "system.operations",
        "How the product runs",
        "Records of how the product and its service work.",
    ),
    w(
        "system.operations.device_health",
        "Device health",
        "Software version, battery, signal strength and faults of a device.",
    ),
];

/// Privet's wording for `key`: its own entry, else its nearest ancestor's; `None` only for
/// a key outside every branch of the table.
pub fn wording(key: &str) -> Option<&'static CategoryWording> {
    let mut k = key;
    loop {
        if let Some(found) = CATEGORY_WORDING.iter().find(|c| c.key == k) {
            return Some(found);
        }
        k = &k[..k.rfind('.')?];
    }
}

/// Whether `key` has an entry of its own (not borrowed from an ancestor).
pub fn has_own_wording(key: &str) -> bool {
    CATEGORY_WORDING.iter().any(|c| c.key == key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::taxonomy::Taxonomy;

    #[test]
    fn every_fideslang_user_category_has_its_own_words() {
        for e in Taxonomy::get().categories.entries() {
            if e.deprecated.is_some() || !(e.key == "user" || e.key.starts_with("user.")) {
                continue;
            }
            assert!(has_own_wording(&e.key), "{} has no wording", e.key);
        }
    }

    #[test]
    fn unknown_keys_borrow_their_ancestors_words() {
        assert_eq!(
            wording("user.sensor.audio.snoring").map(|w| w.name),
            Some("Sound recordings")
        );
        assert_eq!(wording("nothing.like.it"), None);
    }

    #[test]
    fn the_wording_is_british_and_ours() {
        for c in CATEGORY_WORDING {
            let text = format!("{} {}", c.name, c.explanation).to_lowercase();
            for us in [
                "behavior",
                "organization",
                "recognized",
                "color",
                "license ",
                "subject",
            ] {
                assert!(!text.contains(us), "{}: {text}", c.key);
            }
            assert!(c.explanation.ends_with('.'), "{}", c.key);
        }
    }
}
