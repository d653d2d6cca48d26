//! `Store` for [`SqliteStore`]: each method runs on the writer (in a group commit) or on a
//! pooled read connection, calling the module that holds the SQL for its entity.

use crate::{
    SqliteStore, accounts, api_keys, audit, blocks, chunks, consents, devices, failures,
    invitations, jobs, manifests, releases, requests, sessions, subjects, two_step, webhooks,
};
use async_trait::async_trait;
use futures::StreamExt;
use jiff::Timestamp;
use jiff::civil::Date;
use privet_crypto::{AuditHash, Pseudonym, TokenHash};
use privet_policy::{
    ApiKeyId, AuditChain, AuditEntry, ChunkId, ChunkInfo, ConsentRecord, DeviceId, ErasureStep,
    NewAuditEntry, NewConsent, Objection, PauseReason, StoredAuditRow, Subject, SubjectId,
};
use privet_store::{
    Account, ApiKey, BlockQuery, BlockStream, BrokerCredential, Change, ChangeStream, Device,
    DeviceSeen, ErasedSubject, Error, Invitation, Job, NewApiKey, NewBlock, NewDevice, NewJob,
    NewSubject, Published, Result, RetentionReport, RightsRequest, Session, Store, StoredManifest,
    StoredRelease,
};
use privet_store::{
    AttemptOutcome, NewWebhookDelivery, WebhookDelivery, WebhookEndpoint, WebhookId,
};

/// Blocks of one subject deleted per chunk in one write when its records are erased.
const DELETE_SLICE: i64 = 16;

#[async_trait]
impl Store for SqliteStore {
    async fn create_subject(&self, subject: NewSubject) -> Result<()> {
        self.writer
            .write(move |c| subjects::create(c, &subject))
            .await
    }
    async fn subject(&self, id: &SubjectId) -> Result<Subject> {
        let id = id.clone();
        self.readers.read(move |c| subjects::get(c, &id)).await
    }
    async fn subject_by_pseudonym(&self, pseudonym: &Pseudonym) -> Result<Subject> {
        let p = *pseudonym;
        self.readers
            .read(move |c| subjects::by_pseudonym(c, &p))
            .await
    }
    async fn members(&self, household: &SubjectId) -> Result<Vec<Subject>> {
        let h = household.clone();
        self.readers.read(move |c| subjects::members(c, &h)).await
    }
    async fn household_version(&self, household: &SubjectId) -> Result<u64> {
        let h = household.clone();
        self.readers
            .read(move |c| {
                subjects::version(c, &h)?.ok_or_else(|| Error::not_found("subject", h.as_str()))
            })
            .await
    }
    async fn update_profile(&self, id: &SubjectId, profile: Vec<u8>) -> Result<()> {
        let id = id.clone();
        self.writer
            .write(move |c| subjects::update_profile(c, &id, &profile))
            .await
    }
    async fn set_restricted(&self, id: &SubjectId, restricted: bool) -> Result<()> {
        let id = id.clone();
        self.writer
            .write(move |c| subjects::set_restricted(c, &id, restricted))
            .await
    }
    async fn all_pseudonyms(&self) -> Result<Vec<Pseudonym>> {
        self.readers.read(subjects::all_pseudonyms).await
    }
    async fn erase_subject(&self, step: &ErasureStep, at: Timestamp) -> Result<ErasedSubject> {
        let step = step.clone();
        let erased = self
            .writer
            .write(move |c| subjects::erase(c, &step, at))
            .await?;
        self.purge_wal().await;
        Ok(erased)
    }

