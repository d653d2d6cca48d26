//! `Store` for [`PgStore`]: each method takes a pooled connection (record blocks go through
//! the group-commit writer) and calls the module that holds the SQL for its entity. Writes
//! that must be all-or-nothing run in one transaction.

use crate::codec::Pg;
use crate::pool::conn;
use crate::{
    PgStore, accounts, api_keys, audit, blocks, changes, chunks, consents, devices, failures,
    invitations, jobs, manifests, releases, requests, scan, sessions, subjects, two_step, webhooks,
};
use async_trait::async_trait;
use deadpool_postgres::Object;
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

/// Tables that held an erased subject's rows or a reset device's old token.
const ERASED_TABLES: &str =
    "subjects, accounts, sessions, recovery_codes, invitations, consents, objections, devices";

impl PgStore {
    async fn conn(&self, op: &'static str) -> Result<Object> {
        conn(&self.inner.pool, op).await
    }

    /// Vacuums `tables` so the row versions a write left dead leave their pages now, not
    /// whenever autovacuum comes. Best effort: a failure is logged, the rows are deleted
    /// either way (see the crate's notes on what PostgreSQL keeps elsewhere).
    async fn vacuum(&self, tables: &str) {
        let vacuum = async {
            let c = self.conn("vacuum").await?;
            c.batch_execute(&format!("VACUUM {tables}"))
                .await
                .pg("vacuum")
        };
        if let Err(e) = vacuum.await {
            tracing::warn!(error = %e, "could not vacuum after removing rows");
        }
    }
}

#[async_trait]
impl Store for PgStore {
    async fn create_subject(&self, subject: NewSubject) -> Result<()> {
        let op = "create subject";
        let mut c = self.conn(op).await?;
        // The member and its household's version bump, or neither.
        let tx = c.transaction().await.pg(op)?;
        subjects::create(&tx, &subject).await?;
        tx.commit().await.pg(op)
    }
    async fn subject(&self, id: &SubjectId) -> Result<Subject> {
        subjects::get(&self.conn("read subject").await?, id).await
    }
    async fn subject_by_pseudonym(&self, pseudonym: &Pseudonym) -> Result<Subject> {
        subjects::by_pseudonym(&self.conn("read subject").await?, pseudonym).await
    }
    async fn members(&self, household: &SubjectId) -> Result<Vec<Subject>> {
        subjects::members(&self.conn("read members").await?, household).await
    }
    async fn household_version(&self, household: &SubjectId) -> Result<u64> {
        subjects::version(&self.conn("read household version").await?, household)
            .await?
            .ok_or_else(|| Error::not_found("subject", household.as_str()))
    }
    async fn update_profile(&self, id: &SubjectId, profile: Vec<u8>) -> Result<()> {
        subjects::update_profile(&self.conn("update profile").await?, id, &profile).await
    }
    async fn set_restricted(&self, id: &SubjectId, restricted: bool) -> Result<()> {
        let op = "restrict subject";
        let mut c = self.conn(op).await?;
        let tx = c.transaction().await.pg(op)?;
        subjects::set_restricted(&tx, id, restricted).await?;
        tx.commit().await.pg(op)
    }
    async fn all_pseudonyms(&self) -> Result<Vec<Pseudonym>> {
        subjects::all_pseudonyms(&self.conn("read pseudonyms").await?).await
    }
    async fn erase_subject(&self, step: &ErasureStep, at: Timestamp) -> Result<ErasedSubject> {
        let op = "erase subject";
        let erased = {
            let mut c = self.conn(op).await?;
            let tx = c.transaction().await.pg(op)?;
            let erased = subjects::erase(&tx, step, at).await?;
            tx.commit().await.pg(op)?;
            erased
        };
        self.vacuum(ERASED_TABLES).await;
        Ok(erased)
    }

