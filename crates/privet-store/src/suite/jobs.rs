//! Durable background jobs: queued once per kind and argument, taken by one holder at a time
//! under a lease, taken again when the holder died, finished once, pruned when old.

use super::fixtures::at;
use crate::{Job, NewJob, Store};

fn job(kind: &str, arg: &str, due: &str) -> NewJob {
    NewJob {
        kind: kind.into(),
        arg: arg.into(),
        due: at(due),
    }
}

/// The kinds this suite's taker runs.
const KINDS: &[&str] = &["retention", "purge-subject"];

/// Takes a job of [`KINDS`] at `now` with a lease until `until`.
async fn take(store: &dyn Store, now: &str, until: &str) -> Option<Job> {
    take_of(store, KINDS, now, until).await
}

/// Takes a job of one of `kinds` at `now` with a lease until `until`.
async fn take_of(store: &dyn Store, kinds: &[&str], now: &str, until: &str) -> Option<Job> {
    store.take_job(kinds, at(now), at(until)).await.unwrap()
}

/// The `(kind, arg)` of a taken job, and its attempts.
fn what(j: &Option<Job>) -> Option<(&str, &str, u32)> {
    j.as_ref()
        .map(|j| (j.kind.as_str(), j.arg.as_str(), j.attempts))
}