    async fn create_device(&self, device: NewDevice) -> Result<()> {
        self.writer
            .write(move |c| devices::create(c, &device))
            .await
    }
    async fn device(&self, id: &DeviceId) -> Result<Device> {
        let id = id.clone();
        self.readers.read(move |c| devices::get(c, &id)).await
    }
    async fn device_by_token(&self, hash: &TokenHash) -> Result<Device> {
        let h = *hash;
        self.readers.read(move |c| devices::by_token(c, &h)).await
    }
    async fn devices_of(&self, household: &SubjectId) -> Result<Vec<Device>> {
        let h = household.clone();
        self.readers
            .read(move |c| devices::of_household(c, &h))
            .await
    }
    async fn all_devices(&self) -> Result<Vec<Device>> {
        self.readers.read(devices::all).await
    }
    async fn touch_device(
        &self,
        id: &DeviceId,
        at: Timestamp,
        firmware: Option<String>,
    ) -> Result<()> {
        let id = id.clone();
        self.writer
            .write(move |c| devices::touch(c, &id, at, firmware.as_deref()))
            .await
    }
    async fn claim_device(
        &self,
        claim: &TokenHash,
        household: &SubjectId,
        member: Option<&SubjectId>,
    ) -> Result<Device> {
        let (claim, h, m) = (*claim, household.clone(), member.cloned());
        self.writer
            .write(move |c| devices::claim(c, &claim, &h, m.as_ref()))
            .await
    }
    async fn unclaimed_device(&self, claim: &TokenHash) -> Result<Device> {
        let claim = *claim;
        self.readers
            .read(move |c| devices::unclaimed(c, &claim))
            .await
    }
    async fn reset_device(
        &self,
        id: &DeviceId,
        at: Timestamp,
        new_token: Option<TokenHash>,
        new_claim: Option<TokenHash>,
        new_broker_hash: Option<String>,
    ) -> Result<Device> {
        let id = id.clone();
        let device = self
            .writer
            .write(move |c| {
                devices::reset(
                    c,
                    &id,
                    at,
                    new_token.as_ref(),
                    new_claim.as_ref(),
                    new_broker_hash.as_deref(),
                )
            })
            .await?;
        // The old token's hash and broker hash must leave the WAL as well.
        self.purge_wal().await;
        Ok(device)
    }
    async fn broker_credentials(&self) -> Result<Vec<BrokerCredential>> {
        self.readers.read(devices::broker_credentials).await
    }

    async fn create_api_key(&self, key: NewApiKey) -> Result<()> {
        self.writer.write(move |c| api_keys::create(c, &key)).await
    }
    async fn api_key_by_hash(&self, hash: &TokenHash) -> Result<ApiKey> {
        let h = *hash;
        self.readers.read(move |c| api_keys::by_hash(c, &h)).await
    }
    async fn api_keys(&self) -> Result<Vec<ApiKey>> {
        self.readers.read(api_keys::all).await
    }
    async fn revoke_api_key(&self, id: &ApiKeyId, at: Timestamp) -> Result<()> {
        let id = id.clone();
        self.writer
            .write(move |c| api_keys::revoke(c, &id, at))
            .await
    }

    async fn record_consent(&self, consent: NewConsent) -> Result<ConsentRecord> {
        self.writer
            .write(move |c| consents::record(c, &consent))
            .await
    }
    async fn consents(&self, subject: &SubjectId) -> Result<Vec<ConsentRecord>> {
        let s = subject.clone();
        self.readers.read(move |c| consents::history(c, &s)).await
    }
    async fn consent_histories(&self, subjects: &[SubjectId]) -> Result<Vec<ConsentRecord>> {
        let s = subjects.to_vec();
        // One snapshot, so the histories of several subjects are of one moment.
        self.readers
            .read_snapshot(move |c| consents::histories(c, &s))
            .await
    }

