//! End-to-end: backups respect erasure. A backup taken before an erasure, restored after it,
//! does not bring the erased subject back, while everyone else's data comes back intact.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod e2e_rights_support;
mod support;

use e2e_rights_support::*;
use serde_json::json;
use support::*;

#[test]
fn restoring_an_older_backup_does_not_bring_an_erased_subject_back() {
    let inst = Instance::new();
    let (admin, support) = inst.operators();
    let analyst = inst.key("analyst", &["heating_control", "request_history"]);
    let mut server = inst.serve();
    let data = inst.data.to_str().unwrap().to_owned();

    // Two households; the first will be erased after the backup.
    let gone_name = marker("GoneHousehold");
    let gone = server.household(&admin, &gone_name);
    let gone_member = server.member(&admin, &gone, &marker("GoneMember"), false);
    let (_, gone_thermostat) = server.device(&admin, THERMOSTAT, Some(&gone), None);
    let (_, gone_speaker) = server.device(&admin, SPEAKER, Some(&gone), None);
    let kept = server.home(&admin);
    let (_, kept_speaker) = server.device(&admin, SPEAKER, Some(&kept.household), None);
    let gone_said = marker("GoneSaid");
    server.ingest_ok(&gone_thermostat, &json!([climate(&ago(60), 22.0, 9)]));
    server.ingest_ok(
        &gone_speaker,
        &json!([voice(&ago(50), &gone_member, &gone_said)]),
    );
    server.ingest_ok(
        &kept.token,
        &json!([climate(&ago(60), 19.0, 3), climate(&ago(40), 19.5, 4)]),
    );
    server.ingest_ok(
        &kept_speaker,
        &json!([voice(&ago(30), &kept.member, "radio on")]),
    );
    let kept_before = export_json(&server, &support, &kept.household);
    let kept_member_before = export_json(&server, &support, &kept.member);
    assert_eq!(records_of(&kept_before, "climate").len(), 2);

    // What of the erased household is on disk, as someone with file access would see it: its
    // wrapped key (keyring.db), its sealed profile and its sealed records (privet.db).
    let (gone_wrapped, gone_profile, gone_payloads) = sealed_bytes_of(&inst, &gone);
    assert!(!gone_payloads.is_empty());

    // An online backup, taken while the server runs.
    let backup = inst.root().join("before-erasure.db");
    let (code, text) = privet_data(
        &inst,
        &["backup", "--data", &data, "--out", backup.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{text}");
    assert!(backup.exists());
    assert!(
        std::fs::read(&backup)
            .unwrap()
            .starts_with(b"SQLite format 3\0"),
        "the backup is a database file"
    );
    // Restoring under a running server is refused, and changes nothing.
    let (code, text) = privet_data(
        &inst,
        &["restore", "--data", &data, backup.to_str().unwrap()],
    );
    assert_ne!(code, 0, "restore ran under a live server: {text}");
    assert!(text.contains("stop it first"), "{text}");
    // The backup holds the sealed data but never the keyring.
    let backup_bytes = std::fs::read(&backup).unwrap();
    assert!(contains(&backup_bytes, &gone_profile));
    assert!(
        !contains(&backup_bytes, &gone_wrapped),
        "the backup holds a wrapped subject key"
    );
    assert!(server.get("/healthz", None).status == 200);
    // The live server's data is untouched by the refused restore.
    assert_eq!(
        export_json(&server, &support, &kept.household)["records"],
        kept_before["records"]
    );

    // Erase the first household after the backup.
    let receipt = erase(&server, &support, &gone).expect(200);
    assert_eq!(receipt["counts"]["subjects"], 2);
    server.stop_ok();

    let (code, text) = privet_data(
        &inst,
        &["restore", "--data", &data, backup.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{text}");
    println!("{text}");
    assert!(text.contains("purged 2 subject(s)"), "{text}");
    let (code, text) = inst.audit_verify();
    assert_eq!(code, 0, "audit chain after restore: {text}");

    let server = inst.serve();
    // The erased household and its member are not back.
    for id in [&gone, &gone_member] {
        export(&server, &support, id).problem(404);
    }
    server
        .get(&format!("/v1/households/{gone}"), Some(&admin.secret))
        .problem(404);
    for purpose in ["heating_control", "request_history"] {
        let records = server.records(&analyst, &[("purpose", purpose)]);
        assert!(
            !serde_json::to_string(&records)
                .unwrap()
                .contains(&gone_said)
        );
        assert!(
            records
                .iter()
                .all(|r| r["product"] != THERMOSTAT || r["data"]["temperature_c"] != json!(22.0)),
            "{records:?}"
        );
        let r = server.events(&analyst, &[("purpose", purpose), ("subject", &gone)]);
        assert_eq!(r.status, 404, "{r:?}");
    }
    // The other household is intact, records and profile alike.
    let kept_after = export_json(&server, &support, &kept.household);
    assert_eq!(kept_after["records"], kept_before["records"]);
    assert_eq!(
        kept_after["about"]["subjects"],
        kept_before["about"]["subjects"]
    );
    let kept_member_after = export_json(&server, &support, &kept.member);
    assert_eq!(kept_member_after["records"], kept_member_before["records"]);
    assert_eq!(
        server
            .records(&analyst, &[("purpose", "request_history")])
            .len(),
        1
    );
    // The erased household's devices stay revoked; the other's work.
    server
        .ingest(&gone_thermostat, &json!([climate(&ago(5), 22.0, 1)]))
        .problem(401);
    server.ingest_ok(&kept.token, &json!([climate(&ago(5), 19.0, 1)]));

    // The restore is in the audit log, which still verifies with the new activity.
    assert_eq!(audit_entries(&server, &admin, "backup.restore").len(), 1);
    drop(server);
    let (code, text) = inst.audit_verify();
    assert_eq!(code, 0, "{text}");
    // And nothing of the erased household is on any file of the data directory: not its name
    // or words, nor even the sealed bytes the backup brought back (purged on restore).
    inst.assert_not_on_disk(&gone_name, "erased household's name");
    inst.assert_not_on_disk(&gone_said, "erased member's transcript");
    for (what, bytes) in std::iter::once(("sealed profile", &gone_profile))
        .chain(std::iter::once(("wrapped key", &gone_wrapped)))
        .chain(gone_payloads.iter().map(|p| ("sealed record", p)))
    {
        let hits: Vec<_> = inst
            .data_files()
            .into_iter()
            .filter(|f| contains(&std::fs::read(f).unwrap_or_default(), bytes))
            .collect();
        assert!(
            hits.is_empty(),
            "the erased household's {what} is in {hits:?}"
        );
    }
}

/// A household's wrapped key, sealed profile and sealed record payloads, read from the files.
fn sealed_bytes_of(inst: &Instance, household: &str) -> (Vec<u8>, Vec<u8>, Vec<Vec<u8>>) {
    let sealed = sealed_subject(inst, household);
    let db = inst.db();
    let tables: Vec<String> = db
        .prepare("SELECT 'rec_' || id FROM chunks")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut payloads = Vec::new();
    for t in tables {
        let mut stmt = db
            .prepare(&format!("SELECT payload FROM {t} WHERE subject = ?1"))
            .unwrap();
        let rows = stmt
            .query_map([&sealed.pseudonym], |r| r.get::<_, Vec<u8>>(0))
            .unwrap();
        payloads.extend(rows.map(Result::unwrap));
    }
    (sealed.wrapped_key, sealed.profile, payloads)
}

#[test]
fn restore_refuses_a_file_that_is_not_a_backup_and_backup_refuses_to_overwrite() {
    let inst = Instance::new();
    let admin = inst.key("admin", &[]);
    let data = inst.data.to_str().unwrap().to_owned();
    let junk = inst.root().join("junk.db");
    std::fs::write(&junk, b"not a database at all").unwrap();
    let (code, text) = privet_data(&inst, &["restore", "--data", &data, junk.to_str().unwrap()]);
    assert_ne!(code, 0, "{text}");
    let out = inst.root().join("b.db");
    let (code, text) = privet_data(
        &inst,
        &["backup", "--data", &data, "--out", out.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{text}");
    let (code, text) = privet_data(
        &inst,
        &["backup", "--data", &data, "--out", out.to_str().unwrap()],
    );
    assert_ne!(code, 0, "an existing backup was overwritten: {text}");
    // Neither the live store itself nor a copy of the keyring passes for a backup.
    let live = inst.data.join("privet.db");
    let (code, text) = privet_data(&inst, &["restore", "--data", &data, live.to_str().unwrap()]);
    assert_ne!(code, 0, "the live store was restored onto itself: {text}");
    assert!(text.contains("live data store"), "{text}");
    let keyring_copy = inst.root().join("keyring-copy.db");
    std::fs::copy(inst.data.join("keyring.db"), &keyring_copy).unwrap();
    let (code, text) = privet_data(
        &inst,
        &["restore", "--data", &data, keyring_copy.to_str().unwrap()],
    );
    assert_ne!(code, 0, "a keyring was restored as the data store: {text}");
    // The data directory still works after the refused restores, key and all.
    let server = inst.serve();
    assert_eq!(server.get("/healthz", None).status, 200);
    assert_eq!(
        server.get("/v1/audit?limit=1", Some(&admin.secret)).status,
        200,
        "the admin key survived the refused restores"
    );
}

#[test]
fn a_backup_of_another_installation_is_refused_unless_forced() {
    let ours = Instance::new();
    let admin = ours.key("admin", &[]);
    let theirs = Instance::new();
    let (their_admin, _) = theirs.operators();
    let server = theirs.serve();
    let home = server.home(&their_admin);
    server.ingest_ok(&home.token, &json!([climate(&ago(60), 21.0, 5)]));
    let their_data = theirs.data.to_str().unwrap().to_owned();
    let backup = theirs.root().join("theirs.db");
    let (code, text) = privet_data(
        &theirs,
        &[
            "backup",
            "--data",
            &their_data,
            "--out",
            backup.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{text}");

    let data = ours.data.to_str().unwrap().to_owned();
    let (code, text) = privet_data(
        &ours,
        &["restore", "--data", &data, backup.to_str().unwrap()],
    );
    assert_ne!(code, 0, "a foreign backup was restored: {text}");
    assert!(text.contains("another Privet installation"), "{text}");
    assert!(text.contains("--force"), "{text}");
    // Nothing changed: our admin key still works.
    {
        let server = ours.serve();
        assert_eq!(
            server.get("/v1/audit?limit=1", Some(&admin.secret)).status,
            200
        );
    }

    // Forced: restored, every subject of theirs purged (no keys here), and it is ours now.
    let (code, text) = privet_data(
        &ours,
        &[
            "restore",
            "--force",
            "--data",
            &data,
            backup.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("purged ") && !text.contains("purged 0 subject"),
        "their subjects have no keys here: {text}"
    );
    let (code, text) = privet_data(
        &ours,
        &["restore", "--data", &data, backup.to_str().unwrap()],
    );
    assert_ne!(code, 0, "the foreign backup is still foreign: {text}");
    // A backup of our own installation restores without --force.
    let own = ours.root().join("own.db");
    let (code, text) = privet_data(
        &ours,
        &["backup", "--data", &data, "--out", own.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{text}");
    let (code, text) = privet_data(&ours, &["restore", "--data", &data, own.to_str().unwrap()]);
    assert_eq!(code, 0, "{text}");
}

#[test]
fn a_directory_last_used_before_installation_ids_restores_its_own_backup() {
    let inst = Instance::new();
    let admin = inst.key("admin", &[]);
    let data = inst.data.to_str().unwrap().to_owned();
    let backup = inst.root().join("own.db");
    let (code, text) = privet_data(
        &inst,
        &["backup", "--data", &data, "--out", backup.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{text}");
    // As an older Privet left it: no keyring migration 0003, no ids anywhere.
    let keyring = rusqlite::Connection::open(inst.data.join("keyring.db")).unwrap();
    keyring
        .execute_batch(
            "DROP TABLE installation; DELETE FROM schema_migrations WHERE name = 'keyring_0003_installation';",
        )
        .unwrap();
    drop(keyring);
    inst.db()
        .execute("DELETE FROM meta WHERE key = 'installation'", [])
        .unwrap();
    let old = rusqlite::Connection::open(&backup).unwrap();
    old.execute("DELETE FROM meta WHERE key = 'installation'", [])
        .unwrap();
    drop(old);

    let (code, text) = privet_data(
        &inst,
        &["restore", "--data", &data, backup.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{text}");
    let server = inst.serve();
    assert_eq!(
        server.get("/v1/audit?limit=1", Some(&admin.secret)).status,
        200
    );
}
