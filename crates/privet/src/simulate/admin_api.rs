//! The operator calls a fleet is set up with: households, members, devices and consents,
//! over HTTP with an admin API key.

use anyhow::{Context, bail};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::time::Duration;

/// An HTTP client for the operator API, holding an admin key.
#[derive(Clone)]
pub(crate) struct AdminApi {
    http: reqwest::Client,
    base: String,
    key: String,
}

/// A device as `POST /v1/devices` creates it.
#[derive(Deserialize)]
pub(crate) struct CreatedDevice {
    /// Device id.
    pub(crate) id: String,
    /// The device's bearer token (never printed).
    pub(crate) token: String,
}

#[derive(Deserialize)]
struct Created {
    id: String,
}

/// The `detail` of a problem+json answer.
#[derive(Deserialize)]
struct Problem {
    #[serde(default)]
    detail: String,
}

/// An HTTP client for a local server: no proxies, plain HTTP, bounded waits.
pub(crate) fn http_client() -> anyhow::Result<reqwest::Client> {
    reqwest::Client::builder()
        .no_proxy()
        .tcp_nodelay(true)
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(120))
        .build()
        .context("cannot build the HTTP client")
}

/// `url` without a trailing slash.
pub(crate) fn base_url(url: &str) -> String {
    url.trim_end_matches('/').to_owned()
}

impl AdminApi {
    /// A client for the server at `url` using the admin API key `key`.
    pub(crate) fn new(url: &str, key: String) -> anyhow::Result<Self> {
        Ok(AdminApi {
            http: http_client()?,
            base: base_url(url),
            key,
        })
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: &Value,
    ) -> anyhow::Result<T> {
        let url = format!("{}{path}", self.base);
        let resp = self
            .http
            .request(method.clone(), &url)
            .bearer_auth(&self.key)
            .json(body)
            .send()
            .await
            .with_context(|| format!("{method} {url}: no answer"))?;
        let status = resp.status();
        if !status.is_success() {
            let detail = resp
                .json::<Problem>()
                .await
                .map(|p| p.detail)
                .unwrap_or_default();
            bail!("{method} {url}: HTTP {status}: {detail}");
        }
        resp.json::<T>()
            .await
            .with_context(|| format!("{method} {url}: unexpected answer"))
    }

    /// Creates a household; returns its id.
    pub(crate) async fn household(&self, name: &str) -> anyhow::Result<String> {
        let c: Created = self
            .call(
                reqwest::Method::POST,
                "/v1/households",
                &json!({"name": name}),
            )
            .await?;
        Ok(c.id)
    }

    /// Adds a member to a household; returns its id.
    pub(crate) async fn member(
        &self,
        household: &str,
        name: &str,
        child: bool,
    ) -> anyhow::Result<String> {
        let c: Created = self
            .call(
                reqwest::Method::POST,
                &format!("/v1/households/{household}/members"),
                &json!({"name": name, "child": child}),
            )
            .await?;
        Ok(c.id)
    }

    /// Registers a device of `product` in a household, optionally a member's own.
    pub(crate) async fn device(
        &self,
        product: &str,
        household: &str,
        member: Option<&str>,
    ) -> anyhow::Result<CreatedDevice> {
        let mut body = json!({"product": product, "household": household});
        if let Some(m) = member {
            body["member"] = Value::String(m.to_owned());
        }
        self.call(reqwest::Method::POST, "/v1/devices", &body).await
    }

    /// Grants (or withdraws) a subject's consent to a purpose of one product.
    pub(crate) async fn consent(
        &self,
        subject: &str,
        purpose: &str,
        product: &str,
        granted: bool,
    ) -> anyhow::Result<()> {
        let _: Value = self
            .call(
                reqwest::Method::PUT,
                &format!("/v1/subjects/{subject}/consents/{purpose}"),
                &json!({"granted": granted, "product": product, "channel": "app"}),
            )
            .await?;
        Ok(())
    }
}