    async fn append_blocks(&self, blocks: Vec<NewBlock>, seen: Option<DeviceSeen>) -> Result<()> {
        self.writer
            .write_chunks(move |c, cache| {
                // Checked in the job's savepoint, on the one writer: no change to the household
                // can commit between the check and these blocks, and a failed check rolls back
                // the deliveries recorded before it. The deliveries first: a message stored once
                // is a duplicate even if its household changed since.
                if let Some(s) = &seen {
                    devices::record_deliveries(c, s)?;
                    devices::check_admitted(c, s)?;
                }
                blocks::append(c, cache, &blocks)?;
                match seen {
                    Some(s) => devices::touch(c, &s.device, s.at, s.firmware.as_deref()),
                    None => Ok(()),
                }
            })
            .await
    }
    async fn prune_deliveries(&self, before: Timestamp) -> Result<u64> {
        self.writer
            .write(move |c| devices::prune_deliveries(c, before))
            .await
    }
    async fn scan_blocks(&self, query: BlockQuery) -> Result<BlockStream> {
        Ok(blocks::stream(self.readers.clone(), query))
    }
    async fn rewrite_block(
        &self,
        id: [u8; 16],
        old: Vec<u8>,
        payload: Vec<u8>,
        count: u32,
    ) -> Result<()> {
        self.writer
            .write(move |c| blocks::rewrite(c, id, &old, &payload, count))
            .await?;
        // The fields removed from the payload leave the WAL soon, without a stall now.
        self.checkpointer.truncate_soon();
        Ok(())
    }
    async fn delete_blocks(&self, ids: Vec<[u8; 16]>) -> Result<u64> {
        let n = self
            .writer
            .write(move |c| blocks::delete_ids(c, &ids))
            .await?;
        self.checkpointer.truncate_soon();
        Ok(n)
    }
    async fn delete_subject_blocks(&self, subject: &Pseudonym) -> Result<u64> {
        // In slices, each its own write: an erased subject's blocks can be many megabytes, and
        // ingest batches queued on the writer should not wait for all of them at once.
        let s = *subject;
        let mut total = 0;
        loop {
            let n = self
                .writer
                .write(move |c| blocks::delete_subject_slice(c, &s, DELETE_SLICE))
                .await?;
            if n == 0 {
                // Sealed with a destroyed key, the blocks need not leave the WAL this instant.
                self.checkpointer.truncate_soon();
                return Ok(total);
            }
            total += n;
        }
    }
    async fn delete_device_blocks(&self, device: &DeviceId) -> Result<u64> {
        let d = device.clone();
        let n = self
            .writer
            .write(move |c| blocks::delete_device(c, &d))
            .await?;
        self.checkpointer.truncate_soon();
        Ok(n)
    }
    async fn chunks(&self) -> Result<Vec<ChunkInfo>> {
        self.readers.read(chunks::infos).await
    }
    async fn drop_chunks(&self, ids: &[ChunkId]) -> Result<RetentionReport> {
        let ids = ids.to_vec();
        let report = self.writer.write(move |c| chunks::drop(c, &ids)).await?;
        // Expired records are still readable with their subject's key: not in the WAL either.
        self.checkpointer.truncate_soon();
        Ok(report)
    }
    async fn record_counts(&self) -> Result<(u64, u64)> {
        self.readers.read_snapshot(blocks::counts).await
    }
    async fn block_subjects(&self) -> Result<Vec<Pseudonym>> {
        self.readers.read_snapshot(blocks::subjects).await
    }
    async fn subject_record_counts(&self, subject: &Pseudonym) -> Result<(u64, u64)> {
        let s = *subject;
        self.readers
            .read_snapshot(move |c| blocks::subject_counts(c, &s))
            .await
    }

    async fn create_request(&self, request: RightsRequest) -> Result<()> {
        self.writer
            .write(move |c| requests::create(c, &request))
            .await
    }
    async fn extend_request(&self, id: &str, due: Date, reason: &str) -> Result<RightsRequest> {
        let (id, reason) = (id.to_owned(), reason.to_owned());
        self.writer
            .write(move |c| requests::extend(c, &id, due, &reason))
            .await
    }
    async fn claim_request(
        &self,
        id: &str,
        at: Timestamp,
        until: Timestamp,
    ) -> Result<RightsRequest> {
        let id = id.to_owned();
        self.writer
            .write(move |c| requests::claim(c, &id, at, until))
            .await
    }
    async fn release_request(&self, id: &str, until: Timestamp) -> Result<()> {
        let id = id.to_owned();
        self.writer
            .write(move |c| requests::release(c, &id, until))
            .await
    }
    async fn pause_request(
        &self,
        id: &str,
        reason: PauseReason,
        at: Timestamp,
    ) -> Result<RightsRequest> {
        let id = id.to_owned();
        self.writer
            .write(move |c| requests::pause_clock(c, &id, reason, at))
            .await
    }
    async fn resume_request(&self, id: &str, since: Timestamp, days: u32) -> Result<RightsRequest> {
        let id = id.to_owned();
        self.writer
            .write(move |c| requests::resume_clock(c, &id, since, days))
            .await
    }
    async fn complete_request(&self, id: &str, at: Timestamp) -> Result<RightsRequest> {
        let id = id.to_owned();
        self.writer
            .write(move |c| requests::complete(c, &id, at))
            .await
    }
    async fn request(&self, id: &str) -> Result<RightsRequest> {
        let id = id.to_owned();
        self.readers.read(move |c| requests::get(c, &id)).await
    }
    async fn requests(&self) -> Result<Vec<RightsRequest>> {
        self.readers.read(requests::all).await
    }
    async fn record_objection(&self, objection: Objection) -> Result<()> {
        self.writer
            .write(move |c| requests::object(c, &objection))
            .await
    }
    async fn objections(&self, subjects: &[SubjectId]) -> Result<Vec<Objection>> {
        let s = subjects.to_vec();
        self.readers
            .read(move |c| requests::objections(c, &s))
            .await
    }

