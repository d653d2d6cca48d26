//! `/.well-known/security.txt` (RFC 9116): how to report a security issue to the operator of
//! this instance, from configuration. Validated once at start, so a typo in a contact is a
//! startup error rather than a file that sends reporters nowhere.

use jiff::{SignedDuration, Timestamp};
use url::Url;

/// How far ahead `Expires` is when none is configured: just under a year, as RFC 9116 §2.5.5
/// recommends. It is counted from the server clock's now on every request, so the file never
/// goes stale while the instance serves it.
pub const DEFAULT_EXPIRY: SignedDuration = SignedDuration::from_hours(24 * 364);

/// The settings as given (flags or `PRIVET_SECURITY_*`), before validation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SecurityTxtSettings {
    /// `Contact:` URIs (`mailto:`, `https:` or `tel:`), most preferred first.
    pub contact: Vec<String>,
    /// `Expires:` as RFC 3339; `None`: [`DEFAULT_EXPIRY`] ahead of now.
    pub expires: Option<String>,
    /// `Encryption:` URIs of the key to encrypt reports with.
    pub encryption: Vec<String>,
    /// `Policy:` URIs of the disclosure policy.
    pub policy: Vec<String>,
    /// `Preferred-Languages:` language tags, comma-separated.
    pub preferred_languages: Option<String>,
    /// `Canonical:` URIs this file is served at.
    pub canonical: Vec<String>,
    /// `Acknowledgments:` URIs of a page thanking reporters.
    pub acknowledgments: Vec<String>,
    /// `Hiring:` URIs of security jobs.
    pub hiring: Vec<String>,
}

impl SecurityTxtSettings {
    /// Whether anything was configured at all.
    pub fn is_empty(&self) -> bool {
        *self == SecurityTxtSettings::default()
    }
}

/// Why the security.txt settings cannot be served.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SecurityTxtError {
    /// Other fields were set but no contact.
    #[error(
        "security.txt needs at least one contact (--security-contact / PRIVET_SECURITY_CONTACT)"
    )]
    NoContact,
    /// A URI that is not valid, or of a scheme the field does not allow.
    #[error("security.txt {field} #{position} is not a valid {expected} URI")]
    BadUri {
        /// The field, e.g. `Contact`.
        field: &'static str,
        /// 1-based position among that field's values.
        position: usize,
        /// The schemes allowed.
        expected: &'static str,
    },
    /// `Expires` is not an RFC 3339 time.
    #[error("security.txt Expires is not an RFC 3339 time such as 2027-06-30T00:00:00Z")]
    BadExpires,
    /// `Expires` is not in the future.
    #[error("security.txt Expires is not in the future")]
    Expired,
    /// `Preferred-Languages` is not a list of language tags.
    #[error(
        "security.txt Preferred-Languages is not a comma-separated list of language tags such as `en, fr`"
    )]
    BadLanguages,
}

/// A validated security.txt, ready to serve.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecurityTxt {
    contact: Vec<Url>,
    expires: Option<Timestamp>,
    encryption: Vec<Url>,
    policy: Vec<Url>,
    preferred_languages: Option<String>,
    canonical: Vec<Url>,
    acknowledgments: Vec<Url>,
    hiring: Vec<Url>,
}

const CONTACT_SCHEMES: &[&str] = &["mailto", "https", "tel"];
const WEB: &[&str] = &["https"];
// An OpenPGP key may also be named by a DNS record or its fingerprint (RFC 9116 §2.5.4).
const KEY_SCHEMES: &[&str] = &["https", "dns", "openpgp4fpr"];

fn uris(
    values: &[String],
    field: &'static str,
    schemes: &[&str],
    expected: &'static str,
) -> Result<Vec<Url>, SecurityTxtError> {
    values
        .iter()
        .enumerate()
        .map(|(i, raw)| {
            let bad = SecurityTxtError::BadUri {
                field,
                position: i + 1,
                expected,
            };
            let raw = raw.trim();
            // Whitespace or control characters could break the file's line format.
            if raw.is_empty() || raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(bad);
            }
            let url = Url::parse(raw).map_err(|_| bad.clone())?;
            let scheme_ok = schemes.contains(&url.scheme());
            let target_ok = match url.scheme() {
                "https" => url.host_str().is_some_and(|h| !h.is_empty()),
                "mailto" => url.path().contains('@'),
                _ => !url.path().is_empty(),
            };
            if scheme_ok && target_ok {
                Ok(url)
            } else {
                Err(bad)
            }
        })
        .collect()
}

