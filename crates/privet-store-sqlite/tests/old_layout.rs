//! A data directory written before the store became backend-neutral still opens, reads and
//! grows: its chunks (windows chosen by the store then) and its audit chain (hashed over the
//! text the store serialised then) are what the policy now decides and links.

// Test helpers outside `#[test]` functions may unwrap and panic too.
#![allow(clippy::unwrap_used, clippy::panic)]

use futures::StreamExt;
use jiff::Timestamp;
use privet_crypto::{AuditHash, MasterKey, Pseudonym, chain_hash};
use privet_manifest::Retention;
use privet_policy::audit::{NewAuditEntry, link};
use privet_policy::{ChainVerifier, DeviceId, chunk_window};
use privet_store::{BlockQuery, NewBlock, Store};
use privet_store_sqlite::SqliteStore;
use rusqlite::{Connection, params};
use std::path::Path;

fn pseudonym(id: &str) -> Pseudonym {
    MasterKey::from_bytes([9; 32]).pseudonymizer().pseudonym(id)
}

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

/// The audit text the old store wrote: `Body { seq, #[serde(flatten)] entry }` as JSON, with
/// the entry's fields in their declared order.
fn old_audit_text(seq: i64, at: &str, subject: &Pseudonym) -> String {
    format!(
        r#"{{"seq":{seq},"at":"{at}","actor":"key:k1","action":"events.read","purpose":"energy_report","subjects":["{subject}"],"count":7,"detail":{{"stream":"presence"}}}}"#
    )
}

/// Writes `privet.db` as the old store did: its migrations, one chunk whose window the store
/// computed itself (an hour or a day wide, in seconds), one block in it, two audit entries.
fn write_old_store(path: &Path) -> (Vec<String>, AuditHash) {
    let c = Connection::open(path).unwrap();
    c.execute_batch("PRAGMA journal_mode = WAL;").unwrap();
    c.execute_batch(
        "CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL) STRICT;",
    )
    .unwrap();
    for (name, sql) in [
        ("0001_init", include_str!("../migrations/0001_init.sql")),
        ("0002_rights", include_str!("../migrations/0002_rights.sql")),
        (
            "0003_accounts",
            include_str!("../migrations/0003_accounts.sql"),
        ),
    ] {
        c.execute_batch(sql).unwrap();
        c.execute(
            "INSERT INTO schema_migrations (name, applied_at) VALUES (?1, 0)",
            [name],
        )
        .unwrap();
    }
    // 30d is a day-wide class; the block's latest value expires on 31 May 2026 at 10:00:10.
    let expires = at("2026-05-31T10:00:10Z").as_second();
    let start = expires.div_euclid(86_400) * 86_400;
    c.execute(
        "INSERT INTO chunks (class, window_start, window_end) VALUES ('30d', ?1, ?2)",
        params![start, start + 86_400],
    )
    .unwrap();
    let id = c.last_insert_rowid();
    c.execute_batch(&format!(
        "CREATE TABLE rec_{id} (
            id BLOB NOT NULL UNIQUE, subject BLOB NOT NULL, stream TEXT NOT NULL,
            product TEXT NOT NULL, device TEXT NOT NULL, class TEXT NOT NULL,
            t_min INTEGER NOT NULL, t_max INTEGER NOT NULL, expires_max INTEGER NOT NULL,
            n INTEGER NOT NULL, payload BLOB NOT NULL
        ) STRICT;
        CREATE INDEX rec_{id}_subject ON rec_{id}(subject, stream, t_min);"
    ))
    .unwrap();
    c.execute(
        &format!("INSERT INTO rec_{id} VALUES (?1, ?2, 'presence', 'acme-thermostat-2', 'd1', '30d', ?3, ?4, ?5, 3, x'00ff')"),
        params![
            [1u8; 16].as_slice(),
            pseudonym("m1").as_bytes().as_slice(),
            at("2026-05-01T10:00:00Z").as_microsecond(),
            at("2026-05-01T10:00:10Z").as_microsecond(),
            at("2026-05-31T10:00:10Z").as_microsecond(),
        ],
    )
    .unwrap();

    let mut prev = AuditHash::GENESIS;
    let mut texts = Vec::new();
    for (seq, t) in [
        (1, "2026-05-01T10:00:00Z"),
        (2, "2026-05-01T10:00:00.123456Z"),
    ] {
        let text = old_audit_text(seq, t, &pseudonym("m1"));
        let hash = chain_hash(&prev, text.as_bytes());
        c.execute(
            "INSERT INTO audit (seq, at, body, prev, hash) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                seq,
                at(t).as_microsecond(),
                text,
                prev.as_bytes().as_slice(),
                hash.as_bytes().as_slice()
            ],
        )
        .unwrap();
        texts.push(text);
        prev = hash;
    }
    (texts, prev)
}

