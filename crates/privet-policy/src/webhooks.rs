//! Webhook rules: the events an endpoint may subscribe to, which endpoints a delivery goes
//! to, the retry schedule of a failed delivery, and which manifest recipients hear of an
//! erasure, rectification or restriction (UK GDPR Art. 19). The signature itself is
//! `privet_crypto::WebhookSecret`'s.

use jiff::{SignedDuration, Timestamp};
use privet_manifest::Manifest;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// What a delivery tells.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventType {
    /// A rights request was logged.
    RequestCreated,
    /// An open rights request passed its due date.
    RequestOverdue,
    /// A rights request was completed.
    RequestCompleted,
    /// A member or household was erased.
    ErasureCompleted,
    /// A consent was granted or withdrawn.
    ConsentChanged,
    /// A device was reset for its next owner.
    DeviceReset,
    /// To a recipient: a subject whose data it received was erased (Art. 19).
    RecipientErasure,
    /// To a recipient: a subject whose data it received had it rectified (Art. 19).
    RecipientRectification,
    /// To a recipient: a subject whose data it received had its processing restricted
    /// (Art. 19).
    RecipientRestriction,
}

impl EventType {
    /// The events an endpoint subscribes to by name (`"events"` of `POST /v1/webhooks`).
    /// Recipient notices are not among them: they go to the endpoints mapped to the
    /// recipient, whatever those subscribe to.
    pub const SUBSCRIBABLE: [EventType; 6] = [
        EventType::RequestCreated,
        EventType::RequestOverdue,
        EventType::RequestCompleted,
        EventType::ErasureCompleted,
        EventType::ConsentChanged,
        EventType::DeviceReset,
    ];

    /// Every event type.
    pub const ALL: [EventType; 9] = [
        EventType::RequestCreated,
        EventType::RequestOverdue,
        EventType::RequestCompleted,
        EventType::ErasureCompleted,
        EventType::ConsentChanged,
        EventType::DeviceReset,
        EventType::RecipientErasure,
        EventType::RecipientRectification,
        EventType::RecipientRestriction,
    ];

    /// The name in a payload's `type`, e.g. `request.created`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::RequestCreated => "request.created",
            EventType::RequestOverdue => "request.overdue",
            EventType::RequestCompleted => "request.completed",
            EventType::ErasureCompleted => "erasure.completed",
            EventType::ConsentChanged => "consent.changed",
            EventType::DeviceReset => "device.reset",
            EventType::RecipientErasure => "recipient.erasure",
            EventType::RecipientRectification => "recipient.rectification",
            EventType::RecipientRestriction => "recipient.restriction",
        }
    }

    /// Parses a name of [`EventType::ALL`].
    pub fn parse(s: &str) -> Option<EventType> {
        EventType::ALL.into_iter().find(|e| e.as_str() == s)
    }

    /// Parses a name an endpoint may subscribe to ([`EventType::SUBSCRIBABLE`]).
    pub fn parse_subscribable(s: &str) -> Option<EventType> {
        EventType::SUBSCRIBABLE
            .into_iter()
            .find(|e| e.as_str() == s)
    }

    /// Whether this is an Art. 19 notice to a recipient.
    pub fn is_recipient_notice(self) -> bool {
        matches!(
            self,
            EventType::RecipientErasure
                | EventType::RecipientRectification
                | EventType::RecipientRestriction
        )
    }
}

/// A manifest recipient, by product and `[recipients.X]` key: what an endpoint is mapped to.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RecipientKey {
    /// Product id.
    pub product: String,
    /// The key of `[recipients.X]` in that product's manifest.
    pub recipient: String,
}

/// An endpoint as routing sees it: the events it subscribes to and the recipients mapped to it.
#[derive(Clone, Copy, Debug)]
pub struct Route<'a> {
    /// Subscribed event names.
    pub events: &'a [String],
    /// Recipients mapped to it.
    pub recipients: &'a [RecipientKey],
}

