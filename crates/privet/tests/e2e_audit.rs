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

/// The audit rows' text, oldest first.
fn bodies(db: &rusqlite::Connection) -> Vec<(i64, String)> {
    db.prepare("SELECT seq, body FROM audit ORDER BY seq")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn an_edit_re_chained_with_unkeyed_sha256_and_a_moved_anchor_still_fails() {
    // Someone with write access to both files edits entry 3, recomputes every link the way
    // the old unkeyed chain was made, and moves the anchor to the forged head: without the
    // key the first entry already fails.
    let a = audited();
    let db = a.inst.db();
    let mut prev = privet_crypto::AuditHash::GENESIS;
    for (seq, body) in bodies(&db) {
        let body = if seq == 3 {
            body.replacen("\"count\":0", "\"count\":5", 1)
        } else {
            body
        };
        let hash = privet_crypto::chain_hash(&prev, body.as_bytes());
        db.execute(
            "UPDATE audit SET body = ?1, prev = ?2, hash = ?3 WHERE seq = ?4",
            rusqlite::params![
                body,
                prev.as_bytes().as_slice(),
                hash.as_bytes().as_slice(),
                seq
            ],
        )
        .unwrap();
        prev = hash;
    }
    drop(db);
    let keyring = rusqlite::Connection::open(a.inst.data.join("keyring.db")).unwrap();
    keyring
        .execute(
            "UPDATE audit_anchor SET hash = ?1",
            [prev.as_bytes().as_slice()],
        )
        .unwrap();
    drop(keyring);
    let (code, out) = a.inst.audit_verify();
    assert_eq!(code, 1, "a re-chained log passed: {out}");
    assert!(
        out.contains("entry 1: content does not match its hash"),
        "{out}"
    );
}

/// `privet audit verify --head FILE`: (exit code, stdout + stderr).
fn verify_with_head(inst: &Instance, head: &std::path::Path) -> (i32, String) {
    let backend = inst.backend_args();
    let out = inst.privet(&[
        "audit",
        "verify",
        &backend[0],
        &backend[1],
        "--head",
        head.to_str().unwrap(),
    ]);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn a_signed_head_catches_a_cut_tail_with_the_anchor_deleted() {
    let inst = Instance::new();
    let admin = inst.key("admin", &[]);
    let dpo = inst.key("dpo", &[]);
    let support = inst.key("support", &[]);
    let mut server = inst.serve();
    let home = server.home(&admin);
    server.consent_ok(&support, &home.member, "energy_report", true);
    // The head as served: a compact JWS under the key in the JWKS, over the newest entry.
    let r = server.get("/v1/audit/head", Some(&dpo.secret));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.headers["content-type"], "application/jose");
    let jwks: serde_json::Value =
        serde_json::from_str(&server.get("/.well-known/jwks.json", None).body).unwrap();
    let head = privet_crypto::verify_jws_with_jwks(&jwks, &r.body).unwrap();
    assert_eq!(head["typ"], "privet-audit-head");
    let entries: Vec<serde_json::Value> = serde_json::from_str(
        &server
            .get("/v1/audit?limit=10000", Some(&admin.secret))
            .body,
    )
    .unwrap();
    let newest = entries.last().unwrap();
    assert_eq!(head["seq"], newest["seq"]);
    assert_eq!(head["hash"], newest["hash"]);
    let head_seq = head["seq"].as_i64().unwrap();
    assert!(head_seq >= 6, "{head}");
    let kept = inst.root().join("head.jws");
    std::fs::write(&kept, &r.body).unwrap();
    // Admins may read it too; support and analysts may not, nor anyone without a key.
    assert_eq!(
        server.get("/v1/audit/head", Some(&admin.secret)).status,
        200
    );
    server
        .get("/v1/audit/head", Some(&support.secret))
        .problem(403);
    server.get("/v1/audit/head", None).problem(401);
    // More activity; the kept head is still reached and extended.
    server.consent_ok(&support, &home.member, "energy_report", false);
    server.stop_ok();
    let (code, out) = verify_with_head(&inst, &kept);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(&format!("extends the signed head of entry {head_seq}")),
        "{out}"
    );

    // The tail cut below the head, and the anchor deleted with it: the log alone looks
    // intact, the kept head does not agree.
    let db = inst.db();
    db.execute("DELETE FROM audit WHERE seq > ?1", [head_seq - 2])
        .unwrap();
    drop(db);
    let keyring = rusqlite::Connection::open(inst.data.join("keyring.db")).unwrap();
    assert_eq!(keyring.execute("DELETE FROM audit_anchor", []).unwrap(), 1);
    drop(keyring);
    let (code, out) = inst.audit_verify();
    assert_eq!(code, 0, "without a head the cut is invisible: {out}");
    let (code, out) = verify_with_head(&inst, &kept);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!(
            "entry {}: missing: the log ends before the signed head",
            head_seq - 1
        )),
        "{out}"
    );
}

