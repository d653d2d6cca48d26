//! How a database is named in messages and `Debug` output: rebuilt from the parsed client
//! configuration as `postgres://user@host:port/dbname`, never copied from the URL's text.
//!
//! Cutting the password out of the text does not work: tokio-postgres takes everything up to
//! the *first* `@` as the user-info, so a password may hold `/`, `?` or `#`
//! (`postgres://u:Ab/cd@h/db`), sit in a `?password=` (or `?PASSWORD=`) parameter, or be a
//! key-value `password='…'`; each of those defeats a scan for the authority's end. The parsed
//! configuration knows which part is the password, so nothing here ever reads it.
//!
//! Two shapes are refused outright ([`check`]), because the parser's reading of them puts part
//! of a password where a host or a user name is expected, and the connection would go
//! somewhere unintended besides: a second `@` (an unencoded `@` in a password: write `%40`),
//! and an `@` after the path or the parameters (a `?password=` value with an `@` in it), seen
//! as a user name holding `/`, `?`, `#`, `=` or `&`, or a password holding `password=`.
//! As a second guard, a user, host or database name is shown only when it is made of the
//! characters such names have.

use tokio_postgres::Config;
use tokio_postgres::config::Host;

/// What a URL that does not parse, or is refused as [`parse_url`] refuses it, is called in
/// messages.
pub const UNPARSEABLE: &str = "an unparseable PostgreSQL URL";

/// Shown in place of a name with characters no such name has (perhaps a password fragment).
const HIDDEN: &str = "(hidden)";

/// A database URL as messages show it: `postgres://user@host:port/dbname` from the parsed
/// configuration, or [`UNPARSEABLE`]. Never a password, never the URL's text.
///
/// ```
/// use privet_store_postgres::describe_url;
///
/// assert_eq!(
///     describe_url("postgres://ann:Ab/cd?ef@db.example:5433/privet"),
///     "postgres://ann@db.example:5433/privet"
/// );
/// assert_eq!(describe_url("postgres://ann@[bad"), "an unparseable PostgreSQL URL");
/// ```
pub fn describe_url(url: &str) -> String {
    match check(url) {
        Ok(config) => describe(&config),
        Err(_) => UNPARSEABLE.to_owned(),
    }
}

/// Parses a database URL (URL or key-value form) as [`crate::open`] does, refusing the shapes
/// the module doc names; the error's text repeats nothing of the URL. For callers that connect
/// on their own (benchmark baselines).
pub fn parse_url(url: &str) -> Result<Config, crate::PgError> {
    check(url).map_err(|why| crate::PgError::InvalidUrl {
        reason: why.to_string(),
    })
}

/// A parsed configuration as messages show it (see [`describe_url`]).
pub(crate) fn describe(config: &Config) -> String {
    let mut out = String::from("postgres://");
    if let Some(user) = config.get_user() {
        out.push_str(&shown(user, is_name_char));
        out.push('@');
    }
    out.push_str(&target(config));
    if let Some(db) = config.get_dbname() {
        out.push('/');
        out.push_str(&shown(db, is_name_char));
    }
    out
}

/// Why [`check`] refused a URL; the text names no part of it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refused {
    /// The client's parser refused it; what it said, when that holds nothing from the URL.
    Parse(&'static str),
    /// Parsed, but read in a way that puts part of a password elsewhere.
    Ambiguous(&'static str),
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refused::Parse(why) | Refused::Ambiguous(why) => f.write_str(why),
        }
    }
}

/// Parses `url` (URL or key-value form), refusing the shapes the module doc names.
pub(crate) fn check(url: &str) -> Result<Config, Refused> {
    let config: Config = url
        .parse()
        .map_err(|e: tokio_postgres::Error| parse_reason(&e))?;
    let rest = ["postgres://", "postgresql://"]
        .iter()
        .find_map(|p| url.strip_prefix(p));
    if let Some(rest) = rest
        && let Some((userinfo, after)) = rest.split_once('@')
    {
        if after.contains('@') {
            return Err(Refused::Ambiguous(
                "it holds more than one `@`; percent-encode an `@` in a password as %40",
            ));
        }
        let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
        if user.contains(['/', '?', '#', '=', '&']) {
            return Err(Refused::Ambiguous(
                "an `@` follows the path or the parameters; percent-encode it as %40",
            ));
        }
        if password.to_ascii_lowercase().contains("password=") {
            return Err(Refused::Ambiguous(
                "a password parameter's value holds an `@`; percent-encode it as %40",
            ));
        }
    }
    Ok(config)
}

/// What the parser said, kept only where it holds nothing from the URL: an invalid value
/// names the option (one of the parser's own names), while an unknown option repeats a key
/// that may be a fragment of a password with an unencoded `&`.
fn parse_reason(e: &tokio_postgres::Error) -> Refused {
    let cause = std::error::Error::source(e).map(ToString::to_string);
    const KNOWN: &[(&str, &str)] = &[
        ("`host`", "invalid value for option `host`"),
        ("`port`", "invalid value for option `port`"),
        ("`hostaddr`", "invalid value for option `hostaddr`"),
        ("`sslmode`", "invalid value for option `sslmode`"),
        (
            "`connect_timeout`",
            "invalid value for option `connect_timeout`",
        ),
    ];
    match cause.as_deref() {
        Some(c) if c.starts_with("invalid value for option") => {
            KNOWN.iter().find(|(option, _)| c.ends_with(option)).map_or(
                Refused::Parse("an option has an invalid value"),
                |(_, why)| Refused::Parse(why),
            )
        }
        Some(c) if c.starts_with("unknown option") => Refused::Parse(
            "it has an unknown option (option names are lowercase: password=, sslmode=, …)",
        ),
        _ => Refused::Parse("it does not parse"),
    }
}

