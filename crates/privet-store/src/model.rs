//! What the store holds: subjects, devices, API keys, consents, record blocks and audit entries.

use crate::ids::{ApiKeyId, DeviceId, SubjectId};
use jiff::Timestamp;
use privet_crypto::{AuditHash, Pseudonym, TokenHash};
use privet_manifest::Retention;
use serde::{Deserialize, Serialize};

/// Whether a subject is a household or a member.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
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

    pub(crate) fn parse(s: &str) -> Option<Self> {
        match s {
            "household" => Some(SubjectKind::Household),
            "member" => Some(SubjectKind::Member),
            _ => None,
        }
    }
}

/// A subject to create. Its profile (name, e-mail) arrives sealed with the subject's key.
#[derive(Clone, Debug)]
pub struct NewSubject {
    /// Opaque id.
    pub id: SubjectId,
    /// Household or member.
    pub kind: SubjectKind,
    /// The member's household; `None` for a household.
    pub household: Option<SubjectId>,
    /// Keyed pseudonym used by records and audit entries.
    pub pseudonym: Pseudonym,
    /// A child member, whose consents the household owner gives.
    pub child: bool,
    /// The sealed profile.
    pub profile: Vec<u8>,
    /// Creation time.
    pub created_at: Timestamp,
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
    /// Keyed pseudonym.
    pub pseudonym: Pseudonym,
    /// A child member.
    pub child: bool,
    /// Processing restricted (UK GDPR Art. 18): no ingestion, no reads but for the request.
    pub restricted: bool,
    /// The sealed profile.
    pub profile: Vec<u8>,
    /// Creation time.
    pub created_at: Timestamp,
}

/// A device to create.
#[derive(Clone, Debug)]
pub struct NewDevice {
    /// Opaque id.
    pub id: DeviceId,
    /// Its product's id.
    pub product: String,
    /// The household it belongs to, if attached.
    pub household: Option<SubjectId>,
    /// The member it belongs to, if personal.
    pub member: Option<SubjectId>,
    /// Hash of its unique token.
    pub token_hash: TokenHash,
    /// Hash of its single-use claim code.
    pub claim_hash: Option<TokenHash>,
    /// Creation time.
    pub created_at: Timestamp,
}

/// A stored device.
#[derive(Clone, Debug, PartialEq)]
pub struct Device {
    /// Opaque id.
    pub id: DeviceId,
    /// Its product's id.
    pub product: String,
    /// The household it belongs to.
    pub household: Option<SubjectId>,
    /// The member it belongs to.
    pub member: Option<SubjectId>,
    /// Last reported firmware version.
    pub firmware: Option<String>,
    /// Last time it sent data.
    pub last_seen: Option<Timestamp>,
    /// Creation time.
    pub created_at: Timestamp,
    /// When its token was revoked, if it was.
    pub revoked_at: Option<Timestamp>,
}

/// An operator role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Manages households, devices and keys.
    Admin,
    /// Reads events for its purposes only.
    Analyst,
    /// Handles rights requests; reads no events.
    Support,
    /// Reads the audit log and requests.
    Dpo,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 4] = [Role::Admin, Role::Analyst, Role::Support, Role::Dpo];

    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Analyst => "analyst",
            Role::Support => "support",
            Role::Dpo => "dpo",
        }
    }

    /// Parses a stored or command-line spelling.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "admin" => Some(Role::Admin),
            "analyst" => Some(Role::Analyst),
            "support" => Some(Role::Support),
            "dpo" => Some(Role::Dpo),
            _ => None,
        }
    }
}

/// An API key to create.
#[derive(Clone, Debug)]
pub struct NewApiKey {
    /// Opaque id (shown in the audit log).
    pub id: ApiKeyId,
    /// Its role.
    pub role: Role,
    /// Purposes it may read for (analysts).
    pub purposes: Vec<String>,
    /// Hash of the key.
    pub hash: TokenHash,
    /// A free-text label for operators (never personal data).
    pub label: String,
    /// Creation time.
    pub created_at: Timestamp,
}

/// A stored API key.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ApiKey {
    /// Opaque id.
    pub id: ApiKeyId,
    /// Its role.
    pub role: Role,
    /// Purposes it may read for.
    pub purposes: Vec<String>,
    /// Label.
    pub label: String,
    /// Creation time.
    pub created_at: Timestamp,
    /// Revocation time, if revoked.
    pub revoked_at: Option<Timestamp>,
}

