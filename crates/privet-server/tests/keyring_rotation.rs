//! Master-key rotation on the real SQLite keyring: every live key and instance secret moves
//! to the newest epoch, the instance works with the newest epoch alone (same pseudonyms, old
//! records readable), an erased subject is never brought back, and a keyring copy taken
//! before the rotation unwraps nothing once the old epoch is gone. Erasure receipts promise
//! the next scheduled rotation, and say so when it is overdue.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use privet_crypto::{
    AuditHash, DataKey, Error as CryptoError, InstanceRoot, MasterKey, MasterKeys, Pseudonym,
    RecordAad, open as open_record, os_rng, seal, verify_jws,
};
use privet_policy::BodyFormat;
use privet_server::access::ReadPurpose;
use privet_server::service::error::ServiceError;
use privet_server::service::instance_secrets::{self, EpochSince};
use privet_server::service::reads::{self, EventQuery, ReadItem};
use privet_server::service::{devices, erasure, ingest, rotation, subjects};
use privet_server::{AppState, Clock, Config, Parts};
use privet_store::{ApiKeyId, Keyring, Store, SubjectId};
use privet_store_sqlite::SqliteDir;
use std::sync::Arc;
use std::time::Duration;

const DAY: Duration = Duration::from_secs(86_400);

fn key(n: u8) -> MasterKey {
    MasterKey::from_bytes([n; 32])
}

fn epochs(list: &[u8]) -> MasterKeys {
    MasterKeys::from_epochs(list.iter().map(|&n| (u32::from(n), key(n)))).unwrap()
}

struct Opened {
    store: Arc<dyn Store>,
    keyring: Arc<dyn Keyring>,
    _dir: tempfile::TempDir,
}

fn open() -> Opened {
    let dir = tempfile::tempdir().unwrap();
    let opened = SqliteDir::open(&dir.path().join("data")).unwrap();
    Opened {
        store: Arc::new(opened.store),
        keyring: Arc::new(opened.keyring),
        _dir: dir,
    }
}

/// A server state over `o` with these master keys, opened the way the binary opens it: the
/// root from the keyring (made on first open), the shared signing key from the keyring.
async fn state(o: &Opened, epochs: MasterKeys, clock: Clock, config: Config) -> AppState {
    let root = instance_secrets::root(o.keyring.as_ref(), &epochs, clock.now())
        .await
        .unwrap();
    let signing = instance_secrets::shared_signing_key(o.keyring.as_ref(), &epochs)
        .await
        .unwrap();
    let products = common::fixture_products(&clock);
    AppState::new(
        config,
        Parts {
            store: o.store.clone(),
            keyring: o.keyring.clone(),
            root,
            epochs,
            signing,
            products,
            clock,
        },
    )
}

/// A household with a plug that sent one reading.
async fn household_with_a_reading(state: &AppState, name: &str) -> SubjectId {
    let home = subjects::create_household(state, name, "system")
        .await
        .unwrap();
    let reg = devices::register(state, "acme-plug", Some(&home), None, "system")
        .await
        .unwrap();
    let device = state.store().device(&reg.id).await.unwrap();
    let ts = state.clock().now().to_string();
    let body = serde_json::json!([{"stream": "power", "ts": ts, "data": {"watts": 7}}]);
    let out = ingest::ingest(
        state,
        &device,
        body.to_string().as_bytes(),
        BodyFormat::Json,
    )
    .await
    .unwrap();
    assert_eq!(out.accepted, 1);
    home
}

/// The plug readings a `keep_working` read returns.
async fn readings(state: &AppState) -> usize {
    let cap = ReadPurpose {
        actor: "key:test".to_owned(),
        key: ApiKeyId::new("test"),
        purpose: "keep_working".to_owned(),
    };
    let mut rx = reads::start(state, cap, EventQuery::default())
        .await
        .unwrap();
    let mut n = 0;
    while let Some(item) = rx.recv().await {
        match item {
            ReadItem::Record(_) => n += 1,
            ReadItem::Failed(e) => panic!("read failed: {e}"),
            ReadItem::Done(_) => break,
        }
    }
    n
}

