//! Retention periods (`30d`, `18m`, `2y`…) and the calendar arithmetic that turns them into expiries.

use jiff::tz::TimeZone;
use jiff::{Span, Timestamp};
use serde::Serialize;
use std::fmt;

/// The unit of a retention period.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RetentionUnit {
    /// `h`
    Hours,
    /// `d`
    Days,
    /// `w`
    Weeks,
    /// `m` (calendar months)
    Months,
    /// `y` (calendar years)
    Years,
}

impl RetentionUnit {
    fn suffix(self) -> char {
        match self {
            RetentionUnit::Hours => 'h',
            RetentionUnit::Days => 'd',
            RetentionUnit::Weeks => 'w',
            RetentionUnit::Months => 'm',
            RetentionUnit::Years => 'y',
        }
    }

    fn approx_hours(self) -> u64 {
        match self {
            RetentionUnit::Hours => 1,
            RetentionUnit::Days => 24,
            RetentionUnit::Weeks => 24 * 7,
            // Approximations are only used to order and compare periods, never for expiry.
            RetentionUnit::Months => 24 * 30 + 10,
            RetentionUnit::Years => 24 * 365 + 6,
        }
    }
}

/// A bounded retention period, e.g. 30 days or 18 months.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Retention {
    /// How many units.
    pub amount: u32,
    /// Which unit.
    pub unit: RetentionUnit,
}

/// Upper bound on any retention: longer than this is treated as "keep forever".
const MAX_YEARS: u64 = 100;

/// Why a retention text was not accepted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RetentionError {
    /// Words like `forever` or `indefinite`, or an absurd length.
    #[error("retention is unbounded")]
    Unbounded,
    /// Zero length.
    #[error("retention is zero")]
    Zero,
    /// Not `<number><h|d|w|m|y>`.
    #[error("retention is not a number followed by h, d, w, m or y")]
    Malformed,
}

impl Retention {
    /// Parses `30d`, `18m`, `2y`, `12w` or `48h`.
    pub fn parse(text: &str) -> Result<Retention, RetentionError> {
        let t = text.trim().to_ascii_lowercase();
        if matches!(
            t.as_str(),
            "forever" | "indefinite" | "indefinitely" | "unlimited" | "permanent" | "never" | "inf"
        ) {
            return Err(RetentionError::Unbounded);
        }
        let Some(last) = t.chars().last() else {
            return Err(RetentionError::Malformed);
        };
        let unit = match last {
            'h' => RetentionUnit::Hours,
            'd' => RetentionUnit::Days,
            'w' => RetentionUnit::Weeks,
            'm' => RetentionUnit::Months,
            'y' => RetentionUnit::Years,
            _ => return Err(RetentionError::Malformed),
        };
        let digits = &t[..t.len() - 1];
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(RetentionError::Malformed);
        }
        let amount: u64 = digits.parse().map_err(|_| RetentionError::Unbounded)?;
        if amount == 0 {
            return Err(RetentionError::Zero);
        }
        if amount.saturating_mul(unit.approx_hours())
            > MAX_YEARS * RetentionUnit::Years.approx_hours()
        {
            return Err(RetentionError::Unbounded);
        }
        let amount = u32::try_from(amount).map_err(|_| RetentionError::Unbounded)?;
        Ok(Retention { amount, unit })
    }

    /// The period as a calendar span.
    pub fn span(self) -> Span {
        let n = i64::from(self.amount);
        match self.unit {
            RetentionUnit::Hours => Span::new().hours(n),
            RetentionUnit::Days => Span::new().days(n),
            RetentionUnit::Weeks => Span::new().weeks(n),
            RetentionUnit::Months => Span::new().months(n),
            RetentionUnit::Years => Span::new().years(n),
        }
    }

    /// When data observed at `at` expires (calendar arithmetic in UTC).
    pub fn expiry(self, at: Timestamp) -> Option<Timestamp> {
        at.to_zoned_datetime(TimeZone::UTC)
            .checked_add(self.span())
            .ok()
            .map(|z| z.timestamp())
    }

    /// An approximate length in hours, for ordering and comparing periods only.
    pub fn approx_hours(self) -> u64 {
        u64::from(self.amount) * self.unit.approx_hours()
    }

    /// An approximate length in days, for ordering and comparing periods only.
    pub fn approx_days(self) -> u64 {
        self.approx_hours() / 24
    }

    /// The period in plain words, e.g. "18 months".
    pub fn plain(self) -> String {
        let (one, many) = match self.unit {
            RetentionUnit::Hours => ("hour", "hours"),
            RetentionUnit::Days => ("day", "days"),
            RetentionUnit::Weeks => ("week", "weeks"),
            RetentionUnit::Months => ("month", "months"),
            RetentionUnit::Years => ("year", "years"),
        };
        format!(
            "{} {}",
            self.amount,
            if self.amount == 1 { one } else { many }
        )
    }
}

impl fmt::Display for Retention {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.amount, self.unit.suffix())
    }
}

impl PartialOrd for Retention {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Retention {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.approx_hours()
            .cmp(&other.approx_hours())
            .then(self.unit.cmp(&other.unit))
            .then(self.amount.cmp(&other.amount))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_unit() {
        for (text, amount, unit) in [
            ("48h", 48, RetentionUnit::Hours),
            ("30d", 30, RetentionUnit::Days),
            ("12w", 12, RetentionUnit::Weeks),
            ("18m", 18, RetentionUnit::Months),
            ("2y", 2, RetentionUnit::Years),
            (" 2Y ", 2, RetentionUnit::Years),
        ] {
            assert_eq!(
                Retention::parse(text),
                Ok(Retention { amount, unit }),
                "{text}"
            );
        }
    }

    #[test]
    fn rejects_unbounded_zero_and_malformed() {
        assert_eq!(Retention::parse("forever"), Err(RetentionError::Unbounded));
        assert_eq!(Retention::parse("500y"), Err(RetentionError::Unbounded));
        assert_eq!(
            Retention::parse("99999999999999999999d"),
            Err(RetentionError::Unbounded)
        );
        assert_eq!(Retention::parse("0d"), Err(RetentionError::Zero));
        for bad in ["", "d", "30", "30 days", "-3d", "3.5d", "30x"] {
            assert_eq!(
                Retention::parse(bad),
                Err(RetentionError::Malformed),
                "{bad}"
            );
        }
    }

    #[test]
    fn expiry_uses_calendar_months() {
        let at: Timestamp = "2024-01-31T12:00:00Z".parse().unwrap_or_default();
        let r = Retention::parse("1m").unwrap_or(Retention {
            amount: 0,
            unit: RetentionUnit::Days,
        });
        // January 31st plus one month is the last day of February (2024 is a leap year).
        assert_eq!(
            r.expiry(at).map(|t| t.to_string()),
            Some("2024-02-29T12:00:00Z".to_owned())
        );
    }

    #[test]
    fn ordering_follows_length() {
        let p = |s| {
            Retention::parse(s).unwrap_or(Retention {
                amount: 0,
                unit: RetentionUnit::Days,
            })
        };
        assert!(p("30d") < p("2m"));
        assert!(p("400d") > p("1y"));
        assert!(p("48h") < p("3d"));
    }
}
