//! Two-step verification: the authenticator's state on the account, changed only by
//! conditional updates that say what they expect (atomic across instances: PostgreSQL
//! re-checks the condition on the row a concurrent update left), and the recovery codes.

use crate::accounts::{cas, found};
use crate::codec::{col, count, int, token, ts};
use crate::pool::{execute, query_one};
use deadpool_postgres::{GenericClient, Transaction};
use jiff::Timestamp;
use privet_crypto::TokenHash;
use privet_store::{Error, Result};

/// Replaces an account's recovery codes; `NotFound` if there is no such account. The account
/// row is locked first, so two replacements run one after the other.
pub(crate) async fn set_codes(
    tx: &Transaction<'_>,
    account: &str,
    hashes: &[TokenHash],
) -> Result<()> {
    let locked = execute(
        tx,
        "SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE",
        &[&account],
        "replace recovery codes",
    )
    .await?;
    found(locked, account)?;
    execute(
        tx,
        "DELETE FROM recovery_codes WHERE account = $1",
        &[&account],
        "replace recovery codes",
    )
    .await?;
    let codes: Vec<&[u8]> = hashes.iter().map(token).collect();
    execute(
        tx,
        "INSERT INTO recovery_codes (account, code_hash)
         SELECT $1, h FROM unnest($2::bytea[]) AS h
         ON CONFLICT DO NOTHING",
        &[&account, &codes],
        "replace recovery codes",
    )
    .await?;
    Ok(())
}

/// Uses an unused code once; a wrong and a used code answer the same.
pub(crate) async fn use_code(
    c: &impl GenericClient,
    account: &str,
    hash: &TokenHash,
    at: Timestamp,
) -> Result<()> {
    let n = execute(
        c,
        "UPDATE recovery_codes SET used_at = $3
         WHERE account = $1 AND code_hash = $2 AND used_at IS NULL",
        &[&account, &token(hash), &ts(at)],
        "use recovery code",
    )
    .await?;
    if n == 0 {
        return Err(Error::not_found("recovery code", "(code)"));
    }
    Ok(())
}

/// Unused codes left; `NotFound` if there is no such account.
pub(crate) async fn codes_left(c: &impl GenericClient, account: &str) -> Result<u64> {
    let op = "count recovery codes";
    let row = query_one(
        c,
        "SELECT EXISTS (SELECT 1 FROM accounts WHERE id = $1),
                (SELECT count(*) FROM recovery_codes WHERE account = $1 AND used_at IS NULL)",
        &[&account],
        op,
    )
    .await?;
    if !col::<bool>(&row, 0, op)? {
        return Err(Error::not_found("account", account));
    }
    Ok(count(col(&row, 1, op)?))
}

/// `Ok` if a conditional write changed the account, else `Conflict`.
fn changed_or_conflict(changed: bool, id: &str) -> Result<()> {
    if changed {
        Ok(())
    } else {
        Err(Error::conflict("two-step verification", id))
    }
}

/// Stores an authenticator's sealed secret while two-step verification is off; a code of an
/// earlier enrolment must not count as used for this one.
pub(crate) async fn start(c: &impl GenericClient, id: &str, sealed: &[u8]) -> Result<()> {
    let changed = cas(
        c,
        "UPDATE accounts SET totp_sealed = $2, totp_last_step = NULL
         WHERE id = $1 AND NOT totp_enabled",
        &[&id, &sealed],
        id,
        "start two-step enrolment",
    )
    .await?;
    changed_or_conflict(changed, id)
}

/// Turns two-step verification on, only over an enrolled secret while it is off.
pub(crate) async fn enable(c: &impl GenericClient, id: &str, step: u64) -> Result<()> {
    let step = int(step, "enable two-step verification")?;
    let changed = cas(
        c,
        "UPDATE accounts SET totp_enabled = true, totp_last_step = $2
         WHERE id = $1 AND NOT totp_enabled AND totp_sealed IS NOT NULL",
        &[&id, &step],
        id,
        "enable two-step verification",
    )
    .await?;
    changed_or_conflict(changed, id)
}

/// Turns two-step verification off and forgets the secret and the recovery codes (inside
/// one transaction: all of it or nothing).
pub(crate) async fn disable(tx: &Transaction<'_>, id: &str) -> Result<()> {
    let n = execute(
        tx,
        "UPDATE accounts SET totp_enabled = false, totp_sealed = NULL, totp_last_step = NULL
         WHERE id = $1",
        &[&id],
        "disable two-step verification",
    )
    .await?;
    found(n, id)?;
    execute(
        tx,
        "DELETE FROM recovery_codes WHERE account = $1",
        &[&id],
        "delete recovery codes",
    )
    .await?;
    Ok(())
}

/// Compare-and-set of the last used time step: of several sign-ins with codes of one step,
/// on any instance, only the first update finds the condition true.
pub(crate) async fn advance(c: &impl GenericClient, id: &str, step: u64) -> Result<bool> {
    let step = int(step, "record two-step code")?;
    cas(
        c,
        "UPDATE accounts SET totp_last_step = $2
         WHERE id = $1 AND totp_enabled AND (totp_last_step IS NULL OR totp_last_step < $2)",
        &[&id, &step],
        id,
        "record two-step code",
    )
    .await
}