async fn all_keys(keyring: &dyn Keyring) -> Vec<(Pseudonym, Vec<u8>)> {
    let mut out: Vec<(Pseudonym, Vec<u8>)> = Vec::new();
    loop {
        let page = keyring
            .wrapped_keys(out.last().map(|(p, _)| *p), 2)
            .await
            .unwrap();
        let before = out.len();
        for (p, w) in page {
            if out.last().is_none_or(|(last, _)| p > *last) {
                out.push((p, w));
            }
        }
        if out.len() == before {
            return out;
        }
    }
}

#[tokio::test]
async fn rotation_moves_everything_to_the_newest_epoch_and_the_old_one_can_go() {
    let o = open();
    let clock = common::clock();
    let old = state(&o, epochs(&[1]), clock.clone(), Config::default()).await;
    let kept = household_with_a_reading(&old, "Kept House").await;
    let kept_member = subjects::create_member(&old, &kept, false, "Ada", None, "system")
        .await
        .unwrap();
    let erased = household_with_a_reading(&old, "Erased House").await;
    let kept_p = old.pseudonyms().pseudonym(kept.as_str());
    let erased_p = old.pseudonyms().pseudonym(erased.as_str());
    let signing_before = old.signing().verifying_key().clone();
    // A key wrapped before epochs existed (no epoch tag): epoch 1.
    let legacy = Pseudonym::from_bytes([0xAB; 16]);
    let legacy_key = DataKey::generate(&mut os_rng());
    o.keyring
        .put(
            &legacy,
            key(1).wrap_data_key(&legacy, &legacy_key, &mut os_rng()),
            clock.now(),
        )
        .await
        .unwrap();
    assert_eq!(readings(&old).await, 2);

    // The copy a backup, WAL archive or replica would hold from before the erasure.
    let copy = all_keys(o.keyring.as_ref()).await;
    assert!(copy.iter().any(|(p, _)| *p == erased_p));
    let copied_root = o
        .keyring
        .secret(instance_secrets::ROOT_KEY)
        .await
        .unwrap()
        .unwrap();

    erasure::erase(&old, &erased, "system").await.unwrap();
    let live = all_keys(o.keyring.as_ref()).await.len() as u64;
    assert_eq!(live, copy.len() as u64 - 1);

    // Epoch 2 is added; the rotation re-wraps every live key and both secrets.
    clock.advance(SignedDuration::from_hours(1));
    let both = epochs(&[1, 2]);
    let report = rotation::rotate(
        o.store.as_ref(),
        o.keyring.as_ref(),
        &both,
        clock.now(),
        "cli",
    )
    .await
    .unwrap();
    assert_eq!(report.to_epoch, 2);
    assert_eq!(report.rewrapped.get(&1), Some(&live), "{report:?}");
    assert_eq!(report.rewrapped.len(), 1);
    assert_eq!(report.current, 0);
    assert!(report.is_complete(), "{report:?}");
    assert_eq!(
        report.secrets_rewrapped,
        vec![instance_secrets::ROOT_KEY, instance_secrets::SIGNING_KEY]
    );

    let status = rotation::status(o.keyring.as_ref(), &both).await.unwrap();
    assert_eq!(status.keys.get(&1), Some(&0), "{status:?}");
    assert_eq!(status.keys.get(&2), Some(&live));
    assert!(status.can_retire(1));
    assert_eq!(
        status.secrets.get(&2).map(Vec::len),
        Some(2),
        "both secrets under epoch 2: {status:?}"
    );
    assert_eq!(
        status.last_rotation,
        Some(EpochSince {
            epoch: 2,
            since: clock.now()
        })
    );
    let after = all_keys(o.keyring.as_ref()).await;
    assert!(
        after
            .iter()
            .all(|(_, w)| MasterKeys::epoch_of(w).unwrap() == 2 && w[0] == 0xE0),
        "every wrapped key names epoch 2"
    );
    assert!(
        after.iter().all(|(p, _)| *p != erased_p),
        "the erased subject's key is in no keyring row"
    );

    // Running it again finds nothing to do and does not restart the schedule.
    clock.advance(SignedDuration::from_hours(1));
    let again = rotation::rotate(
        o.store.as_ref(),
        o.keyring.as_ref(),
        &both,
        clock.now(),
        "cli",
    )
    .await
    .unwrap();
    assert_eq!(again.current, live);
    assert!(again.rewrapped.is_empty() && again.secrets_rewrapped.is_empty());
    assert_eq!(
        instance_secrets::last_rotation(o.keyring.as_ref())
            .await
            .unwrap()
            .map(|r| r.since),
        status.last_rotation.map(|r| r.since)
    );

    // Epoch 1 is retired: the instance runs on epoch 2 alone, with the same pseudonyms,
    // the same signing key, and every old record and profile readable.
    let new = state(&o, epochs(&[2]), clock.clone(), Config::default()).await;
    assert_eq!(new.pseudonyms().pseudonym(kept.as_str()), kept_p);
    assert_eq!(new.signing().verifying_key(), &signing_before);
    assert_eq!(readings(&new).await, 1, "the kept household's reading");
    let member = new.store().subject(&kept_member).await.unwrap();
    assert_eq!(subjects::profile(&new, &member).await.unwrap().name, "Ada");
    let aad = RecordAad::new([1; 16], legacy, "power");
    let sealed = seal(&legacy_key, &aad, b"reading", &mut os_rng()).unwrap();
    let unwrapped = new.keys().get(&legacy).await.unwrap();
    assert_eq!(
        open_record(&unwrapped, &aad, &sealed).unwrap(),
        b"reading",
        "a key wrapped before epochs survives the rotation"
    );
    assert!(
        new.store()
            .subject(&erased)
            .await
            .unwrap_err()
            .is_not_found()
    );

    // The forensic point: the copy from before unwraps nothing with epoch 2 alone — not the
    // erased subject's key, not any other, not the root.
    let only_2 = epochs(&[2]);
    for (p, wrapped) in &copy {
        assert!(
            matches!(
                only_2.unwrap_data_key(p, wrapped),
                Err(CryptoError::EpochNotConfigured { epoch: 1, .. })
            ),
            "a copied key still unwraps"
        );
    }
    assert!(matches!(
        only_2.open_secret(instance_secrets::ROOT_KEY, &copied_root),
        Err(CryptoError::EpochNotConfigured { epoch: 1, .. })
    ));
    // Nor does anything the live keyring holds stand in for epoch 1's key: the root is made
    // of derived keys, never a master key.
    let live_root = only_2
        .open_secret(
            instance_secrets::ROOT_KEY,
            &o.keyring
                .secret(instance_secrets::ROOT_KEY)
                .await
                .unwrap()
                .unwrap(),
        )
        .unwrap();
    let (_, erased_copy) = copy.iter().find(|(p, _)| *p == erased_p).unwrap();
    for window in live_root.windows(32) {
        let candidate = MasterKeys::single(MasterKey::from_bytes(window.try_into().unwrap()));
        assert!(candidate.unwrap_data_key(&erased_p, erased_copy).is_err());
    }
}

