//! Household versions: every write that changes what a household allows bumps its version in
//! the same commit, and an append admitted under a version commits only while that version
//! (and the device's attachment) still holds — the ordering instances sharing one store rely
//! on, since their in-process locks do not see each other.

use super::fixtures::{at, block, collect, sid, subject};
use crate::{
    BlockQuery, DeviceId, DeviceSeen, ErasureStep, Error, HouseholdVersion, NewBlock, NewConsent,
    NewDevice, Objection, Store, SubjectId, SubjectKind,
};
use privet_crypto::hash_token;

const HOUSEHOLD: &str = "hv-h";
const MEMBER: &str = "hv-m";
const OTHER: &str = "hv-other";

async fn version(store: &dyn Store) -> u64 {
    store.household_version(&sid(HOUSEHOLD)).await.unwrap()
}

/// Runs `write` and asserts it bumped the household's version (by any amount).
async fn bumps<F: std::future::Future<Output = ()>>(store: &dyn Store, what: &str, write: F) {
    let before = version(store).await;
    write.await;
    let after = version(store).await;
    assert!(after > before, "{what} must bump the household's version");
}

/// Runs `write` and asserts it left the household's version as it was.
async fn keeps<F: std::future::Future<Output = ()>>(store: &dyn Store, what: &str, write: F) {
    let before = version(store).await;
    write.await;
    assert_eq!(
        version(store).await,
        before,
        "{what} does not change what the household allows"
    );
}

fn device(id: &str, household: Option<&str>, claim: Option<&str>) -> NewDevice {
    NewDevice {
        id: DeviceId::new(id),
        product: "acme-thermostat-2".into(),
        household: household.map(SubjectId::new),
        member: None,
        token_hash: hash_token(&format!("hv-token-{id}")),
        claim_hash: claim.map(hash_token),
        broker_hash: None,
        created_at: at("2026-01-01T00:00:00Z"),
    }
}

/// A block of the household's sent by `device` at minute `m` (its id is unique per minute).
fn household_block(device: &str, m: u32) -> NewBlock {
    block(
        HOUSEHOLD,
        "climate",
        device,
        &format!("2026-08-01T10:{m:02}:00Z"),
        "400d",
        1,
    )
}

fn seen(device: &str, version: Option<u64>) -> Option<DeviceSeen> {
    Some(DeviceSeen {
        device: DeviceId::new(device),
        at: at("2026-08-01T11:00:00Z"),
        firmware: None,
        deliveries: Vec::new(),
        admitted_under: version.map(|version| HouseholdVersion {
            household: sid(HOUSEHOLD),
            version,
        }),
    })
}

async fn stored(store: &dyn Store, b: &NewBlock) -> bool {
    collect(
        store,
        BlockQuery {
            device: Some(b.device.clone()),
            ..Default::default()
        },
    )
    .await
    .iter()
    .any(|s| s.id == b.id)
}

fn conflict_on(e: &Error, entity: &str) -> bool {
    matches!(e, Error::Conflict { entity: got, .. } if *got == entity)
}

pub(super) async fn household_version(store: &dyn Store) {
    writes_bump_the_version(store).await;
    appends_check_the_version(store).await;
    appends_check_the_device(store).await;
    erasure_bumps_the_version(store).await;
}

