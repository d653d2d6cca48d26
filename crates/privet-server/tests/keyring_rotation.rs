//! Master-key rotation on the real SQLite keyring: every live key and instance secret moves
//! to the newest epoch, the instance works with the newest epoch alone (same pseudonyms, old
//! records readable), an erased subject is never brought back, and a keyring copy taken
//! before the rotation unwraps nothing once the old epoch is gone. Erasure receipts promise
//! the next scheduled rotation — or the one after, for keys under an epoch added since — with
//! the period kept in the keyring, and say so when it is overdue. An instance whose key for an
//! epoch differs is refused; a keyring from before epochs keeps its pseudonyms, TOTP secrets
//! and e-mails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use privet_crypto::{
    AuditHash, DataKey, Error as CryptoError, InstanceRoot, MasterKey, MasterKeys, Pseudonym,
    RecordAad, SigningKey, TotpSecret, current_totp_code, open as open_record, os_rng, seal,
    verify_jws,
};
use privet_policy::BodyFormat;
use privet_server::access::ReadPurpose;
use privet_server::service::error::ServiceError;
use privet_server::service::instance_secrets::{self, EpochSince};
use privet_server::service::reads::{self, EventQuery, ReadItem};
use privet_server::service::sign_in::{self, Attempt};
use privet_server::service::{accounts, devices, erasure, ingest, rotation, subjects};
use privet_server::{AppState, Clock, Config, Parts};
use privet_store::{ApiKeyId, Keyring, Store, SubjectId};
use privet_store_sqlite::SqliteDir;
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};
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

