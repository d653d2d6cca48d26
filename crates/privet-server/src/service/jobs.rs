//! Durable background work: the retention sweep and deleting an erased subject's records are
//! jobs queued in the store, so with several instances each job runs on exactly one of them
//! (the store leases it to one taker) and is taken again if that instance dies mid-way.
//!
//! Each instance queues the retention job of the current slot (time divided by the retention
//! interval); the store queues a kind and argument once, so one slot runs once however many
//! instances queue it.
//!
//! An instance takes only the kinds it runs ([`KINDS`]): during a rolling upgrade a job of a
//! kind only newer instances know waits for one of them rather than being taken and lost. A job
//! that keeps failing is retried, never dropped, and logged as an error once it has failed
//! more than ten times.

use crate::service::error::{ServiceError, ServiceResult};
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
/// Writing a signed head into the audit log; its argument is the slot of [`HEAD_EVERY`].
pub const AUDIT_HEAD: &str = "audit-head";
/// Telling the maker's systems that a rights request is overdue (`request.overdue`); its
/// argument is the request id, so each request is told once (see `service::webhooks::overdue`).
pub const REQUEST_OVERDUE: &str = "request-overdue";
/// How often a signed head is written into the audit log (when it grew).
pub const HEAD_EVERY: Duration = Duration::from_secs(60 * 60);
/// How long a taken job is held before another instance may take it (its holder died).
const LEASE: Duration = Duration::from_secs(10 * 60);
/// Finished jobs are kept this long (so a slot is not queued again), then pruned.
const KEEP_DONE: Duration = Duration::from_secs(7 * 24 * 60 * 60);
/// How often an idle worker looks for jobs queued by other instances.
const POLL: Duration = Duration::from_secs(1);
/// The kinds this instance runs, and so takes. A job of another kind (queued by a newer
/// instance during a rolling upgrade) is left to an instance that runs it, not taken and lost.
pub const KINDS: &[&str] = &[RETENTION, PURGE_SUBJECT, AUDIT_HEAD, REQUEST_OVERDUE];
/// Attempts after which a job that keeps failing is logged as an error each time it is taken
/// again: it is still retried (dropping it could leave an erased subject's records behind),
/// but someone has to look.
const ATTEMPTS_BEFORE_ALARM: u32 = 10;

/// Whether `job` has failed so often that taking it again is worth an error in the log.
fn keeps_failing(job: &Job) -> bool {
    job.attempts > ATTEMPTS_BEFORE_ALARM
}

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

/// Queues the audit head of the slot `now` falls in (a no-op if any instance already did).
async fn queue_audit_head(state: &AppState, slot: i64) -> ServiceResult<bool> {
    Ok(state
        .store()
        .enqueue_job(NewJob {
            kind: AUDIT_HEAD.to_owned(),
            arg: slot.to_string(),
            due: state.clock().now(),
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
        let Some(job) = state.store().take_job(KINDS, now, lease_until).await? else {
            return Ok(ran);
        };
        if keeps_failing(&job) {
            tracing::error!(
                job = job.id,
                kind = %job.kind,
                attempts = job.attempts,
                "background job keeps failing; retrying it again (see the earlier warnings for why)"
            );
        }
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
            // Kept as long as the broker keeps a stopped instance's session: nothing older
            // can be handed over again.
            state
                .store()
                .prune_deliveries(before(crate::mqtt::DELIVERY_WINDOW))
                .await?;
            Ok(())
        }
        AUDIT_HEAD => {
            crate::service::audit::write_head(state).await?;
            Ok(())
        }
        REQUEST_OVERDUE => crate::service::webhooks::overdue::run(state, &job.arg).await,
        PURGE_SUBJECT => {
            let Ok(pseudonym) = job.arg.parse::<Pseudonym>() else {
                // No retry can succeed; an error, as an erased subject's records may remain.
                tracing::error!(
                    job = job.id,
                    "purge job with a malformed pseudonym; dropped"
                );
                return Ok(());
            };
            let n = state.store().delete_subject_blocks(&pseudonym).await?;
            tracing::info!(blocks = n, "erased records deleted");
            Ok(())
        }
        // Not one of `KINDS`, which is all `take_job` hands out: left leased, never finished.
        _ => Err(ServiceError::Corrupt("job kind")),
    }
}

/// Queues each retention slot and runs due jobs, for as long as the server runs: woken by a
/// job queued here, by the retention interval, and by a short poll for other instances' jobs.
pub async fn worker(state: AppState) {
    let mut retention_tick = tokio::time::interval(state.config().retention_interval);
    retention_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut poll = tokio::time::interval(POLL);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // By the server's clock, so a head is written when an hour of its time has passed (tests
    // move the clock); not at start, which would add an entry per restart.
    let mut head_slot = slot(state.clock().now(), HEAD_EVERY);
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
        let now_slot = slot(state.clock().now(), HEAD_EVERY);
        if now_slot > head_slot {
            match queue_audit_head(&state, now_slot).await {
                Ok(_) => head_slot = now_slot,
                Err(e) => tracing::warn!(error = %e, "queueing the audit head failed"),
            }
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
    fn a_job_failing_more_than_ten_times_raises_the_alarm() {
        let job = |attempts| Job {
            id: 1,
            kind: RETENTION.to_owned(),
            arg: String::new(),
            due: Timestamp::UNIX_EPOCH,
            attempts,
            leased_until: None,
            done_at: None,
        };
        assert!(!keeps_failing(&job(1)));
        assert!(!keeps_failing(&job(10)));
        assert!(keeps_failing(&job(11)));
        assert!(keeps_failing(&job(u32::MAX)));
    }

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
