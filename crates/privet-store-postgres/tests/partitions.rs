//! Chunks are partitions: created on demand (once, though instances race), dropped whole, and
//! a drop held off by a running scan finished by a later sweep.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{block, window};
use futures::StreamExt;
use privet_store::{BlockQuery, ChunkId, NewBlock, RetentionReport, Store};
use privet_store_postgres::open;

/// The partitions of `schema.blocks`, by name.
async fn partitions(c: &tokio_postgres::Client, schema: &str) -> Vec<String> {
    c.query(
        "SELECT p.relname::text FROM pg_inherits i
         JOIN pg_class p ON p.oid = i.inhrelid
         JOIN pg_class b ON b.oid = i.inhparent
         JOIN pg_namespace n ON n.oid = b.relnamespace
         WHERE n.nspname = $1 AND b.relname = 'blocks'
         ORDER BY 1",
        &[&schema],
    )
    .await
    .unwrap()
    .iter()
    .map(|r| r.get(0))
    .collect()
}

/// Whether a table of that name exists in `schema`.
async fn table_exists(c: &tokio_postgres::Client, schema: &str, name: &str) -> bool {
    c.query_one(
        "SELECT EXISTS (SELECT 1 FROM pg_class t JOIN pg_namespace n ON n.oid = t.relnamespace
                        WHERE n.nspname = $1 AND t.relname = $2)",
        &[&schema, &name],
    )
    .await
    .unwrap()
    .get(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_a_chunk_drops_its_partition() {
    let Some(url) = common::url() else { return };
    common::with_fresh(&url, |opts| async move {
        let (store, _keyring) = open(&opts).await.unwrap();
        let c = common::admin(&opts.url).await;
        store
            .append_blocks(
                vec![
                    block("h1", window(0), 3, 64),
                    block("h1", window(0), 4, 64),
                    block("h2", window(1), 5, 64),
                ],
                None,
            )
            .await
            .unwrap();
        let chunks = store.chunks().await.unwrap();
        assert_eq!(chunks.len(), 2);
        let names: Vec<String> = chunks
            .iter()
            .map(|c| format!("blocks_{}", c.id.0))
            .collect();
        assert_eq!(partitions(&c, &opts.schema).await, names);

        let report = store.drop_chunks(&[chunks[0].id]).await.unwrap();
        assert_eq!(
            report,
            RetentionReport {
                chunks_dropped: 1,
                blocks_dropped: 2,
                events_dropped: 7
            }
        );
        assert_eq!(partitions(&c, &opts.schema).await, names[1..]);
        assert!(
            !table_exists(&c, &opts.schema, &names[0]).await,
            "the partition's table is gone, not just detached"
        );
        assert_eq!(store.record_counts().await.unwrap(), (1, 5));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partition_a_scan_holds_is_dropped_by_a_later_sweep() {
    let Some(url) = common::url() else { return };
    common::with_fresh(&url, |opts| async move {
        let (store, _keyring) = open(&opts).await.unwrap();
        let c = common::admin(&opts.url).await;
        let many = (0..300).map(|_| block("h1", window(0), 1, 32)).collect();
        store.append_blocks(many, None).await.unwrap();
        let id = store.chunks().await.unwrap()[0].id;

        let mut scan = store.scan_blocks(BlockQuery::default()).await.unwrap();
        assert!(scan.next().await.unwrap().is_ok());
        let report = store.drop_chunks(&[id]).await.unwrap();
        assert_eq!(report.blocks_dropped, 300);
        assert!(store.chunks().await.unwrap().is_empty());
        assert_eq!(
            store.record_counts().await.unwrap(),
            (0, 0),
            "gone for readers"
        );
        assert_eq!(
            partitions(&c, &opts.schema).await.len(),
            1,
            "the scan holds the partition"
        );
        let mut read = 1;
        while let Some(b) = scan.next().await {
            b.unwrap();
            read += 1;
        }
        assert_eq!(read, 300, "the scan reads its whole snapshot");
        drop(scan);

        // The next sweep, whatever it drops, takes the partition left behind.
        assert_eq!(
            store.drop_chunks(&[ChunkId(i64::MAX)]).await.unwrap(),
            RetentionReport::default()
        );
        assert!(partitions(&c, &opts.schema).await.is_empty());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_creating_one_chunk_together_create_it_once() {
    let Some(url) = common::url() else { return };
    common::with_fresh(&url, |opts| async move {
        let (a, _ka) = open(&opts).await.unwrap();
        let (b, _kb) = open(&opts).await.unwrap();
        let writes = (0..16).map(|i| {
            let store = if i % 2 == 0 { a.clone() } else { b.clone() };
            async move {
                store
                    .append_blocks(vec![block("h1", window(7), 1, 16)], None)
                    .await
            }
        });
        for r in futures::future::join_all(writes).await {
            r.unwrap();
        }
        let chunks = a.chunks().await.unwrap();
        assert_eq!(chunks.len(), 1);
        assert_eq!(chunks[0].window, window(7));
        assert_eq!(b.record_counts().await.unwrap(), (16, 16));

        // A chunk one instance dropped is made again when the other, which cached it, writes.
        a.drop_chunks(&[chunks[0].id]).await.unwrap();
        b.append_blocks(vec![block("h1", window(7), 2, 16)], None)
            .await
            .unwrap();
        let again = a.chunks().await.unwrap();
        assert_eq!(again.len(), 1);
        assert_ne!(again[0].id, chunks[0].id);
        assert_eq!(a.record_counts().await.unwrap(), (1, 2));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_bad_call_in_a_group_fails_alone() {
    let Some(url) = common::url() else { return };
    common::with_fresh(&url, |opts| async move {
        let (store, _keyring) = open(&opts).await.unwrap();
        let dup = block("h1", window(2), 1, 16);
        store.append_blocks(vec![dup.clone()], None).await.unwrap();
        // Concurrent calls, one of them repeating a record id of its chunk with another
        // payload, one repeating the stored block byte for byte (as a group whose COMMIT
        // answer was lost is written again: it is stored, so answered as stored).
        let calls = (0..8).map(|i| {
            let store = store.clone();
            let blocks = match i {
                3 => vec![NewBlock {
                    payload: b"another payload".to_vec(),
                    ..dup.clone()
                }],
                5 => vec![dup.clone()],
                _ => vec![block("h1", window(2), 1, 16)],
            };
            async move { store.append_blocks(blocks, None).await }
        });
        let results = futures::future::join_all(calls).await;
        for (i, r) in results.iter().enumerate() {
            assert_eq!(r.is_err(), i == 3, "call {i}: {r:?}");
        }
        assert_eq!(
            store.record_counts().await.unwrap(),
            (7, 7),
            "nothing twice"
        );
    })
    .await;
}
