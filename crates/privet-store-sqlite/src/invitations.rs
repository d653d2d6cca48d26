//! Invitations for members to create their accounts: single-use codes, stored hashed.

use crate::codec::{conflict_or, from_ts, token, ts};
use jiff::Timestamp;
use privet_crypto::TokenHash;
use privet_policy::SubjectId;
use privet_store::{Context, Error, Invitation, Result};
use rusqlite::{Connection, OptionalExtension, params};

pub(crate) fn create(c: &Connection, i: &Invitation) -> Result<()> {
    c.execute(
        "INSERT INTO invitations (code_hash, household, member, expires_at, created_by) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![token(&i.code_hash), i.household.as_str(), i.member.as_str(), ts(i.expires_at), i.created_by],
    )
    .map_err(|e| conflict_or(e, "invitation", "(code)", "create invitation"))?;
    Ok(())
}

/// A valid, unexpired, unused invitation.
pub(crate) fn peek(c: &Connection, code: &TokenHash, at: Timestamp) -> Result<Invitation> {
    let row: Option<(String, String, i64, String)> = c
        .query_row(
            "SELECT household, member, expires_at, created_by FROM invitations WHERE code_hash = ?1 AND used_at IS NULL AND expires_at > ?2",
            params![token(code), ts(at)],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()
        .op("read invitation")?;
    let Some((household, member, expires_at, created_by)) = row else {
        return Err(Error::not_found("invitation", "(code)"));
    };
    Ok(Invitation {
        code_hash: *code,
        household: SubjectId::new(household),
        member: SubjectId::new(member),
        expires_at: from_ts(expires_at)?,
        created_by,
    })
}

pub(crate) fn take(c: &Connection, code: &TokenHash, at: Timestamp) -> Result<Invitation> {
    let invitation = peek(c, code, at)?;
    c.execute(
        "UPDATE invitations SET used_at = ?2 WHERE code_hash = ?1",
        params![token(code), ts(at)],
    )
    .op("use invitation")?;
    Ok(invitation)
}
