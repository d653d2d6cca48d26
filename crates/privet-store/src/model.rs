//! What the store holds that only the store needs to name: rows to create, devices, keys,
//! record blocks, requests, accounts and sessions. The domain types every rule decides over
//! (subjects, consents, objections, roles, audit entries) are `privet-policy`'s, re-exported.

use jiff::Timestamp;
use privet_crypto::{Pseudonym, TokenHash};
use privet_manifest::Retention;
use privet_policy::{
    ApiKeyId, ChunkWindow, DeviceId, PauseReason, RequestClock, Role, SubjectId, SubjectKind,
    VisitorScope, uk_date,
};
use serde::{Deserialize, Serialize};

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
    /// Its token hashed in the MQTT broker's password-file format (Mosquitto PBKDF2-SHA512,
    /// `$7$…`), so broker credentials can be written without the token in clear.
    pub broker_hash: Option<String>,
    /// Creation time.
    pub created_at: Timestamp,
}

/// A device's MQTT broker credential: what the broker's password file holds for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrokerCredential {
    /// The device (its broker user name).
    pub device: DeviceId,
    /// Its token in the broker's password-file format (see [`NewDevice::broker_hash`]).
    pub hash: String,
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
    /// The chunk it is stored in (from [`privet_policy::chunk_window`]).
    pub window: ChunkWindow,
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
    /// The household the batch was admitted for, at the version its permissions were read
    /// at. When present, the append commits only if, at commit, the household's version is
    /// still this one and the device is still attached to it and not revoked; otherwise that
    /// call writes nothing and fails with `Conflict` (`household` or `device`). This is what
    /// orders ingest against consent, objection, restriction, membership, device and
    /// erasure changes made by any instance sharing the store.
    pub admitted_under: Option<HouseholdVersion>,
    /// The delivery fingerprints of the messages the call stores (one per message; several
    /// when a device's messages in flight are stored together; none for HTTP batches). The
    /// append records each for the device in the same commit (at `at`, which
    /// [`crate::Store::prune_deliveries`] goes by); if the device already has any of them
    /// recorded, or the list names one twice, the call writes nothing (no blocks, no touch of
    /// the device, no delivery) and fails with `Conflict` on `delivery`, while the calls
    /// grouped with it commit as usual. They are recorded even when there are no blocks, and
    /// checked before [`DeviceSeen::admitted_under`]: a message stored once is a duplicate
    /// even if its household changed since. Of two calls with one device and a delivery in
    /// common, one commits and the other fails so.
    pub deliveries: Vec<DeliveryId>,
}

/// A message's delivery fingerprint (e.g. SHA-256 of device id and payload): a redelivered
/// message carries the same one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DeliveryId(pub [u8; 32]);

/// A household and the version of what it allows, as read (see
/// [`crate::Store::household_version`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HouseholdVersion {
    /// The household.
    pub household: SubjectId,
    /// Its version.
    pub version: u64,
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
    /// A complaint about how their data is used (Data (Use and Access) Act 2025):
    /// acknowledged within 30 days, answered without undue delay.
    Complaint,
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
            RequestKind::Complaint => "complaint",
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
            "complaint" => RequestKind::Complaint,
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
    /// Logged by staff, or recorded from a person's own export or erasure.
    pub source: RequestSource,
    /// The running pause of its clock, if stopped.
    pub pause: Option<Pause>,
    /// Whole days its clock stood still in pauses that ended.
    pub paused_days: u32,
    /// For a person without an account (a visitor): where their data is; `subject` is then
    /// the household whose device recorded them.
    pub visitor: Option<VisitorScope>,
}

impl RightsRequest {
    /// What its deadline depends on, for `privet_policy`'s rules.
    pub fn clock(&self) -> RequestClock {
        RequestClock {
            due: self.due,
            extended_due: self.extended_due,
            paused_days: self.paused_days,
            paused: self.pause.map(|p| (p.reason, uk_date(p.since))),
            done: self.done,
        }
    }
}

/// How a request came to be in the register.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestSource {
    /// Received by e-mail, phone or letter and logged by staff.
    Staff,
    /// The person exported or erased their own data on the pages or with the API.
    SelfService,
}

