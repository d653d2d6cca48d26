//! What a fleet run adds up to: events sent and accepted, fields dropped by reason (the sum of
//! the server's answers), HTTP errors by status, and request latency percentiles.

use super::latency::{Latencies, human};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

/// Fields dropped, by reason, as `POST /v1/ingest` reports them.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub(crate) struct Dropped {
    /// Not declared in the manifest.
    pub(crate) undeclared: u64,
    /// Consent-only fields without consent.
    pub(crate) no_consent: u64,
    /// Fields a later manifest version changed, awaiting consent to it.
    pub(crate) reconsent: u64,
    /// Already past retention.
    pub(crate) expired: u64,
    /// About a subject who restricted processing.
    pub(crate) restricted: u64,
}

impl Dropped {
    /// All dropped fields.
    pub(crate) fn total(&self) -> u64 {
        self.undeclared + self.no_consent + self.reconsent + self.expired + self.restricted
    }

    fn add(&mut self, other: &Dropped) {
        self.undeclared += other.undeclared;
        self.no_consent += other.no_consent;
        self.reconsent += other.reconsent;
        self.expired += other.expired;
        self.restricted += other.restricted;
    }
}

/// The body of a 200 from `POST /v1/ingest`.
#[derive(Clone, Copy, Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct IngestReply {
    /// Events stored.
    pub(crate) accepted: u64,
    /// Fields dropped.
    pub(crate) dropped: Dropped,
}

/// The outcome of a fleet run.
#[derive(Clone, Default)]
pub(crate) struct Summary {
    /// Wall-clock time of the run.
    pub(crate) elapsed: Duration,
    /// Ingest requests made.
    pub(crate) requests: u64,
    /// Events sent.
    pub(crate) sent: u64,
    /// Events the server stored.
    pub(crate) accepted: u64,
    /// Fields the server dropped.
    pub(crate) dropped: Dropped,
    /// Non-200 answers by status.
    pub(crate) http_errors: BTreeMap<u16, u64>,
    /// Requests that got no answer (connection refused, timeout).
    pub(crate) transport_errors: u64,
    /// Latency of every answered request.
    pub(crate) latencies: Latencies,
}

impl Summary {
    /// Records a 200 for `events` events.
    pub(crate) fn ok(&mut self, events: u64, reply: &IngestReply, latency: Duration) {
        self.requests += 1;
        self.sent += events;
        self.accepted += reply.accepted;
        self.dropped.add(&reply.dropped);
        self.latencies.record(latency);
    }

    /// Records another answer for `events` events.
    pub(crate) fn status(&mut self, events: u64, status: u16, latency: Duration) {
        self.requests += 1;
        self.sent += events;
        *self.http_errors.entry(status).or_default() += 1;
        self.latencies.record(latency);
    }

    /// Records a request that got no answer.
    pub(crate) fn transport_error(&mut self, events: u64) {
        self.requests += 1;
        self.sent += events;
        self.transport_errors += 1;
    }

    /// Adds another summary's counts (elapsed times are not added).
    pub(crate) fn merge(&mut self, other: &Summary) {
        self.requests += other.requests;
        self.sent += other.sent;
        self.accepted += other.accepted;
        self.dropped.add(&other.dropped);
        for (status, n) in &other.http_errors {
            *self.http_errors.entry(*status).or_default() += n;
        }
        self.transport_errors += other.transport_errors;
        self.latencies.merge(&other.latencies);
    }

    /// Requests that did not get a 200.
    pub(crate) fn errors(&self) -> u64 {
        self.http_errors.values().sum::<u64>() + self.transport_errors
    }

    /// A one-line progress message.
    pub(crate) fn progress_line(&self) -> String {
        format!(
            "accepted {} · dropped {} · errors {}",
            thousands(self.accepted),
            thousands(self.dropped.total()),
            thousands(self.errors())
        )
    }
}

/// `1234567` as `1,234,567`.
pub(crate) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.elapsed.as_secs_f64();
        let rate = if secs > 0.0 {
            self.sent as f64 / secs
        } else {
            0.0
        };
        writeln!(
            f,
            "sent      {} events in {} requests over {} ({rate:.1} events/s)",
            thousands(self.sent),
            thousands(self.requests),
            human(self.elapsed)
        )?;
        writeln!(f, "accepted  {} events", thousands(self.accepted))?;
        let d = &self.dropped;
        writeln!(
            f,
            "dropped   {} fields: {} undeclared, {} without consent, {} awaiting renewed consent, {} expired, {} restricted",
            thousands(d.total()),
            thousands(d.undeclared),
            thousands(d.no_consent),
            thousands(d.reconsent),
            thousands(d.expired),
            thousands(d.restricted)
        )?;
        if self.errors() == 0 {
            writeln!(f, "errors    none")?;
        } else {
            let mut parts: Vec<String> = self
                .http_errors
                .iter()
                .map(|(status, n)| format!("HTTP {status}: {}", thousands(*n)))
                .collect();
            if self.transport_errors > 0 {
                parts.push(format!("no answer: {}", thousands(self.transport_errors)));
            }
            writeln!(f, "errors    {}", parts.join(", "))?;
        }
        write!(f, "latency   {}", self.latencies)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn a_summary_adds_replies_and_errors() {
        let mut s = Summary::default();
        let reply: IngestReply = serde_json::from_str(
            r#"{"accepted": 9, "dropped": {"undeclared": 2, "no_consent": 1, "reconsent": 0, "expired": 0, "restricted": 0}}"#,
        )
        .unwrap();
        s.ok(10, &reply, Duration::from_millis(3));
        s.status(5, 429, Duration::from_millis(1));
        s.transport_error(5);
        s.elapsed = Duration::from_secs(2);
        assert_eq!((s.sent, s.accepted, s.requests, s.errors()), (20, 9, 3, 2));
        assert_eq!(s.dropped.total(), 3);
        let text = s.to_string();
        assert!(text.contains("sent      20 events in 3 requests"), "{text}");
        assert!(text.contains("HTTP 429: 1, no answer: 1"), "{text}");
        assert!(text.contains("2 undeclared, 1 without consent"), "{text}");
        assert!(text.contains("latency   p50"), "{text}");
    }
}
