//! Master-key rotation: re-wrapping every live subject key and instance secret under the
//! newest epoch, so the older epochs can be retired, and the status that tells the operator
//! when they can be.
//!
//! Once an epoch's key is removed from every instance and every copy of it is destroyed,
//! every copy of the keyring taken before the rotation — backups, WAL archives, replicas,
//! PostgreSQL's old row versions — is unreadable, and with it every key erased before.
//! Erasure receipts promise that by the next scheduled rotation
//! ([`older_copies_unreadable_by`]).
//!
//! A key is replaced only over the wrapping that was read (compare-and-set), so a subject
//! erased while the rotation runs stays erased, and two rotations never undo each other.

use crate::service::audit;
use crate::service::error::ServiceResult;
use crate::service::instance_secrets::{self, EpochSince, SEALED};
use jiff::{SignedDuration, Timestamp};
use privet_crypto::{MasterKeys, Pseudonym, os_rng};
use privet_store::{Keyring, NewAuditEntry, Store};
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// Wrapped keys read and re-wrapped per keyring call.
const PAGE: usize = 500;

/// What a rotation did, in counts only.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RotationReport {
    /// The epoch everything is now wrapped under.
    pub to_epoch: u32,
    /// Keys re-wrapped, by the epoch that wrapped them before.
    pub rewrapped: BTreeMap<u32, u64>,
    /// Keys already under the newest epoch.
    pub current: u64,
    /// Keys destroyed (their subject erased) while the rotation ran: left destroyed.
    pub erased_meanwhile: u64,
    /// Keys that could not be unwrapped, by the epoch they name: an epoch not configured
    /// here, or a wrapping that does not open. They are left as they are.
    pub unreadable: BTreeMap<u32, u64>,
    /// Keys whose wrapping is in no known format.
    pub unrecognised: u64,
    /// Instance secrets re-sealed under the newest epoch.
    pub secrets_rewrapped: Vec<&'static str>,
    /// Instance secrets that could not be opened (their epoch is not configured here).
    pub secrets_unreadable: Vec<&'static str>,
}

impl RotationReport {
    /// Whether every key and secret is now under the newest epoch, so the older epochs can be
    /// retired.
    pub fn is_complete(&self) -> bool {
        self.unreadable.is_empty() && self.unrecognised == 0 && self.secrets_unreadable.is_empty()
    }

    /// Keys re-wrapped in all.
    pub fn rewrapped_total(&self) -> u64 {
        self.rewrapped.values().sum()
    }
}

/// Re-wraps every wrapped key and sealed instance secret in `keyring` under the newest epoch
/// of `epochs`. When that leaves nothing under an older epoch, records the rotation (the
/// schedule receipts count from); audits `keyring.rotate` with counts only.
pub async fn rotate(
    store: &dyn Store,
    keyring: &dyn Keyring,
    epochs: &MasterKeys,
    now: Timestamp,
    actor: &str,
) -> ServiceResult<RotationReport> {
    let mut report = RotationReport {
        to_epoch: epochs.newest_epoch(),
        ..RotationReport::default()
    };
    let mut after: Option<Pseudonym> = None;
    loop {
        let page = keyring.wrapped_keys(after, PAGE).await?;
        let Some(last) = page.last().map(|(p, _)| *p) else {
            break;
        };
        for (subject, wrapped) in page {
            // Only keys after `after`: the page boundary is never handled twice.
            if after.is_some_and(|a| subject <= a) {
                continue;
            }
            rotate_key(keyring, epochs, &subject, wrapped, &mut report).await?;
        }
        if after == Some(last) {
            break;
        }
        after = Some(last);
    }
    for name in SEALED {
        rotate_secret(keyring, epochs, name, &mut report).await?;
    }
    if report.is_complete() {
        instance_secrets::record_rotation(keyring, report.to_epoch, now).await?;
    }
    audit::append(
        store,
        keyring,
        NewAuditEntry {
            at: now,
            actor: actor.to_owned(),
            action: "keyring.rotate".to_owned(),
            purpose: None,
            subjects: Vec::new(),
            count: report.rewrapped_total(),
            detail: serde_json::json!({
                "to_epoch": report.to_epoch,
                "rewrapped": report.rewrapped,
                "current": report.current,
                "erased_meanwhile": report.erased_meanwhile,
                "unreadable": report.unreadable,
                "unrecognised": report.unrecognised,
                "secrets_rewrapped": report.secrets_rewrapped.len(),
                "secrets_unreadable": report.secrets_unreadable.len(),
                "complete": report.is_complete(),
            }),
        },
    )
    .await?;
    Ok(report)
}

