//! Signed-in sessions, stored by the hash of their cookie.

use crate::codec::{changed, conflict_or, from_ts, token, token_hash, ts};
use crate::rows;
use jiff::Timestamp;
use privet_crypto::TokenHash;
use privet_store::{Context, Error, Result, Session};
use rusqlite::{Connection, Row, params};

const SESSION_COLUMNS: &str = "id, id_hash, account, created_at, last_seen, expires_at, client";

fn session_row(r: &Row<'_>) -> Result<Session> {
    let e = |e: rusqlite::Error| Error::backend("read session", e);
    let hash: Vec<u8> = r.get(1).map_err(e)?;
    Ok(Session {
        id: r.get(0).map_err(e)?,
        id_hash: token_hash(&hash, "session hash")?,
        account: r.get(2).map_err(e)?,
        created_at: from_ts(r.get(3).map_err(e)?)?,
        last_seen: from_ts(r.get(4).map_err(e)?)?,
        expires_at: from_ts(r.get(5).map_err(e)?)?,
        client: r.get(6).map_err(e)?,
    })
}

pub(crate) fn create(c: &Connection, s: &Session) -> Result<()> {
    c.execute(
        &format!("INSERT INTO sessions ({SESSION_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
        params![
            s.id,
            token(&s.id_hash),
            s.account,
            ts(s.created_at),
            ts(s.last_seen),
            ts(s.expires_at),
            s.client
        ],
    )
    .map_err(|e| conflict_or(e, "session", &s.id, "create session"))?;
    Ok(())
}

pub(crate) fn by_hash(c: &Connection, hash: &TokenHash) -> Result<Session> {
    let mut stmt = c
        .prepare_cached(&format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE id_hash = ?1"
        ))
        .op("read session")?;
    rows::first(&mut stmt, [token(hash)], "read session", session_row)?
        .ok_or_else(|| Error::not_found("session", "(cookie)"))
}

pub(crate) fn touch(c: &Connection, hash: &TokenHash, at: Timestamp) -> Result<()> {
    c.execute(
        "UPDATE sessions SET last_seen = max(last_seen, ?2) WHERE id_hash = ?1",
        params![token(hash), ts(at)],
    )
    .op("touch session")?;
    Ok(())
}

pub(crate) fn of_account(c: &Connection, account: &str) -> Result<Vec<Session>> {
    let mut stmt = c
        .prepare_cached(&format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE account = ?1 ORDER BY created_at DESC"
        ))
        .op("list sessions")?;
    rows::collect(&mut stmt, [account], "list sessions", session_row)
}

pub(crate) fn delete_one(c: &Connection, account: &str, id: &str) -> Result<()> {
    let n = c
        .execute(
            "DELETE FROM sessions WHERE account = ?1 AND id = ?2",
            params![account, id],
        )
        .op("revoke session")?;
    if n == 0 {
        return Err(Error::not_found("session", id));
    }
    Ok(())
}

pub(crate) fn delete_all_but(c: &Connection, account: &str, keep: Option<&str>) -> Result<u64> {
    let n = c
        .execute(
            "DELETE FROM sessions WHERE account = ?1 AND id IS NOT ?2",
            params![account, keep],
        )
        .op("revoke sessions")?;
    Ok(changed(n))
}
