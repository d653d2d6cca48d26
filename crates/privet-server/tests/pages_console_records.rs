//! The console's records of processing, through the real router on real SQLite with the
//! example manifests: admin and dpo read it (every product and purpose, tables that fit the
//! page) and download it as CSV and XLSX; support, analyst and household accounts are refused.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod household_support;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use privet_crypto::{TotpSecret, current_totp_code};
use privet_server::service::sign_in::{self, Attempt};
use privet_server::service::{accounts, two_step};
use privet_server::session;
use privet_server::{AppState, Config, Server};
use privet_store::Role;
use scraper::{Html, Selector};
use std::io::Read;
use tower::ServiceExt;

const PASSWORD: &str = "lantern-orchard-velvet-93-quarry";
const PAGES: [&str; 3] = [
    "/console/records",
    "/console/records.csv",
    "/console/records.xlsx",
];

struct Console {
    _dir: tempfile::TempDir,
    server: Server,
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn text(&self) -> String {
        String::from_utf8(self.body.clone()).unwrap()
    }

    fn header(&self, name: header::HeaderName) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

impl Console {
    async fn new() -> Console {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            ..Config::default()
        };
        let clock = common::clock();
        let parts = common::parts(dir.path(), common::example_products(&clock), clock);
        let server = Server::bind(config, parts).await.unwrap();
        Console { _dir: dir, server }
    }

    fn state(&self) -> &AppState {
        self.server.state()
    }

    async fn cookie(&self, email: &str) -> String {
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

    /// A signed-in staff account with `role` and two-step verification on.
    async fn staff(&self, role: Role) -> String {
        let email = format!("{}@operator.example", role.as_str());
        accounts::create_staff(self.state(), &email, PASSWORD.to_owned(), role, "system")
            .await
            .unwrap();
        let cookie = self.cookie(&email).await;
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, cookie.parse().unwrap());
        let signed = session::from_headers(self.state(), &headers)
            .await
            .unwrap()
            .unwrap();
        let enrolment = two_step::begin(self.state(), &signed, Some(PASSWORD.to_owned()))
            .await
            .unwrap();
        let secret = TotpSecret::from_base32(enrolment.secret.expose()).unwrap();
        let now = self.state().clock().unix_secs();
        let signed = session::from_headers(self.state(), &headers)
            .await
            .unwrap()
            .unwrap();
        two_step::confirm(self.state(), &signed, &current_totp_code(&secret, now))
            .await
            .unwrap();
        cookie
    }

    /// A household owner (a member account), signed in.
    async fn member(&self) -> String {
        let email = "owner@home.example";
        accounts::signup(
            self.state(),
            email,
            PASSWORD.to_owned(),
            "Rowan House",
            Some("Robin"),
            None,
        )
        .await
        .unwrap();
        self.cookie(email).await
    }

    async fn get(&self, path: &str, cookie: Option<&str>) -> Answer {
        let mut req = Request::get(path);
        if let Some(c) = cookie {
            req = req.header(header::COOKIE, c);
        }
        let app = privet_server::routes::router(self.state().clone());
        let resp = app.oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap()
            .to_vec();
        Answer {
            status,
            headers,
            body,
        }
    }
}

fn sel(s: &str) -> Selector {
    Selector::parse(s).unwrap()
}

/// Every product and purpose the example manifests declare, as (product id, purpose key).
fn activities(state: &AppState) -> Vec<(String, String)> {
    state
        .products()
        .iter()
        .flat_map(|m| {
            m.purposes
                .iter()
                .map(|p| (m.product.id.to_string(), p.id.to_string()))
                .collect::<Vec<_>>()
        })
        .collect()
}

