//! Webhook endpoints and the outbox: deliveries queued in one commit, claimed by exactly one
//! sender under a lease (claimed again when the sender died), finished only under the claim
//! that made the attempt, killed with their endpoint, and retried by hand once dead.

use super::fixtures::at;
use crate::{
    AttemptOutcome, DeliveryState, NewWebhookDelivery, RecipientKey, Store, WebhookEndpoint,
    WebhookId,
};

fn endpoint(id: &str, created: &str) -> WebhookEndpoint {
    WebhookEndpoint {
        id: WebhookId::new(id),
        url: format!("http://127.0.0.1:9/{id}"),
        events: vec!["request.created".into(), "erasure.completed".into()],
        recipients: vec![RecipientKey {
            product: "wren-thermostat-2".into(),
            recipient: "energy_supplier".into(),
        }],
        sealed_secret: vec![1, 2, 3, 4],
        created_at: at(created),
        disabled_at: None,
    }
}

fn delivery(id: &str, endpoint: &str, created: &str) -> NewWebhookDelivery {
    NewWebhookDelivery {
        id: id.into(),
        endpoint: WebhookId::new(endpoint),
        event: "request.created".into(),
        payload: format!(r#"{{"type":"request.created","data":{{"id":"{id}"}}}}"#),
        created_at: at(created),
    }
}

/// Claims at `now` with a lease until `until`; the claimed delivery's id.
async fn claim(store: &dyn Store, now: &str, until: &str) -> Option<String> {
    store
        .claim_webhook_delivery(at(now), at(until))
        .await
        .unwrap()
        .map(|d| d.id)
}

pub(super) async fn webhooks(store: &dyn Store) {
    endpoints(store).await;
    outbox(store).await;
    exclusive_claims(store).await;
    deleted_endpoints(store).await;
}

async fn endpoints(store: &dyn Store) {
    assert!(store.webhooks().await.unwrap().is_empty());
    let a = endpoint("wh-a", "2026-09-01T10:00:00Z");
    store.create_webhook(a.clone()).await.unwrap();
    assert!(
        store
            .create_webhook(a.clone())
            .await
            .unwrap_err()
            .is_conflict(),
        "an id is registered once"
    );
    store
        .create_webhook(endpoint("wh-b", "2026-09-01T11:00:00Z"))
        .await
        .unwrap();
    let all = store.webhooks().await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0], a, "stored as given, oldest first");
    let shown = format!("{a:?}");
    assert!(
        !shown.contains("sealed_secret") && !shown.contains("[1, 2, 3, 4]"),
        "Debug hides the secret: {shown}"
    );
}

