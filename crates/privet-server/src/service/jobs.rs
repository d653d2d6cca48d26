//! Durable background work: the retention sweep and deleting an erased subject's records are
//! jobs queued in the store, so with several instances each job runs on exactly one of them
//! (the store leases it to one taker) and is taken again if that instance dies mid-way.
//!
//! Each instance queues the retention job of the current slot (time divided by the retention
//! interval); the store queues a kind and argument once, so one slot runs once however many
//! instances queue it.

use crate::service::error::ServiceResult;
use crate::service::{retention, throttle};
use crate::state::AppState;
use jiff::{SignedDuration, Timestamp};
use privet_crypto::Pseudonym;
use privet_store::{Job, NewJob};
use std::time::Duration;

/// A retention sweep; its argument is the slot.
pub const RETENTION: &str = "retention";
/// Deleting an erased subject's records; its argument is the pseudonym in hex.
pub const PURGE_SUBJECT: &str = "purge-subject";
/// How long a taken job is held before another instance may take it (its holder died).
const LEASE: Duration = Duration::from_secs(10 * 60);
/// Finished jobs are kept this long (so a slot is not queued again), then pruned.
const KEEP_DONE: Duration = Duration::from_secs(7 * 24 * 60 * 60);
/// How often an idle worker looks for jobs queued by other instances.
const POLL: Duration = Duration::from_secs(1);

/// Queues the deletion of erased subjects' records and wakes the worker.
pub async fn purge_later(state: &AppState, pseudonyms: &[Pseudonym]) -> ServiceResult<()> {
    let now = state.clock().now();
    for p in pseudonyms {
        state
            .store()
            .enqueue_job(NewJob {
                kind: PURGE_SUBJECT.to_owned(),
                arg: p.to_hex(),
                due: now,
            })
            .await?;
    }
    state.jobs_queued().notify_one();
    Ok(())
}

/// The retention slot `now` falls in.
fn slot(now: Timestamp, interval: Duration) -> i64 {
    let secs = i64::try_from(interval.as_secs().max(1)).unwrap_or(i64::MAX);
    now.as_second().div_euclid(secs)
}

/// Queues the retention sweep of the current slot (a no-op if any instance already did).
pub async fn queue_retention(state: &AppState) -> ServiceResult<bool> {
    let now = state.clock().now();
    Ok(state
        .store()
        .enqueue_job(NewJob {
            kind: RETENTION.to_owned(),
            arg: slot(now, state.config().retention_interval).to_string(),
            due: now,
        })
        .await?)
}

/// Takes and runs due jobs until none is left; returns how many ran.
pub async fn run_due(state: &AppState) -> ServiceResult<usize> {
    let mut ran = 0;
    loop {
        let now = state.clock().now();
        let lease_until = now
            .checked_add(SignedDuration::try_from(LEASE).unwrap_or(SignedDuration::MAX))
            .unwrap_or(Timestamp::MAX);
        let Some(job) = state.store().take_job(now, lease_until).await? else {
            return Ok(ran);
        };
        match run(state, &job).await {
            Ok(()) => {
                state
                    .store()
                    .finish_job(job.id, state.clock().now())
                    .await?;
                ran += 1;
            }
            // Left leased: taken again when the lease ends, here or elsewhere.
            Err(e) => {
                tracing::warn!(job = job.id, kind = %job.kind, attempts = job.attempts, error = %e, "job failed; it will be retried")
            }
        }
    }
}

async fn run(state: &AppState, job: &Job) -> ServiceResult<()> {
    match job.kind.as_str() {
        RETENTION => {
            retention::run_once(state).await?;
            let now = state.clock().now();
            let before = |keep: Duration| {
                now.checked_sub(SignedDuration::try_from(keep).unwrap_or(SignedDuration::MAX))
                    .unwrap_or(Timestamp::MIN)
            };
            state.store().prune_jobs(before(KEEP_DONE)).await?;
            state
                .store()
                .prune_failures(throttle::forget_before(now))
                .await?;
            Ok(())
        }
        PURGE_SUBJECT => {
            let Ok(pseudonym) = job.arg.parse::<Pseudonym>() else {
                tracing::warn!(
                    job = job.id,
                    "purge job with a malformed pseudonym; dropped"
                );
                return Ok(());
            };
            let n = state.store().delete_subject_blocks(&pseudonym).await?;
            tracing::info!(blocks = n, "erased records deleted");
            Ok(())
        }
        other => {
            tracing::warn!(job = job.id, kind = other, "unknown job kind; dropped");
            Ok(())
        }
    }
}

/// Queues each retention slot and runs due jobs, for as long as the server runs: woken by a
/// job queued here, by the retention interval, and by a short poll for other instances' jobs.
pub async fn worker(state: AppState) {
    let mut retention_tick = tokio::time::interval(state.config().retention_interval);
    retention_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut poll = tokio::time::interval(POLL);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = retention_tick.tick() => {
                if let Err(e) = queue_retention(&state).await {
                    tracing::warn!(error = %e, "queueing the retention sweep failed");
                }
            }
            _ = poll.tick() => {}
            () = state.jobs_queued().notified() => {}
        }
        if let Err(e) = run_due(&state).await {
            tracing::warn!(error = %e, "running background jobs failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slot_is_the_interval_the_time_falls_in() {
        let t = |s: &str| s.parse::<Timestamp>().unwrap_or(Timestamp::UNIX_EPOCH);
        let hour = Duration::from_secs(3600);
        assert_eq!(
            slot(t("2026-12-05T10:00:00Z"), hour),
            slot(t("2026-12-05T10:59:59Z"), hour)
        );
        assert_ne!(
            slot(t("2026-12-05T10:59:59Z"), hour),
            slot(t("2026-12-05T11:00:00Z"), hour)
        );
        assert_eq!(slot(t("1969-12-31T23:59:59Z"), hour), -1);
    }
}
