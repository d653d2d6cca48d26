//! Delivery de-duplication and broker credentials, for the MQTT bridge: a broker hands a
//! message over again when it is not sure it was acknowledged, and the append that carries a
//! delivery the device has recorded writes nothing, in the same commit that would have stored
//! it — whatever else happened since, and however many copies race.

use super::Residue;
use super::fixtures::{at, block, sid, subject};
use crate::{
    BrokerCredential, DeliveryId, DeviceId, DeviceSeen, ErasureStep, Error, HouseholdVersion,
    NewBlock, NewDevice, Store, SubjectKind,
};
use privet_crypto::hash_token;

const HOUSEHOLD: &str = "dl-h";
/// Every append here is seen at this time, except the prune check's.
const SEEN: &str = "2026-08-01T11:00:00Z";

fn fp(n: u8) -> DeliveryId {
    DeliveryId([n; 32])
}

fn device(id: &str, household: Option<&str>, broker_hash: Option<&str>) -> NewDevice {
    NewDevice {
        id: DeviceId::new(id),
        product: "acme-thermostat-2".into(),
        household: household.map(sid),
        member: None,
        token_hash: hash_token(&format!("dl-token-{id}")),
        claim_hash: None,
        broker_hash: broker_hash.map(str::to_owned),
        created_at: at("2026-01-01T00:00:00Z"),
    }
}

/// A block of the household's sent by `device` at minute `m` of hour `h` (unique ids).
fn household_block(device: &str, h: u32, m: u32) -> NewBlock {
    block(
        HOUSEHOLD,
        "climate",
        device,
        &format!("2026-07-01T{h:02}:{m:02}:00Z"),
        "400d",
        1,
    )
}

fn seen(device: &str, delivery: Option<DeliveryId>, under: Option<u64>) -> Option<DeviceSeen> {
    Some(DeviceSeen {
        device: DeviceId::new(device),
        at: at(SEEN),
        firmware: None,
        admitted_under: under.map(|version| HouseholdVersion {
            household: sid(HOUSEHOLD),
            version,
        }),
        deliveries: delivery.into_iter().collect(),
    })
}

async fn blocks_stored(store: &dyn Store) -> u64 {
    store.record_counts().await.unwrap().0
}

async fn version(store: &dyn Store) -> u64 {
    store.household_version(&sid(HOUSEHOLD)).await.unwrap()
}

#[track_caller]
fn assert_conflict_on(result: crate::Result<()>, entity: &str, what: &str) {
    match result {
        Err(Error::Conflict { entity: got, .. }) if got == entity => {}
        other => panic!("{what}: expected a conflict on {entity}, got {other:?}"),
    }
}

pub(super) async fn deliveries(store: &dyn Store, residue: &dyn Residue) {
    store
        .create_subject(subject(HOUSEHOLD, SubjectKind::Household, None))
        .await
        .unwrap();
    for id in ["dl-d1", "dl-d2", "dl-d3", "dl-d4"] {
        store
            .create_device(device(id, Some(HOUSEHOLD), None))
            .await
            .unwrap();
    }
    a_second_append_of_a_delivery_writes_nothing(store).await;
    racing_copies_of_a_delivery_store_once(store).await;
    a_duplicate_is_reported_even_if_the_household_changed(store).await;
    an_append_without_blocks_records_its_delivery(store).await;
    messages_stored_together_are_each_a_delivery(store).await;
    a_reset_or_erasure_forgets_the_device_deliveries(store).await;
    pruned_deliveries_are_accepted_again(store).await;
    broker_credentials(store, residue).await;
}