async fn outbox(store: &dyn Store) {
    store
        .enqueue_webhook_deliveries(vec![
            delivery("msg-1", "wh-a", "2026-09-02T10:00:00Z"),
            delivery("msg-2", "wh-b", "2026-09-02T10:00:01Z"),
        ])
        .await
        .unwrap();
    // One existing id: nothing of the batch is queued.
    assert!(
        store
            .enqueue_webhook_deliveries(vec![
                delivery("msg-3", "wh-a", "2026-09-02T10:00:02Z"),
                delivery("msg-1", "wh-a", "2026-09-02T10:00:02Z"),
            ])
            .await
            .unwrap_err()
            .is_conflict()
    );
    assert!(
        store
            .webhook_delivery("msg-3")
            .await
            .unwrap_err()
            .is_not_found()
    );

    // Not due before its time.
    assert_eq!(
        claim(store, "2026-09-02T09:59:59Z", "2026-09-02T10:05:00Z").await,
        None
    );
    // Oldest due first; a claim counts the attempt and holds it.
    let until = "2026-09-02T10:05:00Z";
    assert_eq!(
        claim(store, "2026-09-02T10:00:05Z", until).await.as_deref(),
        Some("msg-1")
    );
    let held = store.webhook_delivery("msg-1").await.unwrap();
    assert_eq!(held.attempts, 1);
    assert_eq!(held.leased_until, Some(at(until)));
    assert_eq!(held.state, DeliveryState::Pending);
    assert_eq!(
        claim(store, "2026-09-02T10:00:06Z", "2026-09-02T10:05:01Z")
            .await
            .as_deref(),
        Some("msg-2"),
        "a held delivery is not claimed again while its lease runs"
    );
    assert_eq!(
        claim(store, "2026-09-02T10:00:07Z", "2026-09-02T10:05:02Z").await,
        None
    );

    // A failed attempt: pending again, due later, with what went wrong.
    let retried = store
        .finish_webhook_delivery(
            "msg-1",
            at(until),
            AttemptOutcome::Retry {
                next_attempt_at: at("2026-09-02T10:00:15Z"),
                status: Some(503),
                error: "answered 503".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(retried.state, DeliveryState::Pending);
    assert_eq!(retried.next_attempt_at, at("2026-09-02T10:00:15Z"));
    assert_eq!(retried.last_status, Some(503));
    assert_eq!(retried.last_error.as_deref(), Some("answered 503"));
    assert_eq!(retried.leased_until, None);
    // The same claim cannot finish it twice.
    assert!(
        store
            .finish_webhook_delivery(
                "msg-1",
                at(until),
                AttemptOutcome::Delivered {
                    at: at("2026-09-02T10:00:09Z"),
                    status: 200
                }
            )
            .await
            .unwrap_err()
            .is_conflict()
    );
    assert_eq!(
        claim(store, "2026-09-02T10:00:14Z", "2026-09-02T10:06:00Z").await,
        None,
        "not before the retry is due"
    );
    let second = "2026-09-02T10:06:00Z";
    assert_eq!(
        claim(store, "2026-09-02T10:00:15Z", second)
            .await
            .as_deref(),
        Some("msg-1")
    );
    let done = store
        .finish_webhook_delivery(
            "msg-1",
            at(second),
            AttemptOutcome::Delivered {
                at: at("2026-09-02T10:00:16Z"),
                status: 204,
            },
        )
        .await
        .unwrap();
    assert_eq!(done.state, DeliveryState::Delivered);
    assert_eq!(done.attempts, 2);
    assert_eq!(done.delivered_at, Some(at("2026-09-02T10:00:16Z")));
    assert_eq!(done.last_status, Some(204));

    // A sender that died: its lease runs out and another claims the delivery; the dead
    // sender's late answer is refused.
    let stale = "2026-09-02T10:05:01Z";
    assert_eq!(
        claim(store, stale, "2026-09-02T10:10:00Z").await.as_deref(),
        Some("msg-2")
    );
    assert!(
        store
            .finish_webhook_delivery(
                "msg-2",
                at(stale),
                AttemptOutcome::Delivered {
                    at: at(stale),
                    status: 200
                }
            )
            .await
            .unwrap_err()
            .is_conflict(),
        "a claim that was taken over finishes nothing"
    );
    assert_eq!(store.webhook_delivery("msg-2").await.unwrap().attempts, 2);

    // Dead after the last attempt; retried by hand from zero.
    let dead = store
        .finish_webhook_delivery(
            "msg-2",
            at("2026-09-02T10:10:00Z"),
            AttemptOutcome::Dead {
                status: None,
                error: "connection refused".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(dead.state, DeliveryState::Dead);
    assert_eq!(dead.last_status, None);
    assert_eq!(
        claim(store, "2026-09-03T00:00:00Z", "2026-09-03T00:05:00Z").await,
        None,
        "a dead delivery is never claimed"
    );
    assert!(
        store
            .retry_webhook_delivery("msg-1", at("2026-09-03T00:00:00Z"))
            .await
            .unwrap_err()
            .is_conflict(),
        "only a dead delivery is retried"
    );
    assert!(
        store
            .retry_webhook_delivery("msg-404", at("2026-09-03T00:00:00Z"))
            .await
            .unwrap_err()
            .is_not_found()
    );
    let again = store
        .retry_webhook_delivery("msg-2", at("2026-09-03T00:00:00Z"))
        .await
        .unwrap();
    assert_eq!((again.state, again.attempts), (DeliveryState::Pending, 0));
    assert_eq!(
        claim(store, "2026-09-03T00:00:00Z", "2026-09-03T00:05:00Z")
            .await
            .as_deref(),
        Some("msg-2")
    );
    store
        .finish_webhook_delivery(
            "msg-2",
            at("2026-09-03T00:05:00Z"),
            AttemptOutcome::Delivered {
                at: at("2026-09-03T00:00:01Z"),
                status: 200,
            },
        )
        .await
        .unwrap();

    // Listed newest first, by endpoint or all.
    let all = store.webhook_deliveries(None, 10).await.unwrap();
    let ids: Vec<&str> = all.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids, ["msg-2", "msg-1"]);
    let of_a = store
        .webhook_deliveries(Some(&WebhookId::new("wh-a")), 10)
        .await
        .unwrap();
    assert_eq!(of_a.len(), 1);
    assert_eq!(of_a[0].id, "msg-1");
    assert_eq!(store.webhook_deliveries(None, 1).await.unwrap().len(), 1);
}

async fn exclusive_claims(store: &dyn Store) {
    let batch: Vec<NewWebhookDelivery> = (0..6)
        .map(|i| delivery(&format!("race-{i}"), "wh-b", "2026-09-04T10:00:00Z"))
        .collect();
    store.enqueue_webhook_deliveries(batch).await.unwrap();
    // Twenty claimants at once: each delivery goes to exactly one of them.
    let claims = (0..20).map(|_| claim(store, "2026-09-04T10:00:01Z", "2026-09-04T10:05:00Z"));
    let mut got: Vec<String> = futures::future::join_all(claims)
        .await
        .into_iter()
        .flatten()
        .collect();
    got.sort();
    let want: Vec<String> = (0..6).map(|i| format!("race-{i}")).collect();
    assert_eq!(got, want, "each claimed once");
    for id in &want {
        store
            .finish_webhook_delivery(
                id,
                at("2026-09-04T10:05:00Z"),
                AttemptOutcome::Delivered {
                    at: at("2026-09-04T10:00:02Z"),
                    status: 200,
                },
            )
            .await
            .unwrap();
    }
}

async fn deleted_endpoints(store: &dyn Store) {
    store
        .enqueue_webhook_deliveries(vec![delivery("gone-1", "wh-a", "2026-09-05T10:00:00Z")])
        .await
        .unwrap();
    store
        .disable_webhook(&WebhookId::new("wh-a"), at("2026-09-05T10:00:01Z"))
        .await
        .unwrap();
    assert!(
        store
            .disable_webhook(&WebhookId::new("wh-a"), at("2026-09-05T10:00:02Z"))
            .await
            .unwrap_err()
            .is_not_found()
    );
    assert!(
        store
            .disable_webhook(&WebhookId::new("wh-none"), at("2026-09-05T10:00:02Z"))
            .await
            .unwrap_err()
            .is_not_found()
    );
    let a = store
        .webhooks()
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.id.as_str() == "wh-a")
        .unwrap();
    assert_eq!(a.disabled_at, Some(at("2026-09-05T10:00:01Z")));
    let gone = store.webhook_delivery("gone-1").await.unwrap();
    assert_eq!(
        gone.state,
        DeliveryState::Dead,
        "its pending deliveries die"
    );
    assert_eq!(gone.last_error.as_deref(), Some("endpoint deleted"));
    assert_eq!(
        store.webhook_delivery("msg-1").await.unwrap().state,
        DeliveryState::Delivered,
        "what was delivered stays delivered"
    );
    assert!(
        store
            .retry_webhook_delivery("gone-1", at("2026-09-05T10:00:03Z"))
            .await
            .unwrap_err()
            .is_conflict(),
        "a deleted endpoint's deliveries are not retried"
    );
    assert_eq!(
        claim(store, "2026-09-06T00:00:00Z", "2026-09-06T00:05:00Z").await,
        None
    );
}
