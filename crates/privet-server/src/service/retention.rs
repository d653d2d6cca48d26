//! The retention sweeper: drops chunks whose data has all expired.

use crate::state::AppState;
use jiff::Timestamp;
use privet_store::RetentionReport;

/// One retention run now.
pub async fn run_once(state: &AppState) -> Result<RetentionReport, privet_store::Error> {
    let report = state.store().drop_expired(Timestamp::now()).await?;
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

/// Runs retention every `retention_interval`, forever.
pub async fn sweep(state: AppState) {
    let mut tick = tokio::time::interval(state.config().retention_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = run_once(&state).await {
            tracing::warn!(error = %e, "retention run failed");
        }
    }
}
