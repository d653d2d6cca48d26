//! The household pages through the real router: every page renders accessible HTML, forms
//! need the session's CSRF token, and the main journeys work end to end (sign up, set up a
//! device, see and change permissions, two-step verification, invite, reset, delete).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod household_support;

use axum::http::StatusCode;
use household_support::*;

#[tokio::test]
async fn public_pages_render_accessible_html() {
    let app = app();
    let mut c = Client::new(&app);
    let mut paths: Vec<String> = ["/", "/signup", "/login", "/products", "/invite/pvi_unknown"]
        .map(String::from)
        .to_vec();
    for m in app.state.products().iter() {
        paths.push(format!("/products/{}", m.product.id.as_str()));
    }
    paths.push(format!(
        "/products/compare?ids={THERMOSTAT}&ids=larder-fridge-5"
    ));
    paths.push("/products/compare".to_owned());
    for p in &paths {
        let a = c.get(p).await;
        assert_eq!(a.status, StatusCode::OK, "{p}");
        check_page(p, &a.body);
    }
    let start = c.get("/").await;
    assert!(headings(&start.body).contains(&"What Privet does for you".to_owned()));
    let compare = c
        .get(&format!(
            "/products/compare?ids={THERMOSTAT}&ids=larder-fridge-5"
        ))
        .await;
    assert!(
        compare
            .body
            .contains("Privacy and security labels side by side")
    );
    let product = c.get(&format!("/products/{THERMOSTAT}")).await;
    assert_eq!(
        headings(&product.body)[0],
        "Wren Smart Thermostat 2",
        "the notice's heading"
    );
    assert!(product.body.contains("Why this grade"));
    assert_eq!(c.get("/products/nope").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn signed_out_visitors_are_sent_to_sign_in_and_back() {
    let app = app();
    let mut c = Client::new(&app);
    let a = c.get("/my-data").await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert_eq!(a.location(), "/login?next=/my-data");
}

#[tokio::test]
async fn sign_up_then_sign_in_shows_the_household() {
    let app = app();
    let mut c = Client::new(&app);
    let a = c.sign_up("alex@example.com", "The Testers").await;
    assert_eq!(a.location(), "/my-data?done=signup");
    let page = c.get(a.location()).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("The Testers"), "the household's name");
    assert!(page.body.contains("Your account and household are ready"));
    check_page("/my-data", &page.body);

    let csrf = page.hidden("csrf");
    let out = c.post("/logout", &[("csrf", &csrf)]).await;
    assert_eq!(out.location(), "/?done=signed-out");
    assert!(c.cookie.is_none(), "the cookie is cleared");

    let bad = c
        .post(
            "/login",
            &[
                ("email", "alex@example.com"),
                ("password", "wrong password here"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
    let unknown = c
        .post(
            "/login",
            &[("email", "nobody@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    let message = "The e-mail, password or two-step code is not right.";
    assert!(bad.body.contains(message) && unknown.body.contains(message));
    assert!(
        !bad.body.contains("wrong password here"),
        "passwords are never echoed"
    );

    let ok = c
        .post(
            "/login",
            &[
                ("email", "alex@example.com"),
                ("password", PASSWORD),
                ("next", "/household"),
            ],
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    assert_eq!(ok.location(), "/household");
    for p in [
        "/my-data",
        "/account/security",
        "/household",
        "/setup",
        "/my-data/delete",
        "/",
    ] {
        let a = c.get(p).await;
        assert_eq!(a.status, StatusCode::OK, "{p}");
        check_page(p, &a.body);
    }
}

#[tokio::test]
async fn posts_without_the_csrf_token_are_refused() {
    let app = app();
    let mut c = owner(&app, "csrf@example.com").await;
    for path in [
        "/logout",
        "/account/sessions/sign-out-others",
        "/account/two-step",
        "/household/invite",
        "/my-data/permissions",
        "/setup",
    ] {
        let none = c.post(path, &[]).await;
        assert_eq!(none.status, StatusCode::FORBIDDEN, "{path} without a token");
        let wrong = c.post(path, &[("csrf", "0000")]).await;
        assert_eq!(
            wrong.status,
            StatusCode::FORBIDDEN,
            "{path} with a wrong token"
        );
        check_page(path, &wrong.body);
    }
    assert!(c.cookie.is_some(), "still signed in");
    assert_eq!(c.get("/my-data").await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_password_change_shows_the_policys_message() {
    let app = app();
    let mut c = owner(&app, "pw@example.com").await;
    let csrf = c.csrf().await;
    let weak = c
        .post(
            "/account/password",
            &[("csrf", &csrf), ("current", PASSWORD), ("new", "password1")],
        )
        .await;
    assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(weak.body.contains("id=\"new-error\""));
    assert!(!weak.body.contains("password1"), "never echoed back");
    let ok = c
        .post(
            "/account/password",
            &[
                ("csrf", &csrf),
                ("current", PASSWORD),
                ("new", "marble otter kettle horizon"),
            ],
        )
        .await;
    assert_eq!(ok.location(), "/account/security?done=password&n=0");
}

/// The `privet_client=…` pair an answer sets, if any.
fn known_client_cookie(a: &Answer) -> Option<String> {
    a.headers
        .get_all(axum::http::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("privet_client="))
        .and_then(|c| c.split(';').next())
        .map(str::to_owned)
}

#[tokio::test]
async fn a_browser_that_signed_in_before_gets_in_while_the_account_is_locked_for_others() {
    let app = app();
    let mut owner = Client::new(&app);
    let signed_up = owner.sign_up("kept-out@example.com", "The Keeps").await;
    let known = known_client_cookie(&signed_up).expect("sign-up remembers the browser");
    let form = |password: &'static str| [("email", "kept-out@example.com"), ("password", password)];

    // Someone else fails until the account is locked for browsers it does not know.
    let mut stranger = Client::new(&app);
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(
            stranger
                .post("/login", &form("not the password"))
                .await
                .status,
        );
    }
    assert_eq!(
        statuses.last(),
        Some(&StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    let locked = stranger.post("/login", &form(PASSWORD)).await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(locked.body.contains("Too many sign-in attempts"));
    check_page("/login (locked)", &locked.body);

    // The owner's browser, which signed in here before, is not kept out.
    let mut browser = Client::new(&app);
    browser.cookie = Some(known.clone());
    let back = browser.post("/login", &form(PASSWORD)).await;
    assert_eq!(back.status, StatusCode::SEE_OTHER, "{}", back.body);
    assert_eq!(back.location(), "/my-data");
    let renewed = known_client_cookie(&back).expect("a sign-in renews the token");
    assert_ne!(renewed, known);
    assert_eq!(browser.get("/my-data").await.status, StatusCode::OK);
}
