//! Manifests published to the store: a text is published once per product, never again (not
//! even after a newer one: going back would roll every instance back); a version is published
//! with one text only; every instance reads the newest of each product, and each product's
//! versions in publish order.

use super::fixtures::at;
use crate::{Published, Store, StoredManifest};
use privet_crypto::sha256_hex;

fn manifest(product: &str, version: &str, source: &str, t: &str) -> StoredManifest {
    StoredManifest {
        product: product.into(),
        version: version.into(),
        source: source.into(),
        digest: sha256_hex(source.as_bytes()),
        published_at: at(t),
        published_by: "key:k1".into(),
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

/// `(version, source)` of a product's versions, as listed.
async fn versions(store: &dyn Store, product: &str) -> Vec<(String, String)> {
    store
        .manifest_versions(product)
        .await
        .unwrap()
        .into_iter()
        .map(|m| {
            assert_eq!(m.product, product);
            (m.version, m.source)
        })
        .collect()
}

fn version(v: &str, source: &str) -> (String, String) {
    (v.into(), source.into())
}

async fn publish(store: &dyn Store, m: StoredManifest) -> Published {
    store.publish_manifest(m).await.unwrap()
}

pub(super) async fn manifests(store: &dyn Store) {
    let thermo = "acme-thermostat-2";
    let (v1, v2) = ("[product]\nversion = 1\n", "[product]\nversion = 2\n");
    assert!(store.manifests().await.unwrap().is_empty());
    assert!(store.manifest_versions(thermo).await.unwrap().is_empty());

    let plug = manifest("tidy-plug", "1", "plug = 1", "2026-07-01T09:00:00Z");
    assert_eq!(publish(store, plug.clone()).await, Published::New);
    let first = manifest(thermo, "1", v1, "2026-07-01T10:00:00Z");
    assert_eq!(publish(store, first.clone()).await, Published::New);
    let mut again = manifest(thermo, "1", v1, "2026-07-01T11:00:00Z");
    again.published_by = "cli".into();
    assert_eq!(
        publish(store, again).await,
        Published::AlreadyPublished(first.clone()),
        "the same text again is not new, and answers with its first publication"
    );
    assert_eq!(
        publish(
            store,
            manifest(thermo, "1", "edited", "2026-07-01T11:30:00Z")
        )
        .await,
        Published::VersionTaken(first.clone()),
        "a published version is never replaced by another text"
    );
    assert_eq!(
        publish(
            store,
            manifest("acme-hub", "1", "hub = 1", "2026-07-01T12:00:00Z")
        )
        .await,
        Published::New,
        "a version string is taken per product"
    );
    assert_eq!(
        newest(store).await,
        vec![
            row("acme-hub", "hub = 1", "2026-07-01T12:00:00Z"),
            row(thermo, v1, "2026-07-01T10:00:00Z"),
            row("tidy-plug", "plug = 1", "2026-07-01T09:00:00Z"),
        ],
        "one per product, by product id; a repeat or refused publication changes nothing"
    );

    assert_eq!(
        publish(store, manifest(thermo, "2", v2, "2026-07-02T10:00:00Z")).await,
        Published::New,
        "a new text with a new version is new"
    );
    assert_eq!(
        newest(store).await[1],
        row(thermo, v2, "2026-07-02T10:00:00Z"),
        "only the newest of a product is listed"
    );
    assert_eq!(newest(store).await.len(), 3);
    assert!(
        matches!(
            publish(store, manifest(thermo, "1", v1, "2026-07-03T10:00:00Z")).await,
            Published::AlreadyPublished(m) if m.published_at == at("2026-07-01T10:00:00Z")
        ),
        "going back to an older text is not published again (an instance restarted with an \
         older directory does not roll the others back)"
    );
    assert_eq!(
        newest(store).await[1],
        row(thermo, v2, "2026-07-02T10:00:00Z"),
        "the newest stays the newest"
    );
    assert!(
        matches!(
            publish(store, manifest(thermo, "2", v2, "2026-07-04T10:00:00Z")).await,
            Published::AlreadyPublished(_)
        ),
        "nor is the newest"
    );
    assert_eq!(
        publish(
            store,
            manifest("tidy-plug", "2", v1, "2026-07-04T10:00:00Z")
        )
        .await,
        Published::New,
        "a text is the newest of one product only"
    );

    // Instances starting together publish one text once.
    let v3 = "[product]\nversion = 3\n";
    let racing = futures::future::join_all(
        (0..4).map(|_| store.publish_manifest(manifest(thermo, "3", v3, "2026-07-05T10:00:00Z"))),
    )
    .await;
    let won = racing
        .into_iter()
        .filter(|r| *r.as_ref().unwrap() == Published::New)
        .count();
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
        (0..4).map(|_| store.publish_manifest(manifest(thermo, "2", v2, "2026-07-06T10:00:00Z"))),
    )
    .await;
    assert!(
        racing
            .into_iter()
            .all(|r| matches!(r.unwrap(), Published::AlreadyPublished(_))),
        "an older text is refused by every racer"
    );
    // Racers publishing one version with different texts: one wins, the others are refused.
    let racing = futures::future::join_all((0..4).map(|i| {
        store.publish_manifest(manifest(
            thermo,
            "4",
            &format!("[product]\nversion = 4\n# draft {i}\n"),
            "2026-07-07T10:00:00Z",
        ))
    }))
    .await;
    let outcomes: Vec<Published> = racing.into_iter().map(|r| r.unwrap()).collect();
    let won: Vec<usize> = (0..4).filter(|i| outcomes[*i] == Published::New).collect();
    assert_eq!(won.len(), 1, "{outcomes:?}");
    let winner = format!("[product]\nversion = 4\n# draft {}\n", won[0]);
    assert!(
        outcomes.iter().all(|o| match o {
            Published::New => true,
            Published::VersionTaken(m) => m.source == winner,
            Published::AlreadyPublished(_) => false,
        }),
        "{outcomes:?}"
    );

    assert_eq!(
        versions(store, thermo).await,
        vec![
            version("1", v1),
            version("2", v2),
            version("3", v3),
            version("4", &winner),
        ],
        "every version of the product, oldest first; refused texts are not among them"
    );
    assert_eq!(
        versions(store, "tidy-plug").await,
        vec![version("1", "plug = 1"), version("2", v1)],
        "products are kept apart"
    );
    let listed = store.manifest_versions("tidy-plug").await.unwrap();
    assert_eq!(listed[0], plug, "a version reads back as published");
    assert!(store.manifest_versions("unknown").await.unwrap().is_empty());

    // Texts published before versions were recorded have none; nothing is checked against
    // them here (the server reads their version from the text).
    for text in ["old = 1", "old = 2"] {
        let mut m = manifest("old-lamp", "", text, "2026-07-08T10:00:00Z");
        m.published_by = String::new();
        assert_eq!(publish(store, m).await, Published::New);
    }
    assert_eq!(
        versions(store, "old-lamp").await,
        vec![version("", "old = 1"), version("", "old = 2")]
    );
}
