//! Reading the certificate chain and the private key from their PEM files, and checking that
//! they belong together. Every error names the file and says what to do about it; none holds
//! a byte of the key.

use super::TlsError;
use crate::config::TlsFiles;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::{PemObject, SectionKind};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::sign::CertifiedKey;
use std::io::Read;
use std::path::Path;
use zeroize::{Zeroize, Zeroizing};

/// The largest certificate or key file read. A chain of a few certificates is a few KiB; this
/// stops a path to a device or a log file being read for ever.
const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// The certificate chain and key `files` name, checked to be one pair.
pub(super) fn certified_key(
    files: &TlsFiles,
    provider: &CryptoProvider,
) -> Result<CertifiedKey, TlsError> {
    let chain = chain(&files.cert)?;
    let key = private_key(&files.key)?;
    let key =
        provider
            .key_provider
            .load_private_key(key)
            .map_err(|_| TlsError::UnsupportedKey {
                path: files.key.clone(),
            })?;
    let certified = CertifiedKey::new(chain, key);
    match certified.keys_match() {
        Ok(()) => Ok(certified),
        // A pair that cannot be checked is not served either (ring's keys can all be).
        Err(rustls::Error::InconsistentKeys(_)) => Err(TlsError::KeyMismatch {
            cert: files.cert.clone(),
            key: files.key.clone(),
        }),
        Err(_) => Err(TlsError::BadCertificate {
            path: files.cert.clone(),
        }),
    }
}

/// Every `CERTIFICATE` in the file, in order: the server's own first.
fn chain(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem = read(path)?;
    let mut chain = Vec::new();
    for section in <(SectionKind, Vec<u8>)>::pem_slice_iter(&pem) {
        match section {
            Ok((SectionKind::Certificate, der)) => chain.push(CertificateDer::from(der)),
            // A key in the same file is the key file's business, and is wiped here.
            Ok((_, mut der)) => der.zeroize(),
            Err(_) => return Err(TlsError::Pem { path: path.into() }),
        }
    }
    if chain.is_empty() {
        return Err(TlsError::NoCertificate { path: path.into() });
    }
    Ok(chain)
}

/// The one unencrypted PKCS#8 key in the file.
fn private_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let pem = read(path)?;
    // Encrypted keys are no section pki-types knows (PKCS#8) or fail its base64 (the legacy
    // `Proc-Type` headers): told apart first, so the error says what is wrong.
    if contains(&pem, b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
        || contains(&pem, b"Proc-Type: 4,ENCRYPTED")
    {
        return Err(TlsError::EncryptedKey { path: path.into() });
    }
    let mut key = None;
    for section in <(SectionKind, Vec<u8>)>::pem_slice_iter(&pem) {
        let (kind, der) = section.map_err(|_| TlsError::Pem { path: path.into() })?;
        let der = Zeroizing::new(der);
        let format = match kind {
            SectionKind::PrivateKey if key.is_some() => {
                return Err(TlsError::SeveralKeys { path: path.into() });
            }
            SectionKind::PrivateKey => {
                key = Some(PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(der.to_vec())));
                continue;
            }
            SectionKind::RsaPrivateKey => "an RSA PRIVATE KEY (PKCS#1)",
            SectionKind::EcPrivateKey => "an EC PRIVATE KEY (SEC1)",
            _ => continue,
        };
        return Err(TlsError::KeyFormat {
            path: path.into(),
            format,
        });
    }
    key.ok_or_else(|| TlsError::NoKey { path: path.into() })
}

/// The file's bytes, wiped when dropped (the key file's are the key).
fn read(path: &Path) -> Result<Zeroizing<Vec<u8>>, TlsError> {
    let failed = |source| TlsError::Read {
        path: path.into(),
        source,
    };
    let file = std::fs::File::open(path).map_err(failed)?;
    // Room for the whole file at once: growing the buffer would leave copies behind.
    let size = file.metadata().map_or(0, |m| m.len()).min(MAX_FILE_BYTES) + 1;
    let mut bytes = Zeroizing::new(Vec::with_capacity(usize::try_from(size).unwrap_or(0)));
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(failed)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(TlsError::TooLarge { path: path.into() });
    }
    Ok(bytes)
}