#[test]
fn a_head_not_signed_by_this_installation_is_refused() {
    let a = audited();
    let other = Instance::new();
    other.key("admin", &[]);
    let admin = other.key("admin", &[]);
    let mut server = other.serve();
    let r = server.get("/v1/audit/head", Some(&admin.secret));
    assert_eq!(r.status, 200, "{}", r.body);
    server.stop_ok();
    let foreign = a.inst.root().join("foreign.jws");
    std::fs::write(&foreign, &r.body).unwrap();
    let (code, out) = verify_with_head(&a.inst, &foreign);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("not signed by this installation's key"),
        "{out}"
    );
    let garbage = a.inst.root().join("garbage.jws");
    std::fs::write(&garbage, "not a jws").unwrap();
    let (code, out) = verify_with_head(&a.inst, &garbage);
    assert_eq!(code, 2, "{out}");
}

#[test]
fn a_signed_head_is_written_into_the_log_each_hour_it_grew() {
    let inst = Instance::new();
    inst.set_clock("2026-12-05T10:10:00Z");
    let admin = inst.key("admin", &[]);
    let mut server = inst.serve();
    server.home(&admin);
    let heads = |server: &Server| -> Vec<serde_json::Value> {
        let all: Vec<serde_json::Value> = serde_json::from_str(
            &server
                .get("/v1/audit?limit=10000", Some(&admin.secret))
                .body,
        )
        .unwrap();
        all.into_iter()
            .filter(|e| e["action"] == "audit.head")
            .collect()
    };
    assert!(heads(&server).is_empty(), "none before an hour passed");
    server.advance_clock(3600);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let written = loop {
        let h = heads(&server);
        if !h.is_empty() {
            break h;
        }
        assert!(std::time::Instant::now() < deadline, "no head written");
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert_eq!(written.len(), 1);
    let entry = &written[0];
    let jwks: serde_json::Value =
        serde_json::from_str(&server.get("/.well-known/jwks.json", None).body).unwrap();
    let signed =
        privet_crypto::verify_jws_with_jwks(&jwks, entry["detail"]["jws"].as_str().unwrap())
            .unwrap();
    assert_eq!(signed["seq"].as_i64(), entry["seq"].as_i64().map(|s| s - 1));
    assert_eq!(signed["seq"], entry["detail"]["seq"]);
    // An hour with nothing new appended writes none: its job runs and finds the newest entry
    // is the last head.
    server.advance_clock(3600);
    let heads_run = || -> i64 {
        inst.db()
            .query_row(
                "SELECT COUNT(*) FROM jobs WHERE kind = 'audit-head' AND done_at IS NOT NULL",
                [],
                |r| r.get(0),
            )
            .unwrap()
    };
    while heads_run() < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "the second hour's job never ran"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(heads(&server).len(), 1, "nothing new, no new head");
    server.stop_ok();
    let (code, out) = inst.audit_verify();
    assert_eq!(code, 0, "{out}");
}
