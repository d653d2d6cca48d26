//! Two instances on one PostgreSQL schema, in one process: A never hears what B announces (its
//! change listener is not running), so A's cached permissions are stale by construction once
//! B changes a household — the case of a notification still on its way. What B changed must
//! hold for A's batches anyway, because the store refuses a batch admitted under a household
//! version that is no longer current (`privet_store::DeviceSeen::admitted_under`): a
//! withdrawal, a device reset and an erasure on B each leave nothing of A's late batch
//! stored. One rights request completed on both at once runs its action once (claimed in the
//! store), and a purge job whose subject's records are already gone is harmless.
//!
//! Each of these fails without the store-side ordering: A's in-process locks and cache know
//! nothing of B. Needs `PRIVET_TEST_DATABASE_URL`; each test makes and drops its own schemas.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use futures::FutureExt;
use privet_crypto::{InstanceRoot, MasterKey, MasterKeys, SigningKey, os_rng};
use privet_policy::BodyFormat;
use privet_server::service::consent::{self, ConsentChange};
use privet_server::service::error::{Conflict, ServiceError};
use privet_server::service::requests::{self, About, Completion, Delivery};
use privet_server::service::{devices, erasure, ingest, jobs, subjects};
use privet_server::{AppState, Config, Parts};
use privet_store::{BlockQuery, Device, RequestKind, SubjectId};
use privet_store_postgres::{PgOptions, drop_schemas, open};
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

const THERMOSTAT: &str = "wren-thermostat-2";
/// Long enough for a completion to reach the household's lock had it not been refused.
const GRACE: Duration = Duration::from_millis(300);

/// Instance A, instance B, and a household on them: a member and a thermostat (attached to
/// the household, registered on A).
struct Cluster {
    a: AppState,
    b: AppState,
    household: SubjectId,
    member: SubjectId,
    device: Device,
}

/// The test database's URL; `None` (after saying so) when it is unset, unless
/// `PRIVET_REQUIRE_TOOLS=1` makes that a failure.
fn url() -> Option<String> {
    match std::env::var("PRIVET_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("PRIVET_REQUIRE_TOOLS").as_deref() == Ok("1") => {
            panic!("PRIVET_TEST_DATABASE_URL is unset and PRIVET_REQUIRE_TOOLS=1")
        }
        _ => {
            eprintln!("PRIVET_TEST_DATABASE_URL is unset: skipping this PostgreSQL test");
            None
        }
    }
}

