//! The household's pages: sign-up and sign-in, device set-up, my data, security, household
//! management, and the public product pages.

use crate::state::AppState;
use axum::Router;

/// The household pages.
pub fn routes() -> Router<AppState> {
    Router::new()
}
