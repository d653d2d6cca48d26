//! Devices: creation, token lookup, claiming, reset and check-in, their broker credentials and
//! the deliveries recorded for them. Claiming and resetting are conditional updates, so two
//! instances claiming one code attach the device once.
//!
//! Lock order, shared with the block writer so no two of them deadlock: a household's row
//! first (its version bump, or the writer's `FOR SHARE`), then device rows, in id order.

use crate::codec::{Pg, col, from_opt_ts, from_ts, token, ts};
use crate::pool::{execute, insert, query, query_opt};
use deadpool_postgres::{GenericClient, Object, Transaction};
use jiff::Timestamp;
use privet_crypto::TokenHash;
use privet_policy::{DeviceId, SubjectId};
use privet_store::{BrokerCredential, Device, DeviceSeen, Error, NewDevice, Result};
use std::collections::BTreeMap;
use tokio_postgres::Row;

const COLUMNS: &str = "id, product, household, member, firmware, last_seen, created_at, revoked_at";

fn decode(r: &Row) -> Result<Device> {
    let op = "read device";
    Ok(Device {
        id: DeviceId::new(col::<String>(r, 0, op)?),
        product: col(r, 1, op)?,
        household: col::<Option<String>>(r, 2, op)?.map(SubjectId::new),
        member: col::<Option<String>>(r, 3, op)?.map(SubjectId::new),
        firmware: col(r, 4, op)?,
        last_seen: from_opt_ts(col(r, 5, op)?)?,
        created_at: from_ts(col(r, 6, op)?)?,
        revoked_at: from_opt_ts(col(r, 7, op)?)?,
    })
}

pub(crate) async fn create(c: &impl GenericClient, d: &NewDevice) -> Result<()> {
    insert(
        c,
        "INSERT INTO devices (id, product, household, member, token_hash, claim_hash, created_at,
                              broker_hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            &d.id.as_str(),
            &d.product,
            &d.household.as_ref().map(|h| h.as_str()),
            &d.member.as_ref().map(|m| m.as_str()),
            &token(&d.token_hash),
            &d.claim_hash.as_ref().map(token),
            &ts(d.created_at),
            &d.broker_hash,
        ],
        ("device", d.id.as_str()),
        "create device",
    )
    .await?;
    Ok(())
}

pub(crate) async fn get(c: &impl GenericClient, id: &DeviceId) -> Result<Device> {
    let sql = format!("SELECT {COLUMNS} FROM devices WHERE id = $1");
    match query_opt(c, &sql, &[&id.as_str()], "read device").await? {
        Some(r) => decode(&r),
        None => Err(Error::not_found("device", id.as_str())),
    }
}

pub(crate) async fn by_token(c: &impl GenericClient, hash: &TokenHash) -> Result<Device> {
    let sql = format!("SELECT {COLUMNS} FROM devices WHERE token_hash = $1 AND revoked_at IS NULL");
    match query_opt(c, &sql, &[&token(hash)], "read device").await? {
        Some(r) => decode(&r),
        None => Err(Error::not_found("device", "(token)")),
    }
}

pub(crate) async fn of_household(
    c: &impl GenericClient,
    household: &SubjectId,
) -> Result<Vec<Device>> {
    let sql = format!("SELECT {COLUMNS} FROM devices WHERE household = $1 ORDER BY created_at, id");
    query(c, &sql, &[&household.as_str()], "list devices")
        .await?
        .iter()
        .map(decode)
        .collect()
}

pub(crate) async fn all(c: &impl GenericClient) -> Result<Vec<Device>> {
    let sql = format!("SELECT {COLUMNS} FROM devices ORDER BY created_at, id");
    query(c, &sql, &[], "list devices")
        .await?
        .iter()
        .map(decode)
        .collect()
}

pub(crate) async fn touch(
    c: &impl GenericClient,
    id: &DeviceId,
    at: Timestamp,
    firmware: Option<&str>,
) -> Result<()> {
    let n = execute(
        c,
        "UPDATE devices SET last_seen = greatest(coalesce(last_seen, 0), $2),
                            firmware = coalesce($3, firmware)
         WHERE id = $1",
        &[&id.as_str(), &ts(at), &firmware],
        "touch device",
    )
    .await?;
    if n == 0 {
        return Err(Error::not_found("device", id.as_str()));
    }
    Ok(())
}

