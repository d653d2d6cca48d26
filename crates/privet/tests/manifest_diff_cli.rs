//! `privet manifest diff OLD NEW`: text and JSON, exit 0 (nothing material), 3 (material) and
//! 2 (an input that cannot be read or compared), for files and for versions published in a
//! data directory by `privet serve`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;
use support::*;

/// The example thermostat, as shipped (version 2.4).
fn thermostat() -> String {
    std::fs::read_to_string(example_manifests().join("thermostat.toml")).unwrap()
}

/// Version 2.5: a new consent-based field (material) and the humidity kept for less time
/// (minor).
fn thermostat_2_5() -> String {
    let v = thermostat()
        .replacen("version = \"2.4\"", "version = \"2.5\"", 1)
        .replacen(
            "retention = \"30d\"\ntransform = { bucket",
            "retention = \"14d\"\ntransform = { bucket",
            1,
        );
    format!(
        "{v}\n[streams.climate.fields.co2_ppm]\ntype = \"number\"\ncategory = \"user.sensor.environment\"\npurposes = [\"energy_report\"]\nretention = \"30d\"\ndescription = \"How much carbon dioxide is in the air.\"\n"
    )
}

/// Writes `text` to `name` under `dir`.
fn file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn diff(inst: &Instance, args: &[&str]) -> Output {
    let mut all = vec!["manifest", "diff"];
    all.extend(args);
    inst.privet(&all)
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn text_lists_each_change_with_its_class_and_exits_3_on_a_material_one() {
    let inst = Instance::new();
    let old = file(inst.root(), "v2.4.toml", &thermostat());
    let new = file(inst.root(), "v2.5.toml", &thermostat_2_5());

    let out = diff(&inst, &[s(&old), s(&new)]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "minor     `climate.humidity_pct` is now kept for 14 days (was 30 days).\n\
         material  `co2_ppm` (readings of the home) is now collected in the `climate` stream, for energy report (consent).\n\
         1 material change, 1 minor\n"
    );

    // Back again: the field removed and the retention longer, both read the other way.
    let out = diff(&inst, &[s(&new), s(&old)]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stdout(&out).ends_with("1 material change, 1 minor\n"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn only_minor_changes_or_none_exit_0() {
    let inst = Instance::new();
    let old = file(inst.root(), "old.toml", &thermostat());
    let shorter = thermostat()
        .replacen("version = \"2.4\"", "version = \"2.4.1\"", 1)
        .replacen(
            "retention = \"30d\"\ntransform = { bucket",
            "retention = \"14d\"\ntransform = { bucket",
            1,
        );
    let new = file(inst.root(), "new.toml", &shorter);
    let out = diff(&inst, &[s(&old), s(&new)]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).ends_with("0 material changes, 1 minor\n"),
        "{}",
        stdout(&out)
    );

    let out = diff(&inst, &[s(&old), s(&old)]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out), "No changes.\n");
}

#[test]
fn json_carries_the_versions_and_each_changes_scope() {
    let inst = Instance::new();
    let old = file(inst.root(), "v2.4.toml", &thermostat());
    let new = file(inst.root(), "v2.5.toml", &thermostat_2_5());
    let out = diff(&inst, &["--format", "json", s(&old), s(&new)]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["product"], THERMOSTAT);
    assert_eq!(
        (v["from"].as_str(), v["to"].as_str()),
        (Some("2.4"), Some("2.5"))
    );
    assert_eq!(v["material"], true);
    let changes = v["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 2);
    assert_eq!(changes[0]["kind"], "shorter_retention");
    assert_eq!(changes[0]["materiality"], "minor");
    assert_eq!(changes[1]["kind"], "new_field");
    assert_eq!(changes[1]["materiality"], "material");
    assert_eq!(changes[1]["stream"], "climate");
    assert_eq!(changes[1]["field"], "co2_ppm");
    assert_eq!(changes[1]["purposes"], serde_json::json!(["energy_report"]));
    assert!(changes[1]["summary"].as_str().unwrap().contains("co2_ppm"));

    let out = diff(&inst, &["--format", "json", s(&old), s(&old)]);
    assert_eq!(out.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["material"], false);
    assert_eq!(v["changes"], serde_json::json!([]));
}

#[test]
fn unreadable_invalid_or_different_products_exit_2() {
    let inst = Instance::new();
    let old = file(inst.root(), "old.toml", &thermostat());
    let missing = inst.root().join("missing.toml");
    let broken = file(inst.root(), "broken.toml", "[product\nid = \"x\"\n");
    let fridge = example_manifests().join("smart-fridge.toml");
    for (new, says) in [
        (missing.as_path(), "cannot read"),
        (broken.as_path(), "is not valid TOML"),
        (fridge.as_path(), "not the same product"),
    ] {
        let out = diff(&inst, &[s(&old), s(new)]);
        assert_eq!(out.status.code(), Some(2), "{new:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(says), "{new:?}: {}", stderr(&out));
        assert!(out.stdout.is_empty(), "nothing on stdout for {new:?}");
    }

    // A manifest with lint errors is still compared, with a warning; a retention no longer
    // stated counts as longer.
    let no_retention = thermostat().replacen("retention = \"400d\"\n", "", 1);
    let new = file(inst.root(), "no-retention.toml", &no_retention);
    let out = diff(&inst, &[s(&old), s(&new)]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("has 1 error(s)"), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "material  `climate.temperature_c` is now kept for a time not stated (was 400 days).\n\
         1 material change, 0 minor\n"
    );
}

#[test]
fn published_versions_are_read_from_the_data_directory() {
    let inst = Instance::new();
    // `serve --manifests DIR` publishes the example manifests at start.
    inst.serve().stop_ok();
    let data = s(&inst.data).to_owned();
    let new = file(inst.root(), "v2.5.toml", &thermostat_2_5());
    let published = format!("{THERMOSTAT}@2.4");

    let out = diff(&inst, &[&published, s(&new), "--data", &data]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stdout(&out).ends_with("1 material change, 1 minor\n"),
        "{}",
        stdout(&out)
    );

    let out = diff(
        &inst,
        &["--format", "json", &published, &published, "--data", &data],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["changes"], serde_json::json!([]));

    for (reference, says) in [
        (
            format!("{THERMOSTAT}@9.9"),
            "has no published version `9.9` (published: 2.4)",
        ),
        (
            "no-such-product@1".to_owned(),
            "no manifest of product `no-such-product`",
        ),
    ] {
        let out = diff(&inst, &[&reference, s(&new), "--data", &data]);
        assert_eq!(out.status.code(), Some(2), "{reference}");
        assert!(stderr(&out).contains(says), "{reference}: {}", stderr(&out));
    }

    // A mistyped data directory is refused, never created.
    let typo = inst.root().join("typo");
    let out = diff(&inst, &[&published, s(&new), "--data", s(&typo)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!typo.exists());
}

#[test]
fn the_shipped_next_thermostat_version_is_a_material_change() {
    let inst = Instance::new();
    let old = example_manifests().join("thermostat.toml");
    let new = example_manifests().join("../versions/thermostat-2.5.toml");
    let out = diff(&inst, &[s(&old), s(&new), "--format", "json"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        (v["from"].as_str(), v["to"].as_str()),
        (Some("2.4"), Some("2.5"))
    );
    let changes = v["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "{v}");
    assert_eq!(changes[0]["kind"], "new_field");
    assert_eq!(changes[0]["field"], "room");
    assert_eq!(changes[0]["purposes"], serde_json::json!(["energy_report"]));
}
