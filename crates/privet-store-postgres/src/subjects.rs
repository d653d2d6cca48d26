//! Subjects (households and members) and erasure of their rows.

use crate::codec::{col, count, from_ts, pseudonym, ts};
use crate::pool::{execute, insert, query, query_opt};
use deadpool_postgres::{GenericClient, Transaction};
use jiff::Timestamp;
use privet_crypto::Pseudonym;
use privet_policy::{DeviceDisposition, ErasureStep, Subject, SubjectId, SubjectKind};
use privet_store::{ErasedSubject, Error, NewSubject, Result};
use std::collections::BTreeMap;
use tokio_postgres::Row;

const COLUMNS: &str = "id, kind, household, pseudonym, child, restricted, profile, created_at";

fn decode(r: &Row) -> Result<Subject> {
    let op = "read subject";
    let kind: &str = col(r, 1, op)?;
    Ok(Subject {
        id: SubjectId::new(col::<String>(r, 0, op)?),
        kind: SubjectKind::parse(kind).ok_or(Error::Corrupt {
            what: "subject kind",
        })?,
        household: col::<Option<String>>(r, 2, op)?.map(SubjectId::new),
        pseudonym: pseudonym(col(r, 3, op)?)?,
        child: col(r, 4, op)?,
        restricted: col(r, 5, op)?,
        profile: col(r, 6, op)?,
        created_at: from_ts(col(r, 7, op)?)?,
    })
}

pub(crate) async fn create(c: &impl GenericClient, s: &NewSubject) -> Result<()> {
    insert(
        c,
        &format!("INSERT INTO subjects ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, false, $6, $7)"),
        &[
            &s.id.as_str(),
            &s.kind.as_str(),
            &s.household.as_ref().map(|h| h.as_str()),
            &s.pseudonym.as_bytes().as_slice(),
            &s.child,
            &s.profile,
            &ts(s.created_at),
        ],
        ("subject", s.id.as_str()),
        "create subject",
    )
    .await?;
    if let Some(h) = &s.household {
        bump_household_of(c, h).await?;
    }
    Ok(())
}

/// Bumps the version of `subject`'s household (of the subject itself if it is a household),
/// in the caller's transaction; nothing if the subject is gone. The row's lock, held to the
/// commit, orders this change against the appends that check the version (`FOR SHARE`).
pub(crate) async fn bump_household_of(c: &impl GenericClient, subject: &SubjectId) -> Result<()> {
    execute(
        c,
        "UPDATE subjects SET version = version + 1
         WHERE id = (SELECT coalesce(household, id) FROM subjects WHERE id = $1)",
        &[&subject.as_str()],
        "bump household version",
    )
    .await?;
    Ok(())
}

/// The version of a household (of any subject's row); `None` if it is gone.
pub(crate) async fn version(c: &impl GenericClient, household: &SubjectId) -> Result<Option<u64>> {
    let op = "read household version";
    let row = query_opt(
        c,
        "SELECT version FROM subjects WHERE id = $1",
        &[&household.as_str()],
        op,
    )
    .await?;
    row.map(|r| col::<i64>(&r, 0, op).map(count)).transpose()
}

/// The versions of these households, their rows locked `FOR SHARE` (in id order, so
/// transactions locking several never deadlock each other) until the caller's transaction
/// ends: a change to any of them waits for it to commit, and it for a change in progress (then
/// reads the version that change wrote). Gone households are missing from the answer.
pub(crate) async fn versions_for_share(
    tx: &Transaction<'_>,
    households: &[&str],
) -> Result<BTreeMap<String, u64>> {
    let op = "check household versions";
    query(
        tx,
        "SELECT id, version FROM subjects WHERE id = ANY($1) ORDER BY id FOR SHARE",
        &[&households],
        op,
    )
    .await?
    .iter()
    .map(|r| Ok((col::<String>(r, 0, op)?, count(col::<i64>(r, 1, op)?))))
    .collect()
}

pub(crate) async fn get(c: &impl GenericClient, id: &SubjectId) -> Result<Subject> {
    let sql = format!("SELECT {COLUMNS} FROM subjects WHERE id = $1");
    match query_opt(c, &sql, &[&id.as_str()], "read subject").await? {
        Some(r) => decode(&r),
        None => Err(Error::not_found("subject", id.as_str())),
    }
}

