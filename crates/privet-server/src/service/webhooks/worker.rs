//! The sender: claims due deliveries from the outbox and POSTs them, a few at a time, for as
//! long as the server runs. Woken at once when an event is queued here, so a first attempt
//! goes out within moments; a short poll picks up what other instances queued and what came
//! due (retries, or a clock moved by a test). Time is the server's clock's throughout.
//!
//! A claim leases the delivery for [`LEASE`]: if this instance dies mid-attempt, another
//! claims it once the lease runs out and sends it again (receivers drop repeats by
//! `webhook-id`, which stays the same).

use super::send::{self, Signed};
use super::{overdue, secret_of};
use crate::state::AppState;
use jiff::{SignedDuration, Timestamp};
use privet_crypto::{Rng as _, os_rng};
use privet_policy::webhooks::{Retry, next_attempt};
use privet_store::{AttemptOutcome, WebhookDelivery};
use std::time::Duration;
use tokio::task::JoinSet;

/// How long a claimed delivery is held: well beyond an attempt's timeout.
const LEASE: SignedDuration = SignedDuration::from_secs(5 * 60);
/// How often an idle sender looks for due deliveries.
const POLL: Duration = Duration::from_secs(1);
/// Attempts in flight at once, so one slow endpoint does not hold up the others.
const IN_FLIGHT: usize = 8;

/// Sends deliveries until the task is aborted.
pub async fn run(state: AppState) {
    let mut poll = tokio::time::interval(POLL);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut attempts: JoinSet<()> = JoinSet::new();
    let mut scans = overdue::Scans::default();
    loop {
        tokio::select! {
            _ = poll.tick() => scans.maybe_scan(&state).await,
            () = state.webhooks_queued().notified() => {}
            Some(_) = attempts.join_next(), if !attempts.is_empty() => {}
        }
        while attempts.len() < IN_FLIGHT {
            let now = state.clock().now();
            let lease_until = now.checked_add(LEASE).unwrap_or(Timestamp::MAX);
            match state.store().claim_webhook_delivery(now, lease_until).await {
                Ok(Some(d)) => {
                    attempts.spawn(attempt(state.clone(), d, lease_until));
                }
                Ok(None) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "claiming a webhook delivery failed");
                    break;
                }
            }
        }
    }
}

/// One attempt at a claimed delivery, and its outcome recorded under the claim.
async fn attempt(state: AppState, d: WebhookDelivery, lease_until: Timestamp) {
    let outcome = match send_once(&state, &d).await {
        // Queued while its endpoint was being deleted: never sent, listed as dead.
        Err(why) if why == DISABLED => AttemptOutcome::Dead {
            status: None,
            error: why,
        },
        Ok(status) if (200..300).contains(&status) => AttemptOutcome::Delivered {
            at: state.clock().now(),
            status,
        },
        Ok(status) => failed(&state, &d, Some(status), format!("answered {status}")),
        Err(why) => failed(&state, &d, None, why),
    };
    match &outcome {
        AttemptOutcome::Delivered { .. } => {
            tracing::debug!(delivery = %d.id, webhook = %d.endpoint, "webhook delivered")
        }
        AttemptOutcome::Retry { error, .. } => {
            tracing::warn!(delivery = %d.id, webhook = %d.endpoint, attempts = d.attempts, %error, "webhook delivery failed; it will be retried")
        }
        AttemptOutcome::Dead { error, .. } => {
            tracing::error!(delivery = %d.id, webhook = %d.endpoint, attempts = d.attempts, %error, "webhook delivery failed for the last time; it is dead")
        }
    }
    if let Err(e) = state
        .store()
        .finish_webhook_delivery(&d.id, lease_until, outcome)
        .await
    {
        // Conflict: the lease ran out and another sender has it, or the endpoint was deleted.
        tracing::warn!(delivery = %d.id, error = %e, "recording a webhook attempt failed");
    }
}

/// Why a delivery to a deleted endpoint was not sent.
const DISABLED: &str = "the endpoint was deleted";

/// Signs and POSTs the delivery; the status, or why there was none. A deleted endpoint gets
/// nothing, whatever was queued for it.
async fn send_once(state: &AppState, d: &WebhookDelivery) -> Result<u16, String> {
    let endpoints = state.store().webhooks().await.map_err(|e| e.to_string())?;
    let Some(endpoint) = endpoints.into_iter().find(|e| e.id == d.endpoint) else {
        return Err("endpoint not found".to_owned());
    };
    if endpoint.disabled_at.is_some() {
        return Err(DISABLED.to_owned());
    }
    let secret = secret_of(state, &endpoint).map_err(|e| e.to_string())?;
    let timestamp = state.clock().now().as_second();
    let signature = secret.sign(&d.id, timestamp, d.payload.as_bytes());
    let signed = Signed {
        id: &d.id,
        timestamp,
        signature: &signature,
    };
    send::post(&endpoint.url, &signed, d.payload.clone())
        .await
        .map_err(|e| e.to_string())
}

/// The outcome of a failed attempt: retried on the policy's schedule, or dead.
fn failed(
    state: &AppState,
    d: &WebhookDelivery,
    status: Option<u16>,
    error: String,
) -> AttemptOutcome {
    let mut jitter = [0u8; 4];
    os_rng().fill_bytes(&mut jitter);
    match next_attempt(d.attempts, state.clock().now(), u32::from_le_bytes(jitter)) {
        Retry::At(next_attempt_at) => AttemptOutcome::Retry {
            next_attempt_at,
            status,
            error,
        },
        Retry::Dead => AttemptOutcome::Dead { status, error },
    }
}
