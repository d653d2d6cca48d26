//! A household's [`Permissions`], loaded once and cached until something that feeds them
//! changes (a consent, an objection, a restriction, a member, a device, an erasure): ingest asks them
//! for every batch, reads for every subject they meet.
//!
//! Every change goes through a service that calls [`changed`] after its write commits, which
//! also tells the other instances sharing the store ([`crate::service::changes`]). A load
//! racing with a change is not cached (a generation counter tells), so a cached value is never
//! older than the last change made here; one made on another instance arrives as a
//! notification, and no entry is used after [`MAX_AGE`] in case one was lost.
//!
//! A notification can arrive late, so ingest does not rely on it: every load carries the
//! household's version (read before anything else of the load), and the store commits a batch
//! only while that version holds (`privet_store::DeviceSeen::admitted_under`).

use crate::service::changes;
use crate::service::error::ServiceResult;
use crate::state::AppState;
use privet_policy::{Permissions, Subject, SubjectId, SubjectKind, SubjectPermissions};
use privet_store::{Change, Device};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Households kept; beyond this the cache starts again (a load is four small reads).
const MAX_CACHED: usize = 50_000;
/// The oldest a cached load is used: the bound on a change from another instance whose
/// notification was lost.
pub const MAX_AGE: std::time::Duration = std::time::Duration::from_secs(30);

/// A household's subjects and what they allow, as of one load.
#[derive(Debug)]
pub struct HouseholdPermissions {
    /// The household first, then its members.
    pub subjects: Vec<Subject>,
    /// Their consents, objections and restrictions.
    pub permissions: Permissions,
    /// The household's devices that may send, as of the load (a reset or an erasure
    /// forgets the load, so a device listed here was not reset since).
    pub devices: Vec<Device>,
    /// The household's version, read before the rest: a change committed since bumped it, so
    /// a batch admitted with this load commits only if nothing changed since it was read.
    pub version: u64,
}

impl HouseholdPermissions {
    /// Whether `device` (as read when it signed in) still sends for this household: listed,
    /// for the same member, not revoked.
    pub fn sends_here(&self, device: &Device) -> bool {
        self.devices
            .iter()
            .any(|d| d.id == device.id && d.member == device.member && d.revoked_at.is_none())
    }

    /// The members' ids (the only ids an event's `member` may name).
    pub fn member_ids(&self) -> Vec<String> {
        self.subjects
            .iter()
            .filter(|s| s.kind == SubjectKind::Member)
            .map(|s| s.id.as_str().to_owned())
            .collect()
    }

    /// A subject of the household.
    pub fn subject(&self, id: &str) -> Option<&Subject> {
        self.subjects.iter().find(|s| s.id.as_str() == id)
    }

    /// What a subject of the household allows.
    pub fn of(&self, id: &str) -> Option<&SubjectPermissions> {
        self.permissions.of(id)
    }
}

/// The cache.
#[derive(Default)]
pub struct PermissionsCache {
    households: Mutex<HashMap<SubjectId, (Arc<HouseholdPermissions>, Instant)>>,
    generation: AtomicU64,
}

impl PermissionsCache {
    fn get(&self, household: &SubjectId) -> Option<Arc<HouseholdPermissions>> {
        let map = self.households.lock().ok()?;
        let (value, loaded) = map.get(household)?;
        (loaded.elapsed() < MAX_AGE).then(|| value.clone())
    }

    fn insert(&self, household: SubjectId, value: Arc<HouseholdPermissions>, generation: u64) {
        let Ok(mut map) = self.households.lock() else {
            return;
        };
        // Checked under the lock that `invalidate` also takes: no change since the load began.
        if self.generation.load(Ordering::SeqCst) != generation {
            return;
        }
        if map.len() >= MAX_CACHED {
            map.clear();
        }
        map.insert(household, (value, Instant::now()));
    }

    fn invalidate(&self, household: &SubjectId) {
        if let Ok(mut map) = self.households.lock() {
            self.generation.fetch_add(1, Ordering::SeqCst);
            map.remove(household);
        }
    }

    /// Forgets every household (changes may have been missed).
    pub fn clear(&self) {
        if let Ok(mut map) = self.households.lock() {
            self.generation.fetch_add(1, Ordering::SeqCst);
            map.clear();
        }
    }
}

/// The permissions of `household` and its members.
pub async fn of_household(
    state: &AppState,
    household: &SubjectId,
) -> ServiceResult<Arc<HouseholdPermissions>> {
    let cache = state.permissions();
    if let Some(p) = cache.get(household) {
        return Ok(p);
    }
    let generation = cache.generation.load(Ordering::SeqCst);
    let store = state.store();
    // First: a change committing during the reads below can only make this version stale
    // (so the store refuses batches admitted with the load), never newer than what was read.
    let version = store.household_version(household).await?;
    let mut subjects = vec![store.subject(household).await?];
    subjects.extend(store.members(household).await?);
    let ids: Vec<SubjectId> = subjects.iter().map(|s| s.id.clone()).collect();
    let consents = store.consent_histories(&ids).await?;
    let objections = store.objections(&ids).await?;
    let devices = store.devices_of(household).await?;
    let loaded = Arc::new(HouseholdPermissions {
        permissions: Permissions::new(&subjects, &consents, &objections),
        subjects,
        devices,
        version,
    });
    cache.insert(household.clone(), loaded.clone(), generation);
    Ok(loaded)
}

/// What `subject` allows now, with its household's cached permissions.
pub async fn of_subject(state: &AppState, subject: &Subject) -> ServiceResult<SubjectPermissions> {
    let id = subject.id.as_str();
    if let Some(p) = of_household(state, subject.household_id()).await?.of(id) {
        return Ok(p.clone());
    }
    // Not in what was cached (created since, by a path that did not say so): load afresh.
    forget(state, subject.household_id());
    let fresh = of_household(state, subject.household_id()).await?;
    Ok(fresh.of(id).cloned().unwrap_or_else(|| {
        SubjectPermissions::new(subject.restricted, std::iter::empty(), std::iter::empty())
    }))
}

/// Forgets the household's cached permissions here only, to load them afresh.
pub fn forget(state: &AppState, household: &SubjectId) {
    state.permissions().invalidate(household);
}

/// Forgets the household's cached permissions on every instance: call after a change that
/// feeds them commits.
pub async fn changed(state: &AppState, household: &SubjectId) {
    forget(state, household);
    changes::announce(state, Change::Household(household.clone())).await;
}
