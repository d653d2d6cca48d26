//! The audit chain as stored, and the keyring.

use super::fixtures::{at, pseudonym};
use crate::{AuditVerdict, Error, Keyring, NewAuditEntry, Store, StoredAuditRow};
use privet_crypto::{AuditHash, Pseudonym};
use privet_policy::{AuditChain, ChainVerifier};

/// The chain the suite links with.
pub(super) fn chain() -> AuditChain {
    AuditChain::new(privet_crypto::AuditKey::new(&[5; 32]), 1)
}

/// Verifies the whole stored chain page by page, as a caller does.
async fn verify(store: &dyn Store, anchor: Option<(i64, AuditHash)>, page: usize) -> AuditVerdict {
    let mut v = ChainVerifier::new(chain(), anchor);
    loop {
        let rows = store.audit_rows(v.next_seq(), page).await.unwrap();
        if rows.is_empty() || !rows.iter().all(|r| v.push(r)) {
            break;
        }
    }
    v.finish()
}

pub(super) async fn audit(store: &dyn Store, keyring: &dyn Keyring) {
    let entry = |action: &str, subjects: Vec<Pseudonym>| NewAuditEntry {
        at: at("2026-05-01T10:00:00.123456Z"),
        actor: "key:k1".into(),
        action: action.into(),
        purpose: Some("energy_report".into()),
        subjects,
        count: 7,
        detail: serde_json::json!({"stream": "presence"}),
    };
    assert_eq!(store.audit_head().await.unwrap(), None, "an empty log");
    let e1 = store
        .append_audit(entry("events.read", vec![pseudonym("m1")]), &chain())
        .await
        .unwrap();
    let e2 = store
        .append_audit(entry("events.read", vec![pseudonym("h1")]), &chain())
        .await
        .unwrap();
    assert_eq!((e1.seq, e2.seq), (1, 2));
    assert_eq!(e1.prev, AuditHash::GENESIS);
    assert_eq!(e2.prev, e1.hash);
    assert_eq!(
        store.audit_head().await.unwrap(),
        Some((2, e2.hash)),
        "the head is the newest entry"
    );
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

    // The rows as stored: what the entries were linked from, in order, paged.
    let rows: Vec<StoredAuditRow> = store.audit_rows(1, 100).await.unwrap();
    assert_eq!(rows.iter().map(|r| r.seq).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(rows[0].decode().unwrap(), e1);
    assert_eq!(rows[1].decode().unwrap(), e2);
    assert_eq!(rows[0].at_micros, e1.entry.at.as_microsecond());
    assert_eq!(store.audit_rows(2, 100).await.unwrap(), rows[1..]);
    assert_eq!(store.audit_rows(1, 1).await.unwrap(), rows[..1]);
    assert!(store.audit_rows(3, 100).await.unwrap().is_empty());

    let anchor = keyring.audit_anchor().await.unwrap();
    for page in [1, 100] {
        assert_eq!(
            verify(store, anchor, page).await,
            AuditVerdict {
                entries: 2,
                first_broken: None
            },
            "the stored chain verifies (pages of {page})"
        );
    }
    let ahead = verify(store, Some((3, e2.hash)), 100).await;
    assert_eq!(
        ahead.first_broken.map(|b| b.seq),
        Some(3),
        "a missing tail is detected"
    );
}

pub(super) async fn keys(keyring: &dyn Keyring) {
    let p = pseudonym("m1");
    keyring
        .put(&p, vec![1; 60], at("2026-01-01T00:00:00Z"))
        .await
        .unwrap();
    assert!(matches!(
        keyring
            .put(&p, vec![2; 60], at("2026-01-01T00:00:00Z"))
            .await,
        Err(Error::Conflict { .. })
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