#[tokio::test]
async fn without_the_epoch_that_seals_the_root_the_instance_does_not_open() {
    let o = open();
    instance_secrets::root(o.keyring.as_ref(), &epochs(&[1]), common::clock().now())
        .await
        .unwrap();
    let err = instance_secrets::root(o.keyring.as_ref(), &epochs(&[2]), common::clock().now())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            ServiceError::Crypto(CryptoError::EpochNotConfigured { epoch: 1, .. })
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "instance secret is wrapped under master-key epoch 1, which is not configured"
    );
}

#[tokio::test]
async fn a_keyring_without_epoch_1_gets_a_fresh_root_and_keeps_it() {
    let o = open();
    let now = common::clock().now();
    let first = instance_secrets::root(o.keyring.as_ref(), &epochs(&[3]), now)
        .await
        .unwrap();
    assert_ne!(
        first.pseudonymizer().pseudonym("s"),
        InstanceRoot::derive(&key(3)).pseudonymizer().pseudonym("s"),
        "not derived from the newest epoch, which will be retired"
    );
    let again = instance_secrets::root(o.keyring.as_ref(), &epochs(&[3, 4]), now)
        .await
        .unwrap();
    assert_eq!(
        again.pseudonymizer().pseudonym("s"),
        first.pseudonymizer().pseudonym("s")
    );
}

