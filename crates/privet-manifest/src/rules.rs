//! The registry of manifest rules: code, name, severity, what each checks, why, and its source.
//!
//! `docs/lint-rules.md` documents every rule listed here; a test keeps the two in step.

use crate::finding::Severity;

/// One rule the parser or the linter applies.
#[derive(Debug, PartialEq, Eq)]
pub struct Rule {
    /// Stable code, e.g. `PV013`.
    pub code: &'static str,
    /// Stable kebab-case name, e.g. `missing-retention`.
    pub name: &'static str,
    /// Severity of its findings.
    pub severity: Severity,
    /// What it checks, in one sentence.
    pub checks: &'static str,
    /// Why it matters, in one sentence.
    pub why: &'static str,
    /// The guidance point or law that requires it.
    pub source: &'static str,
}

macro_rules! rules {
    ($($ident:ident = $code:literal $name:literal $sev:ident { checks: $checks:literal, why: $why:literal, source: $source:literal $(,)? })+) => {
        $(
            #[doc = concat!("`", $code, "` ", $name, ": ", $checks)]
            pub static $ident: Rule = Rule {
                code: $code,
                name: $name,
                severity: Severity::$sev,
                checks: $checks,
                why: $why,
                source: $source,
            };
        )+

        /// Every rule, in code order.
        pub static ALL: &[&Rule] = &[$(&$ident),+];
    };
}

