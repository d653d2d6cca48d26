//! End-to-end: the access matrix for `/v1/subjects/...` (in the style of lldap's tests). Two
//! households, each with an owner, an adult and a child who signed up by invitation; operator
//! keys of every role; a support staff account; and no credentials at all. Every caller ×
//! target × route answers the expected status, and no denial carries the target's data.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod e2e_security_support;
mod support;

use e2e_security_support::*;
use reqwest::Method;
use serde_json::{Value, json};
use std::fmt::Write as _;
use support::*;

/// One household of the matrix.
struct Home {
    owner: Person,
    adult: Person,
    child: Person,
    /// The household's display name (the owner signed up with it).
    name: String,
}

fn home(server: &Server, tag: &str) -> Home {
    let mail = email(&format!("{tag}Owner"));
    let name = marker(&format!("{tag}Home"));
    let owner_name = marker(&format!("{tag}OwnerName"));
    let r = signup(server, &mail, GOOD_PASSWORD, &name, &owner_name);
    r.expect(201);
    let me = r.json();
    let owner = Person {
        cookie: session_cookie(&r),
        email: mail,
        password: GOOD_PASSWORD.to_owned(),
        name: owner_name,
        account: me["account"].as_str().unwrap().to_owned(),
        household: me["household"].as_str().unwrap().to_owned(),
        member: me["member"].as_str().unwrap().to_owned(),
    };
    let adult = invited(server, &owner, &format!("{tag}Adult"), false);
    let child = invited(server, &owner, &format!("{tag}Child"), true);
    Home {
        owner,
        adult,
        child,
        name,
    }
}

