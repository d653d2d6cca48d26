//! Security promises of `[product]`: update period, release key, disclosure response time
//! (PV033, PV041, PV042, PV043).

use super::{LintContext, product_missing};
use crate::finding::Finding;
use crate::model::Manifest;
use crate::rules;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// The longest first response to a vulnerability report that is still "in good time".
const MAX_RESPONSE_DAYS: u32 = 90;

/// An Ed25519 public key is 32 bytes (RFC 8032 §5.1.5).
const ED25519_KEY_BYTES: usize = 32;

pub(super) fn check(m: &Manifest, cx: &LintContext, out: &mut Vec<Finding>) {
    if product_missing(m) {
        return;
    }
    let p = &m.product;
    if let Some(until) = &p.security_updates_until
        && until.value < cx.today
    {
        out.push(
            Finding::new(
                &rules::SECURITY_UPDATES_ENDED,
                until.span,
                format!(
                    "security updates ended on {} (today is {})",
                    until.value, cx.today
                ),
            )
            .label("in the past")
            .help("commit to a new support period and set `security_updates_until` to its last day, or stop offering the product as supported"),
        );
    }
    match &p.update_public_key {
        None => out.push(
            Finding::new(
                &rules::MISSING_UPDATE_KEY,
                p.span,
                "`[product]` has no `update_public_key` to verify firmware releases",
            )
            .label("`update_public_key` missing here")
            .help("add `update_public_key = \"ed25519:<base64 of your 32-byte release public key>\"`; keep the private key off the server"),
        ),
        Some(key) => {
            if let Some(problem) = update_key_problem(&key.value) {
                out.push(
                    Finding::new(
                        &rules::INVALID_UPDATE_KEY,
                        key.span,
                        format!("`update_public_key` is not a valid Ed25519 key: {problem}"),
                    )
                    .label("not ed25519:<32-byte base64>")
                    .help("write `ed25519:` followed by the standard base64 (44 characters, ending in `=`) of the 32-byte public key"),
                );
            }
        }
    }
    if let Some(days) = &p.disclosure_response_days
        && days.value > MAX_RESPONSE_DAYS
    {
        out.push(
            Finding::new(
                &rules::SLOW_DISCLOSURE_RESPONSE,
                days.span,
                format!(
                    "a first response to a vulnerability report may take {} days",
                    days.value
                ),
            )
            .label(format!("more than {MAX_RESPONSE_DAYS} days"))
            .help(format!(
                "commit to answering reports within {MAX_RESPONSE_DAYS} days or less, e.g. `disclosure_response_days = 14`"
            )),
        );
    }
}

/// Why `text` is not `ed25519:<standard base64 of 32 bytes>`, if it is not.
fn update_key_problem(text: &str) -> Option<String> {
    let Some(b64) = text.trim().strip_prefix("ed25519:") else {
        return Some("it does not start with `ed25519:`".to_owned());
    };
    match STANDARD.decode(b64) {
        Err(_) => Some("the part after `ed25519:` is not standard base64".to_owned()),
        Ok(bytes) if bytes.len() != ED25519_KEY_BYTES => Some(format!(
            "it decodes to {} bytes, not {ED25519_KEY_BYTES}",
            bytes.len()
        )),
        Ok(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn update_keys_need_prefix_base64_and_32_bytes() {
        let good = format!("ed25519:{}", STANDARD.encode([7u8; 32]));
        assert_eq!(update_key_problem(&good), None);
        assert!(update_key_problem(&STANDARD.encode([7u8; 32])).is_some());
        assert!(update_key_problem("ed25519:not base64!").is_some());
        let short = format!("ed25519:{}", STANDARD.encode([7u8; 31]));
        assert_eq!(
            update_key_problem(&short),
            Some("it decodes to 31 bytes, not 32".to_owned())
        );
    }
}
