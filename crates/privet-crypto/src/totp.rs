//! Two-step verification codes (TOTP, RFC 6238) that work with any
//! authenticator app: HMAC-SHA-1, 6 digits, 30-second steps, and one step of
//! clock skew either way. Time is a parameter (`now_unix`, seconds since the
//! Unix epoch).
//!
//! A code is accepted at most once: [`verify_totp`] returns the time step it
//! matched, the caller stores it, and passes it back as `last_used_step`
//! next time, so the same code (or any code of an earlier step) is refused,
//! as RFC 6238 §5.2 requires.

use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};
use totp_rs::{Algorithm, Builder, Totp};
use zeroize::Zeroizing;

use crate::rng::CryptoRng;
use crate::{Error, Result, Secret, ct_eq};

/// Digits in a code.
pub const TOTP_DIGITS: usize = 6;
/// Seconds per time step.
pub const TOTP_STEP_SECS: u64 = 30;
/// Steps of clock skew accepted either side of the current one (RFC 6238
/// §5.2 recommends at most one), so a code typed just as it changes still works.
const SKEW_STEPS: u64 = 1;

/// A TOTP shared secret: 20 random bytes (160 bits, the length RFC 4226 §4
/// recommends). `Debug` prints `TotpSecret(**redacted**)`; the memory is
/// wiped on drop. Store it sealed with a [`SecretBox`](crate::SecretBox).
#[derive(Clone)]
pub struct TotpSecret(Zeroizing<[u8; TotpSecret::LEN]>);

impl TotpSecret {
    /// Length of a secret in bytes.
    pub const LEN: usize = 20;

    /// A fresh random secret.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut bytes = Zeroizing::new([0u8; Self::LEN]);
        rng.fill_bytes(bytes.as_mut_slice());
        Self(bytes)
    }

    /// The secret with these bytes.
    pub fn from_bytes(bytes: [u8; Self::LEN]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// The secret with these bytes (as opened from storage); exactly
    /// [`TotpSecret::LEN`] bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Self> {
        let mut out = Zeroizing::new([0u8; Self::LEN]);
        if bytes.len() != Self::LEN {
            return Err(Error::InvalidKey {
                what: "TOTP secret",
                reason: "expected 20 bytes",
            });
        }
        out.copy_from_slice(bytes);
        Ok(Self(out))
    }

    /// The raw bytes, e.g. to seal for storage.
    pub fn as_bytes(&self) -> &[u8; Self::LEN] {
        &self.0
    }

    /// The secret as unpadded RFC 4648 base32 (32 characters), the form
    /// people type into an authenticator app when they cannot scan a QR code.
    pub fn to_base32(&self) -> Secret {
        Secret::new(totp_rs::Secret::new_stack(*self.0).to_base32())
    }

    /// Parses a secret written by [`TotpSecret::to_base32`]. Case, spaces,
    /// dashes and `=` padding are ignored, as people copy secrets in groups.
    pub fn from_base32(s: &str) -> Result<Self> {
        let cleaned: Zeroizing<String> = Zeroizing::new(
            s.chars()
                .filter(|c| !c.is_whitespace() && *c != '-' && *c != '=')
                .map(|c| c.to_ascii_uppercase())
                .collect(),
        );
        let invalid = Error::InvalidKey {
            what: "TOTP secret",
            reason: "expected base32 of 20 bytes",
        };
        let decoded = totp_rs::Secret::try_from_base32(cleaned.as_str()).map_err(|_| invalid)?;
        Self::from_slice(decoded.as_bytes()).map_err(|_| Error::InvalidKey {
            what: "TOTP secret",
            reason: "expected base32 of 20 bytes",
        })
    }

    /// The RFC 6238 generator for this secret.
    fn totp(&self) -> Totp {
        Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(TOTP_DIGITS as u8)
            .with_step_duration(TOTP_STEP_SECS)
            .with_skew(0)
            .with_secret(totp_rs::Secret::new_stack(*self.0))
            // Every setting above is a constant within RFC 6238's bounds
            // (checked by a test through `build()`), so nothing is skipped.
            .build_noncompliant()
    }
}

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSecret(**redacted**)")
    }
}

