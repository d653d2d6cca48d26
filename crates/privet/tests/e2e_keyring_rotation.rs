//! End-to-end: master-key rotation with the real binary. The master keys are kept outside
//! the data directory (`--master-key-file`). A subject is erased, epoch 2 is added,
//! `privet keyring rotate` re-wraps every live key, `privet keyring status` shows nothing left
//! under epoch 1, and the instance then runs on epoch 2 alone: the same pseudonyms, the old
//! records readable, the erased subject's key in no keyring row. A copy of the data directory
//! taken before the rotation — what a snapshot, backup, WAL archive or replica holds — is
//! unreadable as taken with epoch 2 alone: the erased subject's key in it is beyond use once
//! epoch 1 is destroyed. The PostgreSQL variant checks every wrapped key in
//! `privet_keyring.keys` names the newest epoch, and that an instance with a different key for
//! an epoch is refused. Keyring commands never create a data directory; the rotation period is
//! the keyring's, the same for every instance.
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

/// Runs the binary to completion with no backend, key or period from the environment.
fn privet_bare(args: &[&str]) -> std::process::Output {
    bare(&mut std::process::Command::new(PRIVET))
        .args(args)
        .output()
        .expect("run privet")
}

/// `cmd` without any of the variables that name a backend, master keys or a period.
fn bare(cmd: &mut std::process::Command) -> &mut std::process::Command {
    for var in [
        "PRIVET_DATA",
        "PRIVET_DATABASE_URL",
        "PRIVET_MASTER_KEY",
        "PRIVET_MASTER_KEY_FILE",
        "PRIVET_KEYRING_URL",
        "PRIVET_KEY_ROTATION_DAYS",
        "PRIVET_TEST_NOW",
    ] {
        cmd.env_remove(var);
    }
    cmd.stdin(std::process::Stdio::null())
}

