//! Devices: creation, token lookup, claiming, reset and check-in, their broker credentials,
//! and the deliveries recorded for them.

use crate::codec::{conflict_or, from_opt_ts, from_ts, token, ts};
use crate::rows;
use jiff::Timestamp;
use privet_crypto::TokenHash;
use privet_policy::{DeviceId, SubjectId};
use privet_store::{BrokerCredential, Context, Device, DeviceSeen, Error, NewDevice, Result};
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};

const COLUMNS: &str = "id, product, household, member, firmware, last_seen, created_at, revoked_at";

type RawDevice = (
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<i64>,
    i64,
    Option<i64>,
);

fn decode(raw: RawDevice) -> Result<Device> {
    let (id, product, household, member, firmware, last_seen, created_at, revoked_at) = raw;
    Ok(Device {
        id: DeviceId::new(id),
        product,
        household: household.map(SubjectId::new),
        member: member.map(SubjectId::new),
        firmware,
        last_seen: from_opt_ts(last_seen)?,
        created_at: from_ts(created_at)?,
        revoked_at: from_opt_ts(revoked_at)?,
    })
}

pub(crate) fn create(c: &Connection, d: &NewDevice) -> Result<()> {
    c.execute(
        "INSERT INTO devices (id, product, household, member, token_hash, claim_hash, created_at, broker_hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            d.id.as_str(),
            d.product,
            d.household.as_ref().map(|h| h.as_str()),
            d.member.as_ref().map(|m| m.as_str()),
            token(&d.token_hash),
            d.claim_hash.as_ref().map(token),
            ts(d.created_at),
            d.broker_hash
        ],
    )
    .map_err(|e| conflict_or(e, "device", d.id.as_str(), "create device"))?;
    Ok(())
}

pub(crate) fn get(c: &Connection, id: &DeviceId) -> Result<Device> {
    let sql = format!("SELECT {COLUMNS} FROM devices WHERE id = ?1");
    rows::decode_first(c, &sql, [id.as_str()], "read device", decode)?
        .ok_or_else(|| Error::not_found("device", id.as_str()))
}

pub(crate) fn by_token(c: &Connection, hash: &TokenHash) -> Result<Device> {
    let sql = format!("SELECT {COLUMNS} FROM devices WHERE token_hash = ?1 AND revoked_at IS NULL");
    rows::decode_first(c, &sql, [token(hash)], "read device", decode)?
        .ok_or_else(|| Error::not_found("device", "(token)"))
}

fn list(c: &Connection, filter: &str, param: Option<&str>) -> Result<Vec<Device>> {
    let mut stmt = c
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM devices {filter} ORDER BY created_at, id"
        ))
        .op("list devices")?;
    // The filter binds `param` if it has one.
    rows::decode_all(&mut stmt, params_from_iter(param), "list devices", decode)
}

pub(crate) fn of_household(c: &Connection, household: &SubjectId) -> Result<Vec<Device>> {
    list(c, "WHERE household = ?1", Some(household.as_str()))
}

pub(crate) fn all(c: &Connection) -> Result<Vec<Device>> {
    list(c, "", None)
}

pub(crate) fn touch(
    c: &Connection,
    id: &DeviceId,
    at: Timestamp,
    firmware: Option<&str>,
) -> Result<()> {
    // Cached: it runs once per stored batch, and parsing it each time showed in profiles.
    let n = c
        .prepare_cached(
            "UPDATE devices SET last_seen = max(coalesce(last_seen, 0), ?2), firmware = coalesce(?3, firmware) WHERE id = ?1",
        )
        .and_then(|mut s| s.execute(params![id.as_str(), ts(at), firmware]))
        .op("touch device")?;
    if n == 0 {
        return Err(Error::not_found("device", id.as_str()));
    }
    Ok(())
}

/// Records the call's deliveries for its device inside an append's savepoint, or fails with
/// `Conflict` on `delivery` if the device has one of them already (or the call names one
/// twice). The insert is the check: on the one writer nothing can record it between the two,
/// and a call that fails later is rolled back with its savepoint, deliveries and all.
pub(crate) fn record_deliveries(c: &Connection, seen: &DeviceSeen) -> Result<()> {
    if seen.deliveries.is_empty() {
        return Ok(());
    }
    let mut insert = c
        .prepare_cached("INSERT INTO deliveries (device, fingerprint, at) VALUES (?1, ?2, ?3)")
        .op("record delivery")?;
    for delivery in &seen.deliveries {
        insert
            .execute(params![
                seen.device.as_str(),
                delivery.0.as_slice(),
                ts(seen.at)
            ])
            .map_err(|e| conflict_or(e, "delivery", seen.device.as_str(), "record delivery"))?;
    }
    Ok(())
}

