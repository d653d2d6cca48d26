//! End-to-end: built-in TLS (`privet serve --tls-cert FILE --tls-key FILE`), on the real
//! binary with certificates the `openssl` CLI makes — ECDSA P-256, Ed25519 and RSA 2048 leaves
//! signed by a test CA. HTTPS answers with HSTS (never over plain HTTP) and `Secure` cookies;
//! SIGHUP serves new certificates to new connections while open ones carry on, and a bad
//! replacement keeps the old one; TLS connections are held to the same connection limits,
//! the handshake included; bad flags and files stop the start with a message naming the file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod e2e_security_support;
mod support;
mod tls_support;

use e2e_security_support::{CLIENT_COOKIE, COOKIE, GOOD_PASSWORD, email};
use serde_json::json;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};
use support::*;
use tls_support::*;

/// How much later than its timeout the server may close a connection.
const MARGIN: Duration = Duration::from_secs(3);

#[test]
fn https_serves_each_key_type_with_hsts_and_curl_trusts_it() {
    let pki = Pki::new();
    for kind in KeyKind::ALL {
        let inst = Instance::new();
        let leaf = pki.leaf(&format!("{kind:?}"), kind);
        let server = serve_tls(&inst, &leaf, &pki.ca, &[]);
        let mut conn = Https::connect(&server.addr, &pki.ca);
        assert_eq!(
            conn.served_cert(),
            leaf.der(),
            "{kind:?}: the certificate given"
        );
        assert_eq!(
            conn.alpn().as_deref(),
            Some("http/1.1"),
            "{kind:?}: h2 is offered but only HTTP/1.1 is served"
        );
        // Every kind of answer: JSON, a problem, a page.
        for path in ["/healthz", "/v1/no-such-route", "/login"] {
            let a = conn.send(&get(path));
            assert_eq!(
                a.header("strict-transport-security"),
                "max-age=31536000",
                "{kind:?} {path} ({})",
                a.status
            );
            assert!(
                a.header("permissions-policy").contains("camera=()"),
                "{kind:?} {path}: the other security headers stay"
            );
        }
        // An independent client (OpenSSL, through curl) verifies the chain and the name.
        let port = server.addr.rsplit(':').next().unwrap();
        let out = std::process::Command::new("curl")
            .args([
                "-sS",
                "--fail",
                "--max-time",
                "30",
                "--cacert",
                path(&pki.ca),
            ])
            .args(["--resolve", &format!("localhost:{port}:127.0.0.1")])
            .args(["-D", "-", &format!("https://localhost:{port}/healthz")])
            .output()
            .expect("run curl");
        let text = String::from_utf8_lossy(&out.stdout).to_lowercase();
        assert!(
            out.status.success(),
            "{kind:?}: curl: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(text.starts_with("http/1.1 200"), "{kind:?}: {text}");
        assert!(text.contains("strict-transport-security: max-age=31536000"));
        let log = server.log();
        assert!(
            log.contains(&leaf.fingerprint()),
            "{kind:?}: the log names the certificate served as openssl does:\n{log}"
        );
        assert!(log.contains("listening on https://"), "{log}");
    }
}

#[test]
fn plain_http_never_sends_hsts_and_secure_cookies_are_an_opt_in_behind_a_proxy() {
    let inst = Instance::new();
    let server = inst.serve();
    let r = server.get("/healthz", None);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("strict-transport-security"), "", "plain HTTP");
    let cookies = signup_cookies(&server);
    assert!(
        cookies.iter().all(|c| !c.contains("Secure")),
        "plain HTTP on loopback: browsers would drop Secure cookies: {cookies:?}"
    );
    drop(server);
    // Behind a proxy that terminates TLS: the cookies say Secure, HSTS is the proxy's.
    let proxied = inst.serve_with(&["--secure-cookies"]);
    let cookies = signup_cookies(&proxied);
    assert_eq!(cookies.len(), 2, "{cookies:?}");
    assert!(
        cookies.iter().all(|c| c.contains("; Secure")),
        "{cookies:?}"
    );
    assert_eq!(
        proxied
            .get("/healthz", None)
            .header("strict-transport-security"),
        ""
    );
}

