//! Durable background jobs: queued once per kind and argument, taken under a lease so a job
//! whose holder died is taken again, finished once. Takers on every instance skip the rows
//! others are taking (`FOR UPDATE SKIP LOCKED`), so each job goes to exactly one of them.

use crate::codec::{col, from_opt_ts, from_ts, ts, u32_of};
use crate::pool::{execute, query, query_opt};
use deadpool_postgres::GenericClient;
use jiff::Timestamp;
use privet_store::{Error, Job, NewJob, Result};
use tokio_postgres::Row;

const COLUMNS: &str = "id, kind, arg, due, attempts, leased_until, done_at";

fn decode(r: &Row) -> Result<Job> {
    let op = "read job";
    Ok(Job {
        id: col(r, 0, op)?,
        kind: col(r, 1, op)?,
        arg: col(r, 2, op)?,
        due: from_ts(col(r, 3, op)?)?,
        attempts: u32_of(col(r, 4, op)?, "job attempts")?,
        leased_until: from_opt_ts(col(r, 5, op)?)?,
        done_at: from_opt_ts(col(r, 6, op)?)?,
    })
}

/// Queues a job unless its kind and argument were ever queued (the unique key decides, so
/// racing enqueuers queue it once).
pub(crate) async fn enqueue(c: &impl GenericClient, job: &NewJob) -> Result<bool> {
    let n = execute(
        c,
        "INSERT INTO jobs (kind, arg, due) VALUES ($1, $2, $3) ON CONFLICT (kind, arg) DO NOTHING",
        &[&job.kind, &job.arg, &ts(job.due)],
        "queue job",
    )
    .await?;
    Ok(n > 0)
}

/// Takes the oldest pending job of one of `kinds` that is due and not leased (or whose lease
/// ran out), in one statement: the row is locked as it is chosen, and rows other takers hold
/// are skipped.
pub(crate) async fn take(
    c: &impl GenericClient,
    kinds: &[&str],
    now: Timestamp,
    lease_until: Timestamp,
) -> Result<Option<Job>> {
    let sql = format!(
        "UPDATE jobs SET leased_until = $2, attempts = attempts + 1
         WHERE id = (
             SELECT id FROM jobs
             WHERE done_at IS NULL AND due <= $1 AND (leased_until IS NULL OR leased_until <= $1)
               AND kind = ANY($3)
             ORDER BY id LIMIT 1
             FOR UPDATE SKIP LOCKED
         )
         RETURNING {COLUMNS}"
    );
    query_opt(c, &sql, &[&ts(now), &ts(lease_until), &kinds], "take job")
        .await?
        .map(|r| decode(&r))
        .transpose()
}

/// Marks a pending job done; a job finished already, pruned or never queued is not found.
pub(crate) async fn finish(c: &impl GenericClient, id: i64, at: Timestamp) -> Result<()> {
    let n = execute(
        c,
        "UPDATE jobs SET done_at = $2 WHERE id = $1 AND done_at IS NULL",
        &[&id, &ts(at)],
        "finish job",
    )
    .await?;
    if n == 0 {
        return Err(Error::not_found("job", id.to_string()));
    }
    Ok(())
}

/// Every job, oldest first.
pub(crate) async fn all(c: &impl GenericClient) -> Result<Vec<Job>> {
    let sql = format!("SELECT {COLUMNS} FROM jobs ORDER BY id");
    query(c, &sql, &[], "list jobs")
        .await?
        .iter()
        .map(decode)
        .collect()
}

/// Deletes jobs finished before `before`.
pub(crate) async fn prune(c: &impl GenericClient, before: Timestamp) -> Result<u64> {
    execute(
        c,
        "DELETE FROM jobs WHERE done_at IS NOT NULL AND done_at < $1",
        &[&ts(before)],
        "prune jobs",
    )
    .await
}