/// How a device is attached, as an append checks it.
#[derive(Debug)]
pub(crate) struct Attachment {
    /// Its household.
    pub(crate) household: Option<String>,
    /// Whether its token was revoked.
    pub(crate) revoked: bool,
}

/// Locks the rows of these devices `FOR UPDATE`, in id order, until the transaction ends, and
/// says how each is attached (missing devices are missing). In id order: two instances'
/// groups seeing overlapping devices take their locks in the same order, so neither can hold
/// one the other waits for while waiting for one the other holds.
pub(crate) async fn lock_seen(
    tx: &Transaction<'_>,
    ids: &[&str],
) -> Result<BTreeMap<String, Attachment>> {
    let op = "check devices";
    query(
        tx,
        "SELECT id, household, revoked_at IS NOT NULL FROM devices
         WHERE id = ANY($1) ORDER BY id FOR UPDATE",
        &[&ids],
        op,
    )
    .await?
    .iter()
    .map(|r| {
        Ok((
            col::<String>(r, 0, op)?,
            Attachment {
                household: col(r, 1, op)?,
                revoked: col(r, 2, op)?,
            },
        ))
    })
    .collect()
}

/// Records in one statement that devices were seen, as the calls would one after another:
/// each device's latest time, and the last firmware reported. `NotFound` names the first
/// device that does not exist. The block writer locks the rows first ([`lock_seen`], in id
/// order), so the order this statement's plan visits them in cannot deadlock.
pub(crate) async fn touch_many(c: &impl GenericClient, seen: &[&DeviceSeen]) -> Result<()> {
    let mut merged: BTreeMap<&str, (i64, Option<&str>)> = BTreeMap::new();
    for s in seen {
        let e = merged.entry(s.device.as_str()).or_insert((i64::MIN, None));
        e.0 = e.0.max(ts(s.at));
        if s.firmware.is_some() {
            e.1 = s.firmware.as_deref();
        }
    }
    let ids: Vec<&str> = merged.keys().copied().collect();
    let ats: Vec<i64> = merged.values().map(|v| v.0).collect();
    let firmware: Vec<Option<&str>> = merged.values().map(|v| v.1).collect();
    let touched = query(
        c,
        "UPDATE devices d SET last_seen = greatest(coalesce(d.last_seen, 0), s.at),
                              firmware = coalesce(s.firmware, d.firmware)
         FROM unnest($1::text[], $2::int8[], $3::text[]) AS s(id, at, firmware)
         WHERE d.id = s.id
         RETURNING d.id",
        &[&ids, &ats, &firmware],
        "touch device",
    )
    .await?;
    if touched.len() == ids.len() {
        return Ok(());
    }
    let got: Vec<String> = touched
        .iter()
        .map(|r| col(r, 0, "touch device"))
        .collect::<Result<_>>()?;
    let missing = ids
        .iter()
        .find(|id| !got.iter().any(|g| g == *id))
        .copied()
        .unwrap_or("(unknown)");
    Err(Error::not_found("device", missing))
}

/// Attaches the unclaimed device of `claim` to a household, consuming the code, and bumps the
/// household's version first (household row, then device row: the writer's lock order). Run
/// it in a transaction: a wrong code rolls the bump back.
pub(crate) async fn claim(
    c: &impl GenericClient,
    claim: &TokenHash,
    household: &SubjectId,
    member: Option<&SubjectId>,
) -> Result<Device> {
    crate::subjects::bump_household_of(c, household).await?;
    let sql = format!(
        "UPDATE devices SET household = $2, member = $3, claim_hash = NULL
         WHERE claim_hash = $1 AND household IS NULL AND revoked_at IS NULL
         RETURNING {COLUMNS}"
    );
    let row = query_opt(
        c,
        &sql,
        &[
            &token(claim),
            &household.as_str(),
            &member.map(|m| m.as_str()),
        ],
        "claim device",
    )
    .await?;
    match row {
        Some(r) => decode(&r),
        // A wrong code and a used code answer the same, so codes cannot be probed.
        None => Err(Error::not_found("claim code", "(code)")),
    }
}

