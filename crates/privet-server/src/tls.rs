//! Built-in TLS (`privet serve --tls-cert FILE --tls-key FILE`): a certificate chain and its
//! key read from PEM files (`files`), served to every new handshake by
//! [`TlsCertificates`], and read again by [`TlsCertificates::reload`] (on SIGHUP) without
//! touching the connections already open. A reload that fails changes nothing: the
//! certificate served stays.
//!
//! rustls on ring, TLS 1.2 and 1.3 (rustls's safe defaults), ALPN `http/1.1` only: the
//! accept loop serves HTTP/1.1, so offering `h2` would promise what it cannot keep.

mod files;

use crate::config::TlsFiles;
use rustls::ServerConfig;
use rustls::crypto::CryptoProvider;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::{Arc, PoisonError, RwLock};

/// The `Strict-Transport-Security` value on every answer served over TLS: browsers that have
/// seen it use HTTPS only, for a year. Without `includeSubDomains`: that would bind every host
/// under this name (the maker's other services) to HTTPS too, which is the operator's call,
/// made at the name's apex, not Privet's. Never sent over plain HTTP, where it means nothing
/// and a proxy in front decides.
pub(crate) const STRICT_TRANSPORT_SECURITY: &str = "max-age=31536000";

/// Why a certificate or key could not be used. Each names the file; none holds key material.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file could not be read.
    #[error("cannot read {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// A file is far larger than any certificate chain or key.
    #[error("{} is larger than 1 MiB: not a certificate or key file", path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
    },
    /// A file is not well-formed PEM.
    #[error("{} is not well-formed PEM", path.display())]
    Pem {
        /// The file.
        path: PathBuf,
    },
    /// The certificate file holds no certificate.
    #[error("{} holds no PEM certificate (`-----BEGIN CERTIFICATE-----`)", path.display())]
    NoCertificate {
        /// The file.
        path: PathBuf,
    },
    /// The first certificate is not a certificate rustls can read.
    #[error("{} does not begin with a valid X.509 certificate", path.display())]
    BadCertificate {
        /// The file.
        path: PathBuf,
    },
    /// The key file holds no PKCS#8 key.
    #[error(
        "{} holds no unencrypted PKCS#8 private key (`-----BEGIN PRIVATE KEY-----`)",
        path.display()
    )]
    NoKey {
        /// The file.
        path: PathBuf,
    },
    /// The key file holds more than one key: which is meant is not a guess to make.
    #[error("{} holds more than one private key; keep only the certificate's", path.display())]
    SeveralKeys {
        /// The file.
        path: PathBuf,
    },
    /// The key is encrypted: the server starts unattended, with no one to ask a passphrase.
    #[error(
        "{} holds an encrypted private key; decrypt it into a file only Privet's user can \
         read (`openssl pkey -in {} -out key.pem`)",
        path.display(),
        path.display()
    )]
    EncryptedKey {
        /// The file.
        path: PathBuf,
    },
    /// The key is in another encoding than PKCS#8.
    #[error(
        "{} holds {format}; Privet reads PKCS#8 (`openssl pkey -in {} -out key.pem` converts it)",
        path.display(),
        path.display()
    )]
    KeyFormat {
        /// The file.
        path: PathBuf,
        /// What it holds.
        format: &'static str,
    },
    /// The key is PKCS#8 but of a kind rustls does not sign with.
    #[error(
        "{} holds a key rustls cannot use: ECDSA P-256 or P-384, Ed25519, or RSA of 2048 to \
         8192 bits are",
        path.display()
    )]
    UnsupportedKey {
        /// The file.
        path: PathBuf,
    },
    /// The key is not the first certificate's.
    #[error(
        "the key in {} does not match the first certificate in {} (the server's own \
         certificate comes first, then the chain)",
        key.display(),
        cert.display()
    )]
    KeyMismatch {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
    },
    /// rustls refused the configuration (it accepts every key the files yield).
    #[error("cannot configure TLS")]
    Config(#[source] rustls::Error),
}

