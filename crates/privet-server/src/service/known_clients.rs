//! Known clients (OWASP's "device cookie"; "client" here, since a device is a smart-home
//! device in Privet): after a successful sign-in a browser or app is given a token, signed
//! under the instance's pseudonym key, that names the account by id — never the e-mail — and
//! a random nonce. A sign-in presenting a valid one for the account it signs in to is
//! throttled only by the failures made with that same token (`service::sign_in`), so guesses
//! made anywhere else can never keep the owner out.
//!
//! Nothing is stored: the signature is the proof. A token is good for [`LIFETIME`] from when
//! it was issued, and changing the password retires every token issued before (the time of
//! the last change is signed in).

use crate::state::AppState;
use jiff::{SignedDuration, Timestamp};
use privet_crypto::{Rng as _, Secret, ct_eq, os_rng};
use privet_store::Account;

/// Prefix (and format version) of known-client tokens.
const PREFIX: &str = "pvt";
/// How long a token is honoured after it was issued. Every successful sign-in issues a new
/// one, so a client in regular use never loses its standing; one unused for half a year is
/// treated as unknown again.
pub const LIFETIME: SignedDuration = SignedDuration::from_hours(180 * 24);
/// Tokens issued this far in the future (another instance's clock running ahead) still count.
const SKEW: SignedDuration = SignedDuration::from_mins(5);
/// Random bytes in a nonce: 128 bits, so no two clients ever share a throttle key.
const NONCE_BYTES: usize = 16;

/// A valid token: the client it identifies, for throttling.
#[derive(Clone, PartialEq, Eq)]
pub struct KnownClient {
    account: String,
    nonce: String,
}

/// Shows the account, never the nonce.
impl std::fmt::Debug for KnownClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KnownClient")
            .field("account", &self.account)
            .finish_non_exhaustive()
    }
}

impl KnownClient {
    /// The throttle key of this client's own failures (stored keyed, see `service::throttle`).
    pub fn throttle_key(&self) -> String {
        format!("client:{}:{}", self.account, self.nonce)
    }
}

/// The signature over a token's fields: the first 128 bits of an HMAC-SHA256 under the
/// instance's pseudonym key (as the form CSRF token is), with its own label.
fn tag(state: &AppState, account: &Account, issued: i64, nonce: &str) -> String {
    state
        .pseudonyms()
        .pseudonym(&format!(
            "known-client:{PREFIX}:{}:{issued}:{}:{nonce}",
            account.id,
            // Microseconds: what both stores keep, so the value read back is the one signed.
            account.password_changed_at.as_microsecond()
        ))
        .to_hex()
}

/// A new token for a client that has just signed in to `account`:
/// `pvt.<account id>.<issued, Unix seconds>.<nonce>.<signature>`.
pub fn issue(state: &AppState, account: &Account) -> Secret {
    let mut nonce = [0u8; NONCE_BYTES];
    os_rng().fill_bytes(&mut nonce);
    let nonce = hex::encode(nonce);
    let issued = state.clock().now().as_second();
    let tag = tag(state, account, issued, &nonce);
    Secret::new(format!("{PREFIX}.{}.{issued}.{nonce}.{tag}", account.id))
}

/// The client `token` identifies, if it is a valid token issued for `account` (signature
/// right, not expired, not from before the last password change).
pub fn verify(state: &AppState, token: &str, account: &Account) -> Option<KnownClient> {
    let mut parts = token.trim().split('.');
    let (Some(PREFIX), Some(id), Some(issued), Some(nonce), Some(given), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    if id != account.id {
        return None;
    }
    let issued_secs: i64 = issued.parse().ok()?;
    let at = Timestamp::from_second(issued_secs).ok()?;
    if !is_current(at, state.clock().now()) {
        return None;
    }
    let expected = tag(state, account, issued_secs, nonce);
    ct_eq(expected.as_bytes(), given.as_bytes()).then(|| KnownClient {
        account: account.id.clone(),
        nonce: nonce.to_owned(),
    })
}

/// Whether a token issued at `issued` is honoured at `now`.
fn is_current(issued: Timestamp, now: Timestamp) -> bool {
    let age = now.duration_since(issued);
    age >= -SKEW && age <= LIFETIME
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_honoured_for_their_lifetime_and_not_from_the_future() {
        let issued = Timestamp::UNIX_EPOCH
            .checked_add(SignedDuration::from_hours(1_000_000))
            .unwrap_or(Timestamp::UNIX_EPOCH);
        let at = |d: SignedDuration| issued.checked_add(d).unwrap_or(Timestamp::MAX);
        assert!(is_current(issued, issued));
        assert!(is_current(issued, at(LIFETIME)));
        assert!(!is_current(
            issued,
            at(LIFETIME + SignedDuration::from_secs(1))
        ));
        assert!(is_current(issued, at(-SKEW)), "a little clock skew");
        assert!(!is_current(
            issued,
            at(-SKEW - SignedDuration::from_secs(1))
        ));
    }
}