async fn a_second_append_of_a_delivery_writes_nothing(store: &dyn Store) {
    let first = household_block("dl-d1", 10, 0);
    store
        .append_blocks(vec![first], seen("dl-d1", Some(fp(1)), None))
        .await
        .unwrap();
    let before = blocks_stored(store).await;
    let seen_before = store.device(&DeviceId::new("dl-d1")).await.unwrap();

    let mut again = seen("dl-d1", Some(fp(1)), Some(version(store).await));
    if let Some(s) = &mut again {
        s.at = at("2026-08-02T00:00:00Z");
        s.firmware = Some("9.9.9".into());
    }
    assert_conflict_on(
        store
            .append_blocks(vec![household_block("dl-d1", 10, 1)], again)
            .await,
        "delivery",
        "the same delivery again",
    );
    assert_eq!(
        blocks_stored(store).await,
        before,
        "a duplicate stores no blocks"
    );
    assert_eq!(
        store.device(&DeviceId::new("dl-d1")).await.unwrap(),
        seen_before,
        "a duplicate does not touch the device"
    );

    store
        .append_blocks(
            vec![household_block("dl-d2", 10, 2)],
            seen("dl-d2", Some(fp(1)), None),
        )
        .await
        .expect("the same fingerprint from another device is another delivery");
    store
        .append_blocks(
            vec![household_block("dl-d1", 10, 3)],
            seen("dl-d1", Some(fp(2)), None),
        )
        .await
        .expect("another delivery of the same device is stored");
    store
        .append_blocks(
            vec![household_block("dl-d1", 10, 4)],
            seen("dl-d1", None, None),
        )
        .await
        .expect("an append without a delivery is never a duplicate");
    assert_eq!(blocks_stored(store).await, before + 3);
}

async fn racing_copies_of_a_delivery_store_once(store: &dyn Store) {
    let before = blocks_stored(store).await;
    let v = version(store).await;
    // Eight copies of one delivery and four other deliveries, all at once: on either backend
    // they share commit groups, and one duplicate must not fail the calls grouped with it.
    let copies = (0..8).map(|i| {
        store.append_blocks(
            vec![household_block("dl-d1", 11, i)],
            seen("dl-d1", Some(fp(3)), Some(v)),
        )
    });
    let others = (0..4u8).map(|i| {
        store.append_blocks(
            vec![household_block("dl-d2", 12, u32::from(i))],
            seen("dl-d2", Some(fp(10 + i)), Some(v)),
        )
    });
    let copies = futures::future::join_all(copies);
    let others = futures::future::join_all(others);
    let (copies, others) = futures::join!(copies, others);
    assert_eq!(
        copies.iter().filter(|r| r.is_ok()).count(),
        1,
        "exactly one copy is stored: {copies:?}"
    );
    for r in copies.into_iter().filter(Result::is_err) {
        assert_conflict_on(r, "delivery", "a racing copy");
    }
    for r in others {
        r.expect("a call grouped with a duplicate commits as usual");
    }
    assert_eq!(blocks_stored(store).await, before + 1 + 4);
}

async fn a_duplicate_is_reported_even_if_the_household_changed(store: &dyn Store) {
    let old = version(store).await;
    store
        .append_blocks(
            vec![household_block("dl-d1", 13, 0)],
            seen("dl-d1", Some(fp(4)), Some(old)),
        )
        .await
        .unwrap();
    store.set_restricted(&sid(HOUSEHOLD), true).await.unwrap();
    store.set_restricted(&sid(HOUSEHOLD), false).await.unwrap();
    assert_ne!(version(store).await, old);
    let before = blocks_stored(store).await;
    assert_conflict_on(
        store
            .append_blocks(
                vec![household_block("dl-d1", 13, 1)],
                seen("dl-d1", Some(fp(4)), Some(old)),
            )
            .await,
        "delivery",
        "a stored message admitted under an old version",
    );
    // The version check is there all the same, after the delivery's.
    assert_conflict_on(
        store
            .append_blocks(
                vec![household_block("dl-d1", 13, 2)],
                seen("dl-d1", Some(fp(5)), Some(old)),
            )
            .await,
        "household",
        "a new message admitted under an old version",
    );
    // That refused call recorded nothing: admitted under the current version, it is stored.
    store
        .append_blocks(
            vec![household_block("dl-d1", 13, 3)],
            seen("dl-d1", Some(fp(5)), Some(version(store).await)),
        )
        .await
        .expect("a call refused on its household records no delivery");
    assert_eq!(blocks_stored(store).await, before + 1);
}

