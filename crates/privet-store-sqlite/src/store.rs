//! [`SqliteStore`]: the data store (`privet.db`), its writer thread, read pool and
//! checkpointer. The `Store` trait's methods are in `store_impl.rs`.

use crate::checkpoint::Checkpointer;
use crate::conn;
use crate::pool::ReadPool;
use crate::writer::Writer;
use privet_store::{Context, Result};
use std::path::{Path, PathBuf};

/// The SQLite data store (`privet.db`): one writer thread with group commit, a pool of
/// readers, and a checkpoint thread.
pub struct SqliteStore {
    pub(crate) path: PathBuf,
    pub(crate) writer: Writer,
    pub(crate) readers: ReadPool,
    pub(crate) checkpointer: Checkpointer,
    /// The data directory's shared "in use" lock, when opened through `SqliteDir`: held for
    /// the store's life so a restore never replaces the file under it.
    pub(crate) in_use: Option<std::fs::File>,
}

impl SqliteStore {
    /// Opens or creates the store at `path` (mode 0600) and applies migrations.
    pub fn open(path: &Path) -> Result<Self> {
        conn::create_private(path)?;
        let mut c = conn::open(path, false)?;
        conn::migrate(&mut c, conn::DATA_MIGRATIONS)?;
        conn::settle_wal(&c)?;
        c.pragma_update(None, "wal_autocheckpoint", 0)
            .op("hand checkpoints to their own thread")?;
        // The one writer's page cache (64 MiB, the default is 2): a group commit touches many
        // pages of the chunk, delivery and device tables; readers keep the default.
        c.pragma_update(None, "cache_size", -65_536)
            .op("set the writer's cache size")?;
        Ok(SqliteStore {
            checkpointer: Checkpointer::start(path)?,
            path: path.to_owned(),
            writer: Writer::start(c, "data")?,
            readers: ReadPool::new(path.to_owned()),
            in_use: None,
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes a consistent snapshot of the database to `out` (mode 0600) while the store stays
    /// online.
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

    /// After a write that deleted something that must leave every file now (an erased
    /// subject's rows, a reset device's token hash): checkpoints and truncates the WAL. If
    /// readers hold that off, the call still succeeds and the checkpoint thread retries until
    /// it is done.
    pub(crate) async fn purge_wal(&self) {
        if !self.checkpointer.truncate_now().await {
            tracing::info!("WAL truncation deferred behind readers; retrying in the background");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use privet_policy::{ErasureStep, SubjectId, SubjectKind};
    use privet_store::{NewSubject, Store};

    fn holds(dir: &Path, needle: &[u8]) -> bool {
        std::fs::read_dir(dir).unwrap().any(|e| {
            let bytes = std::fs::read(e.unwrap().path()).unwrap();
            bytes.windows(needle.len()).any(|w| w == needle)
        })
    }

    #[tokio::test]
    async fn an_erasure_behind_a_reader_succeeds_and_the_truncation_is_owed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("privet.db");
        let store = SqliteStore::open(&path).unwrap();
        let marker = b"<profile-behind-a-reader>".to_vec();
        let pseudonym = privet_crypto::MasterKey::from_bytes([2; 32])
            .pseudonymizer()
            .pseudonym("m1");
        store
            .create_subject(NewSubject {
                id: SubjectId::new("m1"),
                kind: SubjectKind::Household,
                household: None,
                pseudonym,
                child: false,
                profile: marker.clone(),
                created_at: jiff::Timestamp::UNIX_EPOCH,
            })
            .await
            .unwrap();
        let subject = store.subject(&SubjectId::new("m1")).await.unwrap();

        // Another reader (an export, another process) holds a snapshot from before the erasure.
        let reader = conn::open(&path, true).unwrap();
        reader
            .execute_batch("BEGIN; SELECT count(*) FROM subjects;")
            .unwrap();
        store
            .erase_subject(
                &ErasureStep::for_subject(&subject),
                jiff::Timestamp::UNIX_EPOCH,
            )
            .await
            .unwrap();
        assert!(store.checkpointer.is_pending(), "the truncation is owed");
        assert!(
            holds(dir.path(), &marker),
            "the old page is still in the WAL"
        );

        reader.execute_batch("COMMIT").unwrap();
        assert!(store.checkpointer.truncate_now().await);
        assert!(!holds(dir.path(), &marker));
    }
}