/// Who calls.
#[derive(Clone, Debug)]
enum Who {
    /// A household member's session: (household index, role).
    Member(usize, Role),
    /// An operator API key of this role.
    Key(&'static str),
    /// A staff account's session (support role, two-step verification on).
    Staff,
    /// No credentials.
    Nobody,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Owner,
    Adult,
    Child,
}

/// What is targeted: (household index, `None` for the household itself or a member role).
type Target = (usize, Option<Role>);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Route {
    GetConsents,
    Export,
    PutConsent,
    Patch,
    Delete,
}

impl Route {
    fn manages(self) -> bool {
        matches!(self, Route::PutConsent | Route::Patch | Route::Delete)
    }
}

/// The expected status of `who` doing `route` to `target`.
fn expected(who: &Who, target: Target, route: Route) -> u16 {
    match who {
        Who::Nobody => 401,
        Who::Key("admin" | "support") | Who::Staff => ok(route),
        Who::Key(_) => 403,
        Who::Member(hh, role) => {
            let (t_hh, t_role) = target;
            if *hh != t_hh {
                return 404;
            }
            let allowed = match (t_role, route.manages()) {
                // The household's data: every member reads it; the owner manages it.
                (None, false) => true,
                (None, true) => *role == Role::Owner,
                // Own data: read always; manage unless a child.
                (Some(t), false) if t == *role => true,
                (Some(t), true) if t == *role => *role != Role::Child,
                // The owner reads and manages a child's data.
                (Some(Role::Child), _) => *role == Role::Owner,
                // Another (adult) member's data: never.
                (Some(_), _) => false,
            };
            if allowed { ok(route) } else { 403 }
        }
    }
}

fn ok(route: Route) -> u16 {
    match route {
        Route::Patch => 204,
        _ => 200,
    }
}

#[test]
fn every_caller_against_every_target_and_route_gets_exactly_its_due() {
    let inst = Instance::new();
    let keys = [
        ("admin", inst.key("admin", &[])),
        ("analyst", inst.key("analyst", &[CONSENT_PURPOSE])),
        ("support", inst.key("support", &[])),
        ("dpo", inst.key("dpo", &[])),
    ];
    // Two-step codes follow the server's clock; days from the wall clock, so a code checked
    // against the system clock would fail.
    inst.set_clock(&ago(5 * 86_400));
    let server = inst.serve();
    let homes = [home(&server, "A"), home(&server, "B")];
    // A thermostat in each home, so consents and exports have a product to speak of.
    for h in &homes {
        let r = server.post(
            "/v1/devices",
            Some(&keys[0].1.secret),
            &json!({"product": THERMOSTAT, "household": h.owner.household}),
        );
        r.expect(201);
    }
    let staff = if have_oathtool("the staff caller of the access matrix") {
        let mail = email("MatrixStaff");
        server
            .post(
                "/v1/staff",
                Some(&keys[0].1.secret),
                &json!({"email": mail, "password": GOOD_PASSWORD, "role": "support"}),
            )
            .expect(201);
        let r = login(&server, &mail, GOOD_PASSWORD, None);
        r.expect(200);
        let cookie = session_cookie(&r);
        enable_totp(&server, &cookie, GOOD_PASSWORD);
        Some(cookie)
    } else {
        None
    };

    let person = |hh: usize, role: Role| -> &Person {
        let h = &homes[hh];
        match role {
            Role::Owner => &h.owner,
            Role::Adult => &h.adult,
            Role::Child => &h.child,
        }
    };
    // (subject id, name only that subject's data holds)
    let subject = |t: Target| -> (String, String) {
        match t {
            (hh, None) => (homes[hh].owner.household.clone(), homes[hh].name.clone()),
            (hh, Some(role)) => {
                let p = person(hh, role);
                (p.member.clone(), p.name.clone())
            }
        }
    };

    let mut callers: Vec<Who> = Vec::new();
    for hh in 0..2 {
        for role in [Role::Owner, Role::Adult, Role::Child] {
            callers.push(Who::Member(hh, role));
        }
    }
    callers.extend(keys.iter().map(|(role, _)| Who::Key(role)));
    if staff.is_some() {
        callers.push(Who::Staff);
    }
    callers.push(Who::Nobody);
    let mut targets: Vec<Target> = Vec::new();
    for hh in 0..2 {
        targets.push((hh, None));
        for role in [Role::Owner, Role::Adult, Role::Child] {
            targets.push((hh, Some(role)));
        }
    }
    let routes = [
        Route::GetConsents,
        Route::Export,
        Route::PutConsent,
        Route::Patch,
        Route::Delete,
    ];

    let mut failures = String::new();
    let (mut checked, mut denials, mut skipped) = (0, 0, 0);
    for who in &callers {
        for &target in &targets {
            let (id, name) = subject(target);
            for &route in &routes {
                let want = expected(who, target, route);
                // Erasure that would succeed is tried on fresh subjects in the next test.
                if route == Route::Delete && want == 200 {
                    skipped += 1;
                    continue;
                }
                let (method, path, body) = match route {
                    Route::GetConsents => {
                        (Method::GET, format!("/v1/subjects/{id}/consents"), None)
                    }
                    Route::Export => (Method::GET, format!("/v1/subjects/{id}/export"), None),
                    Route::PutConsent => (
                        Method::PUT,
                        format!("/v1/subjects/{id}/consents/{CONSENT_PURPOSE}"),
                        Some(json!({"granted": true})),
                    ),
                    // The name is set to what it was, so later denials can still look for it.
                    Route::Patch => (
                        Method::PATCH,
                        format!("/v1/subjects/{id}"),
                        Some(json!({"name": name})),
                    ),
                    Route::Delete => (Method::DELETE, format!("/v1/subjects/{id}"), None),
                };
                let mut r = server.req(method.clone(), &path, None);
                match who {
                    Who::Member(hh, role) => r = r.header("cookie", &person(*hh, *role).cookie),
                    Who::Key(role) => {
                        let k = &keys.iter().find(|(r, _)| r == role).unwrap().1;
                        r = r.bearer_auth(&k.secret);
                    }
                    Who::Staff => r = r.header("cookie", staff.as_deref().unwrap()),
                    Who::Nobody => {}
                }
                if let Some(b) = &body {
                    r = r
                        .header("content-type", "application/json")
                        .body(b.to_string());
                }
                let resp = server.send(r);
                checked += 1;
                let cell = format!("{who:?} {method} {path} ({target:?}, {route:?})");
                if resp.status != want {
                    let _ = writeln!(
                        failures,
                        "{cell}: expected {want}, got {}: {}",
                        resp.status,
                        resp.body.chars().take(200).collect::<String>()
                    );
                    continue;
                }
                if want >= 400 {
                    denials += 1;
                    assert_problem_shape(&resp);
                    // No data of the target in a denial: not its name, nor any other member's.
                    for t in &targets {
                        let (_, n) = subject(*t);
                        if resp.body.contains(&n) {
                            let _ = writeln!(failures, "{cell}: denial names {n}: {}", resp.body);
                        }
                    }
                } else if route == Route::Export {
                    // An allowed export is of the target and holds its name.
                    assert!(resp.body.contains(&name), "{cell}: export lacks the name");
                }
            }
        }
    }
    println!(
        "access matrix: {checked} cells checked, {denials} denials, {skipped} allowed erasures left to the fresh-subject test"
    );
    assert!(failures.is_empty(), "access matrix mismatches:\n{failures}");
    assert!(denials > 200, "{denials}");

    // Exports carry only what the caller may see: an adult's household export has no other
    // member's name; the owner's household export includes the child, not the adult.
    let hh = &homes[0].owner.household;
    let adult_view = get_as(
        &server,
        &homes[0].adult.cookie,
        &format!("/v1/subjects/{hh}/export"),
    );
    let adult_view: Value = adult_view.expect(200);
    let text = adult_view.to_string();
    assert!(
        !text.contains(&homes[0].owner.name),
        "adult sees the owner's data"
    );
    assert!(
        !text.contains(&homes[0].child.name),
        "adult sees the child's data"
    );
    let owner_view = get_as(
        &server,
        &homes[0].owner.cookie,
        &format!("/v1/subjects/{hh}/export"),
    )
    .expect(200)
    .to_string();
    assert!(
        !owner_view.contains(&homes[0].adult.name),
        "owner sees the adult's data"
    );
}

#[test]
fn erasure_is_allowed_exactly_where_the_matrix_says_on_fresh_subjects() {
    let inst = Instance::new();
    let admin = inst.key("admin", &[]);
    let support_key = inst.key("support", &[]);
    let server = inst.serve();
    let h = home(&server, "Erase");
    let erase =
        |cookie: &str, id: &str| delete_as(&server, cookie, &format!("/v1/subjects/{id}"), None);

    // The owner erases a child; the child's session dies with the data.
    erase(&h.owner.cookie, &h.child.member).expect(200);
    get_as(
        &server,
        &h.owner.cookie,
        &format!("/v1/subjects/{}/consents", h.child.member),
    )
    .problem(404);
    // An adult erases themself.
    erase(&h.adult.cookie, &h.adult.member).expect(200);
    get_as(&server, &h.owner.cookie, "/v1/auth/me").expect(200);
    // Operator keys of the support and admin roles erase anyone's.
    let (m1, _) = invite(&server, &h.owner, &marker("Lodger"), false, true);
    let (m2, _) = invite(&server, &h.owner, &marker("Guest"), true, false);
    server
        .send(server.req(
            Method::DELETE,
            &format!("/v1/subjects/{m1}"),
            Some(&support_key.secret),
        ))
        .expect(200);
    server
        .send(server.req(
            Method::DELETE,
            &format!("/v1/subjects/{m2}"),
            Some(&admin.secret),
        ))
        .expect(200);
    // The owner erases the whole household.
    erase(&h.owner.cookie, &h.owner.household).expect(200);
}

#[test]
fn a_child_signs_in_only_while_the_owner_allows_it_and_only_owners_invite() {
    let inst = Instance::new();
    let server = inst.serve();
    let a = home(&server, "Kids");
    let b = owner(&server, "Neighbour");
    let sign_in = |cookie: &str, hh: &str, member: &str, allowed: bool| {
        call(
            &server,
            Method::PUT,
            &format!("/v1/households/{hh}/members/{member}/sign-in"),
            Some(cookie),
            Some(&json!({"allowed": allowed})),
            &[],
        )
    };
    // Only the owner decides, and only for their own household's children.
    sign_in(&a.adult.cookie, &a.owner.household, &a.child.member, false).problem(403);
    sign_in(&a.child.cookie, &a.owner.household, &a.child.member, false).problem(403);
    sign_in(&b.cookie, &a.owner.household, &a.child.member, false).problem(404);
    sign_in(&b.cookie, &b.household, &a.child.member, false).problem(404);
    sign_in(&a.owner.cookie, &a.owner.household, &a.adult.member, false).problem(404);
    get_as(&server, &a.child.cookie, "/v1/auth/me").expect(200);

    let r = sign_in(&a.owner.cookie, &a.owner.household, &a.child.member, false);
    assert_eq!(r.status, 204, "{}", r.body);
    get_as(&server, &a.child.cookie, "/v1/auth/me").problem(401);
    let refused = login(&server, &a.child.email, GOOD_PASSWORD, None).problem(401);
    let wrong = login(&server, &a.adult.email, "not the password at all", None).problem(401);
    assert_eq!(
        refused, wrong,
        "a child who may not sign in is told nothing more"
    );
    let r = sign_in(&a.owner.cookie, &a.owner.household, &a.child.member, true);
    assert_eq!(r.status, 204, "{}", r.body);
    login(&server, &a.child.email, GOOD_PASSWORD, None).expect(200);

    // Only owners invite, and only into their own household.
    let body = json!({"name": "Cousin", "child": false, "can_sign_in": true});
    post_as(
        &server,
        &a.adult.cookie,
        &format!("/v1/households/{}/invitations", a.owner.household),
        &body,
    )
    .problem(403);
    post_as(
        &server,
        &b.cookie,
        &format!("/v1/households/{}/invitations", a.owner.household),
        &body,
    )
    .problem(404);
    // An invitation is single-use, and a wrong code answers the same.
    let (_, code) = invite(&server, &a.owner, &marker("Lodger"), false, true);
    let code = code.unwrap();
    accept_invite(&server, &code, &email("Lodger"), GOOD_PASSWORD).expect(201);
    let used = accept_invite(&server, &code, &email("Lodger2"), GOOD_PASSWORD).problem(404);
    let wrong = accept_invite(&server, "pvi_wrong", &email("Lodger3"), GOOD_PASSWORD).problem(404);
    assert_eq!(used["detail"], wrong["detail"]);
}
