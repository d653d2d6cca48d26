//! End-to-end: the hash-chained audit log and `privet audit verify`, tampering done the way
//! someone with write access to `privet.db` would; pseudonyms in records and audit entries.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::json;
use support::*;

/// What a tamper test starts from: a stopped instance with a verified audit log of at least
/// six entries, and the ids that were created.
struct Audited {
    inst: Instance,
    home: Home,
    entries: i64,
}

fn audited() -> Audited {
    let inst = Instance::new();
    let admin = inst.key("admin", &[]); // entry 1
    let heating = inst.key("analyst", &["heating_control"]); // entry 2
    let support = inst.key("support", &[]); // entry 3
    let mut server = inst.serve();
    let home = server.home(&admin); // household, member, device
    server.consent_ok(&support, &home.member, "energy_report", true);
    server.ingest_ok(
        &home.token,
        &json!([
            climate(&ago(20), 20.0, 1),
            presence(&ago(10), &home.member, true)
        ]),
    );
    server.records(&heating, &[("purpose", "heating_control")]);
    server.records(
        &heating,
        &[("purpose", "heating_control"), ("since", &ahead(60))],
    );
    // Verifiable while the server runs …
    let (code, out) = inst.audit_verify();
    assert_eq!(code, 0, "{out}");
    server.stop_ok();
    // … and after it stopped.
    let (code, out) = inst.audit_verify();
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("intact"), "{out}");
    let entries: i64 = inst
        .db()
        .query_row("SELECT COUNT(*) FROM audit", [], |r| r.get(0))
        .unwrap();
    assert!(entries >= 8, "{entries} entries");
    assert!(out.contains(&format!("{entries} entries")), "{out}");
    Audited {
        inst,
        home,
        entries,
    }
}

fn assert_broken_at(inst: &Instance, seq: i64) {
    let (code, out) = inst.audit_verify();
    assert_eq!(code, 1, "tampering not detected: {out}");
    assert!(
        out.contains(&format!("entry {seq}:")),
        "names entry {seq}: {out}"
    );
}

#[test]
fn audit_verify_passes_after_activity() {
    let a = audited();
    // Every action left its entry, the reads with their counts.
    let actions: Vec<String> = a
        .inst
        .db()
        .prepare("SELECT body FROM audit ORDER BY seq")
        .unwrap()
        .query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .map(|b| {
            let v: serde_json::Value = serde_json::from_str(&b.unwrap()).unwrap();
            v["action"].as_str().unwrap().to_owned()
        })
        .collect();
    for action in [
        "key.create",
        "household.create",
        "member.create",
        "device.create",
        "consent.grant",
        "events.read",
    ] {
        assert!(
            actions.iter().any(|x| x == action),
            "{action} in {actions:?}"
        );
    }
    assert_eq!(actions.len() as i64, a.entries);
}

#[test]
fn an_altered_entry_fails_audit_verify_naming_it() {
    let a = audited();
    let db = a.inst.db();
    let body: String = db
        .query_row("SELECT body FROM audit WHERE seq = 3", [], |r| r.get(0))
        .unwrap();
    assert!(body.contains("\"count\":0"), "{body}");
    let changed = db
        .execute(
            "UPDATE audit SET body = replace(body, '\"count\":0', '\"count\":5') WHERE seq = 3",
            [],
        )
        .unwrap();
    assert_eq!(changed, 1);
    drop(db);
    assert_broken_at(&a.inst, 3);
}

#[test]
fn an_entry_altered_with_its_hash_recomputed_still_breaks_the_chain() {
    let a = audited();
    let db = a.inst.db();
    // Changing an entry's hash as well moves the break to the next entry's link.
    db.execute(
        "UPDATE audit SET body = replace(body, '\"count\":0', '\"count\":5'), hash = randomblob(32) WHERE seq = 4",
        [],
    )
    .unwrap();
    drop(db);
    let (code, out) = a.inst.audit_verify();
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("entry 4:") || out.contains("entry 5:"),
        "{out}"
    );
}

#[test]
fn a_removed_last_entry_is_detected_by_the_anchor() {
    let a = audited();
    let db = a.inst.db();
    let removed = db
        .execute("DELETE FROM audit WHERE seq = ?1", [a.entries])
        .unwrap();
    assert_eq!(removed, 1);
    drop(db);
    assert_broken_at(&a.inst, a.entries);
}

