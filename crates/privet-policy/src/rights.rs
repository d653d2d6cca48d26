//! Deadlines of rights requests: one calendar month from receipt, extendable once by two
//! further months (UK GDPR Art. 12(3); ICO guidance on time limits), counted from the date in
//! the UK (a request at 23:30 UTC on 31 March arrives on 1 April in London). The clock stops
//! while the controller waits for proof of identity or a clarification (Data (Use and Access)
//! Act 2025, "stop the clock"); complaints are acknowledged within 30 days.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Span, Timestamp};
use std::sync::LazyLock;

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

/// The date a complaint received on `received` must be acknowledged by: 30 days later
/// (Data (Use and Access) Act 2025, s. 103: the new UK GDPR Art. 164A).
pub fn acknowledge_by(received: Date) -> Date {
    received
        .checked_add(Span::new().days(30))
        .unwrap_or(Date::MAX)
}

/// Whether a request due on `due` is overdue on `today`.
pub fn is_overdue(due: Date, today: Date) -> bool {
    today > due
}

/// The UTC calendar date of a moment.
pub fn utc_date(at: Timestamp) -> Date {
    at.to_zoned_datetime(TimeZone::UTC).date()
}

/// The UK's time zone, from the time zone database bundled into the binary (so a machine
/// without `/usr/share/zoneinfo` counts the same days).
static LONDON: LazyLock<TimeZone> =
    LazyLock::new(|| TimeZone::get("Europe/London").unwrap_or(TimeZone::UTC));

/// The calendar date in the UK (Europe/London) of a moment: the day a request arrived for
/// the person who sent it and for the deadline.
pub fn uk_date(at: Timestamp) -> Date {
    at.to_zoned_datetime(LONDON.clone()).date()
}

/// The moment a UK wall-clock time (Europe/London) names; in the hour skipped when clocks go
/// forward, the later reading; `None` beyond the representable range.
pub fn uk_time(local: jiff::civil::DateTime) -> Option<Timestamp> {
    local
        .to_zoned_datetime(LONDON.clone())
        .ok()
        .map(|z| z.timestamp())
}

/// The first moment of a UK calendar day.
pub fn uk_day_start(day: Date) -> Option<Timestamp> {
    uk_time(day.to_datetime(jiff::civil::Time::midnight()))
}

/// Why a request's clock is stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PauseReason {
    /// Waiting for proof of the person's identity.
    Identity,
    /// Waiting for the person to clarify what they ask for.
    Clarification,
}

impl PauseReason {
    /// The stored and API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            PauseReason::Identity => "identity",
            PauseReason::Clarification => "clarification",
        }
    }

    /// Parses the stored and API spelling.
    pub fn parse(s: &str) -> Option<PauseReason> {
        match s {
            "identity" => Some(PauseReason::Identity),
            "clarification" => Some(PauseReason::Clarification),
            _ => None,
        }
    }
}

/// Where a request stands on a given day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RequestStatus {
    /// Not yet answered, within its deadline.
    Open,
    /// Not yet answered, past its deadline.
    Overdue,
    /// The clock is stopped until the person proves who they are.
    AwaitingIdentity,
    /// The clock is stopped until the person clarifies the request.
    AwaitingClarification,
    /// Answered.
    Done,
}

impl RequestStatus {
    /// The API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            RequestStatus::Open => "open",
            RequestStatus::Overdue => "overdue",
            RequestStatus::AwaitingIdentity => "awaiting_identity",
            RequestStatus::AwaitingClarification => "awaiting_clarification",
            RequestStatus::Done => "done",
        }
    }

    /// Parses the API spelling.
    pub fn parse(s: &str) -> Option<RequestStatus> {
        [
            RequestStatus::Open,
            RequestStatus::Overdue,
            RequestStatus::AwaitingIdentity,
            RequestStatus::AwaitingClarification,
            RequestStatus::Done,
        ]
        .into_iter()
        .find(|st| st.as_str() == s)
    }

    /// Whether a request with this status is listed under `wanted`: open includes overdue
    /// and paused requests (all are still to answer).
    pub fn is_listed_under(self, wanted: RequestStatus) -> bool {
        self == wanted || (wanted == RequestStatus::Open && self != RequestStatus::Done)
    }
}

/// What a request's deadline depends on, as stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Clock {
    /// The deadline set at receipt (one month).
    pub due: Date,
    /// The deadline after the one extension, when extended.
    pub extended_due: Option<Date>,
    /// Whole days the clock was stopped by pauses that ended.
    pub paused_days: u32,
    /// The running pause: why, and the UK date it began.
    pub paused: Option<(PauseReason, Date)>,
    /// Whether it was answered.
    pub done: bool,
}

impl Clock {
    /// The deadline in force on `today`: the original or extended one, moved by every day the
    /// clock stood still (and, while paused, by the days paused so far).
    pub fn due_on(&self, today: Date) -> Date {
        self.moved(self.extended_due.unwrap_or(self.due), today)
    }

    /// A deadline moved by every day the clock stood still up to `today`.
    pub fn moved(&self, deadline: Date, today: Date) -> Date {
        let running = match self.paused {
            Some((_, since)) if !self.done => paused_days(since, today),
            _ => 0,
        };
        let days = i64::from(self.paused_days) + i64::from(running);
        deadline
            .checked_add(Span::new().days(days))
            .unwrap_or(Date::MAX)
    }

