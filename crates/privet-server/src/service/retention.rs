//! The retention sweeper: drops the chunks whose data has all expired. Which ones is
//! `privet_policy::expired_chunks`'s to say.

use crate::service::error::ServiceResult;
use crate::state::AppState;
use jiff::Timestamp;
use privet_store::{RetentionReport, Store};

/// One retention run over `store` at `now` (also for `privet retention run`, with no server).
pub async fn run_at(store: &dyn Store, now: Timestamp) -> ServiceResult<RetentionReport> {
    let expired = privet_policy::expired_chunks(&store.chunks().await?, now);
    if expired.is_empty() {
        return Ok(RetentionReport::default());
    }
    let report = store.drop_chunks(&expired).await?;
    if report.chunks_dropped > 0 {
        tracing::info!(
            chunks = report.chunks_dropped,
            blocks = report.blocks_dropped,
            events = report.events_dropped,
            "retention dropped expired chunks"
        );
    }
    Ok(report)
}

/// One retention run now: the expired chunks, then the values past a retention a newer
/// manifest version shortened (which needs the subjects' keys, so only a server does it).
pub async fn run_once(state: &AppState) -> ServiceResult<RetentionReport> {
    let report = run_at(state.store().as_ref(), state.clock().now()).await?;
    crate::service::retention_cuts::run_once(state).await?;
    Ok(report)
}
