//! What a subject's profile may hold: a name and an e-mail address, checked one way wherever
//! they are entered (sign-up, invitations, members, rectification, staff accounts).

/// Longest name accepted, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// Longest e-mail address accepted, in bytes (RFC 5321's path limit).
pub const MAX_EMAIL_BYTES: usize = 254;
/// Longest local part (before the `@`) accepted, in bytes (RFC 5321 §4.5.3.1.1).
const MAX_LOCAL_PART_BYTES: usize = 64;

/// Why a name or e-mail address was refused. Never repeats the value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProfileProblem {
    /// An empty name.
    #[error("`name` must not be empty")]
    EmptyName,
    /// A name too long or with control characters.
    #[error("`name` must be at most {MAX_NAME_CHARS} printable characters")]
    BadName,
    /// Not an e-mail address.
    #[error("`email` is not an e-mail address")]
    BadEmail,
}

/// A name as stored: trimmed; not empty, printable, at most [`MAX_NAME_CHARS`] characters.
pub fn check_name(name: &str) -> Result<&str, ProfileProblem> {
    let n = name.trim();
    if n.is_empty() {
        return Err(ProfileProblem::EmptyName);
    }
    if n.chars().count() > MAX_NAME_CHARS || n.chars().any(char::is_control) {
        return Err(ProfileProblem::BadName);
    }
    Ok(n)
}

/// The form an address is looked up by (an account's sign-in name): trimmed, lowercased.
/// Sign-in uses it without checking, so a malformed address fails like any wrong one.
pub fn email_lookup_form(email: &str) -> String {
    email.trim().to_lowercase()
}

/// The one e-mail validator: every address that enters Privet — sign-up, invitations, staff
/// accounts, members' profiles, rectification — passes here. Trimmed, with a local part of
/// at most 64 bytes (RFC 5321), one `@`, a domain of at least two non-empty dot-separated
/// labels, no spaces or control characters, and at most [`MAX_EMAIL_BYTES`] both as given
/// and lowercased (some characters grow when lowercased), so any address a profile accepts
/// could also be an account's sign-in name. Profiles keep it as given (rectification
/// records what the person asked for); accounts keep [`normalize_email`]'s form.
pub fn check_email(email: &str) -> Result<&str, ProfileProblem> {
    let e = email.trim();
    let ok = e.len() <= MAX_EMAIL_BYTES
        && email_lookup_form(e).len() <= MAX_EMAIL_BYTES
        && !e.chars().any(|c| c.is_whitespace() || c.is_control())
        && e.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && local.len() <= MAX_LOCAL_PART_BYTES
                && !domain.contains('@')
                && domain.contains('.')
                && domain.split('.').all(|label| !label.is_empty())
        });
    if ok {
        Ok(e)
    } else {
        Err(ProfileProblem::BadEmail)
    }
}

/// An account's sign-in name: an address [`check_email`] accepts, in its lookup form.
pub fn normalize_email(email: &str) -> Result<String, ProfileProblem> {
    check_email(email).map(email_lookup_form)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_printable_and_bounded() {
        assert_eq!(check_name("  Sam "), Ok("Sam"));
        assert_eq!(check_name("   "), Err(ProfileProblem::EmptyName));
        assert_eq!(check_name("a\u{7}b"), Err(ProfileProblem::BadName));
        assert_eq!(
            check_name(&"x".repeat(MAX_NAME_CHARS)).map(str::len),
            Ok(MAX_NAME_CHARS)
        );
        assert_eq!(
            check_name(&"x".repeat(MAX_NAME_CHARS + 1)),
            Err(ProfileProblem::BadName)
        );
    }

    #[test]
    fn profiles_keep_an_address_as_given_and_accounts_its_lookup_form() {
        assert_eq!(
            check_email(" Alex.Smith@Example.ORG "),
            Ok("Alex.Smith@Example.ORG")
        );
        assert_eq!(email_lookup_form(" Alex@Example.ORG"), "alex@example.org");
        assert_eq!(check_email("nope"), Err(ProfileProblem::BadEmail));
    }

    #[test]
    fn addresses_are_normalised_and_checked() {
        assert_eq!(
            normalize_email(" Alex@Example.ORG ").as_deref(),
            Ok("alex@example.org")
        );
        for bad in [
            "",
            "alex",
            "@example.org",
            "alex@",
            "alex@example",
            "alex@.example.org",
            "alex@example.org.",
            "al ex@example.org",
            "a@b@example.org",
            "alex@exa\u{1}mple.org",
            "alex@example..org",
        ] {
            assert_eq!(
                normalize_email(bad),
                Err(ProfileProblem::BadEmail),
                "{bad:?}"
            );
        }
        let long = format!("{}@example.org", "a".repeat(MAX_EMAIL_BYTES));
        assert_eq!(normalize_email(&long), Err(ProfileProblem::BadEmail));
        let long_local = format!("{}@example.org", "a".repeat(MAX_LOCAL_PART_BYTES + 1));
        assert_eq!(check_email(&long_local), Err(ProfileProblem::BadEmail));
        let long_domain = format!("alex@{}.org", "d".repeat(MAX_EMAIL_BYTES - 9));
        assert_eq!(long_domain.len(), MAX_EMAIL_BYTES);
        assert!(normalize_email(&long_domain).is_ok());
        // `İ` is 2 bytes and lowercases to 3: within the limit as given, over it as looked up.
        // One validator: a profile refuses what an account would.
        let growing = format!("alex@{}.org", "İ".repeat((MAX_EMAIL_BYTES - 9) / 2));
        assert!(growing.len() <= MAX_EMAIL_BYTES);
        assert_eq!(check_email(&growing), Err(ProfileProblem::BadEmail));
        assert_eq!(normalize_email(&growing), Err(ProfileProblem::BadEmail));
    }
}