rules! {
    MISSING_KEY = "PV001" "missing-key" Error {
        checks: "A key the manifest format requires is missing.",
        why: "Privet cannot enforce what is not declared.",
        source: "Privet manifest format, docs/manifest.md",
    }
    WRONG_TYPE = "PV002" "wrong-type" Error {
        checks: "A key has the wrong TOML type (e.g. a number where text is expected).",
        why: "A value of the wrong type would be misread.",
        source: "Privet manifest format, docs/manifest.md",
    }
    UNKNOWN_KEY = "PV003" "unknown-key" Warning {
        checks: "A key the manifest format does not define, usually a typo.",
        why: "A misspelt key is silently ignored, so what the maker meant to declare is not enforced.",
        source: "Privet manifest format, docs/manifest.md",
    }
    INVALID_VALUE = "PV004" "invalid-value" Error {
        checks: "A value outside its vocabulary (lawful basis, PECR ground, audience, type, origin…).",
        why: "Privet enforces these values; an unknown one has no defined meaning.",
        source: "Privet manifest format, docs/manifest.md",
    }
    INVALID_ID = "PV005" "invalid-id" Error {
        checks: "A product, purpose, recipient, stream or field key that is not lowercase letters, digits, `_` or `-`.",
        why: "Keys appear in URLs, MQTT topics and exports, where other characters are ambiguous.",
        source: "Privet manifest format, docs/manifest.md",
    }
    FIELD_WITHOUT_PURPOSE = "PV010" "field-without-purpose" Error {
        checks: "A field that lists no purpose.",
        why: "Data may only be collected for specified, explicit purposes; a field with none should not be collected.",
        source: "UK GDPR Art. 5(1)(b) purpose limitation; ICO consumer IoT guidance: collect only what is necessary",
    }
    UNUSED_PURPOSE = "PV011" "unused-purpose" Warning {
        checks: "A purpose that no field serves.",
        why: "The privacy notice would describe processing that does not happen, which misleads people.",
        source: "UK GDPR Art. 5(1)(a) transparency; ICO consumer IoT guidance: be transparent",
    }
    UNDEFINED_PURPOSE = "PV012" "undefined-purpose" Error {
        checks: "A field or recipient names a purpose that is not defined under `[purposes]`.",
        why: "Without a definition there is no lawful basis, description or consent switch for it.",
        source: "UK GDPR Art. 5(1)(b) purpose limitation and Art. 6 lawfulness",
    }
    MISSING_RETENTION = "PV013" "missing-retention" Error {
        checks: "A field with no `retention`.",
        why: "Personal data must not be kept longer than needed; Privet deletes it when its retention ends.",
        source: "UK GDPR Art. 5(1)(e) storage limitation; ICO consumer IoT guidance: remove data no longer needed",
    }
    INVALID_RETENTION = "PV014" "invalid-retention" Error {
        checks: "A `retention` that is not a number followed by h, d, w, m or y, or is zero.",
        why: "An unreadable retention cannot be enforced.",
        source: "UK GDPR Art. 5(1)(e) storage limitation",
    }
    UNBOUNDED_RETENTION = "PV015" "unbounded-retention" Error {
        checks: "A `retention` of `forever`, `indefinite` or more than a century.",
        why: "Keeping personal data indefinitely is never necessary for a consumer device.",
        source: "UK GDPR Art. 5(1)(e) storage limitation; ICO consumer IoT guidance: remove data no longer needed",
    }
    LONG_RETENTION = "PV016" "long-retention" Error {
        checks: "Personal data kept longer than the bound for its data category (the table in docs/lint-rules.md) with no written `retention_reason`.",
        why: "Long retention needs a documented reason; most device data is useful for weeks or months.",
        source: "UK GDPR Art. 5(1)(e) storage limitation; ICO guidance on storage limitation",
    }
    UNKNOWN_CATEGORY = "PV017" "unknown-category" Error {
        checks: "A field's `category` that is not in the fideslang taxonomy or Privet's IoT extension.",
        why: "The category drives special-category checks, the label and the fideslang export.",
        source: "fideslang data categories (CC BY 4.0, Ethyca); UK GDPR Art. 30 records of processing",
    }
    UNKNOWN_USE = "PV018" "unknown-use" Error {
        checks: "A purpose's `use` that is not a fideslang data use.",
        why: "The data use drives the PECR, marketing and children's checks and the fideslang export.",
        source: "fideslang data uses (CC BY 4.0, Ethyca); UK GDPR Art. 30 records of processing",
    }
    DEPRECATED_TAXONOMY_KEY = "PV019" "deprecated-taxonomy-key" Warning {
        checks: "A category, use or data subject that fideslang has deprecated.",
        why: "Deprecated keys will not import into current Fides versions.",
        source: "fideslang 2.x taxonomy",
    }
    SPECIAL_CATEGORY_WITHOUT_CONDITION = "PV020" "special-category-without-condition" Error {
        checks: "Special category data (health, biometric, genetic…) serving a purpose with no `special_category_condition`.",
        why: "Special category data may only be processed under an Art. 9 condition, usually explicit consent for consumer devices.",
        source: "UK GDPR Art. 9(1)-(2); ICO guidance on special category data",
    }
    EXPLICIT_CONSENT_NOT_GATED = "PV021" "explicit-consent-not-gated" Error {
        checks: "A purpose relying on `explicit_consent` whose basis is not `consent`.",
        why: "Explicit consent must be given before collection; Privet gates collection only for consent-based purposes.",
        source: "UK GDPR Art. 9(2)(a) and Art. 7",
    }
    CONSENT_FOR_ESSENTIAL = "PV022" "consent-for-essential" Error {
        checks: "Consent as the basis for an `essential.*` use the device cannot work without.",
        why: "Consent is not freely given when the service depends on it; use `contract` for what is strictly needed.",
        source: "UK GDPR Art. 7(4); ICO guidance on consent",
    }
    ANALYTICS_WITHOUT_PECR_GROUND = "PV023" "analytics-without-pecr-ground" Error {
        checks: "An `analytics.*` use whose PECR ground is neither `consent` nor `statistical`.",
        why: "Reading information from a device for analytics needs consent or the statistical exception with an opt-out.",
        source: "PECR Reg. 6 as amended by the Data (Use and Access) Act 2025",
    }
    MARKETING_WITHOUT_CONSENT = "PV024" "marketing-without-consent" Error {
        checks: "A `marketing.*`, `sales.*` or `third_party_sharing.*` use (other than sharing the law requires) that does not need the person's consent.",
        why: "Marketing from device data needs consent under PECR and is not strictly necessary.",
        source: "PECR Reg. 6 and Reg. 22; ICO direct marketing guidance",
    }
    PRECISE_LOCATION_UNMINIMISED = "PV025" "precise-location-unminimised" Error {
        checks: "Precise location with no minimising transform and no DPIA.",
        why: "Precise location reveals where people live and go; cut its precision or assess the risk first.",
        source: "UK GDPR Art. 5(1)(c) data minimisation and Art. 35; ICO consumer IoT guidance: collect only what is necessary",
    }
    AUDIO_VIDEO_UNMINIMISED = "PV026" "audio-video-unminimised" Error {
        checks: "Audio, video or images with no transform (e.g. `drop_after`) and no DPIA.",
        why: "Recordings inside a home are highly intrusive; keep them briefly or assess the risk first.",
        source: "UK GDPR Art. 5(1)(c) and Art. 35; ICO guidance on domestic CCTV and smart speakers",
    }
    CHILDREN_PROFILING_OR_MARKETING = "PV027" "children-profiling-or-marketing" Error {
        checks: "A product for children (or all ages) with marketing or profiling uses.",
        why: "Children's data should not be used for profiling or marketing that is not in their best interests.",
        source: "ICO Age appropriate design code, standards 1, 5 and 12",
    }
    CHILDREN_PRECISE_LOCATION = "PV028" "children-precise-location" Error {
        checks: "A product for children (or all ages) that collects precise location.",
        why: "Geolocation for children must be off by default and as coarse as possible.",
        source: "ICO Age appropriate design code, standard 10",
    }
    TRANSFER_WITHOUT_SAFEGUARD = "PV029" "transfer-without-safeguard" Error {
        checks: "A recipient outside the UK with no `safeguard`.",
        why: "Personal data may leave the UK only under adequacy regulations or appropriate safeguards.",
        source: "UK GDPR Chapter V, Arts. 44-46",
    }
    MISSING_PRIVACY_CONTACT = "PV030" "missing-privacy-contact" Error {
        checks: "`[product]` has no `privacy_contact`.",
        why: "People must be told who to contact about their data and their rights.",
        source: "UK GDPR Art. 13(1)(a)-(b); ICO consumer IoT guidance: help people exercise their rights",
    }
    MISSING_VULNERABILITY_DISCLOSURE = "PV031" "missing-vulnerability-disclosure" Error {
        checks: "`[product]` has no `vulnerability_disclosure`.",
        why: "Makers of connectable products must publish how to report security issues.",
        source: "PSTI (Security Requirements) Regulations 2023, Sch. 1 para. 2; ETSI EN 303 645 provision 5.2-1",
    }
    MISSING_SECURITY_UPDATE_PERIOD = "PV032" "missing-security-update-period" Error {
        checks: "`[product]` has no `security_updates_until`.",
        why: "Makers must publish the minimum period for which the product gets security updates.",
        source: "PSTI (Security Requirements) Regulations 2023, Sch. 1 para. 3; ETSI EN 303 645 provision 5.3-13",
    }
    SECURITY_UPDATES_ENDED = "PV033" "security-updates-ended" Error {
        checks: "`security_updates_until` is in the past.",
        why: "A product without security updates should not be sold or connected as if supported.",
        source: "PSTI (Security Requirements) Regulations 2023, Sch. 1 para. 3; ICO consumer IoT guidance: keep up with security updates",
    }
    VAGUE_DESCRIPTION = "PV034" "vague-description" Warning {
        checks: "A description with open-ended phrases like \"may include\" or \"including but not limited to\".",
        why: "People must be told precisely what happens to their data.",
        source: "UK GDPR Art. 12(1); ICO guidance on the right to be informed",
    }
    LEGALISTIC_DESCRIPTION = "PV035" "legalistic-description" Warning {
        checks: "A description in legal jargon (\"pursuant to\", \"hereinafter\", \"the data subject\"…).",
        why: "Information must be in clear and plain language.",
        source: "UK GDPR Art. 12(1); ICO guidance on the right to be informed",
    }
    HARD_TO_READ_DESCRIPTION = "PV036" "hard-to-read-description" Warning {
        checks: "A description of eight words or more whose Flesch reading ease is below 50.",
        why: "Descriptions should be readable by the whole household, children included where they use the product.",
        source: "UK GDPR Art. 12(1); ICO Age appropriate design code, standard 4",
    }
    EMPTY_DESCRIPTION = "PV037" "empty-description" Error {
        checks: "A purpose description with fewer than three words.",
        why: "People cannot understand a purpose from its key alone.",
        source: "UK GDPR Arts. 12(1) and 13(1)(c)",
    }
    UNDEFINED_RECIPIENT = "PV038" "undefined-recipient" Error {
        checks: "A purpose lists a recipient that is not defined under `[recipients]`.",
        why: "People must be told who receives their data; an undefined recipient cannot be described.",
        source: "UK GDPR Art. 13(1)(e)",
    }
    UNUSED_RECIPIENT = "PV039" "unused-recipient" Warning {
        checks: "A recipient that no purpose sends data to and that lists no purpose.",
        why: "The notice would name a recipient that receives nothing, which misleads people.",
        source: "UK GDPR Art. 5(1)(a) transparency",
    }
    INVALID_CONTACT = "PV040" "invalid-contact" Error {
        checks: "A `privacy_contact` or `vulnerability_disclosure` that is neither an e-mail address nor an https URL.",
        why: "People and researchers must be able to reach the maker.",
        source: "UK GDPR Art. 13(1)(a); PSTI Sch. 1 para. 2",
    }
    MISSING_UPDATE_KEY = "PV041" "missing-update-key" Warning {
        checks: "`[product]` has no `update_public_key` for signed firmware.",
        why: "Updates must be verified before they are installed; Privet checks releases against this key.",
        source: "ETSI EN 303 645 provisions 5.3-2 and 5.3-7",
    }
    INVALID_UPDATE_KEY = "PV042" "invalid-update-key" Error {
        checks: "An `update_public_key` that is not `ed25519:` followed by a 32-byte base64 key.",
        why: "A malformed key would reject every release, or none.",
        source: "ETSI EN 303 645 provision 5.3-7",
    }
    SLOW_DISCLOSURE_RESPONSE = "PV043" "slow-disclosure-response" Warning {
        checks: "`disclosure_response_days` longer than 90 days.",
        why: "Reporters must hear back in good time; 90 days is the usual outer bound.",
        source: "ETSI EN 303 645 provision 5.2-1; PSTI Sch. 1 para. 2",
    }
    DPIA_MISSING = "PV044" "dpia-missing" Warning {
        checks: "Processing the DPIA screening finds likely to be high risk (the ICO's list and the EDPB criteria, docs/dpia.md) with no `dpia`.",
        why: "Processing likely to be high risk needs a data protection impact assessment before it starts.",
        source: "UK GDPR Art. 35; ICO list of processing likely to result in high risk",
    }
    PERSONAL_DATA_IN_NON_PERSONAL_STREAM = "PV045" "personal-data-in-non-personal-stream" Error {
        checks: "A stream with `subject = \"none\"` holding a `user.*` category.",
        why: "Data about people is personal data; declaring it as not personal would skip encryption and rights.",
        source: "UK GDPR Art. 4(1)",
    }
    TRANSFORM_TYPE_MISMATCH = "PV046" "transform-type-mismatch" Error {
        checks: "A transform that does not fit the field's type or has an out-of-range setting.",
        why: "A transform that cannot apply would leave data unminimised.",
        source: "UK GDPR Art. 25 data protection by design",
    }
    INEFFECTIVE_DROP_AFTER = "PV047" "ineffective-drop-after" Warning {
        checks: "A `drop_after` that is not shorter than the field's retention.",
        why: "It has no effect, and suggests the retention was not what the maker meant.",
        source: "UK GDPR Art. 5(1)(e) storage limitation",
    }
    UNDECLARED_BYSTANDERS = "PV048" "undeclared-bystanders" Warning {
        checks: "A stream with audio, video or images that does not declare the other people it may capture (`data_subjects`).",
        why: "Cameras and microphones capture guests and passers-by, who must be considered and told.",
        source: "UK GDPR Art. 14; ICO guidance on domestic CCTV and video doorbells",
    }
    UNKNOWN_DATA_SUBJECT = "PV049" "unknown-data-subject" Error {
        checks: "A `data_subjects` entry that is not a fideslang or Privet data subject.",
        why: "Unknown subjects cannot be shown in the notice or exported.",
        source: "fideslang data subjects (CC BY 4.0, Ethyca)",
    }
    MISSING_VERSION = "PV050" "missing-version" Warning {
        checks: "`[product]` has no manifest `version`.",
        why: "Consent records name the manifest version a person agreed to, to demonstrate consent.",
        source: "UK GDPR Art. 7(1)",
    }
    INFERRED_SPECIAL_CATEGORY = "PV051" "inferred-special-category" Warning {
        checks: "A special category field whose `origin` is `inferred`.",
        why: "Inferring health or similar traits is itself special category processing and surprises people.",
        source: "UK GDPR Art. 9; ICO guidance on special category data (inferences)",
    }
    CONTROLLER_RECIPIENT_WITHOUT_CONSENT = "PV052" "controller-recipient-without-consent" Warning {
        checks: "A recipient acting as a controller receives data for a purpose that does not need consent (unless the basis is a legal obligation or vital interests).",
        why: "Sharing with another organisation for its own purposes usually needs the person's consent.",
        source: "UK GDPR Art. 6; ICO data sharing code of practice",
    }
    WORKS_OFFLINE_UNSTATED = "PV053" "works-offline-unstated" Warning {
        checks: "`[product]` does not say what still works without the cloud (`works_offline`).",
        why: "Shoppers compare products on this; it is a primary field of the privacy label.",
        source: "CMU IoT Security & Privacy Label (primary layer); ICO consumer IoT guidance: compare providers",
    }
    STREAM_WITHOUT_FIELDS = "PV054" "stream-without-fields" Warning {
        checks: "A stream that declares no fields.",
        why: "Every event on it would be dropped, which is usually a mistake.",
        source: "Privet manifest format, docs/manifest.md",
    }
    UNDECLARED_BIOMETRIC = "PV060" "undeclared-biometric" Error {
        checks: "A field whose name or description speaks of identifying people by face, voice print, fingerprint, gait, iris or the like, filed under a category that is not biometric.",
        why: "Biometric data used to identify people is special category data; filed under another category it escapes explicit consent, the DPIA and the notice's warning.",
        source: "UK GDPR Arts. 4(14) and 9(1); ICO guidance on biometric data",
    }
    CHILDREN_RECORDING_KEPT_LONG = "PV061" "children-recording-kept-long" Error {
        checks: "Audio, video or images that may capture children (a product for children or all ages, or a stream with `child` in `data_subjects`) kept for more than a year.",
        why: "Recordings of children are among the most sensitive data a home device holds; the Children's code asks for the shortest retention that works.",
        source: "ICO Age appropriate design code, standard 8 (data minimisation); UK GDPR Art. 5(1)(e)",
    }
    CHILDREN_RECORDING_UNMINIMISED = "PV062" "children-recording-unminimised" Warning {
        checks: "Audio, video or images that may capture children with no transform (e.g. `drop_after`), whether or not there is a DPIA.",
        why: "A DPIA does not make it less intrusive to keep a child's recording as captured; keep it briefly.",
        source: "ICO Age appropriate design code, standard 8 (data minimisation); UK GDPR Art. 25",
    }
    PROFILING_UNDER_CONTRACT = "PV063" "profiling-under-contract" Error {
        checks: "A marketing, sales or profiling purpose (`marketing.*`, `sales.*`, `personalize.content.profiling`, `personalize.content.profiled`) with `basis = \"contract\"`.",
        why: "Profiling and marketing are not necessary to perform the contract for a device; they need the person's consent.",
        source: "UK GDPR Art. 6(1)(b); ICO guidance on the lawful basis for processing (contract); PECR Reg. 6",
    }
    INVALID_DPIA_REFERENCE = "PV064" "invalid-dpia-reference" Error {
        checks: "A `dpia` that is a placeholder (`tbd`, `todo`, `n/a`, `none`, `-`, empty) or neither an https URL nor a document reference with a date.",
        why: "A placeholder would clear the high-risk checks although no assessment exists; a DPIA must be a document that can be found.",
        source: "UK GDPR Art. 35(1) and (7); ICO guidance on DPIAs (record the outcome)",
    }
}

/// The rule with this code or name.
pub fn find(code_or_name: &str) -> Option<&'static Rule> {
    ALL.iter()
        .copied()
        .find(|r| r.code.eq_ignore_ascii_case(code_or_name) || r.name == code_or_name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_names_are_unique_and_ordered() {
        for pair in ALL.windows(2) {
            assert!(
                pair[0].code < pair[1].code,
                "{} then {}",
                pair[0].code,
                pair[1].code
            );
        }
        let mut names: Vec<_> = ALL.iter().map(|r| r.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ALL.len());
        assert!(ALL.len() >= 25);
    }
}
