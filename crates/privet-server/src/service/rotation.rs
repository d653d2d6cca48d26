//! Master-key rotation: re-wrapping every live subject key and instance secret under the
//! newest epoch, so the older epochs can be retired, and the status that tells the operator
//! when they can be.
//!
//! Once an epoch's key is removed from every instance and every copy of it is destroyed,
//! every copy of the keyring taken before the newest epoch was added — backups, WAL archives,
//! replicas, PostgreSQL's old row versions — is unreadable, and with it every key erased
//! before. Erasure receipts promise a date for that ([`older_copies_unreadable_by`]).
//!
//! A key is replaced only over the wrapping that was read (compare-and-set), so a subject
//! erased while the rotation runs stays erased, and two rotations never undo each other. Every
//! key is opened, also one that already names the newest epoch, so a key wrapped by an
//! instance with a different key for that epoch is found. A pass that moved anything is
//! followed by another, which must find nothing left to move: a key made under an older epoch
//! behind the cursor meanwhile is not left behind, and the rotation is recorded only then.

use crate::service::audit;
use crate::service::error::ServiceResult;
use crate::service::instance_secrets::{self, EpochSince, SEALED};
use jiff::{SignedDuration, Timestamp};
use privet_crypto::{MasterKeys, Pseudonym, os_rng};
use privet_store::{AuditChain, Keyring, NewAuditEntry, Store};
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// Wrapped keys read and re-wrapped per keyring call.
const PAGE: usize = 500;
/// Passes over the keyring at most. One that moves nothing ends the rotation; keys still
/// moving in the last pass mean an instance keeps wrapping under an older epoch.
const MAX_PASSES: usize = 3;

/// What a rotation did, in counts only.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RotationReport {
    /// The epoch everything is now wrapped under.
    pub to_epoch: u32,
    /// Keys re-wrapped, by the epoch that wrapped them before.
    pub rewrapped: BTreeMap<u32, u64>,
    /// Keys already under the newest epoch (and opened with it) on the first pass.
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
    /// Passes made over the keyring (the last one moved nothing, unless the rotation did not
    /// settle).
    pub passes: usize,
    /// Keys the last allowed pass still found under an older epoch, by that epoch: made
    /// during the rotation by an instance without the newest epoch. Re-wrapped, but more may
    /// follow, so the rotation is not complete.
    pub left_behind: BTreeMap<u32, u64>,
    /// Whether the last pass moved nothing (keys or secrets): only then is the keyring known
    /// to be all under the newest epoch.
    pub settled: bool,
}

impl RotationReport {
    /// Whether every key and secret is now under the newest epoch, checked by a pass that
    /// found nothing to move, so the older epochs can be retired.
    pub fn is_complete(&self) -> bool {
        self.unreadable.is_empty()
            && self.unrecognised == 0
            && self.secrets_unreadable.is_empty()
            && self.left_behind.is_empty()
            && self.settled
    }

    /// Adds a later pass: what it moved adds up; what it could not read replaces the earlier
    /// pass's (it is the same keys, read again).
    fn merge(&mut self, pass: RotationReport) {
        for (epoch, n) in pass.rewrapped {
            *self.rewrapped.entry(epoch).or_default() += n;
        }
        self.erased_meanwhile += pass.erased_meanwhile;
        self.unreadable = pass.unreadable;
        self.unrecognised = pass.unrecognised;
        self.secrets_rewrapped.extend(pass.secrets_rewrapped);
        self.secrets_unreadable = pass.secrets_unreadable;
    }

    /// Keys re-wrapped in all.
    pub fn rewrapped_total(&self) -> u64 {
        self.rewrapped.values().sum()
    }
}

/// Re-wraps every wrapped key and sealed instance secret in `keyring` under the newest epoch
/// of `epochs`, pass after pass (three at most) until one finds nothing to move. When
/// that leaves nothing under an older epoch, records the rotation (the schedule receipts count
/// from); audits `keyring.rotate` with counts only. Refused, before anything changes, when a
/// configured epoch's key is not the keyring's ([`instance_secrets::check_epochs`]).
pub async fn rotate(
    store: &dyn Store,
    keyring: &dyn Keyring,
    chain: &AuditChain,
    epochs: &MasterKeys,
    now: Timestamp,
    actor: &str,
) -> ServiceResult<RotationReport> {
    instance_secrets::check_epochs(keyring, epochs).await?;
    let to_epoch = epochs.newest_epoch();
    let mut report = RotationReport {
        to_epoch,
        ..RotationReport::default()
    };
    for n in 1..=MAX_PASSES {
        let pass = rotation_pass(keyring, epochs).await?;
        let moved = pass.rewrapped_total() > 0 || !pass.secrets_rewrapped.is_empty();
        if n == 1 {
            report.current = pass.current;
        }
        if moved && n == MAX_PASSES {
            report.left_behind = pass.rewrapped.clone();
        }
        report.merge(pass);
        report.passes = n;
        report.settled = !moved;
        if !moved {
            break;
        }
    }
    if report.is_complete() {
        instance_secrets::record_rotation(keyring, report.to_epoch, now).await?;
    }
    audit::append(
        store,
        keyring,
        chain,
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
                "passes": report.passes,
                "left_behind": report.left_behind,
                "complete": report.is_complete(),
            }),
        },
    )
    .await?;
    Ok(report)
}

