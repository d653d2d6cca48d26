//! The household pages' journeys through the real router: set up a device and choose what
//! it may collect, see the records and withdraw, two-step verification, invite a member,
//! reset a device, delete data and download the signed receipt.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod household_support;

use axum::http::StatusCode;
use household_support::*;
use privet_crypto::{TotpSecret, current_totp_code};
use privet_policy::is_granted;

#[tokio::test]
async fn device_set_up_shows_what_it_collects_before_claiming_and_saves_each_choice() {
    let app = app();
    let mut c = owner(&app, "setup@example.com").await;
    let household = subject_of(&mut c, "hh").await;
    let reg = app.thermostat(None).await;
    let code = reg.claim_code.expose().to_owned();
    let csrf = c.csrf().await;

    let wrong = c
        .post("/setup", &[("csrf", &csrf), ("claim_code", "pvc_wrong")])
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        wrong
            .body
            .contains("aria-describedby=\"claim_code-hint claim_code-error\"")
    );

    let preview = c
        .post("/setup", &[("csrf", &csrf), ("claim_code", &code)])
        .await;
    assert_eq!(preview.status, StatusCode::OK);
    check_page("/setup (preview)", &preview.body);
    assert_eq!(
        headings(&preview.body)[0],
        "Before you set up Wren Smart Thermostat 2"
    );
    assert!(
        preview
            .body
            .contains("Send you a monthly report of your energy use")
    );
    assert!(
        !preview.body.contains(" checked"),
        "optional purposes start off"
    );
    assert_eq!(
        app.device_count(&household).await,
        0,
        "nothing is attached before confirming"
    );

    let done = c.confirm_setup(&csrf, &code, &["energy_report"]).await;
    assert_eq!(done.location(), "/my-data?done=device", "{}", done.body);
    assert_eq!(app.device_count(&household).await, 1);
    let history = app.state.store().consents(&household).await.unwrap();
    assert!(is_granted(&history, THERMOSTAT, "energy_report"));
    assert!(!is_granted(&history, THERMOSTAT, "supplier_tariff"));
    assert!(history.iter().all(|r| r.consent.channel == "web"));
    assert!(
        history
            .iter()
            .any(|r| r.consent.purpose == "supplier_tariff" && !r.consent.granted),
        "the choice to leave it off is on record too"
    );

    let page = c.get("/my-data").await;
    check_page("/my-data with a device", &page.body);
    assert!(page.body.contains("Wren Smart Thermostat 2"));
    assert!(page.body.contains("Choices for the household"));

    // Switch everything off for the household: the withdrawal is recorded.
    let saved = c
        .post(
            "/my-data/permissions",
            &[("csrf", &csrf), ("subject", household.as_str())],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    assert!(saved.location().starts_with("/my-data?done=permissions"));
    let history = app.state.store().consents(&household).await.unwrap();
    assert!(!is_granted(&history, THERMOSTAT, "energy_report"));
    let again = c.confirm_setup(&csrf, &code, &[]).await;
    assert_eq!(
        again.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a claim code works once"
    );
}

