//! What orders ingest against household changes across instances, in the database: an append
//! admitted under a household version waits for a change to that household that is in
//! progress (the change holds the household's row) and then fails, writing nothing; appends
//! and device changes made at once on two instances never deadlock.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{block, window};
use jiff::Timestamp;
use privet_crypto::hash_token;
use privet_store::{
    DeviceId, DeviceSeen, Error, HouseholdVersion, NewDevice, NewSubject, Store, SubjectId,
    SubjectKind,
};
use privet_store_postgres::open;
use std::time::Duration;

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn household(id: &str) -> NewSubject {
    NewSubject {
        id: SubjectId::new(id),
        kind: SubjectKind::Household,
        household: None,
        pseudonym: common::pseudonym(id),
        child: false,
        profile: vec![1],
        created_at: at("2026-01-01T00:00:00Z"),
    }
}

fn device(id: &str, household: &str) -> NewDevice {
    NewDevice {
        id: DeviceId::new(id),
        product: "acme-thermostat-2".into(),
        household: Some(SubjectId::new(household)),
        member: None,
        token_hash: hash_token(&format!("token-{id}")),
        claim_hash: None,
        broker_hash: None,
        created_at: at("2026-01-01T00:00:00Z"),
    }
}

fn seen(device: &str, household: &str, version: u64) -> Option<DeviceSeen> {
    Some(DeviceSeen {
        device: DeviceId::new(device),
        at: at("2026-05-01T10:00:00Z"),
        firmware: None,
        deliveries: Vec::new(),
        admitted_under: Some(HouseholdVersion {
            household: SubjectId::new(household),
            version,
        }),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_append_waits_for_a_change_in_progress_then_writes_nothing() {
    let Some(url) = common::url() else { return };
    common::with_fresh(&url, |opts| async move {
        let (store, _keyring) = open(&opts).await.unwrap();
        store.create_subject(household("h1")).await.unwrap();
        store.create_device(device("d1", "h1")).await.unwrap();
        let v = store
            .household_version(&SubjectId::new("h1"))
            .await
            .unwrap();

        // Another instance's change to the household, not yet committed.
        let mut other = common::admin(&opts.url).await;
        let change = other.transaction().await.unwrap();
        change
            .execute(
                &format!(
                    "UPDATE {}.subjects SET version = version + 1 WHERE id = 'h1'",
                    opts.schema
                ),
                &[],
            )
            .await
            .unwrap();

        let b = block("h1", window(1), 1, 16);
        let append = tokio::spawn({
            let store = store.clone();
            let b = b.clone();
            async move { store.append_blocks(vec![b], seen("d1", "h1", v)).await }
        });
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(
            !append.is_finished(),
            "the append did not wait for the change in progress"
        );
        change.commit().await.unwrap();
        let out = append.await.unwrap();
        assert!(
            matches!(
                &out,
                Err(Error::Conflict {
                    entity: "household",
                    ..
                })
            ),
            "{out:?}"
        );
        assert_eq!(
            store.record_counts().await.unwrap(),
            (0, 0),
            "nothing written"
        );

        // Admitted under the version the change left, it commits.
        let v = store
            .household_version(&SubjectId::new("h1"))
            .await
            .unwrap();
        store
            .append_blocks(vec![b], seen("d1", "h1", v))
            .await
            .unwrap();
        assert_eq!(store.record_counts().await.unwrap(), (1, 1));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn appends_and_device_changes_on_two_instances_never_deadlock() {
    let Some(url) = common::url() else { return };
    common::with_fresh(&url, |opts| async move {
        let (a, _ka) = open(&opts).await.unwrap();
        let (b, _kb) = open(&opts).await.unwrap();
        a.create_subject(household("h1")).await.unwrap();
        a.create_subject(household("h2")).await.unwrap();
        for round in 0..50 {
            // Devices of two households; batches of all of them on A while B resets some and
            // changes both households' consents.
            let ids: Vec<String> = (0..4).map(|i| format!("d{round}-{i}")).collect();
            for (i, id) in ids.iter().enumerate() {
                let h = if i % 2 == 0 { "h1" } else { "h2" };
                a.create_device(device(id, h)).await.unwrap();
            }
            let v1 = a.household_version(&SubjectId::new("h1")).await.unwrap();
            let v2 = a.household_version(&SubjectId::new("h2")).await.unwrap();
            let appends = ids.iter().enumerate().map(|(i, id)| {
                let a = a.clone();
                let (h, v) = if i % 2 == 0 { ("h1", v1) } else { ("h2", v2) };
                let id = id.clone();
                async move {
                    a.append_blocks(vec![block(h, window(1), 1, 16)], seen(&id, h, v))
                        .await
                }
            });
            let changes = async {
                let mut out = Vec::new();
                for id in ids.iter().rev().step_by(2) {
                    out.push(
                        b.reset_device(
                            &DeviceId::new(id.as_str()),
                            at("2026-05-01T11:00:00Z"),
                            None,
                            None,
                            None,
                        )
                        .await
                        .map(|_| ()),
                    );
                }
                out
            };
            let (appended, changed) = tokio::join!(futures::future::join_all(appends), changes);
            for r in changed {
                r.unwrap();
            }
            for r in appended {
                // Committed, or refused because its household changed: never a database
                // failure (a deadlock would be one).
                assert!(matches!(&r, Ok(()) | Err(Error::Conflict { .. })), "{r:?}");
            }
        }
    })
    .await;
}
