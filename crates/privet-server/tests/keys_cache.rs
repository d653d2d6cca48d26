//! The subject-key cache never keeps a key that was forgotten while it was being read: an
//! erasure announced by another instance arrives as `Keys::forget`, and a read of the keyring
//! that began before it must not cache the destroyed key afterwards.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use async_trait::async_trait;
use jiff::Timestamp;
use privet_crypto::{AuditHash, DataKey, MasterKey, MasterKeys, Pseudonym, os_rng};
use privet_server::keys::Keys;
use privet_store::Keyring;
use privet_store_sqlite::SqliteDir;
use std::sync::Arc;
use tokio::sync::{Mutex, Notify};

/// A keyring whose `get`, once armed, pauses after reading until the test lets it go on.
struct Paused {
    inner: Arc<dyn Keyring>,
    armed: Mutex<bool>,
    read: Notify,
    resume: Notify,
}

#[async_trait]
impl Keyring for Paused {
    async fn put(&self, s: &Pseudonym, w: Vec<u8>, at: Timestamp) -> privet_store::Result<()> {
        self.inner.put(s, w, at).await
    }
    async fn get(&self, s: &Pseudonym) -> privet_store::Result<Vec<u8>> {
        let wrapped = self.inner.get(s).await?;
        let mut armed = self.armed.lock().await;
        if *armed {
            *armed = false;
            drop(armed);
            self.read.notify_one();
            self.resume.notified().await;
        }
        Ok(wrapped)
    }
    async fn destroy(&self, s: &Pseudonym) -> privet_store::Result<bool> {
        self.inner.destroy(s).await
    }
    async fn has_keys(&self, s: &[Pseudonym]) -> privet_store::Result<Vec<bool>> {
        self.inner.has_keys(s).await
    }
    async fn set_audit_anchor(&self, seq: i64, hash: AuditHash) -> privet_store::Result<()> {
        self.inner.set_audit_anchor(seq, hash).await
    }
    async fn reset_audit_anchor(&self, seq: i64, hash: AuditHash) -> privet_store::Result<()> {
        self.inner.reset_audit_anchor(seq, hash).await
    }
    async fn audit_anchor(&self) -> privet_store::Result<Option<(i64, AuditHash)>> {
        self.inner.audit_anchor().await
    }
    async fn wrapped_keys(
        &self,
        after: Option<Pseudonym>,
        limit: usize,
    ) -> privet_store::Result<Vec<(Pseudonym, Vec<u8>)>> {
        self.inner.wrapped_keys(after, limit).await
    }
    async fn rewrap(&self, s: &Pseudonym, old: &[u8], new: Vec<u8>) -> privet_store::Result<bool> {
        self.inner.rewrap(s, old, new).await
    }
    async fn secret(&self, name: &str) -> privet_store::Result<Option<Vec<u8>>> {
        self.inner.secret(name).await
    }
    async fn put_secret(&self, name: &str, sealed: Vec<u8>) -> privet_store::Result<Vec<u8>> {
        self.inner.put_secret(name, sealed).await
    }
    async fn rewrap_secret(
        &self,
        name: &str,
        old: &[u8],
        new: Vec<u8>,
    ) -> privet_store::Result<bool> {
        self.inner.rewrap_secret(name, old, new).await
    }
}

#[tokio::test]
async fn a_key_forgotten_while_it_was_read_is_not_cached_afterwards() {
    let dir = tempfile::tempdir().unwrap();
    let opened = SqliteDir::open(dir.path()).unwrap();
    let inner: Arc<dyn Keyring> = Arc::new(opened.keyring);
    let epochs = Arc::new(MasterKeys::single(MasterKey::generate(&mut os_rng())));
    let subject = Pseudonym::from_bytes([7; 16]);
    let wrapped = epochs.wrap_data_key(&subject, &DataKey::generate(&mut os_rng()), &mut os_rng());
    inner
        .put(&subject, wrapped, common::clock().now())
        .await
        .unwrap();
    let paused = Arc::new(Paused {
        inner: inner.clone(),
        armed: Mutex::new(true),
        read: Notify::new(),
        resume: Notify::new(),
    });
    let keys = Keys::new(epochs, paused.clone(), common::clock());

    // A read of the key begins and has read the keyring…
    let reading = tokio::spawn({
        let keys = keys.clone();
        async move { keys.get(&subject).await.map(|_| ()) }
    });
    paused.read.notified().await;
    // …when another instance erases the subject and this one is told.
    inner.destroy(&subject).await.unwrap();
    keys.forget(&subject);
    paused.resume.notify_one();
    reading.await.unwrap().unwrap();

    // The key read before the erasure was not cached: the next use finds it gone.
    let after = keys.find(&subject).await.unwrap();
    assert!(after.is_none(), "a destroyed key was served from the cache");
}