/// The audit chain rotations here link their entries with (any key: no test reads it back).
fn test_chain() -> privet_policy::AuditChain {
    privet_policy::AuditChain::new(privet_crypto::AuditKey::new(&[3; 32]), 1)
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
        &test_chain(),
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
        &test_chain(),
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
        &test_chain(),
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

/// What happens on a [`Racing`] keyring while a rotation re-wraps.
enum OnRewrap {
    /// This subject is erased just before the first re-wrap of its key.
    Erase(Pseudonym),
    /// On the first re-wrap, another instance still on epoch 1 makes a key behind the cursor.
    MakeOldKeyOnce,
    /// On every re-wrap, another instance still on epoch 1 makes a key behind the cursor.
    MakeOldKeyEvery,
}

/// A keyring on which something happens during each re-wrap, as another instance would do it.
struct Racing {
    inner: Arc<dyn Keyring>,
    on: OnRewrap,
    made: AtomicU16,
}

impl Racing {
    fn new(inner: Arc<dyn Keyring>, on: OnRewrap) -> Self {
        Racing {
            inner,
            on,
            made: AtomicU16::new(0),
        }
    }

    /// A key under epoch 1 for a subject before every other one (`00 00 … n`).
    async fn make_old_key(&self) -> privet_store::Result<()> {
        let n = self.made.fetch_add(1, Ordering::SeqCst) + 1;
        let mut bytes = [0; 16];
        bytes[14..].copy_from_slice(&n.to_be_bytes());
        let p = Pseudonym::from_bytes(bytes);
        let wrapped =
            epochs(&[1]).wrap_data_key(&p, &DataKey::generate(&mut os_rng()), &mut os_rng());
        self.inner.put(&p, wrapped, common::clock().now()).await
    }

    fn made(&self) -> u64 {
        u64::from(self.made.load(Ordering::SeqCst))
    }
}

#[async_trait]
impl Keyring for Racing {
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
        match self.on {
            OnRewrap::Erase(erase) if *s == erase => {
                self.inner.destroy(s).await?;
            }
            OnRewrap::MakeOldKeyOnce if self.made() == 0 => self.make_old_key().await?,
            OnRewrap::MakeOldKeyEvery => self.make_old_key().await?,
            _ => {}
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
    let racing = Racing::new(o.keyring.clone(), OnRewrap::Erase(subjects[1]));
    let report = rotation::rotate(
        o.store.as_ref(),
        &racing,
        &test_chain(),
        &epochs(&[1, 2]),
        now,
        "cli",
    )
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
        &test_chain(),
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

/// A subject's key wrapped under `keys`, put straight into the keyring (as an instance
/// configured with `keys` would make it).
async fn put_key(o: &Opened, keys: &MasterKeys, n: u8) -> Pseudonym {
    let p = Pseudonym::from_bytes([n; 16]);
    let wrapped = keys.wrap_data_key(&p, &DataKey::generate(&mut os_rng()), &mut os_rng());
    o.keyring
        .put(&p, wrapped, common::clock().now())
        .await
        .unwrap();
    p
}

/// `1:K1,2:K2'`: the right epoch 1, a pasted-wrong epoch 2.
fn wrong_2() -> MasterKeys {
    MasterKeys::from_epochs([(1, key(1)), (2, key(9))]).unwrap()
}

#[tokio::test]
async fn an_instance_with_another_key_for_an_epoch_is_refused_whichever_starts_first() {
    let now = common::clock().now();
    for (first, second) in [(epochs(&[1, 2]), wrong_2()), (wrong_2(), epochs(&[1, 2]))] {
        let o = open();
        instance_secrets::root(o.keyring.as_ref(), &first, now)
            .await
            .unwrap();
        let err = instance_secrets::root(o.keyring.as_ref(), &second, now)
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                ServiceError::Crypto(CryptoError::WrongEpochKey { epoch: 2 })
            ),
            "{err:?}"
        );
        let message = err.to_string();
        assert!(message.contains("epoch 2"), "{message}");
        assert!(!message.contains('\n'), "one line: {message}");
        assert!(!message.contains(&format!("{:?}", [9u8; 4])[1..5]));
        // `status` and `rotate` check too, and change nothing.
        assert!(matches!(
            rotation::status(o.keyring.as_ref(), &second).await,
            Err(ServiceError::Crypto(CryptoError::WrongEpochKey {
                epoch: 2
            }))
        ));
        assert!(matches!(
            rotation::rotate(
                o.store.as_ref(),
                o.keyring.as_ref(),
                &test_chain(),
                &second,
                now,
                "cli"
            )
            .await,
            Err(ServiceError::Crypto(CryptoError::WrongEpochKey {
                epoch: 2
            }))
        ));
        // The first instance goes on as before.
        instance_secrets::root(o.keyring.as_ref(), &first, now)
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn an_epoch_without_a_check_value_is_checked_against_what_the_keyring_holds_under_it() {
    // A keyring written before check values existed: keys under epoch 2 by an instance with
    // the wrong key. The next instance to start with epoch 2 is refused, and records nothing.
    let o = open();
    let now = common::clock().now();
    put_key(&o, &wrong_2(), 5).await;
    let err = instance_secrets::root(o.keyring.as_ref(), &epochs(&[1, 2]), now)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            ServiceError::Crypto(CryptoError::WrongEpochKey { epoch: 2 })
        ),
        "{err:?}"
    );
    for name in [
        MasterKeys::check_name(1),
        MasterKeys::check_name(2),
        instance_secrets::ROOT_KEY.to_owned(),
    ] {
        assert_eq!(o.keyring.secret(&name).await.unwrap(), None, "{name}");
    }
    // The instance with the key that made them starts, and keeps the checks from then on.
    instance_secrets::root(o.keyring.as_ref(), &wrong_2(), now)
        .await
        .unwrap();
    assert!(
        o.keyring
            .secret(&MasterKeys::check_name(2))
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn rotation_opens_keys_labelled_current_and_counts_those_that_do_not_open() {
    // A's checks are in the keyring; then keys labelled epoch 2 arrive wrapped under another
    // key (an instance that never checked). They are not "already current".
    let o = open();
    let clock = common::clock();
    let a = epochs(&[1, 2]);
    instance_secrets::root(o.keyring.as_ref(), &a, clock.now())
        .await
        .unwrap();
    put_key(&o, &a, 1).await;
    put_key(&o, &epochs(&[1]), 2).await;
    let stray = put_key(&o, &wrong_2(), 3).await;
    let stray_wrapped = o.keyring.get(&stray).await.unwrap();
    let report = rotation::rotate(
        o.store.as_ref(),
        o.keyring.as_ref(),
        &test_chain(),
        &a,
        clock.now(),
        "cli",
    )
    .await
    .unwrap();
    assert_eq!(report.current, 1, "{report:?}");
    assert_eq!(report.rewrapped.get(&1), Some(&1));
    assert_eq!(
        report.unreadable.get(&2),
        Some(&1),
        "labelled epoch 2, opened, refused"
    );
    assert!(!report.is_complete());
    assert_eq!(
        o.keyring.get(&stray).await.unwrap(),
        stray_wrapped,
        "left as it was"
    );
    let audit = o.store.audit(None, 100).await.unwrap();
    let entry = &audit
        .iter()
        .find(|e| e.entry.action == "keyring.rotate")
        .unwrap()
        .entry;
    assert_eq!(entry.detail["complete"], false);
    assert_eq!(entry.detail["unreadable"]["2"], 1);
}

#[tokio::test]
async fn a_key_made_under_an_old_epoch_behind_the_cursor_is_not_left_behind() {
    let o = open();
    let now = common::clock().now();
    instance_secrets::root(o.keyring.as_ref(), &epochs(&[1]), now)
        .await
        .unwrap();
    for n in 1..=3 {
        put_key(&o, &epochs(&[1]), n).await;
    }
    let racing = Racing::new(o.keyring.clone(), OnRewrap::MakeOldKeyOnce);
    let report = rotation::rotate(
        o.store.as_ref(),
        &racing,
        &test_chain(),
        &epochs(&[1, 2]),
        now,
        "cli",
    )
    .await
    .unwrap();
    assert_eq!(racing.made(), 1);
    assert!(report.is_complete(), "{report:?}");
    assert_eq!(
        report.passes, 3,
        "the second pass found it, the third nothing"
    );
    assert_eq!(report.rewrapped.get(&1), Some(&4), "{report:?}");
    let status = rotation::status(o.keyring.as_ref(), &epochs(&[1, 2]))
        .await
        .unwrap();
    assert_eq!(status.keys.get(&1), Some(&0), "{status:?}");
    assert!(status.can_retire(1));
    assert_eq!(status.last_rotation.map(|r| r.epoch), Some(2));
}

#[tokio::test]
async fn a_rotation_that_never_settles_is_not_complete_and_not_recorded() {
    let o = open();
    let clock = common::clock();
    instance_secrets::root(o.keyring.as_ref(), &epochs(&[1]), clock.now())
        .await
        .unwrap();
    let recorded = instance_secrets::last_rotation(o.keyring.as_ref())
        .await
        .unwrap();
    for n in 1..=2 {
        put_key(&o, &epochs(&[1]), n).await;
    }
    let racing = Racing::new(o.keyring.clone(), OnRewrap::MakeOldKeyEvery);
    clock.advance(SignedDuration::from_hours(1));
    let report = rotation::rotate(
        o.store.as_ref(),
        &racing,
        &test_chain(),
        &epochs(&[1, 2]),
        clock.now(),
        "cli",
    )
    .await
    .unwrap();
    assert!(!report.is_complete(), "{report:?}");
    assert_eq!(report.passes, 3);
    assert_eq!(report.left_behind.get(&1), Some(&2), "{report:?}");
    assert_eq!(
        instance_secrets::last_rotation(o.keyring.as_ref())
            .await
            .unwrap(),
        recorded,
        "the schedule does not move"
    );
}

#[tokio::test]
async fn receipts_in_the_window_between_adding_an_epoch_and_rotating_promise_the_rotation_after_next()
 {
    let o = open();
    let clock = common::clock();
    let start = clock.now();
    let config = Config {
        key_rotation_period: 10 * DAY,
        ..Config::default()
    };
    let period = SignedDuration::from_hours(240);
    let on_1 = state(&o, epochs(&[1]), clock.clone(), config.clone()).await;
    let old_home = household_with_a_reading(&on_1, "Old").await;

    // Epoch 2 is added (not rotated to yet): new keys are wrapped under it, and copies of the
    // keyring taken from now on hold them under epoch 2 until epoch 2 itself is retired.
    clock.advance(SignedDuration::from_hours(24));
    let on_12 = state(&o, epochs(&[1, 2]), clock.clone(), config.clone()).await;
    let new_home = household_with_a_reading(&on_12, "New").await;
    let late_home = household_with_a_reading(&on_12, "Late").await;
    assert_eq!(
        instance_secrets::last_rotation(o.keyring.as_ref())
            .await
            .unwrap()
            .map(|r| r.epoch),
        Some(1)
    );
    clock.advance(SignedDuration::from_hours(24));
    let receipt = erasure::erase(&on_12, &new_home, "system").await.unwrap();
    assert_eq!(
        receipt.older_copies_unreadable_by,
        Some(start + period + period),
        "the rotation after the pending one"
    );
    assert!(!receipt.rotation_overdue);
    let receipt = erasure::erase(&on_12, &old_home, "system").await.unwrap();
    assert_eq!(
        receipt.older_copies_unreadable_by,
        Some(start + period + period),
        "an instance with epoch 2 cannot rule out a copy under it"
    );
    // An instance not restarted yet (still epoch 1 alone) reads the erased key's epoch.
    let receipt = erasure::erase(&on_1, &late_home, "system").await.unwrap();
    assert_eq!(
        receipt.older_copies_unreadable_by,
        Some(start + period + period)
    );

    // Once rotated to epoch 2, the schedule counts from then, one period ahead.
    let rotated_at = clock.now();
    let report = rotation::rotate(
        o.store.as_ref(),
        o.keyring.as_ref(),
        &test_chain(),
        &epochs(&[1, 2]),
        rotated_at,
        "cli",
    )
    .await
    .unwrap();
    assert!(report.is_complete(), "{report:?}");
    let on_2 = state(&o, epochs(&[2]), clock.clone(), config).await;
    let after = household_with_a_reading(&on_2, "After").await;
    let receipt = erasure::erase(&on_2, &after, "system").await.unwrap();
    assert_eq!(
        receipt.older_copies_unreadable_by,
        Some(rotated_at + period)
    );
}

#[tokio::test]
async fn every_instance_promises_with_the_period_kept_in_the_keyring() {
    let o = open();
    let clock = common::clock();
    let start = clock.now();
    let ten = Config {
        key_rotation_period: 10 * DAY,
        ..Config::default()
    };
    let twenty = Config {
        key_rotation_period: 20 * DAY,
        ..Config::default()
    };
    let a = state(&o, epochs(&[1]), clock.clone(), ten).await;
    let b = state(&o, epochs(&[1]), clock.clone(), twenty).await;
    let first = household_with_a_reading(&a, "First").await;
    let second = household_with_a_reading(&b, "Second").await;
    let by_a = erasure::erase(&a, &first, "system").await.unwrap();
    let by_b = erasure::erase(&b, &second, "system").await.unwrap();
    let due = start + SignedDuration::from_hours(240);
    assert_eq!(by_a.older_copies_unreadable_by, Some(due));
    assert_eq!(
        by_b.older_copies_unreadable_by,
        Some(due),
        "the kept period, not this process's"
    );
    assert_eq!(
        instance_secrets::stored_rotation_period(o.keyring.as_ref())
            .await
            .unwrap(),
        Some(10 * DAY)
    );
    // Changed for everyone at once.
    assert_eq!(
        instance_secrets::set_rotation_period(o.keyring.as_ref(), 5 * DAY)
            .await
            .unwrap(),
        Some(10 * DAY)
    );
    let third = household_with_a_reading(&a, "Third").await;
    let receipt = erasure::erase(&a, &third, "system").await.unwrap();
    assert_eq!(
        receipt.older_copies_unreadable_by,
        Some(start + SignedDuration::from_hours(120))
    );
    let status = rotation::status(o.keyring.as_ref(), &epochs(&[1]))
        .await
        .unwrap();
    assert_eq!(status.period, Some(5 * DAY));
}

#[tokio::test]
async fn a_keyring_from_before_epochs_keeps_its_pseudonyms_totp_secrets_and_emails() {
    // The fixture, in the format every installation had before epochs: one raw master key,
    // pseudonyms and the secret box derived from it directly, wrapped keys without an epoch
    // header, and nothing of epochs in the keyring (no root, no schedule, no checks).
    let o = open();
    let clock = common::clock();
    let old_key = key(1);
    let legacy = AppState::new(
        Config::default(),
        Parts {
            store: o.store.clone(),
            keyring: o.keyring.clone(),
            root: InstanceRoot::derive(&old_key),
            epochs: MasterKeys::single(old_key.clone()),
            signing: SigningKey::generate(&mut os_rng()),
            products: common::fixture_products(&clock),
            clock: clock.clone(),
        },
    );
    let email = "ada@example.org";
    let password = "a long and unusual passphrase 7".to_owned();
    let account = accounts::signup(
        &legacy,
        email,
        password.clone(),
        "Lovelace",
        Some("Ada"),
        None,
    )
    .await
    .unwrap();
    let home = account.household.clone().unwrap();
    let member = account.member.clone().unwrap();
    let totp = TotpSecret::generate(&mut os_rng());
    let sealed_totp = old_key
        .secret_box()
        .seal(
            &format!("totp:{}", account.id),
            totp.as_bytes(),
            &mut os_rng(),
        )
        .unwrap();
    o.store.start_totp(&account.id, sealed_totp).await.unwrap();
    o.store
        .enable_totp(&account.id, 0, Vec::new())
        .await
        .unwrap();
    let reg = devices::register(&legacy, "acme-plug", Some(&home), None, "system")
        .await
        .unwrap();
    let device = legacy.store().device(&reg.id).await.unwrap();
    let body = serde_json::json!([{"stream": "power", "ts": clock.now().to_string(), "data": {"watts": 7}}]);
    ingest::ingest(
        &legacy,
        &device,
        body.to_string().as_bytes(),
        BodyFormat::Json,
    )
    .await
    .unwrap();
    for (p, wrapped) in all_keys(o.keyring.as_ref()).await {
        let data_key = MasterKeys::single(old_key.clone())
            .unwrap_data_key(&p, &wrapped)
            .unwrap();
        let headerless = old_key.wrap_data_key(&p, &data_key, &mut os_rng());
        assert!(o.keyring.rewrap(&p, &wrapped, headerless).await.unwrap());
    }
    let stored = o.store.account(&account.id).await.unwrap();
    assert_eq!(
        old_key
            .secret_box()
            .open(
                &format!("account-email:{}", account.id),
                &stored.email_sealed
            )
            .unwrap()
            .as_slice(),
        email.as_bytes(),
        "the e-mail is sealed with the legacy secret box"
    );
    let pseudonym = old_key.pseudonymizer().pseudonym(home.as_str());
    let fixture_keys = all_keys(o.keyring.as_ref()).await;
    assert!(fixture_keys.len() >= 2);
    assert!(
        fixture_keys.iter().all(|(_, w)| w[0] == 1),
        "no epoch header"
    );
    assert!(fixture_keys.iter().any(|(p, _)| *p == pseudonym));
    assert_eq!(
        o.keyring.secret(instance_secrets::ROOT_KEY).await.unwrap(),
        None
    );

    // First opened with only `2:<the old key>` (as if renumbered): refused, nothing written.
    let renumbered = MasterKeys::from_epochs([(2, old_key.clone())]).unwrap();
    let err = instance_secrets::root(o.keyring.as_ref(), &renumbered, clock.now())
        .await
        .unwrap_err();
    assert!(
        matches!(err, ServiceError::Crypto(CryptoError::RootNeedsEpoch1)),
        "{err:?}"
    );
    for name in [
        instance_secrets::ROOT_KEY.to_owned(),
        instance_secrets::LAST_ROTATION.to_owned(),
        MasterKeys::check_name(2),
    ] {
        assert_eq!(o.keyring.secret(&name).await.unwrap(), None, "{name}");
    }

    // Upgraded: epoch 1 is the old key, epoch 2 added, rotated, epoch 1 retired.
    let upgraded = state(&o, epochs(&[1, 2]), clock.clone(), Config::default()).await;
    assert_eq!(upgraded.pseudonyms().pseudonym(home.as_str()), pseudonym);
    let report = rotation::rotate(
        o.store.as_ref(),
        o.keyring.as_ref(),
        &test_chain(),
        &epochs(&[1, 2]),
        clock.now(),
        "cli",
    )
    .await
    .unwrap();
    assert!(report.is_complete(), "{report:?}");
    assert_eq!(report.rewrapped.get(&1), Some(&(fixture_keys.len() as u64)));
    let only_2 = state(&o, epochs(&[2]), clock.clone(), Config::default()).await;
    assert_eq!(only_2.pseudonyms().pseudonym(home.as_str()), pseudonym);
    assert_eq!(readings(&only_2).await, 1);
    let stored = only_2.store().account(&account.id).await.unwrap();
    assert_eq!(accounts::email_of(&only_2, &stored).unwrap(), email);
    let code = current_totp_code(&totp, clock.unix_secs());
    let signed_in = sign_in::login(&only_2, email, password, Some(&code), Attempt::default())
        .await
        .unwrap();
    assert_eq!(
        signed_in.id, account.id,
        "found by e-mail, password and TOTP"
    );
    let subject = only_2.store().subject(&member).await.unwrap();
    assert_eq!(
        subjects::profile(&only_2, &subject).await.unwrap().name,
        "Ada"
    );
}
