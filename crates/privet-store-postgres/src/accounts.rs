//! Accounts. A stored account is changed only by narrow writes that say what they expect
//! (a password, a sign-in permission), never by writing a whole row read earlier, so two
//! requests racing on one account — on one instance or two — cannot undo each other's change.

use crate::codec::{col, from_ts, ts};
use crate::pool::{execute, insert, query, query_one, query_opt};
use deadpool_postgres::{GenericClient, Transaction};
use jiff::Timestamp;
use privet_policy::{Role, SubjectId};
use privet_store::{Account, Error, Result};
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

const COLUMNS: &str = "id, email_lookup, email_sealed, kind, household, member, owner, role, \
    password_hash, totp_sealed, totp_enabled, totp_last_step, can_sign_in, created_at, \
    password_changed_at";

fn decode(r: &Row) -> Result<Account> {
    let op = "read account";
    let kind: &str = col(r, 3, op)?;
    let role: Option<&str> = col(r, 7, op)?;
    let last: Option<i64> = col(r, 11, op)?;
    Ok(Account {
        id: col(r, 0, op)?,
        email_lookup: col(r, 1, op)?,
        email_sealed: col(r, 2, op)?,
        kind: privet_store::columns::from_account_kind(kind)?,
        household: col::<Option<String>>(r, 4, op)?.map(SubjectId::new),
        member: col::<Option<String>>(r, 5, op)?.map(SubjectId::new),
        owner: col(r, 6, op)?,
        role: match role {
            None => None,
            Some(s) => Some(Role::parse(s).ok_or(Error::Corrupt {
                what: "account role",
            })?),
        },
        password_hash: col(r, 8, op)?,
        totp_sealed: col(r, 9, op)?,
        totp_enabled: col(r, 10, op)?,
        totp_last_step: last.and_then(|v| u64::try_from(v).ok()),
        can_sign_in: col(r, 12, op)?,
        created_at: from_ts(col(r, 13, op)?)?,
        password_changed_at: from_ts(col(r, 14, op)?)?,
    })
}

async fn one(
    c: &impl GenericClient,
    filter: &str,
    value: &(dyn ToSql + Sync),
    id: &str,
) -> Result<Account> {
    let sql = format!("SELECT {COLUMNS} FROM accounts WHERE {filter} = $1");
    match query_opt(c, &sql, &[value], "read account").await? {
        Some(r) => decode(&r),
        None => Err(Error::not_found("account", id)),
    }
}

pub(crate) async fn create(c: &impl GenericClient, a: &Account) -> Result<()> {
    insert(
        c,
        &format!(
            "INSERT INTO accounts ({COLUMNS})
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
        ),
        &[
            &a.id,
            &a.email_lookup,
            &a.email_sealed,
            &privet_store::columns::account_kind(a.kind),
            &a.household.as_ref().map(|h| h.as_str()),
            &a.member.as_ref().map(|m| m.as_str()),
            &a.owner,
            &a.role.map(Role::as_str),
            &a.password_hash,
            &a.totp_sealed,
            &a.totp_enabled,
            &a.totp_last_step.and_then(|v| i64::try_from(v).ok()),
            &a.can_sign_in,
            &ts(a.created_at),
            &ts(a.password_changed_at),
        ],
        ("account", &a.id),
        "create account",
    )
    .await?;
    Ok(())
}

pub(crate) async fn by_id(c: &impl GenericClient, id: &str) -> Result<Account> {
    one(c, "id", &id, id).await
}

pub(crate) async fn by_email(c: &impl GenericClient, lookup: &[u8]) -> Result<Account> {
    one(c, "email_lookup", &lookup, "(e-mail)").await
}

pub(crate) async fn of_member(c: &impl GenericClient, member: &SubjectId) -> Result<Account> {
    one(c, "member", &member.as_str(), member.as_str()).await
}

pub(crate) async fn staff(c: &impl GenericClient) -> Result<Vec<Account>> {
    let sql =
        format!("SELECT {COLUMNS} FROM accounts WHERE kind = 'staff' ORDER BY created_at, id");
    query(c, &sql, &[], "list staff")
        .await?
        .iter()
        .map(decode)
        .collect()
}

/// Deletes the accounts (and their sessions and codes) of a member, or of every member of a
/// household, and invitations naming it; part of erasure.
pub(crate) async fn delete_for_subject(tx: &Transaction<'_>, subject: &SubjectId) -> Result<u64> {
    let id = subject.as_str();
    let accounts: Vec<String> = query(
        tx,
        "DELETE FROM accounts WHERE member = $1 OR household = $1 RETURNING id",
        &[&id],
        "delete account",
    )
    .await?
    .iter()
    .map(|r| col(r, 0, "delete account"))
    .collect::<Result<_>>()?;
    execute(
        tx,
        "DELETE FROM sessions WHERE account = ANY($1)",
        &[&accounts],
        "delete sessions",
    )
    .await?;
    execute(
        tx,
        "DELETE FROM recovery_codes WHERE account = ANY($1)",
        &[&accounts],
        "delete recovery codes",
    )
    .await?;
    execute(
        tx,
        "DELETE FROM invitations WHERE member = $1 OR household = $1",
        &[&id],
        "delete invitations",
    )
    .await?;
    Ok(accounts.len() as u64)
}

/// Runs a conditional update of account `$1` and says whether it changed the row, in one
/// statement: `NotFound` if there is no such account.
pub(crate) async fn cas(
    c: &impl GenericClient,
    update: &str,
    params: &[&(dyn ToSql + Sync)],
    id: &str,
    op: &'static str,
) -> Result<bool> {
    // The outer SELECT sees the table as the statement began: the account existed then if it
    // exists at all (nothing here deletes it).
    let sql = format!(
        "WITH changed AS ({update} RETURNING 1)
         SELECT EXISTS (SELECT 1 FROM changed), EXISTS (SELECT 1 FROM accounts WHERE id = $1)"
    );
    let row = query_one(c, &sql, params, op).await?;
    let (changed, exists): (bool, bool) = (col(&row, 0, op)?, col(&row, 1, op)?);
    if !exists {
        return Err(Error::not_found("account", id));
    }
    Ok(changed)
}

/// `NotFound` if an unconditional write changed nothing.
pub(crate) fn found(n: u64, id: &str) -> Result<()> {
    if n == 0 {
        return Err(Error::not_found("account", id));
    }
    Ok(())
}

/// A password change.
pub(crate) async fn set_password(
    c: &impl GenericClient,
    id: &str,
    hash: &str,
    at: Timestamp,
) -> Result<()> {
    let n = execute(
        c,
        "UPDATE accounts SET password_hash = $2, password_changed_at = $3 WHERE id = $1",
        &[&id, &hash, &ts(at)],
        "set password",
    )
    .await?;
    found(n, id)
}

/// A stronger hash of the same password, only over the hash it was computed from.
pub(crate) async fn rehash_password(
    c: &impl GenericClient,
    id: &str,
    old: &str,
    new: &str,
) -> Result<bool> {
    cas(
        c,
        "UPDATE accounts SET password_hash = $3 WHERE id = $1 AND password_hash = $2",
        &[&id, &old, &new],
        id,
        "rehash password",
    )
    .await
}

/// Whether the account may sign in.
pub(crate) async fn set_can_sign_in(c: &impl GenericClient, id: &str, allowed: bool) -> Result<()> {
    let n = execute(
        c,
        "UPDATE accounts SET can_sign_in = $2 WHERE id = $1",
        &[&id, &allowed],
        "set sign-in permission",
    )
    .await?;
    found(n, id)
}
