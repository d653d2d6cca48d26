//! `POST /__test/clock`: moves a manual clock, so end-to-end tests of a real `privet serve`
//! set the time instead of sleeping. Compiled only with the test-only `test-clock` feature,
//! which release builds never have; it answers 409 unless the server runs on a manual clock
//! (`PRIVET_TEST_NOW`).

use crate::state::AppState;
use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;

/// Where to move the clock: to a time, or forward by seconds.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Move {
    now: Option<Timestamp>,
    advance_secs: Option<i64>,
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/__test/clock", post(move_clock))
}

async fn move_clock(
    State(state): State<AppState>,
    Json(m): Json<Move>,
) -> (StatusCode, Json<serde_json::Value>) {
    let clock = state.clock();
    let moved = match (m.now, m.advance_secs) {
        (Some(at), None) => clock.set(at),
        (None, Some(s)) => clock.advance(SignedDuration::from_secs(s)),
        _ => false,
    };
    let status = if moved {
        StatusCode::OK
    } else {
        StatusCode::CONFLICT
    };
    (status, Json(serde_json::json!({"now": clock.now()})))
}