/// Starts `privet serve ARGS… --listen 127.0.0.1:0` that must refuse to start; its error line
/// (stderr also holds its log). Fails if it is still running after 30 s (it started).
fn serve_refused(args: &[&str]) -> String {
    let mut child = bare(&mut std::process::Command::new(PRIVET))
        .arg("serve")
        .args(args)
        .args(["--listen", "127.0.0.1:0"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn privet serve");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
            assert!(!status.success(), "serve exited 0: {err}");
            let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
            assert_eq!(errors.len(), 1, "one error line: {err}");
            return errors[0].to_owned();
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("privet serve {args:?} started instead of refusing");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

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

/// `privet key create` on the backend `--data DIR` or `--database-url URL` names, with the
/// master keys in `keys_file`; the key.
fn key_with(backend: [&str; 2], keys_file: &str, role: &str, purposes: &[&str]) -> Key {
    let mut args = vec!["key", "create", backend[0], backend[1]];
    args.extend(["--master-key-file", keys_file, "--role", role]);
    for p in purposes {
        args.extend(["--purpose", p]);
    }
    let out = privet_bare(&args);
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
}

#[test]
fn after_rotation_the_instance_runs_on_epoch_2_alone_and_older_keyring_copies_are_unreadable() {
    let inst = Instance::new();
    // The master keys live outside the data directory, first as one raw 32-byte key (what
    // `master.key` holds): a copy of the directory then holds the keyring but no key to it.
    let master_file = inst.root().join("master-keys");
    std::fs::write(
        &master_file,
        MasterKey::generate(&mut os_rng()).to_bytes().as_slice(),
    )
    .unwrap();
    let file = master_file.to_str().unwrap().to_owned();
    let data = inst.data.to_str().unwrap().to_owned();
    let at = ["--data", data.as_str()];
    let (admin, support) = (
        key_with(at, &file, "admin", &[]),
        key_with(at, &file, "support", &[]),
    );
    let analyst = key_with(at, &file, "analyst", &["heating_control"]);
    let keyring_file = inst.data.join("keyring.db");
    let no_master_key_in = |dir: &Path| {
        assert!(
            !dir.join("master.key").exists(),
            "{} holds master.key",
            dir.display()
        );
    };
    no_master_key_in(&inst.data);
    let serve = || inst.serve_with(&["--master-key-file", &file]);
    let keyring = |args: &[&str]| -> String {
        let mut all = vec!["keyring"];
        all.extend(args);
        all.extend(["--master-key-file", &file]);
        let out = privet_bare(&all);
        assert!(
            out.status.success(),
            "privet {all:?} failed:\n{}{}",
            stdout(&out),
            stderr(&out)
        );
        stdout(&out)
    };

    let mut server = serve();
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

    // What a snapshot of the data directory, a backup, WAL archive or replica of the keyring
    // holds from before the erasure: the keyring, and no master key.
    let copy = inst.root().join("copy-before-erasure");
    copy_dir(&inst.data, &copy);
    no_master_key_in(&copy);
    let copied_rows = keyring_rows(&copy.join("keyring.db"));
    for (p, wrapped) in &gone_keys {
        assert!(copied_rows.contains(&(p.clone(), wrapped.clone())));
    }

    let mut server = serve();
    let receipt = erase(&server, &support, &gone.household).expect(200);
    assert_receipt_promises_the_next_rotation(&receipt);
    assert_eq!(receipt["counts"]["keys"], 2, "{receipt}");
    server.stop_ok();

    // Epoch 2 is added beside the raw key, which becomes epoch 1.
    let raw = std::fs::read(&master_file).unwrap();
    assert_eq!(raw.len(), 32, "one raw key");
    let (k1, k2) = (STANDARD.encode(&raw), new_key());
    std::fs::write(
        &master_file,
        format!("# epoch 1: the raw key of before\n1:{k1}\n2:{k2}\n"),
    )
    .unwrap();
    let live_before = keyring_rows(&keyring_file).len();
    let out = keyring(&["rotate", "--data", &data]);
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
    let status = keyring(&["status", "--data", &data]);
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
    let mut server = serve();
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
    let audit = server.audit(&key_with(at, &file, "dpo", &[]));
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
    // …and the copy as taken, opened with every master key that still exists, cannot even
    // open its keyring. (A copy that included master.key would hold epoch 1's key itself:
    // rotation protects only copies taken with the keys kept elsewhere.)
    no_master_key_in(&copy);
    no_master_key_in(&inst.data);
    let out = privet_bare(&[
        "keyring",
        "status",
        "--data",
        copy.to_str().unwrap(),
        "--master-key-file",
        &file,
    ]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("epoch 1, which is not configured"),
        "{}",
        stderr(&out)
    );
    no_master_key_in(&copy);
}

#[test]
fn a_bad_master_key_entry_is_refused_without_echoing_it() {
    let inst = Instance::new();
    let data = inst.data.to_str().unwrap().to_owned();
    inst.key("admin", &[]);
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

#[test]
fn keyring_and_audit_commands_never_make_a_data_directory() {
    let inst = Instance::new();
    let typo = inst.root().join("privet-dta");
    let typo_arg = typo.to_str().unwrap();
    for args in [
        vec!["keyring", "status", "--data", typo_arg],
        vec!["keyring", "rotate", "--data", typo_arg],
        vec!["audit", "verify", "--data", typo_arg],
        vec![
            "keyring",
            "status",
            "--database-url",
            &format!("sqlite:{typo_arg}"),
        ],
    ] {
        let out = inst.privet(&args);
        assert!(!out.status.success(), "{args:?}");
        let said = stderr(&out);
        assert!(
            said.contains("is not a Privet data directory"),
            "{args:?}: {said}"
        );
        assert_eq!(said.trim().lines().count(), 1, "one line: {said}");
        assert!(!typo.exists(), "{args:?} made {}", typo.display());
    }
    // A directory that exists but holds no store (e.g. the parent by mistake) is refused too,
    // and left as it was.
    let out = inst.privet(&[
        "keyring",
        "status",
        "--data",
        inst.manifests.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(!inst.manifests.join("master.key").exists());
    assert!(!inst.manifests.join("keyring.db").exists());
}

#[test]
fn the_rotation_period_is_the_keyring_s_and_a_different_flag_is_refused() {
    let inst = Instance::new();
    let data = inst.data.to_str().unwrap().to_owned();
    let manifests = inst.manifests.to_str().unwrap().to_owned();
    // The first instance to start sets it.
    inst.serve_with(&["--key-rotation-days", "7"]).stop_ok();
    let status = privet_ok(&inst, &["keyring", "status", "--data", &data]);
    assert!(status.contains("rotation period: every 7 days"), "{status}");
    // Another process with another period does not start: its receipts would promise other
    // dates than everyone else's.
    let said = serve_refused(&[
        "--data",
        &data,
        "--manifests",
        &manifests,
        "--key-rotation-days",
        "30",
    ]);
    assert!(
        said.contains("--key-rotation-days 30 differs") && said.contains("7 days"),
        "{said}"
    );
    assert_eq!(said.trim().lines().count(), 1, "one line: {said}");
    // Without the flag, or with the same one, it starts with the kept period.
    inst.serve().stop_ok();
    inst.serve_with(&["--key-rotation-days", "7"]).stop_ok();
    // Changed for every instance by a complete rotation.
    let out = privet_ok(
        &inst,
        &["keyring", "rotate", "--data", &data, "--every-days", "14"],
    );
    assert!(
        out.contains("rotation period: every 14 days for every instance")
            && out.contains("was 7 days"),
        "{out}"
    );
    let status = privet_ok(&inst, &["keyring", "status", "--data", &data]);
    assert!(
        status.contains("rotation period: every 14 days"),
        "{status}"
    );
    inst.serve_with(&["--key-rotation-days", "14"]).stop_ok();
}

#[test]
fn a_postgres_instance_with_another_master_key_is_refused() {
    let Some(inst) = Instance::postgres() else {
        return;
    };
    let url = inst.pg.as_ref().unwrap().url.clone();
    let manifests = inst.manifests.to_str().unwrap().to_owned();
    let file = |name: &str, text: &str| -> String {
        let path = inst.root().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_owned()
    };
    let (k1, k2, pasted_wrong) = (new_key(), new_key(), new_key());
    // Instance A starts on epoch 1, then epoch 2 is added to it and it starts again.
    let a1 = file(
        "a1",
        &format!(
            "1:{k1}
"
        ),
    );
    inst.serve_with(&["--master-key-file", &a1]).stop_ok();
    let a12 = file(
        "a12",
        &format!(
            "1:{k1}
2:{k2}
"
        ),
    );
    let mut a = inst.serve_with(&["--master-key-file", &a12]);
    let admin = key_with(["--database-url", &url], &a12, "admin", &[]);
    a.home(&admin);
    // Instance B has epoch 2 pasted wrong: refused at start, naming the epoch, not the key.
    let b = file(
        "b",
        &format!(
            "1:{k1}
2:{pasted_wrong}
"
        ),
    );
    let said = serve_refused(&[
        "--database-url",
        &url,
        "--master-key-file",
        &b,
        "--manifests",
        &manifests,
    ]);
    assert!(
        said.contains("the key configured for master-key epoch 2 is not the one"),
        "{said}"
    );
    assert_eq!(said.trim().lines().count(), 1, "one line: {said}");
    for secret in [&k1, &k2, &pasted_wrong] {
        assert!(!said.contains(&secret[..16]), "a key in the message");
    }
    for cmd in ["status", "rotate"] {
        let out = privet_bare(&[
            "keyring",
            cmd,
            "--database-url",
            &url,
            "--master-key-file",
            &b,
        ]);
        assert!(!out.status.success(), "keyring {cmd}");
        assert!(
            stderr(&out).contains("master-key epoch 2"),
            "{}",
            stderr(&out)
        );
    }
    // An instance with another key altogether is refused as well, on epoch 1.
    let other = file(
        "other",
        &format!(
            "{}
",
            new_key()
        ),
    );
    let said = serve_refused(&[
        "--database-url",
        &url,
        "--master-key-file",
        &other,
        "--manifests",
        &manifests,
    ]);
    assert!(said.contains("master-key epoch 1"), "{said}");
    // A keeps serving.
    a.home(&admin);
    a.stop_ok();
    let out = privet_bare(&[
        "keyring",
        "status",
        "--database-url",
        &url,
        "--master-key-file",
        &a12,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
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
    // The sealed secrets; the epochs' check values stay under their own epochs, and the
    // schedule and period are not sealed.
    let secrets = pg.sql(
        "SELECT encode(sealed, 'hex') FROM privet_keyring.secrets WHERE name IN ('root-key', 'signing-key')",
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
