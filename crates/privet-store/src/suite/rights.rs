//! Rights requests (extended and completed once each) and objections, and per-subject record
//! counts.

use super::fixtures::{at, block, pseudonym};
use crate::{
    Error, NewBlock, Objection, Pause, PauseReason, RequestKind, RequestSource, RightsRequest,
    Store, SubjectId, VisitorScope,
};

pub(super) async fn rights(store: &dyn Store) {
    let date = |s: &str| s.parse::<jiff::civil::Date>().unwrap();
    let r = RightsRequest {
        id: "rq1".into(),
        kind: RequestKind::Erasure,
        subject: SubjectId::new("m1"),
        received_at: at("2026-01-31T09:00:00Z"),
        due: date("2026-02-28"),
        extended_due: None,
        extension_reason: None,
        done: false,
        completed_at: None,
        created_by: "key:k1".into(),
        created_at: at("2026-01-31T10:00:00Z"),
        source: RequestSource::Staff,
        pause: None,
        paused_days: 0,
        visitor: None,
    };
    store.create_request(r.clone()).await.unwrap();
    assert!(matches!(
        store.create_request(r.clone()).await,
        Err(Error::Conflict { .. })
    ));
    assert_eq!(store.request("rq1").await.unwrap(), r);

    let extended = store
        .extend_request("rq1", date("2026-04-30"), "complex")
        .await
        .unwrap();
    let mut expected = RightsRequest {
        extended_due: Some(date("2026-04-30")),
        extension_reason: Some("complex".into()),
        ..r.clone()
    };
    assert_eq!(extended, expected);
    assert!(
        store
            .extend_request("rq1", date("2026-05-31"), "again")
            .await
            .unwrap_err()
            .is_conflict(),
        "a request is extended once"
    );
    assert_eq!(store.request("rq1").await.unwrap(), expected, "unchanged");

    let done = store
        .complete_request("rq1", at("2026-03-01T00:00:00Z"))
        .await
        .unwrap();
    expected.done = true;
    expected.completed_at = Some(at("2026-03-01T00:00:00Z"));
    assert_eq!(done, expected);
    assert!(
        store
            .complete_request("rq1", at("2026-03-02T00:00:00Z"))
            .await
            .unwrap_err()
            .is_conflict(),
        "a request is completed once"
    );
    assert_eq!(
        store.request("rq1").await.unwrap().completed_at,
        Some(at("2026-03-01T00:00:00Z")),
        "the first completion stands"
    );

    // A completed request is not extended, even if it never was.
    let r2 = RightsRequest {
        id: "rq2".into(),
        kind: RequestKind::Access,
        due: date("2026-02-20"),
        ..r.clone()
    };
    store.create_request(r2.clone()).await.unwrap();
    store
        .complete_request("rq2", at("2026-02-01T00:00:00Z"))
        .await
        .unwrap();
    assert!(
        store
            .extend_request("rq2", date("2026-04-30"), "late")
            .await
            .unwrap_err()
            .is_conflict()
    );
    let ids: Vec<String> = store
        .requests()
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(ids, ["rq2", "rq1"], "by due date");
    claims(store, &r).await;
    pauses(store, &r).await;
    kinds_and_sources(store, &r).await;

    assert!(
        store
            .extend_request("nope", date("2026-04-30"), "x")
            .await
            .unwrap_err()
            .is_not_found()
    );
    assert!(
        store
            .complete_request("nope", at("2026-03-01T00:00:00Z"))
            .await
            .unwrap_err()
            .is_not_found()
    );
    assert!(store.request("nope").await.unwrap_err().is_not_found());

    let o = Objection {
        subject: SubjectId::new("m1"),
        product: None,
        purpose: "usage_statistics".into(),
        at: at("2026-02-01T00:00:00Z"),
        actor: "key:k1".into(),
    };
    store.record_objection(o.clone()).await.unwrap();
    assert_eq!(
        store
            .objections(&[SubjectId::new("m1"), SubjectId::new("h1")])
            .await
            .unwrap(),
        vec![o]
    );

    record_counts(store).await;
}