/// Forgets deliveries recorded before `before`.
pub(crate) fn prune_deliveries(c: &Connection, before: Timestamp) -> Result<u64> {
    c.execute("DELETE FROM deliveries WHERE at < ?1", [ts(before)])
        .map(crate::codec::changed)
        .op("prune deliveries")
}

/// Forgets every delivery of the devices `filter` selects from `devices` (binding `param`):
/// they are the device's, and go when it is reset or revoked.
pub(crate) fn forget_deliveries(c: &Connection, filter: &str, param: &str) -> Result<()> {
    c.execute(
        &format!("DELETE FROM deliveries WHERE device IN (SELECT id FROM devices WHERE {filter})"),
        [param],
    )
    .op("forget deliveries")?;
    Ok(())
}

/// Every unrevoked device's broker hash, by device id.
pub(crate) fn broker_credentials(c: &Connection) -> Result<Vec<BrokerCredential>> {
    let mut stmt = c
        .prepare_cached(
            "SELECT id, broker_hash FROM devices
             WHERE broker_hash IS NOT NULL AND revoked_at IS NULL ORDER BY id",
        )
        .op("list broker credentials")?;
    rows::decode_all(
        &mut stmt,
        [],
        "list broker credentials",
        |(id, hash): (String, String)| {
            Ok(BrokerCredential {
                device: DeviceId::new(id),
                hash,
            })
        },
    )
}

/// Checks, inside an append's transaction, that the batch's household is still at the version
/// it was admitted under and the device still attached to it and unrevoked (in the order the
/// PostgreSQL writer decides in: a missing device, then the version, then the attachment).
pub(crate) fn check_admitted(c: &Connection, seen: &DeviceSeen) -> Result<()> {
    let Some(under) = &seen.admitted_under else {
        return Ok(());
    };
    let state: Option<(Option<String>, Option<i64>)> = c
        .prepare_cached("SELECT household, revoked_at FROM devices WHERE id = ?1")
        .and_then(|mut s| {
            s.query_row([seen.device.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()
        })
        .op("check device")?;
    let Some((household, revoked)) = state else {
        return Err(Error::not_found("device", seen.device.as_str()));
    };
    if crate::subjects::version(c, &under.household)? != Some(under.version) {
        return Err(Error::conflict("household", under.household.as_str()));
    }
    if revoked.is_some() || household.as_deref() != Some(under.household.as_str()) {
        return Err(Error::conflict("device", seen.device.as_str()));
    }
    Ok(())
}

pub(crate) fn claim(
    c: &Connection,
    claim: &TokenHash,
    household: &SubjectId,
    member: Option<&SubjectId>,
) -> Result<Device> {
    let id = unclaimed_id(c, claim, "claim device")?;
    c.execute(
        "UPDATE devices SET household = ?2, member = ?3, claim_hash = NULL WHERE id = ?1",
        params![id, household.as_str(), member.map(|m| m.as_str())],
    )
    .op("claim device")?;
    crate::subjects::bump_household_of(c, household)?;
    get(c, &DeviceId::new(id))
}

pub(crate) fn unclaimed(c: &Connection, claim: &TokenHash) -> Result<Device> {
    let id = unclaimed_id(c, claim, "look up claim code")?;
    get(c, &DeviceId::new(id))
}

/// The id of the unclaimed, unrevoked device `claim` belongs to.
fn unclaimed_id(c: &Connection, claim: &TokenHash, op: &'static str) -> Result<String> {
    let id: Option<String> = c
        .query_row(
            "SELECT id FROM devices WHERE claim_hash = ?1 AND household IS NULL AND revoked_at IS NULL",
            [token(claim)],
            |r| r.get(0),
        )
        .optional()
        .op(op)?;
    // A wrong code and a used code answer the same, so codes cannot be probed.
    id.ok_or_else(|| Error::not_found("claim code", "(code)"))
}

pub(crate) fn reset(
    c: &Connection,
    id: &DeviceId,
    at: Timestamp,
    new_token: Option<&TokenHash>,
    new_claim: Option<&TokenHash>,
    new_broker_hash: Option<&str>,
) -> Result<Device> {
    let revoked = if new_token.is_some() {
        None
    } else {
        Some(ts(at))
    };
    // The household it leaves no longer allows it: batches admitted with it must not land.
    if let Some(h) = get(c, id)?.household {
        crate::subjects::bump_household_of(c, &h)?;
    }
    // A revoked device has no token, so no broker credential either.
    let broker_hash = new_token.and(new_broker_hash);
    let n = c
        .execute(
            "UPDATE devices SET household = NULL, member = NULL, token_hash = ?2, revoked_at = ?3, claim_hash = ?4, broker_hash = ?5 WHERE id = ?1",
            params![id.as_str(), new_token.map(token), revoked, new_claim.map(token), broker_hash],
        )
        .op("reset device")?;
    if n == 0 {
        return Err(Error::not_found("device", id.as_str()));
    }
    forget_deliveries(c, "id = ?1", id.as_str())?;
    get(c, id)
}
