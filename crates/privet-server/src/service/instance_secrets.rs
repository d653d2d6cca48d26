//! The instance secrets kept in the keyring beside the wrapped subject keys, where data
//! backups never hold them, and the master-key rotation schedule kept with them.
//!
//! - `root-key`: the [`InstanceRoot`] (pseudonym, field-hash and secret-box keys), sealed
//!   under the newest master-key epoch. It outlives every epoch, so rotating the master key
//!   changes no pseudonym. The first instance to open a keyring without one makes it —
//!   derived from epoch 1 when configured, so installations from before epochs keep their
//!   pseudonyms — and every instance uses the stored one.
//! - `signing-key`: the receipt signing key that instances sharing a database (PostgreSQL)
//!   all sign with, sealed the same way. (The embedded store keeps its own `signing.key`.)
//! - `last-rotation`: when the newest epoch began wrapping (the first open of the keyring, or
//!   the last `privet keyring rotate` to a new epoch), from which erasure receipts count the
//!   next scheduled rotation. Not secret, but about the keyring, so kept in it.
//! - `rotation-period`: how often the operator rotates, which every instance's receipts and
//!   `privet keyring status` count with (one period for all, not one per process). Set by the
//!   first instance to start (or the first erasure) when absent, changed only by
//!   `privet keyring rotate --every-days N`.
//! - `epoch-check/N`: epoch N's check value ([`MasterKeys::epoch_check`]), made by the first
//!   instance to start with epoch N. Every instance opens the checks of its epochs at start
//!   ([`root`]), and is refused when its key for one differs, before it wraps anything.
//!
//! Rotation (`service::rotation`) re-seals [`SEALED`] under the newest epoch, so a retired
//! epoch takes every older copy of them along. Check values stay under their own epoch: a
//! retired epoch's check opens with nothing that is left, and holds no secret.

use crate::service::error::{ServiceError, ServiceResult};
use jiff::Timestamp;
use privet_crypto::{Error as CryptoError, InstanceRoot, MasterKeys, SigningKey, os_rng};
use privet_policy::AuditChain;
use privet_store::{Keyring, Store};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The instance root's secret.
pub const ROOT_KEY: &str = "root-key";
/// The shared receipt signing key's secret (PostgreSQL).
pub const SIGNING_KEY: &str = "signing-key";
/// The rotation schedule's record ([`EpochSince`] as JSON, not sealed).
pub const LAST_ROTATION: &str = "last-rotation";
/// The rotation period's record (`{"secs": N}` as JSON, not sealed).
pub const ROTATION_PERIOD: &str = "rotation-period";
/// Every secret sealed under a master-key epoch, which rotation re-seals.
pub const SEALED: [&str; 2] = [ROOT_KEY, SIGNING_KEY];
/// Wrapped keys an epoch without a check value is tried against (the first page).
const SAMPLE: usize = 100;

/// Which epoch is the newest in the keyring, and since when it wraps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpochSince {
    /// The epoch.
    pub epoch: u32,
    /// When it began wrapping the keyring's keys.
    pub since: Timestamp,
}

/// What every instance does at start: checks its master keys against the keyring
/// ([`verify_epochs`]), then reads the instance root — or, on the first open of a keyring
/// without one, makes it there (of instances starting together, the first one's is
/// everyone's) — and finally records the check values of its epochs that had none. Nothing is
/// written unless every configured epoch checked out.
pub async fn root(
    keyring: &dyn Keyring,
    epochs: &MasterKeys,
    now: Timestamp,
) -> ServiceResult<InstanceRoot> {
    let unchecked = verify_epochs(keyring, epochs).await?;
    let sealed = match keyring.secret(ROOT_KEY).await? {
        Some(sealed) => sealed,
        None => {
            let holds_keys = !keyring.wrapped_keys(None, 1).await?.is_empty();
            let first = InstanceRoot::first(epochs, holds_keys, &mut os_rng())?;
            let sealed = epochs.seal_secret(ROOT_KEY, &first.to_bytes(), &mut os_rng())?;
            let stored = keyring.put_secret(ROOT_KEY, sealed).await?;
            // The rotation schedule starts with the keyring's root.
            rotation_schedule(keyring, epochs.newest_epoch(), now).await?;
            stored
        }
    };
    let bytes = epochs.open_secret(ROOT_KEY, &sealed)?;
    let root = InstanceRoot::from_bytes(&bytes)?;
    record_epoch_checks(keyring, epochs, &unchecked).await?;
    Ok(root)
}