/// Whether `haystack` contains `needle`.
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A PEM section of `label` around `body`'s base64 (the parser needs no more).
    fn section(label: &str, body: &str) -> String {
        format!("-----BEGIN {label}-----\n{body}\n-----END {label}-----\n")
    }

    fn with_key(pem: &str) -> Result<PrivateKeyDer<'static>, TlsError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key.pem");
        std::fs::write(&path, pem).unwrap();
        private_key(&path)
    }

    #[test]
    fn a_pkcs8_key_is_read_and_other_encodings_are_named() {
        assert!(matches!(
            with_key(&section("PRIVATE KEY", "AAAA")),
            Ok(PrivateKeyDer::Pkcs8(_))
        ));
        for (label, named) in [("RSA PRIVATE KEY", "PKCS#1"), ("EC PRIVATE KEY", "SEC1")] {
            match with_key(&section(label, "AAAA")) {
                Err(TlsError::KeyFormat { format, .. }) => assert!(format.contains(named)),
                other => panic!("{label}: {other:?}"),
            }
        }
    }

    #[test]
    fn encrypted_missing_doubled_and_malformed_keys_are_refused_by_name() {
        let encrypted = section("ENCRYPTED PRIVATE KEY", "AAAA");
        assert!(matches!(
            with_key(&encrypted),
            Err(TlsError::EncryptedKey { .. })
        ));
        let legacy = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n\
                      DEK-Info: AES-128-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----\n";
        assert!(matches!(
            with_key(legacy),
            Err(TlsError::EncryptedKey { .. })
        ));
        let cert_only = section("CERTIFICATE", "AAAA");
        assert!(matches!(with_key(&cert_only), Err(TlsError::NoKey { .. })));
        assert!(matches!(with_key(""), Err(TlsError::NoKey { .. })));
        let two = section("PRIVATE KEY", "AAAA") + &section("PRIVATE KEY", "BBBB");
        assert!(matches!(with_key(&two), Err(TlsError::SeveralKeys { .. })));
        let broken = "-----BEGIN PRIVATE KEY-----\nAAAA\n";
        assert!(matches!(with_key(broken), Err(TlsError::Pem { .. })));
    }

    #[test]
    fn certificate_files_need_a_certificate_and_every_error_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("chain.pem");
        std::fs::write(&path, section("PRIVATE KEY", "AAAA")).unwrap();
        let err = chain(&path).err();
        assert!(
            matches!(err, Some(TlsError::NoCertificate { .. })),
            "{err:?}"
        );
        let shown = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(shown.contains(&path.display().to_string()), "{shown}");
        std::fs::write(
            &path,
            section("CERTIFICATE", "AAAA") + &section("CERTIFICATE", "BBBB"),
        )
        .unwrap();
        assert_eq!(chain(&path).map(|c| c.len()).ok(), Some(2), "in order");
        let missing = dir.path().join("missing.pem");
        let err = chain(&missing).err();
        assert!(matches!(err, Some(TlsError::Read { .. })), "{err:?}");
    }

    #[test]
    fn a_file_past_a_mebibyte_is_not_read_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("huge.pem");
        let huge = vec![b'A'; usize::try_from(MAX_FILE_BYTES).unwrap() + 1];
        std::fs::write(&path, huge).unwrap();
        assert!(matches!(read(&path), Err(TlsError::TooLarge { .. })));
    }

    #[test]
    fn a_key_rustls_cannot_sign_with_is_unsupported_and_its_bytes_are_not_shown() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = (dir.path().join("c.pem"), dir.path().join("k.pem"));
        std::fs::write(&cert, section("CERTIFICATE", "AAAA")).unwrap();
        // Valid base64, not a key: what a corrupted or exotic key looks like to rustls.
        std::fs::write(&key, section("PRIVATE KEY", "c2VjcmV0LWtleS1ieXRlcw==")).unwrap();
        #[allow(deprecated)]
        let provider = rustls::crypto::ring::default_provider();
        let err = certified_key(&TlsFiles { cert, key }, &provider).err();
        assert!(
            matches!(err, Some(TlsError::UnsupportedKey { .. })),
            "{err:?}"
        );
        let shown = format!(
            "{:?} {}",
            err,
            err.as_ref().map(ToString::to_string).unwrap_or_default()
        );
        assert!(
            !shown.contains("c2VjcmV0") && !shown.contains("secret-key"),
            "{shown}"
        );
    }
}