fn languages(raw: &str) -> Result<String, SecurityTxtError> {
    let tags: Vec<&str> = raw.split(',').map(str::trim).collect();
    let valid = tags.iter().all(|t| {
        !t.is_empty()
            && t.len() <= 35
            && t.split('-').all(|part| {
                !part.is_empty()
                    && part.len() <= 8
                    && part.chars().all(|c| c.is_ascii_alphanumeric())
            })
    });
    if valid {
        Ok(tags.join(", "))
    } else {
        Err(SecurityTxtError::BadLanguages)
    }
}

impl SecurityTxt {
    /// Validates `settings` as of `now`; `Ok(None)` when nothing is configured (the file is
    /// then not served: 404).
    pub fn from_settings(
        settings: &SecurityTxtSettings,
        now: Timestamp,
    ) -> Result<Option<SecurityTxt>, SecurityTxtError> {
        if settings.is_empty() {
            return Ok(None);
        }
        if settings.contact.is_empty() {
            return Err(SecurityTxtError::NoContact);
        }
        let expires = match &settings.expires {
            None => None,
            Some(raw) => {
                let t: Timestamp = raw
                    .trim()
                    .parse()
                    .map_err(|_| SecurityTxtError::BadExpires)?;
                if t <= now {
                    return Err(SecurityTxtError::Expired);
                }
                Some(t)
            }
        };
        Ok(Some(SecurityTxt {
            contact: uris(
                &settings.contact,
                "Contact",
                CONTACT_SCHEMES,
                "mailto:, https: or tel:",
            )?,
            expires,
            encryption: uris(
                &settings.encryption,
                "Encryption",
                KEY_SCHEMES,
                "https:, dns: or openpgp4fpr:",
            )?,
            policy: uris(&settings.policy, "Policy", WEB, "https:")?,
            preferred_languages: settings
                .preferred_languages
                .as_deref()
                .map(languages)
                .transpose()?,
            canonical: uris(&settings.canonical, "Canonical", WEB, "https:")?,
            acknowledgments: uris(&settings.acknowledgments, "Acknowledgments", WEB, "https:")?,
            hiring: uris(&settings.hiring, "Hiring", WEB, "https:")?,
        }))
    }

    /// When the file expires if served at `now`: as configured, else [`DEFAULT_EXPIRY`] ahead.
    pub fn expires(&self, now: Timestamp) -> Timestamp {
        self.expires.unwrap_or_else(|| {
            let ahead = now.checked_add(DEFAULT_EXPIRY).unwrap_or(now);
            // Whole seconds: the RFC 3339 time reads as people expect.
            Timestamp::from_second(ahead.as_second()).unwrap_or(ahead)
        })
    }

