//! The household pages after a material manifest change: My data says what changed, shows an
//! "I agree to the new version" switch that is off until turned on, keeps the old consent
//! when the form is saved without it, and records the new version when it is turned on.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod household_support;

use household_support::*;
use privet_server::service::publish::{self, Publication};

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
