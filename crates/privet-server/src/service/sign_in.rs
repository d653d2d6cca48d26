//! Signing in, and proving the password again before a sensitive change, with brute-force
//! protection that cannot be turned against the owner (OWASP's device-cookie pattern).
//!
//! A sign-in counts its failures against one of two sets of keys (`service::throttle`):
//!
//! - from a **known client** — one presenting a valid token for the account it signs in to
//!   (`service::known_clients`), which it got from an earlier successful sign-in — only that
//!   token's own key: its failures slow it alone, and nobody else's slow it;
//! - from **any other client**: the account's key (5 free, then 1 s, 2 s, 4 s … up to 15
//!   minutes) and the address's key (20 free, then the same), so guessing at one account from
//!   many addresses, or at many accounts from one address, slows down.
//!
//! So failures from elsewhere can lock out unknown clients only; the owner's browser or app
//! that has signed in before still gets in. Every failure answers alike, and a throttled
//! attempt is refused before the password is checked.

use crate::service::accounts::{email_lookup, hash, verify};
use crate::service::error::{Invalid, ServiceError, ServiceResult};
use crate::service::known_clients::{self, KnownClient};
use crate::service::throttle::{self, Scope};
use crate::service::two_step;
use crate::session::SignedIn;
use crate::state::AppState;
use privet_crypto::{hash_token, needs_rehash};
use privet_store::Account;
use std::net::IpAddr;

/// What a sign-in attempt brings besides the credentials: the client's address (when known)
/// and the known-client token it presented (cookie or header), if any.
#[derive(Clone, Copy, Default)]
pub struct Attempt<'a> {
    /// The client's address (`session::ClientIp`).
    pub ip: Option<IpAddr>,
    /// The known-client token presented, unchecked.
    pub known_client: Option<&'a str>,
}

/// Shows whether a token came, never the token.
impl std::fmt::Debug for Attempt<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Attempt")
            .field("ip", &self.ip)
            .field("known_client", &self.known_client.is_some())
            .finish()
    }
}

/// The throttle keys a sign-in counts against, with their scopes.
fn keys(
    normalized_email: &str,
    ip: Option<IpAddr>,
    known: Option<&KnownClient>,
) -> Vec<(String, Scope)> {
    if let Some(k) = known {
        return vec![(k.throttle_key(), Scope::KnownClient)];
    }
    // By a hash of the e-mail as typed, so an e-mail without an account counts the same way.
    let mut keys = vec![(
        format!("account:{}", hash_token(normalized_email).to_hex()),
        Scope::Account,
    )];
    if let Some(ip) = ip {
        keys.push((format!("ip:{ip}"), Scope::Address));
    }
    keys
}

/// Checks credentials (and the second factor when on); the same error for every failure.
pub async fn login(
    state: &AppState,
    email: &str,
    password: String,
    code: Option<&str>,
    from: Attempt<'_>,
) -> ServiceResult<Account> {
    let normalized = privet_policy::email_lookup_form(email);
    let account = match state
        .store()
        .account_by_email(&email_lookup(state, &normalized))
        .await
    {
        Ok(a) => Some(a),
        Err(e) if e.is_not_found() => None,
        Err(e) => return Err(e.into()),
    };
    let known = match (&account, from.known_client) {
        (Some(a), Some(token)) => known_clients::verify(state, token, a),
        _ => None,
    };
    let keys = keys(&normalized, from.ip, known.as_ref());
    for (key, scope) in keys.iter().skip(1) {
        throttle::check(state, key, *scope).await?;
    }
    // The account's (or the known client's) attempt is counted before the slow verify, so
    // guesses sent in parallel see each other and cannot all fit in one allowance; a success
    // forgives it below.
    if let Some((key, scope)) = keys.first() {
        throttle::attempt(state, key, *scope).await?;
    }
    let password_ok = verify(
        password.clone(),
        account.as_ref().map(|a| a.password_hash.clone()),
    )
    .await?;
    let fail = || async {
        for (key, _) in keys.iter().skip(1) {
            throttle::fail(state, key).await;
        }
        ServiceError::SignInFailed
    };
    let Some(account) = account.filter(|a| password_ok && a.can_sign_in) else {
        return Err(fail().await);
    };
    if account.totp_enabled {
        let Some(code) = code.map(str::trim).filter(|c| !c.is_empty()) else {
            return Err(fail().await);
        };
        if !two_step::second_factor(state, &account, code).await? {
            return Err(fail().await);
        }
    }
    // Forgives the failures this attempt counted against: a known client's own, or the
    // account's (the address's stay, as they are about other accounts too).
    if let Some((key, _)) = keys.first() {
        throttle::succeed(state, key).await;
    }
    if needs_rehash(&account.password_hash) {
        // Older parameters: store a hash with today's, unless the password changed meanwhile.
        let new = hash(password).await?;
        state
            .store()
            .rehash_password(&account.id, &account.password_hash, new)
            .await?;
    }
    Ok(account)
}

/// The throttle key of password re-entry for an account.
fn reentry_key(account: &Account) -> String {
    format!("reentry:{}", account.id)
}

/// Checks the signed-in account's password again before a sensitive change (two-step
/// verification on or off, a new password), so a stolen session alone cannot make it.
/// A missing or wrong password is a failure counted against the account (5 free, then the
/// growing backoff), so a session cannot be used to guess the password either.
pub async fn reenter_password(
    state: &AppState,
    signed: &SignedIn,
    password: Option<String>,
) -> ServiceResult<()> {
    let key = reentry_key(&signed.account);
    // Counted before the verify, as sign-in does: parallel attempts see each other.
    throttle::attempt(state, &key, Scope::Account).await?;
    let Some(password) = password.filter(|p| !p.is_empty()) else {
        return Err(Invalid::PasswordNeeded.into());
    };
    if !verify(password, Some(signed.account.password_hash.clone())).await? {
        return Err(Invalid::WrongCurrentPassword.into());
    }
    throttle::succeed(state, &key).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_known_client_counts_against_its_own_key_only() {
        let ip: IpAddr = [192, 0, 2, 7].into();
        let unknown = keys("ada@example.org", Some(ip), None);
        let scopes: Vec<Scope> = unknown.iter().map(|(_, s)| *s).collect();
        assert_eq!(scopes, [Scope::Account, Scope::Address]);
        assert!(
            unknown.iter().all(|(k, _)| !k.contains("ada@")),
            "keys name no e-mail"
        );
        assert_eq!(keys("ada@example.org", None, None).len(), 1);
    }
}
