//! Devices: creation, token lookup, claiming, reset and check-in.

use crate::codec::{conflict_or, from_opt_ts, from_ts, not_found_or, token, ts};
use jiff::Timestamp;
use privet_crypto::TokenHash;
use privet_policy::{DeviceId, SubjectId};
use privet_store::{Context, Device, Error, NewDevice, Result};
use rusqlite::{Connection, OptionalExtension, Row, params};

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

fn from_row(r: &Row<'_>) -> rusqlite::Result<RawDevice> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
    ))
}

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
        "INSERT INTO devices (id, product, household, member, token_hash, claim_hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            d.id.as_str(),
            d.product,
            d.household.as_ref().map(|h| h.as_str()),
            d.member.as_ref().map(|m| m.as_str()),
            token(&d.token_hash),
            d.claim_hash.as_ref().map(token),
            ts(d.created_at)
        ],
    )
    .map_err(|e| conflict_or(e, "device", d.id.as_str(), "create device"))?;
    Ok(())
}

pub(crate) fn get(c: &Connection, id: &DeviceId) -> Result<Device> {
    let raw = c
        .query_row(
            &format!("SELECT {COLUMNS} FROM devices WHERE id = ?1"),
            [id.as_str()],
            from_row,
        )
        .map_err(|e| not_found_or(e, "device", id.as_str(), "read device"))?;
    decode(raw)
}

pub(crate) fn by_token(c: &Connection, hash: &TokenHash) -> Result<Device> {
    let raw = c
        .query_row(
            &format!("SELECT {COLUMNS} FROM devices WHERE token_hash = ?1 AND revoked_at IS NULL"),
            [token(hash)],
            from_row,
        )
        .map_err(|e| not_found_or(e, "device", "(token)", "read device"))?;
    decode(raw)
}

fn list(c: &Connection, filter: &str, param: Option<&str>) -> Result<Vec<Device>> {
    let mut stmt = c
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM devices {filter} ORDER BY created_at, id"
        ))
        .op("list devices")?;
    let rows = match param {
        Some(p) => stmt.query_map([p], from_row),
        None => stmt.query_map([], from_row),
    }
    .op("list devices")?;
    let mut out = Vec::new();
    for raw in rows {
        out.push(decode(raw.op("list devices")?)?);
    }
    Ok(out)
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
    let n = c
        .execute(
            "UPDATE devices SET last_seen = max(coalesce(last_seen, 0), ?2), firmware = coalesce(?3, firmware) WHERE id = ?1",
            params![id.as_str(), ts(at), firmware],
        )
        .op("touch device")?;
    if n == 0 {
        return Err(Error::not_found("device", id.as_str()));
    }
    Ok(())
}

pub(crate) fn claim(
    c: &Connection,
    claim: &TokenHash,
    household: &SubjectId,
    member: Option<&SubjectId>,
) -> Result<Device> {
    let id: Option<String> = c
        .query_row(
            "SELECT id FROM devices WHERE claim_hash = ?1 AND household IS NULL AND revoked_at IS NULL",
            [token(claim)],
            |r| r.get(0),
        )
        .optional()
        .op("claim device")?;
    // A wrong code and a used code answer the same, so codes cannot be probed.
    let Some(id) = id else {
        return Err(Error::not_found("claim code", "(code)"));
    };
    c.execute(
        "UPDATE devices SET household = ?2, member = ?3, claim_hash = NULL WHERE id = ?1",
        params![id, household.as_str(), member.map(|m| m.as_str())],
    )
    .op("claim device")?;
    get(c, &DeviceId::new(id))
}

pub(crate) fn unclaimed(c: &Connection, claim: &TokenHash) -> Result<Device> {
    let id: Option<String> = c
        .query_row(
            "SELECT id FROM devices WHERE claim_hash = ?1 AND household IS NULL AND revoked_at IS NULL",
            [token(claim)],
            |r| r.get(0),
        )
        .optional()
        .op("look up claim code")?;
    let Some(id) = id else {
        return Err(Error::not_found("claim code", "(code)"));
    };
    get(c, &DeviceId::new(id))
}

pub(crate) fn reset(
    c: &Connection,
    id: &DeviceId,
    at: Timestamp,
    new_token: Option<&TokenHash>,
    new_claim: Option<&TokenHash>,
) -> Result<Device> {
    let revoked = if new_token.is_some() {
        None
    } else {
        Some(ts(at))
    };
    let n = c
        .execute(
            "UPDATE devices SET household = NULL, member = NULL, token_hash = ?2, revoked_at = ?3, claim_hash = ?4 WHERE id = ?1",
            params![id.as_str(), new_token.map(token), revoked, new_claim.map(token)],
        )
        .op("reset device")?;
    if n == 0 {
        return Err(Error::not_found("device", id.as_str()));
    }
    get(c, id)
}