#[tokio::test]
async fn keys_under_an_epoch_not_configured_are_reported_and_left_alone() {
    let o = open();
    let now = common::clock().now();
    let p = Pseudonym::from_bytes([1; 16]);
    let wrapped = epochs(&[1]).wrap_data_key(&p, &DataKey::generate(&mut os_rng()), &mut os_rng());
    o.keyring.put(&p, wrapped.clone(), now).await.unwrap();
    let report = rotation::rotate(
        o.store.as_ref(),
        o.keyring.as_ref(),
        &epochs(&[2, 3]),
        now,
        "cli",
    )
    .await
    .unwrap();
    assert_eq!(report.unreadable.get(&1), Some(&1));
    assert!(!report.is_complete());
    assert_eq!(o.keyring.get(&p).await.unwrap(), wrapped, "left as it was");
    assert_eq!(
        instance_secrets::last_rotation(o.keyring.as_ref())
            .await
            .unwrap(),
        None,
        "an incomplete rotation does not move the schedule"
    );
    let audit = o.store.audit(None, 100).await.unwrap();
    let entry = &audit
        .iter()
        .find(|e| e.entry.action == "keyring.rotate")
        .expect("audited")
        .entry;
    assert!(entry.subjects.is_empty(), "counts only");
    assert_eq!(entry.detail["complete"], false);
    assert_eq!(entry.detail["unreadable"]["1"], 1);
}

/// A keyring on which the subject `erase` is erased just before the first re-wrap of its key.
struct EraseDuringRotation {
    inner: Arc<dyn Keyring>,
    erase: Pseudonym,
}

#[async_trait]
impl Keyring for EraseDuringRotation {
    async fn put(&self, s: &Pseudonym, w: Vec<u8>, at: Timestamp) -> privet_store::Result<()> {
        self.inner.put(s, w, at).await
    }
    async fn get(&self, s: &Pseudonym) -> privet_store::Result<Vec<u8>> {
        self.inner.get(s).await
    }
    async fn destroy(&self, s: &Pseudonym) -> privet_store::Result<bool> {
        self.inner.destroy(s).await
    }
    async fn has_keys(&self, s: &[Pseudonym]) -> privet_store::Result<Vec<bool>> {
        self.inner.has_keys(s).await
    }
    async fn set_audit_anchor(&self, seq: i64, hash: AuditHash) -> privet_store::Result<()> {
        self.inner.set_audit_anchor(seq, hash).await
    }
    async fn reset_audit_anchor(&self, seq: i64, hash: AuditHash) -> privet_store::Result<()> {
        self.inner.reset_audit_anchor(seq, hash).await
    }
    async fn audit_anchor(&self) -> privet_store::Result<Option<(i64, AuditHash)>> {
        self.inner.audit_anchor().await
    }
    async fn wrapped_keys(
        &self,
        after: Option<Pseudonym>,
        limit: usize,
    ) -> privet_store::Result<Vec<(Pseudonym, Vec<u8>)>> {
        self.inner.wrapped_keys(after, limit).await
    }
    async fn rewrap(&self, s: &Pseudonym, old: &[u8], new: Vec<u8>) -> privet_store::Result<bool> {
        if *s == self.erase {
            self.inner.destroy(s).await?;
        }
        self.inner.rewrap(s, old, new).await
    }
    async fn secret(&self, name: &str) -> privet_store::Result<Option<Vec<u8>>> {
        self.inner.secret(name).await
    }
    async fn put_secret(&self, name: &str, sealed: Vec<u8>) -> privet_store::Result<Vec<u8>> {
        self.inner.put_secret(name, sealed).await
    }
    async fn rewrap_secret(
        &self,
        name: &str,
        old: &[u8],
        new: Vec<u8>,
    ) -> privet_store::Result<bool> {
        self.inner.rewrap_secret(name, old, new).await
    }
}

