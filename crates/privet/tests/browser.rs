//! The browser tests (`tests/browser/`, Node with playwright-core and axe-core): the household
//! pages and the operator console driven in headless Chromium against this build's `privet`
//! binary. Fails when the suite fails.
//!
//! Needs `node`, Chromium (`/usr/bin/chromium`, or `CHROMIUM`), `oathtool` and
//! `npm ci --prefix tests/browser`; `.ci/run` installs them. Without them the test prints
//! `skipped: <reason>` and passes, so `cargo test` works on a fresh machine — unless
//! `PRIVET_BROWSER_TESTS=required` (as in CI), which turns a missing prerequisite into a failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The whole suite takes about a minute; this is for a hung browser.
const TIMEOUT: Duration = Duration::from_secs(600);

fn suite_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("..")
        .join("tests")
        .join("browser")
}

fn chromium() -> PathBuf {
    std::env::var_os("CHROMIUM").map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from)
}

fn runs(program: &str, arg: &str) -> bool {
    Command::new(program)
        .arg(arg)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Why the suite cannot run here, if it cannot.
fn missing_prerequisite(dir: &Path) -> Option<String> {
    if !runs("node", "--version") {
        return Some("`node` is not installed (Node.js 20 or later)".to_owned());
    }
    let chromium = chromium();
    if !chromium.is_file() {
        return Some(format!(
            "no Chromium at {} (apt-get install chromium, or set CHROMIUM)",
            chromium.display()
        ));
    }
    if !runs("oathtool", "--version") {
        return Some("`oathtool` is not installed (apt-get install oathtool)".to_owned());
    }
    for package in ["playwright-core", "axe-core"] {
        if !dir.join("node_modules").join(package).is_dir() {
            return Some(format!(
                "{} is missing (run `npm ci --prefix tests/browser`)",
                dir.join("node_modules").join(package).display()
            ));
        }
    }
    None
}

#[test]
fn household_pages_and_console_work_in_a_real_browser() {
    let dir = suite_dir();
    if let Some(reason) = missing_prerequisite(&dir) {
        if std::env::var("PRIVET_BROWSER_TESTS").is_ok_and(|v| v == "required") {
            panic!("the browser tests are required (PRIVET_BROWSER_TESTS=required) but {reason}");
        }
        eprintln!("skipped: {reason}");
        return;
    }

    // The same command as `npm test` in tests/browser (package.json), without needing npm.
    let mut child = Command::new("node")
        .args([
            "--test",
            "--test-concurrency=1",
            "--test-reporter=spec",
            "flow.test.mjs",
        ])
        .current_dir(&dir)
        .env("PRIVET_BIN", env!("CARGO_BIN_EXE_privet"))
        .env("CHROMIUM", chromium())
        .env("NO_COLOR", "1")
        .env("FORCE_COLOR", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start node");

    // Read both pipes on threads so a full pipe never stalls the suite.
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });

    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for node") {
            break Some(status);
        }
        if started.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let out = out.join().unwrap_or_default();
    let err = err.join().unwrap_or_default();
    let took = started.elapsed().as_secs();
    match status {
        Some(s) if s.success() => {
            // Shown with `--nocapture`: the suite's summary and where the screenshots are.
            println!("{out}");
            println!("browser tests passed in {took} s");
        }
        Some(s) => panic!(
            "the browser tests failed ({s}) after {took} s:\n{out}\n{err}\n\
             Screenshots, also of the failing page, are in target/screenshots/."
        ),
        None => panic!(
            "the browser tests did not finish in {} s:\n{out}\n{err}",
            TIMEOUT.as_secs()
        ),
    }
}