    /// The file's text as served at `now`, fields in RFC 9116's order, CRLF-free.
    pub fn render(&self, now: Timestamp) -> String {
        let mut out = String::from("# Security contact for this Privet instance (RFC 9116).\n");
        let mut line = |field: &str, value: &str| {
            out.push_str(field);
            out.push_str(": ");
            out.push_str(value);
            out.push('\n');
        };
        for u in &self.contact {
            line("Contact", u.as_str());
        }
        line("Expires", &self.expires(now).to_string());
        for u in &self.encryption {
            line("Encryption", u.as_str());
        }
        for u in &self.acknowledgments {
            line("Acknowledgments", u.as_str());
        }
        if let Some(l) = &self.preferred_languages {
            line("Preferred-Languages", l);
        }
        for u in &self.canonical {
            line("Canonical", u.as_str());
        }
        for u in &self.policy {
            line("Policy", u.as_str());
        }
        for u in &self.hiring {
            line("Hiring", u.as_str());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2026-12-05T10:00:00Z"
            .parse()
            .unwrap_or(Timestamp::UNIX_EPOCH)
    }

    fn contact(c: &[&str]) -> SecurityTxtSettings {
        SecurityTxtSettings {
            contact: c.iter().map(|s| (*s).to_owned()).collect(),
            ..SecurityTxtSettings::default()
        }
    }

    #[test]
    fn nothing_configured_is_nothing_served() {
        assert_eq!(
            SecurityTxt::from_settings(&SecurityTxtSettings::default(), now()),
            Ok(None)
        );
    }

    #[test]
    fn contacts_must_be_mailto_https_or_tel() {
        for ok in [
            "mailto:security@acme.example",
            "https://acme.example/security",
            "tel:+44-20-7946-0000",
        ] {
            assert!(
                matches!(
                    SecurityTxt::from_settings(&contact(&[ok]), now()),
                    Ok(Some(_))
                ),
                "{ok}"
            );
        }
        for bad in [
            "security@acme.example",
            "http://acme.example/security",
            "ftp://acme.example",
            "mailto:nobody",
            "https://acme.example/a\nExpires: 1999-01-01T00:00:00Z",
            "mailto:a b@acme.example",
            "",
        ] {
            assert!(
                matches!(
                    SecurityTxt::from_settings(&contact(&["mailto:ok@acme.example", bad]), now()),
                    Err(SecurityTxtError::BadUri {
                        field: "Contact",
                        position: 2,
                        ..
                    })
                ),
                "{bad:?}"
            );
        }
        let only_policy = SecurityTxtSettings {
            policy: vec!["https://acme.example/policy".to_owned()],
            ..SecurityTxtSettings::default()
        };
        assert_eq!(
            SecurityTxt::from_settings(&only_policy, now()),
            Err(SecurityTxtError::NoContact)
        );
    }

    #[test]
    fn expires_is_configured_in_the_future_or_just_under_a_year_ahead() {
        let file = SecurityTxt::from_settings(&contact(&["mailto:s@acme.example"]), now())
            .ok()
            .flatten();
        let text = file.map(|f| f.render(now())).unwrap_or_default();
        assert!(text.contains("Expires: 2027-12-04T10:00:00Z\n"), "{text}");
        let mut s = contact(&["mailto:s@acme.example"]);
        s.expires = Some("2027-06-30T00:00:00Z".to_owned());
        let text = SecurityTxt::from_settings(&s, now())
            .ok()
            .flatten()
            .map(|f| f.render(now()))
            .unwrap_or_default();
        assert!(text.contains("Expires: 2027-06-30T00:00:00Z\n"), "{text}");
        s.expires = Some("2026-01-01T00:00:00Z".to_owned());
        assert_eq!(
            SecurityTxt::from_settings(&s, now()),
            Err(SecurityTxtError::Expired)
        );
        s.expires = Some("next year".to_owned());
        assert_eq!(
            SecurityTxt::from_settings(&s, now()),
            Err(SecurityTxtError::BadExpires)
        );
    }

    #[test]
    fn optional_fields_are_validated_and_rendered_in_order() {
        let s = SecurityTxtSettings {
            contact: vec![
                "mailto:s@acme.example".to_owned(),
                "tel:+44-20-7946-0000".to_owned(),
            ],
            expires: None,
            encryption: vec!["https://acme.example/pgp.asc".to_owned()],
            policy: vec!["https://acme.example/disclosure".to_owned()],
            preferred_languages: Some("en,cy".to_owned()),
            canonical: vec!["https://privet.acme.example/.well-known/security.txt".to_owned()],
            acknowledgments: vec!["https://acme.example/thanks".to_owned()],
            hiring: vec!["https://acme.example/jobs".to_owned()],
        };
        let text = SecurityTxt::from_settings(&s, now())
            .ok()
            .flatten()
            .map(|f| f.render(now()))
            .unwrap_or_default();
        let fields: Vec<&str> = text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split(": ").next())
            .collect();
        assert_eq!(
            fields,
            [
                "Contact",
                "Contact",
                "Expires",
                "Encryption",
                "Acknowledgments",
                "Preferred-Languages",
                "Canonical",
                "Policy",
                "Hiring"
            ]
        );
        assert!(text.contains("Preferred-Languages: en, cy\n"));
        let mut bad = s.clone();
        bad.policy = vec!["http://acme.example/disclosure".to_owned()];
        assert!(matches!(
            SecurityTxt::from_settings(&bad, now()),
            Err(SecurityTxtError::BadUri {
                field: "Policy",
                ..
            })
        ));
        let mut bad = s;
        bad.preferred_languages = Some("en;q=1".to_owned());
        assert_eq!(
            SecurityTxt::from_settings(&bad, now()),
            Err(SecurityTxtError::BadLanguages)
        );
    }
}