/// Runs `test` on two instances over fresh schemas, then drops them whatever happened.
async fn with_cluster<F, Fut>(test: F)
where
    F: FnOnce(Cluster) -> Fut,
    Fut: Future<Output = ()>,
{
    let Some(url) = url() else { return };
    let mut opts = PgOptions::new(url);
    let tag = u64::from_le_bytes(*privet_server::ids::record_id().first_chunk().unwrap());
    opts.schema = format!("privet_test_{tag:016x}");
    opts.keyring_schema = format!("privet_test_{tag:016x}_keys");
    opts.pool_size = 8;
    let outcome = AssertUnwindSafe(async {
        let cluster = cluster(&opts).await;
        test(cluster).await;
    })
    .catch_unwind()
    .await;
    drop_schemas(&opts).await.unwrap();
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// Two instances of one deployment: one database, the same instance root, master keys and
/// signing key, the example manifests — and no change listener on either.
async fn cluster(opts: &PgOptions) -> Cluster {
    let clock = common::clock();
    let root = InstanceRoot::generate(&mut os_rng());
    let epochs = MasterKeys::single(MasterKey::generate(&mut os_rng()));
    let signing = SigningKey::generate(&mut os_rng());
    let instance = || async {
        let (store, keyring) = open(opts).await.unwrap();
        let parts = Parts {
            store: Arc::new(store),
            keyring: Arc::new(keyring),
            root: root.clone(),
            epochs: epochs.clone(),
            signing: signing.clone(),
            products: common::example_products(&clock),
            clock: clock.clone(),
        };
        AppState::new(Config::default(), parts)
    };
    let (a, b) = (instance().await, instance().await);
    let household = subjects::create_household(&a, "Two Instances", "system")
        .await
        .unwrap();
    let member = subjects::create_member(&a, &household, false, "Kim", None, "system")
        .await
        .unwrap();
    let reg = devices::register(&a, THERMOSTAT, Some(&household), None, "system")
        .await
        .unwrap();
    let device = a.store().device(&reg.id).await.unwrap();
    Cluster {
        a,
        b,
        household,
        member,
        device,
    }
}

impl Cluster {
    /// A presence reading of the member: held only for `energy_report`, a consent purpose.
    fn presence(&self) -> Vec<u8> {
        let ts = self.a.clock().now().to_string();
        serde_json::json!([{
            "stream": "presence",
            "ts": ts,
            "member": self.member.as_str(),
            "data": {"home": true},
        }])
        .to_string()
        .into_bytes()
    }

    /// `energy_report` granted or withdrawn for the member, on `on`.
    async fn energy_report(&self, on: &AppState, granted: bool) {
        let member = on.store().subject(&self.member).await.unwrap();
        let change = ConsentChange {
            purpose: "energy_report",
            granted,
            product: Some(THERMOSTAT),
            actor: "test",
            channel: "api",
        };
        consent::decide(on, &member, change).await.unwrap();
    }

    /// A batch from the thermostat (as it signed in before anything here changed) on A.
    async fn ingest_on_a(&self) -> Result<ingest::IngestOutcome, ServiceError> {
        ingest::ingest(&self.a, &self.device, &self.presence(), BodyFormat::Json).await
    }

    /// Presence records of the member, as B reads the store.
    async fn presence_held(&self) -> usize {
        let pseudonym = self.b.pseudonyms().pseudonym(self.member.as_str());
        let mut scan = self
            .b
            .store()
            .scan_blocks(BlockQuery {
                subject: Some(pseudonym),
                streams: vec!["presence".into()],
                ..Default::default()
            })
            .await
            .unwrap();
        let mut n = 0;
        while let Some(b) = futures::StreamExt::next(&mut scan).await {
            n += b.unwrap().count as usize;
        }
        n
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_admitted_under_consent_withdrawn_on_another_instance_keeps_nothing_for_it() {
    with_cluster(|c| async move {
        c.energy_report(&c.b, true).await;
        // A loads (and caches) the household's permissions: consent given.
        assert_eq!(c.ingest_on_a().await.unwrap().accepted, 1);
        assert_eq!(c.presence_held().await, 1);

        // Withdrawn on B, which purges what only that consent justified. A is not told.
        c.energy_report(&c.b, false).await;
        assert_eq!(c.presence_held().await, 0, "B's purge");

        // A admits with its cache (consent given), but the store refuses the commit; A admits
        // again under fresh permissions and keeps nothing for the withdrawn purpose.
        let late = c.ingest_on_a().await.unwrap();
        assert_eq!(late.accepted, 0, "{late:?}");
        assert_eq!(late.dropped.no_consent, 1, "{late:?}");
        assert_eq!(
            c.presence_held().await,
            0,
            "data held only for a withdrawn purpose survived the withdrawal"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_of_a_device_reset_on_another_instance_stores_nothing() {
    with_cluster(|c| async move {
        c.energy_report(&c.a, true).await;
        // A caches the household with the device in it.
        assert_eq!(c.ingest_on_a().await.unwrap().accepted, 1);

        let reset = devices::reset(&c.b, &c.device.id, "test").await.unwrap();
        assert_eq!(reset.records, 1, "the reset deleted what the device sent");

        // The batch signed in with the old token before the reset.
        match c.ingest_on_a().await {
            Err(ServiceError::Conflict(Conflict::DeviceChanged)) => {}
            other => panic!("a batch of a device reset on B: {other:?}"),
        }
        assert_eq!(
            c.b.store()
                .delete_device_blocks(&c.device.id)
                .await
                .unwrap(),
            0,
            "nothing the device sent with its old token is stored after the reset"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_about_a_member_erased_on_another_instance_lands_nowhere() {
    with_cluster(|c| async move {
        c.energy_report(&c.a, true).await;
        // A caches the household and the member's key.
        assert_eq!(c.ingest_on_a().await.unwrap().accepted, 1);
        let pseudonym = c.b.pseudonyms().pseudonym(c.member.as_str());

        erasure::erase(&c.b, &c.member, "test").await.unwrap();
        // The erasure's purge job: as if a first attempt deleted the records and its
        // instance died before finishing the job, which is taken again later.
        c.b.store().delete_subject_blocks(&pseudonym).await.unwrap();
        let late = c.ingest_on_a().await;
        assert!(
            !matches!(&late, Ok(out) if out.accepted > 0),
            "A stored a batch about a member erased on B: {late:?}"
        );
        // The job runs on a subject whose records are already gone: harmless, and done.
        assert_eq!(jobs::run_due(&c.a).await.unwrap(), 1);
        let purge =
            c.a.store()
                .jobs()
                .await
                .unwrap()
                .into_iter()
                .find(|j| j.kind == jobs::PURGE_SUBJECT && j.arg == pseudonym.to_hex())
                .expect("the erasure queued its purge");
        assert!(purge.done_at.is_some());
        assert_eq!(
            c.b.store().subject_record_counts(&pseudonym).await.unwrap(),
            (0, 0),
            "a record of the erased member landed after its purge"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_completed_on_two_instances_at_once_runs_once() {
    with_cluster(|c| async move {
        let request = requests::create(
            &c.a,
            RequestKind::Restriction,
            About::Subject(c.member.clone()),
            None,
            "test",
        )
        .await
        .unwrap();
        // Both instances' households are busy, so neither completion can restrict before
        // the other has started: only the store can tell them apart.
        let (lock_a, lock_b) = (
            c.a.household_lock(&c.household),
            c.b.household_lock(&c.household),
        );
        let (busy_a, busy_b) = (lock_a.write().await, lock_b.write().await);
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
        let on_a = tokio::spawn(complete(c.a.clone(), request.id.clone()));
        let on_b = tokio::spawn(complete(c.b.clone(), request.id.clone()));
        tokio::time::sleep(GRACE).await;
        drop((busy_a, busy_b));
        let answers = [on_a.await.unwrap(), on_b.await.unwrap()];
        assert_eq!(
            answers.iter().filter(|a| a.is_ok()).count(),
            1,
            "{answers:?}"
        );
        assert!(
            answers.iter().any(|a| matches!(
                a,
                Err(ServiceError::Conflict(
                    Conflict::RequestInProgress | Conflict::RequestDone
                ))
            )),
            "{answers:?}"
        );
        let member = c.a.store().subject(&c.member).await.unwrap();
        let restricts =
            c.a.store()
                .audit_for(&member.pseudonym)
                .await
                .unwrap()
                .iter()
                .filter(|e| e.entry.action == "subject.restrict")
                .count();
        assert_eq!(restricts, 1, "the restriction ran once");
        assert!(c.b.store().request(&request.id).await.unwrap().done);
    })
    .await;
}