    async fn create_account(&self, account: Account) -> Result<()> {
        self.writer
            .write(move |c| accounts::create(c, &account))
            .await
    }
    async fn account(&self, id: &str) -> Result<Account> {
        let id = id.to_owned();
        self.readers.read(move |c| accounts::by_id(c, &id)).await
    }
    async fn account_by_email(&self, lookup: &[u8]) -> Result<Account> {
        let l = lookup.to_vec();
        self.readers.read(move |c| accounts::by_email(c, &l)).await
    }
    async fn account_of_member(&self, member: &SubjectId) -> Result<Account> {
        let m = member.clone();
        self.readers.read(move |c| accounts::of_member(c, &m)).await
    }
    async fn staff_accounts(&self) -> Result<Vec<Account>> {
        self.readers.read(accounts::staff).await
    }
    async fn set_password(&self, account: &str, hash: String, at: Timestamp) -> Result<()> {
        let a = account.to_owned();
        self.writer
            .write(move |c| accounts::set_password(c, &a, &hash, at))
            .await
    }
    async fn rehash_password(&self, account: &str, old: &str, new: String) -> Result<bool> {
        let (a, old) = (account.to_owned(), old.to_owned());
        self.writer
            .write(move |c| accounts::rehash_password(c, &a, &old, &new))
            .await
    }
    async fn start_totp(&self, account: &str, sealed: Vec<u8>) -> Result<()> {
        let a = account.to_owned();
        self.writer
            .write(move |c| two_step::start(c, &a, &sealed))
            .await
    }
    async fn enable_totp(&self, account: &str, step: u64, recovery: Vec<TokenHash>) -> Result<()> {
        let a = account.to_owned();
        // One job, one savepoint: on with its codes, or neither.
        self.writer
            .write(move |c| {
                two_step::enable(c, &a, step)?;
                two_step::set_codes(c, &a, &recovery)
            })
            .await
    }
    async fn disable_totp(&self, account: &str) -> Result<()> {
        let a = account.to_owned();
        self.writer.write(move |c| two_step::disable(c, &a)).await
    }
    async fn advance_totp_step(&self, account: &str, step: u64) -> Result<bool> {
        let a = account.to_owned();
        self.writer
            .write(move |c| two_step::advance(c, &a, step))
            .await
    }
    async fn set_can_sign_in(&self, account: &str, allowed: bool) -> Result<()> {
        let a = account.to_owned();
        self.writer
            .write(move |c| accounts::set_can_sign_in(c, &a, allowed))
            .await
    }
    async fn set_recovery_codes(&self, account: &str, hashes: Vec<TokenHash>) -> Result<()> {
        let a = account.to_owned();
        self.writer
            .write(move |c| two_step::set_codes(c, &a, &hashes))
            .await
    }
    async fn use_recovery_code(
        &self,
        account: &str,
        hash: &TokenHash,
        at: Timestamp,
    ) -> Result<()> {
        let (a, h) = (account.to_owned(), *hash);
        self.writer
            .write(move |c| two_step::use_code(c, &a, &h, at))
            .await
    }
    async fn recovery_codes_left(&self, account: &str) -> Result<u64> {
        let a = account.to_owned();
        self.readers
            .read(move |c| two_step::codes_left(c, &a))
            .await
    }

