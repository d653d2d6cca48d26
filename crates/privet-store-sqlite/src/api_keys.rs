//! Operator API keys, stored by hash.

use crate::codec::{conflict_or, from_opt_ts, from_ts, not_found_or, token, ts};
use jiff::Timestamp;
use privet_crypto::TokenHash;
use privet_policy::{ApiKeyId, Role};
use privet_store::{ApiKey, Context, Error, NewApiKey, Result};
use rusqlite::{Connection, Row, params};

const COLUMNS: &str = "id, role, purposes, label, created_at, revoked_at";

type RawKey = (String, String, String, String, i64, Option<i64>);

fn from_row(r: &Row<'_>) -> rusqlite::Result<RawKey> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
    ))
}

fn decode(raw: RawKey) -> Result<ApiKey> {
    let (id, role, purposes, label, created_at, revoked_at) = raw;
    Ok(ApiKey {
        id: ApiKeyId::new(id),
        role: Role::parse(&role).ok_or(Error::Corrupt {
            what: "api key role",
        })?,
        purposes: serde_json::from_str(&purposes).map_err(|_| Error::Corrupt {
            what: "api key purposes",
        })?,
        label,
        created_at: from_ts(created_at)?,
        revoked_at: from_opt_ts(revoked_at)?,
    })
}

pub(crate) fn create(c: &Connection, k: &NewApiKey) -> Result<()> {
    let purposes = serde_json::to_string(&k.purposes).map_err(|_| Error::Corrupt {
        what: "api key purposes",
    })?;
    c.execute(
        "INSERT INTO api_keys (id, role, purposes, label, created_at, key_hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![k.id.as_str(), k.role.as_str(), purposes, k.label, ts(k.created_at), token(&k.hash)],
    )
    .map_err(|e| conflict_or(e, "api key", k.id.as_str(), "create api key"))?;
    Ok(())
}

pub(crate) fn by_hash(c: &Connection, hash: &TokenHash) -> Result<ApiKey> {
    let raw = c
        .query_row(
            &format!("SELECT {COLUMNS} FROM api_keys WHERE key_hash = ?1 AND revoked_at IS NULL"),
            [token(hash)],
            from_row,
        )
        .map_err(|e| not_found_or(e, "api key", "(key)", "read api key"))?;
    decode(raw)
}

pub(crate) fn all(c: &Connection) -> Result<Vec<ApiKey>> {
    let mut stmt = c
        .prepare(&format!(
            "SELECT {COLUMNS} FROM api_keys ORDER BY created_at, id"
        ))
        .op("list api keys")?;
    let rows = stmt.query_map([], from_row).op("list api keys")?;
    let mut out = Vec::new();
    for raw in rows {
        out.push(decode(raw.op("list api keys")?)?);
    }
    Ok(out)
}

pub(crate) fn revoke(c: &Connection, id: &ApiKeyId, at: Timestamp) -> Result<()> {
    let n = c
        .execute(
            "UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?2) WHERE id = ?1",
            params![id.as_str(), ts(at)],
        )
        .op("revoke api key")?;
    if n == 0 {
        return Err(Error::not_found("api key", id.as_str()));
    }
    Ok(())
}
