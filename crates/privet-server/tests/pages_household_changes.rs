//! The household pages after a material manifest change: My data says what changed, shows an
//! "I agree to the new version" switch that is off until turned on, keeps the old consent
//! when the form is saved without it, and records the new version when it is turned on —
//! while ingest keeps the new field out until then and stores it after. A change to a use on
//! legitimate interests is told with an offer to object; one to a contract use, told only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod household_support;

use household_support::*;
use jiff::SignedDuration;
use privet_server::service::blocks::Scan;
use privet_server::service::publish::{self, Publication};
use privet_store::{BlockQuery, SubjectId};
use scraper::{ElementRef, Html, Selector};
use serde_json::{Value, json};

/// The thermostat example as shipped: 2.4, or 2.5 (examples/versions) with a new
/// `presence.room` field for the consent-based energy report.
fn thermostat(with_room: bool) -> String {
    let path = if with_room {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../examples/versions/thermostat-2.5.toml"
        )
    } else {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../examples/manifests/thermostat.toml"
        )
    };
    std::fs::read_to_string(path).unwrap()
}

/// A presence event about `member`, `mins_ago` minutes before the clock's now.
fn presence(app: &App, member: &SubjectId, mins_ago: i64, data: Value) -> Value {
    let ts = app.state.clock().now() - SignedDuration::from_mins(mins_ago);
    json!({"stream": "presence", "ts": ts.to_string(), "member": member.as_str(), "data": data})
}

/// Every presence record stored, as the store holds it (decrypted), oldest first.
async fn stored_presence(app: &App) -> Vec<Value> {
    let query = BlockQuery {
        streams: vec!["presence".to_owned()],
        ..Default::default()
    };
    let mut scan = Scan::start(&app.state, query).await.unwrap();
    let mut events = Vec::new();
    while let Some((_, opened)) = scan.next().await.unwrap() {
        events.extend(opened.events().unwrap());
    }
    events.sort_by_key(|e| e.ts);
    events.into_iter().map(|e| Value::Object(e.data)).collect()
}

