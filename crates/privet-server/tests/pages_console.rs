//! The operator console, through the real router on real SQLite: staff only, two-step
//! verification first, each role only its areas, forms with CSRF tokens, overdue requests
//! first, API keys shown once, the audit log verified, and pages a person can use (one `<h1>`,
//! a label for every input, captions on tables, no scripts).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use jiff::SignedDuration;
use privet_crypto::{TotpSecret, current_totp_code};
use privet_server::service::requests::About;
use privet_server::service::sign_in::{self, Attempt};
use privet_server::service::{accounts, devices, publish, requests, two_step};
use privet_server::session::{self, SignedIn};
use privet_server::{AppState, Config, Products, Server};
use privet_store::{RequestKind, Role, SubjectId};
use tower::ServiceExt;

const PASSWORD: &str = "lantern-orchard-velvet-93-quarry";

mod common;

/// A form's fields, as name and value.
type Fields<'a> = &'a [(&'a str, &'a str)];

struct Console {
    _dir: tempfile::TempDir,
    server: Server,
}

impl Console {
    async fn new() -> Console {
        Console::with_products(common::example_products(&common::clock())).await
    }

    async fn with_products(products: Products) -> Console {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            ..Config::default()
        };
        let parts = common::parts(dir.path(), products, common::clock());
        let server = Server::bind(config, parts).await.unwrap();
        Console { _dir: dir, server }
    }

    fn state(&self) -> &AppState {
        self.server.state()
    }

    /// Signs in with the services and returns the session cookie.
    async fn session(&self, email: &str) -> String {
        let account = sign_in::login(
            self.state(),
            email,
            PASSWORD.to_owned(),
            None,
            Attempt::default(),
        )
        .await
        .unwrap();
        let token = accounts::start_session(self.state(), &account, "test")
            .await
            .unwrap();
        format!("{}={}", session::COOKIE, token.expose())
    }

    async fn signed_in(&self, cookie: &str) -> SignedIn {
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(header::COOKIE, cookie.parse().unwrap());
        session::from_headers(self.state(), &headers)
            .await
            .unwrap()
            .unwrap()
    }

    /// A staff account with `role`, signed in; with two-step verification on when `verified`.
    async fn staff(&self, role: Role, verified: bool) -> (String, String) {
        let email = format!("{}-{}@operator.example", role.as_str(), rand_suffix());
        let account =
            accounts::create_staff(self.state(), &email, PASSWORD.to_owned(), role, "system")
                .await
                .unwrap();
        let cookie = self.session(&email).await;
        if verified {
            let signed = self.signed_in(&cookie).await;
            let enrolment = two_step::begin(self.state(), &signed, Some(PASSWORD.to_owned()))
                .await
                .unwrap();
            let secret = TotpSecret::from_base32(enrolment.secret.expose()).unwrap();
            let now = self.state().clock().unix_secs();
            let signed = self.signed_in(&cookie).await;
            two_step::confirm(self.state(), &signed, &current_totp_code(&secret, now))
                .await
                .unwrap();
        }
        (cookie, account.id)
    }

    /// A household owner (a member account), signed in; returns the cookie, household, member.
    async fn member(&self) -> (String, SubjectId, SubjectId) {
        let email = format!("owner-{}@home.example", rand_suffix());
        let account = accounts::signup(
            self.state(),
            &email,
            PASSWORD.to_owned(),
            "Rowan House",
            Some("Robin"),
            None,
        )
        .await
        .unwrap();
        let cookie = self.session(&email).await;
        (cookie, account.household.unwrap(), account.member.unwrap())
    }

    async fn send(&self, req: Request<Body>) -> Page {
        let app = privet_server::routes::router(self.state().clone());
        let resp = app.oneshot(req).await.unwrap();
        let status = resp.status();
        let location = resp
            .headers()
            .get(header::LOCATION)
            .map(|v| v.to_str().unwrap().to_owned());
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap();
        Page {
            status,
            location,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    async fn get(&self, path: &str, cookie: Option<&str>) -> Page {
        let mut req = Request::get(path);
        if let Some(c) = cookie {
            req = req.header(header::COOKIE, c);
        }
        self.send(req.body(Body::empty()).unwrap()).await
    }

    async fn post(&self, path: &str, cookie: &str, form: &[(&str, &str)]) -> Page {
        let body = form
            .iter()
            .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
            .collect::<Vec<_>>()
            .join("&");
        let req = Request::post(path)
            .header(header::COOKIE, cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap();
        self.send(req).await
    }

    /// Posts the "Log a new request" form with these fields and the form token.
    async fn log_request(&self, cookie: &str, csrf: &str, fields: Fields<'_>) -> Page {
        let mut form = vec![("csrf", csrf)];
        form.extend_from_slice(fields);
        self.post("/console/requests", cookie, &form).await
    }

    /// The CSRF token a page's forms carry.
    async fn csrf(&self, cookie: &str) -> String {
        let page = self.get("/console", Some(cookie)).await;
        page.quoted_after("name=\"csrf\" value=\"")
    }

    async fn audit_actions(&self, actor: &str) -> Vec<String> {
        self.state()
            .store()
            .audit(None, 10_000)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.entry.actor == actor)
            .map(|e| e.entry.action)
            .collect()
    }
}

fn rand_suffix() -> String {
    privet_crypto::generate_token("t", &mut privet_crypto::os_rng())
        .expose()
        .chars()
        .skip(2)
        .take(10)
        .collect::<String>()
        .to_lowercase()
}

fn enc(s: &str) -> String {
    privet_server::pages::urlencode(s)
}

struct Page {
    status: StatusCode,
    location: Option<String>,
    body: String,
}

impl Page {
    /// The quoted value that follows the first `prefix` (which ends with the opening quote).
    fn quoted_after(&self, prefix: &str) -> String {
        let at = self
            .body
            .find(prefix)
            .unwrap_or_else(|| panic!("no {prefix}"))
            + prefix.len();
        self.body[at..].split('"').next().unwrap().to_owned()
    }

    fn h1s(&self) -> Vec<String> {
        self.body
            .match_indices("<h1")
            .map(|(i, _)| {
                let rest = &self.body[i..];
                let start = rest.find('>').unwrap() + 1;
                let end = rest.find("</h1>").unwrap();
                rest[start..end].to_owned()
            })
            .collect()
    }

    /// The ids of inputs a person fills in (not hidden ones).
    fn input_ids(&self) -> Vec<String> {
        let mut ids = Vec::new();
        for tag in ["<input", "<select", "<textarea"] {
            for (i, _) in self.body.match_indices(tag) {
                let rest = &self.body[i..];
                let element = &rest[..rest.find('>').unwrap()];
                if element.contains("type=\"hidden\"") {
                    continue;
                }
                let id = element
                    .split("id=\"")
                    .nth(1)
                    .unwrap_or_else(|| panic!("an input without an id: {element}"))
                    .split('"')
                    .next()
                    .unwrap();
                ids.push(id.to_owned());
            }
        }
        ids
    }

    /// Checks what every console page must be.
    fn assert_usable(&self, path: &str) {
        assert_eq!(self.h1s().len(), 1, "{path}: one <h1>");
        assert!(!self.body.contains("<script"), "{path}: no scripts");
        assert!(
            self.body.contains("<nav aria-label=\"Console\">"),
            "{path}: console navigation"
        );
        for id in self.input_ids() {
            assert!(
                self.body.contains(&format!("<label for=\"{id}\"")),
                "{path}: input {id} has a label"
            );
        }
        assert_eq!(
            self.body.matches("<table").count(),
            self.body.matches("<caption").count(),
            "{path}: every table has a caption"
        );
        for (i, _) in self.body.match_indices("<th") {
            let rest = &self.body[i + 3..];
            if rest.starts_with("ead") {
                continue;
            }
            let tag = &rest[..rest.find('>').unwrap()];
            assert!(tag.contains("scope="), "{path}: every <th> has a scope");
        }
    }
}

#[tokio::test]
async fn signed_out_visitors_are_sent_to_sign_in_and_back() {
    let c = Console::new().await;
    let page = c.get("/console/requests", None).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(
        page.location.as_deref(),
        Some("/login?next=/console/requests")
    );
}

#[tokio::test]
async fn staff_without_two_step_verification_is_sent_to_set_it_up() {
    let c = Console::new().await;
    let (cookie, id) = c.staff(Role::Admin, false).await;
    for path in [
        "/console",
        "/console/keys",
        "/console/audit",
        "/console/requests",
    ] {
        let page = c.get(path, Some(&cookie)).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}");
        assert!(page.body.contains("Turn on two-step verification first"));
        assert!(page.body.contains("href=\"/account/security\""));
    }
    // Nor can it change anything, even with a valid form token.
    let signed = c.signed_in(&cookie).await;
    let csrf = privet_server::pages::csrf::token(c.state(), &signed.session);
    let page = c
        .post(
            "/console/keys",
            &cookie,
            &[("csrf", &csrf), ("role", "admin"), ("label", "Nope")],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(c.state().store().api_keys().await.unwrap().is_empty());
    assert!(
        !c.audit_actions(&format!("account:{id}"))
            .await
            .contains(&"key.create".to_owned())
    );
}

#[tokio::test]
async fn member_accounts_are_refused() {
    let c = Console::new().await;
    let (cookie, _, _) = c.member().await;
    for path in [
        "/console",
        "/console/products",
        "/console/fleet",
        "/console/requests",
        "/console/audit",
        "/console/keys",
        "/console/webhooks",
    ] {
        let page = c.get(path, Some(&cookie)).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}");
        assert!(
            !page.body.contains("<nav aria-label=\"Console\">"),
            "{path}"
        );
    }
}