/// The `otpauth://totp/…` URI that authenticator apps import (Google's Key
/// URI format): issuer and account percent-encoded by `totp-rs`, secret in
/// base32, SHA-1 / 6 digits / 30 s implied by their absence.
///
/// It contains the secret, hence [`Secret`]. A `:` in `issuer` or `account`
/// (the label's separator) is replaced by `-`; an empty account becomes
/// `account`.
pub fn otpauth_uri(secret: &TotpSecret, issuer: &str, account: &str) -> Secret {
    let issuer = issuer.replace(':', "-");
    let account = match account.replace(':', "-") {
        a if a.is_empty() => "account".to_owned(),
        a => a,
    };
    let totp = Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(TOTP_DIGITS as u8)
        .with_step_duration(TOTP_STEP_SECS)
        .with_secret(totp_rs::Secret::new_stack(*secret.0))
        .with_issuer((!issuer.is_empty()).then_some(issuer))
        .with_account_name(account)
        .build_noncompliant();
    match totp.to_url() {
        Ok(url) => Secret::new(url),
        // `to_url` refuses only an empty account name or one with a `:`,
        // both replaced above.
        Err(_) => unreachable!("the account name is non-empty and has no ':'"),
    }
}

/// A QR code of `uri` (an [`otpauth_uri`]) as a complete SVG document: black
/// modules on white with the standard quiet zone, at least 200 px square,
/// with `role="img"`, an `aria-label` and a `<title>` for screen readers.
/// Medium error correction (15 %), so a smudged screen still scans.
pub fn qr_svg(uri: &str) -> Result<String> {
    let code =
        QrCode::with_error_correction_level(uri, EcLevel::M).map_err(|_| Error::TooLong {
            what: "QR code content",
            len: uri.len(),
        })?;
    let rendered = code
        .render::<svg::Color<'_>>()
        .min_dimensions(200, 200)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .quiet_zone(true)
        .build();
    Ok(accessible_svg(&rendered))
}

const QR_LABEL: &str = "QR code to add this account to an authenticator app";

/// Drops the XML declaration (so the SVG can also be inlined in HTML) and
/// adds an accessible name to the root element.
fn accessible_svg(rendered: &str) -> String {
    let svg = rendered
        .find("<svg")
        .map_or(rendered, |start| &rendered[start..]);
    let Some(end_of_tag) = svg.find('>') else {
        return svg.to_owned();
    };
    let (open_tag, rest) = svg.split_at(end_of_tag);
    format!(
        r#"{open_tag} role="img" aria-label="{QR_LABEL}"><title>{QR_LABEL}</title>{}"#,
        &rest[1..]
    )
}

/// Checks `code` (6 digits; spaces ignored) against the codes of the time
/// steps around `now_unix` (one either side), skipping every step at or
/// before `last_used_step`. Returns the matched step, which the caller
/// stores as the new `last_used_step`; `None` if the code is wrong, too old
/// or already used.
pub fn verify_totp(
    secret: &TotpSecret,
    code: &str,
    now_unix: u64,
    last_used_step: Option<u64>,
) -> Option<u64> {
    let code: Zeroizing<String> =
        Zeroizing::new(code.chars().filter(|c| !c.is_whitespace()).collect());
    if code.len() != TOTP_DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let totp = secret.totp();
    let current = now_unix / TOTP_STEP_SECS;
    let mut matched = None;
    // Every candidate is computed and compared (in constant time), whether
    // or not an earlier one matched.
    for step in current.saturating_sub(SKEW_STEPS)..=current.saturating_add(SKEW_STEPS) {
        let Some(time) = step.checked_mul(TOTP_STEP_SECS) else {
            continue;
        };
        let expected = Zeroizing::new(totp.generate(time).to_string());
        let fresh = last_used_step.is_none_or(|last| step > last);
        if ct_eq(expected.as_bytes(), code.as_bytes()) && fresh && matched.is_none() {
            matched = Some(step);
        }
    }
    matched
}

