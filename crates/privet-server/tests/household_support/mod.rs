//! Harness for the household page tests: the real router over a temporary data directory and
//! the example manifests, a cookie-keeping client, and checks every page's HTML must pass.
#![allow(dead_code, unreachable_pub)]

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use privet_server::service::devices::{self, Registered};
use privet_server::{AppState, Config};
use privet_store::SubjectId;
use scraper::{ElementRef, Html, Selector};
use tempfile::TempDir;
use tower::ServiceExt;

/// The thermostat: a household stream, a member stream, and optional purposes.
pub const THERMOSTAT: &str = "wren-thermostat-2";
/// The speaker: recordings (`user.sensor.audio`) and usage statistics on legitimate interests.
pub const SPEAKER: &str = "hearth-speaker-3";
/// A password the policy accepts.
pub const PASSWORD: &str = "correct pony battery staple lagoon";

/// A server's state and router over a fresh data directory.
pub struct App {
    pub state: AppState,
    pub router: Router,
    _dir: TempDir,
}

/// A new application with the example manifests, on a manual clock.
pub fn app() -> App {
    let dir = tempfile::tempdir().unwrap();
    let clock = crate::common::clock();
    let products = crate::common::example_products(&clock);
    let state = AppState::new(
        Config::default(),
        crate::common::parts(dir.path(), products, clock),
    );
    App {
        router: privet_server::routes::router(state.clone()),
        state,
        _dir: dir,
    }
}

impl App {
    /// Registers a thermostat: attached to `household`, or waiting to be claimed.
    pub async fn thermostat(&self, household: Option<&SubjectId>) -> Registered {
        devices::register(&self.state, THERMOSTAT, household, None, "system")
            .await
            .unwrap()
    }

    /// Registers a device of `product` attached to `household`.
    pub async fn device(&self, product: &str, household: &SubjectId) -> Registered {
        devices::register(&self.state, product, Some(household), None, "system")
            .await
            .unwrap()
    }

    /// Sends `events` as the device with `token`; returns the ingest answer.
    pub async fn ingest(&self, token: &str, events: serde_json::Value) -> serde_json::Value {
        let req = Request::post("/v1/ingest")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(events.to_string()))
            .unwrap();
        let resp = self.router.clone().oneshot(req).await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
            .await
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    /// How many devices `household` has.
    pub async fn device_count(&self, household: &SubjectId) -> usize {
        self.state
            .store()
            .devices_of(household)
            .await
            .unwrap()
            .len()
    }
}

/// An answer: status, headers and body.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
    /// The body as sent (a download's bytes).
    pub bytes: Vec<u8>,
}

impl Answer {
    /// Where a redirect goes.
    pub fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The parsed page.
    pub fn html(&self) -> Html {
        Html::parse_document(&self.body)
    }

    /// The value of the first hidden input named `name`.
    pub fn hidden(&self, name: &str) -> String {
        let sel = Selector::parse(&format!("input[name=\"{name}\"]")).unwrap();
        self.html()
            .select(&sel)
            .next()
            .and_then(|e| e.value().attr("value"))
            .unwrap_or("")
            .to_owned()
    }
}

/// A browser: keeps the session cookie between requests.
pub struct Client {
    router: Router,
    pub cookie: Option<String>,
}

impl Client {
    pub fn new(app: &App) -> Client {
        Client {
            router: app.router.clone(),
            cookie: None,
        }
    }

    async fn send(&mut self, req: Request<Body>) -> Answer {
        let resp = self.router.clone().oneshot(req).await.unwrap();
        for c in resp.headers().get_all(header::SET_COOKIE) {
            let c = c.to_str().unwrap();
            if let Some(rest) = c.strip_prefix("privet_session=") {
                let value = rest.split(';').next().unwrap_or("");
                self.cookie = (!value.is_empty() && !c.contains("Max-Age=0"))
                    .then(|| format!("privet_session={value}"));
            }
        }
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = axum::body::to_bytes(resp.into_body(), 16 << 20)
            .await
            .unwrap();
        Answer {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
            bytes: bytes.to_vec(),
        }
    }

