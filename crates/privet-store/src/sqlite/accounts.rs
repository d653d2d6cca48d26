//! Accounts, recovery codes, sessions, invitations and releases.

use super::codec::{conflict_or, from_ts, not_found_or, token, ts};
use crate::error::{Context, Error, Result};
use crate::ids::SubjectId;
use crate::model::{Account, AccountKind, Invitation, Role, Session, StoredRelease};
use jiff::Timestamp;
use privet_crypto::TokenHash;
use rusqlite::{Connection, OptionalExtension, Row, params};

const ACCOUNT_COLUMNS: &str = "id, email_lookup, email_sealed, kind, household, member, owner, role, password_hash, totp_sealed, totp_enabled, totp_last_step, can_sign_in, created_at, password_changed_at";

fn account_row(r: &Row<'_>) -> Result<Account> {
    let e = |e: rusqlite::Error| Error::backend("read account", e);
    let kind: String = r.get(3).map_err(e)?;
    let role: Option<String> = r.get(7).map_err(e)?;
    let last: Option<i64> = r.get(11).map_err(e)?;
    Ok(Account {
        id: r.get(0).map_err(e)?,
        email_lookup: r.get(1).map_err(e)?,
        email_sealed: r.get(2).map_err(e)?,
        kind: match kind.as_str() {
            "member" => AccountKind::Member,
            "staff" => AccountKind::Staff,
            _ => {
                return Err(Error::Corrupt {
                    what: "account kind",
                });
            }
        },
        household: r
            .get::<_, Option<String>>(4)
            .map_err(e)?
            .map(SubjectId::new),
        member: r
            .get::<_, Option<String>>(5)
            .map_err(e)?
            .map(SubjectId::new),
        owner: r.get(6).map_err(e)?,
        role: match role {
            None => None,
            Some(s) => Some(Role::parse(&s).ok_or(Error::Corrupt {
                what: "account role",
            })?),
        },
        password_hash: r.get(8).map_err(e)?,
        totp_sealed: r.get(9).map_err(e)?,
        totp_enabled: r.get(10).map_err(e)?,
        totp_last_step: last.and_then(|v| u64::try_from(v).ok()),
        can_sign_in: r.get(12).map_err(e)?,
        created_at: from_ts(r.get(13).map_err(e)?)?,
        password_changed_at: from_ts(r.get(14).map_err(e)?)?,
    })
}

fn one_account(
    c: &Connection,
    filter: &str,
    value: rusqlite::types::Value,
    id: &str,
) -> Result<Account> {
    let mut stmt = c
        .prepare_cached(&format!(
            "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE {filter} = ?1"
        ))
        .op("read account")?;
    let mut rows = stmt.query([value]).op("read account")?;
    match rows.next().op("read account")? {
        Some(r) => account_row(r),
        None => Err(not_found_or(
            rusqlite::Error::QueryReturnedNoRows,
            "account",
            id,
            "read account",
        )),
    }
}

pub(crate) fn create(c: &Connection, a: &Account) -> Result<()> {
    c.execute(
        &format!("INSERT INTO accounts ({ACCOUNT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"),
        params![
            a.id,
            a.email_lookup,
            a.email_sealed,
            match a.kind {
                AccountKind::Member => "member",
                AccountKind::Staff => "staff",
            },
            a.household.as_ref().map(|h| h.as_str()),
            a.member.as_ref().map(|m| m.as_str()),
            a.owner,
            a.role.map(Role::as_str),
            a.password_hash,
            a.totp_sealed,
            a.totp_enabled,
            a.totp_last_step.and_then(|v| i64::try_from(v).ok()),
            a.can_sign_in,
            ts(a.created_at),
            ts(a.password_changed_at)
        ],
    )
    .map_err(|e| conflict_or(e, "account", &a.id, "create account"))?;
    Ok(())
}

pub(crate) fn by_id(c: &Connection, id: &str) -> Result<Account> {
    one_account(c, "id", id.to_owned().into(), id)
}

pub(crate) fn by_email(c: &Connection, lookup: &[u8]) -> Result<Account> {
    one_account(c, "email_lookup", lookup.to_vec().into(), "(e-mail)")
}

pub(crate) fn of_member(c: &Connection, member: &SubjectId) -> Result<Account> {
    one_account(
        c,
        "member",
        member.as_str().to_owned().into(),
        member.as_str(),
    )
}

