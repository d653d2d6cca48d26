//! What the bridge is doing, for `/healthz` and `/metrics`: its connection state, what is in
//! flight (and how old the oldest of it is: the lag), and counts by outcome.

use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use utoipa::ToSchema;

/// The bridge's connection, as `/healthz` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LinkState {
    /// Connecting for the first time, or again after the broker went away.
    Connecting,
    /// Connected and subscribed.
    Connected,
    /// The broker is unreachable or refused; retrying with backoff.
    Disconnected,
    /// Shutting down: taking no new messages, finishing those in flight.
    Stopping,
}

impl LinkState {
    fn from_u8(v: u8) -> LinkState {
        match v {
            1 => LinkState::Connected,
            2 => LinkState::Disconnected,
            3 => LinkState::Stopping,
            _ => LinkState::Connecting,
        }
    }
}

/// Shared, lock-light bridge state.
#[derive(Debug)]
pub struct BridgeStatus {
    state: AtomicU8,
    /// Messages taken from the broker whose outcome is not yet acknowledged, by arrival.
    in_flight: Mutex<BTreeMap<u64, Instant>>,
    next_ticket: AtomicU64,
    /// Times the connection was lost.
    pub reconnects: AtomicU64,
}

impl Default for BridgeStatus {
    fn default() -> Self {
        BridgeStatus {
            state: AtomicU8::new(0),
            in_flight: Mutex::new(BTreeMap::new()),
            next_ticket: AtomicU64::new(0),
            reconnects: AtomicU64::new(0),
        }
    }
}

/// A message in flight; dropping it takes it out of the lag.
pub struct Ticket {
    status: Arc<BridgeStatus>,
    id: u64,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        if let Ok(mut m) = self.status.in_flight.lock() {
            m.remove(&self.id);
        }
    }
}

impl BridgeStatus {
    /// The connection state.
    pub fn state(&self) -> LinkState {
        LinkState::from_u8(self.state.load(Ordering::Relaxed))
    }

    /// Sets the connection state (never back from `Stopping`).
    pub fn set_state(&self, s: LinkState) {
        let v = match s {
            LinkState::Connecting => 0,
            LinkState::Connected => 1,
            LinkState::Disconnected => 2,
            LinkState::Stopping => 3,
        };
        let _ = self
            .state
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |cur| {
                (cur != 3).then_some(v)
            });
    }

    /// Marks a message as taken.
    pub fn take(self: &Arc<Self>) -> Ticket {
        let id = self.next_ticket.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut m) = self.in_flight.lock() {
            m.insert(id, Instant::now());
        }
        Ticket {
            status: self.clone(),
            id,
        }
    }

    /// Messages in flight.
    pub fn in_flight(&self) -> usize {
        self.in_flight.lock().map(|m| m.len()).unwrap_or(0)
    }

    /// Seconds since the oldest message in flight arrived (0 with none): how far the bridge
    /// lags behind what the broker handed over.
    pub fn lag_seconds(&self) -> f64 {
        self.in_flight
            .lock()
            .ok()
            .and_then(|m| m.values().next().map(|t| t.elapsed().as_secs_f64()))
            .unwrap_or(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tickets_count_in_flight_and_stopping_is_final() {
        let s = Arc::new(BridgeStatus::default());
        assert_eq!(s.state(), LinkState::Connecting);
        let a = s.take();
        let b = s.take();
        assert_eq!(s.in_flight(), 2);
        drop(a);
        assert_eq!(s.in_flight(), 1);
        drop(b);
        assert_eq!((s.in_flight(), s.lag_seconds()), (0, 0.0));
        s.set_state(LinkState::Connected);
        assert_eq!(s.state(), LinkState::Connected);
        s.set_state(LinkState::Stopping);
        s.set_state(LinkState::Connected);
        assert_eq!(s.state(), LinkState::Stopping);
    }
}