async fn an_append_without_blocks_records_its_delivery(store: &dyn Store) {
    store
        .append_blocks(Vec::new(), seen("dl-d1", Some(fp(6)), None))
        .await
        .unwrap();
    let before = blocks_stored(store).await;
    assert_conflict_on(
        store
            .append_blocks(
                vec![household_block("dl-d1", 14, 0)],
                seen("dl-d1", Some(fp(6)), None),
            )
            .await,
        "delivery",
        "a delivery first stored without blocks",
    );
    assert_conflict_on(
        store
            .append_blocks(Vec::new(), seen("dl-d1", Some(fp(6)), None))
            .await,
        "delivery",
        "an empty delivery again",
    );
    assert_eq!(blocks_stored(store).await, before);
}

/// A device's messages in flight stored in one append: each of its deliveries is recorded,
/// and a call naming any recorded one (or one twice) writes nothing, not even its new ones.
async fn messages_stored_together_are_each_a_delivery(store: &dyn Store) {
    let several = |ids: &[u8]| {
        let mut s = seen("dl-d2", None, None);
        if let Some(s) = &mut s {
            s.deliveries = ids.iter().map(|n| fp(*n)).collect();
        }
        s
    };
    store
        .append_blocks(
            vec![household_block("dl-d2", 15, 0)],
            several(&[40, 41, 42]),
        )
        .await
        .expect("three messages stored together");
    let before = blocks_stored(store).await;
    assert_conflict_on(
        store
            .append_blocks(vec![household_block("dl-d2", 15, 1)], several(&[43, 41]))
            .await,
        "delivery",
        "a group holding one stored message",
    );
    assert_conflict_on(
        store
            .append_blocks(vec![household_block("dl-d2", 15, 2)], several(&[44, 44]))
            .await,
        "delivery",
        "a group naming one message twice",
    );
    assert_eq!(
        blocks_stored(store).await,
        before,
        "refused groups store nothing"
    );
    for n in [40, 42] {
        assert_conflict_on(
            store.append_blocks(Vec::new(), several(&[n])).await,
            "delivery",
            "each message of a stored group, alone",
        );
    }
    for n in [43, 44] {
        store
            .append_blocks(Vec::new(), several(&[n]))
            .await
            .expect("a refused group recorded none of its deliveries");
    }
}

async fn a_reset_or_erasure_forgets_the_device_deliveries(store: &dyn Store) {
    store
        .append_blocks(Vec::new(), seen("dl-d3", Some(fp(7)), None))
        .await
        .unwrap();
    store
        .reset_device(
            &DeviceId::new("dl-d3"),
            at(SEEN),
            Some(hash_token("dl-token-d3-new")),
            None,
            None,
        )
        .await
        .unwrap();
    store
        .append_blocks(Vec::new(), seen("dl-d3", Some(fp(7)), None))
        .await
        .expect("a reset device's deliveries are forgotten");

    let household = "dl-erased";
    store
        .create_subject(subject(household, SubjectKind::Household, None))
        .await
        .unwrap();
    store
        .create_device(device(
            "dl-e1",
            Some(household),
            Some("$7$dl-erased-broker"),
        ))
        .await
        .unwrap();
    store
        .append_blocks(Vec::new(), seen("dl-e1", Some(fp(8)), None))
        .await
        .unwrap();
    let h = store.subject(&sid(household)).await.unwrap();
    let erased = store
        .erase_subject(&ErasureStep::for_subject(&h), at(SEEN))
        .await
        .unwrap();
    assert_eq!(erased.devices, 1);
    store
        .append_blocks(Vec::new(), seen("dl-e1", Some(fp(8)), None))
        .await
        .expect("a device revoked with its household has its deliveries forgotten");
}