    async fn create_device(&self, device: NewDevice) -> Result<()> {
        devices::create(&self.conn("create device").await?, &device).await
    }
    async fn device(&self, id: &DeviceId) -> Result<Device> {
        devices::get(&self.conn("read device").await?, id).await
    }
    async fn device_by_token(&self, hash: &TokenHash) -> Result<Device> {
        devices::by_token(&self.conn("read device").await?, hash).await
    }
    async fn devices_of(&self, household: &SubjectId) -> Result<Vec<Device>> {
        devices::of_household(&self.conn("list devices").await?, household).await
    }
    async fn all_devices(&self) -> Result<Vec<Device>> {
        devices::all(&self.conn("list devices").await?).await
    }
    async fn touch_device(
        &self,
        id: &DeviceId,
        at: Timestamp,
        firmware: Option<String>,
    ) -> Result<()> {
        let c = self.conn("touch device").await?;
        devices::touch(&c, id, at, firmware.as_deref()).await
    }
    async fn claim_device(
        &self,
        claim: &TokenHash,
        household: &SubjectId,
        member: Option<&SubjectId>,
    ) -> Result<Device> {
        let op = "claim device";
        let mut c = self.conn(op).await?;
        let tx = c.transaction().await.pg(op)?;
        let device = devices::claim(&tx, claim, household, member).await?;
        tx.commit().await.pg(op)?;
        Ok(device)
    }
    async fn unclaimed_device(&self, claim: &TokenHash) -> Result<Device> {
        devices::unclaimed(&self.conn("look up claim code").await?, claim).await
    }
    async fn reset_device(
        &self,
        id: &DeviceId,
        at: Timestamp,
        new_token: Option<TokenHash>,
        new_claim: Option<TokenHash>,
        new_broker_hash: Option<String>,
    ) -> Result<Device> {
        let device = {
            let mut c = self.conn("reset device").await?;
            devices::reset(
                &mut c,
                id,
                at,
                new_token.as_ref(),
                new_claim.as_ref(),
                new_broker_hash.as_deref(),
            )
            .await?
        };
        // The old token's hash and broker hash must leave the table's pages as well.
        self.vacuum("devices").await;
        Ok(device)
    }
    async fn broker_credentials(&self) -> Result<Vec<BrokerCredential>> {
        devices::broker_credentials(&self.conn("list broker credentials").await?).await
    }

    async fn create_api_key(&self, key: NewApiKey) -> Result<()> {
        api_keys::create(&self.conn("create api key").await?, &key).await
    }
    async fn api_key_by_hash(&self, hash: &TokenHash) -> Result<ApiKey> {
        api_keys::by_hash(&self.conn("read api key").await?, hash).await
    }
    async fn api_keys(&self) -> Result<Vec<ApiKey>> {
        api_keys::all(&self.conn("list api keys").await?).await
    }
    async fn revoke_api_key(&self, id: &ApiKeyId, at: Timestamp) -> Result<()> {
        api_keys::revoke(&self.conn("revoke api key").await?, id, at).await
    }

    async fn record_consent(&self, consent: NewConsent) -> Result<ConsentRecord> {
        let op = "record consent";
        let mut c = self.conn(op).await?;
        let tx = c.transaction().await.pg(op)?;
        let record = consents::record(&tx, &consent).await?;
        tx.commit().await.pg(op)?;
        Ok(record)
    }
    async fn consents(&self, subject: &SubjectId) -> Result<Vec<ConsentRecord>> {
        consents::history(&self.conn("read consents").await?, subject).await
    }
    async fn consent_histories(&self, subjects: &[SubjectId]) -> Result<Vec<ConsentRecord>> {
        consents::histories(&self.conn("read consents").await?, subjects).await
    }

    async fn append_blocks(&self, blocks: Vec<NewBlock>, seen: Option<DeviceSeen>) -> Result<()> {
        self.inner.writer.append(blocks, seen).await
    }
    async fn prune_deliveries(&self, before: Timestamp) -> Result<u64> {
        devices::prune_deliveries(&self.conn("prune deliveries").await?, before).await
    }
    async fn scan_blocks(&self, query: BlockQuery) -> Result<BlockStream> {
        scan::stream(self.inner.pool.clone(), self.inner.scans.clone(), query).await
    }
    async fn rewrite_block(
        &self,
        id: [u8; 16],
        old: Vec<u8>,
        payload: Vec<u8>,
        count: u32,
    ) -> Result<()> {
        blocks::rewrite(
            &self.conn("rewrite block").await?,
            id,
            &old,
            &payload,
            count,
        )
        .await
    }
    async fn delete_blocks(&self, ids: Vec<[u8; 16]>) -> Result<u64> {
        blocks::delete_ids(&self.conn("delete block").await?, &ids).await
    }
    async fn delete_subject_blocks(&self, subject: &Pseudonym) -> Result<u64> {
        blocks::delete_subject(&self.conn("delete subject records").await?, subject).await
    }
    async fn delete_device_blocks(&self, device: &DeviceId) -> Result<u64> {
        blocks::delete_device(&self.conn("delete device records").await?, device).await
    }
    async fn chunks(&self) -> Result<Vec<ChunkInfo>> {
        chunks::infos(&self.conn("list chunks").await?).await
    }
    async fn drop_chunks(&self, ids: &[ChunkId]) -> Result<RetentionReport> {
        chunks::drop(&mut self.conn("drop chunks").await?, ids).await
    }
    async fn record_counts(&self) -> Result<(u64, u64)> {
        blocks::counts(&self.conn("count records").await?).await
    }
    async fn block_subjects(&self) -> Result<Vec<Pseudonym>> {
        blocks::subjects(&self.conn("list record subjects").await?).await
    }
    async fn subject_record_counts(&self, subject: &Pseudonym) -> Result<(u64, u64)> {
        blocks::subject_counts(&self.conn("count subject records").await?, subject).await
    }

