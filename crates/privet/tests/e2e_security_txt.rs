//! End-to-end: `privet serve` publishes `/.well-known/security.txt` from its flags and
//! environment, and refuses to start on a contact that is not a URI a reporter can use.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use support::*;

#[test]
fn serve_publishes_security_txt_from_flags_and_environment() {
    let inst = Instance::new();
    inst.set_clock("2026-12-05T10:00:00Z");
    let server = inst.serve_with(&[
        "--security-contact",
        "mailto:security@acme.example",
        "--security-contact",
        "tel:+44-20-7946-0000",
        "--security-policy",
        "https://acme.example/disclosure",
    ]);
    let r = server.get("/.well-known/security.txt", None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("content-type"), "text/plain; charset=utf-8");
    assert!(
        r.body
            .contains("Contact: mailto:security@acme.example\nContact: tel:+44-20-7946-0000\n"),
        "{}",
        r.body
    );
    assert!(
        r.body.contains("Expires: 2027-12-04T10:00:00Z\n"),
        "{}",
        r.body
    );
    assert!(
        r.body.contains("Policy: https://acme.example/disclosure\n"),
        "{}",
        r.body
    );
}

#[test]
fn without_a_contact_there_is_no_security_txt() {
    let inst = Instance::new();
    let server = inst.serve();
    assert_eq!(server.get("/.well-known/security.txt", None).status, 404);
}

#[test]
fn serve_refuses_a_contact_that_is_not_a_uri() {
    let inst = Instance::new();
    let backend = inst.backend_args();
    let manifests = inst.manifests.display().to_string();
    let out = inst.privet(&[
        "serve",
        &backend[0],
        &backend[1],
        "--manifests",
        &manifests,
        "--listen",
        "127.0.0.1:0",
        "--security-contact",
        "security@acme.example",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "not starting: security.txt Contact #1 is not a valid mailto:, https: or tel: URI"
        ),
        "{err}"
    );
}