#[tokio::test]
async fn admin_and_dpo_read_every_product_and_purpose_in_tables_that_fit() {
    let c = Console::new().await;
    let activities = activities(c.state());
    assert!(activities.len() > 15, "{activities:?}");
    for role in [Role::Admin, Role::Dpo] {
        let cookie = c.staff(role).await;
        let page = c.get("/console/records", Some(&cookie)).await;
        assert_eq!(page.status, StatusCode::OK, "{role:?}");
        let body = page.text();
        household_support::check_page("/console/records", &body);
        let doc = Html::parse_document(&body);
        let h1: String = doc.select(&sel("h1")).next().unwrap().text().collect();
        assert_eq!(h1, "Records of processing");
        // In the console's navigation, marked as the current page.
        let current: Vec<String> = doc
            .select(&sel("nav[aria-label=\"Console\"] a[aria-current=\"page\"]"))
            .map(|a| a.text().collect())
            .collect();
        assert_eq!(current, ["Records of processing"], "{role:?}");
        // Every product has its heading, every purpose its column.
        for m in c.state().products().iter() {
            let id = format!("#product-{}", m.product.id.value);
            let h2: String = doc.select(&sel(&id)).next().unwrap().text().collect();
            assert!(h2.starts_with(&m.product.name.value), "{h2}");
        }
        let purpose_columns: Vec<String> = doc
            .select(&sel("thead th[scope=\"col\"]"))
            .map(|th| th.text().collect::<String>())
            .filter(|t| t != "Column of the record")
            .collect();
        let expected: Vec<String> = activities.iter().map(|(_, p)| p.clone()).collect();
        assert_eq!(purpose_columns, expected);
        // At most four purposes beside the row headers: the tables fit the page's width.
        for table in doc.select(&sel("table")) {
            for tr in table.select(&sel("tr")) {
                let cells = tr.select(&sel("th, td")).count();
                assert!(cells <= 5, "a row of {cells} cells");
            }
        }
        assert!(body.contains("Nimbus Speech Inc: the UK International Data Transfer Agreement"));
        assert!(body.contains("temperature_c: 400 days"));
        for link in ["/console/records.csv", "/console/records.xlsx"] {
            assert!(
                doc.select(&sel(&format!("a[href=\"{link}\"]")))
                    .next()
                    .is_some(),
                "{link}"
            );
        }
    }
}

#[tokio::test]
async fn the_downloads_are_attachments_of_the_right_type_with_every_row() {
    let c = Console::new().await;
    let rows = activities(c.state()).len();
    let cookie = c.staff(Role::Dpo).await;

    let csv = c.get("/console/records.csv", Some(&cookie)).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(csv.header(header::CONTENT_TYPE), "text/csv; charset=utf-8");
    assert_eq!(
        csv.header(header::CONTENT_DISPOSITION),
        "attachment; filename=\"records-of-processing.csv\""
    );
    let text = csv.text();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().unwrap().clone();
    assert_eq!(&header[0], "Controller");
    assert_eq!(&header[20], "Link to DPIA");
    assert_eq!(reader.records().count(), rows);

    let xlsx = c.get("/console/records.xlsx", Some(&cookie)).await;
    assert_eq!(xlsx.status, StatusCode::OK);
    assert_eq!(
        xlsx.header(header::CONTENT_TYPE),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert_eq!(
        xlsx.header(header::CONTENT_DISPOSITION),
        "attachment; filename=\"records-of-processing.xlsx\""
    );
    // An OOXML package: a zip holding the worksheet and its strings.
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(xlsx.body.clone())).unwrap();
    zip.by_name("xl/worksheets/sheet1.xml").unwrap();
    let mut strings = String::new();
    zip.by_name("xl/sharedStrings.xml")
        .unwrap()
        .read_to_string(&mut strings)
        .unwrap();
    assert!(strings.contains("Nimbus Speech Inc: the UK International Data Transfer Agreement"));
}

#[tokio::test]
async fn support_analyst_and_household_accounts_are_refused() {
    let c = Console::new().await;
    for role in [Role::Support, Role::Analyst] {
        let cookie = c.staff(role).await;
        for path in PAGES {
            let page = c.get(path, Some(&cookie)).await;
            assert_eq!(page.status, StatusCode::FORBIDDEN, "{role:?} {path}");
            assert!(
                page.header(header::CONTENT_DISPOSITION).is_empty(),
                "{role:?} {path}: nothing to download"
            );
            assert!(
                !page.text().contains("Nimbus Speech Inc"),
                "{role:?} {path}"
            );
        }
        // Nor is it offered in their navigation.
        let overview = c.get("/console", Some(&cookie)).await.text();
        assert!(overview.contains("<nav aria-label=\"Console\">"));
        assert!(!overview.contains("href=\"/console/records\""), "{role:?}");
    }
    let member = c.member().await;
    for path in PAGES {
        let page = c.get(path, Some(&member)).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "member {path}");
    }
    for path in PAGES {
        let page = c.get(path, None).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "signed out {path}");
        assert!(page.header(header::LOCATION).starts_with("/login?next="));
    }
}
