//! The cap on open connections: which are open, and which one to close when a new one comes
//! and there is no room — the one idle longest, never one with a request in flight.
//!
//! Connections are queued in the order they become idle (opened, or their last response
//! written), so the one idle longest is at the front: shedding costs no scan of every
//! connection, which a flood at the cap would otherwise pay on each accept. An entry is
//! stale once its connection has served a request since (or closed); stale entries are
//! skipped when shedding and dropped when they outnumber the live ones.

use super::conn::Conn;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use tokio::time::Instant;

/// The connections open now, at most `max`.
#[derive(Debug)]
pub(super) struct Slots {
    max: usize,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    open: HashMap<u64, Arc<Conn>>,
    /// (idle since, connection), in the order they became idle.
    idle: VecDeque<(Instant, u64)>,
    next_id: u64,
}

/// What became of a connection just accepted.
#[derive(Debug)]
pub(super) enum Admission {
    /// It has a slot; `shed` says whether an idle connection was closed to make it.
    Admitted {
        /// The new connection.
        conn: Arc<Conn>,
        /// Whether another connection was shed for it.
        shed: bool,
    },
    /// Every slot holds a request in flight: the connection is refused.
    Full,
}

impl Slots {
    /// Room for `max` connections (at least one).
    pub(super) fn new(max: usize) -> Slots {
        Slots {
            max: max.max(1),
            inner: Mutex::new(Inner::default()),
        }
    }

    // Never held across an await. Lock order: the slots, then a connection's activity (a
    // connection never takes the slots while holding its own).
    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Gives a connection accepted at `now` a slot, shedding the connection idle longest when
    /// all are taken.
    pub(super) fn admit(&self, now: Instant) -> Admission {
        let mut inner = self.inner();
        let mut shed = false;
        if inner.open.len() >= self.max {
            if !inner.shed_longest_idle() {
                return Admission::Full;
            }
            shed = true;
        }
        let id = inner.next_id;
        inner.next_id += 1;
        let conn = Arc::new(Conn::new(id, now));
        inner.open.insert(id, conn.clone());
        inner.went_idle(id, now);
        Admission::Admitted { conn, shed }
    }

    /// A connection's last request in flight ended: it is idle since `since`.
    pub(super) fn went_idle(&self, id: u64, since: Instant) {
        self.inner().went_idle(id, since);
    }

    /// Sheds the connection idle longest, to free its file descriptor; whether there was one.
    pub(super) fn shed_one(&self) -> bool {
        self.inner().shed_longest_idle()
    }

    /// Frees a connection's slot once it has closed (a shed one's is free already).
    pub(super) fn release(&self, id: u64) {
        self.inner().open.remove(&id);
    }

    /// How many connections hold a slot, and how many idle entries are queued.
    #[cfg(test)]
    fn sizes(&self) -> (usize, usize) {
        let inner = self.inner();
        (inner.open.len(), inner.idle.len())
    }
}

impl Inner {
    /// Whether the entry (idle since `since`, `id`) still describes an open, idle connection.
    fn is_live(&self, since: Instant, id: u64) -> bool {
        self.open
            .get(&id)
            .is_some_and(|c| c.idle_since() == Some(since))
    }

    fn went_idle(&mut self, id: u64, since: Instant) {
        self.idle.push_back((since, id));
        // Each connection has at most one live entry: past twice as many entries as open
        // connections (and a little), most are stale. Dropping them then costs O(1) per entry.
        if self.idle.len() > 2 * self.open.len() + 64 {
            let mut idle = std::mem::take(&mut self.idle);
            idle.retain(|&(since, id)| self.is_live(since, id));
            self.idle = idle;
        }
    }

    /// Takes the connection idle longest out of the open ones and asks it to close; false
    /// when every one has a request in flight. Its slot is free at once: its task closes the
    /// socket as soon as it runs.
    fn shed_longest_idle(&mut self) -> bool {
        while let Some((since, id)) = self.idle.pop_front() {
            if !self.is_live(since, id) {
                continue;
            }
            if let Some(conn) = self.open.remove(&id) {
                conn.shed();
                return true;
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn admitted(a: Admission) -> (Arc<Conn>, bool) {
        match a {
            Admission::Admitted { conn, shed } => (conn, shed),
            Admission::Full => panic!("refused"),
        }
    }

    /// What the in-flight guard does when a request ends.
    fn serve_one(slots: &Slots, conn: &Conn) {
        conn.begin();
        if let Some(since) = conn.end(Instant::now()) {
            slots.went_idle(conn.id(), since);
        }
    }

    #[tokio::test]
    async fn at_the_cap_the_connection_idle_longest_is_shed() {
        let slots = Slots::new(2);
        let (first, _) = admitted(slots.admit(Instant::now()));
        let (second, _) = admitted(slots.admit(Instant::now()));
        // The first has served a request since: it has been idle for less time.
        serve_one(&slots, &first);
        let (_third, shed) = admitted(slots.admit(Instant::now()));
        assert!(shed);
        assert_eq!(slots.sizes().0, 2);
        let woken = tokio::time::timeout(Duration::from_secs(1), second.shed_requested()).await;
        assert!(woken.is_ok(), "the longest idle is asked to close");
        let spared = tokio::time::timeout(Duration::from_millis(10), first.shed_requested()).await;
        assert!(spared.is_err(), "the other is left alone");
    }

    #[test]
    fn a_connection_with_a_request_in_flight_is_never_shed() {
        let slots = Slots::new(1);
        let (busy, _) = admitted(slots.admit(Instant::now()));
        busy.begin();
        assert!(matches!(slots.admit(Instant::now()), Admission::Full));
        assert!(!slots.shed_one());
        if let Some(since) = busy.end(Instant::now()) {
            slots.went_idle(busy.id(), since);
        }
        let (_next, shed) = admitted(slots.admit(Instant::now()));
        assert!(shed, "idle again once its response is written");
    }

    #[test]
    fn a_released_slot_is_free_again() {
        let slots = Slots::new(1);
        let (conn, _) = admitted(slots.admit(Instant::now()));
        slots.release(conn.id());
        let (_, shed) = admitted(slots.admit(Instant::now()));
        assert!(!shed);
        assert_eq!(slots.sizes().0, 1);
    }

    #[test]
    fn stale_idle_entries_are_dropped_as_requests_go_by() {
        let slots = Slots::new(10);
        let (conn, _) = admitted(slots.admit(Instant::now()));
        for _ in 0..1_000 {
            serve_one(&slots, &conn);
        }
        let (open, queued) = slots.sizes();
        assert_eq!(open, 1);
        assert!(queued <= 2 + 64, "{queued} entries for one connection");
        assert!(slots.shed_one(), "its live entry is still there");
        assert!(!slots.shed_one());
    }
}
