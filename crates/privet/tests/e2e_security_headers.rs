//! End-to-end: security headers on every kind of response, and no password, two-step code,
//! recovery code, invitation or claim code, or session token in the server's log.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod e2e_security_support;
mod support;

use e2e_security_support::*;
use reqwest::Method;
use serde_json::json;
use support::*;

fn assert_security_headers(what: &str, r: &Resp) {
    let csp = r.header("content-security-policy");
    assert!(
        csp.contains("frame-ancestors 'none'"),
        "{what} ({}): CSP with frame-ancestors: {csp:?}",
        r.status
    );
    assert!(csp.contains("default-src"), "{what}: {csp:?}");
    assert_eq!(
        r.header("x-content-type-options"),
        "nosniff",
        "{what} ({})",
        r.status
    );
    let referrer = r.header("referrer-policy");
    assert!(
        [
            "no-referrer",
            "same-origin",
            "strict-origin",
            "strict-origin-when-cross-origin"
        ]
        .contains(&referrer.as_str()),
        "{what} ({}): Referrer-Policy {referrer:?}",
        r.status
    );
    let permissions = r.header("permissions-policy");
    for feature in ["camera=()", "microphone=()", "geolocation=()"] {
        assert!(
            permissions.contains(feature),
            "{what} ({}): Permissions-Policy {permissions:?} lacks {feature}",
            r.status
        );
    }
}

#[test]
fn every_kind_of_response_carries_the_security_headers() {
    let inst = Instance::new();
    let admin = inst.key("admin", &[]);
    let server = inst.serve();
    let ada = owner(&server, "Headers");
    let cases: Vec<(&str, Resp)> = vec![
        ("health", server.get("/healthz", None)),
        ("JSON", get_as(&server, &ada.cookie, "/v1/auth/me")),
        ("openapi", server.get("/openapi.json", None)),
        ("metrics", server.get("/metrics", None)),
        ("products", server.get("/v1/products", Some(&admin.secret))),
        ("401 problem", server.get("/v1/auth/me", None)),
        (
            "403 problem",
            logout(&server, &ada.cookie, &[("origin", "https://evil.example")]),
        ),
        ("404 route", server.get("/no/such/route", None)),
        (
            "404 subject",
            get_as(&server, &ada.cookie, "/v1/subjects/sub_nope/consents"),
        ),
        (
            "405",
            server.send(server.req(Method::DELETE, "/healthz", None)),
        ),
        (
            "422 problem",
            signup(&server, &email("Weak"), "password123", "Home", "Weak"),
        ),
        (
            "400/422 bad JSON",
            server.post_raw("/v1/auth/login", None, "application/json", "{not json"),
        ),
        (
            "signup 201 with cookie",
            signup(&server, &email("Ok"), GOOD_PASSWORD, "Home", "Ok"),
        ),
        (
            "login 200 with cookie",
            login(&server, &ada.email, &ada.password, None),
        ),
        ("204", logout(&server, &ada.cookie, &[])),
        ("HTML page", server.get("/", None)),
    ];
    for (what, r) in &cases {
        assert_security_headers(what, r);
        if r.status >= 400 {
            assert_problem_shape(r);
        }
    }
    let statuses: Vec<u16> = cases.iter().map(|(_, r)| r.status).collect();
    for s in [200, 201, 204, 401, 403, 404, 405, 422] {
        assert!(statuses.contains(&s), "a {s} was checked: {statuses:?}");
    }
    // A 429, too.
    let mut last = None;
    for i in 0..7 {
        last = Some(login(
            &server,
            &ada.email,
            &format!("wrong guess {i}"),
            None,
        ));
    }
    let r = last.unwrap();
    assert_eq!(r.status, 429, "{}", r.body);
    assert_security_headers("429", &r);
    // Last, as the server closes the connection after refusing the body: a body over the
    // limit on a JSON route is a 413 problem.
    let r = server.post_raw(
        "/v1/auth/login",
        None,
        "application/json",
        "x".repeat(9 * 1024 * 1024),
    );
    r.problem(413);
    assert_security_headers("413", &r);
}

/// Whether `text` holds `code` as a whole number (not inside a longer run of digits).
fn holds_number(text: &str, code: &str) -> bool {
    text.match_indices(code).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + code.len()..].chars().next();
        // A digit before or after makes it part of a longer number; a `.` or `:` before makes
        // it the fraction of a timestamp.
        !before.is_some_and(|c| c.is_ascii_digit() || c == '.' || c == ':')
            && !after.is_some_and(|c| c.is_ascii_digit())
    })
}

