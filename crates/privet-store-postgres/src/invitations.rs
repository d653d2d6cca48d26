//! Invitations for members to create their accounts: single-use codes, stored hashed and
//! consumed by one conditional update, so a code is spent once across instances.

use crate::codec::{col, from_ts, token, ts};
use crate::pool::{insert, query_opt};
use deadpool_postgres::GenericClient;
use jiff::Timestamp;
use privet_crypto::TokenHash;
use privet_policy::SubjectId;
use privet_store::{Error, Invitation, Result};
use tokio_postgres::Row;

fn decode(code: &TokenHash, r: &Row) -> Result<Invitation> {
    let op = "read invitation";
    Ok(Invitation {
        code_hash: *code,
        household: SubjectId::new(col::<String>(r, 0, op)?),
        member: SubjectId::new(col::<String>(r, 1, op)?),
        expires_at: from_ts(col(r, 2, op)?)?,
        created_by: col(r, 3, op)?,
    })
}

pub(crate) async fn create(c: &impl GenericClient, i: &Invitation) -> Result<()> {
    insert(
        c,
        "INSERT INTO invitations (code_hash, household, member, expires_at, created_by)
         VALUES ($1, $2, $3, $4, $5)",
        &[
            &token(&i.code_hash),
            &i.household.as_str(),
            &i.member.as_str(),
            &ts(i.expires_at),
            &i.created_by,
        ],
        ("invitation", "(code)"),
        "create invitation",
    )
    .await?;
    Ok(())
}

/// A valid, unexpired, unused invitation.
pub(crate) async fn peek(
    c: &impl GenericClient,
    code: &TokenHash,
    at: Timestamp,
) -> Result<Invitation> {
    let row = query_opt(
        c,
        "SELECT household, member, expires_at, created_by FROM invitations
         WHERE code_hash = $1 AND used_at IS NULL AND expires_at > $2",
        &[&token(code), &ts(at)],
        "read invitation",
    )
    .await?;
    match row {
        Some(r) => decode(code, &r),
        None => Err(Error::not_found("invitation", "(code)")),
    }
}

/// Consumes a valid, unexpired invitation.
pub(crate) async fn take(
    c: &impl GenericClient,
    code: &TokenHash,
    at: Timestamp,
) -> Result<Invitation> {
    let row = query_opt(
        c,
        "UPDATE invitations SET used_at = $2
         WHERE code_hash = $1 AND used_at IS NULL AND expires_at > $2
         RETURNING household, member, expires_at, created_by",
        &[&token(code), &ts(at)],
        "use invitation",
    )
    .await?;
    match row {
        Some(r) => decode(code, &r),
        None => Err(Error::not_found("invitation", "(code)")),
    }
}
