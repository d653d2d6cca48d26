//! `/v1/webhooks`: endpoints the maker's systems receive events at (Standard Webhooks), and
//! their deliveries. Admin only.

use crate::access::Operator;
use crate::error::ApiResult;
use crate::service::webhooks::{self, Registration};
use crate::state::AppState;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use jiff::Timestamp;
use privet_policy::Action;
use privet_store::{DeliveryState, RecipientKey, WebhookDelivery, WebhookEndpoint, WebhookId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// A manifest recipient: a product and the key of its `[recipients.X]`.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecipientRef {
    /// Product id.
    pub product: String,
    /// The recipient's key in the product's manifest.
    pub recipient: String,
}

/// Body of `POST /v1/webhooks`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    /// Where deliveries are POSTed: `http://` or `https://` (loopback and private addresses
    /// are allowed).
    pub url: String,
    /// Events to receive: `request.created`, `request.overdue`, `request.completed`,
    /// `erasure.completed`, `consent.changed`, `device.reset`.
    #[serde(default)]
    pub events: Vec<String>,
    /// Manifest recipients whose Art. 19 notices (`recipient.erasure`,
    /// `recipient.rectification`, `recipient.restriction`) go to this endpoint.
    #[serde(default)]
    pub recipients: Vec<RecipientRef>,
}

/// An endpoint as listed (never its secret).
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookView {
    /// Id.
    pub id: String,
    /// Where deliveries go.
    pub url: String,
    /// Events it receives.
    pub events: Vec<String>,
    /// Recipients whose Art. 19 notices it receives.
    pub recipients: Vec<RecipientRef>,
    /// When it was registered.
    pub created_at: Timestamp,
}

/// The answer to `POST /v1/webhooks`: the endpoint and its signing secret, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedWebhook {
    /// Id.
    pub id: String,
    /// `whsec_` + base64 of the HMAC-SHA256 key: verify each delivery's `webhook-signature`
    /// with it (Standard Webhooks). Shown only now.
    pub secret: String,
    /// Where deliveries go.
    pub url: String,
    /// Events it receives.
    pub events: Vec<String>,
    /// Recipients whose Art. 19 notices it receives.
    pub recipients: Vec<RecipientRef>,
    /// When it was registered.
    pub created_at: Timestamp,
}

/// A delivery as listed.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryView {
    /// Id, sent as `webhook-id`.
    pub id: String,
    /// Endpoint id.
    pub webhook: String,
    /// Event name.
    pub event: String,
    /// `pending`, `delivered` or `dead`.
    pub state: String,
    /// Attempts made.
    pub attempts: u32,
    /// When it is next tried, while pending.
    pub next_attempt_at: Option<Timestamp>,
    /// The HTTP status of the last attempt, if the endpoint answered.
    pub last_status: Option<u16>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When it was queued.
    pub created_at: Timestamp,
    /// When it was delivered.
    pub delivered_at: Option<Timestamp>,
    /// The body sent (ids and pseudonyms only).
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
}

fn recipients(r: &[RecipientKey]) -> Vec<RecipientRef> {
    r.iter()
        .map(|r| RecipientRef {
            product: r.product.clone(),
            recipient: r.recipient.clone(),
        })
        .collect()
}

fn view(e: WebhookEndpoint) -> WebhookView {
    WebhookView {
        id: e.id.to_string(),
        recipients: recipients(&e.recipients),
        url: e.url,
        events: e.events,
        created_at: e.created_at,
    }
}

/// A delivery as the API and the console show it.
pub(crate) fn delivery_view(d: WebhookDelivery) -> DeliveryView {
    DeliveryView {
        next_attempt_at: (d.state == DeliveryState::Pending).then_some(d.next_attempt_at),
        payload: serde_json::from_str(&d.payload).unwrap_or(serde_json::Value::Null),
        id: d.id,
        webhook: d.endpoint.to_string(),
        event: d.event,
        state: d.state.as_str().to_owned(),
        attempts: d.attempts,
        last_status: d.last_status,
        last_error: d.last_error,
        created_at: d.created_at,
        delivered_at: d.delivered_at,
    }
}

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_webhook, list_webhooks))
        .routes(routes!(delete_webhook))
        .routes(routes!(list_deliveries))
        .routes(routes!(list_all_deliveries))
        .routes(routes!(retry_delivery))
}

