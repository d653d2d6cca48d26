//! End-to-end: master-key rotation with the real binary. A subject is erased, epoch 2 is
//! added, `privet keyring rotate` re-wraps every live key, `privet keyring status` shows
//! nothing left under epoch 1, and the instance then runs on epoch 2 alone: the same
//! pseudonyms, the old records readable, the erased subject's key in no keyring row. A copy of
//! the keyring taken before the rotation — what a backup, WAL archive or replica holds — is
//! unreadable with epoch 2 alone: the erased subject's key in it is beyond use once epoch 1 is
//! destroyed. The PostgreSQL variant checks every wrapped key in `privet_keyring.keys` names
//! the newest epoch.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod e2e_rights_support;
mod support;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use e2e_rights_support::{erase, sealed_subject};
use jiff::Timestamp;
use privet_crypto::{Error as CryptoError, MasterKey, MasterKeys, Pseudonym, os_rng};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use support::*;

/// A fresh master key as text.
fn new_key() -> String {
    MasterKey::generate(&mut os_rng())
        .to_encoded()
        .expose()
        .to_owned()
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `privet ARGS…` that must succeed; its stdout.
fn privet_ok(inst: &Instance, args: &[&str]) -> String {
    let out = inst.privet(args);
    assert!(
        out.status.success(),
        "privet {args:?} failed:\n{}{}",
        stdout(&out),
        stderr(&out)
    );
    stdout(&out)
}

/// Every (pseudonym, wrapped key) row of a keyring file.
fn keyring_rows(keyring: &Path) -> Vec<(Vec<u8>, Vec<u8>)> {
    let db =
        rusqlite::Connection::open_with_flags(keyring, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let mut stmt = db.prepare("SELECT pseudonym, wrapped FROM keys").unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn pseudonym(bytes: &[u8]) -> Pseudonym {
    Pseudonym::from_bytes(bytes.try_into().unwrap())
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Copies every file of `from` into a new directory `to` (a stopped instance's data).
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            std::fs::copy(&path, to.join(path.file_name().unwrap())).unwrap();
        }
    }
}

/// The receipt's signed claims (the JWS payload; its signature is checked elsewhere).
fn claims(receipt: &Value) -> Value {
    let jws = receipt["receipt"].as_str().unwrap();
    let payload = jws.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// Asserts the receipt's new fields: the key destroyed now, older copies unreadable by the
/// next scheduled rotation — 30 days, by default, from the keyring's first use.
fn assert_receipt_promises_the_next_rotation(receipt: &Value) {
    for said in [receipt.clone(), claims(receipt)] {
        let destroyed: Timestamp = said["key_destroyed_at"].as_str().unwrap().parse().unwrap();
        let by: Timestamp = said["older_copies_unreadable_by"]
            .as_str()
            .unwrap_or_else(|| panic!("no date promised: {said}"))
            .parse()
            .unwrap();
        assert_eq!(said["rotation_overdue"], false, "{said}");
        let ahead = by.duration_since(destroyed).as_secs();
        assert!(
            ahead > 29 * 86_400 && ahead <= 30 * 86_400,
            "unreadable by {by}, destroyed at {destroyed}"
        );
        assert!(said["counts"]["keys"].as_u64().unwrap() >= 1, "{said}");
        assert!(
            said["erased_at"].is_string(),
            "existing fields stay: {said}"
        );
    }
}

#[test]
fn after_rotation_the_instance_runs_on_epoch_2_alone_and_older_keyring_copies_are_unreadable() {
    let inst = Instance::new();
    let (admin, support) = inst.operators();
    let analyst = inst.key("analyst", &["heating_control"]);
    let master_file = inst.data.join("master.key");
    let keyring_file = inst.data.join("keyring.db");

    let mut server = inst.serve();
    let kept = server.home(&admin);
    let gone = server.home(&admin);
    for (home, t) in [(&kept, 20.5), (&gone, 18.0)] {
        server.ingest_ok(&home.token, &json!([climate(&ago(60), t, 12)]));
    }
    let read_kept = |server: &Server| -> Vec<(Value, Value)> {
        server
            .records(
                &analyst,
                &[("purpose", "heating_control"), ("subject", &kept.household)],
            )
            .into_iter()
            .map(|r| (r["subject"].clone(), r["data"].clone()))
            .collect()
    };
    let kept_before = read_kept(&server);
    assert!(!kept_before.is_empty());
    let gone_keys: Vec<_> = [&gone.household, &gone.member]
        .map(|id| sealed_subject(&inst, id))
        .into_iter()
        .map(|s| (s.pseudonym, s.wrapped_key))
        .collect();
    server.stop_ok();

    // What a backup, WAL archive or replica of the keyring holds from before the erasure.
    let copy = inst.root().join("copy-before-erasure");
    copy_dir(&inst.data, &copy);
    let copied_rows = keyring_rows(&copy.join("keyring.db"));
    for (p, wrapped) in &gone_keys {
        assert!(copied_rows.contains(&(p.clone(), wrapped.clone())));
    }

    let mut server = inst.serve();
    let receipt = erase(&server, &support, &gone.household).expect(200);
    assert_receipt_promises_the_next_rotation(&receipt);
    assert_eq!(receipt["counts"]["keys"], 2, "{receipt}");
    server.stop_ok();

    // Epoch 2 is added beside the key made on first start, which becomes epoch 1.
    let raw = std::fs::read(&master_file).unwrap();
    assert_eq!(raw.len(), 32, "master.key as first written: one raw key");
    let (k1, k2) = (STANDARD.encode(&raw), new_key());
    std::fs::write(
        &master_file,
        format!("# epoch 1: the key made on first start\n1:{k1}\n2:{k2}\n"),
    )
    .unwrap();
    let data = inst.data.to_str().unwrap().to_owned();
    let live_before = keyring_rows(&keyring_file).len();
    let out = privet_ok(&inst, &["keyring", "rotate", "--data", &data]);
    assert!(
        out.contains(&format!(
            "re-wrapped {live_before} keys under epoch 2 ({live_before} from epoch 1)"
        )),
        "{out}"
    );
    assert!(
        out.contains("re-sealed 1 instance secret under epoch 2: root-key"),
        "{out}"
    );
    assert!(out.contains("rotation complete"), "{out}");
    for secret in [&k1, &k2] {
        assert!(!out.contains(secret.as_str()), "a key on stdout");
    }
    let status = privet_ok(&inst, &["keyring", "status", "--data", &data]);
    assert!(
        status.contains("epoch 1: 0 keys, 0 secrets (can be retired)"),
        "{status}"
    );
    assert!(
        status.contains(&format!(
            "epoch 2: {live_before} keys, 1 secret (root-key) (newest)"
        )),
        "{status}"
    );
    assert!(status.contains("last rotation: to epoch 2 at "), "{status}");

    // Epoch 1 is retired: removed from the configuration.
    std::fs::write(&master_file, format!("2:{k2}\n")).unwrap();
    let mut server = inst.serve();
    assert_eq!(
        read_kept(&server),
        kept_before,
        "same pseudonym, same readings"
    );
    let export = server
        .get(
            &format!("/v1/subjects/{}/export", kept.member),
            Some(&support.secret),
        )
        .expect(200);
    assert!(export["about"]["subjects"].is_array(), "{export}");
    server
        .get(
            &format!("/v1/subjects/{}/export", gone.household),
            Some(&support.secret),
        )
        .problem(404);
    // The instance keeps working on epoch 2: a new household's key is wrapped under it.
    let newer = server.home(&admin);
    server.ingest_ok(&newer.token, &json!([climate(&ago(5), 21.0, 3)]));
    let audit = server.audit(&inst.key("dpo", &[]));
    let rotations: Vec<&Value> = audit
        .iter()
        .filter(|e| e["action"] == "keyring.rotate")
        .collect();
    assert_eq!(rotations.len(), 1, "{audit:?}");
    assert_eq!(rotations[0]["subjects"], json!([]), "counts only");
    assert_eq!(rotations[0]["detail"]["to_epoch"], 2);
    assert_eq!(rotations[0]["detail"]["complete"], true);
    server.stop_ok();

    let live = keyring_rows(&keyring_file);
    assert!(live.len() > live_before, "the new household's keys");
    for (_, wrapped) in &live {
        assert_eq!(wrapped[..5], [0xE0, 0, 0, 0, 2], "every key names epoch 2");
    }
    let keyring_files: Vec<PathBuf> = inst
        .data_files()
        .into_iter()
        .filter(|f| f.to_string_lossy().contains("keyring"))
        .collect();
    for (p, wrapped) in &gone_keys {
        assert!(live.iter().all(|(q, _)| q != p), "an erased key is back");
        for f in &keyring_files {
            assert!(
                !contains(&std::fs::read(f).unwrap(), wrapped),
                "{} still holds an erased key",
                f.display()
            );
        }
    }

    // The forensic point: the copy from before unwraps nothing with epoch 2 alone…
    let only_2 = MasterKeys::parse(&format!("2:{k2}")).unwrap();
    let with_1 = MasterKeys::parse(&k1).unwrap();
    for (p, wrapped) in &copied_rows {
        assert!(
            with_1.unwrap_data_key(&pseudonym(p), wrapped).is_ok(),
            "the copy is readable while epoch 1 exists"
        );
        assert!(
            matches!(
                only_2.unwrap_data_key(&pseudonym(p), wrapped),
                Err(CryptoError::EpochNotConfigured { epoch: 1, .. })
            ),
            "a copied key unwraps without epoch 1"
        );
    }
    // …and an instance made from it cannot even open its keyring.
    std::fs::write(copy.join("master.key"), format!("2:{k2}\n")).unwrap();
    let out = inst.privet(&["keyring", "status", "--data", copy.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("epoch 1, which is not configured"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_bad_master_key_entry_is_refused_without_echoing_it() {
    let inst = Instance::new();
    let data = inst.data.to_str().unwrap().to_owned();
    privet_ok(&inst, &["keyring", "status", "--data", &data]);
    let key = new_key();
    std::fs::write(
        inst.data.join("master.key"),
        format!("1:{key}\n2:{}\n", &key[..40]),
    )
    .unwrap();
    let out = inst.privet(&["keyring", "status", "--data", &data]);
    assert!(!out.status.success());
    let said = stderr(&out);
    assert!(said.contains("entry 2 is not a key"), "{said}");
    assert!(!said.contains(&key[..20]), "{said}");
}

/// Every file of the PostgreSQL server's data directory (after a checkpoint) holding `needle`.
fn files_of_the_database_server_holding(pg: &PgDatabase, needle: &str) -> Vec<String> {
    pg.sql("CHECKPOINT");
    let dir = pg.sql("SHOW data_directory");
    let out = std::process::Command::new("grep")
        .args(["-rlF", "--binary-files=binary", "--", needle, &dir])
        .output()
        .expect("run grep");
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "grep failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn postgres_rotation_leaves_every_wrapped_key_under_the_newest_epoch() {
    let Some(inst) = Instance::postgres() else {
        return;
    };
    let url = inst.pg.as_ref().unwrap().url.clone();
    // Every command names its master keys by file, which wins over the environment's key.
    let keys_file = inst.root().join("master-keys");
    let (k1, k2) = (new_key(), new_key());
    std::fs::write(&keys_file, format!("1:{k1}\n")).unwrap();
    let file = keys_file.to_str().unwrap().to_owned();
    let with_keys = |args: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        v.extend(["--database-url".to_owned(), url.clone()]);
        v.extend(["--master-key-file".to_owned(), file.clone()]);
        v
    };
    let run = |args: &[&str]| {
        let args = with_keys(args);
        privet_ok(&inst, &args.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let key = |role: &str, purposes: &[&str]| -> Key {
        let mut args = vec!["key", "create", "--role", role];
        for p in purposes {
            args.extend(["--purpose", p]);
        }
        let out = inst.privet(
            &with_keys(&args)
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
        );
        assert!(out.status.success(), "{}", stderr(&out));
        let id = stderr(&out)
            .split_whitespace()
            .find(|w| w.starts_with("key_"))
            .unwrap()
            .trim_end_matches(';')
            .to_owned();
        Key {
            secret: stdout(&out).trim().to_owned(),
            id,
        }
    };
    let (admin, support) = (key("admin", &[]), key("support", &[]));
    let analyst = key("analyst", &["heating_control"]);
    let serve = || inst.serve_with(&["--master-key-file", &file]);

    let mut server = serve();
    let kept = server.home(&admin);
    // The erased household's name is the canary: it was only ever stored sealed.
    let canary = marker("CanaryHousehold");
    let gone_household = server.household(&admin, &canary);
    let (_, gone_token) = server.device(&admin, THERMOSTAT, Some(&gone_household), None);
    for token in [&kept.token, &gone_token] {
        server.ingest_ok(token, &json!([climate(&ago(60), 20.0, 9)]));
    }
    let gone_pseudonym = server.records(
        &analyst,
        &[("purpose", "heating_control"), ("subject", &gone_household)],
    )[0]["subject"]
        .as_str()
        .unwrap()
        .to_owned();
    let read_kept = |server: &Server| -> Vec<(Value, Value)> {
        server
            .records(
                &analyst,
                &[("purpose", "heating_control"), ("subject", &kept.household)],
            )
            .into_iter()
            .map(|r| (r["subject"].clone(), r["data"].clone()))
            .collect()
    };
    let kept_before = read_kept(&server);
    assert!(!kept_before.is_empty());
    let receipt = erase(&server, &support, &gone_household).expect(200);
    assert_receipt_promises_the_next_rotation(&receipt);
    server.stop_ok();

    let pg = inst.pg.as_ref().unwrap();
    let wrapped = || -> Vec<String> {
        pg.sql("SELECT encode(wrapped, 'hex') FROM privet_keyring.keys")
            .lines()
            .map(str::to_owned)
            .collect()
    };
    let before = wrapped();
    assert!(
        before.iter().all(|w| w.starts_with("e000000001")),
        "{before:?}"
    );

    std::fs::write(&keys_file, format!("1:{k1}\n2:{k2}\n")).unwrap();
    let out = run(&["keyring", "rotate"]);
    assert!(out.contains("rotation complete"), "{out}");
    assert!(
        out.contains("re-sealed 2 instance secrets under epoch 2: root-key, signing-key"),
        "{out}"
    );
    let status = run(&["keyring", "status"]);
    assert!(
        status.contains("epoch 1: 0 keys, 0 secrets (can be retired)"),
        "{status}"
    );
    let after = wrapped();
    assert_eq!(after.len(), before.len());
    // Forensics: the erased subject's wrapped key is in no keyring row, and its canary is in
    // no file of the PostgreSQL data directory (heap, indexes, WAL): it was only ever sealed.
    assert_eq!(
        pg.sql(&format!(
            "SELECT count(*) FROM privet_keyring.keys WHERE pseudonym = decode('{gone_pseudonym}', 'hex')"
        )),
        "0"
    );
    assert_eq!(
        files_of_the_database_server_holding(pg, &canary),
        Vec::<String>::new()
    );
    // The scan can fail: the same bytes stored in clear are found.
    pg.sql(&format!(
        "CREATE TABLE canary_control AS SELECT '{canary}'::text AS t"
    ));
    assert!(!files_of_the_database_server_holding(pg, &canary).is_empty());
    assert!(
        after.iter().all(|w| w.starts_with("e000000002")),
        "every wrapped key names epoch 2: {after:?}"
    );
    let secrets = pg.sql(
        "SELECT encode(sealed, 'hex') FROM privet_keyring.secrets WHERE name <> 'last-rotation'",
    );
    assert!(
        secrets.lines().count() == 2 && secrets.lines().all(|s| s.starts_with("e000000002")),
        "{secrets}"
    );

    std::fs::write(&keys_file, format!("2:{k2}\n")).unwrap();
    let mut server = serve();
    assert_eq!(read_kept(&server), kept_before);
    // Receipts are signed with the same shared key as before the rotation.
    let jwks = server.get("/.well-known/jwks.json", None).expect(200);
    let kid = jwks["keys"][0]["kid"].clone();
    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(
                receipt["receipt"]
                    .as_str()
                    .unwrap()
                    .split('.')
                    .next()
                    .unwrap(),
            )
            .unwrap(),
    )
    .unwrap();
    assert_eq!(header["kid"], kid);
    server.stop_ok();
}
