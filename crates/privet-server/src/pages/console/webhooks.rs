//! `/console/webhooks`: endpoints the maker's systems receive events at. Register one (its
//! signing secret is shown once), delete one, see every delivery with its state, and send a
//! dead one again. Admin only; every change is audited.

use super::staff::{Area, ConsoleNav, Staff};
use super::{form, message_of, status_of, when, when_opt};
use crate::pages::{PageContext, PageError, render, render_status};
use crate::service::webhooks::{self, Registration};
use crate::state::AppState;
use askama::Template;
use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use privet_policy::webhooks::EventType;
use privet_store::{DeliveryState, RecipientKey, WebhookDelivery, WebhookEndpoint, WebhookId};
use serde::Deserialize;

/// An endpoint as a row.
#[derive(Debug)]
struct EndpointRow {
    id: String,
    url: String,
    receives: String,
    created: String,
}

impl From<&WebhookEndpoint> for EndpointRow {
    fn from(e: &WebhookEndpoint) -> Self {
        let mut receives: Vec<String> = e.events.clone();
        receives.extend(
            e.recipients
                .iter()
                .map(|r| format!("Art. 19 notices for {}/{}", r.product, r.recipient)),
        );
        EndpointRow {
            id: e.id.to_string(),
            url: e.url.clone(),
            receives: receives.join(", "),
            created: when(e.created_at),
        }
    }
}

/// A delivery as a row.
#[derive(Debug)]
struct DeliveryRow {
    id: String,
    event: String,
    endpoint: String,
    state: &'static str,
    dead: bool,
    attempts: u32,
    last: String,
    when: String,
}

impl From<&WebhookDelivery> for DeliveryRow {
    fn from(d: &WebhookDelivery) -> Self {
        let last = match (d.last_status, &d.last_error) {
            (Some(s), _) => format!("HTTP {s}"),
            (None, Some(e)) => e.clone(),
            (None, None) => "—".to_owned(),
        };
        let when = match d.state {
            DeliveryState::Delivered => format!("delivered {}", when_opt(d.delivered_at)),
            DeliveryState::Pending => format!("next try {}", when(d.next_attempt_at)),
            DeliveryState::Dead => format!("queued {}", when(d.created_at)),
        };
        DeliveryRow {
            id: d.id.clone(),
            event: d.event.clone(),
            endpoint: d.endpoint.to_string(),
            state: d.state.as_str(),
            dead: d.state == DeliveryState::Dead,
            attempts: d.attempts,
            last,
            when,
        }
    }
}

/// A checkbox of the register form.
#[derive(Debug)]
struct Choice {
    value: String,
    label: String,
    checked: bool,
}

#[derive(Template)]
#[template(path = "pages/console/webhooks.html")]
struct WebhooksPage {
    page: PageContext,
    nav: ConsoleNav,
    endpoints: Vec<EndpointRow>,
    deliveries: Vec<DeliveryRow>,
    events: Vec<Choice>,
    recipients: Vec<Choice>,
    url: String,
}

#[derive(Template)]
#[template(path = "pages/console/webhook_created.html")]
struct Created {
    page: PageContext,
    nav: ConsoleNav,
    id: String,
    url: String,
    secret: String,
}

/// The register form as submitted (events and recipients repeat, so it is read as pairs).
#[derive(Debug, Default)]
struct NewEndpoint {
    csrf: String,
    url: String,
    events: Vec<String>,
    recipients: Vec<String>,
}

impl NewEndpoint {
    fn from_pairs(pairs: Vec<(String, String)>) -> NewEndpoint {
        let mut n = NewEndpoint::default();
        for (name, value) in pairs {
            match name.as_str() {
                "csrf" => n.csrf = value,
                "url" => n.url = value,
                "event" => n.events.push(value),
                "recipient" => n.recipients.push(value),
                _ => {}
            }
        }
        n
    }

    /// `product/recipient` values as keys (a value without `/` names nothing, and is refused
    /// by the service as an undeclared recipient).
    fn recipient_keys(&self) -> Vec<RecipientKey> {
        self.recipients
            .iter()
            .map(|v| {
                let (product, recipient) = v.split_once('/').unwrap_or((v.as_str(), ""));
                RecipientKey {
                    product: product.to_owned(),
                    recipient: recipient.to_owned(),
                }
            })
            .collect()
    }
}

