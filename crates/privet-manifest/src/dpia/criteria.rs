//! The criteria the screening applies: the EDPB's nine (WP248 rev.01, endorsed by the EDPB)
//! and the ICO's list of processing likely to result in high risk, and how each counts.

use serde::Serialize;

/// How an item of the ICO's list counts towards "DPIA required".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IcoRule {
    /// A DPIA is required whenever it applies.
    Alone,
    /// Required when it applies together with one of the EDPB criteria (other than the
    /// criterion the item itself is an instance of).
    WithEdpbCriterion,
}

/// One screening criterion the manifest can show.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Criterion {
    /// EDPB 1: evaluation or scoring, including profiling and predicting.
    EvaluationOrScoring,
    /// EDPB 3: systematic monitoring, including of a publicly accessible area.
    SystematicMonitoring,
    /// EDPB 4: special category data or data of a highly personal nature.
    SensitiveOrHighlyPersonal,
    /// EDPB 6 and the ICO's "data matching": datasets matched or combined.
    MatchingOrCombining,
    /// EDPB 7: data concerning vulnerable people (children, employees, patients).
    VulnerablePeople,
    /// EDPB 8 and the ICO's "innovative technology": AI, biometrics, body sensing, cameras and
    /// microphones in the home.
    InnovativeTechnology,
    /// ICO: tracking a person's location or behaviour.
    Tracking,
    /// ICO: invisible processing, data about people who never see the notice.
    InvisibleProcessing,
    /// ICO: biometric data.
    BiometricData,
    /// ICO: genetic data.
    GeneticData,
    /// ICO: profiling children, or targeting marketing or online services at them.
    ChildrenProfilingOrMarketing,
    /// ICO: data whose breach might endanger someone's physical health or safety.
    RiskOfPhysicalHarm,
}