/// A consent decision to record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewConsent {
    /// Whose consent.
    pub subject: SubjectId,
    /// The product it applies to; `None` for every product declaring the purpose.
    pub product: Option<String>,
    /// The purpose key.
    pub purpose: String,
    /// Granted or withdrawn.
    pub granted: bool,
    /// The manifest version the person saw.
    pub manifest_version: String,
    /// When.
    pub at: Timestamp,
    /// Who recorded it (an id: `member:…`, `key:…`).
    pub actor: String,
    /// How (`api`, `web`, `device`, `request`).
    pub channel: String,
}

/// A recorded consent decision.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ConsentRecord {
    /// Sequence number (history order).
    pub seq: i64,
    /// The decision.
    #[serde(flatten)]
    pub consent: NewConsent,
}

/// An encrypted block of events: one subject, one stream, one retention class, one batch.
#[derive(Clone, Debug, PartialEq)]
pub struct NewBlock {
    /// Random record id, bound into the ciphertext's associated data.
    pub id: [u8; 16],
    /// The subject's pseudonym.
    pub subject: Pseudonym,
    /// Stream key.
    pub stream: String,
    /// Product id.
    pub product: String,
    /// The device that sent the events.
    pub device: DeviceId,
    /// The retention class of every value in the block.
    pub retention: Retention,
    /// Earliest event time.
    pub t_min: Timestamp,
    /// Latest event time.
    pub t_max: Timestamp,
    /// Latest expiry of any event in the block.
    pub expires_max: Timestamp,
    /// Number of events.
    pub count: u32,
    /// Sealed payload.
    pub payload: Vec<u8>,
}

/// That a device sent data, recorded with its blocks.
#[derive(Clone, Debug, PartialEq)]
pub struct DeviceSeen {
    /// The device.
    pub device: DeviceId,
    /// When.
    pub at: Timestamp,
    /// The firmware version it reported, if any.
    pub firmware: Option<String>,
}

/// A stored block, as read back.
pub type Block = NewBlock;

/// Which blocks to read.
#[derive(Clone, Debug, Default)]
pub struct BlockQuery {
    /// Only this subject's.
    pub subject: Option<Pseudonym>,
    /// Only these streams (any when empty).
    pub streams: Vec<String>,
    /// Only this product's.
    pub product: Option<String>,
    /// Only this device's.
    pub device: Option<DeviceId>,
    /// Only blocks with events at or after this time.
    pub since: Option<Timestamp>,
    /// Only blocks with events at or before this time.
    pub until: Option<Timestamp>,
}

/// What a retention run removed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RetentionReport {
    /// Chunks dropped whole.
    pub chunks_dropped: u64,
    /// Blocks in them.
    pub blocks_dropped: u64,
    /// Events in them.
    pub events_dropped: u64,
}

/// An audit entry to append. Holds ids, pseudonyms and counts only, never personal values.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewAuditEntry {
    /// When.
    pub at: Timestamp,
    /// Who (`key:<id>`, `device:<id>`, `account:<id>`, `system`).
    pub actor: String,
    /// What (`events.read`, `consent.set`, `subject.erase`, …).
    pub action: String,
    /// The purpose, for reads.
    pub purpose: Option<String>,
    /// Subjects touched, by pseudonym.
    pub subjects: Vec<Pseudonym>,
    /// How many records.
    pub count: u64,
    /// Further ids and counts.
    #[serde(default)]
    pub detail: serde_json::Value,
}

/// A stored audit entry.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AuditEntry {
    /// Position in the chain, from 1.
    pub seq: i64,
    /// The entry.
    #[serde(flatten)]
    pub entry: NewAuditEntry,
    /// Hash of the previous entry.
    pub prev: AuditHash,
    /// Hash of this entry and `prev`.
    pub hash: AuditHash,
}

/// The result of recomputing the audit chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuditVerdict {
    /// Entries checked.
    pub entries: u64,
    /// The first entry that does not verify, and why.
    pub first_broken: Option<BrokenEntry>,
}

/// Where and why the audit chain breaks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BrokenEntry {
    /// The sequence number of the first bad entry.
    pub seq: i64,
    /// What is wrong with it.
    pub reason: String,
}

/// Counts of what an erasure removed from the data store.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ErasedSubject {
    /// The subject's pseudonym (its records are deleted with it).
    #[serde(skip)]
    pub pseudonym: Option<Pseudonym>,
    /// Consent records deleted.
    pub consents: u64,
    /// Devices unlinked (tokens revoked).
    pub devices: u64,
}

