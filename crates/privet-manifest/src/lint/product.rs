//! `[product]` promises: contact points, manifest version and offline support
//! (PV030, PV031, PV032, PV040, PV050, PV053).

use super::product_missing;
use crate::finding::Finding;
use crate::model::Manifest;
use crate::rules::{self, Rule};
use crate::span::Spanned;

pub(super) fn check(m: &Manifest, out: &mut Vec<Finding>) {
    // Without `[product]` the parser has reported it once; listing every missing key too
    // would bury that one finding.
    if product_missing(m) {
        return;
    }
    let p = &m.product;
    let missing = [
        (
            p.privacy_contact.is_none(),
            &rules::MISSING_PRIVACY_CONTACT,
            "privacy_contact",
            "add `privacy_contact = \"privacy@maker.example\"` (an e-mail address or https URL that handles rights requests)",
        ),
        (
            p.vulnerability_disclosure.is_none(),
            &rules::MISSING_VULNERABILITY_DISCLOSURE,
            "vulnerability_disclosure",
            "add `vulnerability_disclosure = \"https://maker.example/security\"` (your published policy for reporting security issues)",
        ),
        (
            p.security_updates_until.is_none(),
            &rules::MISSING_SECURITY_UPDATE_PERIOD,
            "security_updates_until",
            "add `security_updates_until = \"2031-12-31\"`, the last day you guarantee security updates",
        ),
        (
            p.version.is_none(),
            &rules::MISSING_VERSION,
            "version",
            "add `version = \"1\"` and raise it whenever purposes or fields change, so consents name what people agreed to",
        ),
        (
            p.works_offline.is_none(),
            &rules::WORKS_OFFLINE_UNSTATED,
            "works_offline",
            "add `works_offline = true`, `false`, or a sentence such as \"Heating schedules keep running.\"",
        ),
    ];
    for (is_missing, rule, key, help) in missing {
        if is_missing {
            out.push(missing_key(rule, m, key, help));
        }
    }
    for (value, key) in [
        (&p.privacy_contact, "privacy_contact"),
        (&p.vulnerability_disclosure, "vulnerability_disclosure"),
    ] {
        if let Some(v) = value
            && let Some(f) = invalid_contact(v, key)
        {
            out.push(f);
        }
    }
}

fn missing_key(rule: &'static Rule, m: &Manifest, key: &str, help: &str) -> Finding {
    Finding::new(rule, m.product.span, format!("`[product]` has no `{key}`"))
        .label(format!("`{key}` missing here"))
        .help(help)
}

/// PV040: a contact must be something a person can actually use.
fn invalid_contact(v: &Spanned<String>, key: &str) -> Option<Finding> {
    let text = v.value.trim();
    if is_email(text) || is_https_url(text) {
        return None;
    }
    let lower = text.to_ascii_lowercase();
    let help = if let Some(rest) = lower.strip_prefix("http://") {
        format!(
            "use https: `{key} = \"https://{rest}\"`; a plain http page can be altered in transit"
        )
    } else if let Some(rest) = text.strip_prefix("mailto:") {
        format!("write the bare address: `{key} = \"{rest}\"`")
    } else if text.is_empty() {
        format!(
            "write an e-mail address such as \"privacy@maker.example\" or an https URL in `{key}`"
        )
    } else {
        "write an e-mail address (name@domain.tld, no spaces) or a URL starting with https://"
            .to_owned()
    };
    Some(
        Finding::new(
            &rules::INVALID_CONTACT,
            v.span,
            format!("`{key}` is neither an e-mail address nor an https URL"),
        )
        .label("not an e-mail address or https URL")
        .help(help),
    )
}

/// `local@domain.tld`: one `@`, no spaces, a dotted domain with no empty labels and a
/// letters-only top-level domain of two letters or more.
pub(super) fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    let tld = domain.rsplit('.').next().unwrap_or("");
    !local.is_empty()
        && !s.chars().any(|c| c.is_whitespace() || c == '<' || c == '>')
        && !domain.contains('@')
        && domain.contains('.')
        && domain.split('.').all(|label| !label.is_empty())
        && tld.len() >= 2
        && tld.chars().all(|c| c.is_ascii_alphabetic())
}

/// `https://host…` with a dotted host and no spaces.
pub(super) fn is_https_url(s: &str) -> bool {
    let Some(rest) = s
        .get(..8)
        .filter(|scheme| scheme.eq_ignore_ascii_case("https://"))
        .and_then(|_| s.get(8..))
    else {
        return false;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    !s.chars().any(char::is_whitespace)
        && host.contains('.')
        && host.split('.').all(|label| !label.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_and_https_urls_are_contacts() {
        for ok in ["privacy@acme.example", "dpo@mail.acme.co.uk", "a.b+c@x.io"] {
            assert!(is_email(ok), "{ok}");
        }
        for bad in [
            "privacy",
            "@acme.example",
            "a@acme",
            "a b@acme.example",
            "a@acme.",
            "a@@x.io",
            "a@x.1",
        ] {
            assert!(!is_email(bad), "{bad}");
        }
        for ok in [
            "https://acme.example/security",
            "HTTPS://acme.example",
            "https://a.b?x=1",
        ] {
            assert!(is_https_url(ok), "{ok}");
        }
        for bad in [
            "http://acme.example",
            "https://",
            "https://localhost",
            "https://a .b",
            "ftp://a.b",
            "é",
        ] {
            assert!(!is_https_url(bad), "{bad}");
        }
    }
}
