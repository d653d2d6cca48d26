//! Record blocks: appending, reading back, scans, chunks and retention.

use super::fixtures::{at, block, block_in, collect, pseudonym, window};
use crate::{
    BlockQuery, ChunkId, ChunkInfo, ChunkWindow, DeviceId, DeviceSeen, NewBlock, RetentionReport,
    Store,
};
use futures::StreamExt;
use privet_policy::expired_chunks;

/// The chunks of `store` whose window is `w`.
async fn chunks_in(store: &dyn Store, w: ChunkWindow) -> Vec<ChunkInfo> {
    let all = store.chunks().await.unwrap();
    assert!(
        all.windows(2)
            .all(|p| p[0].window.start <= p[1].window.start),
        "chunks are listed oldest window first"
    );
    all.into_iter().filter(|c| c.window == w).collect()
}

pub(super) async fn blocks(store: &dyn Store) {
    let b1 = block("m1", "presence", "d1", "2026-05-01T10:00:00Z", "30d", 3);
    let b2 = block("h1", "climate", "d1", "2026-05-01T10:00:00Z", "400d", 5);
    let b3 = block("m1", "presence", "d2", "2026-05-02T10:00:00Z", "30d", 2);
    store
        .append_blocks(
            vec![b1.clone(), b2.clone()],
            Some(DeviceSeen {
                device: DeviceId::new("d1"),
                at: at("2026-05-01T10:00:10Z"),
                firmware: Some("1.3.0".into()),
                deliveries: Vec::new(),
                admitted_under: None,
            }),
        )
        .await
        .unwrap();
    assert_eq!(
        store
            .device(&DeviceId::new("d1"))
            .await
            .unwrap()
            .firmware
            .as_deref(),
        Some("1.3.0")
    );
    store.append_blocks(vec![b3.clone()], None).await.unwrap();

    let all = collect(store, BlockQuery::default()).await;
    assert_eq!(all.len(), 3);
    assert!(
        all.contains(&b1) && all.contains(&b2) && all.contains(&b3),
        "blocks read back exactly"
    );

    let m1 = collect(
        store,
        BlockQuery {
            subject: Some(pseudonym("m1")),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(m1.len(), 2);
    let climate = collect(
        store,
        BlockQuery {
            streams: vec!["climate".into()],
            ..Default::default()
        },
    )
    .await;
    assert_eq!(climate, vec![b2.clone()]);
    let late = collect(
        store,
        BlockQuery {
            since: Some(at("2026-05-02T00:00:00Z")),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(late, vec![b3.clone()]);
    let early = collect(
        store,
        BlockQuery {
            until: Some(at("2026-05-01T12:00:00Z")),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(early.len(), 2);
    let by_device = collect(
        store,
        BlockQuery {
            device: Some(DeviceId::new("d2")),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(by_device, vec![b3.clone()]);

    // Compare-and-set: a rewrite from a stale read changes nothing.
    assert!(
        store
            .rewrite_block(b1.id, b"not what it holds".to_vec(), b"stale".to_vec(), 2)
            .await
            .unwrap_err()
            .is_conflict(),
        "a rewrite of a payload that is not the block's is a conflict"
    );
    store
        .rewrite_block(b1.id, b1.payload.clone(), b"rewritten".to_vec(), 1)
        .await
        .unwrap();
    assert!(
        store
            .rewrite_block(b1.id, b1.payload.clone(), b"resurrected".to_vec(), 3)
            .await
            .unwrap_err()
            .is_conflict(),
        "a second purge that read the block before the first rewrote it must read it again"
    );
    let again = collect(
        store,
        BlockQuery {
            subject: Some(pseudonym("m1")),
            streams: vec!["presence".into()],
            until: Some(at("2026-05-01T12:00:00Z")),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].payload, b"rewritten".to_vec());
    assert_eq!(again[0].count, 1);
    assert!(
        store
            .rewrite_block([0; 16], vec![], vec![], 0)
            .await
            .unwrap_err()
            .is_not_found()
    );

    assert_eq!(store.record_counts().await.unwrap(), (3, 1 + 5 + 2));
    assert_eq!(
        store
            .delete_device_blocks(&DeviceId::new("d2"))
            .await
            .unwrap(),
        1
    );
    assert_eq!(store.delete_blocks(vec![b2.id]).await.unwrap(), 1);
    assert_eq!(store.record_counts().await.unwrap(), (1, 1));
    assert_eq!(
        store.delete_subject_blocks(&pseudonym("m1")).await.unwrap(),
        1
    );
    assert_eq!(
        store.delete_subject_blocks(&pseudonym("m1")).await.unwrap(),
        0,
        "deleting a subject's blocks again (a purge job taken again) finds nothing and is fine"
    );
    assert_eq!(store.record_counts().await.unwrap(), (0, 0));

    // A scan stops cleanly when its consumer goes away.
    let many: Vec<NewBlock> = (0..200)
        .map(|i| {
            block(
                "h1",
                "climate",
                "d1",
                &format!("2026-06-01T10:{:02}:{:02}Z", i / 60, i % 60),
                "400d",
                1,
            )
        })
        .collect();
    store.append_blocks(many, None).await.unwrap();
    let mut s = store.scan_blocks(BlockQuery::default()).await.unwrap();
    assert!(s.next().await.is_some());
    drop(s);
    assert_eq!(
        store.delete_subject_blocks(&pseudonym("h1")).await.unwrap(),
        200
    );
}

pub(super) async fn windows(store: &dyn Store) {
    // Windows no policy would choose for these blocks: the backend stores what it is told.
    let w1 = window("1y", "2090-01-01T00:00:00Z", "2090-01-02T00:00:00Z");
    let w2 = window("1y", "2090-01-02T00:00:00Z", "2090-01-03T00:00:00Z");
    let a = block_in(w1, "h1", "2026-05-01T10:00:00Z", 2);
    let b = block_in(w1, "h1", "2026-05-01T11:00:00Z", 3);
    let c = block_in(w2, "h1", "2026-05-01T12:00:00Z", 4);
    store
        .append_blocks(vec![a.clone(), c.clone()], None)
        .await
        .unwrap();
    store.append_blocks(vec![b.clone()], None).await.unwrap();

    let (in_w1, in_w2) = (chunks_in(store, w1).await, chunks_in(store, w2).await);
    assert_eq!(in_w1.len(), 1, "blocks of one window share one chunk");
    assert_eq!(in_w2.len(), 1);
    assert_ne!(in_w1[0].id, in_w2[0].id);
    let back = collect(
        store,
        BlockQuery {
            subject: Some(pseudonym("h1")),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(back.len(), 3);
    for x in [&a, &b, &c] {
        let got = back.iter().find(|g| g.id == x.id).unwrap();
        assert_eq!(got, x, "read back with the window it was stored in");
    }

    let report = store
        .drop_chunks(&[in_w1[0].id, in_w2[0].id])
        .await
        .unwrap();
    assert_eq!(
        report,
        RetentionReport {
            chunks_dropped: 2,
            blocks_dropped: 3,
            events_dropped: 9
        }
    );
    assert_eq!(store.record_counts().await.unwrap(), (0, 0));
}

pub(super) async fn retention(store: &dyn Store) {
    let short = block("m1", "presence", "d1", "2026-05-01T10:00:00Z", "2d", 4);
    let long = block("h1", "climate", "d1", "2026-05-01T10:00:00Z", "400d", 6);
    store
        .append_blocks(vec![short.clone(), long.clone()], None)
        .await
        .unwrap();
    let chunks = store.chunks().await.unwrap();
    assert!(chunks.iter().any(|c| c.window == short.window));
    assert!(chunks.iter().any(|c| c.window == long.window));

    // Which chunks have expired is the policy's to say; the store drops what it is given.
    assert!(
        expired_chunks(&chunks, at("2026-05-02T10:00:00Z")).is_empty(),
        "nothing is dropped before it expires"
    );
    // The 2-day block expires at 10:00:10 on 3 May; its one-hour chunk ends at 11:00.
    let expired = expired_chunks(&chunks, at("2026-05-03T11:00:00Z"));
    assert_eq!(expired.len(), 1);
    let report = store.drop_chunks(&expired).await.unwrap();
    assert_eq!(
        report,
        RetentionReport {
            chunks_dropped: 1,
            blocks_dropped: 1,
            events_dropped: 4
        }
    );
    let left = collect(store, BlockQuery::default()).await;
    assert_eq!(left, vec![long.clone()], "the other window survives");
    assert!(
        !store
            .chunks()
            .await
            .unwrap()
            .iter()
            .any(|c| c.id == expired[0])
    );

    assert_eq!(
        store.drop_chunks(&expired).await.unwrap(),
        RetentionReport::default(),
        "a chunk already dropped is skipped"
    );
    assert_eq!(
        store.drop_chunks(&[ChunkId(i64::MAX)]).await.unwrap(),
        RetentionReport::default(),
        "an unknown chunk is skipped"
    );

    // A block for a dropped window gets a new chunk.
    store
        .append_blocks(vec![short.clone()], None)
        .await
        .unwrap();
    let again = chunks_in(store, short.window).await;
    assert_eq!(again.len(), 1);
    assert_ne!(again[0].id, expired[0], "a dropped chunk is not reused");
    assert_eq!(
        store.subject_record_counts(&pseudonym("m1")).await.unwrap(),
        (1, 4)
    );
    assert_eq!(
        store
            .drop_chunks(&[again[0].id])
            .await
            .unwrap()
            .blocks_dropped,
        1
    );
    assert_eq!(
        store.delete_subject_blocks(&pseudonym("h1")).await.unwrap(),
        1
    );
}

/// A scan reads one snapshot: chunks dropped while it runs are still read whole.
pub(super) async fn snapshot(store: &dyn Store) {
    let w1 = window("1y", "2091-01-01T00:00:00Z", "2091-01-02T00:00:00Z");
    let w2 = window("1y", "2091-01-02T00:00:00Z", "2091-01-03T00:00:00Z");
    // More blocks than a backend would buffer ahead of a slow consumer.
    let many: Vec<NewBlock> = (0..400)
        .map(|i| {
            let t = format!(
                "2026-08-01T{:02}:{:02}:{:02}Z",
                i / 3600,
                (i / 60) % 60,
                i % 60
            );
            block_in(if i < 200 { w1 } else { w2 }, "h1", &t, 1)
        })
        .collect();
    store.append_blocks(many, None).await.unwrap();
    let ids: Vec<ChunkId> = store
        .chunks()
        .await
        .unwrap()
        .into_iter()
        .filter(|c| c.window == w1 || c.window == w2)
        .map(|c| c.id)
        .collect();
    assert_eq!(ids.len(), 2);

    let mut scan = store.scan_blocks(BlockQuery::default()).await.unwrap();
    assert!(scan.next().await.unwrap().is_ok(), "the scan has begun");
    let report = store.drop_chunks(&ids).await.unwrap();
    assert_eq!(report.blocks_dropped, 400);
    let mut read = 1;
    while let Some(b) = scan.next().await {
        b.unwrap();
        read += 1;
    }
    assert_eq!(
        read, 400,
        "every block of the snapshot, though both chunks were dropped"
    );
    assert_eq!(store.record_counts().await.unwrap(), (0, 0));
    assert!(store.block_subjects().await.unwrap().is_empty());
}
