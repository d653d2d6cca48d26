//! The `Store` trait every backend implements, and the `Keyring` trait for wrapped subject keys.
//!
//! Both backends must behave identically; [`crate::suite`] is the definition of "identically".

use crate::error::Result;
use crate::model::{
    Account, ApiKey, Block, BlockQuery, BrokerCredential, Change, Device, DeviceSeen,
    ErasedSubject, Invitation, Job, NewApiKey, NewBlock, NewDevice, NewJob, NewSubject, Published,
    RetentionReport, RightsRequest, Session, StoredManifest, StoredRelease,
};
use crate::webhooks::{AttemptOutcome, NewWebhookDelivery, WebhookDelivery, WebhookEndpoint};
use async_trait::async_trait;
use futures::stream::BoxStream;
use jiff::Timestamp;
use jiff::civil::Date;
use privet_crypto::{AuditHash, Pseudonym, TokenHash};
use privet_policy::{
    ApiKeyId, AuditChain, AuditEntry, ChunkId, ChunkInfo, ConsentRecord, DeviceId, ErasureStep,
    NewAuditEntry, NewConsent, Objection, PauseReason, StoredAuditRow, Subject, SubjectId,
    WebhookId,
};

/// A stream of blocks read in order, holding only a few in memory at a time.
pub type BlockStream = BoxStream<'static, Result<Block>>;

/// Changes announced by the instances sharing a store, as they arrive.
pub type ChangeStream = BoxStream<'static, Change>;

