//! One connection's activity: whether a request is in flight, and if not, since when it has
//! waited and for what — the first request's head, the next request, or the rest of a head
//! that has begun. From that follow its deadline and whether it may be shed.

use crate::config::ConnectionLimits;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::Waker;
use tokio::sync::Notify;
use tokio::time::Instant;

/// An open connection, shared by its task, its socket wrapper, its requests in flight and
/// the slots.
#[derive(Debug)]
pub(super) struct Conn {
    id: u64,
    /// When it was accepted.
    opened: Instant,
    activity: Mutex<Activity>,
    /// Woken when the connection is shed to make room for a newer one.
    shed: Notify,
}

/// What a connection has been doing, as of its last change.
#[derive(Debug)]
struct Activity {
    /// Requests whose head has arrived and whose response is not yet written whole.
    in_flight: usize,
    /// Requests begun on this connection.
    served: u64,
    /// When the connection opened or its last response was written.
    idle_since: Instant,
    /// When the first byte of the next request came, if one has since `idle_since`.
    reading_since: Option<Instant>,
    /// The reader that found no deadline while a request was in flight: woken when the last
    /// one ends, so it arms the idle timer (hyper may not read again until the client sends).
    reader: Option<Waker>,
}

/// What a waiting connection waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Wait {
    /// A request's head: the first on the connection, or one whose first byte has come.
    Head,
    /// The next request on a kept-alive connection.
    Idle,
}

/// When a waiting connection is closed, and how.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Expiry {
    /// The deadline.
    pub(super) at: Instant,
    /// Which timeout it is.
    pub(super) wait: Wait,
    /// Part of a request has come: it is answered 408 before the connection closes (a
    /// connection that sent nothing is closed without a word, as HTTP/1.1 allows).
    pub(super) answer: bool,
}

impl Conn {
    /// A connection opened at `now`, waiting for its first request.
    pub(super) fn new(id: u64, now: Instant) -> Conn {
        Conn {
            id,
            opened: now,
            activity: Mutex::new(Activity {
                in_flight: 0,
                served: 0,
                idle_since: now,
                reading_since: None,
                reader: None,
            }),
            shed: Notify::new(),
        }
    }

    /// Its number, unique in this server.
    pub(super) fn id(&self) -> u64 {
        self.id
    }

    /// When it was accepted.
    pub(super) fn opened(&self) -> Instant {
        self.opened
    }

    // Never held across an await, and nothing in it can panic: a poisoned lock still holds a
    // consistent activity.
    fn activity(&self) -> MutexGuard<'_, Activity> {
        self.activity.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A request's head has arrived: it is in flight until [`Conn::end`].
    pub(super) fn begin(&self) {
        let mut a = self.activity();
        a.in_flight += 1;
        a.served += 1;
        a.reading_since = None;
    }

    /// A request's response has been written whole (or dropped) at `now`. Returns since when
    /// the connection is idle if that was the last request in flight.
    pub(super) fn end(&self, now: Instant) -> Option<Instant> {
        let reader = {
            let mut a = self.activity();
            a.in_flight = a.in_flight.saturating_sub(1);
            if a.in_flight > 0 {
                return None;
            }
            a.idle_since = now;
            a.reading_since = None;
            a.reader.take()
        };
        if let Some(reader) = reader {
            reader.wake();
        }
        Some(now)
    }

    /// Bytes came from the client at `now`: between requests, the next one has begun.
    pub(super) fn on_bytes(&self, now: Instant) {
        let mut a = self.activity();
        if a.in_flight == 0 && a.reading_since.is_none() {
            a.reading_since = Some(now);
        }
    }

    /// Whether no request is in flight.
    pub(super) fn is_idle(&self) -> bool {
        self.activity().in_flight == 0
    }

    /// Since when it has had no request in flight; `None` while one is.
    pub(super) fn idle_since(&self) -> Option<Instant> {
        let a = self.activity();
        (a.in_flight == 0).then_some(a.idle_since)
    }

    /// When the connection is closed if the client sends nothing more; `None` while a
    /// request is in flight (its body has a deadline of its own), and then `reader` is woken
    /// once the last request in flight ends.
    pub(super) fn expiry(&self, limits: &ConnectionLimits, reader: &Waker) -> Option<Expiry> {
        let mut a = self.activity();
        let expiry = a.expiry(limits);
        if expiry.is_none() {
            match &mut a.reader {
                Some(w) => w.clone_from(reader),
                None => a.reader = Some(reader.clone()),
            }
        }
        expiry
    }

    /// Asks the connection's task to close it (it finishes a request that has begun since).
    pub(super) fn shed(&self) {
        self.shed.notify_one();
    }

    /// Resolves once the connection has been shed.
    pub(super) async fn shed_requested(&self) {
        self.shed.notified().await;
    }
}

