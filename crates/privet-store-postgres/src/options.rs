//! What [`crate::open`] needs to know: where the database is, which schemas hold the data and
//! the keyring, and how many connections to keep.

use crate::error::PgError;
use std::time::Duration;

/// Where and how to open the PostgreSQL store and keyring.
#[derive(Clone)]
pub struct PgOptions {
    /// The database URL (`postgres://user:password@host:port/database`).
    pub url: String,
    /// Another database for the keyring; `None` keeps it in the same database, in its own schema.
    pub keyring_url: Option<String>,
    /// The schema holding the data.
    pub schema: String,
    /// The schema holding the keyring; never the data schema.
    pub keyring_schema: String,
    /// Most pooled connections to the data schema.
    pub pool_size: usize,
    /// How long to wait for the server to answer a new connection.
    pub connect_timeout: Duration,
}

impl PgOptions {
    /// Options for `url`: schemas `privet` and `privet_keyring`, 16 connections, 5 s timeout.
    pub fn new(url: impl Into<String>) -> Self {
        PgOptions {
            url: url.into(),
            keyring_url: None,
            schema: "privet".to_owned(),
            keyring_schema: "privet_keyring".to_owned(),
            pool_size: 16,
            connect_timeout: Duration::from_secs(5),
        }
    }

    /// Checks the schema names before anything connects.
    pub(crate) fn check(&self) -> Result<(), PgError> {
        check_schema(&self.schema)?;
        check_schema(&self.keyring_schema)?;
        if self.schema == self.keyring_schema {
            return Err(PgError::KeyringInDataSchema {
                schema: self.schema.clone(),
            });
        }
        Ok(())
    }
}

/// Never shows a password from either URL.
impl std::fmt::Debug for PgOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgOptions")
            .field("url", &redact(&self.url))
            .field("keyring_url", &self.keyring_url.as_deref().map(redact))
            .field("schema", &self.schema)
            .field("keyring_schema", &self.keyring_schema)
            .field("pool_size", &self.pool_size)
            .field("connect_timeout", &self.connect_timeout)
            .finish()
    }
}

/// Longest schema name: the change channel `privet_changes_<schema>` must fit PostgreSQL's
/// 63-byte identifiers.
pub(crate) const MAX_SCHEMA_LEN: usize = 48;

/// A schema name is used unquoted in SQL and in a connection's `search_path`, so it is held to
/// lowercase letters, digits and underscores, not starting with a digit.
fn check_schema(name: &str) -> Result<(), PgError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_SCHEMA_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && !name.as_bytes()[0].is_ascii_digit()
        && !name.starts_with("pg_");
    if ok {
        Ok(())
    } else {
        Err(PgError::InvalidSchema {
            name: name.to_owned(),
        })
    }
}

/// `url` with any password replaced by `***`, in URL form (`user:password@`, `?password=`) and
/// in key-value form (`password=…`).
pub(crate) fn redact(url: &str) -> String {
    let mut out = url.to_owned();
    if let Some(scheme_end) = out.find("://") {
        let rest = scheme_end + 3;
        let authority_end = out[rest..].find(['/', '?']).map_or(out.len(), |i| rest + i);
        if let Some(at) = out[rest..authority_end].rfind('@') {
            let userinfo = &out[rest..rest + at];
            if let Some(colon) = userinfo.find(':') {
                out.replace_range(rest + colon + 1..rest + at, "***");
            }
        }
    }
    redact_param(&out)
}

/// Replaces the value of every `password=` parameter (query or key-value form).
fn redact_param(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("password=") {
        let starts_word = i == 0 || matches!(rest.as_bytes()[i - 1], b'?' | b'&' | b' ');
        out.push_str(&rest[..i + "password=".len()]);
        rest = &rest[i + "password=".len()..];
        if starts_word {
            let end = if let Some(quoted) = rest.strip_prefix('\'') {
                quoted.find('\'').map_or(rest.len(), |j| j + 2)
            } else {
                rest.find(['&', ' ']).unwrap_or(rest.len())
            };
            out.push_str("***");
            rest = &rest[end..];
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted_in_every_url_form() {
        assert_eq!(
            redact("postgres://ann:s3cret@db.example:5432/privet"),
            "postgres://ann:***@db.example:5432/privet"
        );
        assert_eq!(
            redact("postgres://ann@db/privet?password=s3cret&sslmode=disable"),
            "postgres://ann@db/privet?password=***&sslmode=disable"
        );
        assert_eq!(
            redact("host=db user=ann password='s 3' dbname=privet"),
            "host=db user=ann password=*** dbname=privet"
        );
        assert_eq!(
            redact("postgres://ann@db/privet"),
            "postgres://ann@db/privet"
        );
        let shown = format!("{:?}", PgOptions::new("postgres://ann:s3cret@db/privet"));
        assert!(!shown.contains("s3cret"), "{shown}");
    }

    #[test]
    fn schema_names_are_plain_identifiers() {
        let mut o = PgOptions::new("postgres://db/x");
        assert!(o.check().is_ok());
        for bad in ["", "Privet", "1abc", "a-b", "pg_x", "a b", &"x".repeat(49)] {
            o.schema = bad.to_owned();
            assert!(o.check().is_err(), "{bad:?}");
        }
        o.schema = "privet_keyring".to_owned();
        assert!(matches!(
            o.check(),
            Err(PgError::KeyringInDataSchema { .. })
        ));
    }
}