fn new_block(t: &str) -> NewBlock {
    let retention = Retention::parse("30d").unwrap();
    let expires_max = at("2026-05-31T12:00:00Z");
    NewBlock {
        id: [2; 16],
        subject: pseudonym("m1"),
        stream: "presence".into(),
        product: "acme-thermostat-2".into(),
        device: DeviceId::new("d1"),
        retention,
        window: chunk_window(retention, expires_max),
        t_min: at(t),
        t_max: at(t),
        expires_max,
        count: 2,
        payload: vec![0xab],
    }
}

/// The chain after the upgrade: the old store's two entries are unkeyed, the chain is keyed
/// from the third on.
fn upgraded() -> privet_policy::AuditChain {
    privet_policy::AuditChain::new(privet_crypto::AuditKey::new(&[4; 32]), 3)
}

async fn verify(store: &SqliteStore, anchor: (i64, AuditHash)) -> privet_policy::AuditVerdict {
    let mut v = ChainVerifier::new(upgraded(), Some(anchor));
    for row in store.audit_rows(1, 1000).await.unwrap() {
        v.push(&row);
    }
    v.finish()
}

#[test]
fn the_policy_links_entries_into_the_text_the_old_store_hashed() {
    let p = pseudonym("m1");
    for (seq, t) in [
        (1, "2026-05-01T10:00:00Z"),
        (2, "2026-05-01T10:00:00.123456Z"),
    ] {
        let entry = NewAuditEntry {
            at: at(t),
            actor: "key:k1".into(),
            action: "events.read".into(),
            purpose: Some("energy_report".into()),
            subjects: vec![p],
            count: 7,
            detail: serde_json::json!({"stream": "presence"}),
        };
        let head = (seq > 1).then_some((seq - 1, AuditHash::GENESIS));
        let (row, _) = link(&upgraded(), head, entry).unwrap();
        assert_eq!(row.text, old_audit_text(seq, t, &p), "byte for byte");
    }
}

#[tokio::test]
async fn a_store_written_by_the_old_layout_opens_reads_and_grows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("privet.db");
    let (texts, old_head) = write_old_store(&path);

    let store = SqliteStore::open(&path).unwrap();
    let chunks = store.chunks().await.unwrap();
    assert_eq!(chunks.len(), 1);
    let old_window = chunks[0].window;
    assert_eq!(
        old_window,
        chunk_window(Retention::parse("30d").unwrap(), at("2026-05-31T10:00:10Z")),
        "the old store's window is the one the policy chooses"
    );
    let mut scan = store.scan_blocks(BlockQuery::default()).await.unwrap();
    let old = scan.next().await.unwrap().unwrap();
    assert!(scan.next().await.is_none());
    assert_eq!((old.id, old.count, old.window), ([1; 16], 3, old_window));

    // The chain written before verifies, and the store links onto it.
    assert!(verify(&store, (2, old_head)).await.first_broken.is_none());
    let rows = store.audit_rows(1, 10).await.unwrap();
    assert_eq!(
        rows.iter().map(|r| r.text.clone()).collect::<Vec<_>>(),
        texts
    );
    assert_eq!(
        store.audit(None, 10).await.unwrap()[1].entry.at,
        at("2026-05-01T10:00:00.123456Z")
    );
    let appended = store
        .append_audit(
            NewAuditEntry {
                at: at("2026-06-01T00:00:00Z"),
                actor: "system".into(),
                action: "retention.run".into(),
                purpose: None,
                subjects: Vec::new(),
                count: 0,
                detail: serde_json::Value::Null,
            },
            &upgraded(),
        )
        .await
        .unwrap();
    assert_eq!((appended.seq, appended.prev), (3, old_head));
    assert!(
        verify(&store, (3, appended.hash))
            .await
            .first_broken
            .is_none(),
        "the old unkeyed entries and the new keyed one verify together"
    );

    // A new block of the same window joins the old chunk.
    store
        .append_blocks(vec![new_block("2026-05-01T12:00:00Z")], None)
        .await
        .unwrap();
    assert_eq!(store.chunks().await.unwrap().len(), 1);
    drop(store);

    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.record_counts().await.unwrap(), (2, 5));
    let verdict = verify(&store, (3, appended.hash)).await;
    assert_eq!((verdict.entries, verdict.first_broken), (3, None));
}