    async fn create_request(&self, request: RightsRequest) -> Result<()> {
        requests::create(&self.conn("create request").await?, &request).await
    }
    async fn extend_request(&self, id: &str, due: Date, reason: &str) -> Result<RightsRequest> {
        requests::extend(&self.conn("extend request").await?, id, due, reason).await
    }
    async fn claim_request(
        &self,
        id: &str,
        at: Timestamp,
        until: Timestamp,
    ) -> Result<RightsRequest> {
        requests::claim(&self.conn("claim request").await?, id, at, until).await
    }
    async fn release_request(&self, id: &str, until: Timestamp) -> Result<()> {
        requests::release(&self.conn("release request").await?, id, until).await
    }
    async fn pause_request(
        &self,
        id: &str,
        reason: PauseReason,
        at: Timestamp,
    ) -> Result<RightsRequest> {
        requests::pause_clock(&self.conn("pause request").await?, id, reason, at).await
    }
    async fn resume_request(&self, id: &str, since: Timestamp, days: u32) -> Result<RightsRequest> {
        requests::resume_clock(&self.conn("resume request").await?, id, since, days).await
    }
    async fn complete_request(&self, id: &str, at: Timestamp) -> Result<RightsRequest> {
        requests::complete(&self.conn("complete request").await?, id, at).await
    }
    async fn request(&self, id: &str) -> Result<RightsRequest> {
        requests::get(&self.conn("read request").await?, id).await
    }
    async fn requests(&self) -> Result<Vec<RightsRequest>> {
        requests::all(&self.conn("list requests").await?).await
    }
    async fn record_objection(&self, objection: Objection) -> Result<()> {
        let op = "record objection";
        let mut c = self.conn(op).await?;
        let tx = c.transaction().await.pg(op)?;
        requests::object(&tx, &objection).await?;
        tx.commit().await.pg(op)
    }
    async fn objections(&self, subjects: &[SubjectId]) -> Result<Vec<Objection>> {
        requests::objections(&self.conn("read objections").await?, subjects).await
    }

