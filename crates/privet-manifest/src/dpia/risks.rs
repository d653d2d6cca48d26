//! The risks a draft DPIA lists, each with a suggested likelihood and severity (the ICO
//! template's scales), and the measures Privet already applies against it.

use super::criteria::Criterion;
use super::screening::Screening;
use crate::model::Manifest;
use crate::taxonomy::is_personal_category;

/// How likely harm is (ICO DPIA template).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Likelihood {
    /// Remote.
    Remote,
    /// Possible.
    Possible,
    /// Probable.
    Probable,
}

/// How severe harm would be (ICO DPIA template).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Minimal.
    Minimal,
    /// Significant.
    Significant,
    /// Severe.
    Severe,
}

impl Likelihood {
    /// The template's word.
    pub fn as_str(self) -> &'static str {
        match self {
            Likelihood::Remote => "Remote",
            Likelihood::Possible => "Possible",
            Likelihood::Probable => "Probable",
        }
    }
}

impl Severity {
    /// The template's word.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Minimal => "Minimal",
            Severity::Significant => "Significant",
            Severity::Severe => "Severe",
        }
    }
}

/// The overall risk from likelihood and severity: a 3×3 matrix, high only when both are at
/// least the middle step and one is at the top.
pub fn overall(l: Likelihood, s: Severity) -> &'static str {
    let score = (l as u8 + 1) * (s as u8 + 1);
    match score {
        6.. => "High",
        3..=5 => "Medium",
        _ => "Low",
    }
}

/// A safeguard Privet applies by construction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Measure {
    /// Each person's data encrypted with their own key.
    PerPersonEncryption,
    /// Undeclared fields dropped; transforms applied before storage.
    Minimisation,
    /// Consent-based fields stored only with consent, off by default.
    ConsentGating,
    /// Every read names a purpose and gets only that purpose's fields.
    PurposeBoundReads,
    /// Every read recorded in a hash-chained log.
    AuditLog,
    /// Erasure destroys the person's key first.
    CryptoShredding,
    /// Expired time chunks dropped whole.
    RetentionByChunks,
    /// The notice and label generated from the manifest.
    Transparency,
}

impl Measure {
    /// Every measure, in the order the draft lists them.
    pub const ALL: &'static [Measure] = &[
        Measure::PerPersonEncryption,
        Measure::Minimisation,
        Measure::ConsentGating,
        Measure::PurposeBoundReads,
        Measure::AuditLog,
        Measure::CryptoShredding,
        Measure::RetentionByChunks,
        Measure::Transparency,
    ];

    /// Its short name.
    pub fn name(self) -> &'static str {
        match self {
            Measure::PerPersonEncryption => "per-person encryption",
            Measure::Minimisation => "minimisation at ingest",
            Measure::ConsentGating => "consent gating",
            Measure::PurposeBoundReads => "purpose-bound reads",
            Measure::AuditLog => "audit log",
            Measure::CryptoShredding => "crypto-shredding erasure",
            Measure::RetentionByChunks => "retention by chunks",
            Measure::Transparency => "notice and label from the manifest",
        }
    }

    /// What it does, in a sentence.
    pub fn description(self) -> &'static str {
        match self {
            Measure::PerPersonEncryption => {
                "Each person's data is encrypted with their own key (an AEAD bound to the record, the person and the stream); keys live in a separate keyring, wrapped by the instance's master key, and storage names people only by a keyed pseudonym."
            }
            Measure::Minimisation => {
                "Fields the manifest does not declare are dropped before storage and counted, never logged; declared transforms cut precision or shorten keeping before anything is stored."
            }
            Measure::ConsentGating => {
                "A field whose purposes all need consent is stored only while the person has consented; those purposes start switched off, and withdrawing consent stops collection and purges what was held only for them."
            }
            Measure::PurposeBoundReads => {
                "Every read names a purpose; an API key is limited to purposes; a read returns only the fields declared for that purpose, and only people who consented where it needs consent."
            }
            Measure::AuditLog => {
                "Every read and change is recorded in an append-only hash chain holding ids and counts, never personal values; `privet audit verify` recomputes it."
            }
            Measure::CryptoShredding => {
                "Erasing a person destroys their key first, so their data is unreadable at once, in backups too; the rows are then removed and a signed receipt records it."
            }
            Measure::RetentionByChunks => {
                "Records are stored in time chunks per retention period and dropped whole when the period ends."
            }
            Measure::Transparency => {
                "The privacy notice and label are generated from this manifest, so what people are told matches what is collected."
            }
        }
    }
}

/// One risk to people, with a suggested assessment for the DPO to confirm.
#[derive(Clone, Debug, PartialEq)]
pub struct Risk {
    /// The harm, from the point of view of the people concerned.
    pub harm: String,
    /// What in the manifest gives rise to it.
    pub source: String,
    /// Suggested likelihood before the measures.
    pub likelihood: Likelihood,
    /// Suggested severity.
    pub severity: Severity,
    /// The measures Privet applies against it.
    pub measures: Vec<Measure>,
}

fn risk(
    harm: &str,
    source: String,
    likelihood: Likelihood,
    severity: Severity,
    measures: &[Measure],
) -> Risk {
    Risk {
        harm: harm.to_owned(),
        source,
        likelihood,
        severity,
        measures: measures.to_vec(),
    }
}