/// Signs up a new owner over plain HTTP: the `Set-Cookie` values.
fn signup_cookies(server: &Server) -> Vec<String> {
    let r = e2e_security_support::signup(server, &email("Plain"), GOOD_PASSWORD, "Home", "Ada");
    r.expect(201);
    e2e_security_support::set_cookies(&r)
}

#[test]
fn signing_up_in_and_out_over_tls_sets_only_secure_cookies() {
    let pki = Pki::new();
    let leaf = pki.leaf("cookies", KeyKind::EcdsaP256);
    let inst = Instance::new();
    // On loopback, where plain HTTP leaves `Secure` off: TLS alone turns it on.
    let server = serve_tls(&inst, &leaf, &pki.ca, &[]);
    let mut conn = Https::connect(&server.addr, &pki.ca);
    let mail = email("Tls");
    let up = conn.send(&post_json(
        "/v1/auth/signup",
        &json!({"email": mail, "password": GOOD_PASSWORD, "household_name": "TLS home", "name": "Ada"}),
    ));
    assert_eq!(up.status, 201, "{}", up.body);
    let set = up.all("set-cookie");
    for name in [COOKIE, CLIENT_COOKIE] {
        let c = set
            .iter()
            .find(|c| c.starts_with(&format!("{name}=")))
            .unwrap_or_else(|| panic!("no {name} cookie: {set:?}"));
        assert!(c.contains("; Secure") && c.contains("HttpOnly"), "{c}");
    }
    let session = set
        .iter()
        .find(|c| c.starts_with(&format!("{COOKIE}=")))
        .and_then(|c| c.split(';').next())
        .unwrap()
        .to_owned();
    let login = conn.send(&post_json(
        "/v1/auth/login",
        &json!({"email": mail, "password": GOOD_PASSWORD}),
    ));
    assert_eq!(login.status, 200, "{}", login.body);
    let set = login.all("set-cookie");
    assert_eq!(set.len(), 2, "{set:?}");
    assert!(set.iter().all(|c| c.contains("; Secure")), "{set:?}");
    // Signing out clears the cookie with the same attributes, or the browser keeps it.
    let out = conn.send(&format!(
        "POST /v1/auth/logout HTTP/1.1\r\nHost: localhost\r\nOrigin: https://localhost\r\n\
         Cookie: {session}\r\ncontent-length: 0\r\n\r\n"
    ));
    assert_eq!(out.status, 204, "{}", out.body);
    let cleared = out.all("set-cookie");
    assert!(
        cleared
            .iter()
            .any(|c| c.starts_with(&format!("{COOKIE}=;")) && c.contains("; Secure")),
        "{cleared:?}"
    );
}

#[test]
fn sighup_serves_the_new_certificate_to_new_connections_and_open_ones_carry_on() {
    let pki = Pki::new();
    // What the operator points the flags at; renewals are copied over these paths.
    let live = pki.leaf("live", KeyKind::EcdsaP256);
    let first = pki.leaf("first", KeyKind::EcdsaP256);
    first.copy_over(&live);
    let inst = Instance::new();
    let server = serve_tls(&inst, &live, &pki.ca, &[]);
    let mut open = Https::connect(&server.addr, &pki.ca);
    assert_eq!(open.send(&get("/healthz")).status, 200);
    assert_eq!(open.served_cert(), first.der());

    // Renewed with another key type, even: the files change, then the signal.
    let renewed = pki.leaf("renewed", KeyKind::Rsa2048);
    renewed.copy_over(&live);
    sighup(&server);
    wait_until("new connections to get the renewed certificate", || {
        Https::connect(&server.addr, &pki.ca).served_cert() == renewed.der()
    });
    let fresh = Https::connect(&server.addr, &pki.ca);
    assert_eq!(fresh.served_cert(), renewed.der());
    // The connection opened before the reload was not dropped, and keeps its session.
    let a = open.send(&get("/healthz"));
    assert_eq!(a.status, 200);
    assert_eq!(a.header("strict-transport-security"), "max-age=31536000");
    let log = server.log();
    assert!(
        log.contains("TLS certificate reloaded") && log.contains(&renewed.fingerprint()),
        "the log names the new certificate:\n{log}"
    );
}

