//! Helpers for the security end-to-end tests (`e2e_security_*.rs`), on top of the shared
//! harness in `support/`: sign-up and sign-in with the session cookie handled by hand (so a
//! revoked cookie can be replayed), invitations, and TOTP codes computed by an independent
//! implementation (`oathtool`).
//!
//! Each security test file includes it next to the harness:
//! `mod support; mod e2e_security_support;`.
#![allow(dead_code, unreachable_pub)]

use crate::support::{Resp, Server, marker};
use reqwest::Method;
use serde_json::{Value, json};
use std::process::Command;

/// A password that passes the policy (the example in the server's advice does not).
pub const GOOD_PASSWORD: &str = "violet harbour kettle ninety";
/// Another good password, for changes.
pub const OTHER_PASSWORD: &str = "granite meadow pickle saxophone";
/// The name of the session cookie.
pub const COOKIE: &str = "privet_session";
/// The name of the known-client cookie (OWASP's device cookie).
pub const CLIENT_COOKIE: &str = "privet_client";
/// A consent-based purpose every household and member can be asked about (thermostat).
pub const CONSENT_PURPOSE: &str = "energy_report";

/// A fresh, unique e-mail address.
pub fn email(tag: &str) -> String {
    format!("{}@example.com", marker(tag).to_lowercase())
}

/// Every `Set-Cookie` header of an answer.
pub fn set_cookies(r: &Resp) -> Vec<String> {
    r.headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(str::to_owned)
        .collect()
}

/// The `privet_session=…` pair the answer sets (panics if it sets none).
pub fn session_cookie(r: &Resp) -> String {
    set_cookies(r)
        .iter()
        .find(|c| c.starts_with(&format!("{COOKIE}=")))
        .and_then(|c| c.split(';').next())
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("no session cookie set; status {}: {}", r.status, r.body))
}

/// The `privet_client=…` pair the answer sets (panics if it sets none).
pub fn client_cookie(r: &Resp) -> String {
    set_cookies(r)
        .iter()
        .find(|c| c.starts_with(&format!("{CLIENT_COOKIE}=")))
        .and_then(|c| c.split(';').next())
        .map(str::to_owned)
        .unwrap_or_else(|| {
            panic!(
                "no known-client cookie set; status {}: {}",
                r.status, r.body
            )
        })
}

/// An HTTP client whose connections come from `127.0.0.<n>`: every address of 127.0.0.0/8 is
/// loopback, so one machine can play several clients the server tells apart by address.
pub fn from_address(n: u8) -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .no_proxy()
        .local_address(std::net::IpAddr::from([127, 0, 0, n]))
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .expect("http client")
}

/// `POST /v1/auth/login` through `client` (see [`from_address`]), with extra headers such as
/// a `cookie` or `privet-client`.
pub fn login_via(
    server: &Server,
    client: &reqwest::blocking::Client,
    email: &str,
    password: &str,
    headers: &[(&str, &str)],
) -> Resp {
    let mut r = client
        .post(server.url("/v1/auth/login"))
        .header("content-type", "application/json")
        .body(json!({"email": email, "password": password}).to_string());
    for (k, v) in headers {
        r = r.header(*k, *v);
    }
    server.send(r)
}

/// The token part of a `privet_session=…` pair.
pub fn token_of(cookie: &str) -> &str {
    cookie.split_once('=').map_or("", |(_, t)| t)
}

/// A request, optionally with a session cookie, a JSON body and extra headers.
pub fn call(
    server: &Server,
    method: Method,
    path: &str,
    cookie: Option<&str>,
    body: Option<&Value>,
    headers: &[(&str, &str)],
) -> Resp {
    let mut r = server.req(method, path, None);
    if let Some(c) = cookie {
        r = r.header("cookie", c);
    }
    if let Some(b) = body {
        r = r
            .header("content-type", "application/json")
            .body(b.to_string());
    }
    for (k, v) in headers {
        r = r.header(*k, *v);
    }
    server.send(r)
}

/// `GET path` with a session cookie.
pub fn get_as(server: &Server, cookie: &str, path: &str) -> Resp {
    call(server, Method::GET, path, Some(cookie), None, &[])
}

/// `POST path` with a session cookie and a JSON body.
pub fn post_as(server: &Server, cookie: &str, path: &str, body: &Value) -> Resp {
    call(server, Method::POST, path, Some(cookie), Some(body), &[])
}

