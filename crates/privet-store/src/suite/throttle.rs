//! Throttling failed attempts: a count per throttle key that restarts after a quiet spell,
//! is forgotten on success, and adds up across concurrent attempts.

use super::fixtures::at;
use crate::Store;

pub(super) async fn throttle(store: &dyn Store) {
    let (k1, k2, k3): (&[u8], &[u8], &[u8]) = (b"throttle:k1", b"throttle:k2", b"throttle:k3");
    assert_eq!(store.failures(k1).await.unwrap(), None, "no failures yet");

    // Failures within the window add up; the last one's time is kept.
    let add = |key: &'static [u8], t: &'static str, forget: &'static str| async move {
        store.add_failure(key, at(t), at(forget)).await.unwrap()
    };
    assert_eq!(
        add(k1, "2026-07-01T10:00:00Z", "2026-07-01T09:45:00Z").await,
        1
    );
    assert_eq!(
        add(k1, "2026-07-01T10:01:00Z", "2026-07-01T09:46:00Z").await,
        2
    );
    assert_eq!(
        add(k1, "2026-07-01T10:02:00Z", "2026-07-01T09:47:00Z").await,
        3
    );
    assert_eq!(
        store.failures(k1).await.unwrap(),
        Some((3, at("2026-07-01T10:02:00Z")))
    );
    assert_eq!(
        add(k2, "2026-07-01T10:03:00Z", "2026-07-01T09:48:00Z").await,
        1,
        "keys are counted apart"
    );
    assert_eq!(store.failures(k1).await.unwrap().map(|f| f.0), Some(3));

    // A last failure exactly at `forget_before` is not before it: the count goes on.
    assert_eq!(
        add(k1, "2026-07-01T10:17:00Z", "2026-07-01T10:02:00Z").await,
        4
    );
    // After a quiet spell the count starts again at one.
    assert_eq!(
        add(k1, "2026-07-01T10:40:00Z", "2026-07-01T10:25:00Z").await,
        1,
        "a count whose last failure is before forget_before restarts"
    );
    assert_eq!(
        store.failures(k1).await.unwrap(),
        Some((1, at("2026-07-01T10:40:00Z")))
    );

    // A success forgets the key; forgetting an unknown key is fine.
    store.clear_failures(k1).await.unwrap();
    assert_eq!(store.failures(k1).await.unwrap(), None, "clear forgets");
    store.clear_failures(b"throttle:unknown").await.unwrap();
    assert_eq!(
        add(k1, "2026-07-01T10:41:00Z", "2026-07-01T10:26:00Z").await,
        1,
        "counting starts afresh after a clear"
    );
    assert_eq!(
        store.failures(k2).await.unwrap().map(|f| f.0),
        Some(1),
        "clearing one key leaves the others"
    );

    // Concurrent failures (instances answering one attacker at once) each count.
    let racing = futures::future::join_all(
        (0..8).map(|_| add(k3, "2026-07-01T10:30:00Z", "2026-07-01T10:15:00Z")),
    )
    .await;
    let mut counts = racing;
    counts.sort_unstable();
    assert_eq!(
        counts,
        (1..=8).collect::<Vec<u32>>(),
        "no concurrent failure is lost"
    );
    assert_eq!(store.failures(k3).await.unwrap().map(|f| f.0), Some(8));

    // Pruning forgets the keys whose last failure is before the cut-off only:
    // k2 (10:03) goes; k3 (10:30, at the cut-off) and k1 (10:41) stay.
    assert_eq!(
        store
            .prune_failures(at("2026-07-01T10:30:00Z"))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store.failures(k2).await.unwrap(),
        None,
        "an old key is pruned"
    );
    assert_eq!(store.failures(k3).await.unwrap().map(|f| f.0), Some(8));
    assert_eq!(store.failures(k1).await.unwrap().map(|f| f.0), Some(1));
    assert_eq!(
        store
            .prune_failures(at("2026-07-01T10:30:00Z"))
            .await
            .unwrap(),
        0,
        "nothing left to prune"
    );
}
