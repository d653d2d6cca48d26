//! Two instances on one schema: jobs go to one taker each, changes announced on one reach the
//! other (and a listener that lost its connection says everything may have changed), and the
//! audit chain stays one chain.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use futures::StreamExt;
use jiff::Timestamp;
use privet_policy::ChainVerifier;
use privet_store::{AuditVerdict, Change, ChangeStream, NewAuditEntry, NewJob, Store, SubjectId};
use privet_store_postgres::open;
use std::collections::BTreeMap;
use std::time::Duration;

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

/// The next change on `stream`, failing after a few seconds.
async fn next(stream: &mut ChangeStream) -> Change {
    tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .expect("a change within 10 s")
        .expect("the stream goes on")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_job_is_taken_by_exactly_one_of_many_takers() {
    let Some(url) = common::url() else { return };
    common::with_fresh(&url, |opts| async move {
        let (a, _ka) = open(&opts).await.unwrap();
        let (b, _kb) = open(&opts).await.unwrap();
        for i in 0..30 {
            let job = NewJob {
                kind: "purge-subject".into(),
                arg: format!("s{i}"),
                due: at("2026-01-01T00:00:00Z"),
            };
            assert!(a.enqueue_job(job.clone()).await.unwrap());
            assert!(!b.enqueue_job(job).await.unwrap(), "queued once");
        }
        let now = at("2026-01-02T00:00:00Z");
        let lease = at("2026-01-02T00:05:00Z");
        let takers = (0..12).map(|i| {
            let store = if i % 2 == 0 { a.clone() } else { b.clone() };
            async move {
                let mut got = Vec::new();
                while let Some(job) = store
                    .take_job(&["purge-subject"], now, lease)
                    .await
                    .unwrap()
                {
                    got.push(job.id);
                }
                got
            }
        });
        let mut taken: BTreeMap<i64, usize> = BTreeMap::new();
        for ids in futures::future::join_all(takers).await {
            for id in ids {
                *taken.entry(id).or_default() += 1;
            }
        }
        assert_eq!(taken.len(), 30, "every job taken");
        assert!(
            taken.values().all(|&n| n == 1),
            "each by one taker: {taken:?}"
        );
        assert!(b.jobs().await.unwrap().iter().all(|j| j.attempts == 1));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_announced_on_one_instance_reaches_the_other() {
    let Some(url) = common::url() else { return };
    common::with_fresh(&url, |opts| async move {
        let (a, _ka) = open(&opts).await.unwrap();
        let (b, _kb) = open(&opts).await.unwrap();
        let mut on_b = b.changes().await.unwrap();
        let mut on_a = a.changes().await.unwrap();
        let h1 = Change::Household(SubjectId::new("h1"));
        a.announce(h1.clone()).await.unwrap();
        a.announce(Change::Manifests).await.unwrap();
        assert_eq!(next(&mut on_b).await, h1);
        assert_eq!(next(&mut on_b).await, Change::Manifests);
        assert_eq!(next(&mut on_a).await, h1, "the announcer hears itself too");

        // Another schema's store hears nothing of this one.
        common::with_fresh(&opts.url, |other| async move {
            let (c, _kc) = open(&other).await.unwrap();
            let mut on_c = c.changes().await.unwrap();
            a.announce(Change::Manifests).await.unwrap();
            c.announce(Change::Everything).await.unwrap();
            assert_eq!(next(&mut on_c).await, Change::Everything);
            assert_eq!(next(&mut on_b).await, Change::Manifests);
        })
        .await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listener_that_lost_its_connection_says_everything_may_have_changed() {
    let Some(url) = common::url() else { return };
    common::with_fresh(&url, |opts| async move {
        let (a, _ka) = open(&opts).await.unwrap();
        let mut changes = a.changes().await.unwrap();
        let admin = common::admin(&opts.url).await;
        let killed: i64 = admin
            .query_one(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                 WHERE application_name = $1",
                &[&format!("privet-listen-{}", opts.schema)],
            )
            .await
            .unwrap()
            .get(0);
        assert_eq!(killed, 1, "the listener has its own connection");
        assert_eq!(next(&mut changes).await, Change::Everything);
        a.announce(Change::Manifests).await.unwrap();
        assert_eq!(
            next(&mut changes).await,
            Change::Manifests,
            "listening again"
        );

        drop(changes);
        // The dropped stream's connection closes.
        let mut open_listeners = 1;
        for _ in 0..50 {
            open_listeners = admin
                .query_one(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1",
                    &[&format!("privet-listen-{}", opts.schema)],
                )
                .await
                .unwrap()
                .get::<_, i64>(0);
            if open_listeners == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(open_listeners, 0);
    })
    .await;
}

/// The chain both instances link with (one key, as instances sharing a keyring have).
fn chain() -> privet_policy::AuditChain {
    privet_policy::AuditChain::new(privet_crypto::AuditKey::new(&[6; 32]), 1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_chain_stays_one_chain_across_instances() {
    let Some(url) = common::url() else { return };
    common::with_fresh(&url, |opts| async move {
        let (a, _ka) = open(&opts).await.unwrap();
        let (b, _kb) = open(&opts).await.unwrap();
        let appends = (0..40).map(|i| {
            let store = if i % 2 == 0 { a.clone() } else { b.clone() };
            async move {
                store
                    .append_audit(
                        NewAuditEntry {
                            at: at("2026-05-01T10:00:00Z"),
                            actor: format!("account:acc{}", i % 3),
                            action: "events.read".into(),
                            purpose: None,
                            subjects: vec![common::pseudonym(&format!("m{i}"))],
                            count: i,
                            detail: serde_json::json!({}),
                        },
                        &chain(),
                    )
                    .await
                    .unwrap()
            }
        });
        let entries = futures::future::join_all(appends).await;
        let mut seqs: Vec<i64> = entries.iter().map(|e| e.seq).collect();
        seqs.sort_unstable();
        assert_eq!(seqs, (1..=40).collect::<Vec<_>>());

        let mut v = ChainVerifier::new(chain(), None);
        for row in a.audit_rows(1, 1000).await.unwrap() {
            assert!(v.push(&row));
        }
        assert_eq!(
            v.finish(),
            AuditVerdict {
                entries: 40,
                first_broken: None
            }
        );
        assert_eq!(
            b.audit_by_actor("account:acc1", 100).await.unwrap().len(),
            13
        );
        let m7 = a.audit_for(&common::pseudonym("m7")).await.unwrap();
        assert_eq!(m7.len(), 1);
        assert_eq!(m7[0].entry.count, 7);
    })
    .await;
}
