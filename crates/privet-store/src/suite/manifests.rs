//! Manifests published to the store: a text is published once per product, never again (not
//! even after a newer one: going back would roll every instance back), and every instance
//! reads the newest of each product.

use super::fixtures::at;
use crate::{Store, StoredManifest};
use privet_crypto::sha256_hex;

fn manifest(product: &str, source: &str, t: &str) -> StoredManifest {
    StoredManifest {
        product: product.into(),
        source: source.into(),
        digest: sha256_hex(source.as_bytes()),
        published_at: at(t),
    }
}

/// `(product, source, published_at)` of the newest manifests, as listed.
async fn newest(store: &dyn Store) -> Vec<(String, String, String)> {
    store
        .manifests()
        .await
        .unwrap()
        .into_iter()
        .map(|m| {
            assert_eq!(m.digest, sha256_hex(m.source.as_bytes()), "{}", m.product);
            (m.product, m.source, m.published_at.to_string())
        })
        .collect()
}

fn row(product: &str, source: &str, t: &str) -> (String, String, String) {
    (product.into(), source.into(), at(t).to_string())
}

pub(super) async fn manifests(store: &dyn Store) {
    let thermo = "acme-thermostat-2";
    let (v1, v2) = ("[product]\nversion = 1\n", "[product]\nversion = 2\n");
    assert!(store.manifests().await.unwrap().is_empty());

    assert!(
        store
            .publish_manifest(manifest("tidy-plug", "plug = 1", "2026-07-01T09:00:00Z"))
            .await
            .unwrap()
    );
    assert!(
        store
            .publish_manifest(manifest(thermo, v1, "2026-07-01T10:00:00Z"))
            .await
            .unwrap()
    );
    assert!(
        !store
            .publish_manifest(manifest(thermo, v1, "2026-07-01T11:00:00Z"))
            .await
            .unwrap(),
        "the same text again is not new"
    );
    assert!(
        store
            .publish_manifest(manifest("acme-hub", "hub = 1", "2026-07-01T12:00:00Z"))
            .await
            .unwrap()
    );
    assert_eq!(
        newest(store).await,
        vec![
            row("acme-hub", "hub = 1", "2026-07-01T12:00:00Z"),
            row(thermo, v1, "2026-07-01T10:00:00Z"),
            row("tidy-plug", "plug = 1", "2026-07-01T09:00:00Z"),
        ],
        "one per product, by product id; a repeat publication changes nothing"
    );

    assert!(
        store
            .publish_manifest(manifest(thermo, v2, "2026-07-02T10:00:00Z"))
            .await
            .unwrap(),
        "a new text is new"
    );
    assert_eq!(
        newest(store).await[1],
        row(thermo, v2, "2026-07-02T10:00:00Z"),
        "only the newest of a product is listed"
    );
    assert_eq!(newest(store).await.len(), 3);
    assert!(
        !store
            .publish_manifest(manifest(thermo, v1, "2026-07-03T10:00:00Z"))
            .await
            .unwrap(),
        "going back to an older text is not published again (an instance restarted with an \
         older directory does not roll the others back)"
    );
    assert_eq!(
        newest(store).await[1],
        row(thermo, v2, "2026-07-02T10:00:00Z"),
        "the newest stays the newest"
    );
    assert!(
        !store
            .publish_manifest(manifest(thermo, v2, "2026-07-04T10:00:00Z"))
            .await
            .unwrap(),
        "nor is the newest"
    );
    assert!(
        store
            .publish_manifest(manifest("tidy-plug", v1, "2026-07-04T10:00:00Z"))
            .await
            .unwrap(),
        "a text is the newest of one product only"
    );

    // Instances starting together publish one text once.
    let v3 = "[product]\nversion = 3\n";
    let racing = futures::future::join_all(
        (0..4).map(|_| store.publish_manifest(manifest(thermo, v3, "2026-07-05T10:00:00Z"))),
    )
    .await;
    let won = racing.into_iter().filter(|r| *r.as_ref().unwrap()).count();
    assert_eq!(won, 1, "of concurrent publications of one text one is new");
    assert_eq!(
        newest(store).await,
        vec![
            row("acme-hub", "hub = 1", "2026-07-01T12:00:00Z"),
            row(thermo, v3, "2026-07-05T10:00:00Z"),
            row("tidy-plug", v1, "2026-07-04T10:00:00Z"),
        ]
    );
    let racing = futures::future::join_all(
        (0..4).map(|_| store.publish_manifest(manifest(thermo, v2, "2026-07-06T10:00:00Z"))),
    )
    .await;
    assert!(
        racing.into_iter().all(|r| !r.unwrap()),
        "an older text is refused by every racer"
    );
    assert_eq!(
        newest(store).await[1],
        row(thermo, v3, "2026-07-05T10:00:00Z")
    );
}