async fn pruned_deliveries_are_accepted_again(store: &dyn Store) {
    let old = at("2025-01-01T00:00:00Z");
    let newer = at("2025-06-01T00:00:00Z");
    let with_at = |delivery: u8, when| {
        let mut s = seen("dl-d4", Some(fp(delivery)), None);
        if let Some(s) = &mut s {
            s.at = when;
        }
        s
    };
    for n in 20..23 {
        store
            .append_blocks(Vec::new(), with_at(n, old))
            .await
            .unwrap();
    }
    store
        .append_blocks(Vec::new(), with_at(23, newer))
        .await
        .unwrap();
    // Every other delivery of the suite is recorded later than both.
    assert_eq!(
        store
            .prune_deliveries(at("2025-03-01T00:00:00Z"))
            .await
            .unwrap(),
        3,
        "the three deliveries recorded before the cut"
    );
    assert_eq!(
        store
            .prune_deliveries(at("2025-03-01T00:00:00Z"))
            .await
            .unwrap(),
        0
    );
    store
        .append_blocks(Vec::new(), with_at(20, newer))
        .await
        .expect("a pruned delivery is stored again");
    assert_conflict_on(
        store.append_blocks(Vec::new(), with_at(23, newer)).await,
        "delivery",
        "a delivery recorded after the cut is kept",
    );
    // Deliveries recorded with the suite's time (after the cut) were kept too.
    assert_conflict_on(
        store
            .append_blocks(Vec::new(), seen("dl-d1", Some(fp(1)), None))
            .await,
        "delivery",
        "a delivery recorded after the cut is kept",
    );
}

/// The broker credentials of this module's devices, in the store's order.
async fn credentials(store: &dyn Store) -> Vec<(String, String)> {
    let all = store.broker_credentials().await.unwrap();
    let ids: Vec<&str> = all.iter().map(|c| c.device.as_str()).collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    assert_eq!(ids, sorted, "broker credentials come by device id");
    all.into_iter()
        .filter(|c| c.device.as_str().starts_with("dl-b"))
        .map(|BrokerCredential { device, hash }| (device.as_str().to_owned(), hash))
        .collect()
}

async fn broker_credentials(store: &dyn Store, residue: &dyn Residue) {
    let (old, replaced, revoked) = (
        "$7$dl-broker-old",
        "$7$dl-broker-new",
        "$7$dl-broker-revoked",
    );
    // Created out of id order, so the order asserted is the store's.
    for (id, hash) in [
        ("dl-b3", Some(revoked)),
        ("dl-b2", None),
        ("dl-b1", Some(old)),
    ] {
        store.create_device(device(id, None, hash)).await.unwrap();
    }
    assert_eq!(
        credentials(store).await,
        [
            ("dl-b1".to_owned(), old.to_owned()),
            ("dl-b3".to_owned(), revoked.to_owned())
        ],
        "devices with a broker hash, and only they"
    );
    assert!(residue.holds(old.as_bytes()).await.unwrap());

    store
        .reset_device(
            &DeviceId::new("dl-b1"),
            at(SEEN),
            Some(hash_token("dl-token-b1-new")),
            None,
            Some(replaced.to_owned()),
        )
        .await
        .unwrap();
    assert_eq!(
        credentials(store).await,
        [
            ("dl-b1".to_owned(), replaced.to_owned()),
            ("dl-b3".to_owned(), revoked.to_owned())
        ],
        "a reset replaces the broker hash"
    );
    assert!(
        !residue.holds(old.as_bytes()).await.unwrap(),
        "a reset device's old broker hash is in no file"
    );

    store
        .reset_device(
            &DeviceId::new("dl-b1"),
            at(SEEN),
            Some(hash_token("dl-token-b1-newer")),
            None,
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        credentials(store).await,
        [("dl-b3".to_owned(), revoked.to_owned())],
        "a reset without a broker hash removes it"
    );
    assert!(!residue.holds(replaced.as_bytes()).await.unwrap());

    // Revoked (no new token): whatever hash is passed, the device has no credential.
    store
        .reset_device(
            &DeviceId::new("dl-b3"),
            at(SEEN),
            None,
            None,
            Some("$7$dl-broker-after-revoke".to_owned()),
        )
        .await
        .unwrap();
    assert_eq!(
        credentials(store).await,
        [],
        "a revoked device is not listed"
    );
    assert!(!residue.holds(revoked.as_bytes()).await.unwrap());
    assert!(
        !residue.holds(b"$7$dl-broker-after-revoke").await.unwrap(),
        "a revoked device stores no broker hash"
    );
    assert!(
        !residue.holds(b"$7$dl-erased-broker").await.unwrap(),
        "a device revoked by erasure keeps no broker hash"
    );
}
