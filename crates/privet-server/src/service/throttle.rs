//! Brute-force protection for sign-in, password re-entry, sign-up and claim codes: failure
//! counts per key — an account, an address, a known client (`service::known_clients`) — with
//! a growing backoff that is capped, so an attacker slows guessing to a crawl. The counts live
//! in the store, so every instance sharing it sees the same ones: spreading guesses over
//! instances gains nothing. Keys are stored only as keyed hashes (never an address or e-mail).
//! Times come from the server's clock.
//!
//! Which keys a sign-in counts against is `service::sign_in`'s: a client that has signed in
//! before counts only against its own key, so failures from elsewhere never keep the owner
//! out.

use crate::service::error::{ServiceError, ServiceResult};
use crate::state::AppState;
use jiff::Timestamp;
use std::time::Duration;

/// Failures allowed on one account before backoff starts.
const ACCOUNT_FREE: u32 = 5;
/// Failures allowed from one address before backoff starts (many people may share one).
const ADDRESS_FREE: u32 = 20;
/// Failures allowed with one known client's token before backoff starts: an account's own.
const KNOWN_CLIENT_FREE: u32 = ACCOUNT_FREE;
/// Sign-ups (new or for a taken e-mail) allowed from one address before backoff starts.
const SIGNUP_FREE: u32 = 10;
/// The longest wait ever imposed.
const MAX_BACKOFF: Duration = Duration::from_secs(15 * 60);
/// Failure records are forgotten after this long without a new failure.
pub(crate) const FORGET_AFTER: Duration = Duration::from_secs(60 * 60);

/// What a throttle key counts failures of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// One account, tried from clients it does not know (sign-in, password re-entry, claim
    /// codes).
    Account,
    /// One client address.
    Address,
    /// One known client of one account (its token's own allowance).
    KnownClient,
    /// Sign-ups from one client address.
    Signup,
}

impl Scope {
    fn free(self) -> u32 {
        match self {
            Scope::Account => ACCOUNT_FREE,
            Scope::Address => ADDRESS_FREE,
            Scope::KnownClient => KNOWN_CLIENT_FREE,
            Scope::Signup => SIGNUP_FREE,
        }
    }
}

/// Whole seconds for a `Retry-After` header: rounded up (at least 1), so a client that waits
/// exactly as told is not refused again.
pub fn retry_after_secs(wait: Duration) -> u64 {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    secs.max(1)
}

/// The wait after `count` failures, if any.
fn backoff(count: u32, free: u32) -> Option<Duration> {
    let over = count.checked_sub(free)?;
    let secs = 1u64.checked_shl(over.min(20)).unwrap_or(u64::MAX);
    Some(Duration::from_secs(secs).min(MAX_BACKOFF))
}

/// How long a key with `count` failures, the last at `last`, must still wait at `now`.
fn wait(count: u32, last: Timestamp, now: Timestamp, scope: Scope) -> Option<Duration> {
    let until = last.checked_add(backoff(count, scope.free())?).ok()?;
    if until <= now {
        return None;
    }
    Some(Duration::try_from(until.duration_since(now)).unwrap_or(MAX_BACKOFF))
}

/// The time before which a failure is forgotten at `now`.
pub(crate) fn forget_before(now: Timestamp) -> Timestamp {
    now.checked_sub(FORGET_AFTER).unwrap_or(Timestamp::MIN)
}

/// The stored form of a key: keyed, so the table names no account or address.
fn stored(state: &AppState, key: &str) -> [u8; 16] {
    *state
        .pseudonyms()
        .pseudonym(&format!("throttle:{key}"))
        .as_bytes()
}

/// `RateLimited` while `key` must wait before trying again.
pub async fn check(state: &AppState, key: &str, scope: Scope) -> ServiceResult<()> {
    let now = state.clock().now();
    let Some((count, last)) = state.store().failures(&stored(state, key)).await? else {
        return Ok(());
    };
    match wait(count, last, now, scope) {
        Some(w) => Err(ServiceError::RateLimited {
            retry_after: retry_after_secs(w),
        }),
        None => Ok(()),
    }
}

/// Counts an attempt for `key` before its outcome is known (a slow password check), so
/// attempts sent in parallel see each other: `RateLimited` if `key` must wait already, or if
/// attempts that raced this one used up the allowance meanwhile. A success forgives it with
/// [`succeed`].
pub async fn attempt(state: &AppState, key: &str, scope: Scope) -> ServiceResult<()> {
    let now = state.clock().now();
    let stored = stored(state, key);
    // A count the add below restarts (its last failure is older than the window) is no count:
    // judged as it were, every racing attempt would look unraced.
    let seen = state
        .store()
        .failures(&stored)
        .await?
        .filter(|&(_, last)| last >= forget_before(now));
    if let Some(w) = seen.and_then(|(count, last)| wait(count, last, now, scope)) {
        return Err(ServiceError::RateLimited {
            retry_after: retry_after_secs(w),
        });
    }
    let count = state
        .store()
        .add_failure(&stored, now, forget_before(now))
        .await?;
    // The count is atomic across instances; the read before it is not. More than one
    // failure added since that read means others raced this attempt just now, so their
    // failures are judged as if made at `now`.
    let before = seen.map_or(0, |(c, _)| c);
    let raced = count > before.saturating_add(1);
    if raced && wait(count - 1, now, now, scope).is_some() {
        let w = wait(count, now, now, scope).unwrap_or(MAX_BACKOFF);
        return Err(ServiceError::RateLimited {
            retry_after: retry_after_secs(w),
        });
    }
    Ok(())
}

/// Records a failure for `key`. A store failure is logged, not raised: the caller is already
/// answering with the failure it was counting.
pub async fn fail(state: &AppState, key: &str) {
    let now = state.clock().now();
    if let Err(e) = state
        .store()
        .add_failure(&stored(state, key), now, forget_before(now))
        .await
    {
        tracing::warn!(error = %e, "recording a failed attempt failed");
    }
}

/// Forgets `key`'s failures after a success.
pub async fn succeed(state: &AppState, key: &str) {
    if let Err(e) = state.store().clear_failures(&stored(state, key)).await {
        tracing::warn!(error = %e, "clearing failed attempts failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap_or(Timestamp::UNIX_EPOCH)
    }

    #[test]
    fn backoff_starts_after_the_free_tries_grows_and_is_capped() {
        let now = at("2026-12-05T10:00:00Z");
        let w = |n| wait(n, now, now, Scope::Account);
        assert_eq!(w(ACCOUNT_FREE - 1), None);
        assert_eq!(w(ACCOUNT_FREE), Some(Duration::from_secs(1)));
        assert_eq!(w(ACCOUNT_FREE + 1), Some(Duration::from_secs(2)));
        assert_eq!(
            w(ACCOUNT_FREE + 40),
            Some(MAX_BACKOFF),
            "never more than the cap"
        );
        let later = now.checked_add(MAX_BACKOFF).unwrap_or(Timestamp::MAX);
        assert_eq!(
            wait(ACCOUNT_FREE + 40, now, later, Scope::Account),
            None,
            "the owner can always try again later"
        );
        assert_eq!(wait(ADDRESS_FREE - 1, now, now, Scope::Address), None);
        assert!(wait(ADDRESS_FREE, now, now, Scope::Address).is_some());
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
        assert_eq!(retry_after_secs(Duration::from_secs(2)), 2);
        assert_eq!(retry_after_secs(Duration::from_millis(1_990)), 2);
    }
}
