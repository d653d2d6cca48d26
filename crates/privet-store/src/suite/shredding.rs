//! Crypto-shredding: once a key is destroyed, a subject erased or a device reset, no file of
//! the backend holds what was removed — not a database page, a log or a journal.

use super::Residue;
use super::accounts::account;
use super::fixtures::{at, pseudonym, sid, subject};
use crate::{DeviceId, ErasureStep, Keyring, NewDevice, Session, Store, SubjectKind};
use privet_crypto::hash_token;

/// Bytes no store writes unless told to: found in a file only if they were stored there.
fn marker(what: &str) -> Vec<u8> {
    format!("<privet-suite-residue-marker:{what}>").into_bytes()
}

pub(super) async fn keys(keyring: &dyn Keyring, residue: &dyn Residue) {
    let p = pseudonym("shredded");
    let mut wrapped = vec![0xA5; 24];
    wrapped.extend(marker("wrapped-key"));
    wrapped.extend([0x5A; 24]);
    keyring
        .put(&p, wrapped, at("2026-01-01T00:00:00Z"))
        .await
        .unwrap();
    assert!(
        residue.holds(&marker("wrapped-key")).await.unwrap(),
        "the check can see a stored key"
    );
    assert!(keyring.destroy(&p).await.unwrap());
    assert!(
        !residue.holds(&marker("wrapped-key")).await.unwrap(),
        "a destroyed key is in no file of the keyring"
    );
}

pub(super) async fn subjects(store: &dyn Store, residue: &dyn Residue) {
    store
        .create_subject(subject("h9", SubjectKind::Household, None))
        .await
        .unwrap();
    let mut m9 = subject("m9", SubjectKind::Member, Some("h9"));
    m9.profile = marker("sealed-profile");
    store.create_subject(m9).await.unwrap();
    assert!(
        residue.holds(&marker("sealed-profile")).await.unwrap(),
        "the check can see a stored profile"
    );
    // Their account, its sealed e-mail, password hash, TOTP secret and a session.
    let mut acc = account("acc9", Some("m9"), &marker("email-lookup"));
    acc.household = Some(sid("h9"));
    acc.email_sealed = marker("sealed-email");
    acc.password_hash = String::from_utf8(marker("password-hash")).unwrap();
    acc.totp_sealed = Some(marker("sealed-totp"));
    store.create_account(acc).await.unwrap();
    let cookie = hash_token("residue-session-cookie");
    store
        .create_session(Session {
            id: "ses9".into(),
            id_hash: cookie,
            account: "acc9".into(),
            created_at: at("2026-01-01T00:00:00Z"),
            last_seen: at("2026-01-01T00:00:00Z"),
            expires_at: at("2026-12-01T00:00:00Z"),
            client: "Firefox on Linux".into(),
        })
        .await
        .unwrap();
    let kept = [
        "email-lookup",
        "sealed-email",
        "password-hash",
        "sealed-totp",
    ]
    .map(marker);
    for m in &kept {
        assert!(residue.holds(m).await.unwrap(), "the check can see {m:?}");
    }
    assert!(residue.holds(cookie.as_bytes()).await.unwrap());
    let m9 = store.subject(&sid("m9")).await.unwrap();
    store
        .erase_subject(&ErasureStep::for_subject(&m9), at("2026-06-01T00:00:00Z"))
        .await
        .unwrap();
    assert!(
        !residue.holds(&marker("sealed-profile")).await.unwrap(),
        "an erased subject's row is in no file"
    );
    for m in &kept {
        assert!(
            !residue.holds(m).await.unwrap(),
            "an erased subject's account is in no file: {m:?}"
        );
    }
    assert!(
        !residue.holds(cookie.as_bytes()).await.unwrap(),
        "nor its sessions"
    );
}

pub(super) async fn devices(store: &dyn Store, residue: &dyn Residue) {
    let old = hash_token("residue-device-token-old");
    let new = hash_token("residue-device-token-new");
    store
        .create_device(NewDevice {
            id: DeviceId::new("d9"),
            product: "acme-thermostat-2".into(),
            household: Some(sid("h9")),
            member: None,
            token_hash: old,
            claim_hash: None,
            broker_hash: None,
            created_at: at("2026-01-01T00:00:00Z"),
        })
        .await
        .unwrap();
    assert!(residue.holds(old.as_bytes()).await.unwrap());
    let reset = store
        .reset_device(
            &DeviceId::new("d9"),
            at("2026-06-01T00:00:00Z"),
            Some(new),
            None,
            None,
        )
        .await
        .unwrap();
    assert_eq!(reset.household, None);
    assert!(
        !residue.holds(old.as_bytes()).await.unwrap(),
        "a reset device's old token hash is in no file"
    );
    assert!(
        residue.holds(new.as_bytes()).await.unwrap(),
        "its new one is stored"
    );
}
