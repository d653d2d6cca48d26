//! Two-step verification: the authenticator's state on the account, changed only by
//! conditional writes that say what they expect, and the recovery codes.

use crate::accounts::{changed_or, did_change, exists, found};
use crate::codec::{count, int, token, ts};
use jiff::Timestamp;
use privet_crypto::TokenHash;
use privet_store::{Context, Error, Result};
use rusqlite::{Connection, params};

/// Replaces an account's recovery codes.
pub(crate) fn set_codes(c: &Connection, account: &str, hashes: &[TokenHash]) -> Result<()> {
    if !exists(c, account)? {
        return Err(Error::not_found("account", account));
    }
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

/// Uses an unused code once; a wrong and a used code answer the same.
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
        return Err(Error::not_found("recovery code", "(code)"));
    }
    Ok(())
}

/// Unused codes left.
pub(crate) fn codes_left(c: &Connection, account: &str) -> Result<u64> {
    if !exists(c, account)? {
        return Err(Error::not_found("account", account));
    }
    c.query_row(
        "SELECT count(*) FROM recovery_codes WHERE account = ?1 AND used_at IS NULL",
        [account],
        |r| r.get::<_, i64>(0),
    )
    .map(count)
    .op("count recovery codes")
}

/// Stores an authenticator's sealed secret while two-step verification is off; a code of an
/// earlier enrolment must not count as used for this one.
pub(crate) fn start(c: &Connection, id: &str, sealed: &[u8]) -> Result<()> {
    let n = c
        .execute(
            "UPDATE accounts SET totp_sealed = ?2, totp_last_step = NULL WHERE id = ?1 AND totp_enabled = 0",
            params![id, sealed],
        )
        .op("start two-step enrolment")?;
    changed_or(c, n, id, Error::conflict("two-step verification", id))
}

/// Turns two-step verification on, only over an enrolled secret while it is off.
pub(crate) fn enable(c: &Connection, id: &str, step: u64) -> Result<()> {
    let step = int(step, "enable two-step verification")?;
    let n = c
        .execute(
            "UPDATE accounts SET totp_enabled = 1, totp_last_step = ?2
             WHERE id = ?1 AND totp_enabled = 0 AND totp_sealed IS NOT NULL",
            params![id, step],
        )
        .op("enable two-step verification")?;
    changed_or(c, n, id, Error::conflict("two-step verification", id))
}

/// Turns two-step verification off and forgets the secret and the recovery codes (one job,
/// so one savepoint: all of it or nothing).
pub(crate) fn disable(c: &Connection, id: &str) -> Result<()> {
    let n = c
        .execute(
            "UPDATE accounts SET totp_enabled = 0, totp_sealed = NULL, totp_last_step = NULL WHERE id = ?1",
            [id],
        )
        .op("disable two-step verification")?;
    found(n, id)?;
    c.execute("DELETE FROM recovery_codes WHERE account = ?1", [id])
        .op("delete recovery codes")?;
    Ok(())
}

/// Compare-and-set of the last used time step: of several sign-ins with codes of one step,
/// only the first write finds the condition true.
pub(crate) fn advance(c: &Connection, id: &str, step: u64) -> Result<bool> {
    let step = int(step, "record two-step code")?;
    let n = c
        .prepare_cached(
            "UPDATE accounts SET totp_last_step = ?2
             WHERE id = ?1 AND totp_enabled = 1 AND (totp_last_step IS NULL OR totp_last_step < ?2)",
        )
        .and_then(|mut s| s.execute(params![id, step]))
        .op("record two-step code")?;
    did_change(c, n, id)
}