/// The code for `now_unix` (tests, and showing the expected code in a
/// development console; never log it).
pub fn current_totp_code(secret: &TotpSecret, now_unix: u64) -> String {
    secret.totp().generate(now_unix).to_string()
}

/// The time step of `now_unix`.
pub fn totp_time_step(now_unix: u64) -> u64 {
    now_unix / TOTP_STEP_SECS
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encoding::hex_encode;
    use crate::os_rng;

    /// RFC 6238 Appendix B's SHA-1 seed: ASCII "12345678901234567890".
    fn rfc_secret() -> TotpSecret {
        TotpSecret::from_slice(b"12345678901234567890").unwrap()
    }

    #[test]
    fn settings_are_within_rfc_6238() {
        let secret = rfc_secret();
        Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(TOTP_DIGITS as u8)
            .with_step_duration(TOTP_STEP_SECS)
            .with_skew(SKEW_STEPS as u16)
            .with_secret(totp_rs::Secret::new_stack(*secret.as_bytes()))
            .build()
            .unwrap();
    }

    #[test]
    fn rfc_6238_appendix_b_sha1_vectors_last_six_digits() {
        // (T, 8-digit TOTP) from RFC 6238 Appendix B, SHA-1 rows.
        let vectors = [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ];
        let secret = rfc_secret();
        for (t, eight) in vectors {
            assert_eq!(current_totp_code(&secret, t), eight[2..], "T = {t}");
            assert_eq!(verify_totp(&secret, &eight[2..], t, None), Some(t / 30));
        }
        assert_eq!(current_totp_code(&secret, 59), "287082");
    }

    #[test]
    fn codes_within_one_step_are_accepted_two_steps_are_not() {
        let secret = TotpSecret::generate(&mut os_rng());
        let now = 1_700_000_015;
        let step = now / 30;
        let at = |s: u64| current_totp_code(&secret, s * 30);
        assert_eq!(verify_totp(&secret, &at(step), now, None), Some(step));
        assert_eq!(
            verify_totp(&secret, &at(step - 1), now, None),
            Some(step - 1)
        );
        assert_eq!(
            verify_totp(&secret, &at(step + 1), now, None),
            Some(step + 1)
        );
        for far in [step - 2, step + 2] {
            let code = at(far);
            // A code of another step may coincide with an accepted one by
            // chance (1 in 10^6); skip that case rather than flake.
            if [step - 1, step, step + 1].iter().all(|s| at(*s) != code) {
                assert_eq!(verify_totp(&secret, &code, now, None), None, "step {far}");
            }
        }
    }

    #[test]
    fn a_used_code_is_rejected_when_replayed() {
        let secret = TotpSecret::generate(&mut os_rng());
        let now = 1_700_000_000;
        let code = current_totp_code(&secret, now);
        let used = verify_totp(&secret, &code, now, None).unwrap();
        assert_eq!(verify_totp(&secret, &code, now, Some(used)), None);
        assert_eq!(verify_totp(&secret, &code, now + 10, Some(used)), None);
        // The previous step's code is older than the used one: also refused.
        let previous = current_totp_code(&secret, now - 30);
        if previous != code {
            assert_eq!(verify_totp(&secret, &previous, now, Some(used)), None);
        }
        // The next step's code is fresh.
        let next = current_totp_code(&secret, now + 30);
        assert_eq!(
            verify_totp(&secret, &next, now + 30, Some(used)),
            Some(used + 1)
        );
    }

    #[test]
    fn malformed_codes_are_rejected_and_spaces_ignored() {
        let secret = rfc_secret();
        assert_eq!(verify_totp(&secret, "287 082", 59, None), Some(1));
        for bad in ["", "28708", "2870822", "28708a", "+28708", "２８７０８２"] {
            assert_eq!(verify_totp(&secret, bad, 59, None), None, "{bad}");
        }
    }

    #[test]
    fn verify_at_the_epoch_and_far_future_does_not_overflow() {
        let secret = rfc_secret();
        let code = current_totp_code(&secret, 0);
        assert_eq!(verify_totp(&secret, &code, 0, None), Some(0));
        let end = u64::MAX;
        let code = current_totp_code(&secret, end);
        assert_eq!(verify_totp(&secret, &code, end, None), Some(end / 30));
    }

    #[test]
    fn base32_round_trips_and_tolerates_formatting() {
        let secret = TotpSecret::generate(&mut os_rng());
        let b32 = secret.to_base32();
        assert_eq!(b32.expose().len(), 32);
        let back = TotpSecret::from_base32(b32.expose()).unwrap();
        assert_eq!(back.as_bytes(), secret.as_bytes());
        let spaced: String = b32
            .expose()
            .to_lowercase()
            .as_bytes()
            .chunks(4)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect::<Vec<_>>()
            .join(" ");
        let back = TotpSecret::from_base32(&spaced).unwrap();
        assert_eq!(back.as_bytes(), secret.as_bytes());
        assert_eq!(
            rfc_secret().to_base32().expose(),
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
        );
        for bad in [
            "",
            "GEZDGNBV",
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJ1",
            "not base32!",
        ] {
            assert!(TotpSecret::from_base32(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let secret = TotpSecret::generate(&mut os_rng());
        let debug = format!("{secret:?}");
        assert_eq!(debug, "TotpSecret(**redacted**)");
        assert!(!debug.contains(secret.to_base32().expose()));
        assert!(!debug.contains(&hex_encode(secret.as_bytes())));
    }

    #[test]
    fn otpauth_uri_is_percent_encoded_and_round_trips() {
        let secret = rfc_secret();
        let uri = otpauth_uri(&secret, "Acme Home", "anna+home@example.com");
        assert_eq!(
            uri.expose(),
            "otpauth://totp/Acme%20Home:anna%2Bhome%40example.com\
             ?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Acme%20Home"
        );
        let parsed = Totp::from_url(uri.expose()).unwrap();
        assert_eq!(parsed.account_name(), "anna+home@example.com");
        assert_eq!(parsed.issuer(), Some("Acme Home"));
        assert_eq!(parsed.generate(59).to_string(), "287082");
        assert_eq!(format!("{uri:?}"), "Secret(**redacted**)");
    }

    #[test]
    fn otpauth_uri_copes_with_colons_and_empty_names() {
        let secret = rfc_secret();
        let uri = otpauth_uri(&secret, "Acme: Home", "odd:name@example.com");
        let parsed = Totp::from_url(uri.expose()).unwrap();
        assert_eq!(parsed.issuer(), Some("Acme- Home"));
        assert_eq!(parsed.account_name(), "odd-name@example.com");
        let uri = otpauth_uri(&secret, "", "");
        assert!(uri.expose().starts_with("otpauth://totp/account?secret="));
    }

    #[test]
    fn qr_svg_is_a_complete_accessible_svg() {
        let uri = otpauth_uri(&rfc_secret(), "Privet", "anna@example.com");
        let svg = qr_svg(uri.expose()).unwrap();
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.ends_with("</svg>"));
        assert!(svg.contains(r#"role="img""#));
        assert!(svg.contains("<title>QR code to add this account to an authenticator app</title>"));
        assert!(svg.contains(r##"fill="#000000""##));
        assert!(svg.contains(r##"fill="#ffffff""##));
        assert_eq!(svg.matches("<svg").count(), 1);
        assert!(!svg.contains("<?xml"));
    }

    #[test]
    fn qr_svg_rejects_content_too_long_for_a_qr_code() {
        let err = qr_svg(&"x".repeat(5000)).unwrap_err();
        assert!(matches!(err, Error::TooLong { len: 5000, .. }), "{err:?}");
    }

    #[test]
    fn time_steps_are_thirty_seconds() {
        assert_eq!(totp_time_step(0), 0);
        assert_eq!(totp_time_step(29), 0);
        assert_eq!(totp_time_step(30), 1);
        assert_eq!(totp_time_step(59), 1);
    }
}
