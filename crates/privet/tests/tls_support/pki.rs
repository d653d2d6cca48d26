//! Certificates made by the `openssl` CLI: a test CA, and leaves it signs for `localhost` and
//! 127.0.0.1 with a new key of each type the server takes.

use super::path;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use tempfile::TempDir;

/// Runs `openssl ARGS…`; panics with its message unless it succeeds.
pub fn openssl(args: &[&str]) -> String {
    let out = Command::new("openssl")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run openssl (the tests make their certificates with it)");
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The key types the server takes, as `openssl genpkey` makes them (PKCS#8).
#[derive(Clone, Copy, Debug)]
pub enum KeyKind {
    /// ECDSA on P-256.
    EcdsaP256,
    /// Ed25519.
    Ed25519,
    /// RSA, 2048 bits.
    Rsa2048,
}

impl KeyKind {
    /// Every kind.
    pub const ALL: [KeyKind; 3] = [KeyKind::EcdsaP256, KeyKind::Ed25519, KeyKind::Rsa2048];

    /// `openssl genpkey` arguments for a key of this kind.
    fn genpkey(self) -> &'static [&'static str] {
        match self {
            KeyKind::EcdsaP256 => &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
            KeyKind::Ed25519 => &["-algorithm", "ED25519"],
            KeyKind::Rsa2048 => &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
        }
    }
}

/// A certificate and its key, as files.
#[derive(Clone, Debug)]
pub struct Leaf {
    /// The certificate (PEM).
    pub cert: PathBuf,
    /// Its key (PEM, PKCS#8).
    pub key: PathBuf,
}

impl Leaf {
    /// The certificate's DER, as a server sends it.
    pub fn der(&self) -> Vec<u8> {
        CertificateDer::from_pem_file(&self.cert)
            .expect("a PEM certificate")
            .to_vec()
    }

    /// Its SHA-256 fingerprint as `openssl x509 -fingerprint -sha256` prints it (`AB:CD:…`).
    pub fn fingerprint(&self) -> String {
        let out = openssl(&[
            "x509",
            "-noout",
            "-fingerprint",
            "-sha256",
            "-in",
            path(&self.cert),
        ]);
        out.trim()
            .split_once('=')
            .map(|(_, f)| f.to_owned())
            .expect("openssl prints `sha256 Fingerprint=…`")
    }

    /// The `--tls-cert FILE --tls-key FILE` flags serving it.
    pub fn flags(&self) -> Vec<String> {
        vec![
            "--tls-cert".to_owned(),
            path(&self.cert).to_owned(),
            "--tls-key".to_owned(),
            path(&self.key).to_owned(),
        ]
    }

    /// Copies this certificate and key over `to`'s files, as an operator renewing would.
    pub fn copy_over(&self, to: &Leaf) {
        std::fs::copy(&self.cert, &to.cert).expect("copy certificate");
        std::fs::copy(&self.key, &to.key).expect("copy key");
    }
}

/// A test certificate authority in a temporary directory.
pub struct Pki {
    dir: TempDir,
    /// The CA's certificate, which clients trust.
    pub ca: PathBuf,
    ca_key: PathBuf,
}

impl Default for Pki {
    fn default() -> Self {
        Self::new()
    }
}

impl Pki {
    /// A fresh CA (ECDSA P-256).
    pub fn new() -> Pki {
        let dir = tempfile::Builder::new()
            .prefix("privet-tls-")
            .tempdir()
            .expect("temp dir");
        let ca = dir.path().join("ca.pem");
        let ca_key = dir.path().join("ca.key");
        openssl(&[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-noenc",
            "-keyout",
            path(&ca_key),
            "-out",
            path(&ca),
            "-days",
            "2",
            "-subj",
            "/CN=Privet test CA",
        ]);
        Pki { dir, ca, ca_key }
    }

    /// A path in the CA's directory.
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A new key of `kind` in `NAME.key` (PKCS#8).
    pub fn key(&self, name: &str, kind: KeyKind) -> PathBuf {
        let key = self.file(&format!("{name}.key"));
        let mut args = vec!["genpkey"];
        args.extend(kind.genpkey());
        args.extend(["-out", path(&key)]);
        openssl(&args);
        key
    }

    /// A leaf certificate for `localhost` and 127.0.0.1, signed by the CA, with a new key of
    /// `kind`: `NAME.pem` and `NAME.key`.
    pub fn leaf(&self, name: &str, kind: KeyKind) -> Leaf {
        let key = self.key(name, kind);
        let cert = self.file(&format!("{name}.pem"));
        self.sign(&key, &cert);
        Leaf { cert, key }
    }

    /// Writes to `cert` a certificate for `key`'s public key, signed by the CA.
    pub fn sign(&self, key: &Path, cert: &Path) {
        openssl(&[
            "req",
            "-new",
            "-x509",
            "-key",
            path(key),
            "-CA",
            path(&self.ca),
            "-CAkey",
            path(&self.ca_key),
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-addext",
            "basicConstraints=critical,CA:FALSE",
            "-addext",
            "keyUsage=critical,digitalSignature",
            "-addext",
            "extendedKeyUsage=serverAuth",
            "-out",
            path(cert),
        ]);
    }
}
