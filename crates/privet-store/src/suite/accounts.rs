//! Accounts and what hangs off them: two-step verification, recovery codes, sessions,
//! invitations; releases; an account's audit trail.

use super::fixtures::at;
use crate::{
    Account, AccountKind, Error, Invitation, NewAuditEntry, Role, Session, Store, StoredRelease,
    SubjectId,
};
use privet_crypto::hash_token;

/// An account (a member's when `member` is given, else a support staff account).
pub(super) fn account(id: &str, member: Option<&str>, email: &[u8]) -> Account {
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

pub(super) async fn accounts(store: &dyn Store) {
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
            Err(Error::Conflict { .. })
        ),
        "one account per e-mail"
    );
    assert!(
        matches!(
            store
                .create_account(account("acc3", Some("m1"), b"lookup-3"))
                .await,
            Err(Error::Conflict { .. })
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
        Err(Error::Conflict { .. })
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
    store
        .append_audit(ev, &super::audit::chain())
        .await
        .unwrap();
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

/// Narrow, conditional writes: each says what it expects, so racing requests cannot undo
/// each other.
pub(super) async fn two_step(store: &dyn Store) {
    let before = store.account("acc1").await.unwrap();

    // Passwords: a change, and a rehash that loses to a change made meanwhile.
    store
        .set_password(
            "acc1",
            "$argon2id$changed".into(),
            at("2026-04-01T00:00:00Z"),
        )
        .await
        .unwrap();
    let a = store.account("acc1").await.unwrap();
    assert_eq!(a.password_hash, "$argon2id$changed");
    assert_eq!(a.password_changed_at, at("2026-04-01T00:00:00Z"));
    assert!(
        !store
            .rehash_password(
                "acc1",
                &before.password_hash,
                "$argon2id$stronger-stale".into()
            )
            .await
            .unwrap(),
        "a rehash of a stale hash is not stored"
    );
    assert_eq!(
        store.account("acc1").await.unwrap().password_hash,
        "$argon2id$changed",
        "the newer password wins"
    );
    assert!(
        store
            .rehash_password("acc1", "$argon2id$changed", "$argon2id$stronger".into())
            .await
            .unwrap()
    );
    let a = store.account("acc1").await.unwrap();
    assert_eq!(a.password_hash, "$argon2id$stronger");
    assert_eq!(
        a.password_changed_at,
        at("2026-04-01T00:00:00Z"),
        "a rehash is not a password change"
    );

    // Enrolment, then two-step verification on.
    assert!(
        store
            .enable_totp("acc1", 100, vec![hash_token("early")])
            .await
            .unwrap_err()
            .is_conflict(),
        "not without an enrolled secret"
    );
    store.start_totp("acc1", vec![9; 40]).await.unwrap();
    store.start_totp("acc1", vec![8; 40]).await.unwrap();
    let a = store.account("acc1").await.unwrap();
    assert_eq!(
        a.totp_sealed,
        Some(vec![8; 40]),
        "re-enrolling replaces the secret"
    );
    assert!(!a.totp_enabled);
    assert!(
        !store.advance_totp_step("acc1", 100).await.unwrap(),
        "no code counts while two-step verification is off"
    );
    assert_eq!(
        store.recovery_codes_left("acc1").await.unwrap(),
        1,
        "a refused switch-on leaves the codes as they were"
    );
    store
        .enable_totp(
            "acc1",
            12345,
            vec![hash_token("code-5"), hash_token("code-6")],
        )
        .await
        .unwrap();
    assert_eq!(
        store.recovery_codes_left("acc1").await.unwrap(),
        2,
        "on with its codes"
    );
    let a = store.account("acc1").await.unwrap();
    assert_eq!(
        a,
        Account {
            password_hash: "$argon2id$stronger".into(),
            password_changed_at: at("2026-04-01T00:00:00Z"),
            totp_sealed: Some(vec![8; 40]),
            totp_enabled: true,
            totp_last_step: Some(12345),
            ..before.clone()
        }
    );
    assert!(
        store
            .enable_totp("acc1", 12346, vec![hash_token("loser")])
            .await
            .unwrap_err()
            .is_conflict()
    );
    assert!(
        store
            .use_recovery_code("acc1", &hash_token("loser"), at("2026-04-01T00:00:00Z"))
            .await
            .unwrap_err()
            .is_not_found(),
        "a losing switch-on leaves the winner's codes"
    );
    assert!(
        store
            .start_totp("acc1", vec![7; 40])
            .await
            .unwrap_err()
            .is_conflict(),
        "no re-enrolment while it is on"
    );
    assert_eq!(
        store.account("acc1").await.unwrap().totp_sealed,
        Some(vec![8; 40])
    );

    // Codes: each time step is used once, and never one older than the last.
    assert!(
        !store.advance_totp_step("acc1", 12345).await.unwrap(),
        "the confirming code is used"
    );
    assert!(store.advance_totp_step("acc1", 12346).await.unwrap());
    assert!(
        !store.advance_totp_step("acc1", 12346).await.unwrap(),
        "a replay"
    );
    assert!(
        !store.advance_totp_step("acc1", 12000).await.unwrap(),
        "an older step"
    );
    let racing =
        futures::future::join_all((0..8).map(|_| store.advance_totp_step("acc1", 12400))).await;
    let won = racing
        .into_iter()
        .map(|r| r.unwrap())
        .filter(|&w| w)
        .count();
    assert_eq!(
        won, 1,
        "of concurrent sign-ins with one code exactly one wins"
    );
    assert_eq!(
        store.account("acc1").await.unwrap().totp_last_step,
        Some(12400)
    );

    // Off: the secret and the recovery codes go with it.
    store
        .set_recovery_codes("acc1", vec![hash_token("code-3"), hash_token("code-4")])
        .await
        .unwrap();
    store.disable_totp("acc1").await.unwrap();
    let a = store.account("acc1").await.unwrap();
    assert!(!a.totp_enabled);
    assert_eq!((a.totp_sealed, a.totp_last_step), (None, None));
    assert_eq!(store.recovery_codes_left("acc1").await.unwrap(), 0);

    store.set_can_sign_in("acc1", false).await.unwrap();
    assert!(!store.account("acc1").await.unwrap().can_sign_in);
    store.set_can_sign_in("acc1", true).await.unwrap();
    assert!(store.account("acc1").await.unwrap().can_sign_in);

    // An unknown account is not found, whatever the write.
    let at_ = at("2026-04-01T00:00:00Z");
    let missing = [
        store.set_password("nobody", "h".into(), at_).await.err(),
        store.rehash_password("nobody", "a", "b".into()).await.err(),
        store.start_totp("nobody", vec![1]).await.err(),
        store.enable_totp("nobody", 1, Vec::new()).await.err(),
        store.disable_totp("nobody").await.err(),
        store.advance_totp_step("nobody", 1).await.err(),
        store.set_can_sign_in("nobody", true).await.err(),
    ];
    for (i, e) in missing.into_iter().enumerate() {
        assert!(
            e.as_ref().is_some_and(Error::is_not_found),
            "write {i} on an unknown account: {e:?}"
        );
    }
}
