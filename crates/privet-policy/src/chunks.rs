//! Retention windows: records are stored in chunks, one per retention class and expiry
//! window, so whole chunks are dropped once their window has passed — retention costs
//! O(chunks), not O(rows). Backends store what these functions decide.

use jiff::{SignedDuration, Timestamp};
use privet_manifest::Retention;
use serde::Serialize;

const HOUR: i64 = 3_600;
const DAY: i64 = 86_400;

/// The chunk a block belongs in: its retention class and the window its latest expiry falls
/// in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ChunkWindow {
    /// The retention class of every value in the chunk.
    pub class: Retention,
    /// The window's start (inclusive).
    pub start: Timestamp,
    /// The window's end (exclusive): the chunk may be dropped from then on.
    pub end: Timestamp,
}

/// The width of a class's windows. Data leaves reads at its exact expiry (readers filter
/// per event) and leaves the disk when its window ends: at most an hour late for classes
/// shorter than a week, a day for longer ones.
pub fn window_width(retention: Retention) -> SignedDuration {
    if retention.approx_hours() < 7 * 24 {
        SignedDuration::from_secs(HOUR)
    } else {
        SignedDuration::from_secs(DAY)
    }
}

/// The chunk for a block of class `retention` whose latest value expires at `expires_max`.
pub fn chunk_window(retention: Retention, expires_max: Timestamp) -> ChunkWindow {
    let w = window_width(retention).as_secs();
    let start = expires_max.as_second().div_euclid(w) * w;
    // Both ends are whole seconds within jiff's range whenever `expires_max` is; clamp rather
    // than fail at the very edge of it.
    let at = |s: i64| Timestamp::from_second(s).unwrap_or(Timestamp::MAX);
    ChunkWindow {
        class: retention,
        start: at(start),
        end: at(start.saturating_add(w)),
    }
}

/// A stored chunk, as a backend lists it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChunkInfo {
    /// The backend's id for it.
    pub id: ChunkId,
    /// Its class and window.
    pub window: ChunkWindow,
}

/// A backend's id of a chunk (a table, a partition).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct ChunkId(pub i64);

/// Whether every value a chunk can hold has expired by `now`, so the chunk may be dropped.
pub fn is_past(window: &ChunkWindow, now: Timestamp) -> bool {
    crate::expiry::is_expired(window.end, now)
}

/// The chunks to drop at `now`.
pub fn expired_chunks(chunks: &[ChunkInfo], now: Timestamp) -> Vec<ChunkId> {
    chunks
        .iter()
        .filter(|c| is_past(&c.window, now))
        .map(|c| c.id)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap_or_else(|_| unreachable!())
    }

    fn class(s: &str) -> Retention {
        Retention::parse(s).unwrap_or_else(|_| unreachable!())
    }

    #[test]
    fn short_classes_use_hour_windows_and_long_ones_days() {
        let w = chunk_window(class("24h"), t("2026-11-29T10:15:30Z"));
        assert_eq!(
            (w.start, w.end),
            (t("2026-11-29T10:00:00Z"), t("2026-11-29T11:00:00Z"))
        );
        let w = chunk_window(class("30d"), t("2026-11-29T10:15:30Z"));
        assert_eq!(
            (w.start, w.end),
            (t("2026-11-29T00:00:00Z"), t("2026-11-30T00:00:00Z"))
        );
        assert_eq!(w.class, class("30d"));
    }

    #[test]
    fn a_chunk_is_dropped_once_its_window_has_ended() {
        let w = chunk_window(class("24h"), t("2026-11-29T10:15:30Z"));
        let chunks = [ChunkInfo {
            id: ChunkId(7),
            window: w,
        }];
        assert!(expired_chunks(&chunks, t("2026-11-29T10:59:59Z")).is_empty());
        assert_eq!(
            expired_chunks(&chunks, t("2026-11-29T11:00:00Z")),
            [ChunkId(7)]
        );
    }

    proptest! {
        #[test]
        fn the_window_holds_the_expiry_and_ends_no_later_than_a_window_after_it(secs in -1_000_000_000i64..4_000_000_000, long in any::<bool>()) {
            let c = if long { class("400d") } else { class("2h") };
            let exp = Timestamp::from_second(secs).unwrap_or(Timestamp::UNIX_EPOCH);
            let w = chunk_window(c, exp);
            prop_assert!(w.start <= exp && exp < w.end);
            prop_assert_eq!(w.end.duration_since(w.start), window_width(c));
            prop_assert!(!is_past(&w, exp), "nothing is dropped before it expires");
        }
    }
}
