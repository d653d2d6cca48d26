//! The webhook model: registered endpoints and the outbox of their deliveries. An endpoint's
//! secret is stored sealed by the server (the store never sees the key); a delivery's payload
//! holds ids and pseudonyms only, never personal values.

use jiff::Timestamp;
use privet_policy::{RecipientKey, WebhookId};

/// A registered endpoint.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookEndpoint {
    /// Its id.
    pub id: WebhookId,
    /// Where deliveries are POSTed (`http` or `https`).
    pub url: String,
    /// The event names it subscribes to.
    pub events: Vec<String>,
    /// The manifest recipients mapped to it: it receives their Art. 19 notices.
    pub recipients: Vec<RecipientKey>,
    /// The signing key, sealed by the server's secret box (never the key itself).
    pub sealed_secret: Vec<u8>,
    /// When it was registered.
    pub created_at: Timestamp,
    /// When it was deleted; `None` while it receives deliveries.
    pub disabled_at: Option<Timestamp>,
}

/// Never shows the sealed secret, not even its ciphertext.
impl std::fmt::Debug for WebhookEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookEndpoint")
            .field("id", &self.id)
            .field("url", &self.url)
            .field("events", &self.events)
            .field("recipients", &self.recipients)
            .field("created_at", &self.created_at)
            .field("disabled_at", &self.disabled_at)
            .finish_non_exhaustive()
    }
}

/// Where a delivery stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DeliveryState {
    /// Waiting for its next attempt (or being attempted).
    Pending,
    /// An attempt was answered with a 2xx.
    Delivered,
    /// No more attempts: every one failed, or its endpoint was deleted.
    Dead,
}

impl DeliveryState {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Dead => "dead",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(s: &str) -> Option<DeliveryState> {
        [
            DeliveryState::Pending,
            DeliveryState::Delivered,
            DeliveryState::Dead,
        ]
        .into_iter()
        .find(|d| d.as_str() == s)
    }
}

/// A delivery to queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewWebhookDelivery {
    /// Its id, sent as `webhook-id` (the same on every attempt, so receivers can drop repeats).
    pub id: String,
    /// The endpoint.
    pub endpoint: WebhookId,
    /// The event name.
    pub event: String,
    /// The JSON body, exactly as sent (and signed).
    pub payload: String,
    /// When it was queued; its first attempt is due then.
    pub created_at: Timestamp,
}

/// A delivery in the outbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookDelivery {
    /// Its id (`webhook-id`).
    pub id: String,
    /// The endpoint.
    pub endpoint: WebhookId,
    /// The event name.
    pub event: String,
    /// The JSON body.
    pub payload: String,
    /// Where it stands.
    pub state: DeliveryState,
    /// Attempts made (a claim counts, so an attempt whose sender died counts too).
    pub attempts: u32,
    /// When it is next due, while pending.
    pub next_attempt_at: Timestamp,
    /// Claimed by a sender until then; claimable again after (its sender died).
    pub leased_until: Option<Timestamp>,
    /// The HTTP status of the last attempt, if one was answered.
    pub last_status: Option<u16>,
    /// Why the last attempt failed, in the server's words (never a response body).
    pub last_error: Option<String>,
    /// When it was queued.
    pub created_at: Timestamp,
    /// When it was delivered.
    pub delivered_at: Option<Timestamp>,
}

/// How an attempt ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// Answered with a 2xx.
    Delivered {
        /// When.
        at: Timestamp,
        /// The status.
        status: u16,
    },
    /// Failed; try again at `next_attempt_at`.
    Retry {
        /// When to try again.
        next_attempt_at: Timestamp,
        /// The status, if the endpoint answered.
        status: Option<u16>,
        /// Why it failed.
        error: String,
    },
    /// Failed for the last time.
    Dead {
        /// The status, if the endpoint answered.
        status: Option<u16>,
        /// Why it failed.
        error: String,
    },
}
