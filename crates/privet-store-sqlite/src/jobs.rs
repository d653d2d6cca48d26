//! Durable background jobs: queued once per kind and argument, taken under a lease so a job
//! whose holder died is taken again, finished once.

use crate::codec::{changed, from_opt_ts, from_ts, ts};
use crate::rows;
use jiff::Timestamp;
use privet_store::{Context, Error, Job, NewJob, Result};
use rusqlite::{Connection, params};

/// A job's columns in `SELECT` order.
type JobRow = (i64, String, String, i64, i64, Option<i64>, Option<i64>);

fn decode((id, kind, arg, due, attempts, leased_until, done_at): JobRow) -> Result<Job> {
    Ok(Job {
        id,
        kind,
        arg,
        due: from_ts(due)?,
        attempts: u32::try_from(attempts).map_err(|_| Error::Corrupt {
            what: "job attempts",
        })?,
        leased_until: from_opt_ts(leased_until)?,
        done_at: from_opt_ts(done_at)?,
    })
}

/// Queues a job unless its kind and argument were ever queued (the unique key decides, so
/// racing enqueuers queue it once).
pub(crate) fn enqueue(c: &Connection, job: &NewJob) -> Result<bool> {
    c.prepare_cached(
        "INSERT INTO jobs (kind, arg, due) VALUES (?1, ?2, ?3) ON CONFLICT (kind, arg) DO NOTHING",
    )
    .and_then(|mut s| s.execute(params![job.kind, job.arg, ts(job.due)]))
    .map(|n| n > 0)
    .op("queue job")
}

/// Takes the oldest pending job of one of `kinds` that is due and not leased (or whose lease
/// ran out), in one statement on the single writer, so no two takers get the same job.
pub(crate) fn take(
    c: &Connection,
    kinds: &[String],
    now: Timestamp,
    lease_until: Timestamp,
) -> Result<Option<Job>> {
    // The kinds as a JSON array, one parameter however many there are.
    let kinds = serde_json::to_string(kinds).op("take job")?;
    let mut stmt = c
        .prepare_cached(
            "UPDATE jobs SET leased_until = ?2, attempts = attempts + 1
             WHERE id = (
                 SELECT id FROM jobs
                 WHERE done_at IS NULL AND due <= ?1 AND (leased_until IS NULL OR leased_until <= ?1)
                   AND kind IN (SELECT value FROM json_each(?3))
                 ORDER BY id LIMIT 1
             )
             RETURNING id, kind, arg, due, attempts, leased_until, done_at",
        )
        .op("take job")?;
    let row = rows::first(
        &mut stmt,
        params![ts(now), ts(lease_until), kinds],
        "take job",
        |r| JobRow::try_from(r).op("take job"),
    )?;
    row.map(decode).transpose()
}

/// Marks a pending job done; a job finished already, pruned or never queued is not found.
pub(crate) fn finish(c: &Connection, id: i64, at: Timestamp) -> Result<()> {
    let n = c
        .prepare_cached("UPDATE jobs SET done_at = ?2 WHERE id = ?1 AND done_at IS NULL")
        .and_then(|mut s| s.execute(params![id, ts(at)]))
        .op("finish job")?;
    if n == 0 {
        return Err(Error::not_found("job", id.to_string()));
    }
    Ok(())
}

/// Every job, oldest first.
pub(crate) fn all(c: &Connection) -> Result<Vec<Job>> {
    let mut stmt = c
        .prepare_cached(
            "SELECT id, kind, arg, due, attempts, leased_until, done_at FROM jobs ORDER BY id",
        )
        .op("list jobs")?;
    rows::decode_all(&mut stmt, [], "list jobs", decode)
}

/// Deletes jobs finished before `before`.
pub(crate) fn prune(c: &Connection, before: Timestamp) -> Result<u64> {
    c.execute(
        "DELETE FROM jobs WHERE done_at IS NOT NULL AND done_at < ?1",
        [ts(before)],
    )
    .map(changed)
    .op("prune jobs")
}