impl Criterion {
    /// Every criterion, in the order reports list them.
    pub const ALL: &'static [Criterion] = &[
        Criterion::EvaluationOrScoring,
        Criterion::SystematicMonitoring,
        Criterion::SensitiveOrHighlyPersonal,
        Criterion::MatchingOrCombining,
        Criterion::VulnerablePeople,
        Criterion::InnovativeTechnology,
        Criterion::Tracking,
        Criterion::InvisibleProcessing,
        Criterion::BiometricData,
        Criterion::GeneticData,
        Criterion::ChildrenProfilingOrMarketing,
        Criterion::RiskOfPhysicalHarm,
    ];

    /// The stable kebab-case code used in JSON, e.g. `systematic-monitoring`.
    pub fn code(self) -> &'static str {
        match self {
            Criterion::EvaluationOrScoring => "evaluation-or-scoring",
            Criterion::SystematicMonitoring => "systematic-monitoring",
            Criterion::SensitiveOrHighlyPersonal => "sensitive-or-highly-personal",
            Criterion::MatchingOrCombining => "matching-or-combining",
            Criterion::VulnerablePeople => "vulnerable-people",
            Criterion::InnovativeTechnology => "innovative-technology",
            Criterion::Tracking => "tracking",
            Criterion::InvisibleProcessing => "invisible-processing",
            Criterion::BiometricData => "biometric-data",
            Criterion::GeneticData => "genetic-data",
            Criterion::ChildrenProfilingOrMarketing => "children-profiling-or-marketing",
            Criterion::RiskOfPhysicalHarm => "risk-of-physical-harm",
        }
    }

    /// A short title in plain words, for messages and the draft.
    pub fn title(self) -> &'static str {
        match self {
            Criterion::EvaluationOrScoring => "evaluation or scoring (profiling, predicting)",
            Criterion::SystematicMonitoring => "systematic monitoring",
            Criterion::SensitiveOrHighlyPersonal => "sensitive or highly personal data",
            Criterion::MatchingOrCombining => "matching or combining datasets",
            Criterion::VulnerablePeople => "vulnerable people",
            Criterion::InnovativeTechnology => "innovative technology",
            Criterion::Tracking => "tracking location or behaviour",
            Criterion::InvisibleProcessing => "invisible processing",
            Criterion::BiometricData => "biometric data",
            Criterion::GeneticData => "genetic data",
            Criterion::ChildrenProfilingOrMarketing => "profiling or marketing aimed at children",
            Criterion::RiskOfPhysicalHarm => "risk of physical harm",
        }
    }

    /// The number of the EDPB criterion (WP248), when it is one.
    pub fn edpb(self) -> Option<u8> {
        match self {
            Criterion::EvaluationOrScoring => Some(1),
            Criterion::SystematicMonitoring => Some(3),
            Criterion::SensitiveOrHighlyPersonal => Some(4),
            Criterion::MatchingOrCombining => Some(6),
            Criterion::VulnerablePeople => Some(7),
            Criterion::InnovativeTechnology => Some(8),
            _ => None,
        }
    }

    /// How it counts as an item of the ICO's list, when it is one.
    pub fn ico(self) -> Option<IcoRule> {
        match self {
            Criterion::MatchingOrCombining
            | Criterion::ChildrenProfilingOrMarketing
            | Criterion::RiskOfPhysicalHarm => Some(IcoRule::Alone),
            Criterion::InnovativeTechnology
            | Criterion::Tracking
            | Criterion::InvisibleProcessing
            | Criterion::BiometricData
            | Criterion::GeneticData => Some(IcoRule::WithEdpbCriterion),
            _ => None,
        }
    }

    /// The EDPB criterion an ICO item is itself an instance of, which therefore cannot be the
    /// one it combines with: innovative technology is EDPB 8, and biometric and genetic data
    /// are special category data (EDPB 4).
    pub fn implied_edpb(self) -> Option<u8> {
        match self {
            Criterion::InnovativeTechnology => Some(8),
            Criterion::BiometricData | Criterion::GeneticData => Some(4),
            _ => None,
        }
    }

    /// Where the criterion comes from, for reports: `EDPB 4`, `ICO`, `EDPB 6; ICO`.
    pub fn source(self) -> String {
        match (self.edpb(), self.ico()) {
            (Some(n), Some(_)) => format!("EDPB criterion {n}; ICO list"),
            (Some(n), None) => format!("EDPB criterion {n}"),
            (None, _) => "ICO list".to_owned(),
        }
    }
}

impl std::fmt::Display for Criterion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// A question the manifest cannot answer, left for the DPO; a "yes" is one more criterion.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Question {
    /// Stable kebab-case code.
    pub code: &'static str,
    /// Where it comes from.
    pub source: &'static str,
    /// The question.
    pub question: &'static str,
}

/// What the screening cannot decide from a manifest.
pub const QUESTIONS: &[Question] = &[
    Question {
        code: "large-scale",
        source: "EDPB criterion 5; UK GDPR Art. 35(3)(b)-(c); ICO list (large-scale profiling)",
        question: "Is the processing large scale (how many people, how much data, for how long, over what area)? Large-scale special category data or monitoring of a public area needs a DPIA on its own.",
    },
    Question {
        code: "automated-decisions",
        source: "EDPB criterion 2; UK GDPR Art. 22 and Art. 35(3)(a)",
        question: "Is any decision with legal or similarly significant effect made about people automatically from this data?",
    },
    Question {
        code: "denial-of-service",
        source: "EDPB criterion 9; ICO list (denial of service)",
        question: "Does the processing decide, or stop, people's access to a service, a contract or a right?",
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_every_criterion_counts_somewhere() {
        let mut codes: Vec<_> = Criterion::ALL.iter().map(|c| c.code()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), Criterion::ALL.len());
        for c in Criterion::ALL {
            assert!(c.edpb().is_some() || c.ico().is_some(), "{c}");
        }
    }
}
