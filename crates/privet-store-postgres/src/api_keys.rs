//! Operator API keys, stored by hash.

use crate::codec::{col, from_opt_ts, from_ts, token, ts};
use crate::pool::{execute, insert, query, query_opt};
use deadpool_postgres::GenericClient;
use jiff::Timestamp;
use privet_crypto::TokenHash;
use privet_policy::{ApiKeyId, Role};
use privet_store::{ApiKey, Error, NewApiKey, Result};
use tokio_postgres::Row;

const COLUMNS: &str = "id, role, purposes, label, created_at, revoked_at";

fn decode(r: &Row) -> Result<ApiKey> {
    let op = "read api key";
    let role: &str = col(r, 1, op)?;
    Ok(ApiKey {
        id: ApiKeyId::new(col::<String>(r, 0, op)?),
        role: Role::parse(role).ok_or(Error::Corrupt {
            what: "api key role",
        })?,
        purposes: col(r, 2, op)?,
        label: col(r, 3, op)?,
        created_at: from_ts(col(r, 4, op)?)?,
        revoked_at: from_opt_ts(col(r, 5, op)?)?,
    })
}

pub(crate) async fn create(c: &impl GenericClient, k: &NewApiKey) -> Result<()> {
    insert(
        c,
        "INSERT INTO api_keys (id, role, purposes, label, created_at, key_hash)
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            &k.id.as_str(),
            &k.role.as_str(),
            &k.purposes,
            &k.label,
            &ts(k.created_at),
            &token(&k.hash),
        ],
        ("api key", k.id.as_str()),
        "create api key",
    )
    .await?;
    Ok(())
}

pub(crate) async fn by_hash(c: &impl GenericClient, hash: &TokenHash) -> Result<ApiKey> {
    let sql = format!("SELECT {COLUMNS} FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL");
    match query_opt(c, &sql, &[&token(hash)], "read api key").await? {
        Some(r) => decode(&r),
        None => Err(Error::not_found("api key", "(key)")),
    }
}

pub(crate) async fn all(c: &impl GenericClient) -> Result<Vec<ApiKey>> {
    let sql = format!("SELECT {COLUMNS} FROM api_keys ORDER BY created_at, id");
    query(c, &sql, &[], "list api keys")
        .await?
        .iter()
        .map(decode)
        .collect()
}

pub(crate) async fn revoke(c: &impl GenericClient, id: &ApiKeyId, at: Timestamp) -> Result<()> {
    let n = execute(
        c,
        "UPDATE api_keys SET revoked_at = coalesce(revoked_at, $2) WHERE id = $1",
        &[&id.as_str(), &ts(at)],
        "revoke api key",
    )
    .await?;
    if n == 0 {
        return Err(Error::not_found("api key", id.as_str()));
    }
    Ok(())
}
