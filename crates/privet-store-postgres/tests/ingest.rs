//! Ingest throughput: a million events in blocks, appended by concurrent callers as the
//! server's ingest does. Ignored by default (it takes a while and measures the machine);
//! run it with
//! `PRIVET_TEST_DATABASE_URL=… cargo test --release -p privet-store-postgres --test ingest -- --ignored --nocapture`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{block, window};
use privet_store::Store;
use privet_store_postgres::open;
use std::time::Instant;

/// Events in all.
const EVENTS: u64 = 1_000_000;
/// Events per block (a device batch of one subject and stream), unless
/// `PRIVET_BENCH_EVENTS_PER_BLOCK` says otherwise.
fn per_block() -> u32 {
    std::env::var("PRIVET_BENCH_EVENTS_PER_BLOCK")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50)
}
/// Blocks per `append_blocks` call: one ingest request.
const PER_CALL: usize = 10;
/// Concurrent callers.
const CALLERS: usize = 32;
/// Sealed bytes per event, about what a small reading costs sealed.
const BYTES_PER_EVENT: usize = 24;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a throughput measurement; run with --ignored --nocapture"]
async fn a_million_events_are_appended_quickly() {
    let Some(url) = common::url() else { return };
    common::with_fresh(&url, |opts| async move {
        let (store, _keyring) = open(&opts).await.unwrap();
        let per_block = per_block();
        let calls = EVENTS / u64::from(per_block) / PER_CALL as u64;
        let per_caller = calls / CALLERS as u64;
        // Built before the clock starts: this measures the store, not the fixtures.
        let work: Vec<Vec<Vec<privet_store::NewBlock>>> = (0..CALLERS)
            .map(|caller| {
                (0..per_caller)
                    .map(|i| {
                        (0..PER_CALL)
                            .map(|j| {
                                let subject = format!("h{}", (caller * 7 + j) % 500);
                                let w = window(((i as usize + j) % 3) as i64);
                                block(&subject, w, per_block, per_block as usize * BYTES_PER_EVENT)
                            })
                            .collect()
                    })
                    .collect()
            })
            .collect();
        let started = Instant::now();
        let tasks: Vec<_> = work
            .into_iter()
            .map(|calls| {
                let store = store.clone();
                tokio::spawn(async move {
                    for blocks in calls {
                        store.append_blocks(blocks, None).await.unwrap();
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        let secs = started.elapsed().as_secs_f64();
        let (blocks, events) = store.record_counts().await.unwrap();
        assert_eq!(events, per_caller * CALLERS as u64 * PER_CALL as u64 * u64::from(per_block));
        println!(
            "appended {events} events in {blocks} blocks in {secs:.2} s: {:.0} events/s, {:.0} blocks/s",
            events as f64 / secs,
            blocks as f64 / secs
        );
    })
    .await;
}
