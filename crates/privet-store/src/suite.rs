//! The shared test suite every backend must pass: `run(&store, &keyring)` exercises every
//! method of [`Store`] and [`Keyring`] and asserts the behaviour both backends must share.
//!
//! It panics on the first failed expectation, as a test does; it is compiled only for tests
//! and for backends that enable the `suite` feature.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::ids::{ApiKeyId, DeviceId, SubjectId};
use crate::model::*;
use crate::store::{Keyring, Store};
use futures::StreamExt;
use jiff::{SignedDuration, Timestamp};
use privet_crypto::{AuditHash, MasterKey, Pseudonym, hash_token};
use privet_manifest::Retention;

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn pseudonym(id: &str) -> Pseudonym {
    MasterKey::from_bytes([7; 32]).pseudonymizer().pseudonym(id)
}

fn subject(id: &str, kind: SubjectKind, household: Option<&str>) -> NewSubject {
    NewSubject {
        id: SubjectId::new(id),
        kind,
        household: household.map(SubjectId::new),
        pseudonym: pseudonym(id),
        child: false,
        profile: vec![1, 2, 3],
        created_at: at("2026-01-01T00:00:00Z"),
    }
}

fn block(subject: &str, stream: &str, device: &str, t: &str, retention: &str, n: u32) -> NewBlock {
    let t = at(t);
    let retention = Retention::parse(retention).unwrap();
    NewBlock {
        id: rand_id(subject, stream, t),
        subject: pseudonym(subject),
        stream: stream.to_owned(),
        product: "acme-thermostat-2".to_owned(),
        device: DeviceId::new(device),
        retention,
        t_min: t,
        t_max: t + SignedDuration::from_secs(10),
        expires_max: retention.expiry(t + SignedDuration::from_secs(10)).unwrap(),
        count: n,
        payload: format!("sealed:{subject}:{stream}:{n}").into_bytes(),
    }
}

fn rand_id(subject: &str, stream: &str, t: Timestamp) -> [u8; 16] {
    let h = hash_token(&format!("{subject}/{stream}/{t}"));
    let mut id = [0u8; 16];
    id.copy_from_slice(&h.as_bytes()[..16]);
    id
}

async fn collect(store: &dyn Store, q: BlockQuery) -> Vec<NewBlock> {
    let mut s = store.scan_blocks(q).await.unwrap();
    let mut out = Vec::new();
    while let Some(b) = s.next().await {
        out.push(b.unwrap());
    }
    out
}

/// Runs every check against a fresh, empty store and keyring.
pub async fn run(store: &dyn Store, keyring: &dyn Keyring) {
    subjects(store).await;
    devices(store).await;
    api_keys(store).await;
    consents(store).await;
    blocks(store).await;
    retention(store).await;
    audit(store, keyring).await;
    keys(keyring).await;
    rights(store).await;
    accounts(store).await;
    erasure(store).await;
}

fn account(id: &str, member: Option<&str>, email: &[u8]) -> Account {
    Account {
        id: id.into(),
        email_lookup: email.to_vec(),
        email_sealed: vec![1, 2, 3],
        kind: if member.is_some() {
            AccountKind::Member
        } else {
            AccountKind::Staff
        },
        household: member.map(|_| SubjectId::new("h1")),
        member: member.map(SubjectId::new),
        owner: member == Some("m1"),
        role: if member.is_some() {
            None
        } else {
            Some(Role::Support)
        },
        password_hash: "$argon2id$placeholder-for-suite".into(),
        totp_sealed: None,
        totp_enabled: false,
        totp_last_step: None,
        can_sign_in: true,
        created_at: at("2026-01-01T00:00:00Z"),
        password_changed_at: at("2026-01-01T00:00:00Z"),
    }
}

