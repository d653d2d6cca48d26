//! The closed vocabularies of the manifest: lawful bases, PECR grounds, audiences and so on.

use serde::Serialize;

/// Declares a string-valued enum with its manifest spelling and the list of all spellings.
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// Every spelling accepted in a manifest.
            pub const NAMES: &'static [&'static str] = &[$($text),+];

            /// The spelling used in manifests.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            /// Parses a manifest spelling.
            pub fn parse(s: &str) -> Option<Self> {
                match s {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

vocabulary! {
    /// A lawful basis for processing, UK GDPR Art. 6(1).
    LawfulBasis {
        /// Art. 6(1)(a).
        Consent = "consent",
        /// Art. 6(1)(b).
        Contract = "contract",
        /// Art. 6(1)(c).
        LegalObligation = "legal_obligation",
        /// Art. 6(1)(d).
        VitalInterests = "vital_interests",
        /// Art. 6(1)(e).
        PublicTask = "public_task",
        /// Art. 6(1)(f).
        LegitimateInterests = "legitimate_interests",
    }
}

impl LawfulBasis {
    /// The basis in plain words, for privacy notices.
    pub fn plain(self) -> &'static str {
        match self {
            LawfulBasis::Consent => "you said yes, and you can change your mind at any time",
            LawfulBasis::Contract => "we need it to provide the product you asked for",
            LawfulBasis::LegalObligation => "the law requires us to",
            LawfulBasis::VitalInterests => "it is needed to protect someone's life",
            LawfulBasis::PublicTask => "it is needed for a task in the public interest",
            LawfulBasis::LegitimateInterests => {
                "we have a good reason that we have balanced against your interests, and you can object"
            }
        }
    }

    /// The article that grants it.
    pub fn article(self) -> &'static str {
        match self {
            LawfulBasis::Consent => "UK GDPR Art. 6(1)(a)",
            LawfulBasis::Contract => "UK GDPR Art. 6(1)(b)",
            LawfulBasis::LegalObligation => "UK GDPR Art. 6(1)(c)",
            LawfulBasis::VitalInterests => "UK GDPR Art. 6(1)(d)",
            LawfulBasis::PublicTask => "UK GDPR Art. 6(1)(e)",
            LawfulBasis::LegitimateInterests => "UK GDPR Art. 6(1)(f)",
        }
    }
}

vocabulary! {
    /// A condition for processing special category data, UK GDPR Art. 9(2).
    SpecialCondition {
        /// Art. 9(2)(a).
        ExplicitConsent = "explicit_consent",
        /// Art. 9(2)(b).
        Employment = "employment",
        /// Art. 9(2)(c).
        VitalInterests = "vital_interests",
        /// Art. 9(2)(d).
        NotForProfit = "not_for_profit",
        /// Art. 9(2)(e).
        MadePublic = "made_public",
        /// Art. 9(2)(f).
        LegalClaims = "legal_claims",
        /// Art. 9(2)(g).
        SubstantialPublicInterest = "substantial_public_interest",
        /// Art. 9(2)(h).
        HealthCare = "health_care",
        /// Art. 9(2)(i).
        PublicHealth = "public_health",
        /// Art. 9(2)(j).
        ArchivingResearch = "archiving_research",
    }
}

vocabulary! {
    /// The ground under PECR Reg. 6 for storing or reading information on the device.
    Pecr {
        /// Strictly necessary for the service the user asked for.
        StrictlyNecessary = "strictly_necessary",
        /// Solely to carry a communication over the network.
        Transmission = "transmission",
        /// Statistical purposes, with a clear opt-out (Data (Use and Access) Act 2025).
        Statistical = "statistical",
        /// The user's consent.
        Consent = "consent",
    }
}

vocabulary! {
    /// Who a product is meant for.
    Audience {
        /// Adults only.
        Adults = "adults",
        /// Children (the Children's code applies in full).
        Children = "children",
        /// Anyone, children included (the Children's code applies).
        All = "all",
    }
}

impl Audience {
    /// Whether children are likely to use the product.
    pub fn includes_children(self) -> bool {
        matches!(self, Audience::Children | Audience::All)
    }
}

vocabulary! {
    /// The maker's role for a product's data, or a recipient's role.
    Role {
        /// Decides why and how the data is processed.
        Controller = "controller",
        /// Processes on a controller's instructions.
        Processor = "processor",
    }
}

vocabulary! {
    /// Where a field's data comes from (the ICO's five origins).
    Origin {
        /// The person typed or said it.
        Provided = "provided",
        /// Observed from how the person uses the device or service.
        Observed = "observed",
        /// Measured by a sensor.
        Sensor = "sensor",
        /// Worked out from other data.
        Inferred = "inferred",
        /// Received from someone else.
        ThirdParty = "third_party",
    }
}

impl Origin {
    /// The origin in plain words.
    pub fn plain(self) -> &'static str {
        match self {
            Origin::Provided => "you give it to us",
            Origin::Observed => "we observe how the device is used",
            Origin::Sensor => "the device's sensors measure it",
            Origin::Inferred => "we work it out from other data",
            Origin::ThirdParty => "we receive it from someone else",
        }
    }
}

vocabulary! {
    /// Whose data a stream holds.
    SubjectKind {
        /// One person: a household member.
        Member = "member",
        /// The home as a whole, not one person.
        Household = "household",
        /// Not personal data.
        None = "none",
    }
}
