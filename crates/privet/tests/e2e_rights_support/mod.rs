//! Helpers for the rights end-to-end tests (`e2e_rights_*.rs`), on top of the shared harness
//! in `support/`: exports (JSON and zip), erasure, rectification, requests, and an independent
//! check of erasure receipts with Python's `jwcrypto`.
//!
//! Each rights test file includes it next to the harness:
//! `mod support; mod e2e_rights_support;`.
#![allow(dead_code, unreachable_pub)]

use crate::support::{Key, Resp, Server, id_of, marker};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The smart speaker: member streams `voice` (string `transcript`, contract) and `usage`
/// (legitimate interests, `usage_statistics`).
pub const SPEAKER: &str = "hearth-speaker-3";
/// The video doorbell: household streams, `clip_history` on legitimate interests.
pub const DOORBELL: &str = "porchlight-doorbell-2";

/// `GET /v1/subjects/{id}/export` (JSON) as `key`.
pub fn export(server: &Server, key: &Key, id: &str) -> Resp {
    server.get(&format!("/v1/subjects/{id}/export"), Some(&key.secret))
}

/// The JSON export, which must answer 200.
pub fn export_json(server: &Server, key: &Key, id: &str) -> Value {
    let r = export(server, key, id);
    assert!(
        r.header("content-type").starts_with("application/json"),
        "export content type: {}",
        r.header("content-type")
    );
    r.expect(200)
}

/// The exported records of `stream` (any product), in export order.
pub fn records_of(export: &Value, stream: &str) -> Vec<Value> {
    export["records"]
        .as_array()
        .expect("records array")
        .iter()
        .filter(|r| r["stream"] == stream)
        .cloned()
        .collect()
}

/// Every value of `field` across the exported records of `stream`.
pub fn values_of(export: &Value, stream: &str, field: &str) -> Vec<Value> {
    records_of(export, stream)
        .iter()
        .filter_map(|r| r["data"].get(field).cloned())
        .collect()
}

/// The CSV export: (status, content type, bytes).
pub fn export_zip(server: &Server, key: &Key, id: &str) -> (u16, String, Vec<u8>) {
    let r = server
        .req(
            reqwest::Method::GET,
            &format!("/v1/subjects/{id}/export?format=csv"),
            Some(&key.secret),
        )
        .send()
        .expect("HTTP request");
    let status = r.status().as_u16();
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    (status, ct, r.bytes().expect("body").to_vec())
}

/// Every file of a zip, by name.
pub fn unzip(bytes: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut archive =
        zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("the export is a valid zip");
    let mut out = BTreeMap::new();
    for i in 0..archive.len() {
        let mut f = archive.by_index(i).expect("zip entry");
        let mut buf = Vec::new();
        f.read_to_end(&mut buf).expect("read zip entry");
        let name = f.name().expect("zip entry name").into_owned();
        out.insert(name, buf);
    }
    out
}

/// A CSV file as its header and rows of (column → cell).
pub fn parse_csv(bytes: &[u8]) -> (Vec<String>, Vec<BTreeMap<String, String>>) {
    let mut r = csv::Reader::from_reader(bytes);
    let header: Vec<String> = r
        .headers()
        .expect("CSV header")
        .iter()
        .map(str::to_owned)
        .collect();
    let rows = r
        .records()
        .map(|rec| {
            let rec = rec.expect("CSV row");
            header
                .iter()
                .cloned()
                .zip(rec.iter().map(str::to_owned))
                .collect()
        })
        .collect();
    (header, rows)
}

/// `DELETE /v1/subjects/{id}` as `key`.
pub fn erase(server: &Server, key: &Key, id: &str) -> Resp {
    server.send(server.req(
        reqwest::Method::DELETE,
        &format!("/v1/subjects/{id}"),
        Some(&key.secret),
    ))
}

/// `PATCH path` with a JSON body.
pub fn patch(server: &Server, path: &str, key: &Key, body: &Value) -> Resp {
    server.send(
        server
            .req(reqwest::Method::PATCH, path, Some(&key.secret))
            .header("content-type", "application/json")
            .body(body.to_string()),
    )
}

/// A member with an e-mail address.
pub fn member_with_email(
    server: &Server,
    admin: &Key,
    household: &str,
    name: &str,
    email: &str,
    child: bool,
) -> String {
    let r = server.post(
        &format!("/v1/households/{household}/members"),
        Some(&admin.secret),
        &json!({ "name": name, "email": email, "child": child }),
    );
    id_of(&r.expect(201))
}

/// A unique e-mail address.
pub fn email() -> String {
    format!("{}@example.org", marker("mail").to_ascii_lowercase())
}

