//! Subjects (households and members) and erasure of their rows.

use crate::codec::{changed, conflict_or, from_ts, pseudonym, ts};
use crate::rows;
use jiff::Timestamp;
use privet_crypto::Pseudonym;
use privet_policy::{DeviceDisposition, ErasureStep, Subject, SubjectId, SubjectKind};
use privet_store::{Context, ErasedSubject, Error, NewSubject, Result};
use rusqlite::{Connection, OptionalExtension, params};

const COLUMNS: &str = "id, kind, household, pseudonym, child, restricted, profile, created_at";

type RawSubject = (
    String,
    String,
    Option<String>,
    Vec<u8>,
    bool,
    bool,
    Vec<u8>,
    i64,
);

fn decode(raw: RawSubject) -> Result<Subject> {
    let (id, kind, household, pseud, child, restricted, profile, created_at) = raw;
    Ok(Subject {
        id: SubjectId::new(id),
        kind: SubjectKind::parse(&kind).ok_or(Error::Corrupt {
            what: "subject kind",
        })?,
        household: household.map(SubjectId::new),
        pseudonym: pseudonym(&pseud)?,
        child,
        restricted,
        profile,
        created_at: from_ts(created_at)?,
    })
}

pub(crate) fn create(c: &Connection, s: &NewSubject) -> Result<()> {
    c.execute(
        &format!("INSERT INTO subjects ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6, ?7)"),
        params![
            s.id.as_str(),
            s.kind.as_str(),
            s.household.as_ref().map(|h| h.as_str()),
            s.pseudonym.as_bytes().as_slice(),
            s.child,
            s.profile,
            ts(s.created_at)
        ],
    )
    .map_err(|e| conflict_or(e, "subject", s.id.as_str(), "create subject"))?;
    if let Some(h) = &s.household {
        bump_household_of(c, h)?;
    }
    Ok(())
}

/// Bumps the version of `subject`'s household (of the subject itself if it is a household),
/// in the caller's transaction; nothing if the subject is gone.
pub(crate) fn bump_household_of(c: &Connection, subject: &SubjectId) -> Result<()> {
    c.prepare_cached(
        "UPDATE subjects SET version = version + 1
         WHERE id = (SELECT coalesce(household, id) FROM subjects WHERE id = ?1)",
    )
    .and_then(|mut s| s.execute([subject.as_str()]))
    .op("bump household version")?;
    Ok(())
}

/// The version of a household (of any subject's row); `None` if it is gone.
pub(crate) fn version(c: &Connection, household: &SubjectId) -> Result<Option<u64>> {
    let v: Option<i64> = c
        .prepare_cached("SELECT version FROM subjects WHERE id = ?1")
        .and_then(|mut s| s.query_row([household.as_str()], |r| r.get(0)).optional())
        .op("read household version")?;
    Ok(v.map(crate::codec::count))
}

pub(crate) fn get(c: &Connection, id: &SubjectId) -> Result<Subject> {
    let sql = format!("SELECT {COLUMNS} FROM subjects WHERE id = ?1");
    rows::decode_first(c, &sql, [id.as_str()], "read subject", decode)?
        .ok_or_else(|| Error::not_found("subject", id.as_str()))
}

pub(crate) fn by_pseudonym(c: &Connection, p: &Pseudonym) -> Result<Subject> {
    let sql = format!("SELECT {COLUMNS} FROM subjects WHERE pseudonym = ?1");
    rows::decode_first(c, &sql, [p.as_bytes().as_slice()], "read subject", decode)?
        .ok_or_else(|| Error::not_found("subject", "(pseudonym)"))
}

pub(crate) fn members(c: &Connection, household: &SubjectId) -> Result<Vec<Subject>> {
    let mut stmt = c
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM subjects WHERE household = ?1 ORDER BY created_at, id"
        ))
        .op("read members")?;
    rows::decode_all(&mut stmt, [household.as_str()], "read members", decode)
}

pub(crate) fn all_pseudonyms(c: &Connection) -> Result<Vec<Pseudonym>> {
    let mut stmt = c
        .prepare("SELECT pseudonym FROM subjects")
        .op("read pseudonyms")?;
    rows::decode_all(&mut stmt, [], "read pseudonyms", |(p,): (Vec<u8>,)| {
        pseudonym(&p)
    })
}

pub(crate) fn update_profile(c: &Connection, id: &SubjectId, profile: &[u8]) -> Result<()> {
    let n = c
        .execute(
            "UPDATE subjects SET profile = ?2 WHERE id = ?1",
            params![id.as_str(), profile],
        )
        .op("update profile")?;
    found(n, id)
}

pub(crate) fn set_restricted(c: &Connection, id: &SubjectId, restricted: bool) -> Result<()> {
    let n = c
        .execute(
            "UPDATE subjects SET restricted = ?2 WHERE id = ?1",
            params![id.as_str(), restricted],
        )
        .op("restrict subject")?;
    found(n, id)?;
    bump_household_of(c, id)
}

fn found(n: usize, id: &SubjectId) -> Result<()> {
    if n == 0 {
        Err(Error::not_found("subject", id.as_str()))
    } else {
        Ok(())
    }
}

/// Carries out one erasure step: the subject's row and everything keyed by its id go; its
/// devices are treated as the step says (the policy decided which).
pub(crate) fn erase(c: &Connection, step: &ErasureStep, at: Timestamp) -> Result<ErasedSubject> {
    let id = step.subject.as_str();
    let pseud: Option<Vec<u8>> = c
        .query_row("SELECT pseudonym FROM subjects WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .optional()
        .op("read subject")?;
    let Some(pseud) = pseud else {
        return Err(Error::not_found("subject", id));
    };
    // While the rows say which household it is: a member's step changes what its household
    // allows; a household's own step deletes the row the version lives in.
    bump_household_of(c, &step.subject)?;
    let consents = c
        .execute("DELETE FROM consents WHERE subject = ?1", [id])
        .op("erase consents")?;
    crate::accounts::delete_for_subject(c, &step.subject)?;
    c.execute("DELETE FROM objections WHERE subject = ?1", [id])
        .op("erase objections")?;
    let devices = match step.devices {
        DeviceDisposition::RevokeHouseholdDevices => {
            // While the devices still name the household: their deliveries go with them.
            crate::devices::forget_deliveries(c, "household = ?1", id)?;
            c.execute(
                "UPDATE devices SET household = NULL, member = NULL, token_hash = NULL, broker_hash = NULL, revoked_at = ?2 WHERE household = ?1",
                params![id, ts(at)],
            )
        }
        DeviceDisposition::DetachFromMember => c.execute(
            "UPDATE devices SET member = NULL WHERE member = ?1",
            [id],
        ),
    }
    .op("unlink devices")?;
    c.execute("DELETE FROM subjects WHERE id = ?1", [id])
        .op("erase subject")?;
    Ok(ErasedSubject {
        pseudonym: Some(pseudonym(&pseud)?),
        consents: changed(consents),
        devices: changed(devices),
    })
}