/// Everything Privet persists except keys. Every write is durable when its future resolves.
///
/// **Household versions.** Every household has a version, bumped in the same transaction as
/// every write that changes what the household allows: a consent, an objection, a restriction,
/// a new member, a device claimed or reset, an erasure step. Ingest reads it before the rest
/// of the household's permissions and hands it back to [`Store::append_blocks`] (in
/// [`DeviceSeen::admitted_under`]), which commits only if it is unchanged: a batch admitted
/// under permissions some instance has changed since writes nothing.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Creates a household or member. `Conflict` if the id or pseudonym exists. A new member
    /// bumps its household's version.
    async fn create_subject(&self, subject: NewSubject) -> Result<()>;
    /// The subject with this id.
    async fn subject(&self, id: &SubjectId) -> Result<Subject>;
    /// The subject with this pseudonym.
    async fn subject_by_pseudonym(&self, pseudonym: &Pseudonym) -> Result<Subject>;
    /// The members of a household, oldest first.
    async fn members(&self, household: &SubjectId) -> Result<Vec<Subject>>;
    /// The household's version (see the trait's notes); `NotFound` if it is gone.
    async fn household_version(&self, household: &SubjectId) -> Result<u64>;
    /// Replaces a subject's sealed profile (rectification).
    async fn update_profile(&self, id: &SubjectId, profile: Vec<u8>) -> Result<()>;
    /// Sets or clears a restriction of processing; bumps the subject's household's version.
    async fn set_restricted(&self, id: &SubjectId, restricted: bool) -> Result<()>;
    /// Every subject's pseudonym, for purging records whose key is gone.
    async fn all_pseudonyms(&self) -> Result<Vec<Pseudonym>>;
    /// Carries out one step of an erasure plan in one commit: deletes the subject's row (its
    /// pseudonym mapping) and everything keyed by its id — consents, objections, its account
    /// with its sessions, recovery codes and invitations — and treats its devices as the step
    /// says (a device it revokes loses its broker hash and deliveries with its token). Records
    /// are deleted separately ([`Store::delete_subject_blocks`]). Once it returns, no file of
    /// the backend holds the deleted rows. `NotFound` if the subject is gone. Bumps
    /// the household's version in the same commit (while its row exists: a household's own
    /// step deletes it, which fails every append admitted under it just as well).
    async fn erase_subject(&self, step: &ErasureStep, at: Timestamp) -> Result<ErasedSubject>;

    /// Creates a device. `Conflict` if the id or a hash exists.
    async fn create_device(&self, device: NewDevice) -> Result<()>;
    /// The device with this id.
    async fn device(&self, id: &DeviceId) -> Result<Device>;
    /// The unrevoked device whose token hashes to `hash`.
    async fn device_by_token(&self, hash: &TokenHash) -> Result<Device>;
    /// Devices of a household.
    async fn devices_of(&self, household: &SubjectId) -> Result<Vec<Device>>;
    /// Every device.
    async fn all_devices(&self) -> Result<Vec<Device>>;
    /// Records that a device sent data, and the firmware it reported.
    async fn touch_device(
        &self,
        id: &DeviceId,
        at: Timestamp,
        firmware: Option<String>,
    ) -> Result<()>;
    /// Attaches an unclaimed device to a household by its claim code; consumes the code and
    /// bumps the household's version. `NotFound` for a wrong or used code alike.
    async fn claim_device(
        &self,
        claim: &TokenHash,
        household: &SubjectId,
        member: Option<&SubjectId>,
    ) -> Result<Device>;
    /// The unclaimed, unrevoked device a claim code belongs to, without consuming the code (so
    /// set-up can show what the device collects before it is attached). `NotFound` for a wrong
    /// or used code alike.
    async fn unclaimed_device(&self, claim: &TokenHash) -> Result<Device>;
    /// Unlinks a device from its household and member and replaces its token (revoking the old
    /// one), its broker hash and its claim code; with no new token the device is revoked (and
    /// has no broker hash). Forgets its deliveries and bumps the version of the household it
    /// was in. Once it returns, no file of the backend holds the old token's hash, nor its old
    /// broker hash.
    async fn reset_device(
        &self,
        id: &DeviceId,
        at: Timestamp,
        new_token: Option<TokenHash>,
        new_claim: Option<TokenHash>,
        new_broker_hash: Option<String>,
    ) -> Result<Device>;
    /// The broker credential of every unrevoked device that has a broker hash, by device id.
    async fn broker_credentials(&self) -> Result<Vec<BrokerCredential>>;

    /// Stores a new API key.
    async fn create_api_key(&self, key: NewApiKey) -> Result<()>;
    /// The unrevoked key whose secret hashes to `hash`.
    async fn api_key_by_hash(&self, hash: &TokenHash) -> Result<ApiKey>;
    /// Every API key.
    async fn api_keys(&self) -> Result<Vec<ApiKey>>;
    /// Revokes a key.
    async fn revoke_api_key(&self, id: &ApiKeyId, at: Timestamp) -> Result<()>;

    /// Appends a consent decision to the subject's history; bumps its household's version.
    async fn record_consent(&self, consent: NewConsent) -> Result<ConsentRecord>;
    /// A subject's whole consent history, oldest first.
    async fn consents(&self, subject: &SubjectId) -> Result<Vec<ConsentRecord>>;
    /// The whole consent histories of these subjects, oldest first (which decision is in force
    /// is `privet_policy::ConsentLedger`'s to say).
    async fn consent_histories(&self, subjects: &[SubjectId]) -> Result<Vec<ConsentRecord>>;

    /// Appends sealed record blocks, each into the chunk its `window` names, in one durable
    /// commit (grouped with concurrent writers), and records in the same commit that the
    /// device was seen. With [`DeviceSeen::admitted_under`], checks in that commit that the
    /// household's version is unchanged and the device still attached to it and unrevoked:
    /// otherwise writes nothing and fails with `Conflict` on `household` (or `device`), while
    /// the calls grouped with it commit as usual. `NotFound` if the device does not exist.
    /// With [`DeviceSeen::delivery`], records the delivery in that commit, or — if the device
    /// has it recorded — writes nothing and fails with `Conflict` on `delivery`, checked before
    /// the household.
    async fn append_blocks(&self, blocks: Vec<NewBlock>, seen: Option<DeviceSeen>) -> Result<()>;
    /// Forgets the deliveries recorded before `before` (a redelivery after that is stored
    /// again); returns how many.
    async fn prune_deliveries(&self, before: Timestamp) -> Result<u64>;
    /// Streams the blocks matching `query`, from one consistent snapshot.
    async fn scan_blocks(&self, query: BlockQuery) -> Result<BlockStream>;
    /// Replaces a block's payload (after removing fields from it), only if its payload is
    /// still `old`, the one the caller read (compare-and-set: of two purges rewriting one block,
    /// the second re-reads it rather than bring back what the first removed). `NotFound` if
    /// the block is gone, `Conflict` if its payload changed.
    async fn rewrite_block(
        &self,
        id: [u8; 16],
        old: Vec<u8>,
        payload: Vec<u8>,
        count: u32,
    ) -> Result<()>;
    /// Deletes blocks by id.
    async fn delete_blocks(&self, ids: Vec<[u8; 16]>) -> Result<u64>;
    /// Deletes every block of a subject; returns how many.
    async fn delete_subject_blocks(&self, subject: &Pseudonym) -> Result<u64>;
    /// Deletes every block sent by a device; returns how many.
    async fn delete_device_blocks(&self, device: &DeviceId) -> Result<u64>;
    /// Every chunk, oldest window first.
    async fn chunks(&self) -> Result<Vec<ChunkInfo>>;
    /// Drops these chunks whole (whichever still exist) and says what they held.
    async fn drop_chunks(&self, chunks: &[ChunkId]) -> Result<RetentionReport>;
    /// Number of stored blocks and events.
    async fn record_counts(&self) -> Result<(u64, u64)>;
    /// Distinct subjects (by pseudonym) that have blocks.
    async fn block_subjects(&self) -> Result<Vec<Pseudonym>>;
    /// How many blocks and events a subject has.
    async fn subject_record_counts(&self, subject: &Pseudonym) -> Result<(u64, u64)>;

    /// Stores a new rights request.
    async fn create_request(&self, request: RightsRequest) -> Result<()>;
    /// Extends an open, never extended request; `Conflict` if it is done or was extended.
    async fn extend_request(&self, id: &str, due: Date, reason: &str) -> Result<RightsRequest>;
    /// Claims an open request for the one completing it, until `until`: `Conflict` if it is
    /// done, paused, or another claim holds it (one made before `at` whose `until` is after `at`). Of
    /// instances completing one request at once, exactly one gets the claim and runs the
    /// request's action; a claimant that died is replaced once its claim runs out.
    async fn claim_request(
        &self,
        id: &str,
        at: Timestamp,
        until: Timestamp,
    ) -> Result<RightsRequest>;
    /// Gives up the claim made with `until` (the action failed), if it is still the one that
    /// holds the open request; otherwise does nothing.
    async fn release_request(&self, id: &str, until: Timestamp) -> Result<()>;
    /// Stops an open, running request's clock at `at` for `reason`; `Conflict` if it is done,
    /// already paused, or held by a claim at `at` (someone is completing it).
    async fn pause_request(
        &self,
        id: &str,
        reason: PauseReason,
        at: Timestamp,
    ) -> Result<RightsRequest>;
    /// Restarts the clock of the request paused since `since`, adding `days` to the days it
    /// stood still; `Conflict` unless that very pause still holds the open request (two
    /// resumes count the days once).
    async fn resume_request(&self, id: &str, since: Timestamp, days: u32) -> Result<RightsRequest>;
    /// Marks an open request done; `Conflict` if it already is (so it is completed once) or
    /// is paused.
    async fn complete_request(&self, id: &str, at: Timestamp) -> Result<RightsRequest>;
    /// One rights request.
    async fn request(&self, id: &str) -> Result<RightsRequest>;
    /// Every rights request, by due date.
    async fn requests(&self) -> Result<Vec<RightsRequest>>;
    /// Records an objection to a purpose; bumps the subject's household's version.
    async fn record_objection(&self, objection: Objection) -> Result<()>;
    /// The objections of these subjects.
    async fn objections(&self, subjects: &[SubjectId]) -> Result<Vec<Objection>>;

    /// Creates an account. `Conflict` if the e-mail or member already has one.
    async fn create_account(&self, account: Account) -> Result<()>;
    /// The account with this id.
    async fn account(&self, id: &str) -> Result<Account>;
    /// The account whose e-mail hashes to `lookup`.
    async fn account_by_email(&self, lookup: &[u8]) -> Result<Account>;
    /// The account of a member.
    async fn account_of_member(&self, member: &SubjectId) -> Result<Account>;
    /// Every staff account.
    async fn staff_accounts(&self) -> Result<Vec<Account>>;
    /// Sets a new password hash (a password change).
    async fn set_password(&self, account: &str, hash: String, at: Timestamp) -> Result<()>;
    /// Replaces the password hash with a stronger hash of the same password, only if it is
    /// still `old` (a change made meanwhile wins); returns whether it was replaced.
    async fn rehash_password(&self, account: &str, old: &str, new: String) -> Result<bool>;
    /// Starts enrolling an authenticator: stores its sealed secret while two-step verification
    /// is off. `Conflict` if it is on.
    async fn start_totp(&self, account: &str, sealed: Vec<u8>) -> Result<()>;
    /// Turns two-step verification on with the step of the confirming code and replaces the
    /// recovery codes (hashes) in one write, only if it is off and a secret is enrolled:
    /// `Conflict` otherwise, with the codes untouched.
    async fn enable_totp(&self, account: &str, step: u64, recovery: Vec<TokenHash>) -> Result<()>;
    /// Turns two-step verification off and forgets the secret and the recovery codes.
    async fn disable_totp(&self, account: &str) -> Result<()>;
    /// Records that the code of time step `step` was used, only if no code of that step or a
    /// later one was (compare-and-set): of concurrent sign-ins with one code exactly one gets
    /// `true`.
    async fn advance_totp_step(&self, account: &str, step: u64) -> Result<bool>;
    /// Whether the account may sign in.
    async fn set_can_sign_in(&self, account: &str, allowed: bool) -> Result<()>;
    /// Replaces an account's recovery codes (hashes).
    async fn set_recovery_codes(&self, account: &str, hashes: Vec<TokenHash>) -> Result<()>;
    /// Uses an unused recovery code once; `NotFound` if it is wrong or used.
    async fn use_recovery_code(&self, account: &str, hash: &TokenHash, at: Timestamp)
    -> Result<()>;
    /// Unused recovery codes left.
    async fn recovery_codes_left(&self, account: &str) -> Result<u64>;

    /// Stores a new session.
    async fn create_session(&self, session: Session) -> Result<()>;
    /// The session whose cookie hashes to `hash`.
    async fn session(&self, hash: &TokenHash) -> Result<Session>;
    /// Records activity on a session.
    async fn touch_session(&self, hash: &TokenHash, at: Timestamp) -> Result<()>;
    /// Sessions of an account, newest first.
    async fn sessions_of(&self, account: &str) -> Result<Vec<Session>>;
    /// Revokes one session of an account by its public id.
    async fn delete_session(&self, account: &str, id: &str) -> Result<()>;
    /// Revokes every session of an account except `keep` (by public id); returns how many.
    async fn delete_sessions(&self, account: &str, keep: Option<&str>) -> Result<u64>;

    /// Stores an invitation.
    async fn create_invitation(&self, invitation: Invitation) -> Result<()>;
    /// A valid, unexpired, unused invitation, without consuming it.
    async fn invitation(&self, code: &TokenHash, at: Timestamp) -> Result<Invitation>;
    /// Consumes a valid, unexpired invitation; `NotFound` if wrong, used or expired.
    async fn take_invitation(&self, code: &TokenHash, at: Timestamp) -> Result<Invitation>;

    /// Stores a verified release. `Conflict` if the version exists.
    async fn put_release(&self, release: StoredRelease) -> Result<()>;
    /// A product's releases.
    async fn releases(&self, product: &str) -> Result<Vec<StoredRelease>>;

    /// Appends an entry to the audit chain: under the backend's write lock, reads the head and
    /// stores what `privet_policy::audit::link` makes of the entry.
    async fn append_audit(&self, entry: NewAuditEntry, chain: &AuditChain) -> Result<AuditEntry>;
    /// The newest entry's sequence number and hash, if the log has any.
    async fn audit_head(&self) -> Result<Option<(i64, AuditHash)>>;
    /// Audit entries at or after `since`, oldest first, at most `limit`.
    async fn audit(&self, since: Option<Timestamp>, limit: usize) -> Result<Vec<AuditEntry>>;
    /// Audit entries that touch `subject`.
    async fn audit_for(&self, subject: &Pseudonym) -> Result<Vec<AuditEntry>>;
    /// The newest audit entries by one actor (an account's security events), newest first.
    async fn audit_by_actor(&self, actor: &str, limit: usize) -> Result<Vec<AuditEntry>>;
    /// Stored audit rows from `from_seq` on, in order, at most `limit`: what
    /// `privet_policy::ChainVerifier` recomputes.
    async fn audit_rows(&self, from_seq: i64, limit: usize) -> Result<Vec<StoredAuditRow>>;

    /// Records a failed attempt (sign-in, claim code) under a throttle key — a keyed hash,
    /// never an address or e-mail — atomically across instances: a count whose last failure is
    /// before `forget_before` starts again at one. Returns the new count.
    async fn add_failure(&self, key: &[u8], at: Timestamp, forget_before: Timestamp)
    -> Result<u32>;
    /// The failure count of a throttle key and the time of its last failure.
    async fn failures(&self, key: &[u8]) -> Result<Option<(u32, Timestamp)>>;
    /// Forgets a throttle key's failures (after a success).
    async fn clear_failures(&self, key: &[u8]) -> Result<()>;
    /// Forgets every key whose last failure is before `before`; returns how many.
    async fn prune_failures(&self, before: Timestamp) -> Result<u64>;

    /// Queues a background job unless one of the same kind and argument was ever queued (and
    /// not pruned); returns whether it was queued. Instances racing to queue the same job
    /// queue it once.
    async fn enqueue_job(&self, job: NewJob) -> Result<bool>;
    /// Takes the oldest pending job of one of `kinds` that is due at `now` and held by nobody
    /// (never taken, or its holder's lease ran out: the holder died), leasing it until
    /// `lease_until` and counting the attempt. Jobs of other kinds are left for instances that
    /// can run them (during a rolling upgrade, a newer instance's new kind waits for a newer
    /// instance). Of concurrent takers, exactly one gets each job.
    async fn take_job(
        &self,
        kinds: &[&str],
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<Option<Job>>;
    /// Marks a taken job done at `at`; `NotFound` if there is no such pending job.
    async fn finish_job(&self, id: i64, at: Timestamp) -> Result<()>;
    /// Every job not pruned, oldest first.
    async fn jobs(&self) -> Result<Vec<Job>>;
    /// Deletes jobs finished before `before`; returns how many.
    async fn prune_jobs(&self, before: Timestamp) -> Result<u64>;

    /// Publishes a product's manifest text as a new version, unless that text (its digest) was
    /// ever published for the product, as its newest or before ([`Published::AlreadyPublished`]:
    /// going back to an older text publishes nothing, so an instance restarted with an older
    /// manifests directory does not roll the others back), or the product has its version
    /// with another text ([`Published::VersionTaken`]: a version is immutable). Instances
    /// racing to publish one text publish it once; of racers publishing one version with
    /// different texts, one wins. An empty version is stored but checked against no other.
    async fn publish_manifest(&self, manifest: StoredManifest) -> Result<Published>;
    /// The newest published manifest of every product, by product id.
    async fn manifests(&self) -> Result<Vec<StoredManifest>>;
    /// Every published version of a product, in publish order (oldest first); empty for a
    /// product never published.
    async fn manifest_versions(&self, product: &str) -> Result<Vec<StoredManifest>>;

    /// Registers a webhook endpoint. `Conflict` if the id exists.
    async fn create_webhook(&self, endpoint: WebhookEndpoint) -> Result<()>;
    /// Every endpoint, deleted ones too, oldest first.
    async fn webhooks(&self) -> Result<Vec<WebhookEndpoint>>;
    /// Deletes an endpoint at `at`: it is kept (disabled) so its deliveries stay visible, and
    /// its pending deliveries become dead in the same commit. `NotFound` if there is no such
    /// endpoint or it is deleted already.
    async fn disable_webhook(&self, id: &WebhookId, at: Timestamp) -> Result<()>;
    /// Queues deliveries in one commit, each due at its `created_at`. `Conflict` (and nothing
    /// queued) if an id exists.
    async fn enqueue_webhook_deliveries(&self, deliveries: Vec<NewWebhookDelivery>) -> Result<()>;
    /// Claims the pending delivery due longest ago at `now` that no sender holds (never
    /// claimed, or its sender's lease ran out: it died), leasing it until `lease_until` and
    /// counting the attempt. Of concurrent claimants — on any instance — exactly one gets each
    /// delivery.
    async fn claim_webhook_delivery(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<Option<WebhookDelivery>>;
    /// Records how the attempt made under the claim `lease_until` ended, and ends the claim;
    /// `Conflict` (and nothing recorded) if the delivery is no longer pending under that claim
    /// (its lease ran out and another sender claimed it, or its endpoint was deleted).
    async fn finish_webhook_delivery(
        &self,
        id: &str,
        lease_until: Timestamp,
        outcome: AttemptOutcome,
    ) -> Result<WebhookDelivery>;
    /// Makes a dead delivery pending again, due at `at`, with its attempts counted from zero;
    /// `Conflict` if it is not dead or its endpoint is deleted, `NotFound` if there is none.
    async fn retry_webhook_delivery(&self, id: &str, at: Timestamp) -> Result<WebhookDelivery>;
    /// One delivery.
    async fn webhook_delivery(&self, id: &str) -> Result<WebhookDelivery>;
    /// Deliveries, newest first, at most `limit`; only one endpoint's with `endpoint`.
    async fn webhook_deliveries(
        &self,
        endpoint: Option<&WebhookId>,
        limit: usize,
    ) -> Result<Vec<WebhookDelivery>>;

    /// Tells every instance sharing this store, this one included, that cached state changed
    /// (PostgreSQL: `NOTIFY`, delivered at commit). A single-process backend has no one else
    /// to tell and may do nothing.
    async fn announce(&self, change: Change) -> Result<()>;
    /// Changes announced from now on, as they arrive; a backend that cannot tell whether some
    /// were missed (its listener reconnected) yields [`Change::Everything`]. A single-process
    /// backend's stream may never yield.
    async fn changes(&self) -> Result<ChangeStream>;
}

/// Wrapped subject keys, kept apart from the data store (never in its backups).
#[async_trait]
pub trait Keyring: Send + Sync + 'static {
    /// Stores a wrapped key. `Conflict` if the subject has one.
    async fn put(&self, subject: &Pseudonym, wrapped: Vec<u8>, at: Timestamp) -> Result<()>;
    /// The wrapped key of a subject.
    async fn get(&self, subject: &Pseudonym) -> Result<Vec<u8>>;
    /// Destroys a subject's key so that no copy remains in any of the keyring's files.
    /// Returns whether one existed.
    async fn destroy(&self, subject: &Pseudonym) -> Result<bool>;
    /// Which of these subjects still have a key.
    async fn has_keys(&self, subjects: &[Pseudonym]) -> Result<Vec<bool>>;
    /// Records the newest audit entry, so truncation of the log can be detected; never moves
    /// it back.
    async fn set_audit_anchor(&self, seq: i64, hash: AuditHash) -> Result<()>;
    /// Replaces the anchor even if it moves back: only for restoring a backup, whose audit log
    /// ends earlier (the restore's own audit entry records the anchor it replaced).
    async fn reset_audit_anchor(&self, seq: i64, hash: AuditHash) -> Result<()>;
    /// The recorded newest audit entry.
    async fn audit_anchor(&self) -> Result<Option<(i64, AuditHash)>>;
    /// Wrapped keys in pseudonym order after `after`, at most `limit`: what a master-key
    /// rotation re-wraps, a page at a time.
    async fn wrapped_keys(
        &self,
        after: Option<Pseudonym>,
        limit: usize,
    ) -> Result<Vec<(Pseudonym, Vec<u8>)>>;
    /// Replaces a subject's wrapped key only if it is still `old` (an erasure or another
    /// rotation meanwhile wins); returns whether it was replaced.
    async fn rewrap(&self, subject: &Pseudonym, old: &[u8], new: Vec<u8>) -> Result<bool>;
    /// An instance secret by name (the receipt signing key, sealed under a master-key epoch).
    async fn secret(&self, name: &str) -> Result<Option<Vec<u8>>>;
    /// Stores an instance secret unless one of that name exists, and returns the stored one:
    /// of instances starting together, the first one's secret is everyone's.
    async fn put_secret(&self, name: &str, sealed: Vec<u8>) -> Result<Vec<u8>>;
    /// Replaces an instance secret only if it is still `old`; returns whether it was replaced.
    async fn rewrap_secret(&self, name: &str, old: &[u8], new: Vec<u8>) -> Result<bool>;
}
