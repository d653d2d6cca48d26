//! End-to-end: sign-up, the session cookie, the password policy, and server-side session
//! revocation (logout, password change, sign out everywhere), and the CSRF check on
//! cookie-authenticated changes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod e2e_security_support;
mod support;

use e2e_security_support::*;
use reqwest::Method;
use serde_json::json;
use support::*;

#[test]
fn signup_sets_an_http_only_lax_cookie_and_me_names_account_household_and_member() {
    let inst = Instance::new();
    let server = inst.serve();
    let mail = email("Signup");
    let household = marker("Household");
    let r = signup(
        &server,
        &mail.to_uppercase(),
        GOOD_PASSWORD,
        &household,
        "Ada",
    );
    let created = r.expect(201);
    let cookies = set_cookies(&r);
    assert_eq!(
        cookies.len(),
        2,
        "session and known-client cookies: {cookies:?}"
    );
    let known = client_cookie(&r);
    assert!(
        !known.contains(&mail) && !known.contains(&mail.to_uppercase()),
        "the known-client cookie names no e-mail: {known}"
    );
    let c = cookies
        .iter()
        .find(|c| c.starts_with("privet_session="))
        .unwrap();
    assert!(c.starts_with("privet_session=pvs"), "{c}");
    let attrs: Vec<String> = c
        .split(';')
        .skip(1)
        .map(|a| a.trim().to_lowercase())
        .collect();
    assert!(attrs.iter().any(|a| a == "httponly"), "HttpOnly: {c}");
    assert!(
        attrs.iter().any(|a| a == "samesite=lax"),
        "SameSite=Lax: {c}"
    );
    assert!(attrs.iter().any(|a| a == "path=/"), "Path=/: {c}");
    assert!(
        !attrs.iter().any(|a| a == "secure"),
        "no Secure on plain HTTP on loopback: {c}"
    );
    let cookie = session_cookie(&r);

    let me = get_as(&server, &cookie, "/v1/auth/me").expect(200);
    assert_eq!(me, created, "sign-up answers with what /me says");
    assert_eq!(me["kind"], "member");
    assert_eq!(me["email"], mail, "e-mail normalised to lowercase");
    assert_eq!(me["owner"], true);
    assert_eq!(me["two_step"], false);
    for k in ["account", "household", "member"] {
        assert!(me[k].as_str().is_some_and(|s| !s.is_empty()), "{k}: {me}");
    }
    assert_ne!(me["household"], me["member"]);
    // The household and member exist as subjects this session may read.
    let hh = me["household"].as_str().unwrap();
    let member = me["member"].as_str().unwrap();
    get_as(&server, &cookie, &format!("/v1/subjects/{hh}/consents")).expect(200);
    get_as(&server, &cookie, &format!("/v1/subjects/{member}/consents")).expect(200);

    // Without the cookie, or with a forged one: 401.
    server.get("/v1/auth/me", None).problem(401);
    get_as(&server, "privet_session=pvs_forged", "/v1/auth/me").problem(401);
    // The same e-mail cannot sign up twice.
    signup(&server, &mail, OTHER_PASSWORD, "Another home", "Bea").problem(409);
    // The sign-in is an event the holder sees.
    let events = security_events(&server, &cookie);
    assert!(events.iter().any(|e| e == "auth.signup"), "{events:?}");
    assert!(events.iter().any(|e| e == "auth.login"), "{events:?}");
}