async fn record_counts(store: &dyn Store) {
    let b = block("m1", "presence", "d1", "2026-07-01T10:00:00Z", "30d", 9);
    store.append_blocks(vec![b], None).await.unwrap();
    assert_eq!(store.block_subjects().await.unwrap(), vec![pseudonym("m1")]);
    assert_eq!(
        store.subject_record_counts(&pseudonym("m1")).await.unwrap(),
        (1, 9)
    );
    assert_eq!(
        store.subject_record_counts(&pseudonym("h1")).await.unwrap(),
        (0, 0)
    );
    assert_eq!(
        store.delete_subject_blocks(&pseudonym("m1")).await.unwrap(),
        1
    );

    // A subject with many blocks in two chunks (a backend may delete them in slices), next to
    // another subject whose blocks stay.
    let many: Vec<NewBlock> = (0..70)
        .map(|i| {
            let retention = if i % 2 == 0 { "30d" } else { "1y" };
            let t = format!("2026-07-01T{:02}:{:02}:00Z", 10 + i / 60, i % 60);
            block("m1", "presence", "d1", &t, retention, 2)
        })
        .chain(std::iter::once(block(
            "m2",
            "presence",
            "d1",
            "2026-07-01T10:00:00Z",
            "30d",
            3,
        )))
        .collect();
    store.append_blocks(many, None).await.unwrap();
    assert_eq!(
        store.delete_subject_blocks(&pseudonym("m1")).await.unwrap(),
        70
    );
    assert_eq!(
        store.subject_record_counts(&pseudonym("m1")).await.unwrap(),
        (0, 0)
    );
    assert_eq!(
        store.subject_record_counts(&pseudonym("m2")).await.unwrap(),
        (1, 3)
    );
    assert_eq!(
        store.delete_subject_blocks(&pseudonym("m2")).await.unwrap(),
        1
    );
}

/// Claims: of those completing one request, one holds it until its claim runs out or it
/// gives it up; a done request is claimed by nobody.
async fn claims(store: &dyn Store, template: &RightsRequest) {
    let r = RightsRequest {
        id: "rq-claim".into(),
        ..template.clone()
    };
    store.create_request(r).await.unwrap();
    let t0 = at("2026-03-01T00:00:00Z");
    let lease = at("2026-03-01T00:10:00Z");
    let claimed = store.claim_request("rq-claim", t0, lease).await.unwrap();
    assert!(!claimed.done);
    assert!(
        store
            .claim_request(
                "rq-claim",
                at("2026-03-01T00:05:00Z"),
                at("2026-03-01T00:15:00Z")
            )
            .await
            .unwrap_err()
            .is_conflict(),
        "a request held by a claim is not claimed again"
    );
    store
        .release_request("rq-claim", at("2026-03-01T00:11:00Z"))
        .await
        .unwrap();
    assert!(
        store
            .claim_request(
                "rq-claim",
                at("2026-03-01T00:06:00Z"),
                at("2026-03-01T00:16:00Z")
            )
            .await
            .unwrap_err()
            .is_conflict(),
        "releasing with another claim's time releases nothing"
    );
    store.release_request("rq-claim", lease).await.unwrap();
    let again = at("2026-03-01T00:20:00Z");
    store
        .claim_request("rq-claim", at("2026-03-01T00:07:00Z"), again)
        .await
        .unwrap();
    // Its holder died: once the claim has run out another takes it.
    let later = at("2026-03-01T00:30:00Z");
    store
        .claim_request("rq-claim", at("2026-03-01T00:20:00Z"), later)
        .await
        .unwrap();
    store.complete_request("rq-claim", later).await.unwrap();
    assert!(
        store
            .claim_request(
                "rq-claim",
                at("2026-04-01T00:00:00Z"),
                at("2026-04-02T00:00:00Z")
            )
            .await
            .unwrap_err()
            .is_conflict(),
        "a done request is claimed by nobody"
    );
    store.release_request("rq-claim", later).await.unwrap();
    assert!(
        store.request("rq-claim").await.unwrap().done,
        "and stays done"
    );
    assert!(
        store
            .claim_request("nope", t0, lease)
            .await
            .unwrap_err()
            .is_not_found()
    );
}

