//! Scans and the pool: a scan holds a pooled connection until its reader drains it, and a
//! reader calls the store again for what it meets, so more concurrent scans than the pool has
//! connections must still all complete (scans take at most half the pool); a stream dropped
//! half-read gives its slot back.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{block, pseudonym, window};
use futures::StreamExt;
use privet_store::{BlockQuery, Store};
use privet_store_postgres::open;
use std::time::Duration;

/// Subjects with blocks, and blocks per subject: many more blocks than a scan buffers ahead
/// of its reader, so a scan holds its connection while its reader works.
const SUBJECTS: usize = 8;
const PER_SUBJECT: usize = 20;

/// Well inside the pool's 30 s wait: a deadlocked pool fails this, not the pool's timeout.
const ALL_DONE_WITHIN: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_concurrent_scans_than_connections_all_complete_while_their_readers_call_the_store() {
    let Some(url) = common::url() else { return };
    common::with_fresh(&url, |mut opts| async move {
        opts.pool_size = 4;
        let (store, _keyring) = open(&opts).await.unwrap();
        let blocks = (0..SUBJECTS)
            .flat_map(|s| {
                (0..PER_SUBJECT).map(move |i| block(&format!("h{s}"), window(i as i64), 1, 16))
            })
            .collect();
        store.append_blocks(blocks, None).await.unwrap();

        // Four times the pool: each reader asks the store about every block it meets, as the
        // server's reads do (the subject's counts here), while its scan holds a connection.
        let readers = (0..opts.pool_size * 4).map(|_| {
            let store = store.clone();
            async move {
                let mut scan = store.scan_blocks(BlockQuery::default()).await.unwrap();
                let mut seen = 0;
                while let Some(b) = scan.next().await {
                    let b = b.unwrap();
                    let (blocks, _) = store.subject_record_counts(&b.subject).await.unwrap();
                    assert_eq!(blocks, PER_SUBJECT as u64);
                    seen += 1;
                }
                seen
            }
        });
        let seen = tokio::time::timeout(ALL_DONE_WITHIN, futures::future::join_all(readers))
            .await
            .expect("every scan completes: scans leave connections for their readers");
        assert!(
            seen.iter().all(|n| *n == SUBJECTS * PER_SUBJECT),
            "{seen:?}"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_dropped_half_read_gives_its_slot_and_connection_back() {
    let Some(url) = common::url() else { return };
    common::with_fresh(&url, |mut opts| async move {
        opts.pool_size = 2;
        let (store, _keyring) = open(&opts).await.unwrap();
        let blocks = (0..40).map(|i| block("h1", window(i % 3), 1, 16)).collect();
        store.append_blocks(blocks, None).await.unwrap();
        let query = BlockQuery {
            subject: Some(pseudonym("h1")),
            ..BlockQuery::default()
        };
        let rounds = async {
            for _ in 0..6 {
                let mut scan = store.scan_blocks(query.clone()).await.unwrap();
                assert!(scan.next().await.is_some_and(|b| b.is_ok()));
                drop(scan);
            }
            let all = store.scan_blocks(query.clone()).await.unwrap();
            all.collect::<Vec<_>>().await
        };
        let all = tokio::time::timeout(ALL_DONE_WITHIN, rounds)
            .await
            .expect("slots are given back when a stream is dropped");
        assert_eq!(all.len(), 40);
        assert!(all.iter().all(Result::is_ok));
    })
    .await;
}