/// The kind of a rights request (UK GDPR Arts. 15-21).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RequestKind {
    /// Art. 15: a copy of the data.
    Access,
    /// Art. 17: deletion.
    Erasure,
    /// Art. 16: correction.
    Rectification,
    /// Art. 18: restriction of processing.
    Restriction,
    /// Art. 21: objection.
    Objection,
    /// Art. 20: the data in a machine-readable format.
    Portability,
}

impl RequestKind {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            RequestKind::Access => "access",
            RequestKind::Erasure => "erasure",
            RequestKind::Rectification => "rectification",
            RequestKind::Restriction => "restriction",
            RequestKind::Objection => "objection",
            RequestKind::Portability => "portability",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "access" => RequestKind::Access,
            "erasure" => RequestKind::Erasure,
            "rectification" => RequestKind::Rectification,
            "restriction" => RequestKind::Restriction,
            "objection" => RequestKind::Objection,
            "portability" => RequestKind::Portability,
            _ => return None,
        })
    }
}

/// A rights request as stored.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RightsRequest {
    /// Opaque id.
    pub id: String,
    /// What is asked for.
    pub kind: RequestKind,
    /// Whose data.
    pub subject: SubjectId,
    /// When it was received (the clock starts then).
    pub received_at: Timestamp,
    /// When it must be answered: one calendar month from receipt.
    pub due: jiff::civil::Date,
    /// The due date after the one allowed extension.
    pub extended_due: Option<jiff::civil::Date>,
    /// Why it was extended.
    pub extension_reason: Option<String>,
    /// Whether it has been completed.
    pub done: bool,
    /// When it was completed.
    pub completed_at: Option<Timestamp>,
    /// Who logged it.
    pub created_by: String,
    /// When it was logged.
    pub created_at: Timestamp,
}

/// An objection to a purpose, recorded for a subject.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Objection {
    /// Whose.
    pub subject: SubjectId,
    /// One product, or every product (`None`).
    pub product: Option<String>,
    /// The purpose objected to.
    pub purpose: String,
    /// When.
    pub at: Timestamp,
    /// Who recorded it.
    pub actor: String,
}

/// Whether an account belongs to a household member or to operator staff.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccountKind {
    /// A household member, signing in to use their rights.
    Member,
    /// Operator staff, using the console.
    Staff,
}

/// A sign-in account. The e-mail is held only sealed; `email_lookup` is its keyed hash.
#[derive(Clone, Debug, PartialEq)]
pub struct Account {
    /// Opaque id.
    pub id: String,
    /// Keyed hash of the normalised e-mail, to find the account at sign-in.
    pub email_lookup: Vec<u8>,
    /// The e-mail, sealed.
    pub email_sealed: Vec<u8>,
    /// Member or staff.
    pub kind: AccountKind,
    /// The member's household.
    pub household: Option<SubjectId>,
    /// The member.
    pub member: Option<SubjectId>,
    /// Whether the member owns the household (manages members, devices, children's consents).
    pub owner: bool,
    /// Staff role.
    pub role: Option<Role>,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// The TOTP secret, sealed; present from enrolment.
    pub totp_sealed: Option<Vec<u8>>,
    /// Whether two-step verification is on.
    pub totp_enabled: bool,
    /// The last TOTP time step accepted (replays are refused).
    pub totp_last_step: Option<u64>,
    /// Whether the account may sign in (a child's, only if the owner allows it).
    pub can_sign_in: bool,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last password change.
    pub password_changed_at: Timestamp,
}

/// A signed-in session. Only the hash of its cookie value is stored.
#[derive(Clone, Debug, PartialEq)]
pub struct Session {
    /// Public id, to list and revoke it.
    pub id: String,
    /// Hash of the cookie value.
    pub id_hash: TokenHash,
    /// The account.
    pub account: String,
    /// Sign-in time.
    pub created_at: Timestamp,
    /// Last request.
    pub last_seen: Timestamp,
    /// Absolute expiry.
    pub expires_at: Timestamp,
    /// A coarse description of the browser ("Firefox on Linux"), for the sessions list.
    pub client: String,
}

/// An invitation for a member to create their account.
#[derive(Clone, Debug, PartialEq)]
pub struct Invitation {
    /// Hash of the single-use code.
    pub code_hash: TokenHash,
    /// The household.
    pub household: SubjectId,
    /// The member the account will belong to.
    pub member: SubjectId,
    /// Expiry.
    pub expires_at: Timestamp,
    /// Who invited (an account id).
    pub created_by: String,
}

/// A signed firmware release as accepted.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredRelease {
    /// Product id.
    pub product: String,
    /// Version.
    pub version: String,
    /// The signed metadata document, as received (JSON).
    pub signed: String,
    /// When accepted.
    pub created_at: Timestamp,
}