#[test]
fn weak_passwords_are_refused_with_a_422_that_says_why_and_good_ones_pass() {
    let inst = Instance::new();
    let server = inst.serve();
    let mail = "marigold.fenwick@example.com";
    let long_ok: String = {
        let words = [
            "violet",
            "harbour",
            "kettle",
            "ninety",
            "granite",
            "meadow",
            "pickle",
            "saxophone",
        ];
        let mut s = String::new();
        let mut i = 0;
        while s.chars().count() < 256 {
            if !s.is_empty() {
                s.push(' ');
            }
            s.push_str(words[i % words.len()]);
            i += 1;
        }
        s.chars().take(256).collect()
    };
    assert_eq!(long_ok.chars().count(), 256);
    let too_long = format!("{long_ok}x");
    // (password, words the detail must contain)
    let refused: &[(&str, &[&str])] = &[
        ("violet ha", &["short", "10"]),
        ("password123", &["breach"]),
        ("iloveyou123", &["breach"]),
        ("MarigoldFenwick kettle", &["e-mail"]),
        ("copper lantern tuesday orbit", &["example"]),
        (&too_long, &["long", "256"]),
    ];
    for (password, why) in refused {
        let r = signup(&server, mail, password, "Fenwick home", "Marigold");
        let p = r.problem(422);
        let detail = p["detail"].as_str().unwrap().to_lowercase();
        for w in *why {
            assert!(
                detail.contains(w),
                "refusal of {password:?} should say `{w}`: {detail}"
            );
        }
        assert!(
            !detail.contains(&password.to_lowercase()) || password.contains("copper"),
            "the detail repeats the password: {detail}"
        );
        assert!(
            set_cookies(&r).is_empty(),
            "no session for a refused sign-up"
        );
    }
    // The short and breached refusals say how to choose better.
    let p = signup(&server, mail, "password123", "Fenwick home", "Marigold").problem(422);
    assert!(
        p["detail"].as_str().unwrap().contains("random words"),
        "{p}"
    );

    // Exactly 256 characters is allowed; so is a non-ASCII passphrase with spaces, which then
    // signs in byte for byte.
    signup(
        &server,
        "long.words@example.com",
        &long_ok,
        "Long home",
        "Lou",
    )
    .expect(201);
    login(&server, "long.words@example.com", &long_ok, None).expect(200);
    let unicode = "ночной чайник шепчет ёлке ☕ über Brücke";
    signup(
        &server,
        "nadia.k@example.com",
        unicode,
        "Nadia's flat",
        "Nadia",
    )
    .expect(201);
    login(&server, "nadia.k@example.com", unicode, None).expect(200);
    login(&server, "nadia.k@example.com", "ночной чайник", None).problem(401);
    // None of the refused passwords made an account.
    login(&server, mail, "password123", None).problem(401);
}

#[test]
fn logout_revokes_the_session_on_the_server_so_a_replayed_cookie_is_refused() {
    let inst = Instance::new();
    let server = inst.serve();
    let ada = owner(&server, "Logout");
    let second = login_ok(&server, &ada);
    get_as(&server, &ada.cookie, "/v1/auth/me").expect(200);

    let r = logout(&server, &ada.cookie, &[]);
    assert_eq!(r.status, 204, "{}", r.body);
    let cleared = set_cookies(&r);
    assert!(
        cleared
            .iter()
            .any(|c| c.starts_with("privet_session=;") && c.contains("Max-Age=0")),
        "logout clears the cookie: {cleared:?}"
    );
    // The browser would drop it; an attacker who copied it replays it: refused.
    get_as(&server, &ada.cookie, "/v1/auth/me").problem(401);
    get_as(
        &server,
        &ada.cookie,
        &format!("/v1/subjects/{}/export", ada.member),
    )
    .problem(401);
    logout(&server, &ada.cookie, &[]).problem(401);
    // The other session is untouched.
    get_as(&server, &second, "/v1/auth/me").expect(200);
    let sessions = get_as(&server, &second, "/v1/auth/sessions").expect(200);
    assert_eq!(sessions.as_array().unwrap().len(), 1, "{sessions}");
    // The session token is stored only hashed.
    inst.assert_not_on_disk(token_of(&second), "session token");
}

#[test]
fn a_password_change_signs_out_the_other_sessions_but_not_this_one() {
    let inst = Instance::new();
    let server = inst.serve();
    let ada = owner(&server, "Change");
    let laptop = login_ok(&server, &ada);
    let phone = login_ok(&server, &ada);

    // The current password must be right, and the new one must pass the policy.
    post_as(
        &server,
        &laptop,
        "/v1/auth/password",
        &json!({"current": "not my password at all", "new": OTHER_PASSWORD}),
    )
    .problem(422);
    post_as(
        &server,
        &laptop,
        "/v1/auth/password",
        &json!({"current": GOOD_PASSWORD, "new": "password123"}),
    )
    .problem(422);
    for c in [&ada.cookie, &laptop, &phone] {
        get_as(&server, c, "/v1/auth/me").expect(200);
    }

    let v = post_as(
        &server,
        &laptop,
        "/v1/auth/password",
        &json!({"current": GOOD_PASSWORD, "new": OTHER_PASSWORD}),
    )
    .expect(200);
    assert_eq!(v["other_sessions_signed_out"], 2, "{v}");
    get_as(&server, &laptop, "/v1/auth/me").expect(200);
    get_as(&server, &ada.cookie, "/v1/auth/me").problem(401);
    get_as(&server, &phone, "/v1/auth/me").problem(401);
    login(&server, &ada.email, GOOD_PASSWORD, None).problem(401);
    login(&server, &ada.email, OTHER_PASSWORD, None).expect(200);
    let events = security_events(&server, &laptop);
    assert!(
        events.iter().any(|e| e == "auth.password_changed"),
        "{events:?}"
    );
}

