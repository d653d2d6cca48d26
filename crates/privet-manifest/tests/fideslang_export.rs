//! The example manifests parse cleanly and export to fideslang files that the `fideslang`
//! Python package accepts (`tests/fideslang/validate.py`).
//!
//! The Python check runs when `python3 -c "import fideslang"` works; set `PRIVET_PYTHON` to
//! use another interpreter (a virtualenv with `tests/fideslang/requirements.txt`, say).

// Test helpers outside `#[test]` functions panic with context on setup failures.
#![allow(clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn example_manifests() -> Vec<PathBuf> {
    let dir = workspace_root().join("examples/manifests");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    paths.sort();
    paths
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn parse_cleanly(path: &Path) -> privet_manifest::Manifest {
    let source = read(path);
    let parsed =
        privet_manifest::parse(&source).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        parsed.findings.is_empty(),
        "{}: parser findings: {:#?}",
        path.display(),
        parsed.findings
    );
    parsed.manifest
}

fn export(path: &Path) -> String {
    privet_manifest::fideslang::export(&parse_cleanly(path))
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A directory of our own under the system temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(label: &str) -> TempDir {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let dir =
            std::env::temp_dir().join(format!("privet-{label}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn python() -> String {
    std::env::var("PRIVET_PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

/// Whether the fideslang package can be imported. When CI asks for every tool
/// (`PRIVET_REQUIRE_TOOLS`) or names its Python (`PRIVET_PYTHON`), a missing one fails the
/// test rather than skipping it.
fn fideslang_available() -> bool {
    let ok = Command::new(python())
        .args(["-c", "import fideslang"])
        .output()
        .is_ok_and(|o| o.status.success());
    let required = std::env::var_os("PRIVET_REQUIRE_TOOLS").is_some()
        || std::env::var_os("PRIVET_PYTHON").is_some();
    assert!(
        ok || !required,
        "the fideslang Python package is required here (pip install -r tests/fideslang/requirements.txt)"
    );
    ok
}

#[test]
fn there_are_five_example_manifests() {
    let names: Vec<String> = example_manifests()
        .iter()
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    assert_eq!(
        names,
        [
            "fitness-tracker.toml",
            "smart-fridge.toml",
            "smart-speaker.toml",
            "thermostat.toml",
            "video-doorbell.toml"
        ]
    );
}

#[test]
fn example_manifests_parse_without_findings() {
    for path in example_manifests() {
        let manifest = parse_cleanly(&path);
        assert!(!manifest.streams.is_empty(), "{}", path.display());
    }
}

#[test]
fn example_manifests_pass_the_linter() {
    let cx = privet_manifest::LintContext {
        today: jiff::civil::date(2026, 6, 1),
    };
    for path in example_manifests() {
        let checked = privet_manifest::check(&read(&path), &cx)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let codes: Vec<&str> = checked.findings.iter().map(|f| f.rule.code).collect();
        assert!(!checked.has_errors(), "{}: {codes:?}", path.display());
        // examples/manifests/README.md lists the warnings that are there on purpose.
        let expected: &[&str] = if path.ends_with("fitness-tracker.toml") {
            &["PV051", "PV051"]
        } else if path.ends_with("smart-speaker.toml") {
            &["PV062"]
        } else {
            &[]
        };
        assert_eq!(codes, expected, "{}", path.display());
    }
}

#[test]
fn example_manifests_export_to_block_yaml() {
    for path in example_manifests() {
        let text = export(&path);
        assert!(text.starts_with("# fideslang export"), "{}", path.display());
        assert!(
            text.lines().any(|l| l == "system:"),
            "{}: expected block YAML:\n{text}",
            path.display()
        );
    }
}

#[test]
fn exports_validate_with_fideslang() {
    if !fideslang_available() {
        println!("skipped: fideslang not installed");
        return;
    }
    let dir = TempDir::new("fideslang");
    let mut files = Vec::new();
    for path in example_manifests() {
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let out = dir.0.join(format!("{stem}.yml"));
        std::fs::write(&out, export(&path)).unwrap_or_else(|e| panic!("{}: {e}", out.display()));
        files.push(out);
    }
    // A manifest whose values a YAML 1.1 reader would misread, so it is exported as JSON.
    let tricky = read(&workspace_root().join("examples/manifests/thermostat.toml"))
        .replace("name = \"Wren Smart Thermostat 2\"", "name = \"On\"")
        .replace("version = \"2.4\"", "version = \"1:20\"");
    let manifest = privet_manifest::parse(&tricky)
        .unwrap_or_else(|e| panic!("{e}"))
        .manifest;
    let out = dir.0.join("yaml-1-1-lookalikes.yml");
    let text = privet_manifest::fideslang::export(&manifest).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(&out, text).unwrap_or_else(|e| panic!("{}: {e}", out.display()));
    files.push(out);

    let script = workspace_root().join("tests/fideslang/validate.py");
    let output = Command::new(python())
        .arg(&script)
        .args(&files)
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", script.display()));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "validate.py failed:\n{stdout}\n{stderr}"
    );
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with("ok ")).count(),
        files.len(),
        "{stdout}"
    );

    // The name must come back as text, not as the boolean `True`.
    let check = Command::new(python())
        .args([
            "-c",
            "import sys, yaml; d = yaml.safe_load(open(sys.argv[1])); \
             s = d['system'][0]; assert s['name'] == 'On' and '1:20' in s['description'], s",
        ])
        .arg(dir.0.join("yaml-1-1-lookalikes.yml"))
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
}

#[test]
fn validator_rejects_an_unknown_category() {
    if !fideslang_available() {
        println!("skipped: fideslang not installed");
        return;
    }
    let dir = TempDir::new("fideslang-bad");
    let path = workspace_root().join("examples/manifests/smart-fridge.toml");
    // Drop the custom category definitions, so the file refers to keys it does not define.
    let text = export(&path);
    let bad: String = text.replace(
        "fides_key: user.behavior.consumption",
        "fides_key: user.behavior.consumed",
    );
    let out = dir.0.join("bad.yml");
    std::fs::write(&out, bad).unwrap_or_else(|e| panic!("{}: {e}", out.display()));
    let output = Command::new(python())
        .arg(workspace_root().join("tests/fideslang/validate.py"))
        .arg(&out)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("unknown data category `user.behavior.consumption`"),
        "{stderr}"
    );
}