/// The certificate and key served to new handshakes, and where they are read from.
pub struct TlsCertificates {
    files: TlsFiles,
    provider: Arc<CryptoProvider>,
    current: RwLock<Arc<CertifiedKey>>,
}

impl TlsCertificates {
    /// Reads and checks the certificate chain and key `files` name.
    pub fn load(files: TlsFiles) -> Result<TlsCertificates, TlsError> {
        // ring, as the MQTT bridge: aws-lc-rs would need cmake and a C toolchain to build.
        // rustls deprecates it for lacking post-quantum key exchange (X25519MLKEM768): clients
        // that offer it fall back to X25519, forward-secret but not quantum-safe.
        #[allow(deprecated)]
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let current = files::certified_key(&files, &provider)?;
        Ok(TlsCertificates {
            files,
            provider,
            current: RwLock::new(Arc::new(current)),
        })
    }

    /// Reads the files again: from now on new handshakes get what they hold. On an error the
    /// certificate served stays; connections already open keep theirs either way.
    pub fn reload(&self) -> Result<(), TlsError> {
        let fresh = Arc::new(files::certified_key(&self.files, &self.provider)?);
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = fresh;
        Ok(())
    }

    /// Where the certificate and key are read from.
    pub fn files(&self) -> &TlsFiles {
        &self.files
    }

    /// The SHA-256 fingerprint of the certificate served now, as `openssl x509 -noout
    /// -fingerprint -sha256` prints it (`AB:CD:…`): public, and what tells an operator which
    /// one is live.
    pub fn fingerprint(&self) -> String {
        let served = self.served();
        let leaf = served.cert.first().map_or(&[][..], |c| c.as_ref());
        let mut out = String::with_capacity(95);
        for (i, byte) in Sha256::digest(leaf).iter().enumerate() {
            let sep = if i == 0 { "" } else { ":" };
            let _ = write!(out, "{sep}{byte:02X}");
        }
        out
    }

    /// The rustls configuration serving these certificates, as they are at each handshake.
    pub(crate) fn server_config(self: &Arc<Self>) -> Result<Arc<ServerConfig>, TlsError> {
        let mut config = ServerConfig::builder_with_provider(self.provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(TlsError::Config)?
            .with_no_client_auth()
            .with_cert_resolver(self.clone());
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }

    fn served(&self) -> Arc<CertifiedKey> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl ResolvesServerCert for TlsCertificates {
    // One certificate whatever the client names (SNI): its SANs are the client's to check.
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.served())
    }
}

// By hand: the signing key is nobody's to print.
impl std::fmt::Debug for TlsCertificates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsCertificates")
            .field("files", &self.files)
            .finish_non_exhaustive()
    }
}

/// Reloads `certs` on every signal `hangup` receives (SIGHUP), logging the outcome, until the
/// task is dropped.
pub(crate) async fn reload_on(
    mut hangup: tokio::signal::unix::Signal,
    certs: Arc<TlsCertificates>,
) {
    while hangup.recv().await.is_some() {
        let reloading = certs.clone();
        // Off the runtime's threads: it reads files and parses a key.
        let outcome = tokio::task::spawn_blocking(move || reloading.reload()).await;
        let cert = certs.files().cert.display();
        match outcome {
            Ok(Ok(())) => tracing::info!(
                %cert,
                sha256 = %certs.fingerprint(),
                "TLS certificate reloaded: new connections get it"
            ),
            Ok(Err(e)) => tracing::error!(
                %cert,
                sha256 = %certs.fingerprint(),
                error = %crate::error::source_chain(&e),
                "TLS certificate not reloaded: still serving the previous one"
            ),
            Err(e) => tracing::error!(
                %cert,
                error = %e,
                "TLS certificate not reloaded: still serving the previous one"
            ),
        }
    }
}
