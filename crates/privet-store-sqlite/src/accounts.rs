//! Accounts. A stored account is changed only by narrow writes that say what they expect
//! (a password, a sign-in permission), never by writing a whole row read earlier, so two
//! requests racing on one account cannot undo each other's change.

use crate::codec::{conflict_or, from_ts, ts};
use crate::rows;
use jiff::Timestamp;
use privet_policy::{Role, SubjectId};
use privet_store::{Account, Context, Error, Result};
use rusqlite::{Connection, Row, params};

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
        kind: privet_store::columns::from_account_kind(&kind)?,
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
    rows::first(&mut stmt, [value], "read account", account_row)?
        .ok_or_else(|| Error::not_found("account", id))
}

pub(crate) fn create(c: &Connection, a: &Account) -> Result<()> {
    c.execute(
        &format!("INSERT INTO accounts ({ACCOUNT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"),
        params![
            a.id,
            a.email_lookup,
            a.email_sealed,
            privet_store::columns::account_kind(a.kind),
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

pub(crate) fn staff(c: &Connection) -> Result<Vec<Account>> {
    let mut stmt = c
        .prepare_cached(&format!(
            "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE kind = 'staff' ORDER BY created_at, id"
        ))
        .op("list staff")?;
    rows::collect(&mut stmt, [], "list staff", account_row)
}

/// Deletes the accounts (and their sessions and codes) of a member, or of every member of a
/// household; part of erasure.
pub(crate) fn delete_for_subject(c: &Connection, subject: &SubjectId) -> Result<usize> {
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
    Ok(ids.len())
}

/// Whether the account exists: tells a write that changed nothing because its condition
/// failed from one whose account is unknown.
pub(crate) fn exists(c: &Connection, id: &str) -> Result<bool> {
    c.prepare_cached("SELECT EXISTS (SELECT 1 FROM accounts WHERE id = ?1)")
        .and_then(|mut s| s.query_row([id], |r| r.get(0)))
        .op("find account")
}

/// `Ok` if a write changed the account, `NotFound` if there is no such account, else `or`.
pub(crate) fn changed_or(c: &Connection, n: usize, id: &str, or: Error) -> Result<()> {
    if n > 0 {
        Ok(())
    } else if exists(c, id)? {
        Err(or)
    } else {
        Err(Error::not_found("account", id))
    }
}

/// `NotFound` if an unconditional write changed nothing.
pub(crate) fn found(n: usize, id: &str) -> Result<()> {
    if n == 0 {
        return Err(Error::not_found("account", id));
    }
    Ok(())
}

/// Whether a conditional write changed the account; `NotFound` if there is no such account.
pub(crate) fn did_change(c: &Connection, n: usize, id: &str) -> Result<bool> {
    if n > 0 {
        Ok(true)
    } else if exists(c, id)? {
        Ok(false)
    } else {
        Err(Error::not_found("account", id))
    }
}

/// A password change.
pub(crate) fn set_password(c: &Connection, id: &str, hash: &str, at: Timestamp) -> Result<()> {
    let n = c
        .execute(
            "UPDATE accounts SET password_hash = ?2, password_changed_at = ?3 WHERE id = ?1",
            params![id, hash, ts(at)],
        )
        .op("set password")?;
    found(n, id)
}

/// A stronger hash of the same password, only over the hash it was computed from.
pub(crate) fn rehash_password(c: &Connection, id: &str, old: &str, new: &str) -> Result<bool> {
    let n = c
        .execute(
            "UPDATE accounts SET password_hash = ?3 WHERE id = ?1 AND password_hash = ?2",
            params![id, old, new],
        )
        .op("rehash password")?;
    did_change(c, n, id)
}

/// Whether the account may sign in.
pub(crate) fn set_can_sign_in(c: &Connection, id: &str, allowed: bool) -> Result<()> {
    let n = c
        .execute(
            "UPDATE accounts SET can_sign_in = ?2 WHERE id = ?1",
            params![id, allowed],
        )
        .op("set sign-in permission")?;
    found(n, id)
}
