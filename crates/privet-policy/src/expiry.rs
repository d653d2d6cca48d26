//! The one expiry rule: a stored value is gone from its expiry instant on — readers skip it
//! and retention removes it — and [`ExpiryClock`], the same rule applied to stored times
//! without parsing most of them.

use jiff::Timestamp;
use serde_json::value::RawValue;

/// Whether a value expiring at `expires_at` is past its retention at `now`.
pub fn is_expired(expires_at: Timestamp, now: Timestamp) -> bool {
    expires_at <= now
}

/// Applies [`is_expired`] to stored expiry times (JSON strings), mostly without parsing them:
/// a stored time is `"YYYY-MM-DDTHH:MM:SS[.fff]Z"`, so its first 19 characters order like the
/// times do whenever they differ from the current second's.
#[derive(Clone, Debug)]
pub struct ExpiryClock {
    now: Timestamp,
    second: String,
}

impl ExpiryClock {
    /// A clock reading `now`.
    pub fn new(now: Timestamp) -> ExpiryClock {
        let second = now.strftime("%Y-%m-%dT%H:%M:%S").to_string();
        ExpiryClock { now, second }
    }

    /// The time it reads.
    pub fn now(&self) -> Timestamp {
        self.now
    }

    /// Whether `exp`, a stored expiry (a JSON string), is past; `None` when it is not a time.
    pub fn expired(&self, exp: &RawValue) -> Option<bool> {
        let text = exp.get().strip_prefix('"')?.strip_suffix('"')?;
        if let Some(head) = text.get(..19)
            && text
                .as_bytes()
                .get(19)
                .is_some_and(|b| matches!(b, b'Z' | b'.'))
            && head.as_bytes().first().is_some_and(u8::is_ascii_digit)
            && self.second.len() == 19
            && head != self.second
        {
            return Some(head < self.second.as_str());
        }
        let exp: Timestamp = text.parse().ok()?;
        Some(is_expired(exp, self.now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn raw(t: &str) -> Box<RawValue> {
        RawValue::from_string(format!("\"{t}\"")).unwrap_or_else(|_| unreachable!())
    }

    #[test]
    fn a_value_is_gone_at_its_expiry_instant() {
        let t: Timestamp = "2026-11-29T10:15:30Z"
            .parse()
            .unwrap_or_else(|_| unreachable!());
        assert!(is_expired(t, t));
        assert!(!is_expired(t, t - jiff::SignedDuration::from_nanos(1)));
        assert!(is_expired(t, t + jiff::SignedDuration::from_nanos(1)));
    }

    #[test]
    fn the_fast_path_agrees_with_parsing_the_times() -> Result<(), Box<dyn std::error::Error>> {
        let now: Timestamp = "2026-11-29T10:15:30.25Z".parse()?;
        let clock = ExpiryClock::new(now);
        for (t, expired) in [
            ("2026-11-29T10:15:29Z", true),
            ("2026-11-29T10:15:29.999Z", true),
            ("2026-11-29T10:15:30Z", true),
            ("2026-11-29T10:15:30.25Z", true),
            ("2026-11-29T10:15:30.2500001Z", false),
            ("2026-11-29T10:15:31Z", false),
            ("2027-01-01T00:00:00Z", false),
            ("1999-12-31T23:59:59Z", true),
        ] {
            assert_eq!(clock.expired(&raw(t)), Some(expired), "{t}");
            assert_eq!(is_expired(t.parse()?, now), expired, "{t}");
        }
        assert_eq!(clock.expired(&raw("soon")), None);
        Ok(())
    }

    proptest! {
        #[test]
        fn stored_times_expire_exactly_as_parsed_ones(secs in 0i64..4_000_000_000, nanos in 0i32..1_000_000_000, now_secs in 0i64..4_000_000_000) {
            let exp = Timestamp::new(secs, nanos).unwrap_or(Timestamp::UNIX_EPOCH);
            let now = Timestamp::new(now_secs, 0).unwrap_or(Timestamp::UNIX_EPOCH);
            let stored = serde_json::to_string(&exp).unwrap_or_default();
            let stored = RawValue::from_string(stored).unwrap_or_else(|_| raw("x"));
            prop_assert_eq!(ExpiryClock::new(now).expired(&stored), Some(is_expired(exp, now)));
        }
    }
}
