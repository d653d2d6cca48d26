//! Erasure steps: a subject's rows and everything keyed by its id go, and its devices are
//! treated as the step says (the policy decides which; the store never looks at the kind).

use super::Residue;
use super::fixtures::{at, pseudonym, sid, subject};
use crate::{DeviceId, ErasureStep, Invitation, NewDevice, Store, SubjectId, SubjectKind};
use privet_crypto::hash_token;
use privet_policy::{DeviceDisposition, erasure_plan};

async fn device(store: &dyn Store, id: &str, household: Option<&str>, member: Option<&str>) {
    store
        .create_device(NewDevice {
            id: DeviceId::new(id),
            product: "acme-thermostat-2".into(),
            household: household.map(SubjectId::new),
            member: member.map(SubjectId::new),
            token_hash: hash_token(&format!("device-token-{id}")),
            claim_hash: None,
            broker_hash: None,
            created_at: at("2026-01-01T00:00:00Z"),
        })
        .await
        .unwrap();
}

async fn invite(store: &dyn Store, code: &str, member: &str) {
    store
        .create_invitation(Invitation {
            code_hash: hash_token(code),
            household: sid("h1"),
            member: sid(member),
            expires_at: at("2027-01-01T00:00:00Z"),
            created_by: "staff1".into(),
        })
        .await
        .unwrap();
}

pub(super) async fn erasure(store: &dyn Store, residue: &dyn Residue) {
    let now = at("2026-06-01T00:00:00Z");
    // A personal device of each member, beside the household's own (d1).
    device(store, "d3", Some("h1"), Some("m1")).await;
    device(store, "d4", Some("h1"), Some("m2")).await;
    invite(store, "invite-m1", "m1").await;
    invite(store, "invite-m2", "m2").await;

    // A member: its rows go, its devices stay with the household.
    let m1 = store.subject(&sid("m1")).await.unwrap();
    let step = ErasureStep::for_subject(&m1);
    assert_eq!(step.devices, DeviceDisposition::DetachFromMember);
    let erased = store.erase_subject(&step, now).await.unwrap();
    assert_eq!(erased.pseudonym, Some(pseudonym("m1")));
    assert_eq!(erased.consents, 3);
    assert_eq!(erased.devices, 1, "its personal device is detached");
    assert!(store.subject(&sid("m1")).await.unwrap_err().is_not_found());
    assert!(
        store
            .subject_by_pseudonym(&pseudonym("m1"))
            .await
            .unwrap_err()
            .is_not_found()
    );
    assert!(store.consents(&sid("m1")).await.unwrap().is_empty());
    assert!(store.objections(&[sid("m1")]).await.unwrap().is_empty());
    assert!(
        store.account("acc1").await.unwrap_err().is_not_found(),
        "a member's account goes with them"
    );
    assert!(store.sessions_of("acc1").await.unwrap().is_empty());
    assert!(
        store
            .session(&hash_token("cookie-s1"))
            .await
            .unwrap_err()
            .is_not_found()
    );
    assert!(
        store
            .invitation(&hash_token("invite-m1"), now)
            .await
            .unwrap_err()
            .is_not_found()
    );
    let d3 = store.device(&DeviceId::new("d3")).await.unwrap();
    assert_eq!((d3.household, d3.member), (Some(sid("h1")), None));
    assert_eq!(d3.revoked_at, None);
    assert_eq!(
        store
            .device_by_token(&hash_token("device-token-d3"))
            .await
            .unwrap()
            .id,
        DeviceId::new("d3"),
        "a detached device keeps working for the household"
    );
    let d4 = store.device(&DeviceId::new("d4")).await.unwrap();
    assert_eq!(
        d4.member,
        Some(sid("m2")),
        "another member's device is untouched"
    );
    assert!(
        store
            .invitation(&hash_token("invite-m2"), now)
            .await
            .is_ok()
    );

    // A household, by its plan: the remaining member first, then the household, whose
    // devices leave it with their tokens revoked.
    let h1 = store.subject(&sid("h1")).await.unwrap();
    let members = store.members(&sid("h1")).await.unwrap();
    let plan = erasure_plan(&h1, &members);
    let steps: Vec<&str> = plan.steps.iter().map(|s| s.subject.as_str()).collect();
    assert_eq!(steps, ["m2", "h1"]);
    let m2 = store.erase_subject(&plan.steps[0], now).await.unwrap();
    assert_eq!(m2.devices, 1);
    assert!(
        store
            .invitation(&hash_token("invite-m2"), now)
            .await
            .unwrap_err()
            .is_not_found()
    );
    let token_of = |id: &str| {
        if id == "d1" {
            hash_token("device-token-1")
        } else {
            hash_token(&format!("device-token-{id}"))
        }
    };
    for id in ["d1", "d3", "d4"] {
        assert!(
            residue.holds(token_of(id).as_bytes()).await.unwrap(),
            "the check can see {id}'s token hash before the erasure"
        );
    }
    let h = store.erase_subject(&plan.steps[1], now).await.unwrap();
    assert_eq!(h.consents, 1);
    assert_eq!(h.devices, 3, "every device of the household is unlinked");
    for id in ["d1", "d3", "d4"] {
        let d = store.device(&DeviceId::new(id)).await.unwrap();
        assert_eq!((&d.household, &d.member), (&None, &None), "{id}");
        assert_eq!(d.revoked_at, Some(now), "{id}");
        let token = token_of(id);
        assert!(
            store
                .device_by_token(&token)
                .await
                .unwrap_err()
                .is_not_found(),
            "{id}'s token is revoked"
        );
        assert!(
            !residue.holds(token.as_bytes()).await.unwrap(),
            "{id}'s revoked token hash is in no file"
        );
    }
    assert!(
        store.devices_of(&sid("h1")).await.unwrap().is_empty(),
        "nothing is left in the household"
    );
    let d2 = store.device(&DeviceId::new("d2")).await.unwrap();
    assert_eq!(d2.revoked_at, None, "a device of no household is untouched");
    assert!(store.account("staff1").await.is_ok(), "staff are no one's");
    assert!(
        store
            .erase_subject(&plan.steps[1], now)
            .await
            .unwrap_err()
            .is_not_found()
    );

    // The step decides, not the subject's kind: a household erased with its devices detached
    // from it as a member (no device names it as one) leaves them as they were.
    store
        .create_subject(subject("h5", SubjectKind::Household, None))
        .await
        .unwrap();
    device(store, "d5", Some("h5"), None).await;
    let h5 = store.subject(&sid("h5")).await.unwrap();
    let detach = ErasureStep {
        devices: DeviceDisposition::DetachFromMember,
        ..ErasureStep::for_subject(&h5)
    };
    assert_eq!(store.erase_subject(&detach, now).await.unwrap().devices, 0);
    let d5 = store.device(&DeviceId::new("d5")).await.unwrap();
    assert_eq!((d5.household, d5.revoked_at), (Some(sid("h5")), None));
    store
        .reset_device(&DeviceId::new("d5"), now, None, None, None)
        .await
        .unwrap();
}