async fn rotate_key(
    keyring: &dyn Keyring,
    epochs: &MasterKeys,
    subject: &Pseudonym,
    mut wrapped: Vec<u8>,
    report: &mut RotationReport,
) -> ServiceResult<()> {
    loop {
        let Ok(epoch) = MasterKeys::epoch_of(&wrapped) else {
            report.unrecognised += 1;
            return Ok(());
        };
        let new = match epochs.rewrap_data_key(subject, &wrapped, &mut os_rng()) {
            Ok(Some(new)) => new,
            Ok(None) => {
                report.current += 1;
                return Ok(());
            }
            Err(_) => {
                *report.unreadable.entry(epoch).or_default() += 1;
                return Ok(());
            }
        };
        if keyring.rewrap(subject, &wrapped, new).await? {
            *report.rewrapped.entry(epoch).or_default() += 1;
            return Ok(());
        }
        // Changed since it was read: destroyed by an erasure (it stays destroyed), or
        // re-wrapped by another rotation (read again; it is then current).
        match keyring.get(subject).await {
            Ok(now) => wrapped = now,
            Err(e) if e.is_not_found() => {
                report.erased_meanwhile += 1;
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        }
    }
}

async fn rotate_secret(
    keyring: &dyn Keyring,
    epochs: &MasterKeys,
    name: &'static str,
    report: &mut RotationReport,
) -> ServiceResult<()> {
    loop {
        let Some(sealed) = keyring.secret(name).await? else {
            return Ok(());
        };
        let new = match epochs.reseal_secret(name, &sealed, &mut os_rng()) {
            Ok(Some(new)) => new,
            Ok(None) => return Ok(()),
            Err(_) => {
                report.secrets_unreadable.push(name);
                return Ok(());
            }
        };
        if keyring.rewrap_secret(name, &sealed, new).await? {
            report.secrets_rewrapped.push(name);
            return Ok(());
        }
    }
}

/// How many keys and secrets each epoch wraps, for the operator: an epoch other than the
/// newest that wraps nothing can be retired.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct KeyringStatus {
    /// The epochs configured here, oldest first.
    pub configured: Vec<u32>,
    /// The newest configured epoch.
    pub newest: u32,
    /// Wrapped keys by the epoch that wraps them (configured epochs always listed).
    pub keys: BTreeMap<u32, u64>,
    /// Keys whose wrapping is in no known format.
    pub unrecognised: u64,
    /// Sealed instance secrets by the epoch that seals them.
    pub secrets: BTreeMap<u32, Vec<&'static str>>,
    /// When the newest recorded epoch began wrapping.
    pub last_rotation: Option<EpochSince>,
}

impl KeyringStatus {
    /// Whether nothing in the keyring is wrapped under `epoch` any more and it is not the
    /// newest: it can be removed from every instance's configuration.
    pub fn can_retire(&self, epoch: u32) -> bool {
        epoch != self.newest
            && self.keys.get(&epoch).copied().unwrap_or(0) == 0
            && !self.secrets.contains_key(&epoch)
    }
}