/// `DELETE path` with a session cookie and an optional JSON body.
pub fn delete_as(server: &Server, cookie: &str, path: &str, body: Option<&Value>) -> Resp {
    call(server, Method::DELETE, path, Some(cookie), body, &[])
}

/// `POST /v1/auth/logout` with a session cookie and extra headers.
pub fn logout(server: &Server, cookie: &str, headers: &[(&str, &str)]) -> Resp {
    call(
        server,
        Method::POST,
        "/v1/auth/logout",
        Some(cookie),
        None,
        headers,
    )
}

/// A signed-in member (or staff) account.
#[derive(Clone, Debug)]
pub struct Person {
    /// `privet_session=…`.
    pub cookie: String,
    /// E-mail (normalised: lowercase).
    pub email: String,
    /// Password.
    pub password: String,
    /// Display name.
    pub name: String,
    /// Account id.
    pub account: String,
    /// Household id (members).
    pub household: String,
    /// Member id (members).
    pub member: String,
}

impl Person {
    fn from_answer(r: &Resp, email: &str, password: &str, name: &str) -> Person {
        let me = r.json();
        Person {
            cookie: session_cookie(r),
            email: email.to_owned(),
            password: password.to_owned(),
            name: name.to_owned(),
            account: me["account"].as_str().expect("account id").to_owned(),
            household: me["household"].as_str().unwrap_or("").to_owned(),
            member: me["member"].as_str().unwrap_or("").to_owned(),
        }
    }
}

/// `POST /v1/auth/signup`.
pub fn signup(server: &Server, email: &str, password: &str, household: &str, name: &str) -> Resp {
    server.post(
        "/v1/auth/signup",
        None,
        &json!({"email": email, "password": password, "household_name": household, "name": name}),
    )
}

/// Signs up a new owner with a unique e-mail, household name and name; must answer 201.
pub fn owner(server: &Server, tag: &str) -> Person {
    let email = email(tag);
    let name = marker(&format!("{tag}Owner"));
    let r = signup(
        server,
        &email,
        GOOD_PASSWORD,
        &marker(&format!("{tag}Household")),
        &name,
    );
    r.expect(201);
    Person::from_answer(&r, &email, GOOD_PASSWORD, &name)
}

/// `POST /v1/auth/login`.
pub fn login(server: &Server, email: &str, password: &str, totp: Option<&str>) -> Resp {
    let mut body = json!({"email": email, "password": password});
    if let Some(code) = totp {
        body["totp"] = json!(code);
    }
    server.post("/v1/auth/login", None, &body)
}

/// Signs in again (a second session); must answer 200. Returns the new cookie.
pub fn login_ok(server: &Server, person: &Person) -> String {
    let r = login(server, &person.email, &person.password, None);
    r.expect(200);
    session_cookie(&r)
}

/// The owner invites a member: (member id, invitation code if they may sign in).
pub fn invite(
    server: &Server,
    owner: &Person,
    name: &str,
    child: bool,
    can_sign_in: bool,
) -> (String, Option<String>) {
    let r = post_as(
        server,
        &owner.cookie,
        &format!("/v1/households/{}/invitations", owner.household),
        &json!({"name": name, "child": child, "can_sign_in": can_sign_in}),
    );
    let v = r.expect(201);
    (
        v["member"].as_str().expect("member id").to_owned(),
        v["invite_code"].as_str().map(str::to_owned),
    )
}

/// `POST /v1/auth/accept-invite`.
pub fn accept_invite(server: &Server, code: &str, email: &str, password: &str) -> Resp {
    server.post(
        "/v1/auth/accept-invite",
        None,
        &json!({"code": code, "email": email, "password": password}),
    )
}

/// The owner invites someone who accepts: the new member, signed in.
pub fn invited(server: &Server, owner: &Person, tag: &str, child: bool) -> Person {
    let name = marker(tag);
    let (member, code) = invite(server, owner, &name, child, true);
    let code = code.expect("an invitation code for someone who may sign in");
    let email = email(tag);
    let r = accept_invite(server, &code, &email, GOOD_PASSWORD);
    r.expect(201);
    let p = Person::from_answer(&r, &email, GOOD_PASSWORD, &name);
    assert_eq!(p.member, member, "the account is the invited member's");
    assert_eq!(p.household, owner.household);
    p
}

