//! Accounts on a manual clock: a two-step code is accepted once even when concurrent sign-ins
//! race with it; sessions end when idle and at their absolute expiry; the sign-in backoff
//! ends when its time has passed — all by moving the clock, never by sleeping.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use axum::http::{HeaderMap, header};
use jiff::SignedDuration;
use privet_crypto::{Secret, TotpSecret, current_totp_code};
use privet_server::service::error::ServiceError;
use privet_server::service::sign_in::{self, Attempt};
use privet_server::service::{accounts, known_clients, two_step};
use privet_server::session::{self, SignedIn};
use privet_server::{AppState, Config};
use tempfile::TempDir;

const PASSWORD: &str = "copper kettle orbit meadow 7";

fn app() -> (AppState, TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let clock = common::clock();
    let products = common::example_products(&clock);
    let state = AppState::new(
        Config::default(),
        common::parts(dir.path(), products, clock),
    );
    (state, dir)
}

/// Signs in (with a two-step `code` when it is on) and starts a session; returns its token.
async fn session_token(state: &AppState, email: &str, code: Option<&str>) -> Secret {
    let account = sign_in::login(state, email, PASSWORD.to_owned(), code, Attempt::default())
        .await
        .unwrap();
    accounts::start_session(state, &account, "test")
        .await
        .unwrap()
}

async fn signed_in(state: &AppState, email: &str, code: Option<&str>) -> SignedIn {
    let token = session_token(state, email, code).await;
    from_cookie(state, token.expose()).await.unwrap()
}

async fn from_cookie(state: &AppState, token: &str) -> Option<SignedIn> {
    let mut headers = HeaderMap::new();
    let cookie = format!("{}={token}", session::COOKIE);
    headers.insert(header::COOKIE, cookie.parse().unwrap());
    session::from_headers(state, &headers).await.unwrap()
}