#[test]
fn a_bad_replacement_is_refused_at_sighup_and_the_old_certificate_stays() {
    let pki = Pki::new();
    let live = pki.leaf("live", KeyKind::Ed25519);
    let good = pki.leaf("good", KeyKind::Ed25519);
    good.copy_over(&live);
    let inst = Instance::new();
    let server = serve_tls(&inst, &live, &pki.ca, &[]);

    // Half a renewal: the new certificate, the old key.
    let next = pki.leaf("next", KeyKind::EcdsaP256);
    std::fs::copy(&next.cert, &live.cert).unwrap();
    sighup(&server);
    wait_until("the refused reload to be logged", || {
        server.log().contains("TLS certificate not reloaded")
    });
    let log = server.log();
    assert!(
        log.contains("does not match") && log.contains(path(&live.key)),
        "the log says why, naming the files:\n{log}"
    );
    let key_text = std::fs::read_to_string(&live.key).unwrap();
    for line in key_text.lines().filter(|l| !l.starts_with("-----")) {
        assert!(!log.contains(line), "key material in the log:\n{log}");
    }
    assert_eq!(
        Https::connect(&server.addr, &pki.ca).served_cert(),
        good.der(),
        "still the old certificate"
    );

    // An unreadable key file is refused the same way.
    std::fs::remove_file(&live.key).unwrap();
    sighup(&server);
    wait_until("the second refused reload to be logged", || {
        server.log().matches("TLS certificate not reloaded").count() >= 2
    });
    assert_eq!(
        Https::connect(&server.addr, &pki.ca).served_cert(),
        good.der()
    );

    // The renewal completed: the next SIGHUP takes it.
    next.copy_over(&live);
    sighup(&server);
    wait_until("the completed renewal to be served", || {
        Https::connect(&server.addr, &pki.ca).served_cert() == next.der()
    });
}

#[test]
fn tls_connections_are_held_to_the_header_and_idle_timeouts_and_the_cap() {
    let pki = Pki::new();
    let leaf = pki.leaf("limits", KeyKind::EcdsaP256);
    let inst = Instance::new();
    let server = serve_tls(
        &inst,
        &leaf,
        &pki.ca,
        &["--header-timeout-secs", "1", "--idle-timeout-secs", "1"],
    );

    // Connects, never says hello: closed within the header timeout.
    let start = Instant::now();
    let mut silent = TcpStream::connect(&server.addr).unwrap();
    assert!(
        closed_within(&mut silent, Duration::from_secs(1) + MARGIN),
        "a silent client is closed"
    );
    assert!(
        start.elapsed() >= Duration::from_millis(900),
        "not before its time"
    );
    // Half a ClientHello fares no better.
    let mut halting = TcpStream::connect(&server.addr).unwrap();
    halting
        .write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01])
        .unwrap();
    assert!(closed_within(&mut halting, Duration::from_secs(1) + MARGIN));

    // Half a request head, after the handshake: a 408 through TLS, with HSTS, then closed.
    let mut slow = Https::connect(&server.addr, &pki.ca);
    slow.write(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n");
    let (got, closed) = slow.read_until_closed(Duration::from_secs(1) + MARGIN);
    let got = String::from_utf8_lossy(&got).to_lowercase();
    assert!(closed, "closed after the answer");
    assert!(got.starts_with("http/1.1 408"), "{got}");
    assert!(
        got.contains("strict-transport-security: max-age=31536000"),
        "{got}"
    );

    // Kept alive and idle: closed after the idle timeout.
    let mut idle = Https::connect(&server.addr, &pki.ca);
    assert_eq!(idle.send(&get("/healthz")).status, 200);
    let (_, closed) = idle.read_until_closed(Duration::from_secs(1) + MARGIN);
    assert!(closed, "an idle TLS connection is closed");

    let mut metrics = Https::connect(&server.addr, &pki.ca);
    let text = metrics.send(&get("/metrics")).body;
    let count = |reason: &str| {
        let series = format!("privet_http_connections_closed_total{{reason=\"{reason}\"}} ");
        text.lines()
            .find_map(|l| l.strip_prefix(&series)?.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    assert!(count("header_timeout") >= 3.0, "{text}");
    assert!(count("idle_timeout") >= 1.0, "{text}");
    drop(server);

    // At the cap, a newcomer sheds the idle TLS connection.
    let capped = serve_tls(&inst, &leaf, &pki.ca, &["--max-connections", "1"]);
    let mut older = Https::connect(&capped.addr, &pki.ca);
    assert_eq!(older.send(&get("/healthz")).status, 200);
    let mut newer = Https::connect(&capped.addr, &pki.ca);
    assert_eq!(newer.send(&get("/healthz")).status, 200);
    let (_, closed) = older.read_until_closed(Duration::from_secs(5));
    assert!(closed, "the idle connection was shed for the newer one");
}

/// Whether the server closes `stream` within `patience` (a reset counts).
fn closed_within(stream: &mut TcpStream, patience: Duration) -> bool {
    let deadline = Instant::now() + patience;
    let mut buf = [0u8; 1024];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        stream.set_read_timeout(Some(left)).unwrap();
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return false;
            }
            Err(_) => return true,
        }
    }
}

