//! A device's MQTT messages stored together (`service::ingest::ingest_deliveries`, what the
//! bridge does with the messages that queue behind a device's earlier ones): each message is
//! answered as it would be alone — refused alone when it does not decode or names an
//! undeclared stream, its own counts when stored, a duplicate when handed over again — while
//! the admitted ones share one commit and one block.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use privet_policy::BodyFormat;
use privet_server::service::error::ServiceError;
use privet_server::service::ingest::{self, Delivery, IngestOutcome};
use privet_server::service::{devices, subjects};
use privet_server::{AppState, Config};
use privet_store::{DeliveryId, Device};

struct Plug {
    state: AppState,
    device: Device,
    _dir: tempfile::TempDir,
}

async fn plug() -> Plug {
    let dir = tempfile::tempdir().unwrap();
    let clock = common::clock();
    let parts = common::parts(dir.path(), common::fixture_products(&clock), clock);
    let state = AppState::new(Config::default(), parts);
    let household = subjects::create_household(&state, "Merge House", "system")
        .await
        .unwrap();
    let reg = devices::register(&state, "acme-plug", Some(&household), None, "system")
        .await
        .unwrap();
    let device = state.store().device(&reg.id).await.unwrap();
    Plug {
        state,
        device,
        _dir: dir,
    }
}

fn reading(state: &AppState, data: serde_json::Value) -> Vec<u8> {
    reading_on(state, "power", data)
}

fn reading_on(state: &AppState, stream: &str, data: serde_json::Value) -> Vec<u8> {
    let ts = state.clock().now().to_string();
    serde_json::json!([{"stream": stream, "ts": ts, "data": data}])
        .to_string()
        .into_bytes()
}

fn message(body: &[u8], n: u8) -> Delivery<'_> {
    Delivery {
        body,
        format: BodyFormat::Json,
        id: DeliveryId([n; 32]),
    }
}

fn stored(answer: &Result<IngestOutcome, ServiceError>, what: &str) -> IngestOutcome {
    match answer {
        Ok(o) => IngestOutcome {
            accepted: o.accepted,
            dropped: o.dropped,
            firmware: o.firmware.clone(),
        },
        Err(e) => panic!("{what}: expected stored, got {e:?}"),
    }
}

async fn blocks(state: &AppState) -> (u64, u64) {
    state.store().record_counts().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_message_is_answered_as_alone_and_the_admitted_share_one_block() {
    let p = plug().await;
    let s = &p.state;
    let first = reading(s, serde_json::json!({"watts": 7}));
    let undeclared_stream = reading_on(s, "secret_audio", serde_json::json!({"pcm": "AAAA"}));
    let not_json = b"[{\"stream\": \"power\",".to_vec();
    let extra_field = reading(s, serde_json::json!({"watts": 8, "wifi_ssid": "home"}));
    let messages = [
        message(&first, 1),
        message(&undeclared_stream, 2),
        message(&not_json, 3),
        message(&extra_field, 4),
    ];
    let before = blocks(s).await;
    let answers = ingest::ingest_deliveries(s, &p.device, &messages).await;
    assert_eq!(answers.len(), 4, "one answer per message");

    let a = stored(&answers[0], "a plain reading");
    assert_eq!((a.accepted, a.dropped.undeclared), (1, 0));
    assert!(
        matches!(answers[1], Err(ServiceError::Invalid(_))),
        "an undeclared stream is refused alone: {:?}",
        answers[1]
    );
    assert!(
        matches!(answers[2], Err(ServiceError::Invalid(_))),
        "a payload that does not decode is refused alone: {:?}",
        answers[2]
    );
    let d = stored(&answers[3], "a reading with an undeclared field");
    assert_eq!(
        (d.accepted, d.dropped.undeclared),
        (1, 1),
        "the undeclared field is dropped and counted for its own message"
    );

    let after = blocks(s).await;
    assert_eq!(
        (after.0 - before.0, after.1 - before.1),
        (1, 2),
        "the two admitted readings share one block"
    );

    // Handed over again: each admitted message is a duplicate now, the refused ones are
    // refused again (they were never recorded), and nothing more is stored.
    let rejected = s.metrics().batches_rejected.get();
    let again = ingest::ingest_deliveries(s, &p.device, &messages).await;
    assert_eq!(
        s.metrics().batches_rejected.get() - rejected,
        2,
        "each refused message counted once, though the group was stored again message by message"
    );
    for i in [0, 3] {
        assert!(
            matches!(
                &again[i],
                Err(ServiceError::Store(privet_store::Error::Conflict {
                    entity: "delivery",
                    ..
                }))
            ),
            "message {i} handed over again is a duplicate: {:?}",
            again[i]
        );
    }
    for i in [1, 2] {
        assert!(matches!(again[i], Err(ServiceError::Invalid(_))));
    }
    assert_eq!(blocks(s).await, after, "a redelivered group stores nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_holding_a_stored_message_stores_the_others_once_each() {
    let p = plug().await;
    let s = &p.state;
    let early = reading(s, serde_json::json!({"watts": 1}));
    let stored_alone = ingest::ingest_deliveries(s, &p.device, &[message(&early, 10)]).await;
    stored(&stored_alone[0], "a message alone");
    let before = blocks(s).await;

    // The stored one handed over again, between two new ones, and a new one twice.
    let (a, b) = (
        reading(s, serde_json::json!({"watts": 2})),
        reading(s, serde_json::json!({"watts": 3})),
    );
    let answers = ingest::ingest_deliveries(
        s,
        &p.device,
        &[
            message(&a, 11),
            message(&early, 10),
            message(&b, 12),
            message(&b, 12),
        ],
    )
    .await;
    stored(&answers[0], "a new message before the duplicate");
    stored(&answers[2], "a new message after the duplicate");
    for i in [1, 3] {
        assert!(
            matches!(
                &answers[i],
                Err(ServiceError::Store(privet_store::Error::Conflict {
                    entity: "delivery",
                    ..
                }))
            ),
            "message {i} is a duplicate: {:?}",
            answers[i]
        );
    }
    let after = blocks(s).await;
    assert_eq!(
        after.1 - before.1,
        2,
        "the two new readings are stored, once each"
    );
}