    async fn create_session(&self, session: Session) -> Result<()> {
        self.writer
            .write(move |c| sessions::create(c, &session))
            .await
    }
    async fn session(&self, hash: &TokenHash) -> Result<Session> {
        let h = *hash;
        self.readers.read(move |c| sessions::by_hash(c, &h)).await
    }
    async fn touch_session(&self, hash: &TokenHash, at: Timestamp) -> Result<()> {
        let h = *hash;
        self.writer.write(move |c| sessions::touch(c, &h, at)).await
    }
    async fn sessions_of(&self, account: &str) -> Result<Vec<Session>> {
        let a = account.to_owned();
        self.readers
            .read(move |c| sessions::of_account(c, &a))
            .await
    }
    async fn delete_session(&self, account: &str, id: &str) -> Result<()> {
        let (a, i) = (account.to_owned(), id.to_owned());
        self.writer
            .write(move |c| sessions::delete_one(c, &a, &i))
            .await
    }
    async fn delete_sessions(&self, account: &str, keep: Option<&str>) -> Result<u64> {
        let (a, k) = (account.to_owned(), keep.map(str::to_owned));
        self.writer
            .write(move |c| sessions::delete_all_but(c, &a, k.as_deref()))
            .await
    }

    async fn create_invitation(&self, invitation: Invitation) -> Result<()> {
        self.writer
            .write(move |c| invitations::create(c, &invitation))
            .await
    }
    async fn invitation(&self, code: &TokenHash, at: Timestamp) -> Result<Invitation> {
        let h = *code;
        self.readers
            .read(move |c| invitations::peek(c, &h, at))
            .await
    }
    async fn take_invitation(&self, code: &TokenHash, at: Timestamp) -> Result<Invitation> {
        let h = *code;
        self.writer
            .write(move |c| invitations::take(c, &h, at))
            .await
    }

    async fn put_release(&self, release: StoredRelease) -> Result<()> {
        self.writer.write(move |c| releases::put(c, &release)).await
    }
    async fn releases(&self, product: &str) -> Result<Vec<StoredRelease>> {
        let p = product.to_owned();
        self.readers
            .read(move |c| releases::of_product(c, &p))
            .await
    }

    async fn append_audit(&self, entry: NewAuditEntry, chain: &AuditChain) -> Result<AuditEntry> {
        let chain = chain.clone();
        self.writer
            .write(move |c| audit::append(c, &chain, entry))
            .await
    }
    async fn audit_head(&self) -> Result<Option<(i64, AuditHash)>> {
        self.readers.read(audit::head).await
    }
    async fn audit(&self, since: Option<Timestamp>, limit: usize) -> Result<Vec<AuditEntry>> {
        self.readers
            .read(move |c| audit::list(c, since, limit))
            .await
    }
    async fn audit_for(&self, subject: &Pseudonym) -> Result<Vec<AuditEntry>> {
        let s = *subject;
        self.readers.read(move |c| audit::for_subject(c, &s)).await
    }
    async fn audit_by_actor(&self, actor: &str, limit: usize) -> Result<Vec<AuditEntry>> {
        let a = actor.to_owned();
        self.readers
            .read(move |c| audit::by_actor(c, &a, limit))
            .await
    }
    async fn audit_rows(&self, from_seq: i64, limit: usize) -> Result<Vec<StoredAuditRow>> {
        self.readers
            .read(move |c| audit::rows_from(c, from_seq, limit))
            .await
    }

    async fn add_failure(
        &self,
        key: &[u8],
        at: Timestamp,
        forget_before: Timestamp,
    ) -> Result<u32> {
        let k = key.to_vec();
        self.writer
            .write(move |c| failures::add(c, &k, at, forget_before))
            .await
    }
    async fn failures(&self, key: &[u8]) -> Result<Option<(u32, Timestamp)>> {
        let k = key.to_vec();
        self.readers.read(move |c| failures::get(c, &k)).await
    }
    async fn clear_failures(&self, key: &[u8]) -> Result<()> {
        let k = key.to_vec();
        self.writer.write(move |c| failures::clear(c, &k)).await
    }
    async fn prune_failures(&self, before: Timestamp) -> Result<u64> {
        self.writer.write(move |c| failures::prune(c, before)).await
    }

