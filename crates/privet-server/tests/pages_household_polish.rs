//! The household pages, polished (issue 15): objecting to a use on legitimate interests (My
//! data and set-up), recordings named and downloaded rather than shown as base64, whether a
//! field can be stopped said from its lawful basis, a consent already given shown as "On
//! since", "No release published yet", and a device reset's signed receipt.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod household_support;

use axum::http::StatusCode;
use base64::Engine as _;
use household_support::*;
use privet_policy::is_granted;
use privet_store::SubjectId;
use scraper::{Html, Selector};

/// A silent 8 kHz 16-bit mono WAV of `secs` seconds.
fn wav(secs: u32) -> Vec<u8> {
    let rate = 8000u32;
    let data = rate * 2 * secs;
    let mut b = Vec::new();
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&(36 + data).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&16u32.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&rate.to_le_bytes());
    b.extend_from_slice(&(rate * 2).to_le_bytes());
    b.extend_from_slice(&2u16.to_le_bytes());
    b.extend_from_slice(&16u16.to_le_bytes());
    b.extend_from_slice(b"data");
    b.extend_from_slice(&data.to_le_bytes());
    b.resize(b.len() + data as usize, 0);
    b
}

fn links(body: &str, text: &str) -> Vec<String> {
    let doc = Html::parse_document(body);
    let a = Selector::parse("a[href]").unwrap();
    doc.select(&a)
        .filter(|e| e.text().collect::<String>().trim() == text)
        .map(|e| e.value().attr("href").unwrap().replace("&amp;", "&"))
        .collect()
}

/// The audit entries about `subject` with `action`.
async fn audited(app: &App, subject: &SubjectId, action: &str) -> Vec<privet_policy::AuditEntry> {
    let s = app.state.store().subject(subject).await.unwrap();
    app.state
        .store()
        .audit_for(&s.pseudonym)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.entry.action == action)
        .collect()
}

fn usage(ts: &str, me: &SubjectId) -> serde_json::Value {
    serde_json::json!({"stream": "usage", "ts": ts, "member": me.as_str(),
        "data": {"feature": "timers", "used_at": ts, "reply_ms": 700}})
}

