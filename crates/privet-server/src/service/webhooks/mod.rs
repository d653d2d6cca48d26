//! Webhooks to the maker's systems, following the Standard Webhooks convention: operators
//! register endpoints for events (and map manifest recipients to them, for Art. 19 notices);
//! the services [`emit`] events once their change has committed; each matching endpoint gets a
//! delivery in the store's outbox, which [`worker`] sends, signed, and retries with backoff
//! until it is delivered or dead.
//!
//! Which endpoint gets what, the retry schedule and which recipients are told are
//! `privet_policy::webhooks`' rules; the signature is `privet_crypto::WebhookSecret`'s. An
//! endpoint's key is kept sealed by the instance's secret box and shown once, at registration.
//! Payloads carry ids and pseudonyms, never names, e-mails or event values.
//!
//! An event is queued after the change it tells of has committed, not in the same
//! transaction: an instance that dies in between loses that one event (the change itself, and
//! its audit entry, are kept).

pub mod events;
pub mod overdue;
pub mod recipients;
pub mod send;
pub mod worker;

use crate::ids::new_id;
use crate::service::audit::{self, Event};
use crate::service::error::{Conflict, Invalid, Missing, ServiceResult, conflict_as, missing_as};
use crate::state::AppState;
use privet_crypto::{Secret, WebhookSecret, os_rng};
use privet_policy::webhooks::{EventType, Route, delivers_to};
use privet_store::{NewWebhookDelivery, RecipientKey, WebhookDelivery, WebhookEndpoint, WebhookId};

/// The longest URL an endpoint may have.
pub const MAX_URL_CHARS: usize = 2048;
/// The most deliveries one listing shows.
pub const MAX_LISTED: usize = 500;

/// What an operator registers.
#[derive(Debug, Default)]
pub struct Registration {
    /// Where to POST.
    pub url: String,
    /// Event names of [`EventType::SUBSCRIBABLE`].
    pub events: Vec<String>,
    /// Manifest recipients whose Art. 19 notices go here.
    pub recipients: Vec<RecipientKey>,
}

/// A registered endpoint and its secret, shown this once.
#[derive(Debug)]
pub struct Registered {
    /// The endpoint.
    pub endpoint: WebhookEndpoint,
    /// `whsec_…`.
    pub secret: Secret,
}

/// What an event says, before it is addressed to endpoints.
#[derive(Debug)]
pub struct Outgoing {
    /// The event.
    pub event: EventType,
    /// The recipient a notice is for.
    pub about: Option<RecipientKey>,
    /// The payload's `data`: ids and pseudonyms only.
    pub data: serde_json::Value,
}

/// The label an endpoint's key is sealed under: the endpoint's id, so a sealed key copied to
/// another endpoint's row does not open.
fn seal_label(id: &WebhookId) -> String {
    format!("webhook-secret:{id}")
}

/// A name the operator typed, safe to repeat in an error: at most 64 characters, one line.
fn clip(name: &str) -> String {
    name.chars()
        .take(64)
        .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
        .collect()
}

/// Checks an endpoint URL: `http` or `https`, with a host, without user name or password.
fn check_url(url: &str) -> Result<String, Invalid> {
    let url = url.trim();
    if url.chars().count() > MAX_URL_CHARS {
        return Err(Invalid::WebhookUrl);
    }
    let parsed = url::Url::parse(url).map_err(|_| Invalid::WebhookUrl)?;
    let ok = matches!(parsed.scheme(), "http" | "https")
        && parsed.host_str().is_some_and(|h| !h.is_empty())
        && parsed.username().is_empty()
        && parsed.password().is_none();
    if !ok {
        return Err(Invalid::WebhookUrl);
    }
    Ok(parsed.to_string())
}