/// Counts the keyring's keys and secrets by epoch; reads, changes nothing.
pub async fn status(keyring: &dyn Keyring, epochs: &MasterKeys) -> ServiceResult<KeyringStatus> {
    let mut status = KeyringStatus {
        configured: epochs.epochs(),
        newest: epochs.newest_epoch(),
        keys: epochs.epochs().into_iter().map(|e| (e, 0)).collect(),
        last_rotation: instance_secrets::last_rotation(keyring).await?,
        ..KeyringStatus::default()
    };
    let mut after: Option<Pseudonym> = None;
    loop {
        let page = keyring.wrapped_keys(after, PAGE).await?;
        let Some(last) = page.last().map(|(p, _)| *p) else {
            break;
        };
        for (subject, wrapped) in &page {
            if after.is_some_and(|a| *subject <= a) {
                continue;
            }
            match MasterKeys::epoch_of(wrapped) {
                Ok(epoch) => *status.keys.entry(epoch).or_default() += 1,
                Err(_) => status.unrecognised += 1,
            }
        }
        if after == Some(last) {
            break;
        }
        after = Some(last);
    }
    for name in SEALED {
        if let Some(sealed) = keyring.secret(name).await? {
            match MasterKeys::epoch_of(&sealed) {
                Ok(epoch) => status.secrets.entry(epoch).or_default().push(name),
                Err(_) => status.unrecognised += 1,
            }
        }
    }
    Ok(status)
}

/// What an erasure receipt says of the keyring copies older than now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OlderCopies {
    /// Unreadable by this time: the next scheduled rotation.
    UnreadableBy(Timestamp),
    /// The scheduled rotation is past and has not happened: no date can honestly be given.
    Overdue,
}

/// When every copy of the keyring taken before `now` is unreadable, if the operator keeps the
/// schedule: the rotation after `last` by `period` (which retires the epoch those copies are
/// wrapped under), or [`OlderCopies::Overdue`] when that is not in the future.
pub fn older_copies_unreadable_by(
    last: Timestamp,
    period: Duration,
    now: Timestamp,
) -> OlderCopies {
    let due = SignedDuration::try_from(period)
        .ok()
        .and_then(|p| last.checked_add(p).ok())
        // Beyond the representable range: as far as can be said.
        .unwrap_or(Timestamp::MAX);
    if due > now {
        OlderCopies::UnreadableBy(due)
    } else {
        OlderCopies::Overdue
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap_or(Timestamp::UNIX_EPOCH)
    }

    #[test]
    fn older_copies_are_unreadable_by_the_next_scheduled_rotation() {
        let day = Duration::from_secs(86_400);
        let last = ts("2026-01-01T00:00:00Z");
        assert_eq!(
            older_copies_unreadable_by(last, 30 * day, ts("2026-01-20T12:00:00Z")),
            OlderCopies::UnreadableBy(ts("2026-01-31T00:00:00Z"))
        );
        assert_eq!(
            older_copies_unreadable_by(last, 30 * day, ts("2026-01-31T00:00:00Z")),
            OlderCopies::Overdue,
            "due now is no longer a promise"
        );
        assert_eq!(
            older_copies_unreadable_by(last, 30 * day, ts("2026-03-01T00:00:00Z")),
            OlderCopies::Overdue
        );
        assert_eq!(
            older_copies_unreadable_by(last, Duration::MAX, ts("2026-03-01T00:00:00Z")),
            OlderCopies::UnreadableBy(Timestamp::MAX)
        );
    }

    #[test]
    fn an_epoch_can_be_retired_once_it_wraps_nothing() {
        let mut status = KeyringStatus {
            configured: vec![1, 2],
            newest: 2,
            keys: [(1, 0), (2, 5)].into_iter().collect(),
            ..KeyringStatus::default()
        };
        assert!(status.can_retire(1));
        assert!(!status.can_retire(2), "never the newest");
        status.secrets.insert(1, vec!["root-key"]);
        assert!(!status.can_retire(1), "a secret still under it");
        status.secrets.clear();
        status.keys.insert(1, 1);
        assert!(!status.can_retire(1), "a key still under it");
    }
}
