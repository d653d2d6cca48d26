//! End-to-end: published manifest versions. `POST /v1/products` (admin) publishes a new version
//! that is served at once and listed with the earlier ones; the same text again changes
//! nothing; a version is never replaced; a manifest with errors is never published; publishing
//! is audited. `privet manifest publish` publishes into a data directory, served from the next
//! start; `serve` refuses to start on a manifest edited without a new version.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::*;

/// The thermostat example as shipped (version 2.4).
fn thermostat(inst: &Instance) -> String {
    std::fs::read_to_string(inst.manifests.join("thermostat.toml")).unwrap()
}

/// The thermostat at another version, renamed so the change shows.
fn thermostat_at(inst: &Instance, version: &str) -> String {
    let text = thermostat(inst)
        .replacen("version = \"2.4\"", &format!("version = \"{version}\""), 1)
        .replacen(
            "name = \"Wren Smart Thermostat 2\"",
            &format!("name = \"Wren Smart Thermostat 2 ({version})\""),
            1,
        );
    assert_ne!(text, thermostat(inst), "the example changed shape");
    text
}

fn publish(server: &Server, token: Option<&str>, text: &str) -> Resp {
    server.post_raw("/v1/products", token, "application/toml", text)
}

/// `(version, current)` of the thermostat's versions, as listed.
fn versions(server: &Server) -> Vec<(String, bool)> {
    let v = server
        .get(&format!("/v1/products/{THERMOSTAT}/versions"), None)
        .expect(200);
    assert_eq!(v["product"], THERMOSTAT);
    v["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            assert_eq!(v["digest"].as_str().unwrap().len(), 64, "{v}");
            (
                v["version"].as_str().unwrap().to_owned(),
                v["current"].as_bool().unwrap(),
            )
        })
        .collect()
}

