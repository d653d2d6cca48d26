//! Brute-force protection for sign-in: per-account and per-address failure counts with a
//! growing backoff that is capped, so an attacker slows guessing to a crawl but the real owner
//! is never locked out for good. Times come from the server's clock.

use jiff::Timestamp;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// Failures allowed on one account before backoff starts.
const ACCOUNT_FREE: u32 = 5;
/// Failures allowed from one address before backoff starts (many people may share one).
const ADDRESS_FREE: u32 = 20;
/// The longest wait ever imposed.
const MAX_BACKOFF: Duration = Duration::from_secs(15 * 60);
/// Failure records are forgotten after this long without a new failure.
const FORGET_AFTER: Duration = Duration::from_secs(60 * 60);

#[derive(Clone, Copy, Debug)]
struct Failures {
    count: u32,
    last: Timestamp,
    blocked_until: Option<Timestamp>,
}

/// Tracks sign-in failures per key (`account:…`, `ip:…`).
#[derive(Default)]
pub struct Throttle {
    failures: Mutex<HashMap<String, Failures>>,
}

/// Whole seconds for a `Retry-After` header: rounded up (at least 1), so a client that waits
/// exactly as told is not refused again.
pub fn retry_after_secs(wait: Duration) -> u64 {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    secs.max(1)
}

fn backoff(count: u32, free: u32) -> Option<Duration> {
    let over = count.checked_sub(free)?;
    let secs = 1u64.checked_shl(over.min(20)).unwrap_or(u64::MAX);
    Some(Duration::from_secs(secs).min(MAX_BACKOFF))
}

/// Whether a failure at `last` is old enough to forget at `now`.
fn forgotten(last: Timestamp, now: Timestamp) -> bool {
    Duration::try_from(now.duration_since(last)).is_ok_and(|d| d >= FORGET_AFTER)
}

impl Throttle {
    /// `Err(wait)` if `key` must wait before trying again.
    pub fn check(&self, key: &str, now: Timestamp) -> Result<(), Duration> {
        let Ok(map) = self.failures.lock() else {
            return Ok(());
        };
        match map.get(key).and_then(|f| f.blocked_until) {
            Some(until) if until > now => {
                Err(Duration::try_from(until.duration_since(now)).unwrap_or(MAX_BACKOFF))
            }
            _ => Ok(()),
        }
    }

    /// Records a failure for an account key.
    pub fn fail_account(&self, key: &str, now: Timestamp) {
        self.fail(key, ACCOUNT_FREE, now);
    }

    /// Records a failure for an address key.
    pub fn fail_address(&self, key: &str, now: Timestamp) {
        self.fail(key, ADDRESS_FREE, now);
    }

    fn fail(&self, key: &str, free: u32, now: Timestamp) {
        let Ok(mut map) = self.failures.lock() else {
            return;
        };
        if map.len() > 100_000 {
            map.retain(|_, f| !forgotten(f.last, now));
        }
        let entry = map.entry(key.to_owned()).or_insert(Failures {
            count: 0,
            last: now,
            blocked_until: None,
        });
        if forgotten(entry.last, now) {
            entry.count = 0;
        }
        entry.count = entry.count.saturating_add(1);
        entry.last = now;
        entry.blocked_until = backoff(entry.count, free).and_then(|d| now.checked_add(d).ok());
    }

    /// Forgets an account's failures after a successful sign-in.
    pub fn succeed(&self, key: &str) {
        if let Ok(mut map) = self.failures.lock() {
            map.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_starts_after_the_free_tries_grows_and_is_capped() {
        let t = Throttle::default();
        let now: Timestamp = "2026-12-05T10:00:00Z"
            .parse()
            .unwrap_or(Timestamp::UNIX_EPOCH);
        for _ in 0..ACCOUNT_FREE - 1 {
            t.fail_account("a", now);
        }
        assert!(t.check("a", now).is_ok());
        t.fail_account("a", now);
        assert_eq!(t.check("a", now), Err(Duration::from_secs(1)));
        t.fail_account("a", now);
        assert_eq!(t.check("a", now), Err(Duration::from_secs(2)));
        for _ in 0..30 {
            t.fail_account("a", now);
        }
        assert_eq!(
            t.check("a", now),
            Err(MAX_BACKOFF),
            "never more than the cap"
        );
        let later = now.checked_add(MAX_BACKOFF).unwrap_or(Timestamp::MAX);
        assert!(
            t.check("a", later).is_ok(),
            "the owner can always try again later"
        );
        t.succeed("a");
        t.fail_account("a", now);
        assert!(t.check("a", now).is_ok(), "success resets the count");
        assert!(t.check("other", now).is_ok());
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
        assert_eq!(retry_after_secs(Duration::from_secs(2)), 2);
        assert_eq!(retry_after_secs(Duration::from_millis(1_990)), 2);
    }
}