pub(crate) async fn unclaimed(c: &impl GenericClient, claim: &TokenHash) -> Result<Device> {
    let sql = format!(
        "SELECT {COLUMNS} FROM devices
         WHERE claim_hash = $1 AND household IS NULL AND revoked_at IS NULL"
    );
    match query_opt(c, &sql, &[&token(claim)], "look up claim code").await? {
        Some(r) => decode(&r),
        None => Err(Error::not_found("claim code", "(code)")),
    }
}

/// Times a reset looks again when the device moved household between its read and its write.
const RESET_RETRIES: usize = 3;

/// Unlinks and re-keys a device, bumping the version of the household it leaves in the same
/// transaction. The household's row is locked before the device's (the writer's order): the
/// device's household is read first, its version bumped, and the device updated only if it
/// is still in that household; if it moved meanwhile, all of it again.
pub(crate) async fn reset(
    c: &mut Object,
    id: &DeviceId,
    at: Timestamp,
    new_token: Option<&TokenHash>,
    new_claim: Option<&TokenHash>,
    new_broker_hash: Option<&str>,
) -> Result<Device> {
    let op = "reset device";
    // A revoked device has no token, so no broker credential either.
    let broker_hash = new_token.and(new_broker_hash);
    let revoked = if new_token.is_some() {
        None
    } else {
        Some(ts(at))
    };
    let sql = format!(
        "UPDATE devices SET household = NULL, member = NULL, token_hash = $2, revoked_at = $3,
                            claim_hash = $4, broker_hash = $6
         WHERE id = $1 AND household IS NOT DISTINCT FROM $5
         RETURNING {COLUMNS}"
    );
    for _ in 0..RESET_RETRIES {
        let tx = c.transaction().await.pg(op)?;
        let household: Option<String> = match query_opt(
            &tx,
            "SELECT household FROM devices WHERE id = $1",
            &[&id.as_str()],
            op,
        )
        .await?
        {
            Some(r) => col(&r, 0, op)?,
            None => return Err(Error::not_found("device", id.as_str())),
        };
        if let Some(h) = &household {
            crate::subjects::bump_household_of(&tx, &SubjectId::new(h.as_str())).await?;
        }
        let row = query_opt(
            &tx,
            &sql,
            &[
                &id.as_str(),
                &new_token.map(token),
                &revoked,
                &new_claim.map(token),
                &household,
                &broker_hash,
            ],
            op,
        )
        .await?;
        if let Some(r) = row {
            let device = decode(&r)?;
            // After the update, under its row lock: an append of the device's that committed
            // before has its delivery here to delete, and one after waits for this commit.
            forget_deliveries(&tx, &[id.as_str()]).await?;
            tx.commit().await.pg(op)?;
            return Ok(device);
        }
        // Claimed or unlinked since it was read: rolled back when dropped, and again.
    }
    Err(Error::conflict("device", id.as_str()))
}

/// Every unrevoked device's broker hash, by device id.
pub(crate) async fn broker_credentials(c: &impl GenericClient) -> Result<Vec<BrokerCredential>> {
    let op = "list broker credentials";
    query(
        c,
        "SELECT id, broker_hash FROM devices
         WHERE broker_hash IS NOT NULL AND revoked_at IS NULL ORDER BY id",
        &[],
        op,
    )
    .await?
    .iter()
    .map(|r| {
        Ok(BrokerCredential {
            device: DeviceId::new(col::<String>(r, 0, op)?),
            hash: col(r, 1, op)?,
        })
    })
    .collect()
}

/// Forgets every delivery of these devices: they are the device's, and go when it is reset or
/// revoked. Run it after the devices' rows are locked (updated), so no append of theirs
/// commits a delivery behind it.
pub(crate) async fn forget_deliveries(c: &impl GenericClient, ids: &[&str]) -> Result<()> {
    execute(
        c,
        "DELETE FROM deliveries WHERE device = ANY($1)",
        &[&ids],
        "forget deliveries",
    )
    .await?;
    Ok(())
}

/// Forgets deliveries recorded before `before`.
pub(crate) async fn prune_deliveries(c: &impl GenericClient, before: Timestamp) -> Result<u64> {
    execute(
        c,
        "DELETE FROM deliveries WHERE at < $1",
        &[&ts(before)],
        "prune deliveries",
    )
    .await
}
