//! Subjects, devices, API keys and consents.

use super::fixtures::{at, pseudonym, subject};
use crate::{
    ApiKeyId, DeviceId, Error, NewApiKey, NewConsent, NewDevice, Role, Store, SubjectId,
    SubjectKind,
};
use privet_crypto::hash_token;
use privet_policy::ConsentLedger;

pub(super) async fn subjects(store: &dyn Store) {
    store
        .create_subject(subject("h1", SubjectKind::Household, None))
        .await
        .unwrap();
    store
        .create_subject(subject("m1", SubjectKind::Member, Some("h1")))
        .await
        .unwrap();
    let mut child = subject("m2", SubjectKind::Member, Some("h1"));
    child.child = true;
    store.create_subject(child).await.unwrap();

    let dup = store
        .create_subject(subject("h1", SubjectKind::Household, None))
        .await;
    assert!(
        matches!(dup, Err(Error::Conflict { .. })),
        "duplicate id must conflict"
    );

    let m1 = store.subject(&SubjectId::new("m1")).await.unwrap();
    assert_eq!(m1.kind, SubjectKind::Member);
    assert_eq!(m1.household, Some(SubjectId::new("h1")));
    assert_eq!(m1.pseudonym, pseudonym("m1"));
    assert!(!m1.restricted);
    let by_p = store.subject_by_pseudonym(&pseudonym("m1")).await.unwrap();
    assert_eq!(by_p.id, m1.id);

    let members = store.members(&SubjectId::new("h1")).await.unwrap();
    assert_eq!(members.len(), 2);
    assert!(members.iter().any(|m| m.child));

    store
        .update_profile(&SubjectId::new("m1"), vec![9, 9])
        .await
        .unwrap();
    assert_eq!(
        store.subject(&SubjectId::new("m1")).await.unwrap().profile,
        vec![9, 9]
    );
    store
        .set_restricted(&SubjectId::new("m1"), true)
        .await
        .unwrap();
    assert!(
        store
            .subject(&SubjectId::new("m1"))
            .await
            .unwrap()
            .restricted
    );
    store
        .set_restricted(&SubjectId::new("m1"), false)
        .await
        .unwrap();

    assert!(
        store
            .subject(&SubjectId::new("nobody"))
            .await
            .unwrap_err()
            .is_not_found()
    );
    assert!(
        store
            .update_profile(&SubjectId::new("nobody"), vec![])
            .await
            .unwrap_err()
            .is_not_found()
    );
    assert_eq!(store.all_pseudonyms().await.unwrap().len(), 3);
}

pub(super) async fn devices(store: &dyn Store) {
    let token = hash_token("device-token-1");
    let claim = hash_token("claim-1");
    store
        .create_device(NewDevice {
            id: DeviceId::new("d1"),
            product: "acme-thermostat-2".into(),
            household: None,
            member: None,
            token_hash: token,
            claim_hash: Some(claim),
            broker_hash: None,
            created_at: at("2026-01-01T00:00:00Z"),
        })
        .await
        .unwrap();
    let d = store.device_by_token(&token).await.unwrap();
    assert_eq!(d.id, DeviceId::new("d1"));
    assert_eq!(d.household, None);
    assert!(
        store
            .device_by_token(&hash_token("wrong"))
            .await
            .unwrap_err()
            .is_not_found()
    );

    // Looking a code up does not consume it.
    let preview = store.unclaimed_device(&claim).await.unwrap();
    assert_eq!(preview.id, DeviceId::new("d1"));
    let claimed = store
        .claim_device(&claim, &SubjectId::new("h1"), None)
        .await
        .unwrap();
    assert_eq!(claimed.household, Some(SubjectId::new("h1")));
    assert!(
        store
            .unclaimed_device(&claim)
            .await
            .unwrap_err()
            .is_not_found(),
        "a used code finds nothing"
    );
    // A used code and a wrong code fail the same way.
    let again = store
        .claim_device(&claim, &SubjectId::new("h1"), None)
        .await
        .unwrap_err();
    let wrong = store
        .claim_device(&hash_token("nope"), &SubjectId::new("h1"), None)
        .await
        .unwrap_err();
    assert_eq!(again.to_string(), wrong.to_string());

    store
        .touch_device(
            &DeviceId::new("d1"),
            at("2026-02-01T00:00:00Z"),
            Some("1.2.0".into()),
        )
        .await
        .unwrap();
    store
        .touch_device(&DeviceId::new("d1"), at("2026-01-15T00:00:00Z"), None)
        .await
        .unwrap();
    let d = store.device(&DeviceId::new("d1")).await.unwrap();
    assert_eq!(d.firmware.as_deref(), Some("1.2.0"));
    assert_eq!(
        d.last_seen,
        Some(at("2026-02-01T00:00:00Z")),
        "last_seen never goes back"
    );
    assert_eq!(
        store.devices_of(&SubjectId::new("h1")).await.unwrap().len(),
        1
    );
    assert_eq!(store.all_devices().await.unwrap().len(), 1);

    store
        .create_device(NewDevice {
            id: DeviceId::new("d2"),
            product: "acme-thermostat-2".into(),
            household: Some(SubjectId::new("h1")),
            member: Some(SubjectId::new("m1")),
            token_hash: hash_token("device-token-2"),
            claim_hash: None,
            broker_hash: None,
            created_at: at("2026-01-01T00:00:00Z"),
        })
        .await
        .unwrap();
    let new_claim = hash_token("claim-2");
    let reset = store
        .reset_device(
            &DeviceId::new("d2"),
            at("2026-03-01T00:00:00Z"),
            None,
            Some(new_claim),
            None,
        )
        .await
        .unwrap();
    assert_eq!(reset.household, None);
    assert!(reset.revoked_at.is_some());
    assert!(
        store
            .device_by_token(&hash_token("device-token-2"))
            .await
            .unwrap_err()
            .is_not_found()
    );
    let fresh = store
        .reset_device(
            &DeviceId::new("d2"),
            at("2026-03-02T00:00:00Z"),
            Some(hash_token("device-token-3")),
            Some(new_claim),
            None,
        )
        .await
        .unwrap();
    assert!(
        fresh.revoked_at.is_none(),
        "a reset with a new token leaves the device usable"
    );
    assert_eq!(
        store
            .device_by_token(&hash_token("device-token-3"))
            .await
            .unwrap()
            .id,
        DeviceId::new("d2")
    );
    assert!(
        store
            .device_by_token(&hash_token("device-token-2"))
            .await
            .unwrap_err()
            .is_not_found()
    );
    assert!(
        store
            .reset_device(
                &DeviceId::new("nope"),
                at("2026-03-01T00:00:00Z"),
                None,
                None,
                None
            )
            .await
            .is_err()
    );
}

