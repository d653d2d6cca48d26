//! Server configuration: limits and intervals. Where data lives is the opener's business
//! (the `privet` binary opens a backend from its URL).

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

/// The master-key rotation period unless configured: 30 days.
pub const DEFAULT_KEY_ROTATION_PERIOD: Duration = Duration::from_secs(30 * 24 * 60 * 60);

/// How long a client may take to send a request's head (request line and headers): 30 s, from
/// when the connection opened or, on a kept-alive one, from the request's first byte.
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a request's whole body may take once its head has arrived: 60 s, so the largest
/// body allowed by default (8 MiB) still arrives over a 1.5 Mbit/s uplink.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(60);

/// How long a kept-alive connection may wait for its next request: 75 s, longer than the 60 s
/// reverse proxies and load balancers keep idle upstream connections (nginx, AWS ALB), so the
/// proxy closes first and never sends a request on a connection the server is closing.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(75);

/// Most connections open at once unless configured; the `privet` binary lowers it to what the
/// process's open-file limit leaves room for.
pub const DEFAULT_MAX_CONNECTIONS: usize = 4096;

/// How long clients may hold a connection without using it, and how many may be open: what
/// keeps slow or idle clients from starving everyone else (`serve`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// A request's head must arrive within this, or the connection is closed (with a 408 if
    /// part of a request came).
    pub header_timeout: Duration,
    /// A request's body must arrive within this of its head, or it is answered 408 and the
    /// connection closed.
    pub body_timeout: Duration,
    /// A kept-alive connection with no request for this long is closed.
    pub idle_timeout: Duration,
    /// Most connections open at once; at the cap the one idle longest is closed to admit a
    /// new one, and when none is idle the new one is refused with a 503.
    pub max_connections: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            body_timeout: DEFAULT_BODY_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }
}

/// Where built-in TLS finds its certificate and key: read at start and again on SIGHUP.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFiles {
    /// PEM certificate chain, the server's own certificate first.
    pub cert: PathBuf,
    /// PEM private key (PKCS#8, unencrypted): ECDSA P-256 or P-384, Ed25519, or RSA.
    pub key: PathBuf,
}

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
    /// Mark cookies `Secure`; `None`: unless serving plain HTTP on loopback. Served over
    /// [`Config::tls`], they are `Secure` whatever this says.
    pub secure_cookies: Option<bool>,
    /// Serve HTTPS with this certificate and key instead of plain HTTP.
    pub tls: Option<TlsFiles>,
    /// Reverse proxies whose `X-Forwarded-For` is believed; from anyone else the header is
    /// ignored and the peer's address is the client's.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// How often the operator rotates the master key (`privet keyring rotate`, then retires
    /// the old epoch), when the keyring keeps no period yet: it is then stored there. Once
    /// one is kept, the keyring's is what every instance's receipts count with
    /// (`service::instance_secrets::rotation_period`), so instances never promise different
    /// dates. It must not exceed backup retention.
    pub key_rotation_period: Duration,
    /// Timeouts and the cap on open connections.
    pub connections: ConnectionLimits,
    /// `/.well-known/security.txt` for the operator; `None`: not served (404).
    pub security_txt: Option<crate::security_txt::SecurityTxt>,
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
            tls: None,
            trusted_proxies: Vec::new(),
            key_rotation_period: DEFAULT_KEY_ROTATION_PERIOD,
            connections: ConnectionLimits::default(),
            security_txt: None,
        }
    }
}

impl Config {
    /// The client's address: the peer's, or — when the peer is a trusted proxy — the
    /// right-most address in `X-Forwarded-For` that is not a trusted proxy itself (addresses
    /// further left were written by the client and prove nothing).
    ///
    /// `forwarded_for` holds the header's lines in the order received: a request may carry the
    /// header more than once, and the lines together are one list (RFC 9110 §5.3), the proxy's
    /// own hop in the last. IPv4-mapped IPv6 addresses (`::ffff:192.0.2.1`, what a dual-stack
    /// socket reports for an IPv4 peer) are taken as the IPv4 address they hold, for the peer
    /// and each hop, before they are matched against the trusted proxies and returned.
    pub fn client_ip(&self, peer: IpAddr, forwarded_for: &[&str]) -> IpAddr {
        let trusted = |ip: &IpAddr| self.trusted_proxies.iter().any(|n| n.contains(ip));
        let peer = peer.to_canonical();
        if !trusted(&peer) {
            return peer;
        }
        let mut last = peer;
        for hop in forwarded_for.iter().rev().flat_map(|line| line.rsplit(',')) {
            match hop.trim().parse::<IpAddr>().map(|ip| ip.to_canonical()) {
                Ok(ip) if trusted(&ip) => last = ip,
                Ok(ip) => return ip,
                // A malformed hop: nothing left of it can be believed.
                Err(_) => return last,
            }
        }
        last
    }