async fn writes_bump_the_version(store: &dyn Store) {
    store
        .create_subject(subject(HOUSEHOLD, SubjectKind::Household, None))
        .await
        .unwrap();
    store
        .create_subject(subject(OTHER, SubjectKind::Household, None))
        .await
        .unwrap();
    assert!(
        store
            .household_version(&sid("hv-nobody"))
            .await
            .unwrap_err()
            .is_not_found()
    );
    let other = store.household_version(&sid(OTHER)).await.unwrap();

    bumps(store, "a new member", async {
        store
            .create_subject(subject(MEMBER, SubjectKind::Member, Some(HOUSEHOLD)))
            .await
            .unwrap();
    })
    .await;
    for (who, what) in [(MEMBER, "a member's consent"), (HOUSEHOLD, "a consent")] {
        bumps(store, what, async {
            store
                .record_consent(NewConsent {
                    subject: sid(who),
                    product: None,
                    purpose: "energy_report".into(),
                    granted: false,
                    manifest_version: "acme-thermostat-2@1".into(),
                    at: at("2026-08-01T00:00:00Z"),
                    actor: "key:k1".into(),
                    channel: "api".into(),
                })
                .await
                .unwrap();
        })
        .await;
    }
    bumps(store, "an objection", async {
        store
            .record_objection(Objection {
                subject: sid(MEMBER),
                product: None,
                purpose: "usage_statistics".into(),
                at: at("2026-08-01T00:00:00Z"),
                actor: "key:k1".into(),
            })
            .await
            .unwrap();
    })
    .await;
    for who in [MEMBER, HOUSEHOLD] {
        bumps(store, "a restriction", async {
            store.set_restricted(&sid(who), true).await.unwrap();
        })
        .await;
        bumps(store, "lifting a restriction", async {
            store.set_restricted(&sid(who), false).await.unwrap();
        })
        .await;
    }
    store
        .create_device(device("hv-d1", None, Some("hv-claim-1")))
        .await
        .unwrap();
    keeps(store, "a wrong claim code", async {
        assert!(
            store
                .claim_device(&hash_token("hv-wrong"), &sid(HOUSEHOLD), None)
                .await
                .unwrap_err()
                .is_not_found()
        );
    })
    .await;
    bumps(store, "a device claimed", async {
        store
            .claim_device(&hash_token("hv-claim-1"), &sid(HOUSEHOLD), None)
            .await
            .unwrap();
    })
    .await;
    keeps(store, "a profile change or a device seen", async {
        store
            .update_profile(&sid(MEMBER), vec![4, 5, 6])
            .await
            .unwrap();
        store
            .touch_device(&DeviceId::new("hv-d1"), at("2026-08-01T00:00:00Z"), None)
            .await
            .unwrap();
    })
    .await;
    store
        .create_device(device("hv-d2", Some(HOUSEHOLD), None))
        .await
        .unwrap();
    bumps(store, "a device reset", async {
        store
            .reset_device(
                &DeviceId::new("hv-d2"),
                at("2026-08-01T00:00:00Z"),
                Some(hash_token("hv-token-d2-new")),
                Some(hash_token("hv-claim-2")),
                None,
            )
            .await
            .unwrap();
    })
    .await;
    assert_eq!(
        store.household_version(&sid(OTHER)).await.unwrap(),
        other,
        "another household's version is its own"
    );
}

