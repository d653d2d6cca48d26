//! End-to-end: two-step verification with codes from an independent implementation
//! (`oathtool --totp -b SECRET`), replay refusal, recovery codes, turning it off, and staff
//! accounts that can do nothing until it is on.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod e2e_security_support;
mod support;

use e2e_security_support::*;
use serde_json::json;
use support::*;

#[test]
fn totp_sign_in_with_independent_codes_refuses_replays_and_recovery_codes_work_once() {
    if !have_oathtool("totp_sign_in_with_independent_codes") {
        return;
    }
    let inst = Instance::new();
    // Two-step codes follow the server's clock, moved instead of waited for; days from the
    // wall clock, so a code checked against the system clock would fail.
    inst.set_clock(&ago(5 * 86_400));
    let server = inst.serve();
    let ada = owner(&server, "Totp");

    // Enrolment needs the password again: a session alone (a stolen cookie) cannot enrol an
    // authenticator of its own.
    let p = post_as(&server, &ada.cookie, "/v1/auth/totp", &json!({})).problem(422);
    assert!(p["detail"].as_str().unwrap().contains("password"), "{p}");
    call(
        &server,
        reqwest::Method::POST,
        "/v1/auth/totp",
        Some(&ada.cookie),
        None,
        &[],
    )
    .problem(422);
    let p = post_as(
        &server,
        &ada.cookie,
        "/v1/auth/totp",
        &json!({"password": "wrong horse battery staple"}),
    )
    .problem(422);
    assert!(
        !p.to_string().contains("wrong horse"),
        "the password is never echoed: {p}"
    );
    // Enrolment: a secret, its otpauth URI and a QR code; not on until confirmed.
    let v = post_as(
        &server,
        &ada.cookie,
        "/v1/auth/totp",
        &json!({"password": ada.password}),
    )
    .expect(200);
    let secret = v["secret"].as_str().unwrap().to_owned();
    assert!(
        secret.len() >= 16
            && secret
                .bytes()
                .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b)),
        "base32 secret: {secret}"
    );
    let uri = v["otpauth_uri"].as_str().unwrap();
    assert!(uri.starts_with("otpauth://totp/"), "{uri}");
    assert!(uri.contains(&format!("secret={secret}")), "{uri}");
    assert!(
        v["qr_svg"].as_str().unwrap().contains("<svg"),
        "QR code is SVG"
    );
    login(&server, &ada.email, &ada.password, None).expect(200);

    let mut app = Authenticator::new(&secret);
    confirm_totp(&server, &ada.cookie, "000000").problem(422);
    let v = confirm_totp(&server, &ada.cookie, &app.fresh(&server)).expect(200);
    let recovery = recovery_codes(&v);
    assert_eq!(recovery.len(), 10, "{v}");
    let distinct: std::collections::HashSet<&String> = recovery.iter().collect();
    assert_eq!(distinct.len(), 10, "recovery codes are distinct");
    let me = get_as(&server, &ada.cookie, "/v1/auth/me").expect(200);
    assert_eq!(me["two_step"], true);
    // Recovery codes are stored hashed.
    for c in &recovery {
        inst.assert_not_on_disk(c, "recovery code");
    }

    // Without a code the sign-in fails exactly like a wrong password.
    let wrong_password =
        login(&server, &ada.email, "wrong horse battery staple", None).problem(401);
    let no_code = login(&server, &ada.email, &ada.password, None);
    assert!(
        set_cookies(&no_code).is_empty(),
        "no session without the code"
    );
    let no_code = no_code.problem(401);
    assert_eq!(no_code, wrong_password, "same answer for a missing code");
    let bad_code = login(&server, &ada.email, &ada.password, Some("123456")).problem(401);
    assert_eq!(bad_code, wrong_password, "same answer for a wrong code");
    // A right code with a wrong password is no better.
    let code = app.fresh(&server);
    assert_eq!(
        login(
            &server,
            &ada.email,
            "wrong horse battery staple",
            Some(&code)
        )
        .problem(401),
        wrong_password
    );

    // The current code signs in; the same code again is refused.
    let r = login(&server, &ada.email, &ada.password, Some(&code));
    r.expect(200);
    let with_code = session_cookie(&r);
    get_as(&server, &with_code, "/v1/auth/me").expect(200);
    let replay = login(&server, &ada.email, &ada.password, Some(&code)).problem(401);
    assert_eq!(
        replay, wrong_password,
        "a replayed code answers like any failure"
    );

    // A recovery code works once, never twice.
    let r = login(&server, &ada.email, &ada.password, Some(&recovery[3]));
    r.expect(200);
    let rescued = session_cookie(&r);
    assert_eq!(
        login(&server, &ada.email, &ada.password, Some(&recovery[3])).problem(401),
        wrong_password,
        "a recovery code is single-use"
    );
    login(&server, &ada.email, &ada.password, Some(&recovery[4])).expect(200);
    let events = security_events(&server, &rescued);
    assert!(
        events.iter().any(|e| e == "auth.recovery_code_used"),
        "{events:?}"
    );
    assert!(events.iter().any(|e| e == "auth.two_step_on"), "{events:?}");

    // Turning it off needs the password again, and a fresh code: not a used one, not a wrong
    // one, not a recovery code.
    let off = |code: &str| {
        post_as(
            &server,
            &with_code,
            "/v1/auth/totp/disable",
            &json!({"code": code, "password": ada.password}),
        )
    };
    off(&app.last_code()).problem(422);
    off("000000").problem(422);
    off(&recovery[5]).problem(422);
    // A right code is not enough without the password (and is not used up by the refusal).
    let code = app.fresh(&server);
    for body in [
        json!({"code": code}),
        json!({"code": code, "password": "wrong horse battery staple"}),
    ] {
        post_as(&server, &with_code, "/v1/auth/totp/disable", &body).problem(422);
        delete_as(&server, &with_code, "/v1/auth/totp", Some(&body)).problem(422);
    }
    assert_eq!(
        get_as(&server, &with_code, "/v1/auth/me").expect(200)["two_step"],
        true
    );
    let r = off(&code);
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(
        get_as(&server, &with_code, "/v1/auth/me").expect(200)["two_step"],
        false
    );
    login(&server, &ada.email, &ada.password, None).expect(200);
    let events = security_events(&server, &with_code);
    assert!(
        events.iter().any(|e| e == "auth.two_step_off"),
        "{events:?}"
    );
    // Turned on again with a new secret, the old recovery codes and app are dead.
    let (mut new_app, new_codes) = enable_totp(&server, &with_code, &ada.password);
    assert_ne!(new_app.secret, secret);
    assert!(new_codes.iter().all(|c| !recovery.contains(c)));
    login(&server, &ada.email, &ada.password, Some(&recovery[6])).problem(401);
    login(
        &server,
        &ada.email,
        &ada.password,
        Some(&new_app.fresh(&server)),
    )
    .expect(200);
}