#[test]
fn signing_out_everywhere_else_keeps_only_the_current_session() {
    let inst = Instance::new();
    let server = inst.serve();
    let ada = owner(&server, "Everywhere");
    let others = [login_ok(&server, &ada), login_ok(&server, &ada)];
    let list = get_as(&server, &ada.cookie, "/v1/auth/sessions").expect(200);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 3, "{list:?}");
    assert_eq!(
        list.iter().filter(|s| s["current"] == true).count(),
        1,
        "{list:?}"
    );

    // One session signed out by id.
    let victim = get_as(&server, &others[0], "/v1/auth/sessions").expect(200);
    let victim_id = victim
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == true)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Someone else's session id is not found from another account, and stays signed in.
    let bob = owner(&server, "EverywhereBob");
    delete_as(
        &server,
        &bob.cookie,
        &format!("/v1/auth/sessions/{victim_id}"),
        None,
    )
    .problem(404);
    get_as(&server, &others[0], "/v1/auth/me").expect(200);
    let r = delete_as(
        &server,
        &ada.cookie,
        &format!("/v1/auth/sessions/{victim_id}"),
        None,
    );
    assert_eq!(r.status, 204, "{}", r.body);
    get_as(&server, &others[0], "/v1/auth/me").problem(401);
    get_as(&server, &others[1], "/v1/auth/me").expect(200);

    let v = delete_as(&server, &ada.cookie, "/v1/auth/sessions", None).expect(200);
    assert_eq!(v["signed_out"], 1, "{v}");
    get_as(&server, &others[1], "/v1/auth/me").problem(401);
    get_as(&server, &ada.cookie, "/v1/auth/me").expect(200);
    let list = get_as(&server, &ada.cookie, "/v1/auth/sessions").expect(200);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["current"], true);
}