#[tokio::test]
async fn two_step_set_up_shows_the_qr_code_the_secret_then_ten_recovery_codes() {
    let app = app();
    let mut c = owner(&app, "totp@example.com").await;
    let csrf = c.csrf().await;
    // The password again first: a stolen session alone cannot enrol its own authenticator.
    let none = c.post("/account/two-step", &[("csrf", &csrf)]).await;
    assert_eq!(none.status, StatusCode::UNPROCESSABLE_ENTITY);
    check_page("/account/two-step (no password)", &none.body);
    assert!(none.body.contains("Enter your password"), "{}", none.body);
    let wrong = c
        .post(
            "/account/two-step",
            &[("csrf", &csrf), ("totp_password", "not my password at all")],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        wrong.body.contains("password is not right"),
        "{}",
        wrong.body
    );
    let setup = c
        .post(
            "/account/two-step",
            &[("csrf", &csrf), ("totp_password", PASSWORD)],
        )
        .await;
    assert_eq!(setup.status, StatusCode::OK);
    check_page("/account/two-step", &setup.body);
    assert!(setup.body.contains("<svg"), "the QR code");
    let html = setup.html();
    let secret: String = html
        .select(&scraper::Selector::parse("#totp-secret").unwrap())
        .next()
        .unwrap()
        .text()
        .collect::<String>()
        .split_whitespace()
        .collect();
    let wrong = c
        .post(
            "/account/two-step/confirm",
            &[("csrf", &csrf), ("code", "000000")],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    check_page("/account/two-step/confirm (wrong)", &wrong.body);

    let secret = TotpSecret::from_base32(&secret).unwrap();
    let now = app.state.clock().unix_secs();
    let code = current_totp_code(&secret, now);
    let codes = c
        .post(
            "/account/two-step/confirm",
            &[("csrf", &csrf), ("code", &code)],
        )
        .await;
    assert_eq!(codes.status, StatusCode::OK, "{}", codes.body);
    check_page("/account/two-step/confirm", &codes.body);
    assert_eq!(headings(&codes.body)[0], "Save your recovery codes");
    assert_eq!(
        codes
            .html()
            .select(&scraper::Selector::parse(".codes li").unwrap())
            .count(),
        10
    );
    let security = c.get("/account/security").await;
    assert!(security.body.contains("10 recovery codes left"));
    check_page("/account/security (two-step on)", &security.body);

    // Turning it off needs the password again too, and a fresh code.
    app.state
        .clock()
        .advance(jiff::SignedDuration::from_secs(30));
    let code = current_totp_code(&secret, app.state.clock().unix_secs());
    let wrong = c
        .post(
            "/account/two-step/off",
            &[
                ("csrf", &csrf),
                ("totp_password", "not my password at all"),
                ("off_code", &code),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    check_page("/account/two-step/off (wrong password)", &wrong.body);
    assert!(
        wrong.body.contains("password is not right"),
        "{}",
        wrong.body
    );
    let off = c
        .post(
            "/account/two-step/off",
            &[
                ("csrf", &csrf),
                ("totp_password", PASSWORD),
                ("off_code", &code),
            ],
        )
        .await;
    assert_eq!(off.status, StatusCode::SEE_OTHER, "{}", off.body);
    assert_eq!(off.location(), "/account/security?done=two-step-off");
}

#[tokio::test]
async fn an_invited_member_joins_and_a_reset_device_gets_a_new_claim_code() {
    let app = app();
    let mut c = owner(&app, "owner@example.com").await;
    let csrf = c.csrf().await;
    let invite = c
        .post(
            "/household/invite",
            &[("csrf", &csrf), ("invite_name", "Sam")],
        )
        .await;
    assert_eq!(invite.status, StatusCode::OK);
    check_page("/household/invite", &invite.body);
    let start = invite.body.find("/invite/pvi").unwrap();
    let link: String = invite.body[start..]
        .chars()
        .take_while(|c| *c != '"')
        .collect();

    let mut sam = Client::new(&app);
    let wrong = sam
        .post(
            "/invite/pvi_wrong",
            &[
                ("email", "sam@example.com"),
                ("password", "river candle mossy teapot"),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.body.contains("wrong, already used or expired"));
    let joined = sam
        .post(
            &link,
            &[
                ("email", "sam@example.com"),
                ("password", "river candle mossy teapot"),
            ],
        )
        .await;
    assert_eq!(joined.location(), "/my-data?done=joined", "{}", joined.body);
    let page = sam.get("/my-data").await;
    assert!(page.body.contains("The Testers"));
    check_page("/my-data (member)", &page.body);
    assert_eq!(sam.get("/household").await.status, StatusCode::FORBIDDEN);

    let household = subject_of(&mut c, "hh").await;
    let reg = app.thermostat(Some(&household)).await;
    let path = format!("/household/devices/{}/reset", reg.id);
    check_page(&path, &c.get(&path).await.body);
    let unticked = c.post(&path, &[("csrf", &csrf)]).await;
    assert_eq!(unticked.status, StatusCode::UNPROCESSABLE_ENTITY);
    let done = c.post(&path, &[("csrf", &csrf), ("confirm", "yes")]).await;
    assert_eq!(done.status, StatusCode::OK);
    check_page("reset done", &done.body);
    assert!(done.body.contains("pvc_"), "the next owner's claim code");
    assert_eq!(app.device_count(&household).await, 0);
    let other = c.get(&path).await;
    assert_eq!(
        other.status,
        StatusCode::NOT_FOUND,
        "no longer this household's"
    );
}

#[tokio::test]
async fn deleting_my_data_needs_confirming_then_shows_a_signed_receipt() {
    let app = app();
    let mut c = owner(&app, "erase@example.com").await;
    let household = subject_of(&mut c, "hh").await;
    let confirm = c.get(&format!("/my-data/delete?subject={household}")).await;
    assert_eq!(confirm.status, StatusCode::OK);
    check_page("/my-data/delete (household)", &confirm.body);
    assert!(confirm.body.contains("This cannot be undone."));
    let csrf = confirm.hidden("csrf");
    let wrong = c
        .post(
            "/my-data/delete",
            &[
                ("csrf", &csrf),
                ("subject", household.as_str()),
                ("confirm_name", "Nope"),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    check_page("/my-data/delete (unconfirmed)", &wrong.body);

    let receipt = c
        .post(
            "/my-data/delete",
            &[
                ("csrf", &csrf),
                ("subject", household.as_str()),
                ("confirm_name", "The Testers"),
            ],
        )
        .await;
    assert_eq!(receipt.status, StatusCode::OK, "{}", receipt.body);
    check_page("/my-data/delete (receipt)", &receipt.body);
    assert!(c.cookie.is_none(), "the account went with the household");
    let jws = receipt.hidden("jws");
    assert_eq!(jws.split('.').count(), 3, "a compact JWS");
    assert!(receipt.body.contains(&jws), "shown on the page");

    let file = c.post("/my-data/receipt.jws", &[("jws", &jws)]).await;
    assert_eq!(file.status, StatusCode::OK);
    assert_eq!(file.body, jws);
    let disposition = file
        .headers
        .get("content-disposition")
        .unwrap()
        .to_str()
        .unwrap();
    assert!(disposition.starts_with("attachment; filename=\"privet-erasure-receipt-rcpt"));
    let forged = c
        .post("/my-data/receipt.jws", &[("jws", &format!("{jws}x"))])
        .await;
    assert_eq!(forged.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        c.get("/my-data").await.status,
        StatusCode::SEE_OTHER,
        "signed out"
    );
}

#[tokio::test]
async fn my_data_shows_recent_records_and_a_withdrawal_purges_at_once() {
    let app = app();
    let mut c = owner(&app, "records@example.com").await;
    let me = subject_of(&mut c, "mb").await;
    let reg = app.thermostat(None).await;
    let code = reg.claim_code.expose().to_owned();
    let csrf = c.csrf().await;
    let done = c.confirm_setup(&csrf, &code, &["energy_report"]).await;
    assert_eq!(done.location(), "/my-data?done=device");

    let ts = app.state.clock().now().to_string();
    let events = serde_json::json!([
        {"stream": "climate", "ts": ts, "data": {"temperature_c": 21.3, "humidity_pct": 45}},
        {"stream": "presence", "ts": ts, "member": me.as_str(), "data": {"home": true}},
    ]);
    let req = axum::http::Request::post("/v1/ingest")
        .header("authorization", format!("Bearer {}", reg.token.expose()))
        .header("content-type", "application/json")
        .body(axum::body::Body::from(events.to_string()))
        .unwrap();
    let resp = tower::ServiceExt::oneshot(app.router.clone(), req)
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);

    let page = c.get("/my-data").await;
    check_page("/my-data with records", &page.body);
    assert!(page.body.contains("Most recent records about you"));
    assert!(
        page.body
            .contains("<td data-label=\"temperature_c\">21.5</td>"),
        "decrypted, as stored (rounded)"
    );
    assert!(
        page.body.contains("Looked at the data on the My data page"),
        "the view is logged"
    );

    // Switch off everything optional for me: presence was kept only for the energy report.
    let saved = c
        .post(
            "/my-data/permissions",
            &[("csrf", &csrf), ("subject", me.as_str())],
        )
        .await;
    assert_eq!(
        saved.location(),
        "/my-data?done=permissions&n=1#permissions"
    );
    let page = c.get("/my-data?done=permissions&n=1").await;
    assert!(
        page.body
            .contains("1 stored value held only for it was deleted")
    );
    assert!(
        page.body
            .contains("No records about you from this device yet")
    );
}