#[tokio::test]
async fn my_data_shows_what_changed_and_agreeing_records_the_new_version() {
    let app = app();
    let first = publish::publish(&app.state, &thermostat(false), "system")
        .await
        .unwrap();
    assert!(matches!(first, Publication::New(_)));
    let mut c = owner(&app, "changes@example.com").await;
    let me = subject_of(&mut c, "mb").await;
    let reg = app.thermostat(None).await;
    let code = reg.claim_code.expose().to_owned();
    let csrf = c.csrf().await;
    let done = c.confirm_setup(&csrf, &code, &["energy_report"]).await;
    assert_eq!(done.location(), "/my-data?done=device");
    let page = c.get("/my-data").await;
    assert!(!page.body.contains("What changed"), "nothing changed yet");
    let token = reg.token.expose().to_owned();
    let out = app
        .ingest(
            &token,
            json!([presence(&app, &me, 3, json!({"home": true}))]),
        )
        .await;
    assert_eq!(out["accepted"], 1, "{out}");
    assert_eq!(stored_presence(&app).await, [json!({"home": true})]);

    let second = publish::publish(&app.state, &thermostat(true), "system")
        .await
        .unwrap();
    assert!(matches!(second, Publication::New(_)));
    let page = c.get("/my-data").await;
    check_page("/my-data with a change", &page.body);
    assert!(page.body.contains("What changed"), "{}", page.body);
    assert!(page.body.contains("Version 2.5:"), "{}", page.body);
    let agree = page
        .body
        .find("name=\"agree\" value=\"wren-thermostat-2/energy_report@2.5\"")
        .expect("an agree switch for the changed purpose");
    let tag_end = agree + page.body[agree..].find('>').unwrap();
    assert!(
        !page.body[agree..tag_end].contains("checked"),
        "the new switch is off until turned on"
    );

    // Until they agree, 2.5's new field is dropped and what 2.4 covered keeps flowing.
    let out = app
        .ingest(
            &token,
            json!([presence(
                &app,
                &me,
                2,
                json!({"home": false, "room": "kitchen"})
            )]),
        )
        .await;
    assert_eq!(out["accepted"], 1, "{out}");
    assert_eq!(out["dropped"]["reconsent"], 1, "{out}");
    assert_eq!(
        stored_presence(&app).await,
        [json!({"home": true}), json!({"home": false})]
    );

    let history = |app: &App| {
        let store = app.state.store().clone();
        let me = me.clone();
        async move { store.consents(&me).await.unwrap() }
    };
    let before = history(&app).await.len();
    // Saving with the purpose still on but without agreeing keeps the old consent as it is.
    let saved = c
        .post(
            "/my-data/permissions",
            &[
                ("csrf", &csrf),
                ("subject", me.as_str()),
                ("on", "wren-thermostat-2/energy_report"),
            ],
        )
        .await;
    assert!(saved.location().starts_with("/my-data?done=permissions"));
    assert_eq!(history(&app).await.len(), before, "no decision was made");
    assert!(c.get("/my-data").await.body.contains("What changed"));

    // Agreeing to a version other than the current one agrees to nothing.
    c.post(
        "/my-data/permissions",
        &[
            ("csrf", &csrf),
            ("subject", me.as_str()),
            ("on", "wren-thermostat-2/energy_report"),
            ("agree", "wren-thermostat-2/energy_report@2.4"),
        ],
    )
    .await;
    assert_eq!(history(&app).await.len(), before, "no decision was made");

    // Agreeing to the version shown, with the use on, renews the consent under it.
    let saved = c
        .post(
            "/my-data/permissions",
            &[
                ("csrf", &csrf),
                ("subject", me.as_str()),
                ("on", "wren-thermostat-2/energy_report"),
                ("agree", "wren-thermostat-2/energy_report@2.5"),
            ],
        )
        .await;
    assert!(saved.location().starts_with("/my-data?done=permissions"));
    let records = history(&app).await;
    assert_eq!(records.len(), before + 1);
    let last = &records.last().unwrap().consent;
    assert!(last.granted);
    assert_eq!(last.product.as_deref(), Some("wren-thermostat-2"));
    assert_eq!(last.manifest_version, "wren-thermostat-2@2.5");
    assert!(!c.get("/my-data").await.body.contains("What changed"));

    // From then on the new field is stored too.
    let out = app
        .ingest(
            &token,
            json!([presence(
                &app,
                &me,
                1,
                json!({"home": true, "room": "hall"})
            )]),
        )
        .await;
    assert_eq!(out["accepted"], 1, "{out}");
    assert_eq!(out["dropped"]["reconsent"], 0, "{out}");
    assert_eq!(
        stored_presence(&app).await,
        [
            json!({"home": true}),
            json!({"home": false}),
            json!({"home": true, "room": "hall"})
        ]
    );

    // "I agree" with the use switched off is a withdrawal, never a grant.
    c.post(
        "/my-data/permissions",
        &[
            ("csrf", &csrf),
            ("subject", me.as_str()),
            ("agree", "wren-thermostat-2/energy_report@2.5"),
        ],
    )
    .await;
    let records = history(&app).await;
    assert!(!records.last().unwrap().consent.granted);
    assert!(!privet_policy::is_granted(
        &records,
        "wren-thermostat-2",
        "energy_report"
    ));
}

#[tokio::test]
async fn the_label_shows_the_day_of_the_last_material_change() {
    let app = app();
    let mut c = Client::new(&app);
    let page = "/products/wren-thermostat-2";
    let row = "<th scope=\"row\">Last material change</th>";
    publish::publish(&app.state, &thermostat(false), "system")
        .await
        .unwrap();
    let before = c.get(page).await;
    assert!(before.body.contains("Why this grade"), "{}", before.body);
    assert!(!before.body.contains(row), "no material change yet");

    // Half past eleven at night in UTC is already the next day in London (summer time).
    assert!(
        app.state
            .clock()
            .set("2027-06-30T23:30:00Z".parse().unwrap())
    );
    publish::publish(&app.state, &thermostat(true), "system")
        .await
        .unwrap();
    let after = c.get(page).await;
    check_page(page, &after.body);
    assert!(
        after.body.contains(&format!("{row}<td>1 July 2027</td>")),
        "{}",
        after.body
    );
    let earlier = c.get(&format!("{page}/versions/2.4")).await;
    assert!(earlier.body.contains("earlier privacy notice"));
    assert!(
        !earlier.body.contains(row),
        "2.4 came before the change: {}",
        earlier.body
    );
}

/// The speaker example (3.2) or a 3.3 that adds `usage.volume` for the usage statistics (on
/// legitimate interests) and `voice.language` for the request history (a contract use).
fn speaker(next: bool) -> String {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/manifests/smart-speaker.toml"
    );
    let text = std::fs::read_to_string(path).unwrap();
    if !next {
        return text;
    }
    text.replacen("version = \"3.2\"", "version = \"3.3\"", 1)
        + r#"
[streams.usage.fields.volume]
type = "integer"
category = "user.behavior.device_usage"
origin = "observed"
purposes = ["usage_statistics"]
retention = "13m"
description = "How loud the speaker was set."

[streams.voice.fields.language]
type = "string"
category = "user.content.private"
origin = "inferred"
purposes = ["request_history"]
retention = "90d"
description = "The language you asked in."
"#
}