#[tokio::test]
async fn a_subject_erased_while_the_rotation_runs_stays_erased() {
    let o = open();
    let now = common::clock().now();
    let one = epochs(&[1]);
    let subjects: Vec<Pseudonym> = (1..=3u8).map(|i| Pseudonym::from_bytes([i; 16])).collect();
    for p in &subjects {
        let wrapped = one.wrap_data_key(p, &DataKey::generate(&mut os_rng()), &mut os_rng());
        o.keyring.put(p, wrapped, now).await.unwrap();
    }
    let racing = EraseDuringRotation {
        inner: o.keyring.clone(),
        erase: subjects[1],
    };
    let report = rotation::rotate(o.store.as_ref(), &racing, &epochs(&[1, 2]), now, "cli")
        .await
        .unwrap();
    assert_eq!(report.erased_meanwhile, 1, "{report:?}");
    assert_eq!(report.rewrapped.get(&1), Some(&2));
    assert!(
        o.keyring
            .get(&subjects[1])
            .await
            .unwrap_err()
            .is_not_found(),
        "not brought back"
    );
}

#[tokio::test]
async fn receipts_promise_the_next_scheduled_rotation_and_say_when_it_is_overdue() {
    let o = open();
    let clock = common::clock();
    let start = clock.now();
    let config = Config {
        key_rotation_period: 10 * DAY,
        ..Config::default()
    };
    let st = state(&o, epochs(&[1]), clock.clone(), config.clone()).await;
    let claims =
        |r: &erasure::Receipt| verify_jws(st.signing().verifying_key(), &r.receipt).unwrap();

    let first = household_with_a_reading(&st, "First").await;
    clock.advance(SignedDuration::from_hours(24));
    let receipt = erasure::erase(&st, &first, "system").await.unwrap();
    let due = start + SignedDuration::from_hours(240);
    assert_eq!(receipt.key_destroyed_at, clock.now());
    assert_eq!(receipt.older_copies_unreadable_by, Some(due));
    assert!(!receipt.rotation_overdue);
    let c = claims(&receipt);
    assert_eq!(c["key_destroyed_at"], clock.now().to_string());
    assert_eq!(c["older_copies_unreadable_by"], due.to_string());
    assert_eq!(c["rotation_overdue"], false);
    assert_eq!(c["counts"]["keys"], 1, "the existing fields are unchanged");
    assert_eq!(c["erased_at"], receipt.erased_at.to_string());

    // The rotation is missed: no date is promised any more.
    let second = household_with_a_reading(&st, "Second").await;
    clock.advance(SignedDuration::from_hours(240));
    let receipt = erasure::erase(&st, &second, "system").await.unwrap();
    assert_eq!(receipt.older_copies_unreadable_by, None);
    assert!(receipt.rotation_overdue);
    let c = claims(&receipt);
    assert!(c["older_copies_unreadable_by"].is_null());
    assert_eq!(c["rotation_overdue"], true);

    // After a rotation to a new epoch the schedule counts from it.
    let third = household_with_a_reading(&st, "Third").await;
    let rotated_at = clock.now();
    let report = rotation::rotate(
        o.store.as_ref(),
        o.keyring.as_ref(),
        &epochs(&[1, 2]),
        rotated_at,
        "cli",
    )
    .await
    .unwrap();
    assert!(report.is_complete());
    let st = state(&o, epochs(&[2]), clock.clone(), config).await;
    clock.advance(SignedDuration::from_hours(1));
    let receipt = erasure::erase(&st, &third, "system").await.unwrap();
    assert_eq!(
        receipt.older_copies_unreadable_by,
        Some(rotated_at + SignedDuration::from_hours(240))
    );
    assert!(!receipt.rotation_overdue);
}

#[test]
fn the_default_rotation_period_is_30_days() {
    assert_eq!(Config::default().key_rotation_period, 30 * DAY);
}
