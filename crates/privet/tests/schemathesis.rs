//! Schemathesis (tests/schemathesis: pinned in requirements.txt, configured in
//! schemathesis.toml) runs every one of its checks against a live server through the whole
//! `/openapi.json`: no 5xx, every status and content type and body as documented, schema-valid
//! requests accepted and invalid ones rejected, auth enforced. It must end with no failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::json;
use std::path::PathBuf;
use std::process::Command;
use support::*;

/// The `schemathesis` command next to `PRIVET_PYTHON` (CI's virtualenv), else on `PATH`;
/// `None` skips the run (failing instead under `PRIVET_REQUIRE_TOOLS`).
fn schemathesis() -> Option<PathBuf> {
    let beside_python = std::env::var_os("PRIVET_PYTHON")
        .map(PathBuf::from)
        .and_then(|p| p.parent().map(|d| d.join("schemathesis")));
    let candidates = beside_python
        .into_iter()
        .chain([PathBuf::from("schemathesis")]);
    candidates.into_iter().find(|c| {
        Command::new(c)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

#[test]
fn schemathesis_finds_nothing_with_every_check_on() {
    let Some(st) = schemathesis() else {
        assert!(
            std::env::var("PRIVET_REQUIRE_TOOLS").as_deref() != Ok("1"),
            "schemathesis is required (pip install -r tests/schemathesis/requirements.txt)"
        );
        eprintln!("schemathesis not installed: skipped");
        return;
    };
    let inst = Instance::new();
    let admin = inst.key("admin", &[]);
    let server = inst.serve();
    let home = server.home(&admin);
    // A household owner's session for the account calls.
    let signup = server.post(
        "/v1/auth/signup",
        None,
        &json!({"email": "st.owner@example.com", "password": "violet harbour kettle ninety",
            "household_name": "Schemathesis home", "name": "Owner"}),
    );
    assert_eq!(signup.status, 201, "{}", signup.body);
    let session = signup
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix("privet_session="))
        .and_then(|c| c.split(';').next())
        .expect("a session cookie")
        .to_owned();
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    // One seed, so CI's run is the same every time; set PRIVET_SCHEMATHESIS_SEED to explore
    // others (the seed of a run is in its summary).
    let seed = std::env::var("PRIVET_SCHEMATHESIS_SEED").unwrap_or_else(|_| "20261206".into());
    let out = Command::new(st)
        .current_dir(inst.root())
        .env("PRIVET_ST_API_KEY", &admin.secret)
        .env("PRIVET_ST_DEVICE_TOKEN", &home.token)
        .env("PRIVET_ST_SESSION", session)
        .env("PRIVET_ST_ORIGIN", server.url(""))
        .env(
            "SCHEMATHESIS_HOOKS",
            repo.join("tests/schemathesis/hooks.py"),
        )
        .arg("--config-file")
        .arg(repo.join("tests/schemathesis/schemathesis.toml"))
        .args([
            "--no-color",
            "run",
            "--checks",
            "all",
            "--request-timeout",
            "20",
        ])
        .args(["--seed", &seed])
        .arg(server.url("/openapi.json"))
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: String = text
        .lines()
        .skip_while(|l| !l.contains("SUMMARY"))
        .collect::<Vec<_>>()
        .join("\n");
    println!("{summary}");
    assert!(out.status.success(), "schemathesis found problems:\n{text}");
    assert!(text.contains("Tested: "), "{text}");
}