/// In `subject`'s form of choices, the fieldset about `product`: the text of each item of its
/// "What changed." notices, and its links (text, address).
fn notices_and_links(
    body: &str,
    subject: &SubjectId,
    product: &str,
) -> (Vec<String>, Vec<(String, String)>) {
    let doc = Html::parse_document(body);
    let sel = |s: &str| Selector::parse(s).unwrap();
    let text = |e: ElementRef<'_>| e.text().collect::<String>().trim().to_owned();
    let whose = sel(&format!("input[name=\"subject\"][value=\"{subject}\"]"));
    let form = doc
        .select(&sel("form"))
        .find(|f| f.select(&whose).next().is_some())
        .unwrap_or_else(|| panic!("no choices for {subject}: {body}"));
    let fieldset = form
        .select(&sel("fieldset"))
        .find(|f| f.text().collect::<String>().contains(product))
        .unwrap_or_else(|| panic!("no choices about {product}: {body}"));
    let notices = fieldset.select(&sel("div.changed li")).map(text).collect();
    let links = fieldset
        .select(&sel("a[href]"))
        .map(|a| (text(a), a.value().attr("href").unwrap().to_owned()))
        .collect();
    (notices, links)
}

#[tokio::test]
async fn my_data_tells_of_a_change_to_a_use_on_legitimate_interests_with_an_objection_and_to_a_contract_use_as_is()
 {
    let app = app();
    publish::publish(&app.state, &speaker(false), "system")
        .await
        .unwrap();
    let mut c = owner(&app, "speaker-changes@example.com").await;
    let household = subject_of(&mut c, "hh").await;
    let me = subject_of(&mut c, "mb").await;
    app.device(SPEAKER, &household).await;
    let (notices, _) = notices_and_links(&c.get("/my-data").await.body, &me, "Hearth Speaker 3");
    assert!(notices.is_empty(), "nothing changed yet: {notices:?}");

    // 3.3 comes out after they joined (a minute: their session is still open).
    app.state.clock().advance(SignedDuration::from_mins(1));
    publish::publish(&app.state, &speaker(true), "system")
        .await
        .unwrap();
    let page = c.get("/my-data").await;
    check_page("/my-data with a change to the speaker", &page.body);
    let (notices, links) = notices_and_links(&page.body, &me, "Hearth Speaker 3");
    let volume: Vec<&String> = notices.iter().filter(|n| n.contains("`volume`")).collect();
    assert_eq!(volume.len(), 1, "{notices:?}");
    assert!(volume[0].starts_with("Version 3.3: "), "{}", volume[0]);
    assert!(
        volume[0].contains("(Count which features people use"),
        "names the use: {}",
        volume[0]
    );
    assert!(
        volume[0].ends_with("You can object to this use."),
        "{}",
        volume[0]
    );
    let object: Vec<&str> = links
        .iter()
        .filter(|(t, _)| t == "Object to this")
        .map(|(_, href)| href.as_str())
        .collect();
    assert_eq!(
        object,
        [format!(
            "/my-data/object?subject={me}&product={SPEAKER}&purpose=usage_statistics"
        )],
        "beside the notice, the way to object: {links:?}"
    );
    let language: Vec<&String> = notices
        .iter()
        .filter(|n| n.contains("`language`"))
        .collect();
    assert_eq!(language.len(), 1, "{notices:?}");
    assert!(language[0].starts_with("Version 3.3: "), "{}", language[0]);
    assert!(language[0].contains("(Show you a list of what you asked"));
    assert!(
        !language[0].contains("object"),
        "a contract use is told of, nothing to object to: {}",
        language[0]
    );
    assert!(
        !page
            .body
            .contains("name=\"agree\" value=\"hearth-speaker-3/"),
        "neither change asks for consent: no switch to agree"
    );

    // Once they object, the use has stopped: its change is no longer put to them; the
    // contract use's still is.
    let confirm = c.get(object[0]).await;
    let done = c
        .post(
            "/my-data/object",
            &[
                ("csrf", &confirm.hidden("csrf")),
                ("subject", me.as_str()),
                ("product", SPEAKER),
                ("purpose", "usage_statistics"),
            ],
        )
        .await;
    assert!(
        done.location().starts_with("/my-data?done=objected"),
        "{}",
        done.body
    );
    let (notices, _) = notices_and_links(&c.get("/my-data").await.body, &me, "Hearth Speaker 3");
    assert!(
        !notices.iter().any(|n| n.contains("`volume`")),
        "{notices:?}"
    );
    assert!(
        notices.iter().any(|n| n.contains("`language`")),
        "{notices:?}"
    );
}