/// One pass over every wrapped key and sealed secret.
async fn rotation_pass(
    keyring: &dyn Keyring,
    epochs: &MasterKeys,
) -> ServiceResult<RotationReport> {
    let mut pass = RotationReport {
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
            rotate_key(keyring, epochs, &subject, wrapped, &mut pass).await?;
        }
        if after == Some(last) {
            break;
        }
        after = Some(last);
    }
    for name in SEALED {
        rotate_secret(keyring, epochs, name, &mut pass).await?;
    }
    Ok(pass)
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
        // Opened even when it names the newest epoch: only a key that opens is current.
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
    /// The rotation period kept in the keyring, once one is.
    pub period: Option<Duration>,
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

/// Counts the keyring's keys and secrets by epoch; reads, changes nothing. Refused when a
/// configured epoch's key is not the keyring's ([`instance_secrets::verify_epochs`]): counts
/// would say nothing of whether those keys open.
pub async fn status(keyring: &dyn Keyring, epochs: &MasterKeys) -> ServiceResult<KeyringStatus> {
    instance_secrets::verify_epochs(keyring, epochs).await?;
    let mut status = KeyringStatus {
        configured: epochs.epochs(),
        newest: epochs.newest_epoch(),
        keys: epochs.epochs().into_iter().map(|e| (e, 0)).collect(),
        last_rotation: instance_secrets::last_rotation(keyring).await?,
        period: instance_secrets::stored_rotation_period(keyring).await?,
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
    /// Unreadable by this time: when the epoch those copies hold the key under is retired.
    UnreadableBy(Timestamp),
    /// The scheduled rotation is past and has not happened: no date can honestly be given.
    Overdue,
}

/// `n` rotation periods after `since`; [`Timestamp::MAX`] beyond the representable range (as
/// far as can be said).
fn periods_after(since: Timestamp, period: Duration, n: u32) -> Timestamp {
    period
        .checked_mul(n)
        .and_then(|p| SignedDuration::try_from(p).ok())
        .and_then(|p| since.checked_add(p).ok())
        .unwrap_or(Timestamp::MAX)
}

/// When the next rotation is due: `period` after the last one.
pub fn next_rotation_due(last: EpochSince, period: Duration) -> Timestamp {
    periods_after(last.since, period, 1)
}

/// When every copy of the keyring taken before `now` is unreadable, if the operator keeps the
/// schedule, for a key that such copies hold under epochs up to `wrapped_under`:
///
/// - `wrapped_under` is the epoch the `last` rotation moved to, or older: the next scheduled
///   rotation retires it — `last.since + period`;
/// - it is newer (added since the last rotation, not yet rotated to): the pending rotation
///   only moves everything onto it, and the rotation after that retires it —
///   `last.since + 2 × period`.
///
/// [`OlderCopies::Overdue`] when the next rotation is not in the future: it is late, and no
/// date can honestly be given.
pub fn older_copies_unreadable_by(
    last: EpochSince,
    wrapped_under: u32,
    period: Duration,
    now: Timestamp,
) -> OlderCopies {
    if next_rotation_due(last, period) <= now {
        return OlderCopies::Overdue;
    }
    let rotations = if wrapped_under <= last.epoch { 1 } else { 2 };
    OlderCopies::UnreadableBy(periods_after(last.since, period, rotations))
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
        let last = EpochSince {
            epoch: 1,
            since: ts("2026-01-01T00:00:00Z"),
        };
        assert_eq!(
            older_copies_unreadable_by(last, 1, 30 * day, ts("2026-01-20T12:00:00Z")),
            OlderCopies::UnreadableBy(ts("2026-01-31T00:00:00Z"))
        );
        assert_eq!(
            next_rotation_due(last, 30 * day),
            ts("2026-01-31T00:00:00Z")
        );
        assert_eq!(
            older_copies_unreadable_by(last, 1, 30 * day, ts("2026-01-31T00:00:00Z")),
            OlderCopies::Overdue,
            "due now is no longer a promise"
        );
        assert_eq!(
            older_copies_unreadable_by(last, 1, 30 * day, ts("2026-03-01T00:00:00Z")),
            OlderCopies::Overdue
        );
        assert_eq!(
            older_copies_unreadable_by(last, 1, Duration::MAX, ts("2026-03-01T00:00:00Z")),
            OlderCopies::UnreadableBy(Timestamp::MAX)
        );
    }

    #[test]
    fn a_key_under_an_epoch_newer_than_the_last_rotation_waits_for_the_rotation_after_next() {
        // Epoch 2 was added after the rotation to epoch 1: copies taken since hold keys under
        // epoch 2, which the pending rotation (to 2) keeps, and the one after retires.
        let day = Duration::from_secs(86_400);
        let last = EpochSince {
            epoch: 1,
            since: ts("2026-01-01T00:00:00Z"),
        };
        let now = ts("2026-01-20T12:00:00Z");
        assert_eq!(
            older_copies_unreadable_by(last, 2, 30 * day, now),
            OlderCopies::UnreadableBy(ts("2026-03-02T00:00:00Z"))
        );
        assert_eq!(
            older_copies_unreadable_by(last, 5, 30 * day, now),
            OlderCopies::UnreadableBy(ts("2026-03-02T00:00:00Z")),
            "however far ahead: the pending rotation retires every older one"
        );
        assert_eq!(
            older_copies_unreadable_by(last, 2, 30 * day, ts("2026-02-01T00:00:00Z")),
            OlderCopies::Overdue,
            "the pending rotation is late"
        );
        assert_eq!(
            older_copies_unreadable_by(last, 2, Duration::MAX, now),
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