async fn webhooks_page(
    state: &AppState,
    staff: &Staff,
    submitted: Option<&NewEndpoint>,
    flash: Option<&str>,
    error: Option<(StatusCode, String)>,
) -> Result<Response, PageError> {
    let endpoints = webhooks::list(state).await?;
    let deliveries = webhooks::deliveries(state, None).await?;
    let mut recipients = Vec::new();
    for m in state.products().iter() {
        for r in &m.recipients {
            let value = format!("{}/{}", m.product.id.as_str(), r.id.as_str());
            recipients.push(Choice {
                checked: submitted.is_some_and(|n| n.recipients.contains(&value)),
                label: format!("{} ({}): {}", m.product.name.value, value, r.name.value),
                value,
            });
        }
    }
    let mut page = staff.page(state).await?;
    if let Some(f) = flash {
        page = page.flash(f);
    }
    let status = match &error {
        Some((status, msg)) => {
            page = page.error(msg.clone());
            *status
        }
        None => StatusCode::OK,
    };
    render_status(
        status,
        &WebhooksPage {
            page,
            nav: ConsoleNav::new(staff, Area::Webhooks),
            endpoints: endpoints.iter().map(EndpointRow::from).collect(),
            deliveries: deliveries.iter().map(DeliveryRow::from).collect(),
            events: EventType::SUBSCRIBABLE
                .iter()
                .map(|e| Choice {
                    value: e.as_str().to_owned(),
                    label: e.as_str().to_owned(),
                    checked: submitted.is_some_and(|n| n.events.iter().any(|x| x == e.as_str())),
                })
                .collect(),
            recipients,
            url: submitted.map(|n| n.url.clone()).unwrap_or_default(),
        },
    )
}

/// `?done=…` after a change (never text from the query).
#[derive(Debug, Default, Deserialize)]
pub(super) struct Done {
    #[serde(default)]
    done: String,
}

/// `GET /console/webhooks`.
pub(super) async fn list(
    State(state): State<AppState>,
    staff: Staff,
    done: Result<Query<Done>, QueryRejection>,
) -> Result<Response, PageError> {
    staff.require(Area::Webhooks)?;
    let done = done.map(|Query(d)| d).unwrap_or_default();
    let flash = match done.done.as_str() {
        "deleted" => Some("The endpoint was deleted: it receives nothing more."),
        "retried" => Some("The delivery will be sent again now."),
        _ => None,
    };
    webhooks_page(&state, &staff, None, flash, None).await
}

/// `POST /console/webhooks`: registers an endpoint and shows its secret once.
pub(super) async fn create(
    State(state): State<AppState>,
    staff: Staff,
    submitted: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Result<Response, PageError> {
    let permit = staff.require(Area::Webhooks)?;
    let n = NewEndpoint::from_pairs(form(submitted)?);
    staff.check_csrf(&state, &n.csrf)?;
    let registration = Registration {
        url: n.url.clone(),
        events: n.events.clone(),
        recipients: n.recipient_keys(),
    };
    match webhooks::register(&state, registration, &permit.actor).await {
        Ok(done) => render(&Created {
            page: staff.page(&state).await?,
            nav: ConsoleNav::new(&staff, Area::Webhooks),
            id: done.endpoint.id.to_string(),
            url: done.endpoint.url,
            secret: done.secret.expose().to_owned(),
        }),
        Err(e) => {
            let error = (status_of(&e), message_of(&e));
            webhooks_page(&state, &staff, Some(&n), None, Some(error)).await
        }
    }
}

/// A form with only its CSRF token.
#[derive(Debug, Default, Deserialize)]
pub(super) struct TokenForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /console/webhooks/{id}/delete`.
pub(super) async fn delete(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    submitted: Result<Form<TokenForm>, FormRejection>,
) -> Result<Response, PageError> {
    let permit = staff.require(Area::Webhooks)?;
    let f = form(submitted)?;
    staff.check_csrf(&state, &f.csrf)?;
    webhooks::delete(&state, &WebhookId::new(id), &permit.actor).await?;
    Ok(Redirect::to("/console/webhooks?done=deleted").into_response())
}

/// `POST /console/webhooks/deliveries/{id}/retry`.
pub(super) async fn retry(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    submitted: Result<Form<TokenForm>, FormRejection>,
) -> Result<Response, PageError> {
    let permit = staff.require(Area::Webhooks)?;
    let f = form(submitted)?;
    staff.check_csrf(&state, &f.csrf)?;
    webhooks::retry(&state, &id, &permit.actor).await?;
    Ok(Redirect::to("/console/webhooks?done=retried").into_response())
}