    /// Whether cookies carry `Secure`: always over built-in TLS; otherwise as configured
    /// (behind a proxy that terminates TLS), or unless serving plain HTTP on loopback (where
    /// browsers would drop them).
    pub fn cookie_secure(&self) -> bool {
        self.tls.is_some()
            || self
                .secure_cookies
                .unwrap_or(!self.listen.ip().is_loopback())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))
    }

    fn behind(proxies: &[&str]) -> Config {
        Config {
            trusted_proxies: proxies
                .iter()
                .map(|p| p.parse().unwrap_or_else(|_| ipnet::IpNet::default()))
                .collect(),
            ..Config::default()
        }
    }

    #[test]
    fn cookies_are_secure_over_tls_whatever_else_is_configured() {
        let loopback = Config::default();
        assert!(!loopback.cookie_secure(), "plain HTTP on loopback");
        let proxied = Config {
            secure_cookies: Some(true),
            ..Config::default()
        };
        assert!(
            proxied.cookie_secure(),
            "behind a proxy that terminates TLS"
        );
        let public = Config {
            listen: SocketAddr::from(([192, 0, 2, 1], 8080)),
            ..Config::default()
        };
        assert!(public.cookie_secure(), "plain HTTP off loopback");
        let tls = TlsFiles {
            cert: PathBuf::from("cert.pem"),
            key: PathBuf::from("key.pem"),
        };
        for secure_cookies in [None, Some(false), Some(true)] {
            let served = Config {
                tls: Some(tls.clone()),
                secure_cookies,
                ..Config::default()
            };
            assert!(served.cookie_secure(), "over TLS ({secure_cookies:?})");
        }
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let config = behind(&["10.0.0.0/8"]);
        let peer_proxy = ip("10.0.0.5");
        let stranger = ip("203.0.113.9");
        assert_eq!(
            config.client_ip(stranger, &["198.51.100.1"]),
            stranger,
            "not a proxy"
        );
        assert_eq!(config.client_ip(peer_proxy, &[]), peer_proxy);
        assert_eq!(
            config.client_ip(peer_proxy, &["198.51.100.1"]),
            ip("198.51.100.1")
        );
        assert_eq!(
            config.client_ip(peer_proxy, &["1.1.1.1, 198.51.100.1, 10.0.0.7"]),
            ip("198.51.100.1"),
            "the right-most untrusted hop; the client wrote the rest"
        );
        assert_eq!(
            config.client_ip(peer_proxy, &["junk, 10.0.0.7"]),
            ip("10.0.0.7")
        );
        let none = Config::default();
        assert_eq!(
            none.client_ip(peer_proxy, &["198.51.100.1"]),
            peer_proxy,
            "no proxies configured"
        );
    }

    #[test]
    fn every_forwarded_for_line_counts_in_order() {
        let config = behind(&["10.0.0.0/8"]);
        let proxy = ip("10.0.0.5");
        // The client sent its own header; the proxy appended its hop as a second line.
        assert_eq!(
            config.client_ip(proxy, &["6.6.6.6", "198.51.100.1"]),
            ip("198.51.100.1"),
            "the first line is the client's: the proxy's line decides"
        );
        assert_eq!(
            config.client_ip(proxy, &["198.51.100.1, 10.0.0.8", "10.0.0.7"]),
            ip("198.51.100.1"),
            "trusted hops are skipped across lines"
        );
        assert_eq!(
            config.client_ip(proxy, &["198.51.100.1", "junk"]),
            proxy,
            "a malformed last line is believed no further"
        );
    }

    #[test]
    fn ipv4_mapped_addresses_are_matched_and_returned_as_ipv4() {
        let config = behind(&["10.0.0.0/8"]);
        assert_eq!(
            config.client_ip(ip("::ffff:10.0.0.5"), &["198.51.100.1"]),
            ip("198.51.100.1"),
            "a mapped peer is the trusted proxy it is"
        );
        assert_eq!(
            config.client_ip(ip("10.0.0.5"), &["198.51.100.1, ::ffff:10.0.0.7"]),
            ip("198.51.100.1"),
            "a mapped hop is a trusted proxy too"
        );
        assert_eq!(
            config.client_ip(ip("10.0.0.5"), &["::ffff:198.51.100.1"]),
            ip("198.51.100.1"),
            "one client, one address, however it was written"
        );
        assert_eq!(
            config.client_ip(ip("::ffff:203.0.113.9"), &["198.51.100.1"]),
            ip("203.0.113.9"),
            "an untrusted mapped peer is its IPv4 address"
        );
        let v6 = behind(&["2001:db8::/32"]);
        assert_eq!(
            v6.client_ip(ip("2001:db8::1"), &["2001:db8::2, 2001:db9::5"]),
            ip("2001:db9::5"),
            "plain IPv6 is left as it is"
        );
    }
}