/// An owner with two-step verification on; returns the app's secret.
async fn owner_with_two_step(state: &AppState, email: &str) -> TotpSecret {
    accounts::signup(
        state,
        email,
        PASSWORD.to_owned(),
        "Quill House",
        Some("Ash"),
        None,
    )
    .await
    .unwrap();
    let signed = signed_in(state, email, None).await;
    let enrolment = two_step::begin(state, &signed, Some(PASSWORD.to_owned()))
        .await
        .unwrap();
    let secret = TotpSecret::from_base32(enrolment.secret.expose()).unwrap();
    let code = current_totp_code(&secret, state.clock().unix_secs());
    let signed = signed_in(state, email, None).await;
    two_step::confirm(state, &signed, &code).await.unwrap();
    secret
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_sign_ins_with_one_code_let_exactly_one_in() {
    let (state, _dir) = app();
    let email = "racer@home.example";
    let secret = owner_with_two_step(&state, email).await;
    // The next step's code: the confirming one was used up by enrolment.
    state.clock().advance(SignedDuration::from_secs(30));
    let code = current_totp_code(&secret, state.clock().unix_secs());
    // Five at once: four failures stay under the backoff's free tries, so the replay below
    // fails for being a replay, not for the backoff.
    let attempts = (0..5).map(|_| {
        let state = state.clone();
        let code = code.clone();
        tokio::spawn(async move {
            sign_in::login(
                &state,
                email,
                PASSWORD.to_owned(),
                Some(&code),
                Attempt::default(),
            )
            .await
        })
    });
    let mut ok = 0;
    for a in futures::future::join_all(attempts).await {
        match a.unwrap() {
            Ok(_) => ok += 1,
            Err(ServiceError::SignInFailed) => {}
            Err(e) => panic!("unexpected error: {e}"),
        }
    }
    assert_eq!(ok, 1, "a two-step code signs in exactly once");
    // The replay afterwards fails too, and the next step's code works.
    assert!(matches!(
        sign_in::login(
            &state,
            email,
            PASSWORD.to_owned(),
            Some(&code),
            Attempt::default()
        )
        .await,
        Err(ServiceError::SignInFailed)
    ));
    state.clock().advance(SignedDuration::from_secs(30));
    let next = current_totp_code(&secret, state.clock().unix_secs());
    sign_in::login(
        &state,
        email,
        PASSWORD.to_owned(),
        Some(&next),
        Attempt::default(),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn a_session_ends_after_a_day_idle_and_after_thirty_days_whatever_its_use() {
    let (state, _dir) = app();
    let email = "sleeper@home.example";
    accounts::signup(
        &state,
        email,
        PASSWORD.to_owned(),
        "Dormouse Cottage",
        None,
        None,
    )
    .await
    .unwrap();
    let token = session_token(&state, email, None).await;
    let clock = state.clock();
    clock.advance(SignedDuration::from_hours(23));
    assert!(
        from_cookie(&state, token.expose()).await.is_some(),
        "23 h idle"
    );
    // Used every 23 hours, it lasts until the absolute expiry.
    for _ in 0..30 {
        clock.advance(SignedDuration::from_hours(23));
        if from_cookie(&state, token.expose()).await.is_none() {
            break;
        }
    }
    let lived = clock.now().duration_since(common::START.parse().unwrap());
    assert!(
        lived > SignedDuration::from_hours(29 * 24) && lived <= SignedDuration::from_hours(31 * 24),
        "ended after {lived:#}"
    );

    let token = session_token(&state, email, None).await;
    clock.advance(SignedDuration::from_hours(24));
    assert!(
        from_cookie(&state, token.expose()).await.is_none(),
        "a day idle signs out"
    );
}

#[tokio::test]
async fn the_sign_in_backoff_ends_when_its_time_has_passed() {
    let (state, _dir) = app();
    let email = "typo@home.example";
    accounts::signup(
        &state,
        email,
        PASSWORD.to_owned(),
        "Fumble Hall",
        None,
        None,
    )
    .await
    .unwrap();
    let mut retry_after = None;
    for i in 0..6 {
        match sign_in::login(
            &state,
            email,
            format!("wrong guess {i}"),
            None,
            Attempt::default(),
        )
        .await
        {
            Err(ServiceError::SignInFailed) => {}
            Err(ServiceError::RateLimited { retry_after: s }) => {
                retry_after = Some(s);
                break;
            }
            other => panic!("unexpected: {:?}", other.map(|a| a.id)),
        }
    }
    let _ = sign_in::login(&state, email, "sixth".to_owned(), None, Attempt::default()).await;
    let wait =
        match sign_in::login(&state, email, PASSWORD.to_owned(), None, Attempt::default()).await {
            Err(ServiceError::RateLimited { retry_after }) => retry_after,
            other => panic!("expected a 429 while blocked: {:?}", other.map(|a| a.id)),
        };
    assert!(retry_after.is_none_or(|r| r <= wait));
    state
        .clock()
        .advance(SignedDuration::from_secs(i64::try_from(wait).unwrap()));
    sign_in::login(&state, email, PASSWORD.to_owned(), None, Attempt::default())
        .await
        .unwrap();
}

#[tokio::test]
async fn a_known_client_gets_in_while_the_account_is_locked_until_the_password_changes() {
    let (state, _dir) = app();
    let email = "kept@home.example";
    let account = accounts::signup(&state, email, PASSWORD.to_owned(), "Keep", None, None)
        .await
        .unwrap();
    let token = known_clients::issue(&state, &account);
    let known = Attempt {
        ip: None,
        known_client: Some(token.expose()),
    };
    for i in 0..5 {
        let r = sign_in::login(
            &state,
            email,
            format!("wrong {i}"),
            None,
            Attempt::default(),
        )
        .await;
        assert!(matches!(r, Err(ServiceError::SignInFailed)));
    }
    let locked = sign_in::login(&state, email, PASSWORD.to_owned(), None, Attempt::default());
    assert!(matches!(
        locked.await,
        Err(ServiceError::RateLimited { .. })
    ));
    // The known client is not kept out; another account's token, or a forged one, is unknown.
    let signed = sign_in::login(&state, email, PASSWORD.to_owned(), None, known)
        .await
        .unwrap();
    let other = accounts::signup(
        &state,
        "other@home.example",
        PASSWORD.to_owned(),
        "Elsewhere",
        None,
        None,
    )
    .await
    .unwrap();
    let others = known_clients::issue(&state, &other);
    let forged = format!("{}0", token.expose().trim_end_matches(|c: char| c != '.'));
    for t in [others.expose(), forged.as_str()] {
        let from = Attempt {
            ip: None,
            known_client: Some(t),
        };
        assert!(matches!(
            sign_in::login(&state, email, PASSWORD.to_owned(), None, from).await,
            Err(ServiceError::RateLimited { .. })
        ));
    }

    // A password change (a moment later) retires the tokens issued before it.
    state.clock().advance(SignedDuration::from_secs(1));
    let session = accounts::start_session(&state, &signed, "test")
        .await
        .unwrap();
    let signed = from_cookie(&state, session.expose()).await.unwrap();
    let new = "granite meadow pickle saxophone".to_owned();
    let changed = accounts::change_password(&state, &signed, PASSWORD.to_owned(), new.clone())
        .await
        .unwrap();
    let stored = state.store().account(&changed.account.id).await.unwrap();
    assert!(known_clients::verify(&state, token.expose(), &stored).is_none());
    let renewed = known_clients::issue(&state, &changed.account);
    assert!(known_clients::verify(&state, renewed.expose(), &stored).is_some());
    let from = Attempt {
        ip: None,
        known_client: Some(renewed.expose()),
    };
    sign_in::login(&state, email, new, None, from)
        .await
        .unwrap();
}
