//! Per-key locks that order work on one household (or one request) inside this process: a
//! consent withdrawal, objection, restriction or erasure waits for the household's ingest
//! batches in flight to commit, and batches wait for it, so nothing collected under the old
//! permissions lands after the change is acknowledged and its purge has run.
//!
//! In-process only. Instances sharing one database order the same work through the store:
//! every change bumps the household's version in its own commit, and a batch commits only
//! while the version it was admitted under holds (`privet_store::DeviceSeen::admitted_under`);
//! a rights request's action runs for the one completion that claimed it
//! (`Store::claim_request`); a purge rewrites a block only if it is as read
//! (`Store::rewrite_block`). These locks still order work inside one process, so on SQLite
//! (one process) a batch never even needs the store's check.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use tokio::sync::RwLock;

/// Entries kept before dead ones are swept.
const SWEEP_AT: usize = 4_096;

/// A lock per key, created on first use and forgotten once nobody holds it.
pub struct Locks<K> {
    map: Mutex<HashMap<K, Weak<RwLock<()>>>>,
}

impl<K> Default for Locks<K> {
    fn default() -> Self {
        Locks {
            map: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: Eq + Hash + Clone> Locks<K> {
    /// The lock of `key`: shared by everyone asking while anyone holds it.
    pub fn of(&self, key: &K) -> Arc<RwLock<()>> {
        // A panic elsewhere while holding the map leaves it consistent (one insert or one
        // sweep), so a poisoned map is used as is: an unshared lock would not exclude anyone.
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(lock) = map.get(key).and_then(Weak::upgrade) {
            return lock;
        }
        if map.len() >= SWEEP_AT {
            map.retain(|_, w| w.strong_count() > 0);
        }
        let lock = Arc::new(RwLock::new(()));
        map.insert(key.clone(), Arc::downgrade(&lock));
        lock
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_key_one_lock_while_held_and_forgotten_after() {
        let locks: Locks<String> = Locks::default();
        let a = locks.of(&"h1".to_owned());
        let again = locks.of(&"h1".to_owned());
        assert!(Arc::ptr_eq(&a, &again), "the same lock while held");
        let other = locks.of(&"h2".to_owned());
        assert!(!Arc::ptr_eq(&a, &other));
        let _writer = a.write().await;
        assert!(
            again.try_read().is_err(),
            "a writer excludes readers of the same key"
        );
        assert!(other.try_read().is_ok(), "other keys are free");
        drop(_writer);
        drop((a, again));
        let fresh = locks.of(&"h1".to_owned());
        assert_eq!(
            Arc::strong_count(&fresh),
            1,
            "a new lock once nobody held the old one"
        );
    }
}
