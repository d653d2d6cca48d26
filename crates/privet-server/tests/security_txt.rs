//! `/.well-known/security.txt` from a real server on a free port: public (no credentials),
//! `text/plain; charset=utf-8`, RFC 9116 fields from configuration, and 404 when none is
//! configured.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use privet_server::security_txt::{SecurityTxt, SecurityTxtSettings};
use privet_server::{Config, Server};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

mod common;

/// A served instance: its address, and how to stop it.
struct Running {
    addr: std::net::SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    serving: tokio::task::JoinHandle<Result<(), privet_server::ServeError>>,
    _dir: tempfile::TempDir,
}

async fn serve(security_txt: Option<SecurityTxt>) -> Running {
    let dir = tempfile::tempdir().unwrap();
    let clock = common::clock();
    let config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        security_txt,
        ..Config::default()
    };
    let parts = common::parts(dir.path(), common::example_products(&clock), clock);
    let server = Server::bind(config, parts).await.unwrap();
    let addr = server.local_addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(server.run_until(async {
        let _ = stopped.await;
    }));
    Running {
        addr,
        stop,
        serving,
        _dir: dir,
    }
}

impl Running {
    /// `GET path` over a fresh connection, as a reporter's tool would: no credentials.
    async fn get(&self, path: &str) -> (u16, String, String) {
        let mut conn = tokio::net::TcpStream::connect(self.addr).await.unwrap();
        conn.write_all(
            format!("GET {path} HTTP/1.1\r\nHost: privet.test\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
        .await
        .unwrap();
        let mut raw = Vec::new();
        conn.read_to_end(&mut raw).await.unwrap();
        let text = String::from_utf8(raw).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap();
        let content_type = head
            .lines()
            .find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.eq_ignore_ascii_case("content-type")
                    .then(|| value.trim().to_owned())
            })
            .unwrap_or_default();
        (status, content_type, body.to_owned())
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        self.serving.await.unwrap().unwrap();
    }
}

fn settings() -> SecurityTxtSettings {
    SecurityTxtSettings {
        contact: vec![
            "mailto:security@acme.example".to_owned(),
            "https://acme.example/report".to_owned(),
        ],
        policy: vec!["https://acme.example/disclosure".to_owned()],
        preferred_languages: Some("en, cy".to_owned()),
        ..SecurityTxtSettings::default()
    }
}

#[tokio::test]
async fn security_txt_is_served_to_anyone_as_plain_text() {
    let now = common::clock().now();
    let file = SecurityTxt::from_settings(&settings(), now).unwrap();
    let server = serve(file).await;
    let (status, content_type, body) = server.get("/.well-known/security.txt").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(content_type, "text/plain; charset=utf-8");
    let fields: Vec<&str> = body.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(
        fields,
        [
            "Contact: mailto:security@acme.example",
            "Contact: https://acme.example/report",
            // Just under a year after the server clock's now (2026-12-05T10:00:00Z).
            "Expires: 2027-12-04T10:00:00Z",
            "Preferred-Languages: en, cy",
            "Policy: https://acme.example/disclosure",
        ]
    );
    server.stop().await;
}

#[tokio::test]
async fn without_configuration_it_is_not_found() {
    let server = serve(None).await;
    let (status, content_type, _) = server.get("/.well-known/security.txt").await;
    assert_eq!(status, 404);
    assert_eq!(content_type, "application/problem+json");
    server.stop().await;
}

#[test]
fn the_openapi_document_lists_it() {
    let (_, doc) = privet_server::routes::api();
    assert!(doc.paths.paths.contains_key("/.well-known/security.txt"));
}