#[test]
fn a_removed_middle_entry_is_detected() {
    let a = audited();
    let db = a.inst.db();
    db.execute("DELETE FROM audit WHERE seq = 5", []).unwrap();
    drop(db);
    assert_broken_at(&a.inst, 5);
}

#[test]
fn reordered_entries_are_detected() {
    let a = audited();
    let db = a.inst.db();
    // Swap the contents of entries 4 and 5, keeping each row's stored hash and link.
    db.execute_batch(
        "UPDATE audit SET body = CASE seq WHEN 4 THEN (SELECT body FROM audit WHERE seq = 5)
                                         WHEN 5 THEN (SELECT body FROM audit WHERE seq = 4) END,
                          at   = CASE seq WHEN 4 THEN (SELECT at FROM audit WHERE seq = 5)
                                         WHEN 5 THEN (SELECT at FROM audit WHERE seq = 4) END
         WHERE seq IN (4, 5);",
    )
    .unwrap();
    drop(db);
    assert_broken_at(&a.inst, 4);
}

#[test]
fn reordered_whole_rows_are_detected() {
    let a = audited();
    let db = a.inst.db();
    // Move entire rows (body, link and hash) so each row is self-consistent but out of order.
    db.execute_batch(
        "UPDATE audit SET seq = -4 WHERE seq = 4;
         UPDATE audit SET seq = 4 WHERE seq = 5;
         UPDATE audit SET seq = 5 WHERE seq = -4;",
    )
    .unwrap();
    drop(db);
    assert_broken_at(&a.inst, 4);
}

#[test]
fn audit_and_records_refer_to_subjects_by_pseudonym() {
    let a = audited();
    let db = a.inst.db();
    let ids = [&a.home.household, &a.home.member];

    // Only the subjects table maps ids to pseudonyms.
    let n: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM subjects WHERE id IN (?1, ?2)",
            [ids[0], ids[1]],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 2);

    // No audit entry names a subject by id.
    let mut stmt = db.prepare("SELECT seq, body FROM audit").unwrap();
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
        .unwrap();
    let mut with_subjects = 0;
    for row in rows {
        let (seq, body) = row.unwrap();
        for id in ids {
            assert!(
                !body.contains(id.as_str()),
                "audit entry {seq} names {id}: {body}"
            );
        }
        if body.contains("\"subjects\":[\"") {
            with_subjects += 1;
        }
    }
    assert!(with_subjects > 0, "entries about subjects carry pseudonyms");

    // The record tables hold pseudonyms and sealed payloads: no id in any column.
    let tables: Vec<String> = db
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT IN
             ('subjects', 'consents', 'devices', 'api_keys', 'audit', 'meta', 'schema_migrations', 'sqlite_sequence')",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut rows_seen = 0;
    let mut record_rows = 0;
    for t in &tables {
        let mut stmt = db.prepare(&format!("SELECT * FROM \"{t}\"")).unwrap();
        let columns = stmt.column_count();
        let mut rows = stmt.query([]).unwrap();
        while let Some(row) = rows.next().unwrap() {
            rows_seen += 1;
            if t.starts_with("rec_") {
                record_rows += 1;
            }
            for c in 0..columns {
                let bytes: Vec<u8> = match row.get_ref(c).unwrap() {
                    rusqlite::types::ValueRef::Text(b) | rusqlite::types::ValueRef::Blob(b) => {
                        b.to_vec()
                    }
                    other => format!("{other:?}").into_bytes(),
                };
                for id in ids {
                    assert!(
                        !contains(&bytes, id.as_bytes()),
                        "table {t} column {c} holds {id}"
                    );
                }
            }
        }
    }
    assert!(
        tables.iter().any(|t| t != "chunks"),
        "record tables exist: {tables:?}"
    );
    assert!(rows_seen > 0);
    // The scan looked at stored records, not only at bookkeeping tables.
    assert!(
        tables.iter().any(|t| t.starts_with("rec_")) && record_rows > 0,
        "no record rows scanned: {tables:?}"
    );
    // Nor does the keyring.
    let keyring = std::fs::read(a.inst.data.join("keyring.db")).unwrap();
    for id in ids {
        assert!(!contains(&keyring, id.as_bytes()), "keyring.db holds {id}");
    }
}
