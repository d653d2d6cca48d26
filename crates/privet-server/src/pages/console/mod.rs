//! The operator console: products, fleet, rights requests, the audit log, API keys,
//! webhooks, and the records of processing.
//!
//! Only staff accounts with two-step verification on get in (the `Staff` extractor in
//! `staff.rs`), and each area checks the role as the API does. Pages call the services and
//! hold no privacy rule of their own; every change they make is audited with the actor
//! `account:<id>`.

mod audit;
mod fleet;
mod keys;
mod overview;
mod products;
mod records;
mod request_completion;
mod requests;
mod staff;
mod webhooks;

use crate::error::ApiError;
use crate::pages::PageError;
use crate::service::error::ServiceError;
use crate::state::AppState;
use axum::Form;
use axum::Router;
use axum::extract::rejection::FormRejection;
use axum::routing::get;
use jiff::Timestamp;

/// The console pages.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console", get(overview::show))
        .route("/console/products", get(products::list))
        .route("/console/products/{id}", get(products::show))
        .route("/console/fleet", get(fleet::show))
        .route(
            "/console/requests",
            get(requests::list).post(requests::create),
        )
        .route("/console/requests/{id}", get(requests::show))
        .route(
            "/console/requests/{id}/extend",
            axum::routing::post(requests::extend),
        )
        .route(
            "/console/requests/{id}/pause",
            axum::routing::post(requests::pause),
        )
        .route(
            "/console/requests/{id}/resume",
            axum::routing::post(requests::resume),
        )
        .route(
            "/console/requests/{id}/complete",
            axum::routing::post(request_completion::complete),
        )
        .route("/console/records", get(records::show))
        .route("/console/records.csv", get(records::csv))
        .route("/console/records.xlsx", get(records::xlsx))
        .route("/console/audit", get(audit::show))
        .route("/console/audit/verify", axum::routing::post(audit::verify))
        .route("/console/keys", get(keys::list).post(keys::create))
        .route(
            "/console/keys/{id}/revoke",
            get(keys::confirm_revoke).post(keys::revoke),
        )
        .route(
            "/console/webhooks",
            get(webhooks::list).post(webhooks::create),
        )
        .route(
            "/console/webhooks/{id}/delete",
            axum::routing::post(webhooks::delete),
        )
        .route(
            "/console/webhooks/deliveries/{id}/retry",
            axum::routing::post(webhooks::retry),
        )
}

/// A time as the console shows it: to the minute, in UTC.
fn when(at: Timestamp) -> String {
    at.strftime("%Y-%m-%d %H:%M UTC").to_string()
}

/// An optional time, or a dash.
fn when_opt(at: Option<Timestamp>) -> String {
    at.map_or_else(|| "—".to_owned(), when)
}

/// A submitted form, or a page saying it could not be read.
fn form<T>(submitted: Result<Form<T>, FormRejection>) -> Result<T, PageError> {
    submitted.map(|Form(f)| f).map_err(|e| {
        PageError::Api(ApiError::BadRequest(format!(
            "the form could not be read ({}); reload the page and try again",
            e.body_text()
        )))
    })
}

/// The HTTP status a failed action's page answers with.
fn status_of(e: &ServiceError) -> axum::http::StatusCode {
    crate::error::service_parts(e).0
}

/// What a failed action says on the page it re-renders (internal causes stay in the log).
fn message_of(e: &ServiceError) -> String {
    if status_of(e).is_server_error() {
        tracing::error!(cause = %e, "console action failed");
    }
    let detail = crate::error::service_detail(e);
    let mut chars = detail.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => detail,
    }
}
