//! The server's one clock: every "now" of the server comes from here, so tests set the time
//! instead of sleeping.
//!
//! [`Clock::system`] reads the system clock. [`Clock::manual`] is a clock a test sets and
//! advances; in-process tests hand it to [`crate::AppState`]. A real `privet serve` uses the
//! system clock, except in builds with the test-only `test-clock` feature, where
//! [`Clock::from_env`] honours `PRIVET_TEST_NOW` and the router offers `POST /__test/clock` to
//! move it (see `routes::test_clock`); release builds have neither.

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use std::sync::{Arc, Mutex, PoisonError};

/// Where the time comes from.
#[derive(Clone, Debug)]
pub struct Clock {
    manual: Option<Arc<Mutex<Timestamp>>>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Clock {
        Clock { manual: None }
    }

    /// A clock standing still at `start` until [`Clock::set`] or [`Clock::advance`] moves it.
    pub fn manual(start: Timestamp) -> Clock {
        Clock {
            manual: Some(Arc::new(Mutex::new(start))),
        }
    }

    /// The system clock, or in builds with the `test-clock` feature a manual clock starting
    /// at `PRIVET_TEST_NOW` (RFC 3339) when that is set.
    pub fn from_env() -> Clock {
        #[cfg(feature = "test-clock")]
        if let Some(start) = std::env::var("PRIVET_TEST_NOW")
            .ok()
            .and_then(|v| v.parse::<Timestamp>().ok())
        {
            // Loud, on stderr for every command (tracing is set up only for serve and demo): a
            // test build's switch must never go unnoticed where it does not belong.
            eprintln!(
                "warning: test clock at {start}: time is set by PRIVET_TEST_NOW and POST /__test/clock; a test build, never for real use"
            );
            return Clock::manual(start);
        }
        Clock::system()
    }

    /// Now.
    pub fn now(&self) -> Timestamp {
        match &self.manual {
            None => Timestamp::now(),
            Some(t) => *t.lock().unwrap_or_else(PoisonError::into_inner),
        }
    }

    /// Today's date in UTC.
    pub fn today_utc(&self) -> Date {
        privet_policy::utc_date(self.now())
    }

    /// Today's date in the UK (Europe/London): the day rights-request deadlines count from.
    pub fn today_uk(&self) -> Date {
        privet_policy::uk_date(self.now())
    }

    /// Now as whole seconds since the Unix epoch (0 before it), for TOTP steps.
    pub fn unix_secs(&self) -> u64 {
        u64::try_from(self.now().as_second()).unwrap_or(0)
    }

    /// Whether this is a manual clock (tests).
    pub fn is_manual(&self) -> bool {
        self.manual.is_some()
    }

    /// Sets a manual clock to `at`; a system clock is left alone (returns false).
    pub fn set(&self, at: Timestamp) -> bool {
        match &self.manual {
            Some(t) => {
                *t.lock().unwrap_or_else(PoisonError::into_inner) = at;
                true
            }
            None => false,
        }
    }

    /// Moves a manual clock forward by `by`. Returns false, leaving the time as it was, for a
    /// system clock or when the result would fall outside the representable range.
    pub fn advance(&self, by: SignedDuration) -> bool {
        match &self.manual {
            Some(t) => {
                let mut t = t.lock().unwrap_or_else(PoisonError::into_inner);
                match t.checked_add(by) {
                    Ok(moved) => {
                        *t = moved;
                        true
                    }
                    Err(_) => false,
                }
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_stands_still_until_moved() {
        let start: Timestamp = "2026-12-05T10:00:00Z"
            .parse()
            .unwrap_or(Timestamp::UNIX_EPOCH);
        let clock = Clock::manual(start);
        assert_eq!(clock.now(), start);
        assert_eq!(clock.now(), start);
        assert!(clock.advance(SignedDuration::from_secs(90)));
        assert_eq!(clock.now(), start + SignedDuration::from_secs(90));
        let copy = clock.clone();
        assert!(copy.set(start));
        assert_eq!(clock.now(), start, "clones share the time");
        assert_eq!(clock.unix_secs(), 1_796_464_800);
        assert!(!Clock::system().advance(SignedDuration::from_secs(1)));
        assert!(!clock.advance(SignedDuration::MAX), "out of range");
        assert_eq!(
            clock.now(),
            start,
            "an out-of-range move leaves the time alone"
        );
    }
}