fn served_version(server: &Server) -> String {
    server
        .get(&format!("/v1/products/{THERMOSTAT}"), None)
        .expect(200)["version"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn owned(rows: &[(&str, bool)]) -> Vec<(String, bool)> {
    rows.iter().map(|(v, c)| ((*v).to_owned(), *c)).collect()
}

#[test]
fn an_admin_publishes_a_version_that_is_served_at_once_and_listed() {
    let inst = Instance::new();
    let (admin, support) = inst.operators();
    let server = inst.serve();
    assert_eq!(
        versions(&server),
        owned(&[("2.4", true)]),
        "published at start"
    );

    let v25 = thermostat_at(&inst, "2.5");
    let created = publish(&server, Some(&admin.secret), &v25).expect(201);
    assert_eq!(created["product"], THERMOSTAT);
    assert_eq!(created["version"], "2.5");
    assert_eq!(created["published_by"], admin.actor());
    assert_eq!(served_version(&server), "2.5");
    assert_eq!(
        versions(&server),
        owned(&[("2.5", true), ("2.4", false)]),
        "newest first, the newest current"
    );

    let again = publish(&server, Some(&admin.secret), &v25).expect(200);
    assert_eq!(again, created, "the same text again changes nothing");

    let other = v25.replacen("(2.5)", "(2.5, edited)", 1);
    let taken = publish(&server, Some(&admin.secret), &other).problem(409);
    assert!(taken["type"].as_str().unwrap().ends_with("/version-taken"));
    assert!(taken["detail"].as_str().unwrap().contains("2.5"), "{taken}");

    let broken =
        thermostat_at(&inst, "2.6").replacen("retention = \"30d\"", "retention = \"forever\"", 1);
    let refused = publish(&server, Some(&admin.secret), &broken).problem(422);
    let codes: Vec<&str> = refused["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"PV015"), "{refused}");
    assert_eq!(
        versions(&server).len(),
        2,
        "a manifest with errors is never published"
    );

    let v26 = thermostat_at(&inst, "2.6");
    publish(&server, Some(&support.secret), &v26).problem(403);
    publish(&server, None, &v26).problem(401);
    let plain_json = server.post_raw("/v1/products", Some(&admin.secret), "application/json", v26);
    plain_json.problem(415);
    assert_eq!(served_version(&server), "2.5");

    let entries: Vec<_> = server
        .audit(&admin)
        .into_iter()
        .filter(|e| e["action"] == "manifest.publish")
        .collect();
    let by_key: Vec<_> = entries
        .iter()
        .filter(|e| e["actor"] == admin.actor())
        .collect();
    assert_eq!(by_key.len(), 1, "one new version, one entry: {entries:?}");
    assert_eq!(by_key[0]["detail"]["product"], THERMOSTAT);
    assert_eq!(by_key[0]["detail"]["version"], "2.5");
    assert!(
        created["digest"]
            .as_str()
            .unwrap()
            .starts_with(by_key[0]["detail"]["digest"].as_str().unwrap())
    );
    assert!(entries.iter().any(|e| e["actor"] == "serve"), "{entries:?}");
    assert_eq!(inst.audit_verify().0, 0);

    // The public notice history.
    let page = server.get(&format!("/products/{THERMOSTAT}/versions"), None);
    assert_eq!(page.status, 200);
    assert!(
        page.body
            .contains(&format!("/products/{THERMOSTAT}/versions/2.4"))
    );
    let old = server.get(&format!("/products/{THERMOSTAT}/versions/2.4"), None);
    assert_eq!(old.status, 200);
    assert!(
        old.body.contains("<h1>Wren Smart Thermostat 2</h1>"),
        "the notice as 2.4 gave it"
    );
}

/// Runs `privet ARGS…` with the instance's backend; `(exit code, stdout, stderr)`.
fn privet(inst: &Instance, args: &[&str]) -> (i32, String, String) {
    let backend = inst.backend_args();
    let mut all: Vec<&str> = args.to_vec();
    all.extend(backend.iter().map(String::as_str));
    let out = inst.privet(&all);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_cli_publishes_into_the_store_and_serve_serves_it_from_its_next_start() {
    let inst = Instance::new();
    let admin = inst.key("admin", &[]);
    let mut first = inst.serve();
    assert_eq!(served_version(&first), "2.4");
    first.stop_ok();

    let dir = inst.root().join("new");
    std::fs::create_dir(&dir).unwrap();
    let file = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_owned()
    };
    let v25 = file("v25.toml", &thermostat_at(&inst, "2.5"));
    let (code, out, err) = privet(&inst, &["manifest", "publish", &v25]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.starts_with(&format!("published {THERMOSTAT}@2.5 (sha256 ")),
        "{out}"
    );
    let (code, out, _) = privet(&inst, &["manifest", "publish", &v25]);
    assert_eq!(code, 0);
    assert!(
        out.starts_with(&format!("already published {THERMOSTAT}@2.5")),
        "{out}"
    );

    let edited = file(
        "edited.toml",
        &thermostat_at(&inst, "2.5").replacen("(2.5)", "(edited)", 1),
    );
    let (code, _, err) = privet(&inst, &["manifest", "publish", &edited]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("2.5") && err.contains("already published with other content"),
        "{err}"
    );
    let broken = file(
        "broken.toml",
        &thermostat_at(&inst, "2.6").replacen("retention = \"30d\"", "retention = \"forever\"", 1),
    );
    let (code, _, err) = privet(&inst, &["manifest", "publish", &broken]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("PV015") && err.contains("never published"),
        "{err}"
    );
    let missing = dir.join("missing.toml");
    let (code, _, _) = privet(&inst, &["manifest", "publish", missing.to_str().unwrap()]);
    assert_eq!(code, 2);

    // Started again with the directory it had (2.4, published before): 2.5 is served.
    let server = inst.serve();
    assert_eq!(served_version(&server), "2.5");
    assert_eq!(versions(&server), owned(&[("2.5", true), ("2.4", false)]));
    let cli: Vec<_> = server
        .audit(&admin)
        .into_iter()
        .filter(|e| e["action"] == "manifest.publish" && e["actor"] == "cli")
        .collect();
    assert_eq!(cli.len(), 1, "{cli:?}");
    assert_eq!(inst.audit_verify().0, 0);
}

#[test]
fn serve_refuses_a_manifest_edited_without_a_new_version() {
    let inst = Instance::new();
    let mut first = inst.serve();
    first.stop_ok();
    inst.edit_manifest(
        "thermostat.toml",
        "name = \"Wren Smart Thermostat 2\"",
        "name = \"Wren Smart Thermostat 2 (renamed)\"",
    );
    let mut child = Command::new(PRIVET)
        .arg("serve")
        .args(inst.backend_args())
        .arg("--manifests")
        .arg(&inst.manifests)
        .arg("--listen")
        .arg(format!("127.0.0.1:{}", free_port()))
        .env_remove("PRIVET_MASTER_KEY")
        .env_remove("PRIVET_TEST_NOW")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("privet serve started with an edit under a published version");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
    assert!(!status.success(), "{err}");
    assert!(err.contains("not starting"), "{err}");
    assert!(
        err.contains("thermostat.toml") && err.contains(THERMOSTAT) && err.contains("version 2.4"),
        "names the file, the product and the version: {err}"
    );
}
