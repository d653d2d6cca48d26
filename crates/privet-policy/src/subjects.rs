//! Subjects: households and their members, as every rule sees them.

use crate::ids::SubjectId;
use jiff::Timestamp;
use privet_crypto::Pseudonym;
use serde::{Deserialize, Serialize};

/// Whether a subject is a household or a member.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SubjectKind {
    /// The home as a whole.
    Household,
    /// One person in a household.
    Member,
}

impl SubjectKind {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            SubjectKind::Household => "household",
            SubjectKind::Member => "member",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "household" => Some(SubjectKind::Household),
            "member" => Some(SubjectKind::Member),
            _ => None,
        }
    }
}

/// A stored subject.
#[derive(Clone, Debug, PartialEq)]
pub struct Subject {
    /// Opaque id.
    pub id: SubjectId,
    /// Household or member.
    pub kind: SubjectKind,
    /// The member's household.
    pub household: Option<SubjectId>,
    /// Keyed pseudonym used by records and audit entries.
    pub pseudonym: Pseudonym,
    /// A child member, whose consents the household owner gives.
    pub child: bool,
    /// Processing restricted (UK GDPR Art. 18): no ingestion, no reads but for the request.
    pub restricted: bool,
    /// The sealed profile (name, e-mail), opened only with the subject's key.
    pub profile: Vec<u8>,
    /// Creation time.
    pub created_at: Timestamp,
}

impl Subject {
    /// The household this subject belongs to (itself for a household).
    pub fn household_id(&self) -> &SubjectId {
        match (self.kind, &self.household) {
            (SubjectKind::Member, Some(h)) => h,
            _ => &self.id,
        }
    }
}

/// The subject id under which a product's non-personal data (streams with `subject = "none"`)
/// is keyed and sealed.
pub fn product_subject(product: &str) -> String {
    format!("product:{product}")
}