#[tokio::test]
async fn every_console_page_renders_with_one_heading_labels_and_no_scripts() {
    let c = Console::new().await;
    let (cookie, _) = c.staff(Role::Admin, true).await;
    let (_, household, member) = c.member().await;
    let dev = devices::register(
        c.state(),
        "wren-thermostat-2",
        Some(&household),
        None,
        "system",
    )
    .await
    .unwrap();
    c.state()
        .store()
        .touch_device(&dev.id, c.state().clock().now(), Some("1.4.0".to_owned()))
        .await
        .unwrap();
    devices::register(c.state(), "porchlight-doorbell-2", None, None, "system")
        .await
        .unwrap();
    let rq = requests::create(
        c.state(),
        RequestKind::Access,
        About::Subject(member.clone()),
        None,
        "system",
    )
    .await
    .unwrap();
    let csrf = c.csrf(&cookie).await;
    let created = c
        .post(
            "/console/keys",
            &cookie,
            &[("csrf", &csrf), ("role", "support"), ("label", "Help desk")],
        )
        .await;
    assert_eq!(created.status, StatusCode::OK);
    let key = c.state().store().api_keys().await.unwrap().remove(0);

    let pages = [
        ("/console".to_owned(), "Operator console"),
        ("/console/products".to_owned(), "Products"),
        ("/console/products/wren-thermostat-2".to_owned(), "Wren"),
        ("/console/fleet".to_owned(), "Fleet"),
        ("/console/requests".to_owned(), "Rights requests"),
        (format!("/console/requests/{}", rq.id), "Access request"),
        ("/console/audit".to_owned(), "Audit log"),
        ("/console/keys".to_owned(), "API keys"),
        ("/console/records".to_owned(), "Records of processing"),
        (format!("/console/keys/{}/revoke", key.id), "Revoke API key"),
        ("/console/webhooks".to_owned(), "Webhooks"),
    ];
    for (path, heading) in &pages {
        let page = c.get(path, Some(&cookie)).await;
        assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
        assert!(
            page.h1s()[0].contains(heading),
            "{path}: <h1> {:?} says {heading}",
            page.h1s()
        );
        page.assert_usable(path);
    }
    created.assert_usable("key created");

    // The product page shows the manifest, the findings, the notice and the label.
    let product = c
        .get("/console/products/wren-thermostat-2", Some(&cookie))
        .await;
    for part in [
        "Purposes and their lawful basis",
        "Every declared field",
        "Lint findings",
        "Privacy notice: in short",
        "Grade <strong>",
        "Published versions",
    ] {
        assert!(product.body.contains(part), "product page shows {part}");
    }
    assert_eq!(
        c.get("/console/products/no-such-thing", Some(&cookie))
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // The fleet shows both products' devices, attached or not, with the firmware.
    let fleet = c.get("/console/fleet", Some(&cookie)).await;
    assert!(fleet.body.contains(dev.id.as_str()));
    assert!(fleet.body.contains("1.4.0"));
    assert!(fleet.body.contains("Not attached") && fleet.body.contains(">Attached<"));
}

#[tokio::test]
async fn the_product_page_lists_every_published_version_newest_first() {
    let c = Console::new().await;
    let (cookie, _) = c.staff(Role::Dpo, true).await;
    let id = "wren-thermostat-2";
    let v24 = c.state().products().source(id).unwrap().text.clone();
    let v25 = v24.replacen("version = \"2.4\"", "version = \"2.5\"", 1);
    assert_ne!(v24, v25);
    publish::publish(c.state(), &v24, "key:key_first")
        .await
        .unwrap();
    publish::publish(c.state(), &v25, "cli").await.unwrap();
    let page = c
        .get(&format!("/console/products/{id}"), Some(&cookie))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    page.assert_usable("product with versions");
    let table = page
        .body
        .split("Published versions of the manifest")
        .nth(1)
        .unwrap();
    let newer = table.find("<th scope=\"row\">2.5</th>").unwrap();
    let older = table.find("<th scope=\"row\">2.4</th>").unwrap();
    assert!(newer < older, "newest first");
    assert!(
        table[newer..older].contains("Yes: served now")
            && table[newer..older].contains("<code>cli</code>")
    );
    assert!(
        table[older..].contains("key:key_first") && !table[older..].contains("Yes: served now")
    );
}

#[tokio::test]
async fn overdue_requests_come_first_and_say_so_in_words() {
    let c = Console::new().await;
    let (cookie, _) = c.staff(Role::Support, true).await;
    let (_, household, member) = c.member().await;
    let recent = requests::create(
        c.state(),
        RequestKind::Erasure,
        About::Subject(household.clone()),
        None,
        "system",
    )
    .await
    .unwrap();
    let forty_days_ago = c
        .state()
        .clock()
        .now()
        .checked_sub(SignedDuration::from_hours(40 * 24))
        .unwrap();
    let late = requests::create(
        c.state(),
        RequestKind::Access,
        About::Subject(member.clone()),
        Some(forty_days_ago),
        "system",
    )
    .await
    .unwrap();
    let page = c.get("/console/requests", Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    let late_at = page.body.find(&late.id).unwrap();
    let recent_at = page.body.find(&recent.id).unwrap();
    assert!(late_at < recent_at, "the overdue request is listed first");
    let late_row = &page.body[page.body[..late_at].rfind("<tr").unwrap()..];
    let late_row = &late_row[..late_row.find("</tr>").unwrap()];
    assert!(late_row.starts_with("<tr class=\"overdue\""), "{late_row}");
    assert!(late_row.contains("Overdue by"), "in words, not only colour");
    let recent_row = &page.body[page.body[..recent_at].rfind("<tr").unwrap()..];
    let recent_row = &recent_row[..recent_row.find("</tr>").unwrap()];
    assert!(!recent_row.contains("overdue") && !recent_row.contains("Overdue"));
    // The overview counts it too.
    let overview = c.get("/console", Some(&cookie)).await;
    assert!(overview.body.contains("Overdue rights requests"));
    assert!(overview.body.contains("Overdue: answer these first"));
}

#[tokio::test]
async fn requests_are_logged_extended_and_completed_through_the_console() {
    let c = Console::new().await;
    let (cookie, staff_id) = c.staff(Role::Support, true).await;
    let actor = format!("account:{staff_id}");
    let (_, household, member) = c.member().await;
    let csrf = c.csrf(&cookie).await;

    // Log an access request received yesterday.
    let today = privet_policy::utc_date(c.state().clock().now());
    let yesterday = today.yesterday().unwrap().to_string();
    let logged = c
        .log_request(
            &cookie,
            &csrf,
            &[
                ("kind", "access"),
                ("subject", member.as_str()),
                ("received", &yesterday),
            ],
        )
        .await;
    assert_eq!(logged.status, StatusCode::SEE_OTHER, "{}", logged.body);
    let list = c
        .get(logged.location.as_deref().unwrap(), Some(&cookie))
        .await;
    assert!(list.body.contains("The request was logged"));
    let access = c.state().store().requests().await.unwrap().remove(0);
    assert_eq!(access.kind, RequestKind::Access);
    assert_eq!(access.received_at.to_string()[..10], yesterday);

    // A future date, an unknown subject and a missing type are refused, in words; the form
    // keeps what was typed.
    let tomorrow = today.tomorrow().unwrap().to_string();
    let refused: [(Fields, StatusCode, &[&str]); 3] = [
        (
            &[
                ("kind", "access"),
                ("subject", member.as_str()),
                ("received", &tomorrow),
            ],
            StatusCode::UNPROCESSABLE_ENTITY,
            &["cannot be in the future", member.as_str()],
        ),
        (
            &[("kind", "access"), ("subject", "mb_nobody")],
            StatusCode::NOT_FOUND,
            &[],
        ),
        (
            &[("kind", "gossip"), ("subject", member.as_str())],
            StatusCode::UNPROCESSABLE_ENTITY,
            &[],
        ),
    ];
    for (fields, status, says) in refused {
        let bad = c.log_request(&cookie, &csrf, fields).await;
        assert_eq!(bad.status, status, "{fields:?}");
        for words in says {
            assert!(
                bad.body.contains(words),
                "{fields:?}: the page says {words}"
            );
        }
    }

    // Extend once, with a reason; not twice.
    let path = format!("/console/requests/{}", access.id);
    let extended = c
        .post(
            &format!("{path}/extend"),
            &cookie,
            &[
                ("csrf", &csrf),
                ("reason", "Many linked accounts to search"),
            ],
        )
        .await;
    assert_eq!(extended.status, StatusCode::SEE_OTHER);
    let detail = c
        .get(extended.location.as_deref().unwrap(), Some(&cookie))
        .await;
    assert!(detail.body.contains("The deadline was extended"));
    assert!(detail.body.contains("extended from"));
    assert!(detail.body.contains("cannot be extended again"));
    let again = c
        .post(
            &format!("{path}/extend"),
            &cookie,
            &[("csrf", &csrf), ("reason", "More")],
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);

    // Access: marked done only after the export was downloaded.
    assert!(detail.body.contains(&format!(
        "href=\"/v1/subjects/{member}/export?format=json\""
    )));
    let early = c
        .post(&format!("{path}/complete"), &cookie, &[("csrf", &csrf)])
        .await;
    assert_eq!(early.status, StatusCode::CONFLICT);
    assert!(early.body.contains("Download the subject"));
    let export = c
        .get(
            &format!("/v1/subjects/{member}/export?format=json"),
            Some(&cookie),
        )
        .await;
    assert_eq!(export.status, StatusCode::OK, "{}", export.body);
    let done = c
        .post(&format!("{path}/complete"), &cookie, &[("csrf", &csrf)])
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert!(c.state().store().request(&access.id).await.unwrap().done);
    let detail = c.get(&path, Some(&cookie)).await;
    assert!(
        !detail.body.contains("Mark done"),
        "no actions on a done request"
    );

    // Erasure: needs the confirmation, then shows the signed receipt.
    let erasure = requests::create(
        c.state(),
        RequestKind::Erasure,
        About::Subject(household.clone()),
        None,
        "system",
    )
    .await
    .unwrap();
    let path = format!("/console/requests/{}/complete", erasure.id);
    let unconfirmed = c.post(&path, &cookie, &[("csrf", &csrf)]).await;
    assert_eq!(unconfirmed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(c.state().store().subject(&household).await.is_ok());
    let receipt = c
        .post(&path, &cookie, &[("csrf", &csrf), ("confirm", "yes")])
        .await;
    assert_eq!(receipt.status, StatusCode::OK, "{}", receipt.body);
    assert_eq!(receipt.h1s(), ["Data erased"]);
    assert!(receipt.body.contains("Signed receipt"));
    assert!(receipt.body.contains("eyJ"), "the compact JWS");
    assert!(c.state().store().subject(&household).await.is_err());
    receipt.assert_usable("receipt");

    let actions = c.audit_actions(&actor).await;
    for a in [
        "request.create",
        "request.extend",
        "subject.export",
        "request.complete",
        "subject.erase",
    ] {
        assert!(
            actions.contains(&a.to_owned()),
            "{a} audited as {actor}: {actions:?}"
        );
    }
}

#[tokio::test]
async fn a_new_key_is_shown_once_and_revoking_asks_first() {
    let c = Console::new().await;
    let (cookie, staff_id) = c.staff(Role::Admin, true).await;
    let actor = format!("account:{staff_id}");
    let csrf = c.csrf(&cookie).await;

    // An analyst key needs a purpose some product declares.
    let refused = c
        .post(
            "/console/keys",
            &cookie,
            &[("csrf", &csrf), ("role", "analyst"), ("label", "Reports")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("at least one purpose"));
    let unknown = c
        .post(
            "/console/keys",
            &cookie,
            &[
                ("csrf", &csrf),
                ("role", "analyst"),
                ("purpose", "mind_reading"),
                ("label", "Reports"),
            ],
        )
        .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);

    let keys = c.get("/console/keys", Some(&cookie)).await;
    let purpose = keys.quoted_after("name=\"purpose\" value=\"");
    let created = c
        .post(
            "/console/keys",
            &cookie,
            &[
                ("csrf", &csrf),
                ("role", "analyst"),
                ("purpose", &purpose),
                ("label", "Monthly reports"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    assert!(created.body.contains("shown only this once"));
    let secret = created.quoted_after("id=\"new-key\" value=\"");
    assert!(secret.starts_with("pvk"), "{secret}");
    let key = c
        .state()
        .store()
        .api_key_by_hash(&privet_crypto::hash_token(&secret))
        .await
        .unwrap();
    assert_eq!(key.purposes, vec![purpose]);
    assert_eq!(key.label, "Monthly reports");

    let list = c.get("/console/keys", Some(&cookie)).await;
    assert!(!list.body.contains(&secret), "never shown again");
    assert!(list.body.contains(key.id.as_str()));

    // Revoking shows a confirmation first, then revokes.
    let confirm = c
        .get(&format!("/console/keys/{}/revoke", key.id), Some(&cookie))
        .await;
    assert!(confirm.body.contains(">Revoke key</button>"));
    assert!(
        c.state().store().api_keys().await.unwrap()[0]
            .revoked_at
            .is_none()
    );
    let revoked = c
        .post(
            &format!("/console/keys/{}/revoke", key.id),
            &cookie,
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER);
    let list = c
        .get(revoked.location.as_deref().unwrap(), Some(&cookie))
        .await;
    assert!(list.body.contains("The key was revoked"));
    assert!(
        c.state().store().api_keys().await.unwrap()[0]
            .revoked_at
            .is_some()
    );
    let actions = c.audit_actions(&actor).await;
    assert!(actions.contains(&"key.create".to_owned()));
    assert!(actions.contains(&"key.revoke".to_owned()));
}

#[tokio::test]
async fn verifying_the_audit_log_says_it_is_intact() {
    let c = Console::new().await;
    let (cookie, _) = c.staff(Role::Dpo, true).await;
    let (_, _, member) = c.member().await;
    let csrf = c.csrf(&cookie).await;
    let page = c
        .post("/console/audit/verify", &cookie, &[("csrf", &csrf)])
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let n = privet_server::service::audit::verify(
        c.state().store().as_ref(),
        c.state().keys().keyring().as_ref(),
        c.state().audit_chain().await.unwrap(),
        None,
    )
    .await
    .unwrap()
    .entries;
    assert!(n > 0);
    assert!(
        page.body
            .contains(&format!("The audit log is intact: {n} entries")),
        "{}",
        page.body
    );
    // The entries are listed with shortened pseudonyms.
    let list = c.get("/console/audit", Some(&cookie)).await;
    assert!(list.body.contains("<code>auth.two_step_on</code>"));
    let pseudonym = c
        .state()
        .store()
        .subject(&member)
        .await
        .unwrap()
        .pseudonym
        .to_string();
    assert!(list.body.contains(&format!(
        "<code title=\"{pseudonym}\">{}…</code>",
        &pseudonym[..12]
    )));
    assert!(!list.body.contains(&format!(">{pseudonym}<")), "shortened");
    let from_date = c
        .get("/console/audit?since=2000-01-01", Some(&cookie))
        .await;
    assert_eq!(from_date.status, StatusCode::OK);
    assert!(from_date.body.contains("<code>staff.create</code>"));
    let bad = c
        .get("/console/audit?since=yesterday-ish", Some(&cookie))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn forms_without_the_csrf_token_are_refused() {
    let c = Console::new().await;
    let (cookie, _) = c.staff(Role::Admin, true).await;
    let (_, _, member) = c.member().await;
    let rq = requests::create(
        c.state(),
        RequestKind::Restriction,
        About::Subject(member.clone()),
        None,
        "system",
    )
    .await
    .unwrap();
    let posts: [(String, Vec<(&str, &str)>); 5] = [
        (
            "/console/keys".to_owned(),
            vec![("role", "admin"), ("label", "Sneaky")],
        ),
        (
            "/console/requests".to_owned(),
            vec![("kind", "erasure"), ("subject", member.as_str())],
        ),
        (format!("/console/requests/{}/complete", rq.id), vec![]),
        (
            format!("/console/requests/{}/extend", rq.id),
            vec![("reason", "Busy")],
        ),
        ("/console/audit/verify".to_owned(), vec![]),
    ];
    for (path, form) in &posts {
        let page = c.post(path, &cookie, form).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{path} without a token");
        let mut wrong = form.clone();
        wrong.push(("csrf", "0000"));
        let page = c.post(path, &cookie, &wrong).await;
        assert_eq!(
            page.status,
            StatusCode::FORBIDDEN,
            "{path} with a wrong token"
        );
    }
    assert!(c.state().store().api_keys().await.unwrap().is_empty());
    let stored = c.state().store().requests().await.unwrap();
    assert_eq!(stored.len(), 1);
    assert!(!stored[0].done && stored[0].extended_due.is_none());

    // A cross-site form post is refused even with a token.
    let csrf = c.csrf(&cookie).await;
    let req = Request::post("/console/audit/verify")
        .header(header::COOKIE, &cookie)
        .header(header::HOST, "127.0.0.1:8080")
        .header(header::ORIGIN, "https://evil.example")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!("csrf={csrf}")))
        .unwrap();
    assert_eq!(c.send(req).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn each_role_reaches_only_its_areas() {
    let c = Console::new().await;
    let (_, _, member) = c.member().await;
    let rq = requests::create(
        c.state(),
        RequestKind::Restriction,
        About::Subject(member.clone()),
        None,
        "system",
    )
    .await
    .unwrap();
    let detail = format!("/console/requests/{}", rq.id);
    let areas = [
        "/console",
        "/console/products",
        "/console/fleet",
        "/console/requests",
        detail.as_str(),
        "/console/audit",
        "/console/keys",
        "/console/records",
    ];
    let d = detail.as_str();
    for role in Role::ALL {
        let (cookie, _) = c.staff(role, true).await;
        let allowed: &[&str] = match role {
            Role::Admin => &areas,
            Role::Support => &["/console", "/console/products", "/console/requests", d],
            Role::Dpo => &[
                "/console",
                "/console/products",
                "/console/requests",
                d,
                "/console/audit",
                "/console/records",
            ],
            Role::Analyst => &["/console", "/console/products"],
        };
        let overview = c.get("/console", Some(&cookie)).await;
        for path in areas {
            let page = c.get(path, Some(&cookie)).await;
            let expected = if allowed.contains(&path) {
                StatusCode::OK
            } else {
                StatusCode::FORBIDDEN
            };
            assert_eq!(page.status, expected, "{} × {path}", role.as_str());
            if path != "/console" && !path.starts_with("/console/requests/") {
                assert_eq!(
                    overview.body.contains(&format!("<a href=\"{path}\"")),
                    expected == StatusCode::OK,
                    "{} sees a link to {path} only if allowed",
                    role.as_str()
                );
            }
        }
        // The dpo reads requests but cannot act on them.
        if role == Role::Dpo {
            let list = c.get("/console/requests", Some(&cookie)).await;
            assert!(!list.body.contains("Log request"));
            let page = c.get(&detail, Some(&cookie)).await;
            assert!(!page.body.contains("Restrict processing and complete"));
            let csrf = c.csrf(&cookie).await;
            let refused = c
                .post(&format!("{detail}/complete"), &cookie, &[("csrf", &csrf)])
                .await;
            assert_eq!(refused.status, StatusCode::FORBIDDEN);
        }
        if role == Role::Support {
            let page = c.get(&detail, Some(&cookie)).await;
            assert!(page.body.contains("Restrict processing and complete"));
        }
    }
    assert!(!c.state().store().request(&rq.id).await.unwrap().done);
}

#[tokio::test]
async fn products_past_their_security_updates_are_flagged_with_the_finding() {
    // Loaded while still supported (as a long-running server would have), now past support.
    let source = std::fs::read_to_string(common::manifests_dir().join("thermostat.toml"))
        .unwrap()
        .replace(
            "security_updates_until = \"2032-12-31\"",
            "security_updates_until = \"2020-01-31\"",
        );
    assert!(source.contains("2020-01-31"));
    let then = privet_manifest::LintContext {
        today: "2019-06-01".parse().unwrap(),
    };
    let (products, _) =
        Products::from_sources(vec![("thermostat.toml".into(), source)], &then).unwrap();
    let c = Console::with_products(products).await;
    let (cookie, _) = c.staff(Role::Admin, true).await;

    let list = c.get("/console/products", Some(&cookie)).await;
    assert!(list.body.contains("2020-01-31 (Past support"));
    assert!(list.body.contains("1 error"));
    let product = c
        .get("/console/products/wren-thermostat-2", Some(&cookie))
        .await;
    assert!(product.body.contains("<code>PV033</code>"));
    assert!(product.body.contains("security-updates-ended"));
    let fleet = c.get("/console/fleet", Some(&cookie)).await;
    assert!(fleet.body.contains("<tr class=\"overdue\">"));
    assert!(
        fleet
            .body
            .contains("Past support: security updates have ended")
    );
}

#[tokio::test]
async fn a_request_is_paused_and_resumed_and_a_complaint_logged_from_the_console() {
    let c = Console::new().await;
    let (cookie, _) = c.staff(Role::Support, true).await;
    let (_, _, member) = c.member().await;
    let csrf = c.csrf(&cookie).await;
    let logged = c
        .log_request(
            &cookie,
            &csrf,
            &[("kind", "complaint"), ("subject", member.as_str())],
        )
        .await;
    assert_eq!(logged.status, StatusCode::SEE_OTHER, "{}", logged.body);
    let rq = c.state().store().requests().await.unwrap().remove(0);
    let list = c.get("/console/requests", Some(&cookie)).await;
    assert!(list.body.contains("Complaint"), "{}", list.body);
    assert!(list.body.contains("Acknowledge by"), "{}", list.body);

    let detail = format!("/console/requests/{}", rq.id);
    let paused = c
        .post(
            &format!("{detail}/pause"),
            &cookie,
            &[("csrf", &csrf), ("reason", "clarification")],
        )
        .await;
    assert_eq!(paused.status, StatusCode::SEE_OTHER);
    let page = c.get(&detail, Some(&cookie)).await;
    assert!(
        page.body.contains("Paused: waiting for a clarification"),
        "{}",
        page.body
    );
    assert!(page.body.contains("Resume the request"));
    assert!(
        !page.body.contains("Mark the complaint answered"),
        "a paused request offers no completion"
    );
    // Paused twice: the page says why, nothing changes.
    let again = c
        .post(
            &format!("{detail}/pause"),
            &cookie,
            &[("csrf", &csrf), ("reason", "identity")],
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(again.body.contains("already paused"), "{}", again.body);

    let resumed = c
        .post(&format!("{detail}/resume"), &cookie, &[("csrf", &csrf)])
        .await;
    assert_eq!(resumed.status, StatusCode::SEE_OTHER);
    let page = c.get(&detail, Some(&cookie)).await;
    assert!(page.body.contains("Open: due in"), "{}", page.body);
    assert!(page.body.contains("Mark the complaint answered"));
    let stored = c.state().store().request(&rq.id).await.unwrap();
    assert!(stored.pause.is_none());
}

#[tokio::test]
async fn a_visitor_request_needs_a_device_and_both_times_in_the_console() {
    let c = Console::new().await;
    let (cookie, _) = c.staff(Role::Support, true).await;
    let (_, _, member) = c.member().await;
    let csrf = c.csrf(&cookie).await;
    // Neither a subject nor a device.
    let page = c.log_request(&cookie, &csrf, &[("kind", "erasure")]).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Both.
    let page = c
        .log_request(
            &cookie,
            &csrf,
            &[
                ("kind", "erasure"),
                ("subject", member.as_str()),
                ("device", "dev_x"),
                ("from", "2026-06-01T10:00"),
                ("until", "2026-06-01T10:05"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("either"), "{}", page.body);
    // A device with a time that is not one.
    let page = c
        .log_request(
            &cookie,
            &csrf,
            &[
                ("kind", "erasure"),
                ("device", "dev_x"),
                ("from", "yesterday"),
                ("until", "2026-06-01T10:05"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("UK time"), "{}", page.body);
    assert!(c.state().store().requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn admins_register_webhooks_see_the_secret_once_and_every_delivery() {
    use privet_store::{NewWebhookDelivery, WebhookId};
    let c = Console::new().await;
    let (cookie, id) = c.staff(Role::Admin, true).await;
    let csrf = c.csrf(&cookie).await;
    let url = "http://127.0.0.1:9/in";
    // A refused form says why and keeps what was typed.
    let refused = c
        .post(
            "/console/webhooks",
            &cookie,
            &[
                ("csrf", &csrf),
                ("url", "ftp://127.0.0.1/in"),
                ("event", "device.reset"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("http:// or https://"));
    assert!(c.state().store().webhooks().await.unwrap().is_empty());
    // Without the form token nothing is registered.
    let forged = c
        .post(
            "/console/webhooks",
            &cookie,
            &[("csrf", "nope"), ("url", url)],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);

    let created = c
        .post(
            "/console/webhooks",
            &cookie,
            &[
                ("csrf", &csrf),
                ("url", url),
                ("event", "erasure.completed"),
                ("recipient", "wren-thermostat-2/energy_supplier"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    created.assert_usable("webhook created");
    let secret = created.quoted_after("id=\"new-secret\" value=\"");
    assert!(secret.starts_with("whsec_"), "{secret}");
    let hooks = c.state().store().webhooks().await.unwrap();
    assert_eq!(hooks.len(), 1);
    assert_eq!(hooks[0].events, ["erasure.completed"]);
    assert_eq!(hooks[0].recipients[0].recipient, "energy_supplier");
    assert!(
        c.audit_actions(&format!("account:{id}"))
            .await
            .contains(&"webhook.create".to_owned())
    );

    // A dead delivery is listed with a button to send it again; the secret is not shown again.
    let hook: WebhookId = hooks[0].id.clone();
    let now = c.state().clock().now();
    c.state()
        .store()
        .enqueue_webhook_deliveries(vec![NewWebhookDelivery {
            id: "msg_console".into(),
            endpoint: hook.clone(),
            event: "erasure.completed".into(),
            payload: "{}".into(),
            created_at: now,
        }])
        .await
        .unwrap();
    let until = now + SignedDuration::from_secs(60);
    c.state()
        .store()
        .claim_webhook_delivery(now, until)
        .await
        .unwrap()
        .unwrap();
    c.state()
        .store()
        .finish_webhook_delivery(
            "msg_console",
            until,
            privet_store::AttemptOutcome::Dead {
                status: Some(500),
                error: "answered 500".into(),
            },
        )
        .await
        .unwrap();
    let page = c.get("/console/webhooks", Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    page.assert_usable("/console/webhooks");
    assert!(page.body.contains(url) && page.body.contains("msg_console"));
    assert!(page.body.contains("HTTP 500") && page.body.contains(">dead"));
    assert!(!page.body.contains(&secret), "the secret is shown once");
    let retried = c
        .post(
            "/console/webhooks/deliveries/msg_console/retry",
            &cookie,
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(retried.status, StatusCode::SEE_OTHER);
    let d = c
        .state()
        .store()
        .webhook_delivery("msg_console")
        .await
        .unwrap();
    assert_eq!(d.state, privet_store::DeliveryState::Pending);

    let deleted = c
        .post(
            &format!("/console/webhooks/{hook}/delete"),
            &cookie,
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    assert!(
        c.state().store().webhooks().await.unwrap()[0]
            .disabled_at
            .is_some()
    );

    // Other roles do not get in.
    let (support, _) = c.staff(Role::Support, true).await;
    let page = c.get("/console/webhooks", Some(&support)).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
}