#[test]
fn staff_can_do_nothing_until_two_step_verification_is_on() {
    if !have_oathtool("staff_can_do_nothing_until_two_step_verification_is_on") {
        return;
    }
    let inst = Instance::new();
    // Two-step codes follow the server's clock, moved instead of waited for; days from the
    // wall clock, so a code checked against the system clock would fail.
    inst.set_clock(&ago(5 * 86_400));
    let admin = inst.key("admin", &[]);
    let support_key = inst.key("support", &[]);
    let server = inst.serve();
    let home = server.home(&admin);
    let mail = email("Staff");

    // Only an admin key creates staff; the password policy holds for them too.
    let body = json!({"email": mail, "password": GOOD_PASSWORD, "role": "support"});
    server
        .post("/v1/staff", Some(&support_key.secret), &body)
        .problem(403);
    server.post("/v1/staff", None, &body).problem(401);
    server
        .post(
            "/v1/staff",
            Some(&admin.secret),
            &json!({"email": mail, "password": "password123", "role": "support"}),
        )
        .problem(422);
    let v = server
        .post("/v1/staff", Some(&admin.secret), &body)
        .expect(201);
    assert_eq!(v["role"], "support");
    server
        .post("/v1/staff", Some(&admin.secret), &body)
        .problem(409);

    let r = login(&server, &mail, GOOD_PASSWORD, None);
    r.expect(200);
    let staff = session_cookie(&r);
    let me = get_as(&server, &staff, "/v1/auth/me").expect(200);
    assert_eq!(me["kind"], "staff");
    assert_eq!(me["role"], "support");
    assert_eq!(me["two_step"], false);

    let consents = format!("/v1/subjects/{}/consents", home.member);
    let export = format!("/v1/subjects/{}/export", home.household);
    for path in [&consents, &export] {
        let p = get_as(&server, &staff, path).problem(403);
        assert!(
            p["detail"].as_str().unwrap().contains("two-step"),
            "says what to do: {p}"
        );
    }
    let p = call(
        &server,
        reqwest::Method::PUT,
        &format!("{consents}/{CONSENT_PURPOSE}"),
        Some(&staff),
        Some(&json!({"granted": true})),
        &[],
    )
    .problem(403);
    assert!(p["detail"].as_str().unwrap().contains("two-step"), "{p}");

    let (mut app, codes) = enable_totp(&server, &staff, GOOD_PASSWORD);
    assert_eq!(codes.len(), 10);
    // The same session can now act, with the support role.
    get_as(&server, &staff, &consents).expect(200);
    get_as(&server, &staff, &export).expect(200);
    // A staff sign-in now needs the code, and staff cannot turn two-step verification off.
    login(&server, &mail, GOOD_PASSWORD, None).problem(401);
    let r = login(&server, &mail, GOOD_PASSWORD, Some(&app.fresh(&server)));
    r.expect(200);
    let again = session_cookie(&r);
    get_as(&server, &again, &consents).expect(200);
    delete_as(
        &server,
        &again,
        "/v1/auth/totp",
        Some(&json!({"code": app.fresh(&server), "password": GOOD_PASSWORD})),
    )
    .problem(403);
    assert_eq!(
        get_as(&server, &again, "/v1/auth/me").expect(200)["two_step"],
        true
    );

    // Other staff roles, even with two-step verification on, may not act on subjects.
    let dpo_mail = email("Dpo");
    server
        .post(
            "/v1/staff",
            Some(&admin.secret),
            &json!({"email": dpo_mail, "password": GOOD_PASSWORD, "role": "dpo"}),
        )
        .expect(201);
    let r = login(&server, &dpo_mail, GOOD_PASSWORD, None);
    r.expect(200);
    let dpo = session_cookie(&r);
    enable_totp(&server, &dpo, GOOD_PASSWORD);
    get_as(&server, &dpo, &consents).problem(403);
}