#[test]
fn cross_site_changes_with_the_cookie_are_forbidden_and_same_origin_ones_work() {
    let inst = Instance::new();
    let server = inst.serve();
    let ada = owner(&server, "Csrf");
    let other = login_ok(&server, &ada);
    let consent = format!("/v1/subjects/{}/consents/{CONSENT_PURPOSE}", ada.member);
    let grant = json!({"granted": true});
    let evil_origin: &[(&str, &str)] = &[("origin", "https://evil.example")];
    let null_origin: &[(&str, &str)] = &[("origin", "null")];
    let cross_fetch: &[(&str, &str)] = &[("sec-fetch-site", "cross-site")];
    let same_site_fetch: &[(&str, &str)] = &[("sec-fetch-site", "same-site")];
    let member_path = format!("/v1/subjects/{}", ada.member);
    let household_path = format!("/v1/subjects/{}", ada.household);
    let rename = json!({"name": "Mallory"});
    let attempts = [
        (Method::PUT, consent.as_str(), Some(&grant)),
        (Method::PATCH, member_path.as_str(), Some(&rename)),
        (Method::POST, "/v1/auth/logout", None),
        (Method::POST, "/v1/auth/totp", None),
        (Method::DELETE, "/v1/auth/sessions", None),
        (Method::DELETE, household_path.as_str(), None),
    ];
    for headers in [evil_origin, null_origin, cross_fetch, same_site_fetch] {
        for (method, path, body) in &attempts {
            let r = call(
                &server,
                method.clone(),
                path,
                Some(&ada.cookie),
                *body,
                headers,
            );
            let p = r.problem(403);
            assert!(
                p["detail"].as_str().unwrap().contains("cross-site"),
                "{method} {path} {headers:?}: {p}"
            );
        }
    }
    // Nothing happened: both sessions live, no consent recorded, the name unchanged.
    get_as(&server, &other, "/v1/auth/me").expect(200);
    let consents = get_as(
        &server,
        &ada.cookie,
        &format!("/v1/subjects/{}/consents", ada.member),
    )
    .expect(200);
    assert_eq!(consents["history"], json!([]), "{consents}");
    let me = get_as(&server, &ada.cookie, "/v1/auth/me").expect(200);
    assert_eq!(me["two_step"], false);
    // Reads are not changes: a cross-site GET is answered.
    call(
        &server,
        Method::GET,
        "/v1/auth/me",
        Some(&ada.cookie),
        None,
        evil_origin,
    )
    .expect(200);

    // The same change from the server's own origin (as its pages make it) works.
    let own_origin = [
        ("origin", server.base.as_str()),
        ("sec-fetch-site", "same-origin"),
    ];
    let v = call(
        &server,
        Method::PUT,
        &consent,
        Some(&ada.cookie),
        Some(&grant),
        &own_origin,
    )
    .expect(200);
    assert_eq!(v["granted"], true, "{v}");
    let r = call(
        &server,
        Method::DELETE,
        "/v1/auth/sessions",
        Some(&ada.cookie),
        None,
        &own_origin,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    get_as(&server, &other, "/v1/auth/me").problem(401);
}

#[test]
fn sign_ups_from_one_address_are_throttled_taken_or_not() {
    let inst = Instance::new();
    inst.set_clock(&ago(0));
    let server = inst.serve();
    let taken = owner(&server, "Taken");
    let from = from_address(30);
    let signup_from = |client: &reqwest::blocking::Client, mail: &str| {
        server.send(
            client
                .post(server.url("/v1/auth/signup"))
                .header("content-type", "application/json")
                .body(
                    json!({"email": mail, "password": GOOD_PASSWORD,
                        "household_name": "Probe home", "name": "Probe"})
                    .to_string(),
                ),
        )
    };
    // Someone tries e-mails one after another (taken ones answer 409: sign-up signs the new
    // account in at once, so it cannot answer alike), with a new account now and then.
    let mut statuses = Vec::new();
    let mut wait = None;
    for i in 0..14 {
        let mail = if i % 3 == 2 {
            email(&format!("Fresh{i}"))
        } else {
            taken.email.clone()
        };
        let r = signup_from(&from, &mail);
        statuses.push(r.status);
        if r.status == 429 {
            let p = r.problem(429);
            assert!(!p.to_string().contains(&taken.email), "{p}");
            wait.get_or_insert_with(|| r.header("retry-after").parse::<i64>().unwrap());
        }
    }
    println!("statuses of 14 sign-ups from one address: {statuses:?}");
    assert!(
        statuses.iter().take(10).all(|s| *s == 409 || *s == 201),
        "10 sign-ups an hour are free: {statuses:?}"
    );
    assert!(statuses[10..].iter().all(|s| *s == 429), "{statuses:?}");
    let wait = wait.unwrap();
    assert!((1..=4).contains(&wait), "{wait}");
    // Other addresses are not slowed; this one may try again once the wait is over.
    signup_from(&from_address(31), &email("Neighbour")).expect(201);
    server.advance_clock(wait);
    signup_from(&from, &taken.email).problem(409);
    signup_from(&from, &taken.email).problem(429);
}

#[test]
fn every_e_mail_that_enters_is_checked_by_the_one_validator() {
    let inst = Instance::new();
    let admin = inst.key("admin", &[]);
    let server = inst.serve();
    let household = server.household(&admin, "Checked home");
    let ada = owner(&server, "Validator");
    let members = format!("/v1/households/{household}/members");
    let rectify = format!("/v1/subjects/{}", ada.member);
    // Each way an e-mail enters: sign-up, staff accounts, an operator's new member, and a
    // member correcting their own profile. Sign-up's validator is every one's.
    // `mail(i)` is the address entered the i-th way (accounts need one each).
    let enter = |mail: &dyn Fn(usize) -> String| -> [u16; 4] {
        [
            signup(&server, &mail(0), GOOD_PASSWORD, "Checked home", "Checker").status,
            server
                .post(
                    "/v1/staff",
                    Some(&admin.secret),
                    &json!({"email": mail(1), "password": GOOD_PASSWORD, "role": "analyst"}),
                )
                .status,
            server
                .post(
                    &members,
                    Some(&admin.secret),
                    &json!({"name": "Checked member", "email": mail(2)}),
                )
                .status,
            call(
                &server,
                Method::PATCH,
                &rectify,
                Some(&ada.cookie),
                Some(&json!({"email": mail(3)})),
                &[],
            )
            .status,
        ]
    };
    let long_local = format!("{}@example.org", "l".repeat(65));
    // `İ` lowercases to more bytes: fine as given, too long as a sign-in name.
    let growing = format!("ada@{}.org", "İ".repeat(120));
    for bad in [
        "not-an-email",
        "ada@example",
        "ada@example..org",
        "@example.org",
        "ada smith@example.org",
        "ada@@example.org",
        long_local.as_str(),
        growing.as_str(),
    ] {
        assert_eq!(enter(&|_| bad.to_owned()), [422; 4], "{bad:?}");
    }
    for good in ["Ada.Lovelace+home@Example.co.uk", "b@example.org"] {
        let tag = marker("V").to_lowercase();
        let mail = |i: usize| good.replace('@', &format!("{i}{tag}@"));
        assert_eq!(enter(&mail), [201, 201, 201, 204], "{good:?}");
    }
}