/// Pauses: an open request's clock stops once, restarts once, and the days add up; a done
/// request is neither paused nor resumed.
async fn pauses(store: &dyn Store, template: &RightsRequest) {
    let r = RightsRequest {
        id: "rq-pause".into(),
        paused_days: 2,
        ..template.clone()
    };
    store.create_request(r.clone()).await.unwrap();
    let since = at("2026-02-10T12:00:00Z");
    let paused = store
        .pause_request("rq-pause", PauseReason::Clarification, since)
        .await
        .unwrap();
    assert_eq!(
        paused.pause,
        Some(Pause {
            reason: PauseReason::Clarification,
            since
        })
    );
    assert_eq!(store.request("rq-pause").await.unwrap(), paused);
    assert!(
        store
            .pause_request(
                "rq-pause",
                PauseReason::Identity,
                at("2026-02-11T00:00:00Z")
            )
            .await
            .unwrap_err()
            .is_conflict(),
        "a paused request is not paused again"
    );
    assert!(
        store
            .resume_request("rq-pause", at("2026-02-10T12:00:01Z"), 5)
            .await
            .unwrap_err()
            .is_conflict(),
        "only the pause that holds is resumed"
    );
    let resumed = store.resume_request("rq-pause", since, 5).await.unwrap();
    assert_eq!(resumed.pause, None);
    assert_eq!(resumed.paused_days, 7, "the days add to those before");
    assert!(
        store
            .resume_request("rq-pause", since, 5)
            .await
            .unwrap_err()
            .is_conflict(),
        "a second resume counts nothing twice"
    );
    assert_eq!(store.request("rq-pause").await.unwrap().paused_days, 7);

    // While paused it is neither claimed nor completed; while claimed it is not paused.
    let stopped = at("2026-02-12T00:00:00Z");
    store
        .pause_request("rq-pause", PauseReason::Identity, stopped)
        .await
        .unwrap();
    let later = at("2026-02-13T00:00:00Z");
    assert!(
        store
            .claim_request("rq-pause", later, at("2026-02-13T00:10:00Z"))
            .await
            .unwrap_err()
            .is_conflict(),
        "a paused request is not claimed"
    );
    assert!(
        store
            .complete_request("rq-pause", later)
            .await
            .unwrap_err()
            .is_conflict(),
        "nor completed"
    );
    store.resume_request("rq-pause", stopped, 1).await.unwrap();
    store
        .claim_request("rq-pause", later, at("2026-02-13T00:10:00Z"))
        .await
        .unwrap();
    assert!(
        store
            .pause_request(
                "rq-pause",
                PauseReason::Identity,
                at("2026-02-13T00:05:00Z")
            )
            .await
            .unwrap_err()
            .is_conflict(),
        "a request being completed is not paused"
    );
    let done = store
        .complete_request("rq-pause", at("2026-02-13T00:06:00Z"))
        .await
        .unwrap();
    assert!(done.done);
    assert!(
        store
            .pause_request(
                "rq-pause",
                PauseReason::Identity,
                at("2026-02-14T00:00:00Z")
            )
            .await
            .unwrap_err()
            .is_conflict(),
        "a done request is not paused"
    );
    assert!(
        store
            .resume_request("rq-pause", at("2026-02-12T00:00:00Z"), 1)
            .await
            .unwrap_err()
            .is_conflict(),
        "nor resumed"
    );
    assert!(
        store
            .pause_request("nope", PauseReason::Identity, since)
            .await
            .unwrap_err()
            .is_not_found()
    );
    assert!(
        store
            .resume_request("nope", since, 1)
            .await
            .unwrap_err()
            .is_not_found()
    );
}

/// Complaints, requests recorded from self-service, and a visitor's request keep what they
/// were created with.
async fn kinds_and_sources(store: &dyn Store, template: &RightsRequest) {
    let complaint = RightsRequest {
        id: "rq-complaint".into(),
        kind: RequestKind::Complaint,
        ..template.clone()
    };
    store.create_request(complaint.clone()).await.unwrap();
    assert_eq!(store.request("rq-complaint").await.unwrap(), complaint);

    let own = RightsRequest {
        id: "rq-self".into(),
        kind: RequestKind::Access,
        source: RequestSource::SelfService,
        done: true,
        completed_at: Some(at("2026-01-31T10:00:00Z")),
        ..template.clone()
    };
    store.create_request(own.clone()).await.unwrap();
    assert_eq!(store.request("rq-self").await.unwrap(), own);

    let visitor = RightsRequest {
        id: "rq-visitor".into(),
        subject: SubjectId::new("h1"),
        visitor: Some(VisitorScope {
            device: "dev-door".into(),
            from: at("2026-01-30T10:00:00Z"),
            until: at("2026-01-30T10:05:00.5Z"),
        }),
        ..template.clone()
    };
    store.create_request(visitor.clone()).await.unwrap();
    assert_eq!(store.request("rq-visitor").await.unwrap(), visitor);
}