async fn accounts(store: &dyn Store) {
    let a = account("acc1", Some("m1"), b"lookup-1");
    store.create_account(a.clone()).await.unwrap();
    store
        .create_account(account("staff1", None, b"lookup-staff"))
        .await
        .unwrap();
    assert!(
        matches!(
            store
                .create_account(account("acc2", Some("m2"), b"lookup-1"))
                .await,
            Err(crate::Error::Conflict { .. })
        ),
        "one account per e-mail"
    );
    assert!(
        matches!(
            store
                .create_account(account("acc3", Some("m1"), b"lookup-3"))
                .await,
            Err(crate::Error::Conflict { .. })
        ),
        "one account per member"
    );
    assert_eq!(store.account("acc1").await.unwrap(), a);
    assert_eq!(
        store.account_by_email(b"lookup-1").await.unwrap().id,
        "acc1"
    );
    assert_eq!(
        store
            .account_of_member(&SubjectId::new("m1"))
            .await
            .unwrap()
            .id,
        "acc1"
    );
    assert!(
        store
            .account_by_email(b"nobody")
            .await
            .unwrap_err()
            .is_not_found()
    );
    let mut b = a.clone();
    b.totp_enabled = true;
    b.totp_last_step = Some(12345);
    b.totp_sealed = Some(vec![9; 40]);
    store.update_account(b.clone()).await.unwrap();
    assert_eq!(store.account("acc1").await.unwrap(), b);
    assert_eq!(store.staff_accounts().await.unwrap().len(), 1);

    let codes = vec![hash_token("code-1"), hash_token("code-2")];
    store.set_recovery_codes("acc1", codes).await.unwrap();
    assert_eq!(store.recovery_codes_left("acc1").await.unwrap(), 2);
    store
        .use_recovery_code("acc1", &hash_token("code-1"), at("2026-02-01T00:00:00Z"))
        .await
        .unwrap();
    assert!(
        store
            .use_recovery_code("acc1", &hash_token("code-1"), at("2026-02-01T00:00:00Z"))
            .await
            .unwrap_err()
            .is_not_found(),
        "single use"
    );
    assert!(
        store
            .use_recovery_code("acc1", &hash_token("wrong"), at("2026-02-01T00:00:00Z"))
            .await
            .unwrap_err()
            .is_not_found()
    );
    assert_eq!(store.recovery_codes_left("acc1").await.unwrap(), 1);

    let session = |id: &str, t: &str| Session {
        id: id.into(),
        id_hash: hash_token(&format!("cookie-{id}")),
        account: "acc1".into(),
        created_at: at(t),
        last_seen: at(t),
        expires_at: at("2026-12-01T00:00:00Z"),
        client: "Firefox on Linux".into(),
    };
    store
        .create_session(session("s1", "2026-03-01T00:00:00Z"))
        .await
        .unwrap();
    store
        .create_session(session("s2", "2026-03-02T00:00:00Z"))
        .await
        .unwrap();
    store
        .create_session(session("s3", "2026-03-03T00:00:00Z"))
        .await
        .unwrap();
    assert_eq!(
        store.session(&hash_token("cookie-s1")).await.unwrap().id,
        "s1"
    );
    store
        .touch_session(&hash_token("cookie-s1"), at("2026-03-05T00:00:00Z"))
        .await
        .unwrap();
    assert_eq!(
        store
            .session(&hash_token("cookie-s1"))
            .await
            .unwrap()
            .last_seen,
        at("2026-03-05T00:00:00Z")
    );
    let listed: Vec<String> = store
        .sessions_of("acc1")
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(listed, vec!["s3", "s2", "s1"]);
    store.delete_session("acc1", "s3").await.unwrap();
    assert!(
        store
            .delete_session("staff1", "s2")
            .await
            .unwrap_err()
            .is_not_found(),
        "only the owner's sessions"
    );
    assert_eq!(store.delete_sessions("acc1", Some("s1")).await.unwrap(), 1);
    assert!(
        store
            .session(&hash_token("cookie-s2"))
            .await
            .unwrap_err()
            .is_not_found()
    );
    assert_eq!(store.sessions_of("acc1").await.unwrap().len(), 1);

    let inv = Invitation {
        code_hash: hash_token("invite-1"),
        household: SubjectId::new("h1"),
        member: SubjectId::new("m2"),
        expires_at: at("2026-04-01T00:00:00Z"),
        created_by: "acc1".into(),
    };
    store.create_invitation(inv.clone()).await.unwrap();
    assert_eq!(
        store
            .invitation(&hash_token("invite-1"), at("2026-03-10T00:00:00Z"))
            .await
            .unwrap(),
        inv,
        "peeking does not consume"
    );
    assert!(
        store
            .take_invitation(&hash_token("invite-1"), at("2026-05-01T00:00:00Z"))
            .await
            .unwrap_err()
            .is_not_found(),
        "expired"
    );
    assert_eq!(
        store
            .take_invitation(&hash_token("invite-1"), at("2026-03-10T00:00:00Z"))
            .await
            .unwrap(),
        inv
    );
    assert!(
        store
            .take_invitation(&hash_token("invite-1"), at("2026-03-10T00:00:00Z"))
            .await
            .unwrap_err()
            .is_not_found(),
        "single use"
    );

    let rel = StoredRelease {
        product: "acme-thermostat-2".into(),
        version: "1.2.0".into(),
        signed: "{}".into(),
        created_at: at("2026-03-01T00:00:00Z"),
    };
    store.put_release(rel.clone()).await.unwrap();
    assert!(matches!(
        store.put_release(rel.clone()).await,
        Err(crate::Error::Conflict { .. })
    ));
    assert_eq!(
        store.releases("acme-thermostat-2").await.unwrap(),
        vec![rel]
    );
    assert!(store.releases("other").await.unwrap().is_empty());

    let ev = NewAuditEntry {
        at: at("2026-03-01T00:00:00Z"),
        actor: "account:acc1".into(),
        action: "auth.login".into(),
        purpose: None,
        subjects: vec![],
        count: 0,
        detail: serde_json::json!({}),
    };
    store.append_audit(ev).await.unwrap();
    let mine = store.audit_by_actor("account:acc1", 10).await.unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].entry.action, "auth.login");
    assert!(
        store
            .audit_by_actor("account:acc", 10)
            .await
            .unwrap()
            .is_empty(),
        "exact actor only"
    );
}