/// Checks every configured epoch's key against the keyring, changing nothing: against the
/// epoch's check value when there is one, else against what the keyring holds under that
/// epoch (the sealed secrets, and the first wrapped key under it among the first hundred).
/// [`CryptoError::WrongEpochKey`] names the first epoch whose key differs. Returns the epochs
/// that have no check value yet.
pub async fn verify_epochs(keyring: &dyn Keyring, epochs: &MasterKeys) -> ServiceResult<Vec<u32>> {
    let mut unchecked = Vec::new();
    let mut sample: Option<Vec<_>> = None;
    for epoch in epochs.epochs() {
        if let Some(check) = keyring.secret(&MasterKeys::check_name(epoch)).await? {
            epochs.verify_epoch_check(epoch, &check)?;
            continue;
        }
        let wrong = || CryptoError::WrongEpochKey { epoch };
        for name in SEALED {
            if let Some(sealed) = keyring.secret(name).await?
                && MasterKeys::epoch_of(&sealed).ok() == Some(epoch)
                && epochs.open_secret(name, &sealed).is_err()
            {
                return Err(wrong().into());
            }
        }
        let sample = match &mut sample {
            Some(sample) => sample,
            None => sample.insert(keyring.wrapped_keys(None, SAMPLE).await?),
        };
        if let Some((subject, wrapped)) = sample
            .iter()
            .find(|(_, w)| MasterKeys::epoch_of(w).ok() == Some(epoch))
            && epochs.unwrap_data_key(subject, wrapped).is_err()
        {
            return Err(wrong().into());
        }
        unchecked.push(epoch);
    }
    Ok(unchecked)
}

/// [`verify_epochs`], then records the check values that were missing.
pub async fn check_epochs(keyring: &dyn Keyring, epochs: &MasterKeys) -> ServiceResult<()> {
    let unchecked = verify_epochs(keyring, epochs).await?;
    record_epoch_checks(keyring, epochs, &unchecked).await
}

/// Stores the check values of `unchecked` epochs; another instance's stored first is the one
/// kept, and checked again here.
async fn record_epoch_checks(
    keyring: &dyn Keyring,
    epochs: &MasterKeys,
    unchecked: &[u32],
) -> ServiceResult<()> {
    for &epoch in unchecked {
        let check = epochs.epoch_check(epoch, &mut os_rng())?;
        let stored = keyring
            .put_secret(&MasterKeys::check_name(epoch), check)
            .await?;
        epochs.verify_epoch_check(epoch, &stored)?;
    }
    Ok(())
}

/// The stored root, sealed and opened.
async fn stored_root(
    keyring: &dyn Keyring,
    epochs: &MasterKeys,
) -> ServiceResult<Option<(Vec<u8>, InstanceRoot)>> {
    let Some(sealed) = keyring.secret(ROOT_KEY).await? else {
        return Ok(None);
    };
    let root = InstanceRoot::from_bytes(&epochs.open_secret(ROOT_KEY, &sealed)?)?;
    Ok(Some((sealed, root)))
}

/// Records in the stored root that the keyed audit chain begins at `seq` (compare-and-set:
/// another instance's record made meanwhile is read again and kept if it has one).
async fn record_keyed_from(
    keyring: &dyn Keyring,
    epochs: &MasterKeys,
    seq: impl Fn(&InstanceRoot) -> Option<i64>,
) -> ServiceResult<InstanceRoot> {
    loop {
        let Some((sealed, root)) = stored_root(keyring, epochs).await? else {
            return Err(ServiceError::Corrupt("instance root"));
        };
        let Some(seq) = seq(&root) else {
            return Ok(root);
        };
        let updated = root.with_audit_keyed_from(seq);
        let resealed = epochs.seal_secret(ROOT_KEY, &updated.to_bytes(), &mut os_rng())?;
        if keyring.rewrap_secret(ROOT_KEY, &sealed, resealed).await? {
            return Ok(updated);
        }
    }
}

