//! Work on one household is ordered (`service::locks`): a withdrawal, objection, restriction,
//! erasure, device reset or new member waits for the household's ingest batches in flight, a
//! batch waits for them, a batch whose device was reset meanwhile stores nothing, and one
//! rights request completed twice at once runs once.
//!
//! "In flight" is the household's lock held from the test, as a batch holds it from loading
//! permissions to its commit. A wait is seen as a task still running a while after it was
//! started; without the lock each of these finishes in milliseconds.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use privet_policy::BodyFormat;
use privet_server::service::consent::{self, ConsentChange};
use privet_server::service::error::{Conflict, ServiceError};
use privet_server::service::requests::{self, About, Completion, Delivery};
use privet_server::service::{devices, erasure, ingest, objections, subjects};
use privet_server::{AppState, Config};
use privet_store::{Device, RequestKind, SubjectId};
use std::future::Future;
use std::time::Duration;

/// Long enough for any of these operations to finish had it not waited.
const GRACE: Duration = Duration::from_millis(300);

struct Home {
    state: AppState,
    household: SubjectId,
    member: SubjectId,
    device: Device,
    _dir: tempfile::TempDir,
}

async fn home() -> Home {
    let dir = tempfile::tempdir().unwrap();
    let clock = common::clock();
    let parts = common::parts(dir.path(), common::fixture_products(&clock), clock);
    let state = AppState::new(Config::default(), parts);
    let household = subjects::create_household(&state, "Order House", "system")
        .await
        .unwrap();
    let member = subjects::create_member(&state, &household, false, "Kim", None, "system")
        .await
        .unwrap();
    let reg = devices::register(&state, "acme-plug", Some(&household), None, "system")
        .await
        .unwrap();
    let device = state.store().device(&reg.id).await.unwrap();
    Home {
        state,
        household,
        member,
        device,
        _dir: dir,
    }
}

/// Runs `op` while a batch of `home` is in flight, asserts it waits for the batch, and
/// returns what it answers once the batch is done.
async fn waits_for_a_batch<T: Send + 'static>(
    home: &Home,
    what: &str,
    op: impl Future<Output = T> + Send + 'static,
) -> T {
    let lock = home.state.household_lock(&home.household);
    let batch = lock.read().await;
    let task = tokio::spawn(op);
    tokio::time::sleep(GRACE).await;
    assert!(
        !task.is_finished(),
        "{what} did not wait for the batch in flight"
    );
    drop(batch);
    task.await.unwrap()
}

fn one_reading(state: &AppState) -> Vec<u8> {
    let ts = state.clock().now().to_string();
    serde_json::json!([{"stream": "power", "ts": ts, "data": {"watts": 7}}])
        .to_string()
        .into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_change_to_a_household_waits_for_its_batches_in_flight() {
    let h = home().await;
    let member = h.state.store().subject(&h.member).await.unwrap();

    let (st, m) = (h.state.clone(), member.clone());
    waits_for_a_batch(&h, "a withdrawal", async move {
        let change = ConsentChange {
            purpose: "usage_insights",
            granted: false,
            product: Some("acme-plug"),
            actor: "test",
            channel: "api",
        };
        consent::decide(&st, &m, change).await.unwrap();
    })
    .await;

    let (st, m) = (h.state.clone(), member.clone());
    waits_for_a_batch(&h, "an objection", async move {
        objections::object(&st, &m, &[], "test").await.unwrap();
    })
    .await;

    let (st, m) = (h.state.clone(), member.clone());
    waits_for_a_batch(&h, "a restriction", async move {
        subjects::restrict(&st, &m, true, "test").await.unwrap();
    })
    .await;

    let (st, hh) = (h.state.clone(), h.household.clone());
    let joined = waits_for_a_batch(&h, "a new member", async move {
        subjects::create_member(&st, &hh, false, "Lou", None, "test")
            .await
            .unwrap()
    })
    .await;

    let (st, id) = (h.state.clone(), h.device.id.clone());
    waits_for_a_batch(&h, "a device reset", async move {
        devices::reset(&st, &id, "test").await.unwrap();
    })
    .await;

    let st = h.state.clone();
    let receipt = waits_for_a_batch(&h, "an erasure", async move {
        erasure::erase(&st, &joined, "test").await.unwrap()
    })
    .await;
    assert_eq!(receipt.counts.subjects, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_waits_for_a_change_and_stores_nothing_once_its_device_was_reset() {
    let h = home().await;

    // A change in progress: the batch waits for it, then lands.
    let lock = h.state.household_lock(&h.household);
    let change = lock.write().await;
    let (st, device, body) = (h.state.clone(), h.device.clone(), one_reading(&h.state));
    let batch =
        tokio::spawn(async move { ingest::ingest(&st, &device, &body, BodyFormat::Json).await });
    tokio::time::sleep(GRACE).await;
    assert!(
        !batch.is_finished(),
        "the batch did not wait for the change"
    );
    drop(change);
    assert_eq!(batch.await.unwrap().unwrap().accepted, 1);

    // The device is reset after its batch signed in (the device as read then) and before the
    // batch got the lock: the batch is refused and stores nothing.
    let signed_in = h.device.clone();
    let reset = devices::reset(&h.state, &h.device.id, "test")
        .await
        .unwrap();
    assert_eq!(
        reset.records, 1,
        "the first batch's block went with the reset"
    );
    let late = ingest::ingest(
        &h.state,
        &signed_in,
        &one_reading(&h.state),
        BodyFormat::Json,
    )
    .await;
    match late {
        Err(ServiceError::Conflict(Conflict::DeviceChanged)) => {}
        other => panic!("a batch landed after its device was reset: {other:?}"),
    }
    assert_eq!(
        h.state
            .store()
            .delete_device_blocks(&h.device.id)
            .await
            .unwrap(),
        0,
        "nothing of the device is stored"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_completed_twice_at_once_runs_once() {
    let h = home().await;
    let request = requests::create(
        &h.state,
        RequestKind::Restriction,
        About::Subject(h.member.clone()),
        None,
        "test",
    )
    .await
    .unwrap();
    // Both completions start while the household is busy, so both are past their first
    // reads before either can restrict.
    let lock = h.state.household_lock(&h.household);
    let busy = lock.write().await;
    let complete = |state: AppState, id: String| async move {
        requests::complete(
            &state,
            &id,
            Completion::default(),
            Delivery::ThisAnswer,
            "test",
        )
        .await
    };
    let first = tokio::spawn(complete(h.state.clone(), request.id.clone()));
    let second = tokio::spawn(complete(h.state.clone(), request.id.clone()));
    tokio::time::sleep(GRACE).await;
    drop(busy);
    let answers = [first.await.unwrap(), second.await.unwrap()];
    assert_eq!(answers.iter().filter(|a| a.is_ok()).count(), 1);
    assert!(
        answers
            .iter()
            .any(|a| matches!(a, Err(ServiceError::Conflict(Conflict::RequestDone)))),
        "the second finds it done"
    );
    let member = h.state.store().subject(&h.member).await.unwrap();
    let restricts = h
        .state
        .store()
        .audit_for(&member.pseudonym)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.entry.action == "subject.restrict")
        .count();
    assert_eq!(restricts, 1, "the restriction ran once");
}
