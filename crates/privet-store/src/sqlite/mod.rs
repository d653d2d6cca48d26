//! The embedded SQLite backend: one writer thread with group commit, a pool of readers.

mod accounts;
mod api_keys;
mod audit;
mod blocks;
mod codec;
mod conn;
mod consents;
mod devices;
mod keyring;
mod pool;
mod requests;
mod subjects;
mod writer;

pub use keyring::SqliteKeyring;

use crate::error::{Context, Error, Result};
use crate::ids::{ApiKeyId, DeviceId, SubjectId};
use crate::model::{
    Account, ApiKey, AuditEntry, AuditVerdict, BlockQuery, ConsentRecord, Device, DeviceSeen,
    ErasedSubject, Invitation, NewApiKey, NewAuditEntry, NewBlock, NewConsent, NewDevice,
    NewSubject, Objection, RetentionReport, RightsRequest, Session, StoredRelease, Subject,
};
use crate::store::{BlockStream, Store};
use async_trait::async_trait;
use jiff::Timestamp;
use pool::ReadPool;
use privet_crypto::{AuditHash, Pseudonym, TokenHash};
use std::path::{Path, PathBuf};
use writer::Writer;

/// WAL frames (pages) past which a caught-up WAL is truncated by the background checkpoint.
const TRUNCATE_FRAMES: i64 = 16 * 1024;

/// Blocks of one subject deleted per chunk in one write when its records are erased.
const DELETE_SLICE: i64 = 16;

/// Blocks buffered between the reading thread and the consumer of a scan.
const SCAN_BUFFER: usize = 32;

/// The SQLite data store (`privet.db`).
pub struct SqliteStore {
    path: PathBuf,
    writer: Writer,
    readers: ReadPool,
    _checkpointer: Checkpointer,
}

/// Checkpoints the WAL from its own connection and thread, so commits on the writer thread
/// never stall for a checkpoint (SQLite's automatic one runs inline at commit).
struct Checkpointer {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Checkpointer {
    fn start(path: &Path) -> Result<Checkpointer> {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let conn = conn::open(path, false)?;
        std::thread::Builder::new()
            .name("privet-checkpoint".to_owned())
            .spawn(move || {
                while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                    std::thread::sleep(std::time::Duration::from_millis(250));
                    // PASSIVE never blocks the writer or readers; the WAL restarts from its
                    // beginning once a checkpoint has caught up.
                    let passive = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
                        Ok((
                            r.get::<_, i64>(0)?,
                            r.get::<_, i64>(1)?,
                            r.get::<_, i64>(2)?,
                        ))
                    });
                    match passive {
                        // Caught up with a large WAL (after a burst, when idle): truncate it,
                        // which only waits for the few readers, so the disk is given back now
                        // rather than at the next write.
                        Ok((0, log, done)) if log == done && log > TRUNCATE_FRAMES => {
                            if let Err(e) =
                                conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
                            {
                                tracing::warn!(error = %e, "background WAL truncation failed");
                            }
                        }
                        Ok(_) => {}
                        Err(e) => tracing::warn!(error = %e, "background checkpoint failed"),
                    }
                }
            })
            .op("start checkpoint thread")?;
        Ok(Checkpointer { stop })
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

