//! The operator console: products, fleet, rights requests, the audit log, API keys. Staff
//! accounts with two-step verification only.

use crate::state::AppState;
use axum::Router;

/// The console pages.
pub fn routes() -> Router<AppState> {
    Router::new()
}
