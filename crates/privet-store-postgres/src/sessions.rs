//! Signed-in sessions, stored by the hash of their cookie.

use crate::codec::{col, from_ts, token, token_hash, ts};
use crate::pool::{execute, insert, query, query_opt};
use deadpool_postgres::GenericClient;
use jiff::Timestamp;
use privet_crypto::TokenHash;
use privet_store::{Error, Result, Session};
use tokio_postgres::Row;

const COLUMNS: &str = "id, id_hash, account, created_at, last_seen, expires_at, client";

fn decode(r: &Row) -> Result<Session> {
    let op = "read session";
    Ok(Session {
        id: col(r, 0, op)?,
        id_hash: token_hash(col(r, 1, op)?, "session hash")?,
        account: col(r, 2, op)?,
        created_at: from_ts(col(r, 3, op)?)?,
        last_seen: from_ts(col(r, 4, op)?)?,
        expires_at: from_ts(col(r, 5, op)?)?,
        client: col(r, 6, op)?,
    })
}

pub(crate) async fn create(c: &impl GenericClient, s: &Session) -> Result<()> {
    insert(
        c,
        &format!("INSERT INTO sessions ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"),
        &[
            &s.id,
            &token(&s.id_hash),
            &s.account,
            &ts(s.created_at),
            &ts(s.last_seen),
            &ts(s.expires_at),
            &s.client,
        ],
        ("session", &s.id),
        "create session",
    )
    .await?;
    Ok(())
}

pub(crate) async fn by_hash(c: &impl GenericClient, hash: &TokenHash) -> Result<Session> {
    let sql = format!("SELECT {COLUMNS} FROM sessions WHERE id_hash = $1");
    match query_opt(c, &sql, &[&token(hash)], "read session").await? {
        Some(r) => decode(&r),
        None => Err(Error::not_found("session", "(cookie)")),
    }
}

pub(crate) async fn touch(c: &impl GenericClient, hash: &TokenHash, at: Timestamp) -> Result<()> {
    execute(
        c,
        "UPDATE sessions SET last_seen = greatest(last_seen, $2) WHERE id_hash = $1",
        &[&token(hash), &ts(at)],
        "touch session",
    )
    .await?;
    Ok(())
}

pub(crate) async fn of_account(c: &impl GenericClient, account: &str) -> Result<Vec<Session>> {
    let sql = format!("SELECT {COLUMNS} FROM sessions WHERE account = $1 ORDER BY created_at DESC");
    query(c, &sql, &[&account], "list sessions")
        .await?
        .iter()
        .map(decode)
        .collect()
}

pub(crate) async fn delete_one(c: &impl GenericClient, account: &str, id: &str) -> Result<()> {
    let n = execute(
        c,
        "DELETE FROM sessions WHERE account = $1 AND id = $2",
        &[&account, &id],
        "revoke session",
    )
    .await?;
    if n == 0 {
        return Err(Error::not_found("session", id));
    }
    Ok(())
}

pub(crate) async fn delete_all_but(
    c: &impl GenericClient,
    account: &str,
    keep: Option<&str>,
) -> Result<u64> {
    execute(
        c,
        "DELETE FROM sessions WHERE account = $1 AND id IS DISTINCT FROM $2",
        &[&account, &keep],
        "revoke sessions",
    )
    .await
}