impl Activity {
    fn expiry(&self, limits: &ConnectionLimits) -> Option<Expiry> {
        if self.in_flight > 0 {
            return None;
        }
        let (from, timeout, wait) = match (self.served, self.reading_since) {
            // The first request's head is counted from when the connection opened: a client
            // that connects and waits gets no longer than one that trickles.
            (0, _) => (self.idle_since, limits.header_timeout, Wait::Head),
            (_, Some(first_byte)) => (first_byte, limits.header_timeout, Wait::Head),
            (_, None) => (self.idle_since, limits.idle_timeout, Wait::Idle),
        };
        // A timeout too long to add to the clock is no deadline at all.
        let at = from.checked_add(timeout)?;
        Some(Expiry {
            at,
            wait,
            answer: self.reading_since.is_some(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    fn limits() -> ConnectionLimits {
        ConnectionLimits {
            header_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(75),
            ..ConnectionLimits::default()
        }
    }

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    fn expiry(conn: &Conn, limits: &ConnectionLimits) -> Option<Expiry> {
        conn.expiry(limits, Waker::noop())
    }

    #[test]
    fn a_new_connection_has_the_header_timeout_from_when_it_opened() {
        let t0 = Instant::now();
        let conn = Conn::new(1, t0);
        let silent = expiry(&conn, &limits());
        assert_eq!(
            silent,
            Some(Expiry {
                at: t0 + secs(30),
                wait: Wait::Head,
                answer: false
            })
        );
        conn.on_bytes(t0 + secs(20));
        let trickling = expiry(&conn, &limits());
        assert_eq!(
            trickling.map(|e| (e.at, e.answer)),
            Some((t0 + secs(30), true)),
            "bytes late in the window buy no more time"
        );
    }

    #[test]
    fn a_request_in_flight_has_no_deadline_and_is_not_idle() {
        let conn = Conn::new(1, Instant::now());
        conn.begin();
        assert_eq!(expiry(&conn, &limits()), None);
        assert!(!conn.is_idle());
        assert_eq!(conn.idle_since(), None);
        conn.on_bytes(Instant::now());
        assert!(conn.end(Instant::now()).is_some());
        assert!(conn.is_idle());
        let after = expiry(&conn, &limits());
        assert_eq!(
            after.map(|e| (e.wait, e.answer)),
            Some((Wait::Idle, false)),
            "bytes read during a request (its body) do not begin the next one"
        );
    }

    #[test]
    fn a_kept_alive_connection_idles_until_the_next_request_begins() {
        let conn = Conn::new(1, Instant::now());
        conn.begin();
        conn.end(Instant::now());
        let Some(idle_since) = conn.idle_since() else {
            panic!("idle after its response")
        };
        let idle = expiry(&conn, &limits());
        assert_eq!(
            idle,
            Some(Expiry {
                at: idle_since + secs(75),
                wait: Wait::Idle,
                answer: false
            })
        );
        let first_byte = idle_since + secs(5);
        conn.on_bytes(first_byte);
        conn.on_bytes(first_byte + secs(1));
        assert_eq!(
            expiry(&conn, &limits()),
            Some(Expiry {
                at: first_byte + secs(30),
                wait: Wait::Head,
                answer: true
            }),
            "from the next request's first byte, the head has the header timeout"
        );
    }

    #[test]
    fn a_timeout_past_the_clock_s_range_is_no_deadline() {
        let conn = Conn::new(1, Instant::now());
        let endless = ConnectionLimits {
            header_timeout: Duration::MAX,
            ..limits()
        };
        assert_eq!(expiry(&conn, &endless), None);
    }

    struct Wakes(std::sync::atomic::AtomicUsize);

    impl std::task::Wake for Wakes {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }

    #[test]
    fn a_reader_without_a_deadline_is_woken_when_the_last_request_ends() {
        let conn = Conn::new(1, Instant::now());
        let wakes = Arc::new(Wakes(Default::default()));
        let reader = Waker::from(wakes.clone());
        let woken = || wakes.0.load(std::sync::atomic::Ordering::SeqCst);
        conn.begin();
        conn.begin();
        assert_eq!(conn.expiry(&limits(), &reader), None);
        assert_eq!(conn.end(Instant::now()), None);
        assert_eq!(woken(), 0, "one still in flight");
        assert!(conn.end(Instant::now()).is_some());
        assert_eq!(woken(), 1, "idle now: the reader arms its timer");
        assert!(conn.expiry(&limits(), &reader).is_some());
    }

    #[test]
    fn requests_in_flight_are_counted_until_the_last_ends() {
        let conn = Conn::new(1, Instant::now());
        conn.begin();
        conn.begin();
        assert_eq!(conn.end(Instant::now()), None);
        assert!(!conn.is_idle(), "pipelined: one still in flight");
        let now = Instant::now();
        assert_eq!(conn.end(now), Some(now));
        assert!(conn.is_idle());
        assert_eq!(conn.idle_since(), Some(now));
    }
}