#[test]
fn wrong_passwords_for_two_step_changes_are_throttled_like_sign_ins() {
    let inst = Instance::new();
    inst.set_clock(&ago(0));
    let server = inst.serve();
    let ada = owner(&server, "Reenter");
    // A stolen session guessing the password through two-step set-up (or a password change)
    // meets the same backoff as sign-in: a few free tries, then 429 with Retry-After.
    let mut statuses = Vec::new();
    let mut wait = None;
    for i in 0..8 {
        let r = post_as(
            &server,
            &ada.cookie,
            "/v1/auth/totp",
            &json!({"password": format!("guess number {i} of many")}),
        );
        statuses.push(r.status);
        if r.status == 429 {
            r.problem(429);
            wait.get_or_insert_with(|| r.header("retry-after").parse::<i64>().unwrap());
        } else {
            r.problem(422);
        }
    }
    println!("statuses of 8 wrong re-entered passwords: {statuses:?}");
    assert!(statuses.iter().take(5).all(|s| *s == 422), "{statuses:?}");
    let wait = wait.unwrap_or_else(|| panic!("no 429: {statuses:?}"));
    // While blocked even the right password waits, on the password change too.
    let right = json!({"password": ada.password});
    post_as(&server, &ada.cookie, "/v1/auth/totp", &right).problem(429);
    post_as(
        &server,
        &ada.cookie,
        "/v1/auth/password",
        &json!({"current": ada.password, "new": OTHER_PASSWORD}),
    )
    .problem(429);
    // Signing in is another matter: the re-entry count is the session's account's own.
    login(&server, &ada.email, &ada.password, None).expect(200);
    server.advance_clock(wait);
    post_as(&server, &ada.cookie, "/v1/auth/totp", &right).expect(200);
}