/// Registers an endpoint for events and, for Art. 19 notices, manifest recipients; answers
/// with its signing secret, shown only this once.
#[utoipa::path(post, path = "/v1/webhooks", tag = "webhooks", request_body = NewWebhook,
    responses((status = 201, body = CreatedWebhook), (status = 400), (status = 401), (status = 403), (status = 422)),
    security(("api_key" = [])))]
async fn create_webhook(
    State(state): State<AppState>,
    op: Operator,
    body: Result<Json<NewWebhook>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<CreatedWebhook>)> {
    let permit = op.permit(Action::ManageWebhooks)?;
    let Json(body) = body?;
    let registration = Registration {
        url: body.url,
        events: body.events,
        recipients: body
            .recipients
            .into_iter()
            .map(|r| RecipientKey {
                product: r.product,
                recipient: r.recipient,
            })
            .collect(),
    };
    let done = webhooks::register(&state, registration, &permit.actor).await?;
    let e = done.endpoint;
    Ok((
        StatusCode::CREATED,
        Json(CreatedWebhook {
            id: e.id.to_string(),
            secret: done.secret.expose().to_owned(),
            recipients: recipients(&e.recipients),
            url: e.url,
            events: e.events,
            created_at: e.created_at,
        }),
    ))
}

/// The registered endpoints (without their secrets).
#[utoipa::path(get, path = "/v1/webhooks", tag = "webhooks",
    responses((status = 200, body = Vec<WebhookView>), (status = 401), (status = 403)),
    security(("api_key" = [])))]
async fn list_webhooks(
    State(state): State<AppState>,
    op: Operator,
) -> ApiResult<Json<Vec<WebhookView>>> {
    op.permit(Action::ManageWebhooks)?;
    Ok(Json(
        webhooks::list(&state)
            .await?
            .into_iter()
            .map(view)
            .collect(),
    ))
}

/// Deletes an endpoint: it receives nothing more and its pending deliveries are dropped
/// (`dead`); its deliveries stay listed.
#[utoipa::path(delete, path = "/v1/webhooks/{id}", tag = "webhooks",
    params(("id" = String, Path, description = "Webhook id")),
    responses((status = 204), (status = 401), (status = 403), (status = 404)),
    security(("api_key" = [])))]
async fn delete_webhook(
    State(state): State<AppState>,
    op: Operator,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let permit = op.permit(Action::ManageWebhooks)?;
    webhooks::delete(&state, &WebhookId::new(id), &permit.actor).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An endpoint's deliveries, newest first (at most 500): state, attempts, last status.
#[utoipa::path(get, path = "/v1/webhooks/{id}/deliveries", tag = "webhooks",
    params(("id" = String, Path, description = "Webhook id")),
    responses((status = 200, body = Vec<DeliveryView>), (status = 401), (status = 403), (status = 404)),
    security(("api_key" = [])))]
async fn list_deliveries(
    State(state): State<AppState>,
    op: Operator,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<DeliveryView>>> {
    op.permit(Action::ManageWebhooks)?;
    let id = WebhookId::new(id);
    Ok(Json(
        webhooks::deliveries(&state, Some(&id))
            .await?
            .into_iter()
            .map(delivery_view)
            .collect(),
    ))
}

/// Every endpoint's deliveries, newest first (at most 500).
#[utoipa::path(get, path = "/v1/webhooks/deliveries", tag = "webhooks",
    responses((status = 200, body = Vec<DeliveryView>), (status = 401), (status = 403)),
    security(("api_key" = [])))]
async fn list_all_deliveries(
    State(state): State<AppState>,
    op: Operator,
) -> ApiResult<Json<Vec<DeliveryView>>> {
    op.permit(Action::ManageWebhooks)?;
    Ok(Json(
        webhooks::deliveries(&state, None)
            .await?
            .into_iter()
            .map(delivery_view)
            .collect(),
    ))
}

/// Sends a dead delivery again, from its first attempt.
#[utoipa::path(post, path = "/v1/webhooks/deliveries/{id}/retry", tag = "webhooks",
    params(("id" = String, Path, description = "Delivery id (its `webhook-id`)")),
    responses((status = 200, body = DeliveryView), (status = 401), (status = 403), (status = 404), (status = 409)),
    security(("api_key" = [])))]
async fn retry_delivery(
    State(state): State<AppState>,
    op: Operator,
    Path(id): Path<String>,
) -> ApiResult<Json<DeliveryView>> {
    let permit = op.permit(Action::ManageWebhooks)?;
    let d = webhooks::retry(&state, &id, &permit.actor).await?;
    Ok(Json(delivery_view(d)))
}
