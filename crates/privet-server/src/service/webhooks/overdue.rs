//! `request.overdue`: open requests past their due date are noticed by a periodic scan, and
//! each is told once, across every instance: the scan queues a durable job per request (the
//! store queues a kind and argument once), and the job, run by one instance, emits the event.
//!
//! Only requests that fell due within [`LOOK_BACK_DAYS`] are queued: finished jobs are pruned
//! after a week, and a request overdue for longer must not be told again once its job is gone.

use super::{emit, events};
use crate::service::error::ServiceResult;
use crate::service::jobs::REQUEST_OVERDUE;
use crate::service::requests::{Status, status};
use crate::state::AppState;
use jiff::Span;
use jiff::civil::Date;
use privet_store::NewJob;
use std::time::{Duration, Instant};

/// How far back a due date may lie for its request to be told of (less than the week finished
/// jobs are kept).
pub const LOOK_BACK_DAYS: i64 = 5;
/// How often requests are scanned even when the date has not changed (one logged with an
/// early `received_at` may be overdue at once).
const EVERY: Duration = Duration::from_secs(60);

/// When the last scan ran.
#[derive(Debug, Default)]
pub(super) struct Scans {
    last: Option<(Date, Instant)>,
}

impl Scans {
    /// Scans when the server's date changed since the last scan, or a minute has passed.
    pub(super) async fn maybe_scan(&mut self, state: &AppState) {
        let today = state.clock().today_uk();
        let due = match self.last {
            None => true,
            Some((day, at)) => day != today || at.elapsed() >= EVERY,
        };
        if !due {
            return;
        }
        self.last = Some((today, Instant::now()));
        if let Err(e) = queue(state).await {
            tracing::warn!(error = %e, "scanning for overdue requests failed");
        }
    }
}

/// Queues the overdue job of every open request that fell due within the look-back.
pub async fn queue(state: &AppState) -> ServiceResult<usize> {
    let today = state.clock().today_uk();
    let oldest = today
        .checked_sub(Span::new().days(LOOK_BACK_DAYS))
        .unwrap_or(Date::MIN);
    let mut queued = 0;
    for r in state.store().requests().await? {
        let (due, st) = status(&r, today);
        if st != Status::Overdue || due < oldest {
            continue;
        }
        let new = state
            .store()
            .enqueue_job(NewJob {
                kind: REQUEST_OVERDUE.to_owned(),
                arg: r.id.clone(),
                due: state.clock().now(),
            })
            .await?;
        if new {
            queued += 1;
        }
    }
    if queued > 0 {
        state.jobs_queued().notify_one();
    }
    Ok(queued)
}

/// The job: tells of the request if it is still overdue (it may have been completed since).
pub async fn run(state: &AppState, id: &str) -> ServiceResult<()> {
    let r = match state.store().request(id).await {
        Ok(r) => r,
        Err(e) if e.is_not_found() => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    if status(&r, state.clock().today_uk()).1 == Status::Overdue {
        emit(state, events::request_overdue(state, &r)).await;
    }
    Ok(())
}