    async fn create_account(&self, account: Account) -> Result<()> {
        accounts::create(&self.conn("create account").await?, &account).await
    }
    async fn account(&self, id: &str) -> Result<Account> {
        accounts::by_id(&self.conn("read account").await?, id).await
    }
    async fn account_by_email(&self, lookup: &[u8]) -> Result<Account> {
        accounts::by_email(&self.conn("read account").await?, lookup).await
    }
    async fn account_of_member(&self, member: &SubjectId) -> Result<Account> {
        accounts::of_member(&self.conn("read account").await?, member).await
    }
    async fn staff_accounts(&self) -> Result<Vec<Account>> {
        accounts::staff(&self.conn("list staff").await?).await
    }
    async fn set_password(&self, account: &str, hash: String, at: Timestamp) -> Result<()> {
        accounts::set_password(&self.conn("set password").await?, account, &hash, at).await
    }
    async fn rehash_password(&self, account: &str, old: &str, new: String) -> Result<bool> {
        let c = self.conn("rehash password").await?;
        accounts::rehash_password(&c, account, old, &new).await
    }
    async fn start_totp(&self, account: &str, sealed: Vec<u8>) -> Result<()> {
        two_step::start(
            &self.conn("start two-step enrolment").await?,
            account,
            &sealed,
        )
        .await
    }
    async fn enable_totp(&self, account: &str, step: u64, recovery: Vec<TokenHash>) -> Result<()> {
        let op = "enable two-step verification";
        let mut c = self.conn(op).await?;
        // On with its codes, or neither.
        let tx = c.transaction().await.pg(op)?;
        two_step::enable(&tx, account, step).await?;
        two_step::set_codes(&tx, account, &recovery).await?;
        tx.commit().await.pg(op)
    }
    async fn disable_totp(&self, account: &str) -> Result<()> {
        let op = "disable two-step verification";
        let mut c = self.conn(op).await?;
        let tx = c.transaction().await.pg(op)?;
        two_step::disable(&tx, account).await?;
        tx.commit().await.pg(op)
    }
    async fn advance_totp_step(&self, account: &str, step: u64) -> Result<bool> {
        two_step::advance(&self.conn("record two-step code").await?, account, step).await
    }
    async fn set_can_sign_in(&self, account: &str, allowed: bool) -> Result<()> {
        let c = self.conn("set sign-in permission").await?;
        accounts::set_can_sign_in(&c, account, allowed).await
    }
    async fn set_recovery_codes(&self, account: &str, hashes: Vec<TokenHash>) -> Result<()> {
        let op = "replace recovery codes";
        let mut c = self.conn(op).await?;
        let tx = c.transaction().await.pg(op)?;
        two_step::set_codes(&tx, account, &hashes).await?;
        tx.commit().await.pg(op)
    }
    async fn use_recovery_code(
        &self,
        account: &str,
        hash: &TokenHash,
        at: Timestamp,
    ) -> Result<()> {
        two_step::use_code(&self.conn("use recovery code").await?, account, hash, at).await
    }
    async fn recovery_codes_left(&self, account: &str) -> Result<u64> {
        two_step::codes_left(&self.conn("count recovery codes").await?, account).await
    }

    async fn create_session(&self, session: Session) -> Result<()> {
        sessions::create(&self.conn("create session").await?, &session).await
    }
    async fn session(&self, hash: &TokenHash) -> Result<Session> {
        sessions::by_hash(&self.conn("read session").await?, hash).await
    }
    async fn touch_session(&self, hash: &TokenHash, at: Timestamp) -> Result<()> {
        sessions::touch(&self.conn("touch session").await?, hash, at).await
    }
    async fn sessions_of(&self, account: &str) -> Result<Vec<Session>> {
        sessions::of_account(&self.conn("list sessions").await?, account).await
    }
    async fn delete_session(&self, account: &str, id: &str) -> Result<()> {
        sessions::delete_one(&self.conn("revoke session").await?, account, id).await
    }
    async fn delete_sessions(&self, account: &str, keep: Option<&str>) -> Result<u64> {
        sessions::delete_all_but(&self.conn("revoke sessions").await?, account, keep).await
    }

    async fn create_invitation(&self, invitation: Invitation) -> Result<()> {
        invitations::create(&self.conn("create invitation").await?, &invitation).await
    }
    async fn invitation(&self, code: &TokenHash, at: Timestamp) -> Result<Invitation> {
        invitations::peek(&self.conn("read invitation").await?, code, at).await
    }
    async fn take_invitation(&self, code: &TokenHash, at: Timestamp) -> Result<Invitation> {
        invitations::take(&self.conn("use invitation").await?, code, at).await
    }

    async fn put_release(&self, release: StoredRelease) -> Result<()> {
        releases::put(&self.conn("store release").await?, &release).await
    }
    async fn releases(&self, product: &str) -> Result<Vec<StoredRelease>> {
        releases::of_product(&self.conn("list releases").await?, product).await
    }

    async fn append_audit(&self, entry: NewAuditEntry, chain: &AuditChain) -> Result<AuditEntry> {
        audit::append(&mut self.conn("append audit entry").await?, chain, entry).await
    }
    async fn audit_head(&self) -> Result<Option<(i64, AuditHash)>> {
        audit::head(&self.conn("read audit head").await?).await
    }
    async fn audit(&self, since: Option<Timestamp>, limit: usize) -> Result<Vec<AuditEntry>> {
        audit::list(&self.conn("read audit").await?, since, limit).await
    }
    async fn audit_for(&self, subject: &Pseudonym) -> Result<Vec<AuditEntry>> {
        audit::for_subject(&self.conn("read audit").await?, subject).await
    }
    async fn audit_by_actor(&self, actor: &str, limit: usize) -> Result<Vec<AuditEntry>> {
        audit::by_actor(&self.conn("read audit").await?, actor, limit).await
    }
    async fn audit_rows(&self, from_seq: i64, limit: usize) -> Result<Vec<StoredAuditRow>> {
        audit::rows_from(&self.conn("read audit").await?, from_seq, limit).await
    }

