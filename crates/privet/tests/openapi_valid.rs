//! The server's `/openapi.json` is a valid OpenAPI 3.1 document, as an independent validator
//! (`openapi-spec-validator`, tests/openapi/requirements.txt) reads it; every query parameter
//! is in the query, and every response has a description, errors as RFC 9457 problems.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;
use support::*;

/// The interpreter with `openapi_spec_validator`: `PRIVET_PYTHON` (CI) or `python3` if it has
/// it; `None` skips the validator (failing instead under `PRIVET_REQUIRE_TOOLS`).
fn validator_python() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("PRIVET_PYTHON") {
        return Some(PathBuf::from(p));
    }
    let ok = Command::new("python3")
        .args(["-c", "import openapi_spec_validator"])
        .output()
        .is_ok_and(|o| o.status.success());
    ok.then(|| PathBuf::from("python3"))
}

#[test]
fn the_openapi_document_validates_and_documents_every_response() {
    let inst = Instance::new();
    let server = inst.serve();
    let doc = server.get("/openapi.json", None).expect(200);

    // Checked here whatever the machine has: the shapes the validator does not judge.
    let paths = doc["paths"].as_object().unwrap();
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            let Some(responses) = op["responses"].as_object() else {
                continue;
            };
            for (status, r) in responses {
                assert!(
                    r["description"].as_str().is_some_and(|d| !d.is_empty()),
                    "{method} {path} {status} has no description"
                );
                if status.starts_with('4') || status.starts_with('5') {
                    assert!(
                        r["content"]["application/problem+json"].is_object(),
                        "{method} {path} {status} is not documented as a problem"
                    );
                }
            }
            for p in op["parameters"].as_array().into_iter().flatten() {
                if p["in"] == "path" {
                    let name = p["name"].as_str().unwrap();
                    assert!(
                        path.contains(&format!("{{{name}}}")),
                        "{method} {path}: `{name}` is declared in the path but is not in it"
                    );
                }
            }
            if op.get("requestBody").is_some_and(Value::is_object) {
                for status in ["400", "413", "415", "422"] {
                    assert!(
                        responses.contains_key(status),
                        "{method} {path} takes a body but does not document {status}"
                    );
                }
            }
        }
    }

    let Some(python) = validator_python() else {
        assert!(
            std::env::var_os("PRIVET_REQUIRE_TOOLS").is_none(),
            "openapi-spec-validator is required (pip install -r tests/openapi/requirements.txt)"
        );
        eprintln!("openapi-spec-validator not installed: the independent validation is skipped");
        return;
    };
    let file = inst.root().join("openapi.json");
    std::fs::write(&file, doc.to_string()).unwrap();
    let out = Command::new(python)
        .args(["-m", "openapi_spec_validator"])
        .arg(&file)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "the document does not validate:\n{text}"
    );
    assert!(text.contains("OK"), "{text}");
}