/// A voice event of the speaker for `member` with a transcript.
pub fn voice(ts: &str, member: &str, transcript: &str) -> Value {
    json!({ "stream": "voice", "ts": ts, "member": member, "data": { "transcript": transcript } })
}

/// A usage event of the speaker for `member` (legitimate interests).
pub fn usage(ts: &str, member: &str, feature: &str) -> Value {
    json!({ "stream": "usage", "ts": ts, "member": member, "data": { "feature": feature, "reply_ms": 700 } })
}

/// The audit entries with this action.
pub fn audit_entries(server: &Server, key: &Key, action: &str) -> Vec<Value> {
    server
        .audit(key)
        .into_iter()
        .filter(|e| e["action"] == action)
        .collect()
}

/// `POST /v1/requests`.
pub fn new_request(
    server: &Server,
    key: &Key,
    kind: &str,
    subject: &str,
    received_at: &str,
) -> Resp {
    server.post(
        "/v1/requests",
        Some(&key.secret),
        &json!({ "type": kind, "subject": subject, "received_at": received_at }),
    )
}

/// `GET /v1/requests?status=…` ids.
pub fn request_ids(server: &Server, key: &Key, status: &str) -> Vec<String> {
    let v = server
        .get(&format!("/v1/requests?status={status}"), Some(&key.secret))
        .expect(200);
    v.as_array()
        .expect("request list")
        .iter()
        .map(|r| r["id"].as_str().expect("request id").to_owned())
        .collect()
}

/// The instance's JWK set.
pub fn jwks(server: &Server) -> Value {
    let r = server.get("/.well-known/jwks.json", None);
    r.expect(200)
}

/// The Python interpreter that has `jwcrypto`: `PRIVET_PYTHON` when set (CI; it must have
/// it), else `python3` if it can import it; `None` (the check is skipped) otherwise.
pub fn jose_python() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("PRIVET_PYTHON") {
        return Some(PathBuf::from(p));
    }
    let ok = Command::new("python3")
        .args(["-c", "import jwcrypto"])
        .output()
        .is_ok_and(|o| o.status.success());
    ok.then(|| PathBuf::from("python3"))
}

/// The independent verifier script.
pub fn verify_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/jose/verify_receipt.py")
}

/// Runs `tests/jose/verify_receipt.py JWKS_FILE JWS` with `python`: (success, stdout, stderr).
pub fn verify_with_jwcrypto(
    python: &Path,
    dir: &Path,
    jwks: &Value,
    jws: &str,
) -> (bool, String, String) {
    let file = dir.join("jwks.json");
    std::fs::write(&file, jwks.to_string()).expect("write jwks");
    let out = Command::new(python)
        .arg(verify_script())
        .arg(&file)
        .arg(jws)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `privet ARGS…` with `--data` of `data`: (exit code, stdout + stderr).
pub fn privet_data(inst: &crate::support::Instance, args: &[&str]) -> (i32, String) {
    let out = inst.privet(args);
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// A subject's sealed bytes, read from the files as someone with file access would.
pub struct SealedSubject {
    /// The pseudonym that keys the subject's rows.
    pub pseudonym: Vec<u8>,
    /// The wrapped data key, from `keyring.db`.
    pub wrapped_key: Vec<u8>,
    /// The sealed profile, from `privet.db`.
    pub profile: Vec<u8>,
}

/// The sealed bytes of subject `id`.
pub fn sealed_subject(inst: &crate::support::Instance, id: &str) -> SealedSubject {
    let (pseudonym, profile): (Vec<u8>, Vec<u8>) = inst
        .db()
        .query_row(
            "SELECT pseudonym, profile FROM subjects WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("the subject's row");
    let keyring = rusqlite::Connection::open_with_flags(
        inst.data.join("keyring.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("open keyring.db");
    let wrapped_key = keyring
        .query_row(
            "SELECT wrapped FROM keys WHERE pseudonym = ?1",
            [&pseudonym],
            |r| r.get(0),
        )
        .expect("the subject's wrapped key");
    SealedSubject {
        pseudonym,
        wrapped_key,
        profile,
    }
}

/// Every file under `dir` (recursively) whose bytes contain `needle`.
pub fn files_under_containing(dir: &Path, needle: &str) -> Vec<PathBuf> {
    let mut hits = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir") {
            let p = entry.expect("dir entry").path();
            if p.is_dir() {
                stack.push(p);
            } else if crate::support::contains(
                &std::fs::read(&p).unwrap_or_default(),
                needle.as_bytes(),
            ) {
                hits.push(p);
            }
        }
    }
    hits
}