pub(crate) fn update(c: &Connection, a: &Account) -> Result<()> {
    let n = c
        .execute(
            "UPDATE accounts SET email_lookup = ?2, email_sealed = ?3, owner = ?4, role = ?5, password_hash = ?6,
             totp_sealed = ?7, totp_enabled = ?8, totp_last_step = ?9, can_sign_in = ?10, password_changed_at = ?11
             WHERE id = ?1",
            params![
                a.id,
                a.email_lookup,
                a.email_sealed,
                a.owner,
                a.role.map(Role::as_str),
                a.password_hash,
                a.totp_sealed,
                a.totp_enabled,
                a.totp_last_step.and_then(|v| i64::try_from(v).ok()),
                a.can_sign_in,
                ts(a.password_changed_at)
            ],
        )
        .map_err(|e| conflict_or(e, "account", &a.id, "update account"))?;
    if n == 0 {
        return Err(Error::NotFound {
            entity: "account",
            id: a.id.clone(),
        });
    }
    Ok(())
}

pub(crate) fn staff(c: &Connection) -> Result<Vec<Account>> {
    let mut stmt = c
        .prepare_cached(&format!(
            "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE kind = 'staff' ORDER BY created_at, id"
        ))
        .op("list staff")?;
    let mut rows = stmt.query([]).op("list staff")?;
    let mut out = Vec::new();
    while let Some(r) = rows.next().op("list staff")? {
        out.push(account_row(r)?);
    }
    Ok(out)
}

/// Deletes the accounts (and their sessions and codes) of a member, or of every member of a
/// household; part of erasure.
pub(crate) fn delete_for_subject(c: &Connection, subject: &SubjectId) -> Result<u64> {
    let ids: Vec<String> = {
        let mut stmt = c
            .prepare_cached("SELECT id FROM accounts WHERE member = ?1 OR household = ?1")
            .op("find accounts")?;
        let rows = stmt
            .query_map([subject.as_str()], |r| r.get(0))
            .op("find accounts")?;
        rows.collect::<rusqlite::Result<_>>().op("find accounts")?
    };
    for id in &ids {
        c.execute("DELETE FROM sessions WHERE account = ?1", [id])
            .op("delete sessions")?;
        c.execute("DELETE FROM recovery_codes WHERE account = ?1", [id])
            .op("delete recovery codes")?;
        c.execute("DELETE FROM accounts WHERE id = ?1", [id])
            .op("delete account")?;
    }
    c.execute(
        "DELETE FROM invitations WHERE member = ?1 OR household = ?1",
        [subject.as_str()],
    )
    .op("delete invitations")?;
    Ok(ids.len() as u64)
}

pub(crate) fn set_codes(c: &Connection, account: &str, hashes: &[TokenHash]) -> Result<()> {
    c.execute("DELETE FROM recovery_codes WHERE account = ?1", [account])
        .op("replace recovery codes")?;
    let mut stmt = c
        .prepare_cached("INSERT INTO recovery_codes (account, code_hash) VALUES (?1, ?2)")
        .op("replace recovery codes")?;
    for h in hashes {
        stmt.execute(params![account, token(h)])
            .op("replace recovery codes")?;
    }
    Ok(())
}

pub(crate) fn use_code(
    c: &Connection,
    account: &str,
    hash: &TokenHash,
    at: Timestamp,
) -> Result<()> {
    let n = c
        .execute(
            "UPDATE recovery_codes SET used_at = ?3 WHERE account = ?1 AND code_hash = ?2 AND used_at IS NULL",
            params![account, token(hash), ts(at)],
        )
        .op("use recovery code")?;
    if n == 0 {
        return Err(Error::NotFound {
            entity: "recovery code",
            id: "(code)".to_owned(),
        });
    }
    Ok(())
}

pub(crate) fn codes_left(c: &Connection, account: &str) -> Result<u64> {
    c.query_row(
        "SELECT count(*) FROM recovery_codes WHERE account = ?1 AND used_at IS NULL",
        [account],
        |r| r.get::<_, i64>(0),
    )
    .map(|n| n as u64)
    .op("count recovery codes")
}

const SESSION_COLUMNS: &str = "id, id_hash, account, created_at, last_seen, expires_at, client";

fn session_row(r: &Row<'_>) -> Result<Session> {
    let e = |e: rusqlite::Error| Error::backend("read session", e);
    let hash: Vec<u8> = r.get(1).map_err(e)?;
    let hash: [u8; 32] = hash.as_slice().try_into().map_err(|_| Error::Corrupt {
        what: "session hash",
    })?;
    Ok(Session {
        id: r.get(0).map_err(e)?,
        id_hash: TokenHash::from_bytes(hash),
        account: r.get(2).map_err(e)?,
        created_at: from_ts(r.get(3).map_err(e)?)?,
        last_seen: from_ts(r.get(4).map_err(e)?)?,
        expires_at: from_ts(r.get(5).map_err(e)?)?,
        client: r.get(6).map_err(e)?,
    })
}