#[test]
fn bad_flags_and_files_stop_the_start_with_a_message_naming_the_file() {
    let pki = Pki::new();
    let leaf = pki.leaf("leaf", KeyKind::EcdsaP256);
    let other = pki.leaf("other", KeyKind::EcdsaP256);
    let inst = Instance::new();
    let refused = |extra: &[&str], says: &[&str]| {
        let (status, out) = serve_refused(&inst, extra);
        assert!(!status.success(), "{extra:?} started:\n{out}");
        for s in says {
            assert!(out.contains(s), "{extra:?} should say `{s}`:\n{out}");
        }
        assert!(
            !out.contains("listening"),
            "{extra:?} must not start listening:\n{out}"
        );
        out
    };
    let cert = path(&leaf.cert);
    let key = path(&leaf.key);
    refused(&["--tls-cert", cert], &["--tls-key"]);
    refused(&["--tls-key", key], &["--tls-cert"]);
    let missing = pki.file("missing.pem");
    refused(
        &["--tls-cert", path(&missing), "--tls-key", key],
        &["cannot read", path(&missing), "No such file"],
    );
    refused(
        &["--tls-cert", cert, "--tls-key", path(&missing)],
        &["cannot read", path(&missing)],
    );
    refused(
        &["--tls-cert", key, "--tls-key", key],
        &["holds no PEM certificate", key],
    );
    refused(
        &["--tls-cert", cert, "--tls-key", path(&other.key)],
        &["does not match", cert, path(&other.key)],
    );

    let encrypted = pki.file("encrypted.key");
    openssl(&[
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-aes-128-cbc",
        "-pass",
        "pass:correct-horse",
        "-out",
        path(&encrypted),
    ]);
    let pkcs1 = pki.file("pkcs1.key");
    openssl(&["genrsa", "-traditional", "-out", path(&pkcs1), "2048"]);
    let sec1 = pki.file("sec1.key");
    openssl(&[
        "ecparam",
        "-name",
        "prime256v1",
        "-genkey",
        "-noout",
        "-out",
        path(&sec1),
    ]);
    // P-521: PKCS#8, well formed, and not a curve rustls signs with.
    let p521 = pki.file("p521.key");
    openssl(&[
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:P-521",
        "-out",
        path(&p521),
    ]);
    let p521_cert = pki.file("p521.pem");
    pki.sign(&p521, &p521_cert);
    for (cert, key, says) in [
        (cert, &encrypted, "encrypted"),
        (cert, &pkcs1, "PKCS#1"),
        (cert, &sec1, "SEC1"),
        (path(&p521_cert), &p521, "cannot use"),
    ] {
        let out = refused(
            &["--tls-cert", cert, "--tls-key", path(key)],
            &[says, path(key)],
        );
        let text = std::fs::read_to_string(key).unwrap();
        for line in text
            .lines()
            .filter(|l| !l.starts_with("-----") && l.len() > 8)
        {
            assert!(!out.contains(line), "key material printed:\n{out}");
        }
    }
    assert!(
        !inst.data.exists(),
        "a bad certificate is reported before the store is made"
    );
}