/// How this installation's audit chain is linked: keyed with the root's audit key from the
/// entry the root records. The first open of a root that records none (a new installation,
/// or one whose log predates keying) records the entry after the log's newest, so every entry
/// from then on is keyed; of instances starting together, the first one's record is
/// everyone's. `running` is the root this instance was opened with: every open stores it
/// first ([`root`]); a state built over a keyring without one (tests build such states) links
/// with it from the log's end, recording nothing.
pub async fn audit_chain(
    store: &dyn Store,
    keyring: &dyn Keyring,
    epochs: &MasterKeys,
    running: &InstanceRoot,
) -> ServiceResult<AuditChain> {
    let next = store.audit_head().await?.map_or(1, |(seq, _)| seq + 1);
    if keyring.secret(ROOT_KEY).await?.is_none() {
        return Ok(AuditChain::new(running.audit_key(), next));
    }
    let root = record_keyed_from(keyring, epochs, |root| match root.audit_keyed_from() {
        Some(_) => None,
        None => Some(next),
    })
    .await?;
    let from = root.audit_keyed_from().unwrap_or(next);
    Ok(AuditChain::new(root.audit_key(), from))
}

/// The chain as recorded, changing nothing (`privet audit verify`): a root that records no
/// beginning has never been opened by a version that keys the chain, so its whole log is
/// unkeyed.
pub async fn recorded_audit_chain(
    keyring: &dyn Keyring,
    epochs: &MasterKeys,
) -> ServiceResult<AuditChain> {
    let Some((_, root)) = stored_root(keyring, epochs).await? else {
        return Err(ServiceError::Corrupt("instance root"));
    };
    let from = root.audit_keyed_from().unwrap_or(i64::MAX);
    Ok(AuditChain::new(root.audit_key(), from))
}

/// After restoring a backup whose log ends before the keyed chain began, moves the beginning
/// back to the entry after the backup's last, so the entries appended from now on (the
/// restore's own first) are keyed rather than linked as the old ones were.
pub async fn audit_chain_after_restore(
    store: &dyn Store,
    keyring: &dyn Keyring,
    epochs: &MasterKeys,
) -> ServiceResult<AuditChain> {
    let next = store.audit_head().await?.map_or(1, |(seq, _)| seq + 1);
    // Restore holds the data directory exclusively, so nothing races it.
    let root = record_keyed_from(keyring, epochs, |root| match root.audit_keyed_from() {
        Some(from) if from <= next => None,
        _ => Some(next),
    })
    .await?;
    Ok(AuditChain::new(
        root.audit_key(),
        root.audit_keyed_from().unwrap_or(next),
    ))
}

/// The receipt signing key that every instance sharing this keyring signs with: the stored
/// one, or a new one stored (the first instance's is everyone's).
pub async fn shared_signing_key(
    keyring: &dyn Keyring,
    epochs: &MasterKeys,
) -> ServiceResult<SigningKey> {
    let sealed = match keyring.secret(SIGNING_KEY).await? {
        Some(sealed) => sealed,
        None => {
            let fresh = SigningKey::generate(&mut os_rng());
            let sealed =
                epochs.seal_secret(SIGNING_KEY, fresh.seed_bytes().as_slice(), &mut os_rng())?;
            keyring.put_secret(SIGNING_KEY, sealed).await?
        }
    };
    let seed = epochs.open_secret(SIGNING_KEY, &sealed)?;
    let seed = <[u8; 32]>::try_from(seed.as_slice())
        .map_err(|_| ServiceError::Corrupt("receipt signing key"))?;
    Ok(SigningKey::from_seed(seed))
}

/// The recorded rotation schedule, recording `epoch` as beginning `now` if there is none
/// yet (a keyring from before epochs, or opened without [`root`]).
pub async fn rotation_schedule(
    keyring: &dyn Keyring,
    epoch: u32,
    now: Timestamp,
) -> ServiceResult<EpochSince> {
    if let Some(recorded) = last_rotation(keyring).await? {
        return Ok(recorded);
    }
    let stored = keyring
        .put_secret(LAST_ROTATION, encode(EpochSince { epoch, since: now })?)
        .await?;
    decode(&stored)
}

