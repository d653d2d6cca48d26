//! `privet mqtt passwords`: Mosquitto's password and ACL files for a static broker, written
//! from the broker hashes the store keeps for each device (`$7$…`, made when its token was
//! issued), so the broker checks device tokens that Privet never keeps in clear.
//!
//! The ACL gives each device its own topics only, through `pattern` lines (`%u`, the user
//! name, is the device id), and the bridge user — with `--bridge-user` — every device's
//! events to read and results and updates to write. Mosquitto applies `pattern` lines to every
//! user wherever they stand in the file, and authorises a shared subscription
//! (`$share/privet/privet/v1/devices/+/events`) against the filter after the group.
//!
//! Nothing secret is printed: counts, paths and ids only, never a hash or a token.

use crate::backend::{self, Location};
use crate::cli::{MqttCmd, MqttPasswordsArgs};
use anyhow::{Context, bail};
use privet_server::mqtt::topics;
use privet_store::{BrokerCredential, DeviceId};
use std::collections::BTreeSet;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::ExitCode;

/// The password file's name in the output directory.
const PASSWD_FILE: &str = "passwd";
/// The ACL file's name in the output directory.
const ACL_FILE: &str = "acl";

pub(crate) async fn run(cmd: MqttCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        MqttCmd::Passwords(args) => passwords(&args).await,
    }
}

async fn passwords(args: &MqttPasswordsArgs) -> anyhow::Result<ExitCode> {
    if let Some(user) = &args.bridge_user
        && !is_broker_user_name(user)
    {
        bail!(
            "--bridge-user must be a plain name: no `:`, `/`, `+`, `#`, spaces or control characters"
        );
    }
    // Reading never makes a store: a mistyped directory is refused, not created.
    let location = Location::from_args(&args.data)?;
    backend::require_existing(&location)?;
    let opened = backend::open(&location).await?;
    let credentials = opened.store.broker_credentials().await?;
    let devices = opened.store.all_devices().await?;

    let passwd_path = args.out.join(PASSWD_FILE);
    let acl_path = args.out.join(ACL_FILE);
    let kept_bridge = match &args.bridge_user {
        Some(user) => existing_entry(&passwd_path, user)?,
        None => None,
    };
    let files = broker_files(
        &credentials,
        args.bridge_user.as_deref(),
        kept_bridge.as_deref(),
    );

    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    // Each file is replaced whole by a rename, so a broker reloading meanwhile reads the old or
    // the new file, never half of one; the ACL names no device, so either pairing is sound.
    write_atomically(&acl_path, files.acl.as_bytes(), 0o644)?;
    write_atomically(&passwd_path, files.passwd.as_bytes(), 0o600)?;

    let with_hash: BTreeSet<&DeviceId> = credentials.iter().map(|c| &c.device).collect();
    let without_hash = devices
        .iter()
        .filter(|d| d.revoked_at.is_none() && !with_hash.contains(&d.id))
        .count();
    report(args, &files, without_hash, &passwd_path, &acl_path);
    Ok(ExitCode::SUCCESS)
}

/// Tells the operator, on stderr, what was written and what to do next. Never a hash.
fn report(
    args: &MqttPasswordsArgs,
    files: &BrokerFiles,
    without_hash: usize,
    passwd_path: &Path,
    acl_path: &Path,
) {
    eprintln!(
        "wrote {} to {} and the ACL to {}",
        count(files.devices, "device"),
        passwd_path.display(),
        acl_path.display()
    );
    if without_hash > 0 {
        eprintln!(
            "{} issued before broker hashes existed cannot connect yet: each gets one at its next token reset (POST /v1/devices/{{id}}/reset), then run this again",
            count(without_hash, "unrevoked device")
        );
    }
    if !files.skipped.is_empty() {
        let ids: Vec<&str> = files.skipped.iter().map(DeviceId::as_str).collect();
        eprintln!(
            "left out {} whose id cannot be a broker user name, or whose stored hash is not a $7$ entry: {}",
            count(files.skipped.len(), "device"),
            ids.join(", ")
        );
    }
    match (&args.bridge_user, files.bridge_kept) {
        (Some(user), true) => eprintln!("kept the password of bridge user {user}"),
        (Some(user), false) => eprintln!(
            "bridge user {user} has no password yet: set it with `mosquitto_passwd {} {user}` (kept when this command runs again)",
            passwd_path.display()
        ),
        (None, _) => eprintln!(
            "no --bridge-user: the ACL lets no one read device events, so Privet's bridge cannot"
        ),
    }
    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    eprintln!(
        "in mosquitto.conf (the broker's user must be able to read both: chown the 0600 passwd to it; after each run, reload the broker with SIGHUP):\n  allow_anonymous false\n  password_file {}\n  acl_file {}",
        absolute(passwd_path).display(),
        absolute(acl_path).display()
    );
}

/// `n thing` or `n things`.
fn count(n: usize, thing: &str) -> String {
    if n == 1 {
        format!("1 {thing}")
    } else {
        format!("{n} {thing}s")
    }
}

