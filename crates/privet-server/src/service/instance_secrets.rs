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
//!
//! Rotation (`service::rotation`) re-seals [`SEALED`] under the newest epoch, so a retired
//! epoch takes every older copy of them along.

use crate::service::error::{ServiceError, ServiceResult};
use jiff::Timestamp;
use privet_crypto::{InstanceRoot, MasterKeys, SigningKey, os_rng};
use privet_store::Keyring;
use serde::{Deserialize, Serialize};

/// The instance root's secret.
pub const ROOT_KEY: &str = "root-key";
/// The shared receipt signing key's secret (PostgreSQL).
pub const SIGNING_KEY: &str = "signing-key";
/// The rotation schedule's record ([`EpochSince`] as JSON, not sealed).
pub const LAST_ROTATION: &str = "last-rotation";
/// Every secret sealed under a master-key epoch, which rotation re-seals.
pub const SEALED: [&str; 2] = [ROOT_KEY, SIGNING_KEY];

/// Which epoch is the newest in the keyring, and since when it wraps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpochSince {
    /// The epoch.
    pub epoch: u32,
    /// When it began wrapping the keyring's keys.
    pub since: Timestamp,
}

/// The instance root: the keyring's, or — on the first open of a keyring without one — a new
/// one stored there (of instances starting together, the first one's is everyone's).
pub async fn root(
    keyring: &dyn Keyring,
    epochs: &MasterKeys,
    now: Timestamp,
) -> ServiceResult<InstanceRoot> {
    let sealed = match keyring.secret(ROOT_KEY).await? {
        Some(sealed) => sealed,
        None => {
            let first = InstanceRoot::first(epochs, &mut os_rng());
            let sealed = epochs.seal_secret(ROOT_KEY, &first.to_bytes(), &mut os_rng())?;
            let stored = keyring.put_secret(ROOT_KEY, sealed).await?;
            // The rotation schedule starts with the keyring's root.
            rotation_schedule(keyring, epochs.newest_epoch(), now).await?;
            stored
        }
    };
    let bytes = epochs.open_secret(ROOT_KEY, &sealed)?;
    Ok(InstanceRoot::from_bytes(&bytes)?)
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

fn encode(record: EpochSince) -> ServiceResult<Vec<u8>> {
    serde_json::to_vec(&record).map_err(|_| ServiceError::Corrupt("rotation schedule"))
}

fn decode(bytes: &[u8]) -> ServiceResult<EpochSince> {
    serde_json::from_slice(bytes).map_err(|_| ServiceError::Corrupt("rotation schedule"))
}
