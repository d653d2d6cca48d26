//! Where the broker is and who Privet is there: `mqtt://USER:PASS@HOST:PORT` or `mqtts://…`,
//! turned into client options. The password never reaches a log or an error.

use crate::mqtt::MqttError;
use rumqttc::v5::MqttOptions;
use rumqttc::{TlsConfiguration, Transport};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// A parsed broker URL.
#[derive(Clone)]
pub struct BrokerUrl {
    /// Host name or address.
    pub host: String,
    /// Port (1883 for `mqtt`, 8883 for `mqtts` when the URL gives none).
    pub port: u16,
    /// Whether to speak TLS.
    pub tls: bool,
    /// The user name, percent-decoded.
    pub username: Option<String>,
    password: Option<String>,
}

impl fmt::Debug for BrokerUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl BrokerUrl {
    /// Parses `mqtt://` or `mqtts://` with optional credentials; nothing else (no path, query
    /// or fragment, which a broker URL never needs).
    pub fn parse(text: &str) -> Result<BrokerUrl, MqttError> {
        let bad = |why: &'static str| MqttError::Url(why);
        let url = url::Url::parse(text.trim()).map_err(|_| bad("not a URL"))?;
        let tls = match url.scheme() {
            "mqtt" | "tcp" => false,
            "mqtts" | "ssl" => true,
            _ => return Err(bad("the scheme must be mqtt:// or mqtts://")),
        };
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or(bad("no host"))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        if !matches!(url.path(), "" | "/") || url.query().is_some() || url.fragment().is_some() {
            return Err(bad("a broker URL has no path, query or fragment"));
        }
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8()
                .map(|c| c.into_owned())
                .map_err(|_| bad("the credentials are not UTF-8"))
        };
        let username = match url.username() {
            "" => None,
            u => Some(decode(u)?),
        };
        let password = url.password().map(decode).transpose()?;
        if password.is_some() && username.is_none() {
            return Err(bad("a password without a user name"));
        }
        Ok(BrokerUrl {
            port: url.port().unwrap_or(if tls { 8883 } else { 1883 }),
            host,
            tls,
            username,
            password,
        })
    }

    /// The URL with the password replaced by `***`, for logs and messages.
    pub fn redacted(&self) -> String {
        let scheme = if self.tls { "mqtts" } else { "mqtt" };
        let auth = match (&self.username, &self.password) {
            (Some(u), Some(_)) => format!("{u}:***@"),
            (Some(u), None) => format!("{u}@"),
            _ => String::new(),
        };
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        format!("{scheme}://{auth}{host}:{}", self.port)
    }

    /// The same broker as another user (a device, in tests and benchmarks).
    pub fn with_credentials(&self, username: &str, password: &str) -> BrokerUrl {
        BrokerUrl {
            username: Some(username.to_owned()),
            password: Some(password.to_owned()),
            ..self.clone()
        }
    }

    /// MQTT v5 client options for `client_id`: credentials, keep-alive and, for `mqtts`, TLS
    /// trusting `ca_file` (PEM) or else the system's roots.
    pub fn options(&self, client_id: &str, tls: &TlsSettings) -> Result<MqttOptions, MqttError> {
        let mut o = MqttOptions::new(client_id, self.host.clone(), self.port);
        o.set_keep_alive(Duration::from_secs(30));
        o.set_connection_timeout(10);
        if let Some(u) = &self.username {
            o.set_credentials(u.clone(), self.password.clone().unwrap_or_default());
        }
        if self.tls {
            o.set_transport(Transport::tls_with_config(TlsConfiguration::Rustls(
                tls.client_config()?,
            )));
        }
        Ok(o)
    }
}

/// How to trust the broker's certificate.
#[derive(Clone, Debug, Default)]
pub struct TlsSettings {
    /// A PEM file of CA certificates; `None`: the system's roots.
    pub ca_file: Option<PathBuf>,
}

impl TlsSettings {
    fn client_config(&self) -> Result<Arc<rustls::ClientConfig>, MqttError> {
        let mut roots = rustls::RootCertStore::empty();
        match &self.ca_file {
            Some(path) => {
                for cert in read_pem_certs(path)? {
                    roots
                        .add(cert)
                        .map_err(|_| MqttError::Tls("a CA certificate in the file is not valid"))?;
                }
            }
            None => {
                let found = rustls_native_certs::load_native_certs();
                for cert in found.certs {
                    // A system store may hold certificates rustls cannot use; the rest serve.
                    let _ = roots.add(cert);
                }
            }
        }
        if roots.is_empty() {
            return Err(MqttError::Tls("no CA certificate to trust the broker with"));
        }
        // ring, not aws-lc-rs: no C toolchain beyond `cc` to build. It is deprecated for lacking
        // post-quantum key exchange, which a link to the maker's own broker can do without.
        #[allow(deprecated)]
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|_| MqttError::Tls("no TLS version in common"))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Arc::new(config))
    }
}

fn read_pem_certs(
    path: &Path,
) -> Result<Vec<rustls::pki_types::CertificateDer<'static>>, MqttError> {
    use rustls::pki_types::pem::PemObject as _;
    let iter =
        rustls::pki_types::CertificateDer::pem_file_iter(path).map_err(|_| MqttError::CaFile {
            path: path.to_owned(),
        })?;
    let certs = iter
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| MqttError::CaFile {
            path: path.to_owned(),
        })?;
    if certs.is_empty() {
        return Err(MqttError::CaFile {
            path: path.to_owned(),
        });
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_credentials_and_defaults_and_never_shows_the_password() {
        let u = BrokerUrl::parse("mqtt://bridge:s%40cret@broker.example:1884").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.tls),
            ("broker.example", 1884, false)
        );
        assert_eq!(u.username.as_deref(), Some("bridge"));
        assert_eq!(u.password.as_deref(), Some("s@cret"));
        assert_eq!(u.redacted(), "mqtt://bridge:***@broker.example:1884");
        assert!(!format!("{u:?}").contains("cret"));
        let t = BrokerUrl::parse("mqtts://[::1]").unwrap();
        assert_eq!((t.host.as_str(), t.port, t.tls), ("::1", 8883, true));
        assert_eq!(t.redacted(), "mqtts://[::1]:8883");
        assert_eq!(BrokerUrl::parse("mqtt://h").unwrap().port, 1883);
    }

    #[test]
    fn refuses_what_is_not_a_broker_url() {
        for bad in [
            "http://h:1883",
            "mqtt://",
            "mqtt://h/x",
            "mqtt://h?q=1",
            "mqtt://:pw@h",
            "nonsense",
        ] {
            let e = BrokerUrl::parse(bad).err();
            assert!(e.is_some(), "{bad} accepted");
            assert!(!e.map(|e| e.to_string()).unwrap_or_default().contains("pw"));
        }
    }

    #[test]
    fn a_missing_or_empty_ca_file_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("ca.pem");
        std::fs::write(&empty, "").unwrap();
        let u = BrokerUrl::parse("mqtts://h").unwrap();
        for path in [empty, dir.path().join("missing.pem")] {
            let tls = TlsSettings {
                ca_file: Some(path),
            };
            assert!(matches!(
                u.options("c", &tls),
                Err(MqttError::CaFile { .. })
            ));
        }
    }
}
