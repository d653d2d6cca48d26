//! What several instances sharing a store rely on, shown on one instance over SQLite: manifests
//! published before its change listener subscribed are served once it does; an older local
//! manifest does not replace a newer published one; background jobs of kinds this instance
//! does not run are left pending for one that does.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use privet_manifest::LintContext;
use privet_server::service::{jobs, manifests};
use privet_server::{AppState, Config, Server};
use privet_store::{NewJob, Published, StoredManifest};
use std::time::Duration;

const PLUG: &str = "acme-plug";

/// The plug's text as the fixture has it (version 1), and a later version of it.
fn plug_texts(state: &AppState) -> (String, String) {
    let v1 = state.products().source(PLUG).unwrap().text.clone();
    let v2 = v1.replacen("version = \"1\"", "version = \"2\"", 1);
    assert_ne!(v1, v2);
    (v1, v2)
}

fn published(text: &str, at: jiff::Timestamp) -> StoredManifest {
    StoredManifest {
        product: PLUG.to_owned(),
        version: "2".to_owned(),
        source: text.to_owned(),
        digest: privet_crypto::sha256_hex(text.as_bytes()),
        published_at: at,
        published_by: "key:other-instance".to_owned(),
    }
}

#[tokio::test]
async fn manifests_published_before_the_listener_subscribed_are_served_once_it_has() {
    let dir = tempfile::tempdir().unwrap();
    let clock = common::clock();
    let cx = LintContext {
        today: clock.today_utc(),
    };
    let parts = common::parts(dir.path(), common::fixture_products(&clock), clock.clone());
    let store = parts.store.clone();
    // This instance publishes and loads its manifests, as `privet serve` does before serving.
    let chain = privet_server::service::instance_secrets::audit_chain(
        store.as_ref(),
        parts.keyring.as_ref(),
        &parts.epochs,
        &parts.root,
    )
    .await
    .unwrap();
    let products = manifests::publish(
        store.as_ref(),
        parts.keyring.as_ref(),
        &chain,
        &parts.products,
        &cx,
        "serve",
        clock.now(),
    )
    .await
    .unwrap();
    let parts = privet_server::Parts { products, ..parts };
    let config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        ..Config::default()
    };
    let server = Server::bind(config, parts).await.unwrap();
    let state = server.state().clone();
    // Another instance publishes a newer text before this one's listener has subscribed: the
    // announcement is heard by nobody here.
    let (_, v2) = plug_texts(&state);
    assert_eq!(
        store
            .publish_manifest(published(&v2, clock.now()))
            .await
            .unwrap(),
        Published::New
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(server.run_until(async {
        let _ = stopped.await;
    }));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while state.products().source(PLUG).map(|s| s.text.as_str()) != Some(v2.as_str()) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the newer manifest is served once the listener subscribes"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = stop.send(());
    serving.await.unwrap().unwrap();
}

#[tokio::test]
async fn an_older_local_manifest_is_not_published_again_and_the_newest_is_served() {
    let dir = tempfile::tempdir().unwrap();
    let clock = common::clock();
    let cx = LintContext {
        today: clock.today_utc(),
    };
    let local = common::fixture_products(&clock);
    let parts = common::parts(dir.path(), local.clone(), clock.clone());
    let state = AppState::new(Config::default(), parts);
    let store = state.store().clone();
    let keyring = state.keys().keyring().as_ref();
    let (v1, v2) = plug_texts(&state);
    let chain = state.audit_chain().await.unwrap();
    manifests::publish(
        store.as_ref(),
        keyring,
        chain,
        &local,
        &cx,
        "serve",
        clock.now(),
    )
    .await
    .unwrap();
    assert_eq!(
        store
            .publish_manifest(published(&v2, clock.now()))
            .await
            .unwrap(),
        Published::New
    );
    // Restarted with the older directory: v1 was published before, so it is not again.
    let served = manifests::publish(
        store.as_ref(),
        keyring,
        chain,
        &local,
        &cx,
        "serve",
        clock.now(),
    )
    .await
    .unwrap();
    assert_eq!(
        served.source(PLUG).map(|s| s.text.as_str()),
        Some(v2.as_str())
    );
    let newest = store.manifests().await.unwrap();
    let plug = newest.iter().find(|m| m.product == PLUG).unwrap();
    assert_eq!(plug.source, v2, "the fleet is not rolled back to {v1:?}");
}

#[tokio::test]
async fn jobs_of_kinds_this_instance_does_not_run_are_left_for_one_that_does() {
    let dir = tempfile::tempdir().unwrap();
    let clock = common::clock();
    let parts = common::parts(dir.path(), common::fixture_products(&clock), clock.clone());
    let state = AppState::new(Config::default(), parts);
    // Queued first, so the oldest due job: a newer release's kind, in a rolling upgrade.
    state
        .store()
        .enqueue_job(NewJob {
            kind: "from-a-newer-release".to_owned(),
            arg: "x".to_owned(),
            due: clock.now(),
        })
        .await
        .unwrap();
    assert!(jobs::queue_retention(&state).await.unwrap());
    assert_eq!(
        jobs::run_due(&state).await.unwrap(),
        1,
        "the retention sweep"
    );
    let all = state.store().jobs().await.unwrap();
    let newer = all
        .iter()
        .find(|j| j.kind == "from-a-newer-release")
        .unwrap();
    assert_eq!(
        (newer.attempts, newer.done_at),
        (0, None),
        "neither taken nor finished: it waits for an instance that runs it"
    );
    assert!(
        all.iter()
            .filter(|j| j.kind == jobs::RETENTION)
            .all(|j| j.done_at.is_some())
    );
}