/// The recorded rotation schedule, if any.
pub async fn last_rotation(keyring: &dyn Keyring) -> ServiceResult<Option<EpochSince>> {
    keyring
        .secret(LAST_ROTATION)
        .await?
        .map(|bytes| decode(&bytes))
        .transpose()
}

/// Records that `epoch` wraps every key since `now`, unless an equal or newer epoch is
/// recorded already (re-running a rotation does not restart the schedule: copies taken
/// since the newest epoch began are still under it).
pub(crate) async fn record_rotation(
    keyring: &dyn Keyring,
    epoch: u32,
    now: Timestamp,
) -> ServiceResult<EpochSince> {
    let new = EpochSince { epoch, since: now };
    loop {
        let Some(old) = keyring.secret(LAST_ROTATION).await? else {
            let stored = keyring.put_secret(LAST_ROTATION, encode(new)?).await?;
            if decode(&stored)? == new {
                return Ok(new);
            }
            continue;
        };
        let recorded = decode(&old)?;
        if recorded.epoch >= epoch {
            return Ok(recorded);
        }
        // Compare-and-set: another rotation recording meanwhile is read again.
        if keyring
            .rewrap_secret(LAST_ROTATION, &old, encode(new)?)
            .await?
        {
            return Ok(new);
        }
    }
}

/// How the rotation period is kept: whole seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct PeriodRecord {
    secs: u64,
}

/// The rotation period kept in the keyring, if any.
pub async fn stored_rotation_period(keyring: &dyn Keyring) -> ServiceResult<Option<Duration>> {
    keyring
        .secret(ROTATION_PERIOD)
        .await?
        .map(|bytes| decode_period(&bytes))
        .transpose()
}

/// The rotation period every instance uses: the keyring's, or — when none is kept yet —
/// `otherwise`, stored there (of instances starting together, the first one's is everyone's).
pub async fn rotation_period(
    keyring: &dyn Keyring,
    otherwise: Duration,
) -> ServiceResult<Duration> {
    if let Some(stored) = stored_rotation_period(keyring).await? {
        return Ok(stored);
    }
    let stored = keyring
        .put_secret(ROTATION_PERIOD, encode_period(otherwise)?)
        .await?;
    decode_period(&stored)
}

/// Makes `period` the rotation period every instance uses (`privet keyring rotate
/// --every-days`); returns the one it replaced, if any.
pub async fn set_rotation_period(
    keyring: &dyn Keyring,
    period: Duration,
) -> ServiceResult<Option<Duration>> {
    loop {
        let Some(old) = keyring.secret(ROTATION_PERIOD).await? else {
            let stored = keyring
                .put_secret(ROTATION_PERIOD, encode_period(period)?)
                .await?;
            if decode_period(&stored)? == period {
                return Ok(None);
            }
            continue;
        };
        // Compare-and-set: a change made meanwhile is read again.
        if keyring
            .rewrap_secret(ROTATION_PERIOD, &old, encode_period(period)?)
            .await?
        {
            return decode_period(&old).map(Some);
        }
    }
}

fn encode_period(period: Duration) -> ServiceResult<Vec<u8>> {
    serde_json::to_vec(&PeriodRecord {
        secs: period.as_secs(),
    })
    .map_err(|_| ServiceError::Corrupt("rotation period"))
}

fn decode_period(bytes: &[u8]) -> ServiceResult<Duration> {
    serde_json::from_slice::<PeriodRecord>(bytes)
        .map(|r| Duration::from_secs(r.secs))
        .map_err(|_| ServiceError::Corrupt("rotation period"))
}

fn encode(record: EpochSince) -> ServiceResult<Vec<u8>> {
    serde_json::to_vec(&record).map_err(|_| ServiceError::Corrupt("rotation schedule"))
}

fn decode(bytes: &[u8]) -> ServiceResult<EpochSince> {
    serde_json::from_slice(bytes).map_err(|_| ServiceError::Corrupt("rotation schedule"))
}
