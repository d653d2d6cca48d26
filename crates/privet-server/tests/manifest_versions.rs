//! Published manifest versions through the one publishing path, on real SQLite: a version is
//! published with one text only — also against texts published before versions were recorded
//! — an edit without a new version stops `serve` naming the file, and `POST /v1/products` and
//! `GET /v1/products/{id}/versions` answer through the real router.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use privet_manifest::LintContext;
use privet_server::service::error::{Conflict, ServiceError};
use privet_server::service::manifests::{self, ManifestsError};
use privet_server::service::publish::{Publication, publish_one};
use privet_server::service::{api_keys, versions};
use privet_server::{AppState, Config};
use privet_store::{Role, StoredManifest};
use serde_json::Value;
use tower::ServiceExt;

const PLUG: &str = "acme-plug";

/// A state over fresh SQLite with the fixture products published as `serve` publishes them.
async fn published_state(dir: &std::path::Path) -> AppState {
    let clock = common::clock();
    let cx = LintContext {
        today: clock.today_utc(),
    };
    let parts = common::parts(dir, common::fixture_products(&clock), clock.clone());
    let chain = privet_server::service::instance_secrets::audit_chain(
        parts.store.as_ref(),
        parts.keyring.as_ref(),
        &parts.epochs,
        &parts.root,
    )
    .await
    .unwrap();
    let products = manifests::publish(
        parts.store.as_ref(),
        parts.keyring.as_ref(),
        &chain,
        &parts.products,
        &cx,
        "serve",
        clock.now(),
    )
    .await
    .unwrap();
    AppState::new(
        Config::default(),
        privet_server::Parts { products, ..parts },
    )
}

fn plug_text(state: &AppState) -> String {
    state.products().source(PLUG).unwrap().text.clone()
}

fn cx(state: &AppState) -> LintContext {
    LintContext {
        today: state.clock().today_utc(),
    }
}

#[tokio::test]
async fn an_edit_without_a_new_version_stops_serve_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let state = published_state(dir.path()).await;
    let edited = format!("{}\n# edited, version not changed\n", plug_text(&state));
    let sources = vec![("manifests/plug.toml".into(), edited)];
    let (local, _) = privet_server::Products::from_sources(sources, &cx(&state)).unwrap();
    let err = manifests::publish(
        state.store().as_ref(),
        state.keys().keyring().as_ref(),
        state.audit_chain().await.unwrap(),
        &local,
        &cx(&state),
        "serve",
        state.clock().now(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&err, ManifestsError::VersionTaken { product, version, .. } if product == PLUG && version == "1"),
        "{err:?}"
    );
    let said = err.to_string();
    assert!(
        said.contains("manifests/plug.toml") && said.contains("version 1"),
        "{said}"
    );
    assert_eq!(
        state.store().manifest_versions(PLUG).await.unwrap().len(),
        1,
        "nothing published"
    );
}

#[tokio::test]
async fn a_version_published_before_versions_were_recorded_is_taken_too() {
    let dir = tempfile::tempdir().unwrap();
    let clock = common::clock();
    let parts = common::parts(dir.path(), common::fixture_products(&clock), clock.clone());
    let state = AppState::new(Config::default(), parts);
    let v1 = plug_text(&state);
    // As migration 0007 leaves a text published before it: no version, no publisher.
    state
        .store()
        .publish_manifest(StoredManifest {
            product: PLUG.to_owned(),
            version: String::new(),
            source: v1.clone(),
            digest: privet_crypto::sha256_hex(v1.as_bytes()),
            published_at: clock.now(),
            published_by: String::new(),
        })
        .await
        .unwrap();
    let publish = |text: String| {
        let state = state.clone();
        async move {
            publish_one(
                state.store().as_ref(),
                state.keys().keyring().as_ref(),
                state.audit_chain().await.unwrap(),
                &text,
                "cli",
                &cx(&state),
                state.clock().now(),
            )
            .await
        }
    };
    let again = publish(v1.clone()).await.unwrap();
    assert!(
        matches!(&again, Publication::AlreadyPublished(m) if m.version == "1"),
        "the same text is already published, its version read from it: {again:?}"
    );
    let err = publish(format!("{v1}\n# edited\n")).await.unwrap_err();
    assert!(
        matches!(&err, ServiceError::Conflict(Conflict::VersionTaken { version, .. }) if version == "1"),
        "{err:?}"
    );
    let v2 = v1.replacen("version = \"1\"", "version = \"2\"", 1);
    assert!(matches!(publish(v2).await.unwrap(), Publication::New(_)));
    let listed: Vec<(String, bool, String)> = versions::of_product(&state, PLUG)
        .await
        .unwrap()
        .into_iter()
        .map(|v| (v.manifest.version, v.current, v.manifest.published_by))
        .collect();
    assert_eq!(
        listed,
        [
            ("2".to_owned(), true, "cli".to_owned()),
            ("1".to_owned(), false, String::new())
        ]
    );
}

/// `(status, JSON body)` of a request through the real router.
async fn call(state: &AppState, req: Request<Body>) -> (StatusCode, Value) {
    let resp = privet_server::routes::router(state.clone())
        .oneshot(req)
        .await
        .unwrap();
    let status = resp.status();
    let body = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

fn post(token: &str, content_type: &str, body: String) -> Request<Body> {
    Request::post("/v1/products")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body))
        .unwrap()
}