pub(super) async fn jobs(store: &dyn Store) {
    assert!(store.jobs().await.unwrap().is_empty());

    // Queued once per kind and argument.
    let day1 = job("retention", "2026-07-01", "2026-07-01T09:00:00Z");
    assert!(store.enqueue_job(day1.clone()).await.unwrap());
    assert!(
        !store
            .enqueue_job(job("retention", "2026-07-01", "2026-07-01T08:00:00Z"))
            .await
            .unwrap(),
        "a second job of the same kind and argument is not queued"
    );
    assert!(
        store
            .enqueue_job(job("purge-subject", "00ff", "2026-07-01T09:30:00Z"))
            .await
            .unwrap()
    );
    assert!(
        store
            .enqueue_job(job("retention", "2026-07-02", "2026-07-02T00:00:00Z"))
            .await
            .unwrap(),
        "the same kind with another argument is another job"
    );
    assert!(
        store
            .enqueue_job(job("purge-subject", "2026-07-01", "2026-07-01T09:45:00Z"))
            .await
            .unwrap(),
        "the same argument of another kind is another job"
    );
    let queued = store.jobs().await.unwrap();
    assert_eq!(
        queued
            .iter()
            .map(|j| (j.kind.as_str(), j.arg.as_str()))
            .collect::<Vec<_>>(),
        [
            ("retention", "2026-07-01"),
            ("purge-subject", "00ff"),
            ("retention", "2026-07-02"),
            ("purge-subject", "2026-07-01"),
        ],
        "every job, oldest first"
    );
    assert_eq!(
        queued[0],
        Job {
            id: queued[0].id,
            kind: day1.kind,
            arg: day1.arg,
            due: day1.due,
            attempts: 0,
            leased_until: None,
            done_at: None,
        },
        "the first enqueue's due time is kept"
    );
    let ids: Vec<i64> = queued.iter().map(|j| j.id).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "distinct ids: {ids:?}");
    let (a, b, c, d) = (ids[0], ids[1], ids[2], ids[3]);

    // Taking: due jobs only, oldest first, each held by one taker until its lease ends.
    assert_eq!(
        take(store, "2026-07-01T08:59:59Z", "2026-07-01T09:05:00Z").await,
        None,
        "nothing is due yet"
    );
    let first = take(store, "2026-07-01T10:00:00Z", "2026-07-01T10:05:00Z").await;
    assert_eq!(what(&first), Some(("retention", "2026-07-01", 1)));
    let first = first.unwrap();
    assert_eq!(first.id, a);
    assert_eq!(first.leased_until, Some(at("2026-07-01T10:05:00Z")));
    assert_eq!(first.done_at, None);
    let second = take(store, "2026-07-01T10:01:00Z", "2026-07-01T10:06:00Z").await;
    assert_eq!(
        second.as_ref().map(|j| j.id),
        Some(b),
        "a leased job is not taken again while its lease runs"
    );
    let third = take(store, "2026-07-01T10:02:00Z", "2026-07-01T10:07:00Z").await;
    assert_eq!(third.as_ref().map(|j| j.id), Some(d));
    assert_eq!(
        take(store, "2026-07-01T10:04:00Z", "2026-07-01T10:09:00Z").await,
        None,
        "every due job is held"
    );
    let listed = store.jobs().await.unwrap();
    assert_eq!(
        listed.iter().map(|j| j.attempts).collect::<Vec<_>>(),
        [1, 1, 0, 1],
        "each take counts one attempt"
    );
    assert_eq!(listed[0].leased_until, Some(at("2026-07-01T10:05:00Z")));

    // The first holder died: once its lease has run out, the job is taken again.
    let again = take(store, "2026-07-01T10:05:30Z", "2026-07-01T10:10:00Z").await;
    assert_eq!(
        what(&again),
        Some(("retention", "2026-07-01", 2)),
        "a job whose holder's lease ran out is taken again, its attempts counted"
    );
    assert_eq!(again.as_ref().map(|j| j.id), Some(a));
    assert_eq!(
        again.and_then(|j| j.leased_until),
        Some(at("2026-07-01T10:10:00Z"))
    );

    // Finishing: once, only a pending job.
    store
        .finish_job(a, at("2026-07-01T10:08:00Z"))
        .await
        .unwrap();
    let done = store.jobs().await.unwrap();
    assert_eq!(done[0].done_at, Some(at("2026-07-01T10:08:00Z")));
    assert!(
        store
            .finish_job(a, at("2026-07-01T10:09:00Z"))
            .await
            .unwrap_err()
            .is_not_found(),
        "a job is finished once (the dead holder woke up)"
    );
    assert_eq!(
        store.jobs().await.unwrap()[0].done_at,
        Some(at("2026-07-01T10:08:00Z")),
        "the second finish changes nothing"
    );
    assert!(
        store
            .finish_job(ids[3] + 1000, at("2026-07-01T10:09:00Z"))
            .await
            .unwrap_err()
            .is_not_found(),
        "no such job"
    );
    assert_eq!(
        take(store, "2026-07-01T11:00:00Z", "2026-07-01T11:05:00Z")
            .await
            .map(|j| j.id),
        Some(b),
        "a finished job is never taken again; the next oldest is"
    );
    assert_eq!(
        take(store, "2026-07-01T11:00:00Z", "2026-07-01T11:05:00Z")
            .await
            .map(|j| (j.id, j.attempts)),
        Some((d, 2))
    );
    store
        .finish_job(b, at("2026-07-01T11:01:00Z"))
        .await
        .unwrap();
    store
        .finish_job(d, at("2026-07-01T11:02:00Z"))
        .await
        .unwrap();

    // A job is due from its due time on.
    assert_eq!(
        take(store, "2026-07-01T23:59:59Z", "2026-07-02T00:05:00Z").await,
        None
    );
    assert_eq!(
        take(store, "2026-07-02T00:00:00Z", "2026-07-02T00:05:00Z")
            .await
            .map(|j| j.id),
        Some(c),
        "due at its due time"
    );
    store
        .finish_job(c, at("2026-07-02T00:01:00Z"))
        .await
        .unwrap();
    assert_eq!(
        take(store, "2026-07-03T00:00:00Z", "2026-07-03T00:05:00Z").await,
        None,
        "every job is done"
    );

    // Racing: instances queue one job once, and each job goes to one taker.
    let racing = futures::future::join_all(
        (0..8).map(|_| store.enqueue_job(job("retention", "2026-07-03", "2026-07-03T00:00:00Z"))),
    )
    .await;
    let queued = racing.into_iter().filter(|r| *r.as_ref().unwrap()).count();
    assert_eq!(queued, 1, "of concurrent enqueues of one job one queues it");
    assert!(
        store
            .enqueue_job(job("retention", "2026-07-04", "2026-07-03T00:00:00Z"))
            .await
            .unwrap()
    );
    let takers = futures::future::join_all(
        (0..6).map(|_| take(store, "2026-07-03T01:00:00Z", "2026-07-03T01:05:00Z")),
    )
    .await;
    let mut taken: Vec<i64> = takers.into_iter().flatten().map(|j| j.id).collect();
    taken.sort_unstable();
    assert_eq!(
        taken.len(),
        2,
        "two jobs, two takers get one each: {taken:?}"
    );
    assert_ne!(taken[0], taken[1], "no job goes to two takers");
    for id in &taken {
        store
            .finish_job(*id, at("2026-07-03T01:01:00Z"))
            .await
            .unwrap();
    }

    // Pruning: only jobs finished before the cut-off; pending ones stay.
    assert!(
        store
            .enqueue_job(job("retention", "2026-07-05", "2026-07-05T00:00:00Z"))
            .await
            .unwrap()
    );
    assert_eq!(
        store.prune_jobs(at("2026-07-01T11:01:00Z")).await.unwrap(),
        1,
        "finished at 10:08 only (11:01 is not before the cut-off)"
    );
    let left = store.jobs().await.unwrap();
    assert!(left.iter().all(|j| j.id != a), "the pruned job is gone");
    assert_eq!(left.len(), 6);
    assert_eq!(
        store.prune_jobs(at("2026-07-10T00:00:00Z")).await.unwrap(),
        5,
        "every finished job"
    );
    let left = store.jobs().await.unwrap();
    assert_eq!(
        left.iter()
            .map(|j| (j.arg.as_str(), j.done_at))
            .collect::<Vec<_>>(),
        [("2026-07-05", None)],
        "a pending job is never pruned"
    );
    assert!(
        store
            .finish_job(a, at("2026-07-10T00:00:00Z"))
            .await
            .unwrap_err()
            .is_not_found(),
        "a pruned job is not found"
    );
    assert!(
        store
            .enqueue_job(job("retention", "2026-07-01", "2026-07-11T00:00:00Z"))
            .await
            .unwrap(),
        "once pruned, a job of that kind and argument may be queued again"
    );
    let requeued = store.jobs().await.unwrap();
    assert_eq!(requeued.len(), 2);
    assert!(
        requeued.iter().all(|j| j.id != a),
        "a pruned job's id is not reused"
    );

    // Kinds: a taker gets only jobs of the kinds it runs; a job of another kind (queued by a
    // newer instance during a rolling upgrade) waits, untouched, for a taker that runs it.
    assert!(
        store
            .enqueue_job(job("from-a-newer-release", "x", "2026-07-01T00:00:00Z"))
            .await
            .unwrap()
    );
    let (now, until) = ("2026-07-12T00:00:00Z", "2026-07-12T00:05:00Z");
    assert_eq!(
        take_of(store, &[], now, until).await,
        None,
        "no kinds, no job"
    );
    let mut kinds = Vec::new();
    while let Some(j) = take_of(store, &["retention"], now, until).await {
        kinds.push(j.kind);
    }
    assert_eq!(
        kinds,
        ["retention", "retention"],
        "the older job of another kind is skipped, not taken"
    );
    let waiting = store.jobs().await.unwrap();
    let waiting = waiting
        .iter()
        .find(|j| j.kind == "from-a-newer-release")
        .unwrap();
    assert_eq!(
        (waiting.attempts, waiting.leased_until, waiting.done_at),
        (0, None, None),
        "never leased nor counted by a taker that cannot run it"
    );
    let other = take_of(
        store,
        &["purge-subject", "from-a-newer-release"],
        now,
        until,
    )
    .await;
    assert_eq!(
        what(&other),
        Some(("from-a-newer-release", "x", 1)),
        "a taker that runs the kind takes it"
    );
}