/// The two files' contents, and what went into them.
#[derive(Debug, PartialEq, Eq)]
struct BrokerFiles {
    /// Mosquitto's password file: `device:$7$…` lines, then the bridge user's kept entry.
    passwd: String,
    /// Mosquitto's ACL file.
    acl: String,
    /// How many devices the password file holds.
    devices: usize,
    /// Devices left out: their id or hash could not stand in the files as they are.
    skipped: Vec<DeviceId>,
    /// Whether the bridge user's existing entry was carried over.
    bridge_kept: bool,
}

/// The password and ACL files for these credentials. `kept_bridge` is the bridge user's whole
/// line from the previous password file, carried over so a rerun does not lock the bridge out.
fn broker_files(
    credentials: &[BrokerCredential],
    bridge_user: Option<&str>,
    kept_bridge: Option<&str>,
) -> BrokerFiles {
    let mut passwd = String::new();
    let mut devices = 0;
    let mut skipped = Vec::new();
    for c in credentials {
        // A device named like the bridge would take the bridge's line and topics.
        let is_bridge = bridge_user == Some(c.device.as_str());
        if is_bridge || !is_broker_user_name(c.device.as_str()) || !is_hash_entry(&c.hash) {
            skipped.push(c.device.clone());
            continue;
        }
        passwd.push_str(c.device.as_str());
        passwd.push(':');
        passwd.push_str(&c.hash);
        passwd.push('\n');
        devices += 1;
    }
    let bridge_kept = match kept_bridge {
        Some(line) if bridge_user.is_some() => {
            passwd.push_str(line);
            passwd.push('\n');
            true
        }
        _ => false,
    };
    BrokerFiles {
        passwd,
        acl: acl(bridge_user),
        devices,
        skipped,
        bridge_kept,
    }
}

/// The ACL: each device (user name = device id) writes its own events and reads its own
/// results and update; the bridge user reads every device's events and writes every device's
/// results and update.
fn acl(bridge_user: Option<&str>) -> String {
    let mut acl = String::from(
        "# Written by `privet mqtt passwords`; changes are overwritten on the next run.\n\
         # Every user, devices included: %u is the user name, a device's id.\n",
    );
    let own = [
        ("write", topics::events("%u")),
        ("read", topics::results("%u")),
        ("read", topics::update("%u")),
    ];
    for (access, topic) in own {
        acl.push_str(&format!("pattern {access} {topic}\n"));
    }
    if let Some(user) = bridge_user {
        acl.push_str(&format!(
            "\n# Privet's bridge: every device's events in (its shared subscription\n\
             # $share/{group}/{events} is checked against the filter after the group),\n\
             # results and release notices out.\n\
             user {user}\n\
             topic read {events}\n\
             topic write {results}\n\
             topic write {update}\n",
            group = topics::SHARE_GROUP,
            events = topics::EVENTS_FILTER,
            results = topics::RESULTS_FILTER,
            update = topics::UPDATE_FILTER,
        ));
    }
    acl
}

/// Whether `name` can be a broker user name in both files: not empty, no `:` (the password
/// file's separator), no topic separator or wildcard (it is substituted for `%u`, and Mosquitto
/// denies pattern checks for names with wildcards), no space or control character (line and
/// word separators), and no leading `#` (a comment).
fn is_broker_user_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 256
        && !name
            .chars()
            .any(|c| matches!(c, ':' | '/' | '+' | '#') || c.is_whitespace() || c.is_control())
}

/// Whether `hash` looks like a `$7$` entry and nothing else: it cannot break the file's lines.
fn is_hash_entry(hash: &str) -> bool {
    hash.starts_with("$7$")
        && hash
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'$' | b'+' | b'/' | b'='))
}

/// The line for `user` in the password file at `path`, if the file exists and has one.
fn existing_entry(path: &Path, user: &str) -> anyhow::Result<Option<String>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    Ok(text
        .lines()
        .find(|line| line.split_once(':').is_some_and(|(name, _)| name == user))
        .map(str::to_owned))
}