/// The risks of `m`, given its screening.
pub fn risks(m: &Manifest, s: &Screening) -> Vec<Risk> {
    use Likelihood::*;
    use Measure::*;
    use Severity::*;
    let mut out = Vec::new();
    let personal = m
        .fields()
        .any(|(_, f)| is_personal_category(&f.category.value));
    if !personal {
        return out;
    }
    let sensitive = s.meets(Criterion::SensitiveOrHighlyPersonal);
    out.push(risk(
        "Someone who breaks into the servers, or a backup, reads people's data.",
        "every personal field".to_owned(),
        Possible,
        if sensitive { Severe } else { Significant },
        &[PerPersonEncryption, CryptoShredding, AuditLog],
    ));
    out.push(risk(
        "Data is used for purposes people were not told about (function creep).",
        format!("{} declared purposes", m.purposes.len()),
        Possible,
        Significant,
        &[PurposeBoundReads, AuditLog, Transparency],
    ));
    let detail = |c: Criterion| {
        s.reasons
            .iter()
            .find(|r| r.criterion == c)
            .map(|r| r.detail.clone())
            .unwrap_or_default()
    };
    if s.meets(Criterion::SystematicMonitoring) || s.meets(Criterion::InvisibleProcessing) {
        let mut from = detail(Criterion::SystematicMonitoring);
        let invisible = detail(Criterion::InvisibleProcessing);
        if from.is_empty() {
            from = invisible;
        }
        out.push(risk(
            "People who are not users (visitors, passers-by, guests) are recorded without knowing, and cannot easily use their rights.",
            from,
            Probable,
            Significant,
            &[Minimisation, RetentionByChunks, Transparency],
        ));
    }
    if sensitive {
        out.push(risk(
            "Recordings, health or location data reveal someone's private life to the wrong person, inside or outside the household.",
            detail(Criterion::SensitiveOrHighlyPersonal),
            Possible,
            Severe,
            &[PerPersonEncryption, PurposeBoundReads, ConsentGating, Minimisation],
        ));
    }
    if s.meets(Criterion::Tracking) {
        out.push(risk(
            "A pattern of someone's life (when they are home, where they go, what they do) is built up over time.",
            detail(Criterion::Tracking),
            Possible,
            Significant,
            &[Minimisation, RetentionByChunks, PurposeBoundReads],
        ));
    }
    if s.meets(Criterion::RiskOfPhysicalHarm) {
        out.push(risk(
            "Someone learns where a person is, or was, and harms them.",
            detail(Criterion::RiskOfPhysicalHarm),
            Remote,
            Severe,
            &[Minimisation, PerPersonEncryption, ConsentGating],
        ));
    }
    if s.meets(Criterion::VulnerablePeople) {
        out.push(risk(
            "Children's data is used in ways not in their best interests, or they cannot understand what is collected.",
            detail(Criterion::VulnerablePeople),
            Possible,
            Significant,
            &[ConsentGating, Transparency, CryptoShredding],
        ));
    }
    if s.meets(Criterion::EvaluationOrScoring) {
        out.push(risk(
            "Predictions about people are wrong, or reveal more than they expect.",
            detail(Criterion::EvaluationOrScoring),
            Possible,
            Significant,
            &[Transparency, PurposeBoundReads],
        ));
    }
    if s.meets(Criterion::MatchingOrCombining) {
        out.push(risk(
            "Combining data from elsewhere reveals more than people expect.",
            detail(Criterion::MatchingOrCombining),
            Possible,
            Significant,
            &[PurposeBoundReads, Transparency],
        ));
    }
    let abroad: Vec<String> = m
        .recipients
        .iter()
        .filter_map(|r| r.country.as_ref())
        .filter(|c| !matches!(c.value.trim().to_ascii_uppercase().as_str(), "GB" | "UK"))
        .map(|c| c.value.trim().to_ascii_uppercase())
        .collect();
    if !abroad.is_empty() {
        out.push(risk(
            "Data processed outside the UK is less well protected, or harder for people to get back.",
            format!("recipients in {}", abroad.join(", ")),
            Remote,
            Significant,
            &[Transparency, PurposeBoundReads],
        ));
    }
    let long: Vec<String> = m
        .fields()
        .filter(|(_, f)| is_personal_category(&f.category.value))
        .filter(|(_, f)| {
            f.effective_retention()
                .is_some_and(|r| r.approx_days() > 366)
        })
        .map(|(s, f)| format!("`{}.{}`", s.id.as_str(), f.name.as_str()))
        .collect();
    out.push(risk(
        "Data is kept longer than it is needed.",
        if long.is_empty() {
            "every field's retention (none over a year)".to_owned()
        } else {
            format!("kept over a year: {}", long.join(", "))
        },
        if long.is_empty() { Remote } else { Possible },
        Significant,
        &[RetentionByChunks, CryptoShredding],
    ));
    // Consent gating protects nothing where no purpose needs consent.
    if m.optional_purposes().next().is_none() {
        for r in &mut out {
            r.measures.retain(|x| *x != ConsentGating);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overall_risk_follows_the_matrix() {
        assert_eq!(overall(Likelihood::Remote, Severity::Minimal), "Low");
        assert_eq!(overall(Likelihood::Remote, Severity::Severe), "Medium");
        assert_eq!(
            overall(Likelihood::Possible, Severity::Significant),
            "Medium"
        );
        assert_eq!(overall(Likelihood::Possible, Severity::Severe), "High");
        assert_eq!(overall(Likelihood::Probable, Severity::Significant), "High");
    }
}