pub(super) async fn api_keys(store: &dyn Store) {
    let hash = hash_token("pvk_secret");
    store
        .create_api_key(NewApiKey {
            id: ApiKeyId::new("k1"),
            role: Role::Analyst,
            purposes: vec!["energy_report".into()],
            hash,
            label: "reports".into(),
            created_at: at("2026-01-01T00:00:00Z"),
        })
        .await
        .unwrap();
    let k = store.api_key_by_hash(&hash).await.unwrap();
    assert_eq!(k.role, Role::Analyst);
    assert_eq!(k.purposes, vec!["energy_report".to_owned()]);
    assert_eq!(store.api_keys().await.unwrap().len(), 1);
    store
        .revoke_api_key(&ApiKeyId::new("k1"), at("2026-02-01T00:00:00Z"))
        .await
        .unwrap();
    assert!(
        store
            .api_key_by_hash(&hash)
            .await
            .unwrap_err()
            .is_not_found(),
        "revoked keys stop working"
    );
    assert!(
        store
            .revoke_api_key(&ApiKeyId::new("nope"), at("2026-02-01T00:00:00Z"))
            .await
            .is_err()
    );
}

pub(super) async fn consents(store: &dyn Store) {
    let c = |subject: &str, purpose: &str, granted: bool, t: &str| NewConsent {
        subject: SubjectId::new(subject),
        product: None,
        purpose: purpose.into(),
        granted,
        manifest_version: "acme-thermostat-2@3".into(),
        at: at(t),
        actor: format!("account:{subject}"),
        channel: "api".into(),
    };
    let first = store
        .record_consent(c("m1", "energy_report", true, "2026-01-02T00:00:00Z"))
        .await
        .unwrap();
    assert_eq!(first.consent.purpose, "energy_report");
    // Another subject's decision between two of m1's, so histories interleave.
    store
        .record_consent(c("h1", "energy_report", true, "2026-01-02T12:00:00Z"))
        .await
        .unwrap();
    store
        .record_consent(c("m1", "energy_report", false, "2026-01-03T00:00:00Z"))
        .await
        .unwrap();
    store
        .record_consent(c("m1", "tips", true, "2026-01-04T00:00:00Z"))
        .await
        .unwrap();

    let history = store.consents(&SubjectId::new("m1")).await.unwrap();
    assert_eq!(history.len(), 3);
    assert!(
        history.windows(2).all(|w| w[0].seq < w[1].seq),
        "oldest first"
    );
    assert_eq!(history[0], first, "read back as recorded");

    let both = store
        .consent_histories(&[SubjectId::new("m1"), SubjectId::new("h1")])
        .await
        .unwrap();
    assert_eq!(both.len(), 4, "every decision, not only those in force");
    assert!(
        both.windows(2).all(|w| w[0].seq < w[1].seq),
        "oldest first across subjects"
    );
    let whose: Vec<&str> = both.iter().map(|r| r.consent.subject.as_str()).collect();
    assert_eq!(whose, ["m1", "h1", "m1", "m1"]);
    let h1_only = store
        .consent_histories(&[SubjectId::new("h1"), SubjectId::new("nobody")])
        .await
        .unwrap();
    assert_eq!(h1_only.len(), 1);
    assert!(
        store.consent_histories(&[]).await.unwrap().is_empty(),
        "no subjects, no decisions"
    );

    // Which decision is in force is the policy's rule over the whole history.
    let ledger = ConsentLedger::from_history(&history);
    assert!(
        !ledger.is_granted("acme-thermostat-2", "energy_report"),
        "the latest decision wins"
    );
    assert!(ledger.is_granted("acme-thermostat-2", "tips"));
}