/// The security events (`GET /v1/auth/events`) of an account: their names.
pub fn security_events(server: &Server, cookie: &str) -> Vec<String> {
    get_as(server, cookie, "/v1/auth/events")
        .expect(200)
        .as_array()
        .expect("events array")
        .iter()
        .map(|e| e["event"].as_str().unwrap_or("").to_owned())
        .collect()
}

/// Whether `oathtool` is installed; prints a note (the caller then skips) when it is not, and
/// fails when `PRIVET_REQUIRE_TOOLS` is set.
pub fn have_oathtool(test: &str) -> bool {
    let ok = Command::new("oathtool")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    // CI installs oathtool and sets PRIVET_REQUIRE_TOOLS: there a missing one is a failure.
    assert!(
        ok || std::env::var_os("PRIVET_REQUIRE_TOOLS").is_none(),
        "{test}: `oathtool` is required here (apt install oathtool)"
    );
    if !ok {
        eprintln!("note: {test} skipped: `oathtool` is not installed (apt install oathtool)");
    }
    ok
}

/// TOTP (RFC 6238) step length.
const STEP: u64 = 30;

/// The code of time step `step` for a base32 `secret`, from `oathtool --totp -b`.
pub fn oathtool_code(secret: &str, step: u64) -> String {
    let out = Command::new("oathtool")
        .args(["--totp", "-b", secret, "-N", &format!("@{}", step * STEP)])
        .output()
        .expect("run oathtool");
    assert!(
        out.status.success(),
        "oathtool failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let code = String::from_utf8(out.stdout)
        .expect("utf-8")
        .trim()
        .to_owned();
    assert!(
        code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()),
        "{code:?}"
    );
    code
}

/// An authenticator app: hands out codes of strictly increasing time steps, each one the
/// server accepts now (it allows one step either side of its clock).
pub struct Authenticator {
    /// The base32 secret from `POST /v1/auth/totp`.
    pub secret: String,
    last: Option<u64>,
}

impl Authenticator {
    /// An app enrolled with `secret`.
    pub fn new(secret: &str) -> Authenticator {
        Authenticator {
            secret: secret.to_owned(),
            last: None,
        }
    }

    /// The code of the step the last [`Authenticator::fresh`] used (to try a replay).
    pub fn last_code(&self) -> String {
        oathtool_code(&self.secret, self.last.expect("a code was used"))
    }

    /// A code of a step after every step used so far, within the window of `server` (which
    /// runs on a manual clock: `Instance::set_clock`). The step before the current one is used
    /// only when the clock is not about to move past it.
    pub fn fresh(&mut self, server: &Server) -> String {
        loop {
            let now = server.clock_secs();
            let current = (now as u64) / STEP;
            let into = now - (current * STEP) as f64;
            let lowest = if into < (STEP as f64) - 3.0 {
                current - 1
            } else {
                current
            };
            let step = self.last.map_or(lowest, |l| (l + 1).max(lowest));
            if step <= current + 1 {
                self.last = Some(step);
                return oathtool_code(&self.secret, step);
            }
            // Every step the server would accept now has been used: move its clock on a step.
            server.advance_clock(i64::try_from(STEP).expect("step"));
        }
    }
}

/// `POST /v1/auth/totp/confirm` with a code from the app.
pub fn confirm_totp(server: &Server, cookie: &str, code: &str) -> Resp {
    post_as(
        server,
        cookie,
        "/v1/auth/totp/confirm",
        &json!({"code": code}),
    )
}

/// The recovery codes a confirmed enrolment answers with.
pub fn recovery_codes(confirmed: &Value) -> Vec<String> {
    confirmed["recovery_codes"]
        .as_array()
        .expect("recovery codes")
        .iter()
        .map(|c| c.as_str().expect("code").to_owned())
        .collect()
}

/// Enrols (with the account's `password`, entered again) and confirms TOTP for a signed-in
/// account: the app and the 10 recovery codes.
pub fn enable_totp(server: &Server, cookie: &str, password: &str) -> (Authenticator, Vec<String>) {
    let v = post_as(
        server,
        cookie,
        "/v1/auth/totp",
        &json!({"password": password}),
    )
    .expect(200);
    let secret = v["secret"].as_str().expect("secret").to_owned();
    let mut app = Authenticator::new(&secret);
    let code = app.fresh(server);
    let v = confirm_totp(server, cookie, &code).expect(200);
    (app, recovery_codes(&v))
}
