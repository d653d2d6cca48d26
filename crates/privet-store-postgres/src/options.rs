//! What [`crate::open`] needs to know: where the database is, which schemas hold the data and
//! the keyring, and how many connections to keep.

use crate::describe::describe_url;
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
    /// Most pooled connections to the data schema; at most half of them are held by record
    /// scans at once. The keyring's pool has a quarter as many (at least 2), and the change
    /// listener one more connection.
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
            .field("url", &describe_url(&self.url))
            .field(
                "keyring_url",
                &self.keyring_url.as_deref().map(describe_url),
            )
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
/// lowercase letters, digits and underscores, not starting with a digit, and must not be a
/// word PostgreSQL reserves (unquoted, `CREATE SCHEMA user` is a syntax error). PostgreSQL's
/// own schemas are refused too: `pg_…` (the catalog, TOAST, temporary schemas) and
/// `information_schema`, where dropping the demo's schemas would do harm.
fn check_schema(name: &str) -> Result<(), PgError> {
    let ok = name.len() <= MAX_SCHEMA_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && name.bytes().next().is_some_and(|b| !b.is_ascii_digit())
        && !name.starts_with("pg_")
        && name != "information_schema"
        && !is_reserved(name);
    if ok {
        Ok(())
    } else {
        Err(PgError::InvalidSchema {
            name: name.to_owned(),
        })
    }
}

/// The keywords PostgreSQL does not take as a schema name unquoted: its reserved keywords and
/// those reserved but for function and type names (`pg_get_keywords()`, categories R and T, of
/// PostgreSQL 15 plus `system_user` of 16).
const RESERVED: &str = "all analyse analyze and any array as asc asymmetric authorization \
    binary both case cast check collate collation column concurrently constraint create cross \
    current_catalog current_date current_role current_schema current_time current_timestamp \
    current_user default deferrable desc distinct do else end except false fetch for foreign \
    freeze from full grant group having ilike in initially inner intersect into is isnull join \
    lateral leading left like limit localtime localtimestamp natural not notnull null offset on \
    only or order outer overlaps placing primary references returning right select \
    session_user similar some symmetric system_user table tablesample then to trailing true \
    union unique user using variadic verbose when where window with";

/// Whether `name` is one of [`RESERVED`].
fn is_reserved(name: &str) -> bool {
    RESERVED.split_ascii_whitespace().any(|w| w == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_a_password_of_either_url() {
        let mut o = PgOptions::new("postgres://ann:s3/cr?et@db/privet");
        o.keyring_url = Some("postgres://ann@db/keys?password=s3cret".to_owned());
        let shown = format!("{o:?}");
        assert!(!shown.contains("s3"), "{shown}");
        assert!(shown.contains("postgres://ann@db:5432/privet"), "{shown}");
        assert!(shown.contains("postgres://ann@db:5432/keys"), "{shown}");
    }

    #[test]
    fn schema_names_are_plain_identifiers() {
        let mut o = PgOptions::new("postgres://db/x");
        assert!(o.check().is_ok());
        for bad in [
            "",
            "Privet",
            "1abc",
            "a-b",
            "pg_x",
            "pg_catalog",
            "pg_toast",
            "information_schema",
            "user",
            "select",
            "order",
            "current_user",
            "a b",
            &"x".repeat(49),
        ] {
            o.schema = bad.to_owned();
            assert!(o.check().is_err(), "{bad:?}");
        }
        for good in ["privet", "privet_2", "users", "public_data", "x", "_p"] {
            o.schema = good.to_owned();
            assert!(o.check().is_ok(), "{good:?}");
        }
        o.schema = "privet_keyring".to_owned();
        assert!(matches!(
            o.check(),
            Err(PgError::KeyringInDataSchema { .. })
        ));
    }
}