impl RequestSource {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            RequestSource::Staff => "staff",
            RequestSource::SelfService => "self_service",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "staff" => Some(RequestSource::Staff),
            "self_service" => Some(RequestSource::SelfService),
            _ => None,
        }
    }
}

/// A stopped clock: why, and since when.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Pause {
    /// Waiting for identity or for a clarification.
    pub reason: PauseReason,
    /// When it stopped.
    pub since: Timestamp,
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
#[derive(Clone, PartialEq)]
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

/// Never shows the password hash, the e-mail (sealed or its lookup hash) or the TOTP secret.
impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Account")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("household", &self.household)
            .field("member", &self.member)
            .field("owner", &self.owner)
            .field("role", &self.role)
            .field("totp_enabled", &self.totp_enabled)
            .field("can_sign_in", &self.can_sign_in)
            .finish_non_exhaustive()
    }
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

/// A background job to queue (a retention sweep, deleting an erased subject's blocks).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewJob {
    /// What to do, e.g. `retention` or `purge-subject`.
    pub kind: String,
    /// Its argument: an opaque id, a pseudonym in hex or a time slot, never a personal value.
    /// A job of the same kind and argument is queued once, ever (until pruned).
    pub arg: String,
    /// Not taken before this time.
    pub due: Timestamp,
}

/// A queued job as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Job {
    /// Its id.
    pub id: i64,
    /// What to do.
    pub kind: String,
    /// Its argument.
    pub arg: String,
    /// Not taken before this time.
    pub due: Timestamp,
    /// How many times it was taken (a take whose holder died counts too).
    pub attempts: u32,
    /// Held by whoever took it until then; taken again after.
    pub leased_until: Option<Timestamp>,
    /// When it was finished; `None` while pending.
    pub done_at: Option<Timestamp>,
}

/// A product's manifest as published to the store, so every instance serves the same ones:
/// one immutable version of the product's manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredManifest {
    /// The product id.
    pub product: String,
    /// The manifest's `product.version` (`"1"` when it names none). Empty only for texts
    /// published before versions were recorded (migration 0007): their version is in the text.
    pub version: String,
    /// The manifest's TOML text, as published.
    pub source: String,
    /// SHA-256 of the text, lowercase hex: publishing the same text again is a no-op.
    pub digest: String,
    /// When it was published.
    pub published_at: Timestamp,
    /// Who published it: `account:…`, `key:…`, `cli`, `serve`, `demo` (empty for texts
    /// published before this was recorded).
    pub published_by: String,
}

/// What [`crate::Store::publish_manifest`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Published {
    /// The text is stored: a new version of its product.
    New,
    /// The product had this very text (as its newest or before): nothing changed. Holds the
    /// text's first publication.
    AlreadyPublished(StoredManifest),
    /// The product has this version with another text: nothing changed, since a published
    /// version is never replaced. Holds the version as published.
    VersionTaken(StoredManifest),
}

/// Something other instances sharing the store must drop from their caches.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Change {
    /// Something about a household changed: a consent, an objection, a restriction, a
    /// member, a device claimed or reset.
    Household(SubjectId),
    /// A subject was erased: its key is gone.
    Erased(Pseudonym),
    /// New manifests were published.
    Manifests,
    /// Changes may have been missed (the listener reconnected): drop everything.
    Everything,
}

impl Change {
    /// The text sent between instances (a PostgreSQL NOTIFY payload): ids and pseudonyms only.
    pub fn encode(&self) -> String {
        match self {
            Change::Household(id) => format!("h:{}", id.as_str()),
            Change::Erased(p) => format!("e:{}", p.to_hex()),
            Change::Manifests => "m".to_owned(),
            Change::Everything => "*".to_owned(),
        }
    }

    /// Parses [`Change::encode`]'s text; `None` for anything else.
    pub fn decode(s: &str) -> Option<Change> {
        match s.split_once(':') {
            Some(("h", id)) if !id.is_empty() => Some(Change::Household(SubjectId::new(id))),
            Some(("e", hex)) => hex.parse::<Pseudonym>().ok().map(Change::Erased),
            None if s == "m" => Some(Change::Manifests),
            None if s == "*" => Some(Change::Everything),
            _ => None,
        }
    }
}