    fn request(&self, method: &str, path: &str) -> axum::http::request::Builder {
        let mut b = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, "127.0.0.1:8080");
        if let Some(c) = &self.cookie {
            b = b.header(header::COOKIE, c);
        }
        b
    }

    pub async fn get(&mut self, path: &str) -> Answer {
        let req = self.request("GET", path).body(Body::empty()).unwrap();
        self.send(req).await
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Answer {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let req = self
            .request("POST", path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ORIGIN, "http://127.0.0.1:8080")
            .body(Body::from(body))
            .unwrap();
        self.send(req).await
    }

    /// The CSRF token of this session, read from a page's forms.
    pub async fn csrf(&mut self) -> String {
        self.get("/account/security").await.hidden("csrf")
    }

    /// Confirms setting up the device with claim `code`, switching on `purposes`.
    pub async fn confirm_setup(&mut self, csrf: &str, code: &str, purposes: &[&str]) -> Answer {
        let mut form = vec![("csrf", csrf), ("claim_code", code)];
        form.extend(purposes.iter().map(|p| ("purpose", *p)));
        self.post("/setup/confirm", &form).await
    }

    /// Signs up as the owner of a new household.
    pub async fn sign_up(&mut self, email: &str, household: &str) -> Answer {
        let a = self
            .post(
                "/signup",
                &[
                    ("name", "Alex"),
                    ("email", email),
                    ("password", PASSWORD),
                    ("household_name", household),
                ],
            )
            .await;
        assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
        a
    }
}

/// A signed-up household owner.
pub async fn owner(app: &App, email: &str) -> Client {
    let mut c = Client::new(app);
    c.sign_up(email, "The Testers").await;
    c
}

/// A subject id from the My data page's export links (`hh` household, `mb` member).
pub async fn subject_of(c: &mut Client, prefix: &str) -> SubjectId {
    let body = c.get("/my-data").await.body;
    let link = format!("/v1/subjects/{prefix}");
    let start = body.find(&link).expect("export link") + "/v1/subjects/".len();
    let id: String = body[start..].chars().take_while(|c| *c != '/').collect();
    SubjectId::new(id)
}

fn sel(s: &str) -> Selector {
    Selector::parse(s).unwrap()
}

fn has_label(doc: &Html, e: &ElementRef<'_>) -> bool {
    let inside = e
        .ancestors()
        .filter_map(ElementRef::wrap)
        .any(|a| a.value().name() == "label");
    let by_for = e.value().id().is_some_and(|id| {
        doc.select(&sel("label"))
            .any(|l| l.value().attr("for") == Some(id))
    });
    inside || by_for
}

/// What every page must be: one `<h1>`, a `<main>`, `lang="en-GB"`, a label for every field,
/// captions on tables, scoped header cells, headings that do not skip a level, no script.
pub fn check_page(path: &str, body: &str) {
    let doc = Html::parse_document(body);
    assert_eq!(doc.select(&sel("h1")).count(), 1, "{path}: one <h1>");
    assert_eq!(doc.select(&sel("main")).count(), 1, "{path}: one <main>");
    assert!(
        doc.select(&sel("html[lang=\"en-GB\"]")).next().is_some(),
        "{path}: lang=en-GB"
    );
    assert!(
        !body.to_ascii_lowercase().contains("<script"),
        "{path}: no script"
    );
    for e in doc.select(&sel("input, select, textarea")) {
        let kind = e.value().attr("type").unwrap_or("text");
        if matches!(kind, "hidden" | "submit" | "button") {
            continue;
        }
        assert!(
            has_label(&doc, &e),
            "{path}: field {:?} has no label",
            e.value().attr("name")
        );
    }
    for t in doc.select(&sel("table")) {
        assert!(
            t.select(&sel("caption")).next().is_some(),
            "{path}: table without caption"
        );
    }
    for th in doc.select(&sel("th")) {
        assert!(
            th.value().attr("scope").is_some(),
            "{path}: <th> without scope"
        );
    }
    let mut level = 0;
    for h in doc.select(&sel("h1, h2, h3, h4, h5, h6")) {
        let n: u32 = h.value().name()[1..].parse().unwrap();
        assert!(n <= level + 1, "{path}: heading h{n} after h{level}");
        level = n;
    }
    for e in doc.select(&sel("[aria-describedby]")) {
        for id in e
            .value()
            .attr("aria-describedby")
            .unwrap()
            .split_whitespace()
        {
            assert!(
                doc.select(&sel(&format!("[id=\"{id}\"]"))).next().is_some(),
                "{path}: aria-describedby names a missing id {id}"
            );
        }
    }
}

/// The text of every `<h1>`–`<h3>`, for asserting a page's structure.
pub fn headings(body: &str) -> Vec<String> {
    Html::parse_document(body)
        .select(&sel("h1, h2, h3"))
        .map(|h| h.text().collect::<String>().trim().to_owned())
        .collect()
}
