//! Deadlines of rights requests: one calendar month from receipt, extendable once by two
//! further months (UK GDPR Art. 12(3); ICO guidance on time limits).

use jiff::civil::Date;
use jiff::{Span, Timestamp};

/// The date a request received on `received` must be answered by: the same date next month,
/// or that month's last day when it has no such date (31 January → 28 or 29 February).
pub fn due_date(received: Date) -> Date {
    add_months(received, 1)
}

/// The due date after the one allowed extension: two further months, counted from receipt so
/// that a short month in between does not shorten it.
pub fn extended_due_date(received: Date) -> Date {
    add_months(received, 3)
}

/// Whether a request due on `due` is overdue on `today`.
pub fn is_overdue(due: Date, today: Date) -> bool {
    today > due
}

/// The UTC calendar date of a moment.
pub fn utc_date(at: Timestamp) -> Date {
    at.to_zoned_datetime(jiff::tz::TimeZone::UTC).date()
}

fn add_months(d: Date, months: i64) -> Date {
    // jiff clamps the day to the end of a shorter month, which is exactly the ICO's rule.
    d.checked_add(Span::new().months(months))
        .unwrap_or(Date::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    #[test]
    fn due_is_the_same_date_next_month() {
        assert_eq!(due_date(d("2026-03-15")), d("2026-04-15"));
        assert_eq!(
            due_date(d("2026-12-20")),
            d("2027-01-20"),
            "across the year end"
        );
    }

    #[test]
    fn due_is_the_last_day_when_next_month_is_shorter() {
        assert_eq!(due_date(d("2026-01-31")), d("2026-02-28"));
        assert_eq!(due_date(d("2028-01-31")), d("2028-02-29"), "leap year");
        assert_eq!(due_date(d("2028-01-30")), d("2028-02-29"));
        assert_eq!(due_date(d("2026-03-31")), d("2026-04-30"));
        assert_eq!(due_date(d("2026-08-31")), d("2026-09-30"));
        assert_eq!(due_date(d("2028-02-29")), d("2028-03-29"));
    }

    #[test]
    fn extension_adds_two_months_to_the_original_deadline() {
        assert_eq!(extended_due_date(d("2026-01-31")), d("2026-04-30"));
        assert_eq!(
            extended_due_date(d("2027-11-30")),
            d("2028-02-29"),
            "into a leap February"
        );
        assert_eq!(extended_due_date(d("2026-05-10")), d("2026-08-10"));
    }

    #[test]
    fn overdue_means_past_the_due_date() {
        assert!(!is_overdue(d("2026-02-28"), d("2026-02-28")));
        assert!(is_overdue(d("2026-02-28"), d("2026-03-01")));
    }
}
