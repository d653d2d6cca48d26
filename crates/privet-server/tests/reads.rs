//! Purpose-bound reads across products: consents and objections are per product, so a read
//! for a purpose several products declare returns each product's data only where that
//! product's consent is given.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use privet_policy::BodyFormat;
use privet_server::access::ReadPurpose;
use privet_server::service::consent::{self, ConsentChange};
use privet_server::service::reads::{self, EventQuery, ReadItem};
use privet_server::service::{devices, ingest, subjects};
use privet_server::{AppState, Config};
use privet_store::ApiKeyId;

async fn read(state: &AppState, purpose: &str) -> Vec<String> {
    let cap = ReadPurpose {
        actor: "key:test".to_owned(),
        key: ApiKeyId::new("test"),
        purpose: purpose.to_owned(),
    };
    let mut rx = reads::start(state, cap, EventQuery::default())
        .await
        .unwrap();
    let mut products = Vec::new();
    while let Some(item) = rx.recv().await {
        match item {
            ReadItem::Record(r) => products.push(r.product),
            ReadItem::Failed(e) => panic!("read failed: {e}"),
            ReadItem::Done(_) => break,
        }
    }
    products
}

#[tokio::test]
async fn consent_for_one_product_opens_only_that_products_data_to_a_shared_purpose() {
    let dir = tempfile::tempdir().unwrap();
    let clock = common::clock();
    let parts = common::parts(dir.path(), common::fixture_products(&clock), clock);
    let state = AppState::new(Config::default(), parts);
    let home = subjects::create_household(&state, "Test House", "system")
        .await
        .unwrap();
    let ts = state.clock().now().to_string();
    for product in ["acme-lamp", "acme-plug"] {
        let reg = devices::register(&state, product, Some(&home), None, "system")
            .await
            .unwrap();
        let device = state.store().device(&reg.id).await.unwrap();
        let body = serde_json::json!([{"stream": "power", "ts": ts, "data": {"watts": 7}}]);
        let out = ingest::ingest(
            &state,
            &device,
            body.to_string().as_bytes(),
            BodyFormat::Json,
        )
        .await
        .unwrap();
        assert_eq!(out.accepted, 1);
    }
    assert_eq!(read(&state, "keep_working").await.len(), 2, "contract data");
    assert!(
        read(&state, "usage_insights").await.is_empty(),
        "off until granted"
    );

    // The plug's insights are switched on; the lamp's stay off (the lamp sorts first, so a
    // visibility decided once per subject would hide the plug's data too).
    let household = state.store().subject(&home).await.unwrap();
    consent::decide(
        &state,
        &household,
        ConsentChange {
            purpose: "usage_insights",
            granted: true,
            product: Some("acme-plug"),
            actor: "system",
            channel: "api",
        },
    )
    .await
    .unwrap();
    assert_eq!(read(&state, "usage_insights").await, ["acme-plug"]);

    // Granted for every product, then withdrawn for the plug: only the lamp's is read.
    for (product, granted) in [(None, true), (Some("acme-plug"), false)] {
        consent::decide(
            &state,
            &household,
            ConsentChange {
                purpose: "usage_insights",
                granted,
                product,
                actor: "system",
                channel: "api",
            },
        )
        .await
        .unwrap();
    }
    assert_eq!(read(&state, "usage_insights").await, ["acme-lamp"]);
}