pub(crate) fn create_session(c: &Connection, s: &Session) -> Result<()> {
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

pub(crate) fn session(c: &Connection, hash: &TokenHash) -> Result<Session> {
    let mut stmt = c
        .prepare_cached(&format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE id_hash = ?1"
        ))
        .op("read session")?;
    let mut rows = stmt.query([token(hash)]).op("read session")?;
    match rows.next().op("read session")? {
        Some(r) => session_row(r),
        None => Err(Error::NotFound {
            entity: "session",
            id: "(cookie)".to_owned(),
        }),
    }
}

pub(crate) fn touch_session(c: &Connection, hash: &TokenHash, at: Timestamp) -> Result<()> {
    c.execute(
        "UPDATE sessions SET last_seen = max(last_seen, ?2) WHERE id_hash = ?1",
        params![token(hash), ts(at)],
    )
    .op("touch session")?;
    Ok(())
}

pub(crate) fn sessions_of(c: &Connection, account: &str) -> Result<Vec<Session>> {
    let mut stmt = c
        .prepare_cached(&format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE account = ?1 ORDER BY created_at DESC"
        ))
        .op("list sessions")?;
    let mut rows = stmt.query([account]).op("list sessions")?;
    let mut out = Vec::new();
    while let Some(r) = rows.next().op("list sessions")? {
        out.push(session_row(r)?);
    }
    Ok(out)
}

pub(crate) fn delete_session(c: &Connection, account: &str, id: &str) -> Result<()> {
    let n = c
        .execute(
            "DELETE FROM sessions WHERE account = ?1 AND id = ?2",
            params![account, id],
        )
        .op("revoke session")?;
    if n == 0 {
        return Err(Error::NotFound {
            entity: "session",
            id: id.to_owned(),
        });
    }
    Ok(())
}

pub(crate) fn delete_sessions(c: &Connection, account: &str, keep: Option<&str>) -> Result<u64> {
    let n = c
        .execute(
            "DELETE FROM sessions WHERE account = ?1 AND id IS NOT ?2",
            params![account, keep],
        )
        .op("revoke sessions")?;
    Ok(n as u64)
}

pub(crate) fn create_invitation(c: &Connection, i: &Invitation) -> Result<()> {
    c.execute(
        "INSERT INTO invitations (code_hash, household, member, expires_at, created_by) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![token(&i.code_hash), i.household.as_str(), i.member.as_str(), ts(i.expires_at), i.created_by],
    )
    .map_err(|e| conflict_or(e, "invitation", "(code)", "create invitation"))?;
    Ok(())
}

/// A valid, unexpired, unused invitation.
pub(crate) fn peek_invitation(
    c: &Connection,
    code: &TokenHash,
    at: Timestamp,
) -> Result<Invitation> {
    let row: Option<(String, String, i64, String)> = c
        .query_row(
            "SELECT household, member, expires_at, created_by FROM invitations WHERE code_hash = ?1 AND used_at IS NULL AND expires_at > ?2",
            params![token(code), ts(at)],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()
        .op("read invitation")?;
    let Some((household, member, expires_at, created_by)) = row else {
        return Err(Error::NotFound {
            entity: "invitation",
            id: "(code)".to_owned(),
        });
    };
    Ok(Invitation {
        code_hash: *code,
        household: SubjectId::new(household),
        member: SubjectId::new(member),
        expires_at: from_ts(expires_at)?,
        created_by,
    })
}

pub(crate) fn take_invitation(
    c: &Connection,
    code: &TokenHash,
    at: Timestamp,
) -> Result<Invitation> {
    let invitation = peek_invitation(c, code, at)?;
    c.execute(
        "UPDATE invitations SET used_at = ?2 WHERE code_hash = ?1",
        params![token(code), ts(at)],
    )
    .op("use invitation")?;
    Ok(invitation)
}

pub(crate) fn put_release(c: &Connection, r: &StoredRelease) -> Result<()> {
    c.execute(
        "INSERT INTO releases (product, version, signed, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![r.product, r.version, r.signed, ts(r.created_at)],
    )
    .map_err(|e| {
        conflict_or(
            e,
            "release",
            &format!("{}@{}", r.product, r.version),
            "store release",
        )
    })?;
    Ok(())
}

pub(crate) fn releases(c: &Connection, product: &str) -> Result<Vec<StoredRelease>> {
    let mut stmt = c
        .prepare_cached("SELECT product, version, signed, created_at FROM releases WHERE product = ?1 ORDER BY created_at")
        .op("list releases")?;
    let rows = stmt
        .query_map([product], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
            ))
        })
        .op("list releases")?;
    let mut out = Vec::new();
    for row in rows {
        let (product, version, signed, at) = row.op("list releases")?;
        out.push(StoredRelease {
            product,
            version,
            signed,
            created_at: from_ts(at)?,
        });
    }
    Ok(out)
}