#[tokio::test]
async fn objecting_on_my_data_says_what_it_does_then_stops_the_use_and_deletes_its_data() {
    let app = app();
    let mut c = owner(&app, "object@example.com").await;
    let household = subject_of(&mut c, "hh").await;
    let me = subject_of(&mut c, "mb").await;
    let speaker = app.device(SPEAKER, &household).await;
    let ts = app.state.clock().now().to_string();
    let voice = serde_json::json!({"stream": "voice", "ts": ts, "member": me.as_str(),
        "data": {"transcript": "set a timer"}});
    let out = app
        .ingest(
            speaker.token.expose(),
            serde_json::json!([usage(&ts, &me), voice]),
        )
        .await;
    assert_eq!(out["accepted"], 2, "{out}");

    let page = c.get("/my-data").await;
    check_page("/my-data (speaker)", &page.body);
    assert!(
        page.body.contains("Yes: on unless you object"),
        "usage statistics"
    );
    assert!(
        !page.body.contains("needed for the device to work"),
        "legitimate interests are not called necessary"
    );
    let object = links(&page.body, "Object to this");
    assert_eq!(object.len(), 1, "one use to object to: {object:?}");
    assert!(
        object[0].contains("purpose=usage_statistics"),
        "{}",
        object[0]
    );

    // Before confirming, the page says what objecting does and what it deletes.
    let confirm = c.get(&object[0]).await;
    assert_eq!(confirm.status, StatusCode::OK, "{}", confirm.body);
    check_page("/my-data/object", &confirm.body);
    assert!(confirm.body.contains("What objecting does"));
    assert!(confirm.body.contains("stops at once"));
    assert!(
        confirm.body.contains("The feature you used"),
        "the fields deleted, in the maker's words"
    );
    assert!(
        !confirm.body.contains("The words of your request"),
        "the transcript stays: a contract keeps it"
    );
    assert!(confirm.body.contains("You cannot undo it on these pages"));
    assert!(confirm.body.contains("privacy@hearthaudio.example"));
    assert!(
        app.state
            .store()
            .objections(std::slice::from_ref(&me))
            .await
            .unwrap()
            .is_empty(),
        "nothing is recorded before confirming"
    );

    // A use the device needs cannot be objected to, and nothing is recorded.
    let csrf = confirm.hidden("csrf");
    let wrong = c
        .post(
            "/my-data/object",
            &[
                ("csrf", &csrf),
                ("subject", me.as_str()),
                ("product", SPEAKER),
                ("purpose", "answer_requests"),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);

    let done = c
        .post(
            "/my-data/object",
            &[
                ("csrf", &csrf),
                ("subject", me.as_str()),
                ("product", SPEAKER),
                ("purpose", "usage_statistics"),
            ],
        )
        .await;
    assert_eq!(
        done.location(),
        "/my-data?done=objected&n=3#permissions",
        "the three usage values held only for it: {}",
        done.body
    );
    let objections = app
        .state
        .store()
        .objections(std::slice::from_ref(&me))
        .await
        .unwrap();
    assert_eq!(objections.len(), 1);
    assert_eq!(objections[0].purpose, "usage_statistics");
    assert_eq!(objections[0].product.as_deref(), Some(SPEAKER));
    assert_eq!(audited(&app, &me, "subject.object").await.len(), 1);
    let purged = audited(&app, &me, "objection.purge").await;
    assert_eq!(purged.len(), 1);
    assert_eq!(purged[0].entry.detail["values"], 3);

    let page = c.get("/my-data?done=objected&n=3").await;
    check_page("/my-data (objected)", &page.body);
    assert!(page.body.contains("Your objection is recorded"));
    assert!(page.body.contains("You objected on 5 December 2026"));
    assert!(links(&page.body, "Object to this").is_empty());
    assert!(page.body.contains("set a timer"), "the transcript is kept");
    assert!(!page.body.contains("<td data-label=\"feature\">timers</td>"));

    // Collection stops: the next usage report is not stored.
    let later = app.state.clock().now().to_string();
    let out = app
        .ingest(
            speaker.token.expose(),
            serde_json::json!([usage(&later, &me)]),
        )
        .await;
    assert_eq!(out["accepted"], 0, "{out}");
}

#[tokio::test]
async fn set_up_shows_a_consent_already_given_as_on_since_and_offers_objecting_first() {
    let app = app();
    let mut c = owner(&app, "since@example.com").await;
    let household = subject_of(&mut c, "hh").await;
    let me = subject_of(&mut c, "mb").await;
    let csrf = c.csrf().await;
    let first = app.thermostat(None).await;
    let done = c
        .confirm_setup(&csrf, first.claim_code.expose(), &["energy_report"])
        .await;
    assert_eq!(done.location(), "/my-data?done=device");

    // A second thermostat: the energy report is already on, so it is not a ticked switch under
    // "off until you turn it on".
    let second = app.thermostat(None).await;
    let code = second.claim_code.expose().to_owned();
    let preview = c
        .post("/setup", &[("csrf", &csrf), ("claim_code", &code)])
        .await;
    check_page("/setup (second thermostat)", &preview.body);
    assert!(
        preview.body.contains("On since 5 December 2026"),
        "{}",
        preview.body
    );
    assert!(!preview.body.contains(" checked"), "no pre-ticked box");
    assert!(!preview.body.contains("value=\"energy_report\""));
    assert!(
        preview.body.contains("value=\"supplier_tariff\""),
        "what is off is still a switch"
    );
    // Confirming without touching anything leaves it on.
    c.confirm_setup(&csrf, &code, &[]).await;
    for id in [&household, &me] {
        let history = app.state.store().consents(id).await.unwrap();
        assert!(is_granted(&history, THERMOSTAT, "energy_report"));
    }

    // The speaker's usage statistics rest on legitimate interests: an objection, before the
    // use starts, with what it does said first.
    let speaker = devices_register_unclaimed(&app, SPEAKER).await;
    let preview = c
        .post("/setup", &[("csrf", &csrf), ("claim_code", &speaker)])
        .await;
    check_page("/setup (speaker)", &preview.body);
    assert!(preview.body.contains("On unless you object"));
    assert!(preview.body.contains("the use never starts"));
    assert!(
        preview
            .body
            .contains("name=\"object\" value=\"usage_statistics\"")
    );
    let done = c
        .post(
            "/setup/confirm",
            &[
                ("csrf", &csrf),
                ("claim_code", &speaker),
                ("object", "usage_statistics"),
            ],
        )
        .await;
    assert_eq!(done.location(), "/my-data?done=device", "{}", done.body);
    let objections = app
        .state
        .store()
        .objections(std::slice::from_ref(&me))
        .await
        .unwrap();
    assert_eq!(objections.len(), 1, "usage is about the member");
    assert_eq!(objections[0].purpose, "usage_statistics");
    assert_eq!(audited(&app, &me, "subject.object").await.len(), 1);
}

async fn devices_register_unclaimed(app: &App, product: &str) -> String {
    privet_server::service::devices::register(&app.state, product, None, None, "system")
        .await
        .unwrap()
        .claim_code
        .expose()
        .to_owned()
}

#[tokio::test]
async fn my_data_names_a_recording_and_downloads_it_decoded_never_as_base64() {
    let app = app();
    let mut c = owner(&app, "audio@example.com").await;
    let household = subject_of(&mut c, "hh").await;
    let me = subject_of(&mut c, "mb").await;
    let speaker = app.device(SPEAKER, &household).await;
    let clip = wav(3);
    let encoded = base64::engine::general_purpose::STANDARD.encode(&clip);
    let ts = app.state.clock().now().to_string();
    let out = app
        .ingest(
            speaker.token.expose(),
            serde_json::json!([{"stream": "voice", "ts": ts, "member": me.as_str(),
                "data": {"command_audio": encoded, "transcript": "what time is it"}}]),
        )
        .await;
    assert_eq!(out["accepted"], 1, "{out}");

    let page = c.get("/my-data").await;
    check_page("/my-data (recording)", &page.body);
    assert!(!page.body.contains(&encoded[..64]), "never the base64 text");
    let audio = links(&page.body, "audio clip, 3 s");
    assert_eq!(audio.len(), 1, "{}", page.body);
    assert!(audio[0].starts_with("/my-data/media?"), "{}", audio[0]);

    let file = c.get(&audio[0]).await;
    assert_eq!(file.status, StatusCode::OK, "{}", file.body);
    assert_eq!(file.bytes, clip, "the decoded recording");
    assert_eq!(file.headers["content-type"], "audio/x-wav");
    let disposition = file.headers["content-disposition"].to_str().unwrap();
    assert!(
        disposition.starts_with("attachment; filename=\"voice-command_audio-"),
        "{disposition}"
    );
    assert!(disposition.ends_with(".wav\""), "{disposition}");
    let downloads: Vec<_> = audited(&app, &me, "subject.view")
        .await
        .into_iter()
        .filter(|e| e.entry.detail["download"] == "command_audio")
        .collect();
    assert_eq!(downloads.len(), 1, "the download is in the access log");

    // Not a media field, or not this household's: nothing is served.
    let transcript = audio[0].replace("field=command_audio", "field=transcript");
    assert_eq!(c.get(&transcript).await.status, StatusCode::NOT_FOUND);
    let mut other = owner(&app, "other@example.com").await;
    let theirs = other.get(&audio[0]).await;
    assert!(
        matches!(theirs.status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
        "{}",
        theirs.status
    );
}

#[tokio::test]
async fn a_device_with_no_release_says_so_and_its_reset_shows_a_signed_receipt() {
    let app = app();
    let mut c = owner(&app, "release@example.com").await;
    let household = subject_of(&mut c, "hh").await;
    let reg = app.thermostat(Some(&household)).await;
    let device = app.state.store().device(&reg.id).await.unwrap();
    privet_server::service::devices::check_in(&app.state, &device, "2.4.1")
        .await
        .unwrap();
    let page = c.get("/household").await;
    check_page("/household", &page.body);
    assert!(
        page.body.contains("No release published yet"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("Up to date"));
    let security = c.get("/account/security").await;
    assert!(security.body.contains("No release published yet"));

    let csrf = c.csrf().await;
    let path = format!("/household/devices/{}/reset", reg.id);
    let done = c.post(&path, &[("csrf", &csrf), ("confirm", "yes")]).await;
    assert_eq!(done.status, StatusCode::OK);
    check_page("reset done (receipt)", &done.body);
    let jws = done.hidden("jws");
    assert!(done.body.contains(&jws), "shown on the page");
    let jwks: serde_json::Value =
        serde_json::from_str(&c.get("/.well-known/jwks.json").await.body).unwrap();
    let claims = privet_crypto::verify_jws_with_jwks(&jwks, &jws).unwrap();
    assert_eq!(claims["typ"], "privet-reset-receipt");
    assert_eq!(claims["device"], reg.id.as_str());
    assert!(claims["iat"].is_i64(), "{claims}");
    let file = c.post("/my-data/receipt.jws", &[("jws", &jws)]).await;
    assert_eq!(file.body, jws);
    let disposition = file.headers["content-disposition"].to_str().unwrap();
    assert!(disposition.starts_with("attachment; filename=\"privet-reset-receipt-rcpt"));
}

#[tokio::test]
async fn wide_tables_on_my_data_stack_on_a_phone_and_say_what_each_basis_means() {
    let app = app();
    let mut c = owner(&app, "tables@example.com").await;
    let household = subject_of(&mut c, "hh").await;
    let reg = app.thermostat(Some(&household)).await;
    let ts = app.state.clock().now().to_string();
    app.ingest(
        reg.token.expose(),
        serde_json::json!([{"stream": "climate", "ts": ts, "data": {"temperature_c": 20.0}}]),
    )
    .await;
    let page = c.get("/my-data").await;
    assert!(page.body.contains("Yes: off until you turn it on"));
    assert!(
        page.body
            .contains("No: we need it to provide the product you asked for")
    );
    assert!(page.body.contains("on unless you object"));
    let doc = Html::parse_document(&page.body);
    let tables = Selector::parse("table").unwrap();
    let cells = Selector::parse("td").unwrap();
    let mut n = 0;
    for t in doc.select(&tables) {
        assert_eq!(t.value().attr("class"), Some("stack"), "every table stacks");
        for td in t.select(&cells) {
            assert!(td.value().attr("data-label").is_some(), "{}", td.html());
            n += 1;
        }
    }
    assert!(n > 0);
    let product = c.get(&format!("/products/{SPEAKER}")).await;
    assert!(product.body.contains("Yes: on unless you object"));
}
