//! Subject data keys: created with the subject, unwrapped from the keyring on use and cached
//! in memory; destroyed first on erasure (crypto-shredding). Another instance's erasure arrives
//! as a notification that forgets the cached key ([`Keys::forget`]); no cached key is used
//! after [`MAX_AGE`], in case a notification was lost.
//!
//! New keys are wrapped under the newest master-key epoch; a key is unwrapped with the epoch
//! its wrapping names, so keys not yet re-wrapped by `privet keyring rotate` stay readable
//! while their epoch is configured.

use crate::clock::Clock;
use crate::service::error::ServiceResult;
use privet_crypto::{DataKey, MasterKeys, Pseudonym, os_rng};
use privet_store::Keyring;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Cached keys beyond this are dropped wholesale; unwrapping again is cheap.
const MAX_CACHED: usize = 100_000;
/// The oldest a cached key is used before the keyring is asked again.
pub const MAX_AGE: std::time::Duration = std::time::Duration::from_secs(30);

/// The cached keys, and a generation that every forgetting moves on: a key read from the
/// keyring before a forget is not cached after it.
#[derive(Default)]
struct Cache {
    keys: HashMap<Pseudonym, (Arc<DataKey>, Instant)>,
    generation: u64,
}

/// What [`Keys::destroy`] destroyed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Destroyed {
    /// The master-key epoch that wrapped it, as read just before it was destroyed; `None`
    /// when there was none to read, or its wrapping is in no known format.
    pub epoch: Option<u32>,
}

/// Access to subject keys through the keyring.
#[derive(Clone)]
pub struct Keys {
    epochs: Arc<MasterKeys>,
    keyring: Arc<dyn Keyring>,
    clock: Clock,
    cache: Arc<Mutex<Cache>>,
}

impl Keys {
    /// Keys wrapped by the master keys `epochs` in `keyring`.
    pub fn new(epochs: Arc<MasterKeys>, keyring: Arc<dyn Keyring>, clock: Clock) -> Self {
        Keys {
            epochs,
            keyring,
            clock,
            cache: Arc::new(Mutex::new(Cache::default())),
        }
    }

    /// The keyring.
    pub fn keyring(&self) -> &Arc<dyn Keyring> {
        &self.keyring
    }

    /// The master keys, by epoch.
    pub fn epochs(&self) -> &MasterKeys {
        &self.epochs
    }

    /// Creates and stores a new key for a subject.
    pub async fn create(&self, subject: &Pseudonym) -> ServiceResult<Arc<DataKey>> {
        let generation = self.generation();
        let key = DataKey::generate(&mut os_rng());
        let wrapped = self.epochs.wrap_data_key(subject, &key, &mut os_rng());
        self.keyring.put(subject, wrapped, self.clock.now()).await?;
        let key = Arc::new(key);
        self.remember(subject, key.clone(), generation);
        Ok(key)
    }

    /// The subject's key; a store `NotFound` once it has been destroyed.
    pub async fn get(&self, subject: &Pseudonym) -> ServiceResult<Arc<DataKey>> {
        if let Some(k) = self.cached(subject) {
            return Ok(k);
        }
        let generation = self.generation();
        let wrapped = self.keyring.get(subject).await?;
        let key = Arc::new(self.epochs.unwrap_data_key(subject, &wrapped)?);
        self.remember(subject, key.clone(), generation);
        Ok(key)
    }

    /// The subject's key, or `None` once it has been destroyed (the subject was erased, maybe
    /// while a read was running: there is nothing of theirs to read any more).
    pub async fn find(&self, subject: &Pseudonym) -> ServiceResult<Option<Arc<DataKey>>> {
        match self.get(subject).await {
            Ok(k) => Ok(Some(k)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The subject's key, created if it has none yet (for non-personal product streams).
    pub async fn get_or_create(&self, subject: &Pseudonym) -> ServiceResult<Arc<DataKey>> {
        if let Some(k) = self.find(subject).await? {
            return Ok(k);
        }
        match self.create(subject).await {
            Ok(k) => Ok(k),
            // Created concurrently by another request.
            Err(e) if e.is_conflict() => self.get(subject).await,
            Err(e) => Err(e),
        }
    }

    /// Destroys the subject's key everywhere: cache first, then the keyring's files. Says
    /// which master-key epoch wrapped it, read just before: copies of the keyring taken
    /// earlier hold it under that epoch (or older ones), which is what an erasure receipt's
    /// promise depends on.
    pub async fn destroy(&self, subject: &Pseudonym) -> ServiceResult<Destroyed> {
        self.forget(subject);
        let epoch = match self.keyring.get(subject).await {
            Ok(wrapped) => MasterKeys::epoch_of(&wrapped).ok(),
            Err(e) if e.is_not_found() => None,
            Err(e) => return Err(e.into()),
        };
        self.keyring.destroy(subject).await?;
        // Again: a `get` that read the keyring before the first forget may have cached it since.
        self.forget(subject);
        Ok(Destroyed { epoch })
    }

    /// Forgets a subject's cached key here (it was destroyed on another instance).
    pub fn forget(&self, subject: &Pseudonym) {
        if let Ok(mut c) = self.cache.lock() {
            c.generation += 1;
            c.keys.remove(subject);
        }
    }

    /// Forgets every cached key (notifications may have been missed).
    pub fn forget_all(&self) {
        if let Ok(mut c) = self.cache.lock() {
            c.generation += 1;
            c.keys.clear();
        }
    }

    fn generation(&self) -> u64 {
        self.cache.lock().map(|c| c.generation).unwrap_or(u64::MAX)
    }

    fn cached(&self, subject: &Pseudonym) -> Option<Arc<DataKey>> {
        let c = self.cache.lock().ok()?;
        let (key, at) = c.keys.get(subject)?;
        (at.elapsed() < MAX_AGE).then(|| key.clone())
    }

    /// Caches `key` unless something was forgotten since `generation` was read (the key may
    /// have been destroyed meanwhile).
    fn remember(&self, subject: &Pseudonym, key: Arc<DataKey>, generation: u64) {
        if let Ok(mut c) = self.cache.lock() {
            if c.generation != generation {
                return;
            }
            if c.keys.len() >= MAX_CACHED {
                c.keys.clear();
            }
            c.keys.insert(*subject, (key, Instant::now()));
        }
    }
}