#[tokio::test]
async fn post_publishes_and_the_versions_list_follows() {
    let dir = tempfile::tempdir().unwrap();
    let state = published_state(dir.path()).await;
    let key = |role| {
        let state = state.clone();
        async move {
            let (_, secret) = api_keys::create(
                state.store().as_ref(),
                state.keys().keyring().as_ref(),
                state.audit_chain().await.unwrap(),
                state.clock().now(),
                "test",
                role,
                Vec::new(),
                String::new(),
            )
            .await
            .unwrap();
            secret.expose().to_owned()
        }
    };
    let admin = key(Role::Admin).await;
    let v2 = plug_text(&state).replacen("version = \"1\"", "version = \"2\"", 1);

    let (status, body) = call(&state, post(&admin, "text/markdown", v2.clone())).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{body}");
    let (status, body) = call(&state, post(&admin, "application/toml", v2.clone())).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        (body["product"].as_str(), body["version"].as_str()),
        (Some(PLUG), Some("2"))
    );
    assert!(
        body["published_by"].as_str().unwrap().starts_with("key:"),
        "{body}"
    );
    assert_eq!(
        state.products().get(PLUG).unwrap().product.version(),
        "2",
        "served here as soon as it is published"
    );
    let (status, again) = call(
        &state,
        post(&admin, "text/plain; charset=utf-8", v2.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["published_at"], body["published_at"]);

    let (status, body) = call(
        &state,
        post(&admin, "application/toml", format!("{v2}\n# edited\n")),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["type"].as_str().unwrap().ends_with("/version-taken"),
        "{body}"
    );
    let broken = plug_text(&state)
        .replacen("version = \"2\"", "version = \"3\"", 1)
        .replacen("retention = \"", "retention = \"forever", 1);
    let (status, body) = call(&state, post(&admin, "application/toml", broken)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let findings = body["findings"].as_array().unwrap();
    assert!(
        !findings.is_empty() && findings.iter().all(|f| f["line"].as_u64() > Some(0)),
        "{body}"
    );
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains(findings[0]["code"].as_str().unwrap())
    );
    let (status, body) = call(
        &state,
        post(&admin, "application/toml", "id = [".to_owned()),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let support = key(Role::Support).await;
    let v3 = plug_text(&state).replacen("version = \"2\"", "version = \"3\"", 1);
    let (status, _) = call(&state, post(&support, "application/toml", v3.clone())).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = call(&state, post("pvk_not-a-key", "application/toml", v3)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let audited = state.store().audit(None, 100).await.unwrap();
    let published: Vec<_> = audited
        .iter()
        .filter(|e| e.entry.action == "manifest.publish")
        .map(|e| {
            (
                e.entry.actor.as_str(),
                e.entry.detail["version"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        published.len(),
        3,
        "two at start, one by the key: {published:?}"
    );
    assert!(published[2].0.starts_with("key:") && published[2].1 == "2");

    let req = Request::get(format!("/v1/products/{PLUG}/versions"))
        .body(Body::empty())
        .unwrap();
    let (status, listed) = call(&state, req).await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    let rows: Vec<(&str, bool)> = listed["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["version"].as_str().unwrap(),
                v["current"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(rows, [("2", true), ("1", false)]);
    let req = Request::get("/v1/products/no-such-product/versions")
        .body(Body::empty())
        .unwrap();
    assert_eq!(call(&state, req).await.0, StatusCode::NOT_FOUND);
}

/// `(status, body, location)` of a page through the real router.
async fn page(state: &AppState, path: &str) -> (StatusCode, String, String) {
    let req = Request::get(path).body(Body::empty()).unwrap();
    let resp = privet_server::routes::router(state.clone())
        .oneshot(req)
        .await
        .unwrap();
    let status = resp.status();
    let location = resp
        .headers()
        .get(header::LOCATION)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = axum::body::to_bytes(resp.into_body(), 1 << 22)
        .await
        .unwrap();
    (status, String::from_utf8(body.to_vec()).unwrap(), location)
}

#[tokio::test]
async fn the_public_notice_history_lists_each_version_and_shows_its_notice() {
    let dir = tempfile::tempdir().unwrap();
    let state = published_state(dir.path()).await;
    let v1 = plug_text(&state);
    let v2 = v1
        .replacen("version = \"1\"", "version = \"2 beta/1\"", 1)
        .replacen("name = \"Acme plug\"", "name = \"Acme plug II\"", 1);
    assert_ne!(v1, v2);
    privet_server::service::publish::publish(&state, &v2, "key:k")
        .await
        .unwrap();

    let (status, list, _) = page(&state, &format!("/products/{PLUG}/versions")).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let newer = list.find("Version 2 beta/1").unwrap();
    let older = list.find("Version 1</a>").unwrap();
    assert!(newer < older, "newest first: {list}");
    assert!(list.contains(&format!("href=\"/products/{PLUG}/versions/1\"")));
    assert!(!list.contains("key:k"), "who published is for the console");

    let (status, notice, _) = page(&state, &format!("/products/{PLUG}/versions/1")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(notice.contains("This is an earlier privacy notice: manifest version 1"));
    assert!(
        notice.contains("<h1>Acme plug</h1>"),
        "the notice as version 1 gave it"
    );
    let (status, _, location) =
        page(&state, &format!("/products/{PLUG}/versions/2%20beta%2F1")).await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "the current version is the product's page"
    );
    assert_eq!(location, format!("/products/{PLUG}"));
    let (status, current, _) = page(&state, &format!("/products/{PLUG}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        current.contains("<h1>Acme plug II</h1>") && !current.contains("earlier privacy notice")
    );
    for missing in [
        format!("/products/{PLUG}/versions/9"),
        "/products/no-such-product/versions".to_owned(),
        "/products/no-such-product/versions/1".to_owned(),
    ] {
        assert_eq!(
            page(&state, &missing).await.0,
            StatusCode::NOT_FOUND,
            "{missing}"
        );
    }
}
