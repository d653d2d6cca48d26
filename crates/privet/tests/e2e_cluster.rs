//! End-to-end: two `privet serve` processes on one PostgreSQL database are one Privet. What
//! one accepts the other reads; an erasure on one is honoured by the other at once; wrong
//! passwords spread over both throttle both; killing one right after a 200 loses nothing; the
//! retention job of a slot runs once; both sign with one key; the audit log is one chain.
//!
//! Needs `PRIVET_TEST_DATABASE_URL` (CI sets it); each test makes its own database.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod e2e_rights_support;
mod e2e_security_support;
mod support;

use serde_json::{Value, json};
use std::time::{Duration, Instant};
use support::*;

/// How long a change made on one instance may take to be honoured by another.
const HONOURED_WITHIN: Duration = Duration::from_secs(1);

/// Retries `check` until it holds or [`HONOURED_WITHIN`] has passed; returns whether it held.
fn within_a_second(mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + HONOURED_WITHIN;
    loop {
        if check() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The pseudonyms of the records `key` reads for `purpose` on `server`.
fn subjects_read(server: &Server, key: &Key, purpose: &str) -> Vec<String> {
    server
        .records(key, &[("purpose", purpose)])
        .iter()
        .map(|r| r["subject"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn two_instances_on_one_database_are_one_privet() {
    let Some(inst) = Instance::postgres() else {
        return;
    };
    inst.set_clock(&ago(0));
    let (admin, support) = inst.operators();
    let analyst = inst.key("analyst", &["energy_report"]);
    let a = inst.serve();
    let b = inst.serve();

    // One signing key: a receipt from either verifies against the other's key set.
    assert_eq!(
        a.get("/.well-known/jwks.json", None).expect(200),
        b.get("/.well-known/jwks.json", None).expect(200)
    );

    let household = a.household(&admin, &marker("Household"));
    let gone = a.member(&admin, &household, &marker("Gone"), false);
    let stays = b.member(&admin, &household, &marker("Stays"), false);
    let (_, thermostat) = a.device(&admin, THERMOSTAT, Some(&household), None);

    // Without consent A keeps no presence; A has now cached what the household allows.
    let out = a.ingest_ok(&thermostat, &json!([presence(&ago(40), &stays, true)]));
    assert_eq!(out["accepted"], 0, "{out}");
    // Consent given on B is honoured by A within a second (A's cache was told).
    b.consent_ok(&support, &gone, "energy_report", true);
    b.consent_ok(&support, &stays, "energy_report", true);
    assert!(
        within_a_second(|| {
            let out = a.ingest_ok(&thermostat, &json!([presence(&ago(30), &stays, true)]));
            out["accepted"] == 1
        }),
        "A still refuses what the member consented to on B"
    );
    a.ingest_ok(&thermostat, &json!([presence(&ago(30), &gone, true)]));

    // What A accepted, B reads.
    let read_on_b = subjects_read(&b, &analyst, "energy_report");
    assert!(read_on_b.len() >= 2, "{read_on_b:?}");
    let gone_pseudonym = b.records(
        &analyst,
        &[("purpose", "energy_report"), ("subject", &gone)],
    )[0]["subject"]
        .as_str()
        .unwrap()
        .to_owned();

    // Erased on B: A refuses the subject at once — no export, no records, no new data.
    e2e_rights_support::erase(&b, &support, &gone).expect(200);
    e2e_rights_support::export(&a, &support, &gone).problem(404);
    e2e_rights_support::export(&b, &support, &gone).problem(404);
    assert!(!subjects_read(&a, &analyst, "energy_report").contains(&gone_pseudonym));
    assert!(
        within_a_second(|| {
            let out = a.ingest(&thermostat, &json!([presence(&ago(5), &gone, true)]));
            out.status == 422 || (out.status == 200 && out.json()["accepted"] == 0)
        }),
        "A still accepts data about a member erased on B"
    );
    assert!(!subjects_read(&a, &analyst, "energy_report").contains(&gone_pseudonym));

    // Five wrong passwords spread over A and B throttle the account on both.
    let person = e2e_security_support::owner(&a, "Cluster");
    for i in 0..5 {
        let server = if i % 2 == 0 { &a } else { &b };
        let r =
            e2e_security_support::login(server, &person.email, &format!("wrong guess {i}"), None);
        assert_eq!(r.status, 401, "{}", r.body);
    }
    for server in [&a, &b] {
        let r = e2e_security_support::login(server, &person.email, &person.password, None);
        assert_eq!(r.status, 429, "{}", r.body);
    }

    // The audit log is one chain, verified from the command line against the database.
    let (code, text) = inst.audit_verify();
    assert_eq!(code, 0, "{text}");
}

#[test]
fn killing_one_instance_right_after_a_200_loses_nothing_and_the_other_keeps_serving() {
    let Some(inst) = Instance::postgres() else {
        return;
    };
    let (admin, support) = inst.operators();
    let analyst = inst.key("analyst", &["energy_report"]);
    let mut a = inst.serve();
    let b = inst.serve();
    let home = a.home(&admin);
    a.consent_ok(&support, &home.member, "energy_report", true);
    let events: Vec<Value> = (0..50)
        .map(|i| presence(&ago(100 - i), &home.member, i % 2 == 0))
        .collect();
    let out = a.ingest_ok(&home.token, &json!(events));
    assert_eq!(out["accepted"], 50, "{out}");
    a.kill();
    let read = b.records(
        &analyst,
        &[("purpose", "energy_report"), ("subject", &home.member)],
    );
    assert_eq!(
        read.len(),
        50,
        "every acknowledged event survives A's death"
    );
    // B keeps accepting.
    let out = b.ingest_ok(&home.token, &json!([presence(&ago(1), &home.member, true)]));
    assert_eq!(out["accepted"], 1, "{out}");
}

#[test]
fn the_retention_job_of_a_slot_runs_on_one_instance_only() {
    let Some(inst) = Instance::postgres() else {
        return;
    };
    // Both start on one manual clock, so both queue the same slot's sweep.
    inst.set_clock(&ago(0));
    let _a = inst.serve();
    let _b = inst.serve();
    let pg = inst.pg.as_ref().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let done = pg.sql(
            "SELECT count(*) FILTER (WHERE done_at IS NOT NULL) FROM privet.jobs WHERE kind = 'retention'",
        );
        if done == "1" {
            break;
        }
        assert!(Instant::now() < deadline, "no retention job finished");
        std::thread::sleep(Duration::from_millis(50));
    }
    // Give the other instance every chance to run it again.
    std::thread::sleep(Duration::from_millis(1500));
    let jobs = pg.sql("SELECT count(*), sum(attempts) FROM privet.jobs WHERE kind = 'retention'");
    assert_eq!(jobs, "1|1", "one job, taken once");
}

#[test]
fn a_bad_url_an_unreachable_server_or_wrong_credentials_give_one_line_and_an_exit() {
    let unreachable = format!(
        "postgres://postgres:hunter2@127.0.0.1:{}/privet",
        free_port()
    );
    // tokio-postgres takes everything up to the first `@` as the user-info, so a `/` or `?`
    // in the password is still the password, and must not be printed as a path or a query.
    let unreachable_slash = format!(
        "postgres://postgres:hunter2/x?y@127.0.0.1:{}/privet",
        free_port()
    );
    let unreachable_param = format!(
        "postgres://postgres@127.0.0.1:{}/privet?password=hunter2",
        free_port()
    );
    let mut cases = vec![
        (unreachable.as_str(), "cannot reach the PostgreSQL server"),
        (
            unreachable_slash.as_str(),
            "cannot reach the PostgreSQL server",
        ),
        (
            unreachable_param.as_str(),
            "cannot reach the PostgreSQL server",
        ),
        ("postgres://postgres@[bad", "invalid database URL"),
        (
            "postgres://postgres@127.0.0.1:1/privet?PASSWORD=hunter2",
            "invalid database URL",
        ),
    ];
    // Wrong credentials and a missing database need a server to refuse them.
    let server = std::env::var("PRIVET_TEST_DATABASE_URL").ok();
    let host = server
        .as_deref()
        .and_then(|u| u.split_once('@'))
        .and_then(|(_, rest)| rest.split_once('/'))
        .map(|(host, _)| host.to_owned());
    let wrong_user = host
        .as_ref()
        .map(|h| format!("postgres://nobody_privet:hunter2@{h}/test"));
    let missing_db = host
        .as_ref()
        .map(|h| format!("postgres://postgres:hunter2@{h}/no_such_privet_db"));
    if let (Some(w), Some(m)) = (&wrong_user, &missing_db) {
        cases.push((w, "refused the credentials of user nobody_privet"));
        cases.push((m, "database no_such_privet_db does not exist"));
    } else {
        assert!(
            std::env::var("PRIVET_REQUIRE_TOOLS").as_deref() != Ok("1"),
            "PRIVET_TEST_DATABASE_URL must be postgres://user@host/db to test wrong credentials"
        );
    }
    for (url, says) in cases {
        for args in [
            vec!["serve", "--database-url", url, "--listen", "127.0.0.1:0"],
            vec!["audit", "verify", "--database-url", url],
        ] {
            let started = Instant::now();
            let out = std::process::Command::new(PRIVET)
                .args(&args)
                .env(
                    "PRIVET_MASTER_KEY",
                    "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
                )
                .env_remove("PRIVET_DATABASE_URL")
                .env_remove("PRIVET_DATA")
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            let lines: Vec<&str> = stderr
                .lines()
                .filter(|l| !l.starts_with("warning: test clock"))
                .collect();
            assert!(!out.status.success(), "{args:?}");
            assert_eq!(lines.len(), 1, "one line for {args:?}: {stderr}");
            assert!(lines[0].contains(says), "{args:?}: {stderr}");
            assert!(
                !stderr.contains("hunter2"),
                "the password is never printed: {stderr}"
            );
            assert!(
                started.elapsed() < Duration::from_secs(15),
                "{args:?} took {:?}",
                started.elapsed()
            );
        }
    }
}

#[test]
fn a_manifest_published_by_one_instance_is_served_by_the_other() {
    let Some(inst) = Instance::postgres() else {
        return;
    };
    let admin = inst.key("admin", &[]);
    let a = inst.serve();
    let name = |server: &Server| {
        server
            .get(&format!("/v1/products/{THERMOSTAT}"), None)
            .expect(200)["name"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(name(&a), "Wren Smart Thermostat 2");
    // B starts with a new version of the manifest and publishes it; A serves it too.
    inst.edit_manifest(
        "thermostat.toml",
        "name = \"Wren Smart Thermostat 2\"",
        "name = \"Wren Smart Thermostat 2 (firmware 2.5)\"",
    );
    inst.edit_manifest("thermostat.toml", "version = \"2.4\"", "version = \"2.5\"");
    let b = inst.serve();
    assert_eq!(name(&b), "Wren Smart Thermostat 2 (firmware 2.5)");
    assert!(
        within_a_second(|| name(&a) == "Wren Smart Thermostat 2 (firmware 2.5)"),
        "A still serves the old manifest"
    );
    // An instance started with no manifests directory serves what is published.
    let c = inst.serve_with(&["--manifests", "/nonexistent-privet-manifests"]);
    assert_eq!(name(&c), "Wren Smart Thermostat 2 (firmware 2.5)");

    // A version published through one instance's API is served by every instance.
    let text = std::fs::read_to_string(inst.manifests.join("thermostat.toml")).unwrap();
    let v26 = text
        .replacen("version = \"2.5\"", "version = \"2.6\"", 1)
        .replacen("(firmware 2.5)", "(firmware 2.6)", 1);
    c.post_raw("/v1/products", Some(&admin.secret), "application/toml", v26)
        .expect(201);
    for server in [&a, &b] {
        assert!(
            within_a_second(|| name(server) == "Wren Smart Thermostat 2 (firmware 2.6)"),
            "an instance still serves the older version"
        );
    }
    // And one published by the command line, while they run.
    let v27 = text
        .replacen("version = \"2.5\"", "version = \"2.7\"", 1)
        .replacen("(firmware 2.5)", "(firmware 2.7)", 1);
    let file = inst.root().join("v27.toml");
    std::fs::write(&file, v27).unwrap();
    let backend = inst.backend_args();
    let out = inst.privet(&[
        "manifest",
        "publish",
        file.to_str().unwrap(),
        &backend[0],
        &backend[1],
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for server in [&a, &b, &c] {
        assert!(
            within_a_second(|| name(server) == "Wren Smart Thermostat 2 (firmware 2.7)"),
            "an instance did not hear of the version the command line published"
        );
    }
    let listed = a
        .get(&format!("/v1/products/{THERMOSTAT}/versions"), None)
        .expect(200);
    let versions: Vec<&str> = listed["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_str().unwrap())
        .collect();
    assert_eq!(versions, ["2.7", "2.6", "2.5", "2.4"]);
}

#[test]
fn a_postgres_backup_holds_the_data_schema_and_never_the_keyring() {
    let Some(inst) = Instance::postgres() else {
        return;
    };
    let (admin, _) = inst.operators();
    let server = inst.serve();
    server.home(&admin);
    let out = inst.root().join("privet.dump");
    let backend = inst.backend_args();
    let run = inst.privet(&[
        "backup",
        &backend[0],
        &backend[1],
        "--out",
        out.to_str().unwrap(),
    ]);
    let said = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(said.contains("the keyring is not included"), "{said}");
    let list = std::process::Command::new("pg_restore")
        .arg("--list")
        .arg(&out)
        .output()
        .unwrap();
    assert!(list.status.success());
    let list = String::from_utf8_lossy(&list.stdout);
    assert!(list.contains("TABLE DATA privet subjects"), "{list}");
    assert!(list.contains("TABLE DATA privet devices"), "{list}");
    assert!(!list.contains("privet_keyring"), "{list}");
    // The keyring really holds keys, and none of them is in the file.
    let pg = inst.pg.as_ref().unwrap();
    let keys =
        pg.sql("SELECT replace(encode(wrapped, 'base64'), E'\\n', '') FROM privet_keyring.keys");
    assert!(!keys.is_empty());
    let dump = std::fs::read(&out).unwrap();
    for key in keys.lines() {
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(key)
            .unwrap();
        assert!(!contains(&dump, &bytes), "a wrapped key is in the backup");
    }
}