async fn rights(store: &dyn Store) {
    let date = |s: &str| s.parse::<jiff::civil::Date>().unwrap();
    let mut r = RightsRequest {
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
    };
    store.create_request(r.clone()).await.unwrap();
    assert!(matches!(
        store.create_request(r.clone()).await,
        Err(crate::Error::Conflict { .. })
    ));
    assert_eq!(store.request("rq1").await.unwrap(), r);
    r.extended_due = Some(date("2026-04-30"));
    r.extension_reason = Some("complex".into());
    r.done = true;
    r.completed_at = Some(at("2026-03-01T00:00:00Z"));
    store.update_request(r.clone()).await.unwrap();
    assert_eq!(store.requests().await.unwrap(), vec![r.clone()]);
    r.id = "nope".into();
    assert!(store.update_request(r).await.unwrap_err().is_not_found());
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

async fn subjects(store: &dyn Store) {
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
        matches!(dup, Err(crate::Error::Conflict { .. })),
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

async fn devices(store: &dyn Store) {
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
                None
            )
            .await
            .is_err()
    );
}

async fn api_keys(store: &dyn Store) {
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

async fn consents(store: &dyn Store) {
    let c = |granted: bool, t: &str| NewConsent {
        subject: SubjectId::new("m1"),
        product: None,
        purpose: "energy_report".into(),
        granted,
        manifest_version: "3".into(),
        at: at(t),
        actor: "member:m1".into(),
        channel: "api".into(),
    };
    store
        .record_consent(c(true, "2026-01-02T00:00:00Z"))
        .await
        .unwrap();
    store
        .record_consent(c(false, "2026-01-03T00:00:00Z"))
        .await
        .unwrap();
    let mut other = c(true, "2026-01-04T00:00:00Z");
    other.purpose = "tips".into();
    store.record_consent(other).await.unwrap();

    let history = store.consents(&SubjectId::new("m1")).await.unwrap();
    assert_eq!(history.len(), 3);
    assert!(history.windows(2).all(|w| w[0].seq < w[1].seq));
    let current = store
        .current_consents(&[SubjectId::new("m1"), SubjectId::new("h1")])
        .await
        .unwrap();
    assert_eq!(current.len(), 2, "one current decision per purpose");
    let energy = current
        .iter()
        .find(|r| r.consent.purpose == "energy_report")
        .unwrap();
    assert!(!energy.consent.granted, "the latest decision wins");
}

async fn blocks(store: &dyn Store) {
    let b1 = block("m1", "presence", "d1", "2026-05-01T10:00:00Z", "30d", 3);
    let b2 = block("h1", "climate", "d1", "2026-05-01T10:00:00Z", "400d", 5);
    let b3 = block("m1", "presence", "d2", "2026-05-02T10:00:00Z", "30d", 2);
    store
        .append_blocks(
            vec![b1.clone(), b2.clone()],
            Some(DeviceSeen {
                device: DeviceId::new("d1"),
                at: at("2026-05-01T10:00:10Z"),
                firmware: Some("1.3.0".into()),
            }),
        )
        .await
        .unwrap();
    assert_eq!(
        store
            .device(&DeviceId::new("d1"))
            .await
            .unwrap()
            .firmware
            .as_deref(),
        Some("1.3.0")
    );
    store.append_blocks(vec![b3.clone()], None).await.unwrap();

    let all = collect(store, BlockQuery::default()).await;
    assert_eq!(all.len(), 3);
    assert!(
        all.contains(&b1) && all.contains(&b2) && all.contains(&b3),
        "blocks read back exactly"
    );

    let m1 = collect(
        store,
        BlockQuery {
            subject: Some(pseudonym("m1")),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(m1.len(), 2);
    let climate = collect(
        store,
        BlockQuery {
            streams: vec!["climate".into()],
            ..Default::default()
        },
    )
    .await;
    assert_eq!(climate, vec![b2.clone()]);
    let late = collect(
        store,
        BlockQuery {
            since: Some(at("2026-05-02T00:00:00Z")),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(late, vec![b3.clone()]);
    let early = collect(
        store,
        BlockQuery {
            until: Some(at("2026-05-01T12:00:00Z")),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(early.len(), 2);
    let by_device = collect(
        store,
        BlockQuery {
            device: Some(DeviceId::new("d2")),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(by_device, vec![b3.clone()]);

    store
        .rewrite_block(b1.id, b"rewritten".to_vec(), 1)
        .await
        .unwrap();
    let again = collect(
        store,
        BlockQuery {
            subject: Some(pseudonym("m1")),
            streams: vec!["presence".into()],
            until: Some(at("2026-05-01T12:00:00Z")),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].payload, b"rewritten".to_vec());
    assert_eq!(again[0].count, 1);
    assert!(
        store
            .rewrite_block([0; 16], vec![], 0)
            .await
            .unwrap_err()
            .is_not_found()
    );

    assert_eq!(store.record_counts().await.unwrap(), (3, 1 + 5 + 2));
    assert_eq!(
        store
            .delete_device_blocks(&DeviceId::new("d2"))
            .await
            .unwrap(),
        1
    );
    assert_eq!(store.delete_blocks(vec![b2.id]).await.unwrap(), 1);
    assert_eq!(store.record_counts().await.unwrap(), (1, 1));
    assert_eq!(
        store.delete_subject_blocks(&pseudonym("m1")).await.unwrap(),
        1
    );
    assert_eq!(store.record_counts().await.unwrap(), (0, 0));

    // A scan stops cleanly when its consumer goes away.
    let many: Vec<NewBlock> = (0..200)
        .map(|i| {
            block(
                "h1",
                "climate",
                "d1",
                &format!("2026-06-01T10:{:02}:{:02}Z", i / 60, i % 60),
                "400d",
                1,
            )
        })
        .collect();
    store.append_blocks(many, None).await.unwrap();
    let mut s = store.scan_blocks(BlockQuery::default()).await.unwrap();
    assert!(s.next().await.is_some());
    drop(s);
    assert_eq!(
        store.delete_subject_blocks(&pseudonym("h1")).await.unwrap(),
        200
    );
}

async fn retention(store: &dyn Store) {
    let short = block("m1", "presence", "d1", "2026-05-01T10:00:00Z", "2d", 4);
    let long = block("h1", "climate", "d1", "2026-05-01T10:00:00Z", "400d", 6);
    store
        .append_blocks(vec![short.clone(), long.clone()], None)
        .await
        .unwrap();

    let before = store
        .drop_expired(at("2026-05-02T10:00:00Z"))
        .await
        .unwrap();
    assert_eq!(
        before,
        RetentionReport::default(),
        "nothing is dropped before it expires"
    );
    // The 2-day block expires at 10:00:10 on 3 May; its one-hour chunk ends at 11:00.
    let after = store
        .drop_expired(at("2026-05-03T11:00:00Z"))
        .await
        .unwrap();
    assert_eq!(
        after,
        RetentionReport {
            chunks_dropped: 1,
            blocks_dropped: 1,
            events_dropped: 4
        }
    );
    let left = collect(store, BlockQuery::default()).await;
    assert_eq!(left, vec![long.clone()]);
    assert_eq!(
        store.delete_subject_blocks(&pseudonym("h1")).await.unwrap(),
        1
    );
}

async fn audit(store: &dyn Store, keyring: &dyn Keyring) {
    let entry = |action: &str, subjects: Vec<Pseudonym>| NewAuditEntry {
        at: at("2026-05-01T10:00:00Z"),
        actor: "key:k1".into(),
        action: action.into(),
        purpose: Some("energy_report".into()),
        subjects,
        count: 7,
        detail: serde_json::json!({"stream": "presence"}),
    };
    let e1 = store
        .append_audit(entry("events.read", vec![pseudonym("m1")]))
        .await
        .unwrap();
    let e2 = store
        .append_audit(entry("events.read", vec![pseudonym("h1")]))
        .await
        .unwrap();
    assert_eq!((e1.seq, e2.seq), (1, 2));
    assert_eq!(e1.prev, AuditHash::GENESIS);
    assert_eq!(e2.prev, e1.hash);
    keyring.set_audit_anchor(e2.seq, e2.hash).await.unwrap();
    keyring.set_audit_anchor(e1.seq, e1.hash).await.unwrap();
    assert_eq!(
        keyring.audit_anchor().await.unwrap(),
        Some((2, e2.hash)),
        "the anchor only moves forward"
    );

    keyring.reset_audit_anchor(e1.seq, e1.hash).await.unwrap();
    assert_eq!(
        keyring.audit_anchor().await.unwrap(),
        Some((1, e1.hash)),
        "a restore may move it back"
    );
    keyring.set_audit_anchor(e2.seq, e2.hash).await.unwrap();
    let listed = store.audit(None, 100).await.unwrap();
    assert_eq!(listed, vec![e1.clone(), e2.clone()]);
    assert_eq!(store.audit(None, 1).await.unwrap().len(), 1);
    assert!(
        store
            .audit(Some(at("2027-01-01T00:00:00Z")), 100)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.audit_for(&pseudonym("m1")).await.unwrap(),
        vec![e1.clone()]
    );

    let verdict = store
        .verify_audit(keyring.audit_anchor().await.unwrap())
        .await
        .unwrap();
    assert_eq!(
        verdict,
        AuditVerdict {
            entries: 2,
            first_broken: None
        }
    );
    let ahead = store.verify_audit(Some((3, e2.hash))).await.unwrap();
    assert_eq!(
        ahead.first_broken.map(|b| b.seq),
        Some(3),
        "a missing tail is detected"
    );
}

async fn keys(keyring: &dyn Keyring) {
    let p = pseudonym("m1");
    keyring
        .put(&p, vec![1; 60], at("2026-01-01T00:00:00Z"))
        .await
        .unwrap();
    assert!(matches!(
        keyring
            .put(&p, vec![2; 60], at("2026-01-01T00:00:00Z"))
            .await,
        Err(crate::Error::Conflict { .. })
    ));
    assert_eq!(keyring.get(&p).await.unwrap(), vec![1; 60]);
    assert_eq!(
        keyring.has_keys(&[p, pseudonym("h1")]).await.unwrap(),
        vec![true, false]
    );
    assert!(keyring.destroy(&p).await.unwrap());
    assert!(!keyring.destroy(&p).await.unwrap());
    assert!(keyring.get(&p).await.unwrap_err().is_not_found());
}

async fn erasure(store: &dyn Store) {
    let erased = store
        .erase_subject(&SubjectId::new("m1"), at("2026-06-01T00:00:00Z"))
        .await
        .unwrap();
    assert_eq!(erased.pseudonym, Some(pseudonym("m1")));
    assert_eq!(erased.consents, 3);
    assert!(
        store
            .subject(&SubjectId::new("m1"))
            .await
            .unwrap_err()
            .is_not_found()
    );
    assert!(
        store
            .consents(&SubjectId::new("m1"))
            .await
            .unwrap()
            .is_empty()
    );

    assert!(
        store.account("acc1").await.unwrap_err().is_not_found(),
        "a member's account goes with them"
    );
    let h = store
        .erase_subject(&SubjectId::new("h1"), at("2026-06-01T00:00:00Z"))
        .await
        .unwrap();
    assert_eq!(h.devices, 1, "the household's device is unlinked");
    let d1 = store.device(&DeviceId::new("d1")).await.unwrap();
    assert_eq!(d1.household, None);
    assert!(
        store
            .device_by_token(&hash_token("device-token-1"))
            .await
            .unwrap_err()
            .is_not_found()
    );
    assert!(
        store
            .erase_subject(&SubjectId::new("h1"), at("2026-06-01T00:00:00Z"))
            .await
            .unwrap_err()
            .is_not_found()
    );
}