/// Writes `contents` to `path` with `mode` through a temporary file in the same directory and
/// a rename, so the broker never reads a half-written file.
fn write_atomically(path: &Path, contents: &[u8], mode: u32) -> anyhow::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".privet-mqtt-")
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(mode))
        .with_context(|| {
            format!(
                "cannot set the mode of a temporary file in {}",
                dir.display()
            )
        })?;
    tmp.write_all(contents)
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(|| format!("cannot write a temporary file in {}", dir.display()))?;
    tmp.persist(path)
        .with_context(|| format!("cannot replace {}", path.display()))?;
    // The rename itself durable.
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("cannot sync {}", dir.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn credential(id: &str, hash: &str) -> BrokerCredential {
        BrokerCredential {
            device: DeviceId::new(id),
            hash: hash.to_owned(),
        }
    }

    const HASH_A: &str = "$7$101$jZM9IjVWCDKmJbpq$m/sXSz/cKPFKMMpKVSxr3ptzHckXATFO9vpDmtn0mqg6SUP8kAw+OPUGwuesVMenIFKjQnTD1FaVTQh1rmS83g==";
    const HASH_B: &str = "$7$1000$9p5g0vivM9e0oX26$lEJTYyRsqtNcSqH052/axXGseeTke/Ddviw7dkZkUxf7r8Ly/BksUwKjSrdMR+nZg9YYOBn4Z0S3bbMKkBbyeQ==";

    #[test]
    fn each_device_gets_one_password_line_and_the_acl_its_own_topics() {
        let files = broker_files(
            &[credential("dev_a", HASH_A), credential("dev_b", HASH_B)],
            None,
            None,
        );
        assert_eq!(files.passwd, format!("dev_a:{HASH_A}\ndev_b:{HASH_B}\n"));
        assert_eq!(files.devices, 2);
        assert!(files.skipped.is_empty());
        let rules: Vec<&str> = files
            .acl
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect();
        assert_eq!(
            rules,
            [
                "pattern write privet/v1/devices/%u/events",
                "pattern read privet/v1/devices/%u/results",
                "pattern read privet/v1/devices/%u/update",
            ]
        );
    }

    #[test]
    fn the_bridge_user_reads_all_events_and_writes_results_and_updates() {
        let files = broker_files(&[credential("dev_a", HASH_A)], Some("bridge"), None);
        let rules: Vec<&str> = files
            .acl
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect();
        assert_eq!(
            rules[3..],
            [
                "user bridge",
                "topic read privet/v1/devices/+/events",
                "topic write privet/v1/devices/+/results",
                "topic write privet/v1/devices/+/update",
            ]
        );
        assert!(!files.bridge_kept);
        assert_eq!(files.passwd, format!("dev_a:{HASH_A}\n"));
    }

    #[test]
    fn the_bridge_users_existing_entry_is_kept() {
        let line = format!("bridge:{HASH_B}");
        let files = broker_files(&[credential("dev_a", HASH_A)], Some("bridge"), Some(&line));
        assert!(files.bridge_kept);
        assert_eq!(files.passwd, format!("dev_a:{HASH_A}\nbridge:{HASH_B}\n"));
        // Without --bridge-user nothing is carried over.
        let files = broker_files(&[credential("dev_a", HASH_A)], None, Some(&line));
        assert!(!files.bridge_kept);
        assert!(!files.passwd.contains("bridge"));
    }

    #[test]
    fn ids_and_hashes_that_would_break_the_files_are_left_out() {
        let files = broker_files(
            &[
                credential("dev_ok", HASH_A),
                credential("dev:x", HASH_A),
                credential("dev/x", HASH_A),
                credential("dev+", HASH_A),
                credential("#dev", HASH_A),
                credential("dev x", HASH_A),
                credential("dev\nx", HASH_A),
                credential("", HASH_A),
                credential("bridge", HASH_A),
                credential("dev_newline", &format!("{HASH_A}\nevil:$7$")),
                credential("dev_argon", "$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA"),
            ],
            Some("bridge"),
            None,
        );
        assert_eq!(files.passwd, format!("dev_ok:{HASH_A}\n"));
        assert_eq!(files.devices, 1);
        assert_eq!(files.skipped.len(), 10);
    }

    #[test]
    fn no_devices_still_make_valid_files() {
        let files = broker_files(&[], None, None);
        assert_eq!(files.passwd, "");
        assert_eq!(files.devices, 0);
        assert!(
            files
                .acl
                .contains("pattern write privet/v1/devices/%u/events")
        );
    }

    #[test]
    fn bridge_user_names_are_checked() {
        assert!(is_broker_user_name("bridge"));
        assert!(is_broker_user_name("privet-bridge_1"));
        for bad in ["", "a:b", "a/b", "a+b", "a#b", "a b", "a\tb", "a\u{0}b"] {
            assert!(!is_broker_user_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn files_are_replaced_atomically_with_their_modes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("passwd");
        write_atomically(&path, b"one\n", 0o600).unwrap();
        write_atomically(&path, b"two\n", 0o600).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "two\n");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let acl = dir.path().join("acl");
        write_atomically(&acl, b"x\n", 0o644).unwrap();
        let mode = std::fs::metadata(&acl).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o644);
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 2, "no temporary file left behind: {names:?}");
    }

    #[test]
    fn the_bridge_line_is_found_in_an_existing_password_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("passwd");
        assert_eq!(existing_entry(&path, "bridge").unwrap(), None);
        std::fs::write(
            &path,
            format!("dev_a:{HASH_A}\nbridgeX:{HASH_A}\nbridge:{HASH_B}\n"),
        )
        .unwrap();
        assert_eq!(
            existing_entry(&path, "bridge").unwrap(),
            Some(format!("bridge:{HASH_B}"))
        );
        assert_eq!(existing_entry(&path, "other").unwrap(), None);
    }
}