impl SqliteStore {
    /// Opens or creates the store at `path` (mode 0600) and applies migrations.
    pub fn open(path: &Path) -> Result<Self> {
        conn::create_private(path)?;
        let mut c = conn::open(path, false)?;
        conn::migrate(&mut c, conn::DATA_MIGRATIONS)?;
        c.pragma_update(None, "wal_autocheckpoint", 0)
            .op("hand checkpoints to their own thread")?;
        let checkpointer = Checkpointer::start(path)?;
        Ok(SqliteStore {
            _checkpointer: checkpointer,
            path: path.to_owned(),
            writer: Writer::start(c, "data")?,
            readers: ReadPool::new(path.to_owned()),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes a consistent snapshot of the database to `out` while the store stays online.
    pub async fn backup_to(&self, out: &Path) -> Result<()> {
        let out = out.to_owned();
        self.readers
            .read(move |c| {
                conn::create_private(&out)?;
                c.backup(
                    rusqlite::MAIN_DB,
                    &out,
                    None::<fn(rusqlite::backup::Progress)>,
                )
                .op("back up database")
            })
            .await
    }
}

/// Checkpoints the WAL into the database and truncates it, retrying while readers still hold
/// old snapshots (they finish within milliseconds).
fn checkpoint_truncate(path: &Path) -> Result<()> {
    let c = conn::open(path, false)?;
    for _ in 0..200 {
        let busy: i64 = c
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))
            .op("checkpoint")?;
        if busy == 0 {
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    Err(Error::Conflict {
        entity: "checkpoint",
        id: "wal".to_owned(),
    })
}

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
    async fn erase_subject(&self, id: &SubjectId, at: Timestamp) -> Result<ErasedSubject> {
        let id = id.clone();
        self.writer
            .write(move |c| subjects::erase(c, &id, at))
            .await
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
    ) -> Result<Device> {
        let id = id.clone();
        self.writer
            .write(move |c| devices::reset(c, &id, at, new_token.as_ref(), new_claim.as_ref()))
            .await
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
    async fn current_consents(&self, subjects: &[SubjectId]) -> Result<Vec<ConsentRecord>> {
        let s = subjects.to_vec();
        self.readers.read(move |c| consents::current(c, &s)).await
    }

    async fn append_blocks(&self, blocks: Vec<NewBlock>, seen: Option<DeviceSeen>) -> Result<()> {
        self.writer
            .write(move |c| {
                blocks::append(c, &blocks)?;
                match seen {
                    Some(s) => devices::touch(c, &s.device, s.at, s.firmware.as_deref()),
                    None => Ok(()),
                }
            })
            .await
    }
    async fn scan_blocks(&self, query: BlockQuery) -> Result<BlockStream> {
        let (tx, rx) = tokio::sync::mpsc::channel(SCAN_BUFFER);
        let pool = self.readers.clone();
        tokio::task::spawn_blocking(move || {
            let c = match pool.take() {
                Ok(c) => c,
                Err(e) => {
                    let _ = tx.blocking_send(Err(e));
                    return;
                }
            };
            let out = blocks::scan(&c, &query, |b| tx.blocking_send(Ok(b)).is_ok());
            if let Err(e) = out {
                let _ = tx.blocking_send(Err(e));
            }
            pool.give(c);
        });
        Ok(Box::pin(tokio_stream::wrappers::ReceiverStream::new(rx)))
    }
    async fn rewrite_block(&self, id: [u8; 16], payload: Vec<u8>, count: u32) -> Result<()> {
        self.writer
            .write(move |c| blocks::rewrite(c, id, &payload, count))
            .await
    }
    async fn delete_blocks(&self, ids: Vec<[u8; 16]>) -> Result<u64> {
        self.writer
            .write(move |c| blocks::delete_ids(c, &ids))
            .await
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
                return Ok(total);
            }
            total += n;
        }
    }
    async fn delete_device_blocks(&self, device: &DeviceId) -> Result<u64> {
        let d = device.clone();
        self.writer
            .write(move |c| blocks::delete_device(c, &d))
            .await
    }
    async fn drop_expired(&self, now: Timestamp) -> Result<RetentionReport> {
        self.writer
            .write(move |c| blocks::drop_expired(c, now))
            .await
    }
    async fn record_counts(&self) -> Result<(u64, u64)> {
        self.readers.read(blocks::counts).await
    }

    async fn block_subjects(&self) -> Result<Vec<Pseudonym>> {
        self.readers.read(blocks::subjects).await
    }
    async fn subject_record_counts(&self, subject: &Pseudonym) -> Result<(u64, u64)> {
        let s = *subject;
        self.readers
            .read(move |c| blocks::subject_counts(c, &s))
            .await
    }

    async fn create_request(&self, request: RightsRequest) -> Result<()> {
        self.writer
            .write(move |c| requests::save(c, &request, true))
            .await
    }
    async fn update_request(&self, request: RightsRequest) -> Result<()> {
        self.writer
            .write(move |c| requests::save(c, &request, false))
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
    async fn update_account(&self, account: Account) -> Result<()> {
        self.writer
            .write(move |c| accounts::update(c, &account))
            .await
    }
    async fn staff_accounts(&self) -> Result<Vec<Account>> {
        self.readers.read(accounts::staff).await
    }
    async fn set_recovery_codes(&self, account: &str, hashes: Vec<TokenHash>) -> Result<()> {
        let a = account.to_owned();
        self.writer
            .write(move |c| accounts::set_codes(c, &a, &hashes))
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
            .write(move |c| accounts::use_code(c, &a, &h, at))
            .await
    }
    async fn recovery_codes_left(&self, account: &str) -> Result<u64> {
        let a = account.to_owned();
        self.readers
            .read(move |c| accounts::codes_left(c, &a))
            .await
    }
    async fn create_session(&self, session: Session) -> Result<()> {
        self.writer
            .write(move |c| accounts::create_session(c, &session))
            .await
    }
    async fn session(&self, hash: &TokenHash) -> Result<Session> {
        let h = *hash;
        self.readers.read(move |c| accounts::session(c, &h)).await
    }
    async fn touch_session(&self, hash: &TokenHash, at: Timestamp) -> Result<()> {
        let h = *hash;
        self.writer
            .write(move |c| accounts::touch_session(c, &h, at))
            .await
    }
    async fn sessions_of(&self, account: &str) -> Result<Vec<Session>> {
        let a = account.to_owned();
        self.readers
            .read(move |c| accounts::sessions_of(c, &a))
            .await
    }
    async fn delete_session(&self, account: &str, id: &str) -> Result<()> {
        let (a, i) = (account.to_owned(), id.to_owned());
        self.writer
            .write(move |c| accounts::delete_session(c, &a, &i))
            .await
    }
    async fn delete_sessions(&self, account: &str, keep: Option<&str>) -> Result<u64> {
        let (a, k) = (account.to_owned(), keep.map(str::to_owned));
        self.writer
            .write(move |c| accounts::delete_sessions(c, &a, k.as_deref()))
            .await
    }
    async fn create_invitation(&self, invitation: Invitation) -> Result<()> {
        self.writer
            .write(move |c| accounts::create_invitation(c, &invitation))
            .await
    }
    async fn invitation(&self, code: &TokenHash, at: Timestamp) -> Result<Invitation> {
        let h = *code;
        self.readers
            .read(move |c| accounts::peek_invitation(c, &h, at))
            .await
    }
    async fn take_invitation(&self, code: &TokenHash, at: Timestamp) -> Result<Invitation> {
        let h = *code;
        self.writer
            .write(move |c| accounts::take_invitation(c, &h, at))
            .await
    }
    async fn put_release(&self, release: StoredRelease) -> Result<()> {
        self.writer
            .write(move |c| accounts::put_release(c, &release))
            .await
    }
    async fn releases(&self, product: &str) -> Result<Vec<StoredRelease>> {
        let p = product.to_owned();
        self.readers.read(move |c| accounts::releases(c, &p)).await
    }
    async fn audit_by_actor(&self, actor: &str, limit: usize) -> Result<Vec<AuditEntry>> {
        let a = actor.to_owned();
        self.readers
            .read(move |c| audit::by_actor(c, &a, limit))
            .await
    }

    async fn checkpoint(&self) -> Result<()> {
        // Queue behind pending writes so everything committed so far is checkpointed.
        self.writer.write(|_| Ok(())).await?;
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || checkpoint_truncate(&path))
            .await
            .map_err(|_| Error::Closed)?
    }

    async fn append_audit(&self, entry: NewAuditEntry) -> Result<AuditEntry> {
        self.writer.write(move |c| audit::append(c, entry)).await
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
    async fn verify_audit(&self, anchor: Option<(i64, AuditHash)>) -> Result<AuditVerdict> {
        self.readers.read(move |c| audit::verify(c, anchor)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sqlite_passes_the_shared_suite() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("privet.db")).unwrap();
        let keyring = SqliteKeyring::open(&dir.path().join("keyring.db")).unwrap();
        crate::suite::run(&store, &keyring).await;
    }

    #[tokio::test]
    async fn database_files_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let _store = SqliteStore::open(&dir.path().join("privet.db")).unwrap();
        let _keys = SqliteKeyring::open(&dir.path().join("keyring.db")).unwrap();
        for f in ["privet.db", "keyring.db"] {
            let mode = std::fs::metadata(dir.path().join(f))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{f}");
        }
    }
}
