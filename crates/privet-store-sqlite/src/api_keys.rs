//! Operator API keys, stored by hash.

use crate::codec::{conflict_or, from_opt_ts, from_ts, token, ts};
use crate::rows;
use jiff::Timestamp;
use privet_crypto::TokenHash;
use privet_policy::{ApiKeyId, Role};
use privet_store::{ApiKey, Context, Error, NewApiKey, Result};
use rusqlite::{Connection, params};

const COLUMNS: &str = "id, role, purposes, label, created_at, revoked_at";

type RawKey = (String, String, String, String, i64, Option<i64>);

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
    let sql = format!("SELECT {COLUMNS} FROM api_keys WHERE key_hash = ?1 AND revoked_at IS NULL");
    rows::decode_first(c, &sql, [token(hash)], "read api key", decode)?
        .ok_or_else(|| Error::not_found("api key", "(key)"))
}

pub(crate) fn all(c: &Connection) -> Result<Vec<ApiKey>> {
    let mut stmt = c
        .prepare(&format!(
            "SELECT {COLUMNS} FROM api_keys ORDER BY created_at, id"
        ))
        .op("list api keys")?;
    rows::decode_all(&mut stmt, [], "list api keys", decode)
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