pub(crate) async fn by_pseudonym(c: &impl GenericClient, p: &Pseudonym) -> Result<Subject> {
    let sql = format!("SELECT {COLUMNS} FROM subjects WHERE pseudonym = $1");
    match query_opt(c, &sql, &[&p.as_bytes().as_slice()], "read subject").await? {
        Some(r) => decode(&r),
        None => Err(Error::not_found("subject", "(pseudonym)")),
    }
}

pub(crate) async fn members(c: &impl GenericClient, household: &SubjectId) -> Result<Vec<Subject>> {
    let sql =
        format!("SELECT {COLUMNS} FROM subjects WHERE household = $1 ORDER BY created_at, id");
    query(c, &sql, &[&household.as_str()], "read members")
        .await?
        .iter()
        .map(decode)
        .collect()
}

pub(crate) async fn all_pseudonyms(c: &impl GenericClient) -> Result<Vec<Pseudonym>> {
    query(c, "SELECT pseudonym FROM subjects", &[], "read pseudonyms")
        .await?
        .iter()
        .map(|r| pseudonym(col(r, 0, "read pseudonyms")?))
        .collect()
}

pub(crate) async fn update_profile(
    c: &impl GenericClient,
    id: &SubjectId,
    profile: &[u8],
) -> Result<()> {
    let n = execute(
        c,
        "UPDATE subjects SET profile = $2 WHERE id = $1",
        &[&id.as_str(), &profile],
        "update profile",
    )
    .await?;
    found(n, id)
}

pub(crate) async fn set_restricted(
    c: &impl GenericClient,
    id: &SubjectId,
    restricted: bool,
) -> Result<()> {
    let n = execute(
        c,
        "UPDATE subjects SET restricted = $2 WHERE id = $1",
        &[&id.as_str(), &restricted],
        "restrict subject",
    )
    .await?;
    found(n, id)?;
    bump_household_of(c, id).await
}

fn found(n: u64, id: &SubjectId) -> Result<()> {
    if n == 0 {
        Err(Error::not_found("subject", id.as_str()))
    } else {
        Ok(())
    }
}

/// Carries out one erasure step inside `tx`: the subject's row and everything keyed by its id
/// go; its devices are treated as the step says (the policy decided which). The subject's row
/// is locked first, so two erasures of one subject run one after the other.
pub(crate) async fn erase(
    tx: &Transaction<'_>,
    step: &ErasureStep,
    at: Timestamp,
) -> Result<ErasedSubject> {
    let id = step.subject.as_str();
    let Some(row) = query_opt(
        tx,
        "SELECT pseudonym FROM subjects WHERE id = $1 FOR UPDATE",
        &[&id],
        "read subject",
    )
    .await?
    else {
        return Err(Error::not_found("subject", id));
    };
    let pseud = pseudonym(col(&row, 0, "read subject")?)?;
    // While the rows say which household it is: a member's step changes what its household
    // allows; a household's own step deletes the row the version lives in. Locked before the
    // devices, as appends lock them (household, then devices).
    bump_household_of(tx, &step.subject).await?;
    let consents = execute(
        tx,
        "DELETE FROM consents WHERE subject = $1",
        &[&id],
        "erase consents",
    )
    .await?;
    crate::accounts::delete_for_subject(tx, &step.subject).await?;
    execute(
        tx,
        "DELETE FROM objections WHERE subject = $1",
        &[&id],
        "erase objections",
    )
    .await?;
    let devices = match step.devices {
        DeviceDisposition::RevokeHouseholdDevices => {
            let op = "unlink devices";
            let revoked: Vec<String> = query(
                tx,
                "UPDATE devices SET household = NULL, member = NULL, token_hash = NULL,
                                    broker_hash = NULL, revoked_at = $2
                     WHERE household = $1
                     RETURNING id",
                &[&id, &ts(at)],
                op,
            )
            .await?
            .iter()
            .map(|r| col(r, 0, op))
            .collect::<Result<_>>()?;
            let ids: Vec<&str> = revoked.iter().map(String::as_str).collect();
            // Under the rows' locks the update took: see `devices::forget_deliveries`.
            crate::devices::forget_deliveries(tx, &ids).await?;
            u64::try_from(ids.len()).unwrap_or(u64::MAX)
        }
        DeviceDisposition::DetachFromMember => {
            execute(
                tx,
                "UPDATE devices SET member = NULL WHERE member = $1",
                &[&id],
                "unlink devices",
            )
            .await?
        }
    };
    execute(
        tx,
        "DELETE FROM subjects WHERE id = $1",
        &[&id],
        "erase subject",
    )
    .await?;
    Ok(ErasedSubject {
        pseudonym: Some(pseud),
        consents,
        devices,
    })
}