/// Whether a delivery of `event` (a recipient notice names its recipient in `about`) goes to
/// the endpoint `route`: an event to the endpoints subscribed to it by name, a recipient
/// notice to the endpoints mapped to that recipient, and to no other.
pub fn delivers_to(event: EventType, about: Option<&RecipientKey>, route: Route<'_>) -> bool {
    if event.is_recipient_notice() {
        about.is_some_and(|r| route.recipients.contains(r))
    } else {
        route.events.iter().any(|e| e == event.as_str())
    }
}

/// Attempts after which a delivery that keeps failing is dead (kept, shown, retried only by
/// hand): with [`RETRY_DELAYS`], about a day of trying.
pub const MAX_ATTEMPTS: u32 = 8;

/// The wait after the first, second, … failed attempt (before jitter): 5 s, 30 s, 2 min,
/// 10 min, 1 h, 6 h, 16 h; about 23 hours from the first attempt to the eighth.
pub const RETRY_DELAYS: [SignedDuration; 7] = [
    SignedDuration::from_secs(5),
    SignedDuration::from_secs(30),
    SignedDuration::from_secs(2 * 60),
    SignedDuration::from_secs(10 * 60),
    SignedDuration::from_secs(60 * 60),
    SignedDuration::from_secs(6 * 60 * 60),
    SignedDuration::from_secs(16 * 60 * 60),
];

/// The most jitter adds to a wait, in thousandths of it: up to a tenth longer, so endpoints
/// that failed together (a receiver restarting) are not all retried in the same second.
pub const MAX_JITTER_PERMILLE: u32 = 100;

/// What follows a failed attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Retry {
    /// Try again at this time.
    At(Timestamp),
    /// No more attempts: the delivery is dead.
    Dead,
}

/// When to try again after the `attempts`-th attempt failed at `failed_at`. `jitter` is a
/// random number (any `u32`; the caller draws it), of which the wait gets up to
/// [`MAX_JITTER_PERMILLE`] thousandths more; the same arguments give the same answer.
pub fn next_attempt(attempts: u32, failed_at: Timestamp, jitter: u32) -> Retry {
    if attempts >= MAX_ATTEMPTS {
        return Retry::Dead;
    }
    // Attempt zero never failed; counted as the first.
    let index = usize::try_from(attempts.max(1) - 1).unwrap_or(usize::MAX);
    let Some(base) = RETRY_DELAYS.get(index) else {
        return Retry::Dead;
    };
    let permille = i128::from(jitter % (MAX_JITTER_PERMILLE + 1));
    let extra_ms = i64::try_from(base.as_millis() * permille / 1000).unwrap_or(i64::MAX);
    let wait = base.saturating_add(SignedDuration::from_millis(extra_ms));
    match failed_at.checked_add(wait) {
        Ok(at) => Retry::At(at),
        Err(_) => Retry::Dead,
    }
}

/// The recipients of `manifest`'s product that must hear of an erasure, rectification or
/// restriction of a subject whose data the product holds (UK GDPR Art. 19), by key, in
/// manifest order.
///
/// A recipient received the subject's data if any purpose it receives data for — those its
/// `[recipients.X] purposes` lists and those whose `recipients` name it — may have carried
/// that data: a purpose that needs no consent always may; a consent-based one only if
/// `ever_consented` says the subject (or its household) granted it at some time. When in
/// doubt a recipient is told: telling a recipient about a pseudonym it never received costs
/// little, failing to tell one that did breaks Art. 19.
pub fn recipients_to_notify(
    manifest: &Manifest,
    ever_consented: impl Fn(&str) -> bool,
) -> Vec<String> {
    manifest
        .recipients
        .iter()
        .filter(|r| {
            let mut purposes: BTreeSet<&str> = r.purposes.iter().map(|p| p.as_str()).collect();
            for p in &manifest.purposes {
                if p.recipients.iter().any(|x| x.as_str() == r.id.as_str()) {
                    purposes.insert(p.id.as_str());
                }
            }
            purposes.iter().any(|id| match manifest.purpose(id) {
                Some(p) if p.needs_consent() => ever_consented(id),
                // Needs no consent, or a purpose the manifest does not define (a lint
                // error): told, as the data may have gone.
                _ => true,
            })
        })
        .map(|r| r.id.as_str().to_owned())
        .collect()
}

#[cfg(test)]
#[path = "webhooks/tests.rs"]
mod tests;