/// Registers an endpoint after checking its URL, events and recipients; audited.
pub async fn register(
    state: &AppState,
    registration: Registration,
    actor: &str,
) -> ServiceResult<Registered> {
    let url = check_url(&registration.url)?;
    let mut events = Vec::new();
    for name in &registration.events {
        let e = EventType::parse_subscribable(name.trim())
            .ok_or_else(|| Invalid::WebhookEvent(clip(name)))?;
        if !events.contains(&e.as_str().to_owned()) {
            events.push(e.as_str().to_owned());
        }
    }
    let mut mapped: Vec<RecipientKey> = Vec::new();
    let products = state.products();
    for r in registration.recipients {
        let declared = products
            .get(&r.product)
            .is_some_and(|m| m.recipient(&r.recipient).is_some());
        if !declared {
            return Err(Invalid::WebhookRecipient {
                product: clip(&r.product),
                recipient: clip(&r.recipient),
            }
            .into());
        }
        if !mapped.contains(&r) {
            mapped.push(r);
        }
    }
    if events.is_empty() && mapped.is_empty() {
        return Err(Invalid::WebhookNothing.into());
    }
    let id = WebhookId::new(new_id("wh"));
    let secret = WebhookSecret::generate(&mut os_rng());
    let sealed = state
        .secret_box()
        .seal(&seal_label(&id), secret.expose_bytes(), &mut os_rng())?;
    let endpoint = WebhookEndpoint {
        id: id.clone(),
        url,
        events,
        recipients: mapped,
        sealed_secret: sealed,
        created_at: state.clock().now(),
        disabled_at: None,
    };
    state.store().create_webhook(endpoint.clone()).await?;
    audit::record(
        state,
        Event::new(
            actor,
            "webhook.create",
            serde_json::json!({
                "webhook": id,
                "events": endpoint.events,
                "recipients": endpoint.recipients,
            }),
        ),
    )
    .await?;
    Ok(Registered {
        endpoint,
        secret: secret.to_whsec(),
    })
}

/// The endpoints that receive deliveries, oldest first.
pub async fn list(state: &AppState) -> ServiceResult<Vec<WebhookEndpoint>> {
    Ok(state
        .store()
        .webhooks()
        .await?
        .into_iter()
        .filter(|e| e.disabled_at.is_none())
        .collect())
}

/// Deletes an endpoint: it gets nothing more, its pending deliveries die, its past ones stay
/// listed. Audited.
pub async fn delete(state: &AppState, id: &WebhookId, actor: &str) -> ServiceResult<()> {
    state
        .store()
        .disable_webhook(id, state.clock().now())
        .await
        .map_err(missing_as(Missing::Webhook))?;
    audit::record(
        state,
        Event::new(actor, "webhook.delete", serde_json::json!({"webhook": id})),
    )
    .await?;
    Ok(())
}

/// An endpoint's deliveries (every endpoint's with `None`), newest first.
pub async fn deliveries(
    state: &AppState,
    endpoint: Option<&WebhookId>,
) -> ServiceResult<Vec<WebhookDelivery>> {
    if let Some(id) = endpoint {
        let known = state.store().webhooks().await?.iter().any(|e| &e.id == id);
        if !known {
            return Err(Missing::Webhook.into());
        }
    }
    Ok(state
        .store()
        .webhook_deliveries(endpoint, MAX_LISTED)
        .await?)
}

/// Sends a dead delivery again, from its first attempt, now. Audited.
pub async fn retry(state: &AppState, id: &str, actor: &str) -> ServiceResult<WebhookDelivery> {
    let d = state
        .store()
        .retry_webhook_delivery(id, state.clock().now())
        .await
        .map_err(|e| {
            if e.is_not_found() {
                Missing::WebhookDelivery.into()
            } else {
                conflict_as(Conflict::DeliveryNotDead)(e)
            }
        })?;
    state.webhooks_queued().notify_one();
    audit::record(
        state,
        Event::new(
            actor,
            "webhook.retry",
            serde_json::json!({"webhook": d.endpoint, "delivery": d.id}),
        ),
    )
    .await?;
    Ok(d)
}

/// Queues `outgoing` for every endpoint it goes to, and wakes the sender. Never fails: the
/// change it tells of has committed; a failure is logged (ids only) and the event is lost.
pub async fn emit(state: &AppState, outgoing: Outgoing) {
    if let Err(e) = enqueue(state, &outgoing).await {
        tracing::error!(event = outgoing.event.as_str(), error = %e, "queueing a webhook event failed; it is not sent");
    }
}