async fn appends_check_the_version(store: &dyn Store) {
    let v = version(store).await;
    let first = household_block("hv-d1", 0);
    store
        .append_blocks(vec![first.clone()], seen("hv-d1", Some(v)))
        .await
        .unwrap();
    assert!(
        stored(store, &first).await,
        "admitted under the current version"
    );

    // A change commits; then two batches arrive at once: one admitted before the change, one
    // after. The stale one writes nothing and fails alone; the fresh one commits.
    store.set_restricted(&sid(MEMBER), true).await.unwrap();
    let now = version(store).await;
    let stale = household_block("hv-d1", 1);
    let fresh = household_block("hv-d1", 2);
    let last_seen = store
        .device(&DeviceId::new("hv-d1"))
        .await
        .unwrap()
        .last_seen;
    let mut stale_seen = seen("hv-d1", Some(v));
    if let Some(s) = stale_seen.as_mut() {
        s.at = at("2026-08-01T12:00:00Z");
        s.firmware = Some("9.9.9".into());
    }
    let (stale_out, fresh_out) = futures::join!(
        store.append_blocks(vec![stale.clone()], stale_seen),
        store.append_blocks(vec![fresh.clone()], seen("hv-d1", Some(now))),
    );
    let e = stale_out.unwrap_err();
    assert!(conflict_on(&e, "household"), "{e:?}");
    fresh_out.unwrap();
    assert!(
        !stored(store, &stale).await,
        "the stale batch wrote nothing"
    );
    assert!(stored(store, &fresh).await, "the batch beside it committed");
    let d = store.device(&DeviceId::new("hv-d1")).await.unwrap();
    assert_ne!(
        d.firmware.as_deref(),
        Some("9.9.9"),
        "nor did it record the device seen"
    );
    assert_ne!(d.last_seen, Some(at("2026-08-01T12:00:00Z")));
    assert_eq!(d.last_seen, last_seen);

    // An append without an admission to check is not checked (blocks of no household).
    let unchecked = household_block("hv-d1", 3);
    store
        .append_blocks(vec![unchecked.clone()], seen("hv-d1", None))
        .await
        .unwrap();
    assert!(stored(store, &unchecked).await);
    // A missing device is still `NotFound`.
    assert!(
        store
            .append_blocks(
                vec![household_block("hv-nodevice", 4)],
                seen("hv-nodevice", Some(now))
            )
            .await
            .unwrap_err()
            .is_not_found()
    );
}

async fn appends_check_the_device(store: &dyn Store) {
    // Reset (with a new token) or revoked (without): a batch its old token sent, checked
    // against the household's version read after the reset, still writes nothing.
    for (id, new_token) in [("hv-d3", true), ("hv-d4", false)] {
        store
            .create_device(device(id, Some(HOUSEHOLD), None))
            .await
            .unwrap();
        store
            .reset_device(
                &DeviceId::new(id),
                at("2026-08-01T00:00:00Z"),
                new_token.then(|| hash_token(&format!("hv-new-{id}"))),
                None,
                None,
            )
            .await
            .unwrap();
        let late = household_block(id, 5);
        let e = store
            .append_blocks(vec![late.clone()], seen(id, Some(version(store).await)))
            .await
            .unwrap_err();
        assert!(conflict_on(&e, "device"), "{id}: {e:?}");
        assert!(!stored(store, &late).await, "{id}: nothing of it lands");
    }
    // A device of another household.
    store
        .create_device(device("hv-d5", Some(OTHER), None))
        .await
        .unwrap();
    let e = store
        .append_blocks(
            vec![household_block("hv-d5", 6)],
            seen("hv-d5", Some(version(store).await)),
        )
        .await
        .unwrap_err();
    assert!(conflict_on(&e, "device"), "{e:?}");
}

async fn erasure_bumps_the_version(store: &dyn Store) {
    let member = store.subject(&sid(MEMBER)).await.unwrap();
    bumps(store, "a member's erasure", async {
        store
            .erase_subject(
                &ErasureStep::for_subject(&member),
                at("2026-08-02T00:00:00Z"),
            )
            .await
            .unwrap();
    })
    .await;
    let v = version(store).await;
    let household = store.subject(&sid(HOUSEHOLD)).await.unwrap();
    store
        .erase_subject(
            &ErasureStep::for_subject(&household),
            at("2026-08-02T00:00:00Z"),
        )
        .await
        .unwrap();
    assert!(
        store
            .household_version(&sid(HOUSEHOLD))
            .await
            .unwrap_err()
            .is_not_found()
    );
    let late = household_block("hv-d1", 7);
    let e = store
        .append_blocks(vec![late.clone()], seen("hv-d1", Some(v)))
        .await
        .unwrap_err();
    assert!(
        conflict_on(&e, "household"),
        "a batch admitted before its household was erased lands nowhere: {e:?}"
    );
    assert!(!stored(store, &late).await);
    // Leave no records behind for the checks that count them.
    store
        .delete_subject_blocks(&super::fixtures::pseudonym(HOUSEHOLD))
        .await
        .unwrap();
}