#[test]
fn no_password_code_or_token_reaches_the_log() {
    let inst = Instance::new();
    // Two-step codes follow the server's clock, moved instead of waited for.
    inst.set_clock(&ago(0));
    let admin = inst.key("admin", &[]);
    let server = inst.serve();
    let mut secrets: Vec<(String, String)> = Vec::new();

    // Sign-up and failed sign-ins with various passwords.
    let ada = owner(&server, "Log");
    secrets.push(("password".into(), ada.password.clone()));
    secrets.push(("session token".into(), token_of(&ada.cookie).to_owned()));
    let wrong = "mistyped violet harbour";
    login(&server, &ada.email, wrong, None).problem(401);
    secrets.push(("wrong password".into(), wrong.into()));
    let r = login(&server, &ada.email, &ada.password, None);
    r.expect(200);
    let known = client_cookie(&r);
    secrets.push(("known-client token".into(), token_of(&known).to_owned()));
    login_via(
        &server,
        &from_address(1),
        &ada.email,
        wrong,
        &[("cookie", &known)],
    )
    .problem(401);
    let weak = "sunshine1234";
    signup(&server, &email("Weak"), weak, "Home", "Weak");
    secrets.push(("refused password".into(), weak.into()));
    let unknown = "a password for nobody";
    login(&server, &email("Nobody"), unknown, None).problem(401);
    secrets.push(("password of an unknown e-mail".into(), unknown.into()));

    // Password change.
    post_as(
        &server,
        &ada.cookie,
        "/v1/auth/password",
        &json!({"current": ada.password, "new": OTHER_PASSWORD}),
    )
    .expect(200);
    secrets.push(("new password".into(), OTHER_PASSWORD.into()));

    // Invitation.
    let (_, code) = invite(&server, &ada, &marker("Lodger"), false, true);
    let code = code.unwrap();
    let lodger_password = "quartz pelican umbrella fjord";
    accept_invite(&server, &code, &email("Lodger"), lodger_password).expect(201);
    secrets.push(("invitation code".into(), code));
    secrets.push(("invitee's password".into(), lodger_password.into()));

    // Device token and claim code.
    let made = server.unclaimed_device(&admin, THERMOSTAT);
    let claim_code = made["claim_code"].as_str().unwrap().to_owned();
    let device_token = made["token"].as_str().unwrap().to_owned();
    post_as(
        &server,
        &ada.cookie,
        &format!("/v1/households/{}/devices/claim", ada.household),
        &json!({"claim_code": claim_code}),
    )
    .expect(200);
    server.ingest_ok(&device_token, &json!([climate(&ago(30), 19.5, 3)]));
    secrets.push(("claim code".into(), claim_code));
    secrets.push(("device token".into(), device_token));
    secrets.push(("API key".into(), admin.secret.clone()));

    // Two-step verification, when oathtool is there to compute codes.
    let mut codes: Vec<String> = Vec::new();
    if have_oathtool("the two-step part of no_password_code_or_token_reaches_the_log") {
        let v = post_as(
            &server,
            &ada.cookie,
            "/v1/auth/totp",
            &json!({"password": OTHER_PASSWORD}),
        )
        .expect(200);
        let secret = v["secret"].as_str().unwrap().to_owned();
        let uri = v["otpauth_uri"].as_str().unwrap().to_owned();
        let mut app = Authenticator::new(&secret);
        let confirm = app.fresh(&server);
        let v = confirm_totp(&server, &ada.cookie, &confirm).expect(200);
        let recovery = recovery_codes(&v);
        let sign_in = app.fresh(&server);
        let r = login(&server, &ada.email, OTHER_PASSWORD, Some(&sign_in));
        r.expect(200);
        secrets.push((
            "second session token".into(),
            token_of(&session_cookie(&r)).to_owned(),
        ));
        login(&server, &ada.email, OTHER_PASSWORD, Some(&sign_in)).problem(401);
        let r = login(&server, &ada.email, OTHER_PASSWORD, Some(&recovery[0]));
        r.expect(200);
        secrets.push((
            "third session token".into(),
            token_of(&session_cookie(&r)).to_owned(),
        ));
        secrets.push(("TOTP secret".into(), secret));
        secrets.push(("otpauth URI".into(), uri));
        for c in &recovery {
            secrets.push(("recovery code".into(), c.clone()));
        }
        codes.push(confirm);
        codes.push(sign_in);
    }

    let log = server.log();
    assert!(!log.is_empty(), "the server logs something");
    let mut leaks = Vec::new();
    for (what, value) in &secrets {
        if log.contains(value.as_str()) {
            leaks.push(format!("{what} `{value}`"));
        }
        // The random part of prefixed tokens alone, too.
        if let Some((_, random)) = value.split_once('_')
            && random.len() >= 16
            && log.contains(random)
        {
            leaks.push(format!("{what} (random part) `{random}`"));
        }
    }
    for code in &codes {
        if let Some(line) = log.lines().find(|l| holds_number(l, code)) {
            leaks.push(format!("two-step code {code} in: {line}"));
        }
    }
    assert!(
        leaks.is_empty(),
        "secrets in the server log:\n{}\n--- log ---\n{log}",
        leaks.join("\n")
    );
}