async fn enqueue(state: &AppState, outgoing: &Outgoing) -> ServiceResult<()> {
    let endpoints = state.store().webhooks().await?;
    let now = state.clock().now();
    let body = serde_json::json!({
        "type": outgoing.event.as_str(),
        "timestamp": now,
        "data": outgoing.data,
    })
    .to_string();
    let deliveries: Vec<NewWebhookDelivery> = endpoints
        .iter()
        .filter(|e| e.disabled_at.is_none())
        .filter(|e| {
            let route = Route {
                events: &e.events,
                recipients: &e.recipients,
            };
            delivers_to(outgoing.event, outgoing.about.as_ref(), route)
        })
        .map(|e| NewWebhookDelivery {
            id: new_id("msg"),
            endpoint: e.id.clone(),
            event: outgoing.event.as_str().to_owned(),
            payload: body.clone(),
            created_at: now,
        })
        .collect();
    if deliveries.is_empty() {
        return Ok(());
    }
    state.store().enqueue_webhook_deliveries(deliveries).await?;
    state.webhooks_queued().notify_one();
    Ok(())
}

/// Tells of a logged rights request (`request.created`).
pub async fn request_created(state: &AppState, r: &privet_store::RightsRequest) {
    emit(state, events::request_created(state, r)).await;
}

/// Tells of a completed rights request (`request.completed`).
pub async fn request_completed(state: &AppState, r: &privet_store::RightsRequest) {
    emit(state, events::request_completed(state, r)).await;
}

/// Tells of a consent decision (`consent.changed`).
pub async fn consent_changed(
    state: &AppState,
    subject: &privet_store::Subject,
    decision: &privet_store::NewConsent,
) {
    emit(state, events::consent_changed(subject, decision)).await;
}

/// Tells of a device reset (`device.reset`); `before` is the device as it was.
pub async fn device_reset(state: &AppState, before: &privet_store::Device, records: u64) {
    emit(state, events::device_reset(state, before, records)).await;
}

/// Tells of an erasure (`erasure.completed`), and each recipient read before it (Art. 19).
pub async fn erased(
    state: &AppState,
    subject: &privet_store::Subject,
    pseudonyms: &[privet_crypto::Pseudonym],
    counts: &crate::service::erasure::ErasedCounts,
    at: jiff::Timestamp,
    told: Vec<RecipientKey>,
) {
    emit(
        state,
        events::erasure_completed(subject, pseudonyms, counts, at),
    )
    .await;
    recipients::notify(state, subject, recipients::Change::Erasure, told).await;
}

/// Tells the subject's recipients of a rectification (Art. 19).
pub async fn rectified(state: &AppState, subject: &privet_store::Subject) {
    recipients::notify_now(state, subject, recipients::Change::Rectification).await;
}

/// Tells the subject's recipients of a restriction (Art. 19); lifting one is not told.
pub async fn restriction_set(state: &AppState, subject: &privet_store::Subject, restricted: bool) {
    if restricted {
        recipients::notify_now(state, subject, recipients::Change::Restriction).await;
    }
}

/// Opens an endpoint's sealed key.
pub(crate) fn secret_of(
    state: &AppState,
    endpoint: &WebhookEndpoint,
) -> ServiceResult<WebhookSecret> {
    let key = state
        .secret_box()
        .open(&seal_label(&endpoint.id), &endpoint.sealed_secret)?;
    WebhookSecret::from_bytes(&key).ok_or(crate::service::error::ServiceError::Corrupt(
        "webhook secret",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_and_https_urls_with_a_host_and_no_credentials_are_accepted() {
        for ok in [
            "http://127.0.0.1:8080/hook",
            "https://hooks.acme.example/privet?x=1",
            "http://[::1]:9000/",
            "http://10.0.0.5/in",
        ] {
            assert!(check_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "ftp://example.com/",
            "file:///etc/passwd",
            "http://user:pw@example.com/",
            "http://user@example.com/",
            "not a url",
            "mailto:a@example.com",
            "",
        ] {
            assert_eq!(check_url(bad), Err(Invalid::WebhookUrl), "{bad}");
        }
        let long = format!("http://example.com/{}", "a".repeat(MAX_URL_CHARS));
        assert_eq!(check_url(&long), Err(Invalid::WebhookUrl));
    }
}
