//! Server configuration: limits and intervals. Where data lives is the opener's business
//! (the `privet` binary opens a backend from its URL).

use std::net::SocketAddr;
use std::time::Duration;

/// How a server instance runs.
#[derive(Clone, Debug)]
pub struct Config {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Largest request body accepted, in bytes (413 beyond).
    pub max_body_bytes: usize,
    /// Most events in one ingest batch (413 beyond).
    pub max_batch_events: usize,
    /// Sustained ingest requests per second allowed per device (429 beyond).
    pub device_requests_per_second: u32,
    /// Burst of ingest requests allowed per device.
    pub device_burst: u32,
    /// How far in the future an event's timestamp may be.
    pub max_clock_skew: Duration,
    /// How often the retention sweeper runs.
    pub retention_interval: Duration,
    /// Mark session cookies `Secure`; `None`: unless serving plain HTTP on loopback.
    pub secure_cookies: Option<bool>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            max_body_bytes: 8 * 1024 * 1024,
            max_batch_events: 10_000,
            device_requests_per_second: 50,
            device_burst: 100,
            max_clock_skew: Duration::from_secs(300),
            retention_interval: Duration::from_secs(60),
            secure_cookies: None,
        }
    }
}

impl Config {
    /// Whether session cookies carry `Secure`: always, except for plain HTTP on loopback
    /// (where browsers would drop them), unless configured.
    pub fn cookie_secure(&self) -> bool {
        self.secure_cookies
            .unwrap_or(!self.listen.ip().is_loopback())
    }
}