    /// The deadline in force and the status on `today`.
    pub fn status_on(&self, today: Date) -> (Date, RequestStatus) {
        let due = self.due_on(today);
        let status = if self.done {
            RequestStatus::Done
        } else if let Some((reason, _)) = self.paused {
            // A stopped clock is never overdue: the deadline moves with every day of the pause.
            match reason {
                PauseReason::Identity => RequestStatus::AwaitingIdentity,
                PauseReason::Clarification => RequestStatus::AwaitingClarification,
            }
        } else if is_overdue(due, today) {
            RequestStatus::Overdue
        } else {
            RequestStatus::Open
        };
        (due, status)
    }
}

/// The whole days a pause from `since` to `until` (UK dates) stopped the clock: a pause begun
/// and ended on one day stops nothing, one ended the next day moves the deadline by a day.
pub fn paused_days(since: Date, until: Date) -> u32 {
    let days = (until - since).get_days();
    u32::try_from(days.max(0)).unwrap_or(u32::MAX)
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

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn a_request_late_on_31_march_utc_arrives_on_1_april_in_the_uk() {
        let received = at("2026-03-31T23:30:00Z");
        assert_eq!(utc_date(received), d("2026-03-31"));
        assert_eq!(uk_date(received), d("2026-04-01"), "BST: 00:30 in London");
        assert_eq!(due_date(uk_date(received)), d("2026-05-01"));
        // In winter London is on UTC: the same wall time stays on its day.
        assert_eq!(uk_date(at("2026-12-31T23:30:00Z")), d("2026-12-31"));
        assert_eq!(uk_date(at("2026-10-25T00:30:00Z")), d("2026-10-25"));
    }

    #[test]
    fn uk_wall_clock_times_name_moments_in_british_summer_time() {
        let dt = |s: &str| s.parse::<jiff::civil::DateTime>().unwrap();
        assert_eq!(
            uk_time(dt("2026-07-01T10:00")),
            Some(at("2026-07-01T09:00:00Z"))
        );
        assert_eq!(
            uk_time(dt("2026-01-01T10:00")),
            Some(at("2026-01-01T10:00:00Z"))
        );
        assert_eq!(
            uk_day_start(d("2026-04-01")),
            Some(at("2026-03-31T23:00:00Z"))
        );
        assert_eq!(uk_date(at("2026-03-31T23:00:00Z")), d("2026-04-01"));
    }

    #[test]
    fn complaints_are_acknowledged_within_30_days() {
        assert_eq!(acknowledge_by(d("2026-01-15")), d("2026-02-14"));
        assert_eq!(
            acknowledge_by(d("2028-02-01")),
            d("2028-03-02"),
            "leap year"
        );
    }

    fn clock(due: &str) -> Clock {
        Clock {
            due: d(due),
            extended_due: None,
            paused_days: 0,
            paused: None,
            done: false,
        }
    }

    #[test]
    fn a_pause_moves_the_deadline_by_the_days_it_lasted() {
        let mut c = clock("2026-05-01");
        assert_eq!(
            c.status_on(d("2026-04-10")),
            (d("2026-05-01"), RequestStatus::Open)
        );
        c.paused = Some((PauseReason::Identity, d("2026-04-10")));
        assert_eq!(
            c.status_on(d("2026-04-10")),
            (d("2026-05-01"), RequestStatus::AwaitingIdentity),
            "paused today: nothing moved yet"
        );
        assert_eq!(
            c.status_on(d("2026-06-01")),
            (d("2026-06-22"), RequestStatus::AwaitingIdentity),
            "a paused request is never overdue; its deadline moves day by day"
        );
        // Resumed on 20 April: ten days stopped.
        c.paused = None;
        c.paused_days = paused_days(d("2026-04-10"), d("2026-04-20"));
        assert_eq!(c.paused_days, 10);
        assert_eq!(
            c.status_on(d("2026-05-11")),
            (d("2026-05-11"), RequestStatus::Open)
        );
        assert_eq!(
            c.status_on(d("2026-05-12")),
            (d("2026-05-11"), RequestStatus::Overdue)
        );
    }

    #[test]
    fn pauses_add_to_the_extended_deadline_and_stop_counting_once_done() {
        let mut c = clock("2026-05-01");
        c.extended_due = Some(d("2026-07-01"));
        c.paused_days = 3;
        assert_eq!(c.due_on(d("2026-05-01")), d("2026-07-04"));
        c.paused = Some((PauseReason::Clarification, d("2026-05-01")));
        c.done = true;
        assert_eq!(
            c.status_on(d("2026-09-01")),
            (d("2026-07-04"), RequestStatus::Done)
        );
    }

    #[test]
    fn open_lists_every_request_still_to_answer() {
        use RequestStatus::*;
        for st in [Open, Overdue, AwaitingIdentity, AwaitingClarification] {
            assert!(st.is_listed_under(Open), "{st:?}");
            assert_eq!(RequestStatus::parse(st.as_str()), Some(st));
        }
        assert!(!Done.is_listed_under(Open));
        assert!(!Open.is_listed_under(Overdue));
        assert!(AwaitingIdentity.is_listed_under(AwaitingIdentity));
        assert_eq!(RequestStatus::parse("paused"), None);
    }

    #[test]
    fn a_pause_ended_the_day_it_began_stops_nothing() {
        assert_eq!(paused_days(d("2026-04-10"), d("2026-04-10")), 0);
        assert_eq!(
            paused_days(d("2026-04-10"), d("2026-04-09")),
            0,
            "never negative"
        );
        assert_eq!(paused_days(d("2026-04-10"), d("2026-04-11")), 1);
    }
}