/// Where a configuration points, `host:port` of its first host, for messages.
pub(crate) fn target(config: &Config) -> String {
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(h)) => host_name(h),
        Some(Host::Unix(p)) => p
            .to_str()
            .map_or_else(|| HIDDEN.to_owned(), |p| shown(p, is_path_char)),
        None => match config.get_hostaddrs().first() {
            Some(std::net::IpAddr::V6(a)) => format!("[{a}]"),
            Some(a) => a.to_string(),
            None => "(no host)".to_owned(),
        },
    };
    format!("{host}:{port}")
}

/// The user name, for messages.
pub(crate) fn user(config: &Config) -> String {
    config
        .get_user()
        .map_or_else(|| "(none)".to_owned(), |u| shown(u, is_name_char))
}

/// The database name (the user's when none is given), for messages.
pub(crate) fn dbname(config: &Config) -> String {
    match config.get_dbname() {
        Some(db) => shown(db, is_name_char),
        None => user(config),
    }
}

/// A host name or address; an IPv6 address in brackets.
fn host_name(h: &str) -> String {
    match h.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(a)) => format!("[{a}]"),
        Ok(a) => a.to_string(),
        Err(_) => shown(h, is_name_char),
    }
}

/// `value`, when every character is one such a name has; else [`HIDDEN`].
fn shown(value: &str, ok: fn(char) -> bool) -> String {
    if !value.is_empty() && value.chars().all(ok) {
        value.to_owned()
    } else {
        HIDDEN.to_owned()
    }
}

/// Characters of user, host and database names as operators write them.
fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '$')
}

/// Characters of a Unix socket directory.
fn is_path_char(c: char) -> bool {
    is_name_char(c) || c == '/'
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every password below is `s3cr…`-like and must appear in no description.
    const CASES: &[(&str, &str)] = &[
        (
            "postgres://postgres:Ab/cd+ef@127.0.0.1:1/privet",
            "postgres://postgres@127.0.0.1:1/privet",
        ),
        (
            "postgres://ann:s3cr?et@db.example:5432/privet",
            "postgres://ann@db.example:5432/privet",
        ),
        (
            "postgres://ann:s3cr#et@db.example/privet",
            "postgres://ann@db.example:5432/privet",
        ),
        (
            "postgres://ann:s3cr%40et@db.example/privet",
            "postgres://ann@db.example:5432/privet",
        ),
        (
            "postgres://postgres@127.0.0.1:1?password=s3cret",
            "postgres://postgres@127.0.0.1:1",
        ),
        (
            "postgresql://ann@db/privet?sslmode=disable&password=s3cr/et",
            "postgres://ann@db:5432/privet",
        ),
        (
            "host=db user=ann password='s3 cr/et@x' dbname=privet",
            "postgres://ann@db:5432/privet",
        ),
        (
            "postgres://ann:s3cret@[::1]:5433/privet",
            "postgres://ann@[::1]:5433/privet",
        ),
        (
            "postgres://ann:s3cret@%2Fvar%2Frun%2Fpostgresql/privet",
            "postgres://ann@/var/run/postgresql:5432/privet",
        ),
        (
            "postgres://ann:s3cret@db/privet#frag",
            "postgres://ann@db:5432/(hidden)",
        ),
        // Refused: parsed, the rest of the password would be the host or the port.
        ("postgres://ann:s3c@ret@db/privet", UNPARSEABLE),
        ("postgres://ann:s3c@r:et@db/privet", UNPARSEABLE),
        ("postgres://db:5432/privet?password=s3c@ret", UNPARSEABLE),
        ("postgres://db/privet?password=s3c@ret", UNPARSEABLE),
        // Not understood by the client at all (options are case-sensitive there).
        ("postgres://ann@db/privet?PASSWORD=s3cret", UNPARSEABLE),
        ("postgres://ann@db/privet?password=s3c&ret=1", UNPARSEABLE),
        ("postgres://postgres@[bad", UNPARSEABLE),
    ];

    #[test]
    fn a_description_is_rebuilt_from_the_parsed_url_and_never_holds_a_password() {
        for (url, want) in CASES {
            let shown = describe_url(url);
            assert_eq!(&shown, want, "{url}");
            for secret in ["s3c", "ret", "cd+ef", "Ab/"] {
                assert!(!shown.contains(secret), "{url} → {shown}");
            }
        }
    }

    #[test]
    fn refusals_name_no_part_of_the_url() {
        for url in [
            "postgres://ann@db/privet?PASSWORD=s3cret",
            "postgres://ann@db/privet?password=s3c&ret=1",
            "postgres://ann:s3c@ret@db/privet",
            "postgres://db/privet?password=s3c@ret",
            "postgres://ann:s3cret@db:port/privet",
        ] {
            let why = check(url).map(|_| ()).unwrap_err().to_string();
            assert!(
                !why.contains("s3c") && !why.contains("ret=") && !why.contains("PASSWORD"),
                "{url}: {why}"
            );
        }
        assert_eq!(
            check("postgres://ann:s3cret@db:port/privet").map(|_| ()),
            Err(Refused::Parse("invalid value for option `port`"))
        );
    }

    #[test]
    fn odd_names_are_hidden() {
        let config: Config = "host=db user='a b' dbname='x/y'"
            .parse()
            .unwrap_or_else(|_| Config::new());
        assert_eq!(describe(&config), "postgres://(hidden)@db:5432/(hidden)");
        assert_eq!(user(&config), HIDDEN);
    }
}