    async fn add_failure(
        &self,
        key: &[u8],
        at: Timestamp,
        forget_before: Timestamp,
    ) -> Result<u32> {
        failures::add(&self.conn("record failure").await?, key, at, forget_before).await
    }
    async fn failures(&self, key: &[u8]) -> Result<Option<(u32, Timestamp)>> {
        failures::get(&self.conn("read failures").await?, key).await
    }
    async fn clear_failures(&self, key: &[u8]) -> Result<()> {
        failures::clear(&self.conn("clear failures").await?, key).await
    }
    async fn prune_failures(&self, before: Timestamp) -> Result<u64> {
        failures::prune(&self.conn("prune failures").await?, before).await
    }

    async fn enqueue_job(&self, job: NewJob) -> Result<bool> {
        jobs::enqueue(&self.conn("queue job").await?, &job).await
    }
    async fn take_job(
        &self,
        kinds: &[&str],
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<Option<Job>> {
        jobs::take(&self.conn("take job").await?, kinds, now, lease_until).await
    }
    async fn finish_job(&self, id: i64, at: Timestamp) -> Result<()> {
        jobs::finish(&self.conn("finish job").await?, id, at).await
    }
    async fn jobs(&self) -> Result<Vec<Job>> {
        jobs::all(&self.conn("list jobs").await?).await
    }
    async fn prune_jobs(&self, before: Timestamp) -> Result<u64> {
        jobs::prune(&self.conn("prune jobs").await?, before).await
    }

    async fn create_webhook(&self, endpoint: WebhookEndpoint) -> Result<()> {
        webhooks::create(&self.conn("create webhook").await?, &endpoint).await
    }
    async fn webhooks(&self) -> Result<Vec<WebhookEndpoint>> {
        webhooks::all(&self.conn("list webhooks").await?).await
    }
    async fn disable_webhook(&self, id: &WebhookId, at: Timestamp) -> Result<()> {
        webhooks::disable(&mut self.conn("delete webhook").await?, id, at).await
    }
    async fn enqueue_webhook_deliveries(&self, deliveries: Vec<NewWebhookDelivery>) -> Result<()> {
        webhooks::enqueue(&mut self.conn("queue webhook delivery").await?, &deliveries).await
    }
    async fn claim_webhook_delivery(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<Option<WebhookDelivery>> {
        webhooks::claim(
            &self.conn("claim webhook delivery").await?,
            now,
            lease_until,
        )
        .await
    }
    async fn finish_webhook_delivery(
        &self,
        id: &str,
        lease_until: Timestamp,
        outcome: AttemptOutcome,
    ) -> Result<WebhookDelivery> {
        let c = self.conn("finish webhook delivery").await?;
        webhooks::finish(&c, id, lease_until, &outcome).await
    }
    async fn retry_webhook_delivery(&self, id: &str, at: Timestamp) -> Result<WebhookDelivery> {
        webhooks::retry(&self.conn("retry webhook delivery").await?, id, at).await
    }
    async fn webhook_delivery(&self, id: &str) -> Result<WebhookDelivery> {
        webhooks::get(&self.conn("read webhook delivery").await?, id).await
    }
    async fn webhook_deliveries(
        &self,
        endpoint: Option<&WebhookId>,
        limit: usize,
    ) -> Result<Vec<WebhookDelivery>> {
        let c = self.conn("list webhook deliveries").await?;
        webhooks::list(&c, endpoint, limit).await
    }

    async fn publish_manifest(&self, manifest: StoredManifest) -> Result<Published> {
        let mut c = self.conn("publish manifest").await?;
        manifests::publish(&mut c, &self.inner.schema, &manifest).await
    }
    async fn manifests(&self) -> Result<Vec<StoredManifest>> {
        manifests::newest(&self.conn("list manifests").await?).await
    }
    async fn manifest_versions(&self, product: &str) -> Result<Vec<StoredManifest>> {
        manifests::versions(&self.conn("list manifest versions").await?, product).await
    }

    async fn announce(&self, change: Change) -> Result<()> {
        let c = self.conn("announce change").await?;
        changes::announce(&c, &self.inner.channel, &change).await
    }
    async fn changes(&self) -> Result<ChangeStream> {
        changes::listen(self.inner.listen.clone(), self.inner.channel.clone()).await
    }
}