    async fn enqueue_job(&self, job: NewJob) -> Result<bool> {
        self.writer.write(move |c| jobs::enqueue(c, &job)).await
    }
    async fn take_job(
        &self,
        kinds: &[&str],
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<Option<Job>> {
        let kinds: Vec<String> = kinds.iter().map(|&k| k.to_owned()).collect();
        self.writer
            .write(move |c| jobs::take(c, &kinds, now, lease_until))
            .await
    }
    async fn finish_job(&self, id: i64, at: Timestamp) -> Result<()> {
        self.writer.write(move |c| jobs::finish(c, id, at)).await
    }
    async fn jobs(&self) -> Result<Vec<Job>> {
        self.readers.read(jobs::all).await
    }
    async fn prune_jobs(&self, before: Timestamp) -> Result<u64> {
        self.writer.write(move |c| jobs::prune(c, before)).await
    }

    async fn publish_manifest(&self, manifest: StoredManifest) -> Result<Published> {
        self.writer
            .write(move |c| manifests::publish(c, &manifest))
            .await
    }
    async fn manifests(&self) -> Result<Vec<StoredManifest>> {
        self.readers.read(manifests::newest).await
    }
    async fn manifest_versions(&self, product: &str) -> Result<Vec<StoredManifest>> {
        let p = product.to_owned();
        self.readers.read(move |c| manifests::versions(c, &p)).await
    }

    async fn create_webhook(&self, endpoint: WebhookEndpoint) -> Result<()> {
        self.writer
            .write(move |c| webhooks::create(c, &endpoint))
            .await
    }
    async fn webhooks(&self) -> Result<Vec<WebhookEndpoint>> {
        self.readers.read(webhooks::all).await
    }
    async fn disable_webhook(&self, id: &WebhookId, at: Timestamp) -> Result<()> {
        let id = id.clone();
        self.writer
            .write(move |c| webhooks::disable(c, &id, at))
            .await
    }
    async fn enqueue_webhook_deliveries(&self, deliveries: Vec<NewWebhookDelivery>) -> Result<()> {
        self.writer
            .write(move |c| webhooks::enqueue(c, &deliveries))
            .await
    }
    async fn claim_webhook_delivery(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<Option<WebhookDelivery>> {
        self.writer
            .write(move |c| webhooks::claim(c, now, lease_until))
            .await
    }
    async fn finish_webhook_delivery(
        &self,
        id: &str,
        lease_until: Timestamp,
        outcome: AttemptOutcome,
    ) -> Result<WebhookDelivery> {
        let id = id.to_owned();
        self.writer
            .write(move |c| webhooks::finish(c, &id, lease_until, &outcome))
            .await
    }
    async fn retry_webhook_delivery(&self, id: &str, at: Timestamp) -> Result<WebhookDelivery> {
        let id = id.to_owned();
        self.writer
            .write(move |c| webhooks::retry(c, &id, at))
            .await
    }
    async fn webhook_delivery(&self, id: &str) -> Result<WebhookDelivery> {
        let id = id.to_owned();
        self.readers.read(move |c| webhooks::get(c, &id)).await
    }
    async fn webhook_deliveries(
        &self,
        endpoint: Option<&WebhookId>,
        limit: usize,
    ) -> Result<Vec<WebhookDelivery>> {
        let endpoint = endpoint.cloned();
        self.readers
            .read(move |c| webhooks::list(c, endpoint.as_ref(), limit))
            .await
    }

    // One process serves an SQLite store (the data directory's lock says so): its own caches
    // are dropped by the caller, and there is no other instance to tell.
    async fn announce(&self, _change: Change) -> Result<()> {
        Ok(())
    }
    async fn changes(&self) -> Result<ChangeStream> {
        Ok(futures::stream::pending().boxed())
    }
}
